"""Two ways to turn a chorale into tokens, both lossless on the sixteenth-note grid.

**Grid tokens** (the layout of DeepBach and Coconet, read in time order): each step
writes four tokens, soprano, alto, tenor, bass, and each token is one voice's pitch
(``S67``: a note starts), a hold (``S_``: the note before continues) or a rest
(``S.``). Every voice has its own tokens, so a token says which voice it is. A chorale
of T steps is 4 T tokens, whatever it contains; the sequence is long but regular (step
t's soprano is always 4 tokens after step t-1's).

**Event stream** (the note-on / duration idea of the Music Transformer's MIDI events):
the notes in order of onset, each written ``S67 d4`` (voice and pitch, then its
duration in steps), with ``w2`` tokens that move time forward. Held notes cost nothing,
so the stream is shorter for slow music, but the position in time must be added up.

Chorales are separated by the boundary token ``|`` (it starts each chorale). The
vocabularies are fixed (MIDI pitches :data:`LOW`..:data:`HIGH` for every voice), so
they do not depend on the data. For the course's language models each token is written
as one character (:func:`char_tokenizer`): the text chapter's models, training loop and
n-gram baseline then run unchanged.
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.chorales import Chorale
from ..tokenizer import CharTokenizer

VOICE_LETTERS = ("S", "A", "T", "B")
LOW, HIGH = 28, 96  # the pitch range of every voice (E1..C7): wider than any chorale
BOUNDARY = "|"
MAX_WAIT = 16  # a longer gap is several wait tokens
MAX_DURATION = 96  # steps (six whole notes of 4/4): longer notes are an error


def _grid_vocab() -> tuple[str, ...]:
    names = [BOUNDARY]
    for v in VOICE_LETTERS:
        names += [f"{v}_", f"{v}."] + [f"{v}{m}" for m in range(LOW, HIGH + 1)]
    return tuple(names)


#: The grid vocabulary: ``|``, then per voice hold, rest and the pitches LOW..HIGH.
GRID_VOCAB: tuple[str, ...] = _grid_vocab()
GRID_STOI: dict[str, int] = {t: i for i, t in enumerate(GRID_VOCAB)}
#: voice of each grid token (-1 for the boundary)
TOKEN_VOICE = np.array([-1] + [v for v in range(4) for _ in range(HIGH - LOW + 3)])


def _check_range(chorale: Chorale) -> None:
    p = chorale.pitches[chorale.pitches > 0]
    if p.size and (p.min() < LOW or p.max() > HIGH):
        raise ValueError(
            f"{chorale.name}: pitches {p.min()}..{p.max()} leave the vocabulary's range "
            f"{LOW}..{HIGH}"
        )


def grid_tokens(chorale: Chorale) -> list[str]:
    """The grid token names of a chorale: 4 per step, S A T B (no boundary)."""
    _check_range(chorale)
    out = []
    for pitches, onsets in zip(chorale.pitches, chorale.onsets, strict=True):
        for v, (m, on) in enumerate(zip(pitches, onsets, strict=True)):
            letter = VOICE_LETTERS[v]
            out.append(f"{letter}." if m == 0 else f"{letter}{m}" if on else f"{letter}_")
    return out


def encode_grid(chorale: Chorale) -> np.ndarray:
    """(4 T,) int64 grid token ids of a chorale (no boundary)."""
    return np.array([GRID_STOI[t] for t in grid_tokens(chorale)], dtype=np.int64)


def decode_grid(ids, name: str = "decoded") -> Chorale:
    """The chorale of grid token ids (a multiple of 4, in S A T B order, no boundary).

    Raises:
        ValueError: a token in the wrong voice's slot, a boundary, a hold after a rest,
            or a length that is not a multiple of 4.
    """
    chorale, problems = _decode(ids, name)
    if problems:
        raise ValueError(f"not a well-formed grid: {problems[0]}")
    return chorale


def decode_sample(ids, name: str = "sample") -> tuple[Chorale, int]:
    """Decode generated grid ids leniently: stop at a boundary after the first step,
    drop an incomplete last step, and repair what :func:`decode_grid` would refuse (a
    token in another voice's slot or a hold after a rest becomes a rest).

    Returns:
        (the chorale, how many tokens were repaired).
    """
    ids = [int(i) for i in np.asarray(ids).ravel()]
    while ids and ids[0] == GRID_STOI[BOUNDARY]:
        ids = ids[1:]
    if GRID_STOI[BOUNDARY] in ids:
        ids = ids[: ids.index(GRID_STOI[BOUNDARY])]
    ids = ids[: len(ids) // 4 * 4]
    chorale, problems = _decode(ids, name, repair=True)
    return chorale, len(problems)


def _decode(ids, name: str, repair: bool = False) -> tuple[Chorale, list[str]]:
    ids = [int(i) for i in np.asarray(ids).ravel()]
    if len(ids) % 4:
        raise ValueError(f"{len(ids)} grid tokens is not a whole number of steps (4 each)")
    n = len(ids) // 4
    pitches = np.zeros((n, 4), dtype=np.int16)
    onsets = np.zeros((n, 4), dtype=bool)
    problems = []
    for k, i in enumerate(ids):
        t, v = divmod(k, 4)
        if not 0 <= i < len(GRID_VOCAB):
            raise ValueError(f"id {i} is outside the grid vocabulary (size {len(GRID_VOCAB)})")
        token = GRID_VOCAB[i]
        if TOKEN_VOICE[i] != v:
            problems.append(f"step {t}: {token!r} in the {VOICE_LETTERS[v]} slot")
            continue  # repaired as a rest
        body = token[1:]
        if body == "_":
            if t == 0 or pitches[t - 1, v] == 0:
                problems.append(f"step {t}: {token!r} holds no note")
                continue
            pitches[t, v] = pitches[t - 1, v]
        elif body != ".":
            pitches[t, v], onsets[t, v] = int(body), True
    if problems and not repair:
        return None, problems  # type: ignore[return-value]
    return Chorale(name, pitches, onsets), problems


# -- streams for the language models ------------------------------------------------------


def grid_stream(chorales: list[Chorale]) -> np.ndarray:
    """One id stream: each chorale's grid tokens after a boundary, and a final boundary."""
    parts = []
    for c in chorales:
        parts += [np.array([GRID_STOI[BOUNDARY]]), encode_grid(c)]
    parts.append(np.array([GRID_STOI[BOUNDARY]]))
    return np.concatenate(parts).astype(np.int64)


def char_tokenizer(vocab: tuple[str, ...] = GRID_VOCAB) -> CharTokenizer:
    """A :class:`~aigc_course.tokenizer.CharTokenizer` with one character per token
    (``chr(256 + id)``), so the text chapter's models and n-gram count chorales."""
    return CharTokenizer([chr(256 + i) for i in range(len(vocab))], replacement=chr(256))


def ids_to_text(ids) -> str:
    """The one-character-per-token string of ids (the n-gram model counts strings)."""
    return "".join(chr(256 + int(i)) for i in np.asarray(ids).ravel())


def voice_order_processor(allow_end: bool = False):
    """A logits processor for :func:`aigc_course.sampling.generate` that keeps a sampled
    grid well formed: only the tokens of the voice whose turn it is (counted from the
    last boundary), no hold after a rest, and the boundary only between steps when
    ``allow_end`` (else never: a sample then has exactly the length asked for).

    Returns:
        ``processor(ids (B, T), logits (B, V)) -> logits (B, V)``.
    """
    voice = torch.as_tensor(TOKEN_VOICE)
    bound = GRID_STOI[BOUNDARY]
    holds = torch.tensor([GRID_STOI[f"{v}_"] for v in VOICE_LETTERS])
    rests = {GRID_STOI[f"{v}."] for v in VOICE_LETTERS}

    def processor(ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        out = logits.clone()
        for b, row in enumerate(ids.tolist()):
            since = row[::-1].index(bound) if bound in row else len(row)
            slot = since % 4
            allowed = voice.to(logits.device) == slot
            if allow_end and slot == 0 and since > 0:
                allowed[bound] = True
            if since < 4 or row[-4] in rests:  # nothing to hold in this voice
                allowed[holds[slot]] = False
            out[b, ~allowed] = float("-inf")
        return out

    return processor


def melody_processor(melody: list[int]):
    """A logits processor that forces the soprano: at step t (counted from the last
    boundary) the soprano's token is ``melody[t]`` (grid ids of ``S`` tokens); the other
    voices are left to the model. Use it after :func:`voice_order_processor`. This is
    harmonisation with a left-to-right model: each step's alto, tenor and bass see the
    melody so far, not where it goes next (Coconet and DeepBach condition on all of it).

    Returns:
        ``processor(ids (B, T), logits (B, V)) -> logits (B, V)``.
    """
    if any(TOKEN_VOICE[i] != 0 for i in melody):
        raise ValueError("the melody must be soprano tokens (S..)")
    bound = GRID_STOI[BOUNDARY]

    def processor(ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        out = logits.clone()
        for b, row in enumerate(ids.tolist()):
            since = row[::-1].index(bound) if bound in row else len(row)
            t, slot = divmod(since, 4)
            if slot == 0 and t < len(melody):
                out[b] = float("-inf")
                out[b, melody[t]] = 0.0  # probability 1 at any temperature
        return out

    return processor


# -- the event stream ---------------------------------------------------------------------


def _event_vocab() -> tuple[str, ...]:
    names = [BOUNDARY] + [f"w{k}" for k in range(1, MAX_WAIT + 1)]
    names += [f"d{k}" for k in range(1, MAX_DURATION + 1)]
    names += [f"{v}{m}" for v in VOICE_LETTERS for m in range(LOW, HIGH + 1)]
    return tuple(names)


#: The event vocabulary: ``|``, waits ``w1..w16``, durations ``d1..d96``, notes ``S28..B96``.
EVENT_VOCAB: tuple[str, ...] = _event_vocab()
EVENT_STOI: dict[str, int] = {t: i for i, t in enumerate(EVENT_VOCAB)}


def _waits(gap: int) -> list[str]:
    out = []
    while gap > 0:
        out.append(f"w{min(gap, MAX_WAIT)}")
        gap -= min(gap, MAX_WAIT)
    return out


def event_tokens(chorale: Chorale) -> list[str]:
    """The event-stream token names of a chorale: per note (in onset order, S A T B
    within a step) its voice-and-pitch and its duration; waits move time; a final wait
    reaches the chorale's last step (so trailing rests survive the round trip)."""
    _check_range(chorale)
    p, o = chorale.pitches, chorale.onsets
    out, now = [], 0
    for t in range(chorale.steps):
        for v in range(4):
            if not o[t, v]:
                continue
            end = t + 1
            while end < chorale.steps and p[end, v] == p[t, v] and not o[end, v]:
                end += 1
            if end - t > MAX_DURATION:
                raise ValueError(f"{chorale.name}: a note of {end - t} steps > {MAX_DURATION}")
            out += _waits(t - now) + [f"{VOICE_LETTERS[v]}{p[t, v]}", f"d{end - t}"]
            now = t
    return out + _waits(chorale.steps - now)


def encode_events(chorale: Chorale) -> np.ndarray:
    """(N,) int64 event-stream ids of a chorale (no boundary)."""
    return np.array([EVENT_STOI[t] for t in event_tokens(chorale)], dtype=np.int64)


def decode_events(ids, name: str = "decoded") -> Chorale:
    """The chorale of event-stream ids (the inverse of :func:`encode_events`).

    Raises:
        ValueError: a note without its duration, or notes of one voice that overlap.
    """
    tokens = [EVENT_VOCAB[int(i)] for i in np.asarray(ids).ravel()]
    now, notes, k = 0, [], 0
    while k < len(tokens):
        tok = tokens[k]
        if tok.startswith("w"):
            now += int(tok[1:])
        elif tok[0] in VOICE_LETTERS:
            if k + 1 >= len(tokens) or not tokens[k + 1].startswith("d"):
                raise ValueError(f"event {k}: note {tok!r} is not followed by a duration")
            notes.append((now, now + int(tokens[k + 1][1:]), VOICE_LETTERS.index(tok[0]), tok))
            k += 1
        else:
            raise ValueError(f"event {k}: unexpected token {tok!r}")
        k += 1
    n = max([now, *(end for _, end, _, _ in notes)])
    pitches = np.zeros((n, 4), dtype=np.int16)
    onsets = np.zeros((n, 4), dtype=bool)
    for start, end, v, tok in notes:
        if (pitches[start:end, v] != 0).any():
            raise ValueError(f"note {tok!r} at step {start} overlaps the voice's previous note")
        pitches[start:end, v] = int(tok[1:])
        onsets[start, v] = True
    return Chorale(name, pitches, onsets)


def event_stream(chorales: list[Chorale]) -> np.ndarray:
    """One event id stream: each chorale after a boundary, and a final boundary."""
    parts = []
    for c in chorales:
        parts += [np.array([EVENT_STOI[BOUNDARY]]), encode_events(c)]
    parts.append(np.array([EVENT_STOI[BOUNDARY]]))
    return np.concatenate(parts).astype(np.int64)
