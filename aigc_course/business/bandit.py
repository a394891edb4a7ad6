"""Choosing among copy variants: a Thompson-sampling bandit vs a fixed A/B test, and peeking.

A shop has ``K`` variants of a headline or product copy and a campaign of ``visitors``
page views. Each variant ``k`` has a click-through rate ``rates[k]``; here the rates
are **simulated** (stated by the caller), never measured. Three policies share the
traffic, which arrives in batches of ``batch`` visitors:

* **fixed** (a pre-registered A/B/n test): the first ``test_per_arm · K`` visitors are
  split equally between the variants; at that horizon, and only then, a chi-square test
  of equal rates is run at level ``alpha``. If it rejects, the variant with the highest
  observed rate is shown to every remaining visitor; otherwise the control (variant 0)
  stays.
* **peeking**: the same allocation, but the test is run after *every* batch and the
  experiment stops at the first ``p < alpha``. Repeated looks at accumulating data give
  many chances to cross the line by luck, so its false-positive rate under the null is
  far above ``alpha`` (Armitage, McPherson and Rowe 1969).
* **Thompson sampling**: each variant keeps a Beta posterior of its rate (prior
  Beta(1, 1); after ``c`` clicks in ``n`` views, Beta(1 + c, 1 + n − c)); each visitor
  sees the variant whose posterior draw is the largest, so traffic shifts to the
  variants that look best while the campaign runs ("earning while learning"). At the end
  it picks the variant with the highest posterior mean. It runs no test and gives no
  unbiased estimate of an effect.

The simulator runs ``n_rep`` seeded replications at once (numpy arrays of shape
``(n_rep, K)``). The **regret** of a replication is the expected number of clicks lost
against always showing the best variant: ``Σ_k n_k (max(rates) − rates[k])`` over the
views ``n_k`` each variant received (the expectation given the allocation, so it does
not carry the noise of the clicks themselves).

References:
    W. R. Thompson, "On the likelihood that one unknown probability exceeds another in
    view of the evidence of two samples", Biometrika 25(3/4), 1933.
    O. Chapelle, L. Li, "An empirical evaluation of Thompson sampling", NeurIPS 2011.
    P. Armitage, C. K. McPherson, B. C. Rowe, "Repeated significance tests on
    accumulating data", JRSS A 132(2), 1969.
    R. Johari, P. Koomen, L. Pekelis, D. Walsh, "Peeking at A/B tests", KDD 2017.
    J. Cohen, *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed., 1988,
    ch. 7 (power of chi-square tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .stats import mean_interval, wilson_interval

POLICIES = ("fixed", "peeking", "thompson")


@dataclass(frozen=True)
class Campaign:
    """A simulated campaign: the true (assumed) rates and how traffic arrives."""

    rates: tuple[float, ...]  # simulated click-through rate of each variant; 0 = control
    visitors: int = 50_000  # page views in the whole campaign
    batch: int = 1_000  # visitors between two looks (a day's traffic, say)
    test_per_arm: int = 6_000  # the fixed test's pre-registered sample size per variant
    alpha: float = 0.05

    def __post_init__(self) -> None:
        k = len(self.rates)
        if k < 2 or not all(0 < r < 1 for r in self.rates):
            raise ValueError(f"need at least two rates in (0, 1), got {self.rates}")
        if self.batch <= 0 or self.batch % k:
            raise ValueError(f"batch must be a positive multiple of {k} variants, got {self.batch}")
        horizon = self.test_per_arm * k
        if self.test_per_arm <= 0 or horizon % self.batch or horizon > self.visitors:
            raise ValueError(
                f"the test ({self.test_per_arm} × {k} = {horizon} visitors) must be a whole "
                f"number of batches of {self.batch} and fit in {self.visitors} visitors"
            )
        if self.visitors % self.batch:
            raise ValueError(f"visitors ({self.visitors}) must be a multiple of batch")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")

    @property
    def k(self) -> int:
        return len(self.rates)

    @property
    def best(self) -> int:
        return int(np.argmax(self.rates))

    @property
    def is_null(self) -> bool:
        """True when every variant has the same rate (no winner to find)."""
        return len(set(self.rates)) == 1


def beta_posterior(clicks, views, prior: tuple[float, float] = (1.0, 1.0)):
    """Beta posterior ``(a, b)`` of a click rate after ``clicks`` in ``views`` (conjugate
    update of a Beta(prior) with a binomial likelihood); works on arrays."""
    clicks, views = np.asarray(clicks, dtype=np.float64), np.asarray(views, dtype=np.float64)
    if (clicks < 0).any() or (clicks > views).any():
        raise ValueError("need 0 ≤ clicks ≤ views")
    if min(prior) <= 0:
        raise ValueError(f"the prior's parameters must be > 0, got {prior}")
    return prior[0] + clicks, prior[1] + views - clicks


def thompson_allocation(
    a, b, n_visitors: int, rng: np.random.Generator, draws: int | None = None
) -> np.ndarray:
    """Views per variant for the next ``n_visitors``: each visitor draws one sample from
    every posterior Beta(a, b) and sees the variant with the largest draw.

    The visitors of one batch draw independently from the same posteriors, so their
    counts are multinomial with the probabilities ``π_k = P(variant k has the largest
    draw)``. With ``draws=None`` every visitor draws (exact); with ``draws=m`` the
    ``π_k`` are estimated from ``m`` draws and the counts sampled from that multinomial
    (faster, and close when ``m`` is a few hundred).

    Args:
        a, b: posterior parameters, shape (R, K) (R replications, K variants).
    Returns:
        (R, K) integer counts summing to ``n_visitors`` in every row.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"a and b must both have shape (R, K), got {a.shape} and {b.shape}")
    r, k = a.shape
    m = n_visitors if draws is None else min(draws, n_visitors)
    sample = rng.beta(a[:, None, :], b[:, None, :], size=(r, m, k))  # (R, m, K)
    counts = (sample.argmax(-1)[..., None] == np.arange(k)).sum(1)  # (R, K)
    if m == n_visitors:
        return counts
    return rng.multinomial(n_visitors, counts / m)


