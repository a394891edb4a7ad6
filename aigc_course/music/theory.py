"""Music-theory statistics of chorales, real or sampled, and a memorisation check.

Each statistic is computed the same way on real chorales and on samples, so the real
value is the reference a sample is judged against (not "zero parallel fifths": Bach
wrote a few). Every rate is per 100 grid steps (sixteenth notes).

- :func:`pitch_class_histogram` and :func:`~aigc_course.music.keys.key_consistency`:
  which pitch classes sound, and how well they fit one key;
- :func:`out_of_range_share`: voice-steps outside the usual choir ranges;
- :func:`crossings`: steps where a lower voice sounds above its upper neighbour;
- :func:`parallels`: parallel fifths and octaves between any two voices;
- :func:`rhythm_density`: notes started per voice per quarter note;
- :func:`longest_copied_passage`: the longest run of steps of a sample found verbatim
  in the training chorales.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from ..data.chorales import Chorale
from .keys import key_consistency, pitch_class_histogram

#: Usual choir ranges in MIDI numbers (S C4-G5, A G3-D5, T C3-G4, B E2-C4), as harmony
#: textbooks give them.
SATB_RANGES = ((60, 79), (55, 74), (48, 67), (40, 60))


def out_of_range_share(chorale: Chorale, ranges=SATB_RANGES) -> float:
    """Share of sounding voice-steps outside each voice's usual range."""
    p = chorale.pitches
    sounding = p > 0
    lo = np.array([r[0] for r in ranges])
    hi = np.array([r[1] for r in ranges])
    outside = sounding & ((p < lo) | (p > hi))
    return float(outside.sum() / max(1, sounding.sum()))


def crossings(chorale: Chorale) -> int:
    """Number of (step, adjacent pair of voices) where the lower voice sounds higher
    than the upper one (S-A, A-T, T-B; both sounding)."""
    p = chorale.pitches.astype(np.int32)
    upper, lower = p[:, :-1], p[:, 1:]
    return int(((upper > 0) & (lower > 0) & (lower > upper)).sum())


def parallels(chorale: Chorale) -> dict[str, int]:
    """Parallel fifths and octaves: between steps t-1 and t, two voices both move (their
    pitches change) in the same direction, and the interval between them is a perfect
    fifth (7 semitones modulo the octave) both before and after, or an octave or unison
    (0 modulo 12). Compound intervals count (a fifth to a twelfth is a parallel fifth);
    a note repeated at the same pitch is not motion.

    Returns:
        ``{"fifths": count, "octaves": count}`` over all 6 pairs of voices.

    References:
        The rule of strict four-part writing (e.g. Aldwell & Schachter, "Harmony and
        Voice Leading", ch. 5): perfect consonances may not move in parallel.
    """
    p = chorale.pitches.astype(np.int32)
    out = {"fifths": 0, "octaves": 0}
    if len(p) < 2:
        return out
    before, after = p[:-1], p[1:]
    sounding = (before > 0) & (after > 0)
    move = np.sign(after - before)  # (T-1, 4): -1, 0, +1
    for i, j in combinations(range(4), 2):
        both = sounding[:, i] & sounding[:, j] & (move[:, i] != 0) & (move[:, i] == move[:, j])
        iv0 = (before[:, i] - before[:, j]) % 12
        iv1 = (after[:, i] - after[:, j]) % 12
        out["fifths"] += int((both & (iv0 == 7) & (iv1 == 7)).sum())
        out["octaves"] += int((both & (iv0 == 0) & (iv1 == 0)).sum())
    return out


def rhythm_density(chorale: Chorale) -> float:
    """Notes started per voice per quarter note (4 grid steps)."""
    return float(chorale.onsets.sum() / 4 / (chorale.steps / 4))


