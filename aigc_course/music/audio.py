"""Hearing a chorale: a small additive synthesiser in NumPy, WAV and MIDI files.

Each note is a sum of a few harmonics of its equal-tempered frequency
(``f = 440 · 2^((m - 69) / 12)`` for MIDI number m), fading slowly like a plucked or
struck string, shaped by an attack-release :func:`envelope` so that it starts and stops
without a click, and the four voices are mixed. The WAV writer uses only the standard
library's ``wave`` module (16-bit mono PCM). MIDI export goes through ``music21`` for
learners who want to open a result in a music program.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from ..data.chorales import VOICES, Chorale

RATE = 11_025  # samples per second: enough for the harmonics of choir pitches
STEP_SECONDS = 0.125  # a sixteenth note at 120 quarter notes per minute
HARMONICS = (1.0, 0.5, 0.25, 0.12)  # amplitude of harmonics 1..4
VOICE_GAIN = (1.0, 0.8, 0.8, 0.9)  # S A T B: the melody and the bass a little louder


def midi_to_hz(m: np.ndarray | float) -> np.ndarray:
    """Equal temperament, A4 (MIDI 69) = 440 Hz."""
    return 440.0 * 2.0 ** ((np.asarray(m, dtype=np.float64) - 69) / 12)


def envelope(n: int, rate: int = RATE, attack: float = 0.01, release: float = 0.03) -> np.ndarray:
    """(n,) gain of a note of ``n`` samples: a linear rise from 0 to 1 over ``attack``
    seconds, 1, then a linear fall to 0 over the last ``release`` seconds. A note shorter
    than ``attack + release`` shortens both in proportion. Without it, a note that starts
    or stops at a non-zero sample value clicks.

    The first sample is 0 and the ramps are ``np.linspace(0, 1, k, endpoint=False)``
    (up) and its mirror image (down), with k = round(seconds x rate) samples.
    """
    if n <= 0:
        return np.zeros(0)
    a, r = round(attack * rate), round(release * rate)
    if a + r > n:  # too short: scale both ramps down
        a, r = int(n * a / (a + r)), n - int(n * a / (a + r))
    env = np.ones(n)
    env[:a] = np.linspace(0.0, 1.0, a, endpoint=False)
    if r:
        env[n - r :] = np.linspace(0.0, 1.0, r, endpoint=False)[::-1]
    return env


def tone(midi: int, n: int, rate: int = RATE, decay: float = 0.8) -> np.ndarray:
    """(n,) one note: harmonics of ``midi``'s frequency with amplitudes
    :data:`HARMONICS` (those above the Nyquist frequency left out), an exponential
    fade of time constant ``decay`` seconds, and the :func:`envelope`."""
    t = np.arange(n) / rate
    f = float(midi_to_hz(midi))
    wave_ = sum(
        a * np.sin(2 * np.pi * k * f * t) for k, a in enumerate(HARMONICS, 1) if k * f < rate / 2
    )
    return wave_ * np.exp(-t / decay) * envelope(n, rate)


def notes_of(chorale: Chorale) -> list[tuple[int, int, int, int]]:
    """(voice, start step, end step, midi) of every note of the chorale."""
    out = []
    p, o = chorale.pitches, chorale.onsets
    for v in range(4):
        for t in np.flatnonzero(o[:, v]):
            end = t + 1
            while end < chorale.steps and p[end, v] == p[t, v] and not o[end, v]:
                end += 1
            out.append((v, int(t), int(end), int(p[t, v])))
    return out


def render(
    chorale: Chorale,
    rate: int = RATE,
    step_seconds: float = STEP_SECONDS,
    max_seconds: float | None = None,
) -> np.ndarray:
    """Synthesise a chorale: float32 samples in [-1, 1], mono.

    Args:
        rate: samples per second.
        step_seconds: the length of one grid step (a sixteenth note).
        max_seconds: cut the chorale to at most this long (its first steps).

    Returns:
        (round(steps x step_seconds x rate),) float32, peak 0.9 (silence stays 0).
    """
    steps = chorale.steps
    if max_seconds is not None:
        steps = min(steps, int(max_seconds / step_seconds))
    n = round(steps * step_seconds * rate)
    out = np.zeros(n)
    for v, start, end, midi in notes_of(chorale):
        if start >= steps:
            continue
        a, b = round(start * step_seconds * rate), round(min(end, steps) * step_seconds * rate)
        out[a:b] += VOICE_GAIN[v] * tone(midi, b - a, rate)
    peak = np.abs(out).max() if n else 0.0
    return (out * (0.9 / peak) if peak > 0 else out).astype(np.float32)


def write_wav(path: str | Path, audio: np.ndarray, rate: int = RATE) -> Path:
    """Write mono samples in [-1, 1] as a 16-bit PCM WAV file (standard library only)."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim != 1:
        raise ValueError(f"need mono samples (N,), got shape {audio.shape}")
    if audio.size and np.abs(audio).max() > 1.0:
        raise ValueError("samples must lie in [-1, 1]")
    pcm = np.round(audio * 32767).astype("<i2")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def to_music21(chorale: Chorale):
    """A ``music21`` score of four parts (quarter = 4 steps)."""
    from music21 import meter, note, stream

    score = stream.Score()
    for v, name in enumerate(VOICES):
        part = stream.Part(id=name)
        part.partName = name.capitalize()
        part.append(meter.TimeSignature(chorale.time_signature))
        notes = sorted((s, e, m) for voice, s, e, m in notes_of(chorale) if voice == v)
        for start, end, midi in notes:
            n = note.Note(midi, quarterLength=(end - start) / 4)
            part.insert(start / 4, n)
        score.insert(0, part)
    return score


def write_midi(path: str | Path, chorale: Chorale) -> Path:
    """Write a chorale as a standard MIDI file (through ``music21``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_music21(chorale).write("midi", fp=str(path))
    return path
