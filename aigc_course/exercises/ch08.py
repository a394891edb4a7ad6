"""Exercises of the music chapter (Bach chorales): solutions and judges."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np

from . import Exercise, NotAttempted

# Hand-made grids (T, 4), 0 = rest, used by the judges: a rest in the alto, a
# compound parallel fifth (A-B), a parallel octave (S-B), a contrary octave and a
# re-struck fifth (neither is a parallel).
_PASSAGE = np.array(
    [
        [72, 67, 64, 48],
        [74, 69, 65, 50],
        [74, 69, 65, 50],
        [72, 0, 64, 48],
        [67, 0, 60, 55],
        [67, 0, 60, 60],
    ]
)


def _grid(pitches: np.ndarray):
    from ..data.chorales import Chorale

    p = np.asarray(pitches, dtype=np.int16)
    return Chorale("exercise", p, p > 0)  # every sounding step starts a note


# ------------------------------------------------------------ 08.grid_length (derive)


def _grid_length_solution(**_: object) -> Callable[[int], int]:
    def grid_tokens_for(bars: int) -> int:
        # a 4/4 bar is 4 quarter notes = 16 sixteenth-note steps, and every step writes
        # one token per voice (S, A, T, B), held notes and rests included
        return 16 * 4 * bars

    return grid_tokens_for


def _grid_length_judge(grid_tokens_for: Callable[[int], int], **_: object) -> None:
    got = {b: grid_tokens_for(b) for b in (1, 3, 12)}
    if got == {b: 16 * b for b in got}:
        raise AssertionError("16 steps a bar, but each step writes four tokens (S, A, T, B)")
    if got == {b: 4 * b for b in got}:
        raise AssertionError(
            "4 tokens a bar counts one token per quarter note; a grid step is a sixteenth "
            "note (16 steps a 4/4 bar) and writes four tokens"
        )
    assert got == {b: 64 * b for b in got}, (
        f"got {got}; count steps (sixteenths) per 4/4 bar, then tokens per step"
    )


# ------------------------------------------------------------- 08.transpose (implement)


def _transpose_solution(**_: object) -> Callable[[np.ndarray, int], np.ndarray]:
    def transpose_pitches(pitches, semitones):
        # move sounding pitches only: 0 marks a rest and must stay 0
        pitches = np.asarray(pitches)
        return np.where(pitches > 0, pitches + semitones, 0)

    return transpose_pitches


def _transpose_judge(transpose_pitches, **_: object) -> None:
    from ..music import keys, tokens

    base = _grid(_PASSAGE)
    for s in (-3, 5):
        got = np.asarray(transpose_pitches(base.pitches.copy(), s))
        assert got.shape == base.pitches.shape, f"return a {base.pitches.shape} grid"
        if np.array_equal(got, base.pitches + s):
            raise AssertionError("a rest (0) moved too: keep 0 where the voice is silent")
        if np.array_equal(got, np.where(base.pitches > 0, (base.pitches + s) % 12, 0)):
            raise AssertionError("keep the octave: add the semitones to the MIDI number, no % 12")
        if np.array_equal(got, keys.transpose(base, -s).pitches):
            raise AssertionError("wrong direction: +5 semitones moves every pitch up by 5")
        want = keys.transpose(base, s).pitches
        assert np.array_equal(got, want), f"expected {want.tolist()}, got {got.tolist()}"
        moved = keys.transpose(base, s)
        back = tokens.decode_grid(tokens.encode_grid(moved))
        assert np.array_equal(back.pitches, got), "the transposed grid does not round-trip"


# ------------------------------------------------------- 08.parallel_fifths (implement)


def _fifths_solution(**_: object) -> Callable[[np.ndarray], int]:
    def parallel_fifths(pitches):
        # every pair of voices (6 pairs, not only neighbours) and every pair of
        # neighbouring steps: both voices move, in the same direction, and the interval
        # is a fifth modulo the octave (7 semitones mod 12) before and after
        p = np.asarray(pitches, dtype=np.int64)
        count = 0
        for t in range(1, len(p)):
            for i, j in combinations(range(4), 2):
                a0, b0, a1, b1 = p[t - 1, i], p[t - 1, j], p[t, i], p[t, j]
                if min(a0, b0, a1, b1) == 0:
                    continue  # a rest: no interval
                if a1 == a0 or b1 == b0 or (a1 > a0) != (b1 > b0):
                    continue  # one voice holds, or they move in opposite directions
                if (a0 - b0) % 12 == 7 and (a1 - b1) % 12 == 7:
                    count += 1
        return count

    return parallel_fifths


def _fifths_judge(parallel_fifths, real_pitches=None, **_: object) -> None:
    from ..music.theory import parallels

    cases = {
        "a compound fifth moving in parallel": np.array([[0, 0, 62, 43], [0, 0, 64, 45]]),
        "a fifth re-struck on the same pitches": np.array([[0, 67, 0, 60], [0, 67, 0, 60]]),
        "a fifth reached by contrary motion": np.array([[0, 67, 0, 60], [0, 69, 0, 50]]),
        "voices that are not neighbours (soprano and bass)": np.array(
            [[67, 0, 0, 48], [69, 0, 0, 50]]
        ),
        "a fifth to a fifth with one voice holding (oblique)": np.array(
            [[72, 0, 0, 65], [72, 0, 0, 65]]
        ),
        "a rest in one of the voices": np.array([[67, 0, 0, 60], [69, 0, 0, 0]]),
        "the hand-made passage": _PASSAGE,
    }
    if real_pitches is not None:
        cases["a real chorale"] = np.asarray(real_pitches)
    for what, p in cases.items():
        want = parallels(_grid(p))["fifths"]
        got = parallel_fifths(np.array(p))
        if got is None:
            raise NotAttempted
        assert int(got) == want, f"on {what} you count {got}, expected {want}"


# ------------------------------------------------- 08.temperature_key (predict, measured)


def _temperature_outcome(key_by_temperature: dict[float, float]) -> str:
    lo, hi = min(key_by_temperature), max(key_by_temperature)
    return "lower" if key_by_temperature[hi] < key_by_temperature[lo] else "higher"


def _temperature_solution(key_by_temperature: dict[float, float], **_: object) -> str:
    # A higher temperature flattens every next-token distribution, so unlikely pitches
    # (outside the key the context has set up) are drawn more often; the samples' pitch
    # classes then fit one key less well. The answer is read from the measurement.
    return _temperature_outcome(key_by_temperature)


def _temperature_judge(answer, key_by_temperature: dict[float, float], **_: object) -> None:
    choice = str(answer).strip().lower()
    assert choice in ("lower", "higher"), 'answer "lower" or "higher"'
    outcome = _temperature_outcome(key_by_temperature)
    shown = ", ".join(f"T={t:g}: {v:.3f}" for t, v in sorted(key_by_temperature.items()))
    assert choice == outcome, (
        f"the measurement says {outcome} ({shown}). Temperature divides the logits: T > 1 "
        "flattens the distribution, so pitches outside the key are drawn more often"
    )


# ----------------------------------------------------------- 08.envelope (implement)


def _envelope_solution(**_: object) -> Callable[..., np.ndarray]:
    def my_envelope(n, rate, attack, release):
        a, r = round(attack * rate), round(release * rate)  # seconds -> samples
        if a + r > n:  # a short note: both ramps shrink in proportion
            a = int(n * a / (a + r))
            r = n - a
        env = np.ones(n)
        env[:a] = np.linspace(0.0, 1.0, a, endpoint=False)
        if r:
            env[n - r :] = np.linspace(0.0, 1.0, r, endpoint=False)[::-1]
        return env

    return my_envelope


def _envelope_judge(my_envelope, **_: object) -> None:
    from ..music.audio import envelope

    for n, rate, attack, release in ((2000, 1000, 0.1, 0.3), (4000, 8000, 0.01, 0.03)):
        got = np.asarray(my_envelope(n, rate, attack, release), dtype=np.float64)
        want = envelope(n, rate, attack, release)
        assert got.shape == (n,), f"return one gain per sample: shape ({n},), got {got.shape}"
        a, r = round(attack * rate), round(release * rate)
        in_samples = envelope(n, 1, attack, release)  # ramps of `attack` samples
        if np.allclose(got, in_samples):
            raise AssertionError(
                "the ramps are as many samples long as `attack` and `release` say in seconds: "
                "multiply seconds by the sample rate"
            )
        if got[-1] > 0.5:
            raise AssertionError(
                "the note ends at full gain: the sound stops abruptly and clicks; ramp down "
                "to 0 over the last `release` seconds"
            )
        if got[0] > 0.5:
            raise AssertionError("the note starts at full gain (a click): start at 0")
        if got[a // 2] > 0.99 or got[n - r // 2] > 0.99:
            raise AssertionError(
                "a ramp is too short: it should last attack x rate (release x rate) samples"
            )
        tol = 1.5 / max(1, min(a, r))  # one sample of slack on either convention
        assert np.abs(got - want).max() <= tol, (
            f"largest difference from the reference envelope {np.abs(got - want).max():.3f} "
            f"(tolerance {tol:.3f}): a linear rise over the first attack x rate samples, "
            "1, a linear fall over the last release x rate samples"
        )
    short = np.asarray(my_envelope(30, 1000, 0.1, 0.2), dtype=np.float64)
    assert short.shape == (30,) and short.max() <= 1.0 + 1e-9 and short[0] < 0.2, (
        "a note shorter than attack + release (30 samples here, ramps of 100 + 200) must "
        "still return 30 gains in [0, 1] that start near 0: shorten both ramps in proportion"
    )


EXERCISES = [
    Exercise("08.grid_length", "derive", judge=_grid_length_judge, solution=_grid_length_solution),
    Exercise("08.transpose", "implement", judge=_transpose_judge, solution=_transpose_solution),
    Exercise("08.parallel_fifths", "implement", judge=_fifths_judge, solution=_fifths_solution),
    Exercise(
        "08.temperature_key",
        "predict",
        judge=_temperature_judge,
        solution=_temperature_solution,
    ),
    Exercise("08.envelope", "implement", judge=_envelope_judge, solution=_envelope_solution),
]
