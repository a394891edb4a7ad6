"""Keys from pitch classes, and transposition.

A key is estimated the Krumhansl-Schmuckler way: the duration-weighted pitch-class
histogram of a passage is correlated with the 24 rotations of the Krumhansl-Kessler
major and minor profiles (how well each pitch class was judged to fit a key), and the
best correlation names the key. That correlation is also the chapter's *key
consistency*: near 1 for tonal music that stays in one key, lower for music that
wanders or has no key at all.

Transposing a chorale moves every pitch by the same number of semitones; the chapter
uses it to normalise every chorale to C major or A minor (so the model need not learn
twelve copies of each progression) and, as augmentation, to multiply the training set.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data.chorales import Chorale

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

#: Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def pitch_class_histogram(pitches: np.ndarray) -> np.ndarray:
    """(12,) share of sounding voice-steps on each pitch class (rests ignored).

    Args:
        pitches: MIDI pitches of any shape, 0 = rest (e.g. a chorale's (T, 4) grid, so
            a note counts once per sixteenth it sounds: duration-weighted).
    """
    p = np.asarray(pitches).ravel()
    p = p[p > 0]
    counts = np.bincount(p % 12, minlength=12).astype(np.float64)
    return counts / counts.sum() if counts.sum() else counts


def key_scores(histogram: np.ndarray) -> np.ndarray:
    """(2, 12) Pearson correlation of ``histogram`` with each key's profile:
    row 0 major, row 1 minor, column the tonic's pitch class.

    References:
        Krumhansl 1990, "Cognitive Foundations of Musical Pitch", ch. 4 (the
        Krumhansl-Schmuckler key-finding algorithm).
    """
    h = np.asarray(histogram, dtype=np.float64)
    out = np.zeros((2, 12))
    if h.std() == 0:
        return out
    for m, profile in enumerate((MAJOR_PROFILE, MINOR_PROFILE)):
        for tonic in range(12):
            out[m, tonic] = np.corrcoef(h, np.roll(profile, tonic))[0, 1]
    return out


def estimate_key(pitches: np.ndarray) -> tuple[int, str, float]:
    """(tonic pitch class 0..11, ``"major"``/``"minor"``, correlation) of the best key."""
    scores = key_scores(pitch_class_histogram(pitches))
    mode, tonic = np.unravel_index(int(scores.argmax()), scores.shape)
    return int(tonic), ("major", "minor")[mode], float(scores[mode, tonic])


def key_name(tonic: int, mode: str) -> str:
    return f"{PITCH_NAMES[tonic % 12]} {mode}"


def key_consistency(pitches: np.ndarray) -> float:
    """The best key correlation of a passage (see :func:`key_scores`), in [-1, 1]."""
    return float(key_scores(pitch_class_histogram(pitches)).max())


def transpose(chorale: Chorale, semitones: int) -> Chorale:
    """The chorale moved by ``semitones`` (rests stay rests, onsets unchanged).

    Raises:
        ValueError: a pitch would leave the MIDI range 1..127.
    """
    p = chorale.pitches.astype(np.int32)
    sounding = p > 0
    moved = np.where(sounding, p + int(semitones), 0)
    if sounding.any() and (moved[sounding].min() < 1 or moved[sounding].max() > 127):
        raise ValueError(f"transposing {chorale.name} by {semitones} leaves the MIDI range")
    return dataclasses.replace(chorale, pitches=moved.astype(np.int16))


def shift_to_reference(tonic: int, mode: str) -> int:
    """The shift in -6..5 semitones that takes the key to C major or A minor."""
    target = 0 if mode == "major" else 9
    s = (target - tonic) % 12
    return s - 12 if s >= 6 else s


def normalise_key(chorale: Chorale) -> tuple[Chorale, int]:
    """Transpose to C major or A minor (the key estimated by :func:`estimate_key`).

    Returns:
        (the transposed chorale, the shift applied in semitones).
    """
    tonic, mode, _ = estimate_key(chorale.pitches)
    shift = shift_to_reference(tonic, mode)
    return transpose(chorale, shift), shift
