"""The music chapter's exercise judges accept the hidden solutions and name the mistakes."""

from __future__ import annotations

import numpy as np

from aigc_course.exercises import _verdict, get
from aigc_course.music.audio import envelope


def _v(exercise_id: str, attempt, **context) -> str | None:
    return _verdict(get(exercise_id), attempt, context)


def _stub(*args, **kwargs):
    raise NotImplementedError  # your code here


KEYS = {0.8: 0.86, 1.0: 0.83, 1.2: 0.78}


def test_solutions_pass_and_stubs_are_not_attempted():
    real = np.array([[72, 67, 64, 48], [74, 69, 65, 50], [72, 67, 64, 48]])
    contexts = {
        "08.grid_length": {},
        "08.transpose": {},
        "08.parallel_fifths": {"real_pitches": real},
        "08.temperature_key": {"key_by_temperature": KEYS},
        "08.envelope": {},
    }
    for ex_id, ctx in contexts.items():
        assert _v(ex_id, get(ex_id).solution(**ctx), **ctx) is None, ex_id
        if ex_id != "08.temperature_key":  # a predicted word: its stub is None
            assert _v(ex_id, _stub, **ctx) == "not attempted", ex_id
        assert _v(ex_id, None, **ctx) == "not attempted", ex_id


def test_grid_length_names_the_mistakes():
    assert "four tokens" in _v("08.grid_length", lambda bars: 16 * bars)
    assert "sixteenth" in _v("08.grid_length", lambda bars: 4 * bars)
    assert _v("08.grid_length", lambda bars: bars * 64) is None


def test_transpose_names_the_mistakes():
    assert "rest" in _v("08.transpose", lambda p, s: p + s)
    assert "octave" in _v("08.transpose", lambda p, s: np.where(p > 0, (p + s) % 12, 0))
    assert "direction" in _v("08.transpose", lambda p, s: np.where(p > 0, p - s, 0))


def test_parallel_fifths_names_the_case_that_fails():
    def adjacent_only(p):
        p = np.asarray(p)
        n = 0
        for t in range(1, len(p)):
            for i in range(3):
                a0, b0, a1, b1 = p[t - 1, i], p[t - 1, i + 1], p[t, i], p[t, i + 1]
                if min(a0, b0, a1, b1) and a1 != a0 and (a1 > a0) == (b1 > b0) and b1 != b0:
                    n += (a0 - b0) % 12 == 7 and (a1 - b1) % 12 == 7
        return n

    def any_fifth_to_fifth(p):
        p = np.asarray(p)
        return int(
            sum(
                ((p[t - 1, i] - p[t - 1, j]) % 12 == 7)
                and ((p[t, i] - p[t, j]) % 12 == 7)
                and min(p[t - 1, i], p[t - 1, j], p[t, i], p[t, j]) > 0
                for t in range(1, len(p))
                for i in range(4)
                for j in range(i + 1, 4)
            )
        )

    assert "not neighbours" in _v("08.parallel_fifths", adjacent_only)
    assert "re-struck" in _v("08.parallel_fifths", any_fifth_to_fifth)


def test_temperature_prediction_follows_the_measurement():
    assert _v("08.temperature_key", "lower", key_by_temperature=KEYS) is None
    assert "measurement says lower" in _v("08.temperature_key", "higher", key_by_temperature=KEYS)
    flipped = {t: -v for t, v in KEYS.items()}
    assert _v("08.temperature_key", "higher", key_by_temperature=flipped) is None
    assert "answer" in _v("08.temperature_key", "maybe", key_by_temperature=KEYS)


def test_envelope_names_the_mistakes():
    def no_release(n, rate, attack, release):
        env = np.ones(n)
        a = round(attack * rate)
        env[:a] = np.linspace(0, 1, a, endpoint=False)
        return env

    assert "click" in _v("08.envelope", no_release)
    assert "multiply" in _v("08.envelope", lambda n, rate, a, r: envelope(n, 1, a, r))
    assert _v("08.envelope", envelope) is None  # the package's own passes

    def inclusive(n, rate, attack, release):  # another endpoint convention: also right
        a, r = round(attack * rate), round(release * rate)
        if a + r > n:
            a = int(n * a / (a + r))
            r = n - a
        env = np.ones(n)
        env[:a] = np.linspace(0, 1, a)
        env[n - r :] = np.linspace(1, 0, r)
        return env

    assert _v("08.envelope", inclusive) is None
