"""Exercises of notebook 01 (GAN theory): solutions and judges."""

from __future__ import annotations

import math

import numpy as np

from . import Exercise

P_DATA = (0.5, 0.5, 0.0)
P_G = (0.0, 0.5, 0.5)


def _disjoint_support_solution() -> tuple[list[float], float, float]:
    # D* = p / (p + q) where p + q > 0: (1, 1/2, 0) (any value where both are 0)
    d_star = [1.0, 0.5, 0.0]
    # V = Σ p log D* + Σ q log(1 − D*) = 0.5·log 1 + 0.5·log ½ + 0.5·log ½ + 0.5·log 1
    value = math.log(0.5)
    # m = (¼, ½, ¼); KL(p‖m) = ½ log 2 + ½ log 1 = ½ log 2, and the same for q
    jsd = 0.5 * math.log(2)
    return d_star, value, jsd


def _disjoint_support_judge(attempt: tuple, **_: object) -> None:
    d_star, value, jsd = attempt
    p, q = np.array(P_DATA), np.array(P_G)
    d = np.asarray(d_star, dtype=float)
    assert d.shape == (3,), f"d_star should hold three numbers, one per point, not {d.shape}"
    where = (p + q) > 0
    assert np.allclose(d[where], (p / np.where(where, p + q, 1))[where]), (
        f"d_star = {d.tolist()}: at each point D* = p_data / (p_data + p_g)"
    )
    exact = float(np.sum(p[p > 0] * np.log(d[p > 0])) + np.sum(q[q > 0] * np.log(1 - d[q > 0])))
    assert abs(float(value) - exact) < 1e-9, (
        f"value = {value}: the exact sum Σ p log D* + Σ p_g log(1 − D*) is {exact:.6f} for your D*"
    )
    assert abs(float(jsd) - 0.5 * math.log(2)) < 1e-9, (
        f"jsd = {jsd}: compute m = (p_data + p_g) / 2 first, then ½ KL(p_data‖m) + ½ KL(p_g‖m)"
    )
    assert abs(float(value) - (-math.log(4) + 2 * float(jsd))) < 1e-9, (
        "your value and JSD do not satisfy V(D*, G) = −log 4 + 2·JSD: recheck one of them"
    )


EXERCISES = [
    Exercise(
        "01.disjoint_support",
        "derive",
        judge=_disjoint_support_judge,
        solution=_disjoint_support_solution,
    ),
]