def chi2_pvalue(clicks, views) -> np.ndarray:
    """p-value of Pearson's chi-square test that all variants share one rate, per row.

    Args:
        clicks, views: shape (R, K) (or (K,)).
    Returns:
        shape (R,) (or a 0-d array): ``chi2.sf(X², K − 1)``; 1 where no one clicked or
        everyone did (no evidence either way).
    """
    c, n = np.atleast_2d(clicks).astype(np.float64), np.atleast_2d(views).astype(np.float64)
    pooled = c.sum(1, keepdims=True) / n.sum(1, keepdims=True)  # (R, 1)
    var = n * pooled * (1 - pooled)  # (R, K): expected clicks × non-click share
    with np.errstate(divide="ignore", invalid="ignore"):
        x2 = np.where(var > 0, (c - n * pooled) ** 2 / var, 0.0).sum(1)
    p = stats.chi2.sf(x2, c.shape[1] - 1)
    return p if np.ndim(clicks) > 1 else p[0]


@dataclass(frozen=True)
class Outcome:
    """What a policy did in each of ``n_rep`` replications of a campaign."""

    policy: str
    picked: np.ndarray  # (R,) the variant shown at the end
    significant: np.ndarray  # (R,) the test declared a difference (False for Thompson)
    stopped_at: np.ndarray  # (R,) visitors when the test ended (the campaign's for Thompson)
    regret: np.ndarray  # (R,) expected clicks lost against always showing the best variant
    views: np.ndarray  # (R, K) views of each variant over the whole campaign
    lift_estimate: np.ndarray  # (R,) picked minus control, as estimated when the test ended


def _test_phase(c: Campaign, n_rep: int, rng: np.random.Generator):
    """Cumulative views and clicks per variant after each batch of the equal split."""
    looks = c.test_per_arm * c.k // c.batch
    per_arm = c.batch // c.k
    clicks = rng.binomial(per_arm, np.asarray(c.rates), size=(n_rep, looks, c.k)).cumsum(1)
    views = per_arm * np.arange(1, looks + 1)[None, :, None] * np.ones((n_rep, 1, c.k), int)
    return views, clicks  # (R, looks, K) each


def _finish(c: Campaign, policy, views, clicks, significant, stopped_at) -> Outcome:
    rates = np.asarray(c.rates)
    rows = np.arange(len(significant))
    observed = clicks / np.maximum(views, 1)
    picked = np.where(significant, observed.argmax(1), 0)
    lift = observed[rows, picked] - observed[:, 0]
    total = views.copy()
    total[rows, picked] += c.visitors - stopped_at  # the rest of the campaign
    regret = (total * (rates.max() - rates)).sum(1)
    return Outcome(policy, picked, significant, stopped_at, regret, total, lift)