def statistics(chorales: Sequence[Chorale]) -> dict[str, float]:
    """The chapter's theory statistics, pooled over ``chorales``.

    Returns:
        ``key_consistency`` (mean over chorales of the best key correlation),
        ``out_of_range_pct``, ``crossings_per_100``, ``parallel_fifths_per_100``,
        ``parallel_octaves_per_100``, ``rhythm_density`` (notes per voice per quarter),
        ``rest_pct`` (voice-steps that are rests), ``steps``.
    """
    if not chorales:
        raise ValueError("no chorales to describe")
    steps = sum(c.steps for c in chorales)
    par = [parallels(c) for c in chorales]
    sounding = sum(int((c.pitches > 0).sum()) for c in chorales)
    return {
        "key_consistency": float(np.mean([key_consistency(c.pitches) for c in chorales])),
        "out_of_range_pct": 100
        * sum(out_of_range_share(c) * (c.pitches > 0).sum() for c in chorales)
        / max(1, sounding),
        "crossings_per_100": 100 * sum(crossings(c) for c in chorales) / steps,
        "parallel_fifths_per_100": 100 * sum(x["fifths"] for x in par) / steps,
        "parallel_octaves_per_100": 100 * sum(x["octaves"] for x in par) / steps,
        "rhythm_density": float(sum(c.onsets.sum() for c in chorales) / 4 / (steps / 4)),
        "rest_pct": 100 * (1 - sounding / (4 * steps)),
        "steps": float(steps),
    }


def pooled_histogram(chorales: Sequence[Chorale]) -> np.ndarray:
    """(12,) pitch-class histogram of all ``chorales`` together (duration-weighted)."""
    return pitch_class_histogram(np.concatenate([c.pitches for c in chorales]))


def total_variation(h1: np.ndarray, h2: np.ndarray) -> float:
    """Half the L1 distance of two histograms: 0 identical, 1 disjoint."""
    return 0.5 * float(np.abs(np.asarray(h1) - np.asarray(h2)).sum())


# -- memorisation -------------------------------------------------------------------------


def _step_codes(chorales: Sequence[Chorale], table: dict) -> np.ndarray:
    """Each step of each chorale as an int (the same step → the same int), with -1
    between chorales so that no run crosses from one chorale into the next."""
    codes = []
    for c in chorales:
        for row in np.concatenate([c.pitches, c.onsets.astype(np.int16)], axis=1):
            codes.append(table.setdefault(row.tobytes(), len(table)))
        codes.append(-1)
    return np.array(codes, dtype=np.int64)


def longest_copied_passage(
    sample: Chorale, training: Sequence[Chorale], skip_silence: bool = True
) -> tuple[int, str, int]:
    """The longest run of consecutive steps of ``sample`` that occurs verbatim (same
    pitches, same onsets, in the same voices) in one of the ``training`` chorales.

    Computed by the longest-common-substring recursion, one sample step at a time over
    all training steps at once: ``run[i, j] = run[i-1, j-1] + 1`` where the steps match.

    Args:
        skip_silence: a step where all four voices rest never counts as a match.

    Returns:
        (length in steps, the training chorale's name, its start step there); (0, "", -1)
        when no step matches.
    """
    table: dict = {}
    train = _step_codes(training, table)
    silent = np.zeros((1, 8), dtype=np.int16).tobytes()
    mine = _step_codes([sample], table)[:-1]
    if skip_silence and silent in table:
        train = np.where(train == table[silent], -2, train)
        mine = np.where(mine == table[silent], -3, mine)
    run = np.zeros(len(train), dtype=np.int64)
    best, where = 0, -1
    for code in mine:
        shifted = np.concatenate([[0], run[:-1]])
        run = np.where(train == code, shifted + 1, 0)
        j = int(run.argmax())
        if run[j] > best:
            best, where = int(run[j]), j
    if best == 0:
        return 0, "", -1
    end = where  # index of the last matching step in the flat code array
    offset = 0
    for c in training:
        if end < offset + c.steps:
            return best, c.name, end - offset - best + 1
        offset += c.steps + 1
    raise AssertionError("unreachable: a match lies inside some chorale")
