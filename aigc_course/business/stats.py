"""Statistics for business decisions: intervals for rates and means, and an A/B test.

References:
    E. B. Wilson, "Probable inference, the law of succession, and statistical
    inference", JASA 22(158), 1927 (the score interval for a proportion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (good even for small n or rates near 0/1)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 ≤ successes ≤ n and n > 0, got {successes}/{n}")
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, float(centre - half))  # exact at the edges
    high = 1.0 if successes == n else min(1.0, float(centre + half))
    return low, high


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): Student-t interval for the mean of a few runs (e.g. seeds)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        raise ValueError("need at least two values for an interval")
    half = stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


@dataclass(frozen=True)
class ABTest:
    """Result of a two-sided two-proportion z-test of B against A."""

    rate_a: float
    rate_b: float
    lift: float  # rate_b - rate_a
    lift_low: float  # confidence interval of the lift (unpooled normal approximation)
    lift_high: float
    z: float
    p_value: float


def ab_test(clicks_a: int, n_a: int, clicks_b: int, n_b: int, confidence: float = 0.95) -> ABTest:
    """Two-proportion z-test (pooled variance under H0: equal rates)."""
    for c, n in ((clicks_a, n_a), (clicks_b, n_b)):
        if n <= 0 or not 0 <= c <= n:
            raise ValueError(f"need 0 ≤ clicks ≤ n and n > 0, got {c}/{n}")
    pa, pb = clicks_a / n_a, clicks_b / n_b
    pooled = (clicks_a + clicks_b) / (n_a + n_b)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = (pb - pa) / se0 if se0 > 0 else 0.0
    p = 2 * stats.norm.sf(abs(z))
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    zc = stats.norm.ppf(0.5 + confidence / 2)
    return ABTest(pa, pb, pb - pa, pb - pa - zc * se, pb - pa + zc * se, z, float(p))


def sample_size_per_arm(
    base_rate: float, lift: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Visitors per arm to detect an absolute ``lift`` over ``base_rate`` (two-sided)."""
    if not 0 < base_rate < 1 or not 0 < base_rate + lift < 1 or lift == 0:
        raise ValueError(
            f"need 0 < base_rate, base_rate + lift < 1 and lift ≠ 0, got {base_rate}, {lift}"
        )
    p1, p2 = base_rate, base_rate + lift
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    var = p1 * (1 - p1) + p2 * (1 - p2)
    return math.ceil((za + zb) ** 2 * var / lift**2)


def format_p(p: float, floor: float = 0.001) -> str:
    """A p-value as a reader should see it: ``"p = 0.034"``, or ``"p < 0.001"`` below the
    floor (a p-value of 3e-55 only says the simulator's assumption was large)."""
    if not 0 <= p <= 1:
        raise ValueError(f"a p-value lies in [0, 1], got {p}")
    return f"p < {floor:g}" if p < floor else f"p = {p:.3f}"


def holm(p_values) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values, in the input order (family-wise error control
    when several arms are compared with one control).

    References:
        S. Holm, "A simple sequentially rejective multiple test procedure",
        Scandinavian Journal of Statistics 6(2), 1979.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or ((p < 0) | (p > 1)).any():
        raise ValueError("need a non-empty 1-D array of p-values in [0, 1]")
    order = np.argsort(p, kind="stable")
    m = p.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])  # step-down, monotone
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


@dataclass(frozen=True)
class NonInferiority:
    """One-sided test that B is at most ``margin`` worse than A (H0: lift ≤ −margin)."""

    lift: float  # rate_b - rate_a
    lift_low: float  # one-sided lower confidence bound of the lift
    margin: float
    z: float
    p_value: float

    @property
    def non_inferior(self) -> bool:
        """True when the lower bound clears −margin (equivalently, p < α)."""
        return self.lift_low > -self.margin


def non_inferiority_test(
    clicks_a: int, n_a: int, clicks_b: int, n_b: int, margin: float, alpha: float = 0.05
) -> NonInferiority:
    """One-sided non-inferiority z-test of B against A with a named ``margin`` (absolute).

    B is declared non-inferior when the one-sided ``1 - alpha`` lower bound of the lift
    lies above ``-margin`` (unpooled standard error, as the Wald interval).

    References:
        S. Wellek, *Testing Statistical Hypotheses of Equivalence and Noninferiority*,
        2nd ed., CRC Press, 2010, ch. 6 (two binomial samples).
    """
    if margin <= 0:
        raise ValueError(f"the non-inferiority margin must be > 0, got {margin}")
    for c, n in ((clicks_a, n_a), (clicks_b, n_b)):
        if n <= 0 or not 0 <= c <= n:
            raise ValueError(f"need 0 ≤ clicks ≤ n and n > 0, got {c}/{n}")
    pa, pb = clicks_a / n_a, clicks_b / n_b
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    lift = pb - pa
    z = (lift + margin) / se if se > 0 else math.inf
    p = float(stats.norm.sf(z))
    low = lift - stats.norm.ppf(1 - alpha) * se
    return NonInferiority(lift, float(low), margin, float(z), p)