def simulate(
    c: Campaign, policy: str, n_rep: int = 500, seed: int = 0, draws: int | None = None
) -> Outcome:
    """Run ``n_rep`` replications of ``policy`` ("fixed", "peeking" or "thompson").

    The fixed and peeking policies with the same seed see the *same* clicks (peeking only
    looks more often), so their difference is paired. ``draws`` is passed to
    :func:`thompson_allocation` (None: one posterior draw per visitor).
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if n_rep < 1:
        raise ValueError(f"n_rep must be ≥ 1, got {n_rep}")
    rng = np.random.default_rng(seed)
    if policy == "thompson":
        return _thompson(c, n_rep, rng, draws)
    views, clicks = _test_phase(c, n_rep, rng)
    if policy == "fixed":
        p = chi2_pvalue(clicks[:, -1], views[:, -1])
        last = np.full(n_rep, views.shape[1] - 1)
    else:
        p = chi2_pvalue(clicks.reshape(-1, c.k), views.reshape(-1, c.k)).reshape(n_rep, -1)
        below = p < c.alpha  # (R, looks)
        last = np.where(below.any(1), below.argmax(1), views.shape[1] - 1)
        p = p[np.arange(n_rep), last]
    rows = np.arange(n_rep)
    stopped = (last + 1) * c.batch
    return _finish(c, policy, views[rows, last], clicks[rows, last], p < c.alpha, stopped)


def _thompson(c: Campaign, n_rep: int, rng: np.random.Generator, draws) -> Outcome:
    rates = np.asarray(c.rates)
    views = np.zeros((n_rep, c.k), dtype=np.int64)
    clicks = np.zeros((n_rep, c.k), dtype=np.int64)
    for _ in range(c.visitors // c.batch):  # the posterior is updated after each batch
        a, b = beta_posterior(clicks, views)
        shown = thompson_allocation(a, b, c.batch, rng, draws)
        views += shown
        clicks += rng.binomial(shown, rates)
    a, b = beta_posterior(clicks, views)
    picked = (a / (a + b)).argmax(1)
    rows = np.arange(n_rep)
    observed = clicks / np.maximum(views, 1)
    return Outcome(
        "thompson",
        picked,
        np.zeros(n_rep, bool),
        np.full(n_rep, c.visitors),
        (views * (rates.max() - rates)).sum(1),
        views,
        observed[rows, picked] - observed[:, 0],
    )


@dataclass(frozen=True)
class Summary:
    """Rates over replications, each with a 95 % interval."""

    policy: str
    n_rep: int
    declared: float  # share of replications where the test declared a difference
    declared_ci: tuple[float, float]
    best_picked: float  # share that ended on the truly best variant
    best_picked_ci: tuple[float, float]
    regret: float  # mean expected clicks lost
    regret_ci: tuple[float, float]
    mean_stop: float  # mean visitors when the test ended
    lift_bias: float  # mean (estimated − true) lift of the picked variant over the control,
    # among the replications that picked another variant (nan if none did)


def summarise(c: Campaign, out: Outcome) -> Summary:
    """Wilson intervals for the shares, a Student-t interval for the mean regret."""
    n = len(out.picked)
    k = int(out.significant.sum())
    best = int((out.picked == c.best).sum()) if not c.is_null else int((out.picked == 0).sum())
    rates = np.asarray(c.rates)
    moved = out.picked != 0
    true_lift = rates[out.picked] - rates[0]
    bias = float((out.lift_estimate - true_lift)[moved].mean()) if moved.any() else float("nan")
    if n > 1 and np.ptp(out.regret) > 0:
        m, lo, hi = mean_interval(out.regret)
    else:
        m = lo = hi = float(out.regret.mean())
    return Summary(
        out.policy,
        n,
        k / n,
        wilson_interval(k, n),
        best / n,
        wilson_interval(best, n),
        m,
        (lo, hi),
        float(out.stopped_at.mean()),
        bias,
    )


def compare(
    c: Campaign,
    n_rep: int = 500,
    seed: int = 0,
    policies: Sequence[str] = POLICIES,
    draws: int | None = None,
) -> dict[str, Summary]:
    """Summaries of each policy on the same campaign (fixed and peeking paired by seed).

    Under the null (all rates equal), ``best_picked`` counts ending on the control,
    which is the right call there.
    """
    return {p: summarise(c, simulate(c, p, n_rep, seed, draws)) for p in policies}


def chi2_sample_size(
    rates: Sequence[float], alpha: float = 0.05, power: float = 0.8, multiple: int = 1
) -> int:
    """Views per variant for the chi-square test of equal rates to reject with ``power``
    when the true rates are ``rates`` (the smallest differences that matter), rounded up
    to a multiple of ``multiple``.

    Under the alternative, Pearson's statistic is approximately noncentral chi-square with
    ``K − 1`` degrees of freedom and noncentrality ``λ = n Σ_k (p_k − p̄)² / (p̄(1 − p̄))``
    for ``n`` views per variant (Cohen 1988, ch. 7; effect size ``w² = λ / (nK)``).
    """
    p = np.asarray(rates, dtype=np.float64)
    if p.size < 2 or np.ptp(p) == 0 or not ((0 < p) & (p < 1)).all():
        raise ValueError(f"need at least two different rates in (0, 1), got {rates}")
    if not 0 < alpha < 1 or not 0 < power < 1 or multiple < 1:
        raise ValueError("need 0 < alpha, power < 1 and multiple ≥ 1")
    df = p.size - 1
    crit = stats.chi2.ppf(1 - alpha, df)
    per_view = ((p - p.mean()) ** 2).sum() / (p.mean() * (1 - p.mean()))  # λ / n

    def power_at(n: int) -> float:
        return float(stats.ncx2.sf(crit, df, n * per_view))

    hi = multiple
    while power_at(hi) < power:
        hi *= 2
    lo = 0
    while hi - lo > 1:  # smallest n with enough power
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if power_at(mid) >= power else (mid, hi)
    return -(-hi // multiple) * multiple
