"""Exercises of notebook 10 (product copy): solutions and judges."""

from __future__ import annotations

from ..business.roi import cost_per_1000
from ..business.stats import sample_size_per_arm
from . import Exercise

BASE, LIFT = 0.05, 0.001  # 5.0 % -> 5.1 %: a gain of one tenth of a point, absolute


def _rewrite_policy_solution(items_per_second, report, assume, **_: object):
    # rewrite only the items with an unsupported claim: the rewrite rate is unsupported_rate
    return cost_per_1000(items_per_second, report.unsupported_rate, assume)


def _rewrite_policy_judge(attempt, items_per_second, report, assume, **_: object) -> None:
    assert hasattr(attempt, "total") and hasattr(attempt, "rewrite"), (
        f"cost_unsupported should be the CostPer1000 that cost_per_1000 returns, not {attempt!r}"
    )
    want = cost_per_1000(items_per_second, report.unsupported_rate, assume)
    current = cost_per_1000(items_per_second, 1 - report.faithful_rate, assume)
    if abs(attempt.rewrite - want.rewrite) > 1e-6 and abs(attempt.rewrite - current.rewrite) < 1e-6:
        raise AssertionError(
            "that is the cost of the current policy (rewrite every item not fully faithful, "
            "1 − faithful_rate); the cheaper policy rewrites only the share of items with an "
            "unsupported claim: report.unsupported_rate"
        )
    assert abs(attempt.rewrite - want.rewrite) < 1e-6, (
        f"rewrite cost {attempt.rewrite:.2f}, expected {want.rewrite:.2f}: the rewrite rate is "
        "the share of items with an unsupported claim (unsupported_rate, a share of items, not "
        "unsupported_per_item)"
    )
    assert abs(attempt.total - want.total) < 1e-6, (
        f"total {attempt.total:.2f}, expected {want.total:.2f}: keep the default assumptions "
        "(`assume`) and the measured throughput (items_per_second)"
    )


def _sample_size_solution(n_arm, **_: object):
    n_small = sample_size_per_arm(BASE, LIFT)  # lift is absolute: 0.001, not 0.1
    return n_small, n_small / n_arm  # n grows like 1 / lift², so ≈ (0.005 / 0.001)² = 25


def _sample_size_judge(attempt, n_arm, **_: object) -> None:
    n_small, ratio = attempt
    want = sample_size_per_arm(BASE, LIFT)
    assert int(n_small) == want, (
        f"n_small = {n_small}, expected {want:,}: call sample_size_per_arm with the base rate "
        "0.05 and the absolute lift 0.001 (one tenth of a point is 0.001, not 0.1 or 0.01)"
    )
    assert abs(float(ratio) - want / n_arm) < 1e-6 * want / n_arm, (
        f"ratio = {ratio}, expected {want / n_arm:.2f}: n_small divided by n_arm (the test "
        "above), so more than 1"
    )


EXERCISES = [
    Exercise(
        "10.rewrite_policy",
        "derive",
        judge=_rewrite_policy_judge,
        solution=_rewrite_policy_solution,
    ),
    Exercise("10.sample_size", "derive", judge=_sample_size_judge, solution=_sample_size_solution),
]
