"""Exercises of notebook 09 (synthetic data for a classifier): solutions and judges."""

from __future__ import annotations

import math

import numpy as np

from ..business.labelling import labels_saved
from ..business.stats import mean_interval
from . import Exercise

BOUGHT = "+ cDCGAN (bought)"
PRICE = 5.00


def _accs(runs, condition, per_class):
    return np.array(
        [
            r.accuracy
            for r in sorted(runs, key=lambda r: r.seed)  # pair the two conditions by seed
            if r.condition == condition and r.per_class == per_class
        ]
    )


def _paired_gain_solution(runs, budgets, **_: object):
    diff = _accs(runs, BOUGHT, budgets[0]) - _accs(runs, "real only", budgets[0])
    return mean_interval(diff)  # a t-interval on the per-seed differences: the pairing


def _paired_gain_judge(attempt, runs, budgets, **_: object) -> None:
    gain, lo, hi = (float(a) for a in attempt)
    diff = _accs(runs, BOUGHT, budgets[0]) - _accs(runs, "real only", budgets[0])
    want, want_lo, want_hi = mean_interval(diff)
    assert abs(gain - want) < 1e-9, (
        f"gain = {gain:+.4f}, expected {want:+.4f}: at {budgets[0]} labels per class, take "
        f"each seed's accuracy with {BOUGHT!r} minus the same seed's accuracy with 'real only'"
        ", then their mean"
    )
    assert lo <= gain <= hi, f"the interval [{lo:+.4f}, {hi:+.4f}] should contain the gain"
    if abs(lo - want_lo) > 1e-9 or abs(hi - want_hi) > 1e-9:
        raise AssertionError(
            f"interval [{lo:+.4f}, {hi:+.4f}], expected [{want_lo:+.4f}, {want_hi:+.4f}]: "
            "apply mean_interval to the per-seed differences (a paired interval), not to "
            "each condition separately"
        )


def _expert_value_solution(runs, budgets, **_: object):
    saved = dict(labels_saved(runs, BOUGHT))[budgets[0]]
    # nan (it hurt, unpriceable), inf (beyond the curve) or a loss are not money saved
    return PRICE * saved if np.isfinite(saved) and saved > 0 else 0.0


def _expert_value_judge(attempt, runs, budgets, **_: object) -> None:
    value = float(attempt)
    saved = dict(labels_saved(runs, BOUGHT))[budgets[0]]
    if not (math.isfinite(saved) and saved > 0):
        assert value == 0.0, (
            f"value_expert = {value}: labels_saved gives {saved} labels at {budgets[0]} per "
            "class; a loss (negative or nan) or a gain beyond the measured curve (inf) is not "
            "money you can count: store 0"
        )
        return
    want = PRICE * saved
    assert abs(value - want) < 1e-6, (
        f"value_expert = {value:.2f}, expected {want:.2f}: labels saved in total (all classes, "
        f"from labels_saved at {budgets[0]} per class) times {PRICE:.2f} per label"
    )


EXERCISES = [
    Exercise("09.paired_gain", "derive", judge=_paired_gain_judge, solution=_paired_gain_solution),
    Exercise(
        "09.expert_value", "derive", judge=_expert_value_judge, solution=_expert_value_solution
    ),
]
