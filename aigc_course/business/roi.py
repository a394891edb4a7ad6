"""What generated product copy costs, and how to tell whether it sells.

**Cost.** A human copywriter writes ``copywriter_items_per_hour`` descriptions an hour.
With a model, the cost per item is the compute time (1 / measured throughput, at an
hourly price), plus a human read-through of every item (``review_seconds_per_item``),
plus a full human rewrite of every item the faithfulness check flags (at the
copywriter's own rate). All prices are editable assumptions in one frozen dataclass;
the measured inputs (throughput, share of items that need a rewrite) come from the
notebook.

**Clicks.** A simple, stated click model turns a description's faithfulness into a
click-through probability, in logit space:

    logit p = logit(base_ctr) + beta_coverage * (coverage - 1) + beta_unsupported * n_unsupported

(coverage: share of the product's attributes the text mentions correctly;
n_unsupported: invented or contradicted attributes). The numbers are assumptions, not
measurements of real shoppers: the point is the *procedure* — simulate visitors,
count clicks per arm, and decide with a two-proportion test
(:func:`aigc_course.business.stats.ab_test`) and a sample size fixed in advance
(:func:`aigc_course.business.stats.sample_size_per_arm`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class CostAssumptions:
    """Editable prices and human work rates (US dollars, hours, seconds)."""

    copywriter_hourly: float = 40.0
    copywriter_items_per_hour: float = 12.0  # 5 minutes per description
    review_seconds_per_item: float = 20.0  # a human reads every generated item
    compute_hourly: float = 0.05  # one laptop-class CPU core, or a small cloud vCPU

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 0:
                raise ValueError(f"{name} must be ≥ 0, got {value}")
        if self.copywriter_items_per_hour <= 0:
            raise ValueError("copywriter_items_per_hour must be > 0")


@dataclass(frozen=True)
class CostPer1000:
    """Cost of 1,000 descriptions, split by where it goes (dollars)."""

    compute: float
    review: float
    rewrite: float
    human_baseline: float

    @property
    def total(self) -> float:
        return self.compute + self.review + self.rewrite

    @property
    def saving(self) -> float:
        """Human baseline minus the model's total (negative: the model costs more)."""
        return self.human_baseline - self.total

    @property
    def saving_share(self) -> float:
        return self.saving / self.human_baseline if self.human_baseline else 0.0


def cost_per_1000(
    items_per_second: float, rewrite_rate: float, assumptions: CostAssumptions = CostAssumptions()
) -> CostPer1000:
    """Cost of 1,000 generated descriptions vs the same written by hand.

    Args:
        items_per_second: measured generation throughput (> 0).
        rewrite_rate: share of items a human must rewrite, in [0, 1] (e.g. the share
            with an unsupported attribute, or not fully faithful).
        assumptions: prices and human rates.
    """
    if items_per_second <= 0:
        raise ValueError(f"items_per_second must be > 0, got {items_per_second}")
    if not 0 <= rewrite_rate <= 1:
        raise ValueError(f"rewrite_rate must be in [0, 1], got {rewrite_rate}")
    a = assumptions
    human_per_item = a.copywriter_hourly / a.copywriter_items_per_hour
    compute = 1000 / items_per_second / 3600 * a.compute_hourly
    review = 1000 * a.review_seconds_per_item / 3600 * a.copywriter_hourly
    rewrite = 1000 * rewrite_rate * human_per_item
    return CostPer1000(compute, review, rewrite, 1000 * human_per_item)


def break_even_rewrite_rate(
    items_per_second: float, assumptions: CostAssumptions = CostAssumptions()
) -> float:
    """The rewrite rate at which generated copy costs as much as hand-written copy
    (may exceed 1: then the model saves money at any rewrite rate)."""
    zero = cost_per_1000(items_per_second, 0.0, assumptions)
    per_rewrite = zero.human_baseline  # a rewrite of every item costs the baseline
    return (zero.human_baseline - zero.total) / per_rewrite


# -- click model and A/B simulation ------------------------------------------------------


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class ClickModel:
    """Assumed click-through probability of a description (see the module docstring)."""

    base_ctr: float = 0.05  # a fully faithful description
    beta_coverage: float = 1.5  # per unit of coverage (all attributes → none)
    beta_unsupported: float = -0.4  # per invented or contradicted attribute

    def __post_init__(self) -> None:
        if not 0 < self.base_ctr < 1:
            raise ValueError(f"base_ctr must be in (0, 1), got {self.base_ctr}")

    def ctr(self, coverage: float, n_unsupported: int) -> float:
        z = _logit(self.base_ctr)
        z += self.beta_coverage * (coverage - 1) + self.beta_unsupported * n_unsupported
        return 1 / (1 + math.exp(-z))


def simulate_clicks(ctrs: Sequence[float], n_visitors: int, seed: int = 0) -> int:
    """Clicks from ``n_visitors``, each shown one item drawn uniformly from an arm whose
    items have click probabilities ``ctrs``."""
    if n_visitors < 1 or not len(ctrs):
        raise ValueError("need at least one visitor and one item")
    rng = np.random.default_rng(seed)
    p = np.asarray(ctrs, dtype=float)[rng.integers(len(ctrs), size=n_visitors)]
    return int((rng.random(n_visitors) < p).sum())
