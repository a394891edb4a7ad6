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
    review_recall: float = 1.0  # share of the faulty items the reviewer catches
    cost_per_escaped_error: float = 0.0  # a faulty item that reaches customers (returns, trust)

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 0:
                raise ValueError(f"{name} must be ≥ 0, got {value}")
        if self.copywriter_items_per_hour <= 0:
            raise ValueError("copywriter_items_per_hour must be > 0")
        if self.review_recall > 1:
            raise ValueError(f"review_recall must be ≤ 1, got {self.review_recall}")


@dataclass(frozen=True)
class CostPer1000:
    """Cost of 1,000 descriptions, split by where it goes (dollars)."""

    compute: float
    review: float
    rewrite: float
    human_baseline: float
    escaped: float = 0.0  # faulty items the review missed, at their cost downstream

    @property
    def total(self) -> float:
        return self.compute + self.review + self.rewrite + self.escaped

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
    rewrite = 1000 * rewrite_rate * a.review_recall * human_per_item  # the faults caught
    escaped = 1000 * rewrite_rate * (1 - a.review_recall) * a.cost_per_escaped_error
    return CostPer1000(compute, review, rewrite, 1000 * human_per_item, escaped)


def break_even_rewrite_rate(
    items_per_second: float, assumptions: CostAssumptions = CostAssumptions()
) -> float:
    """The rewrite rate at which generated copy costs as much as hand-written copy
    (may exceed 1: then the model saves money at any rewrite rate)."""
    zero = cost_per_1000(items_per_second, 0.0, assumptions)
    every = cost_per_1000(items_per_second, 1.0, assumptions)
    per_rewrite = every.total - zero.total  # the cost of a faulty item, caught or not
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
    beta_sameness: float = 0.0  # per unit of opening_share: an effect no offline metric sees

    def __post_init__(self) -> None:
        if not 0 < self.base_ctr < 1:
            raise ValueError(f"base_ctr must be in (0, 1), got {self.base_ctr}")

    def ctr(self, coverage: float, n_unsupported: int, sameness: float = 0.0) -> float:
        """Click probability of one description.

        Args:
            coverage: share of the product's attributes mentioned correctly, in [0, 1].
            n_unsupported: invented or contradicted attributes.
            sameness: share of the listing's descriptions that open with the same words
                (:func:`opening_share`); counts only when ``beta_sameness`` is not 0.
        """
        z = _logit(self.base_ctr)
        z += self.beta_coverage * (coverage - 1) + self.beta_unsupported * n_unsupported
        z += self.beta_sameness * sameness
        return 1 / (1 + math.exp(-z))


def opening_share(texts: Sequence[str], n_words: int = 1) -> np.ndarray:
    """For each text, the share of the *other* texts that open with the same ``n_words``
    words (case-folded): how alike a listing page reads to a shopper who skims it.

    Returns:
        (len(texts),) floats in [0, 1]; 0 for a single text.
    """
    if n_words < 1:
        raise ValueError(f"n_words must be ≥ 1, got {n_words}")
    heads = [" ".join(t.lower().replace(",", " ").split()[:n_words]) for t in texts]
    counts: dict[str, int] = {}
    for h in heads:
        counts[h] = counts.get(h, 0) + 1
    others = max(1, len(texts) - 1)
    return np.array([(counts[h] - 1) / others for h in heads], dtype=float)


@dataclass(frozen=True)
class Traffic:
    """Editable traffic and margin figures that turn a change in click rate into money."""

    visits_per_month: float = 200_000  # product-page views where the copy is shown
    orders_per_click: float = 0.05  # share of clicks that end in an order
    order_value: float = 40.0  # dollars per order
    gross_margin: float = 0.3  # share of the order value the shop keeps

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 0:
                raise ValueError(f"{name} must be ≥ 0, got {value}")

    def monthly_margin(self, lift: float) -> float:
        """Gross margin gained per month (negative: lost) by an absolute CTR ``lift``."""
        orders = lift * self.visits_per_month * self.orders_per_click
        return orders * self.order_value * self.gross_margin


def months_to_cancel(one_off_saving: float, monthly_loss: float) -> float:
    """Months until a recurring loss eats a one-off saving (inf when nothing is lost;
    0 when there is no saving to eat)."""
    if one_off_saving <= 0:
        return 0.0
    return math.inf if monthly_loss <= 0 else one_off_saving / monthly_loss


def simulate_clicks(ctrs: Sequence[float], n_visitors: int, seed: int = 0) -> int:
    """Clicks from ``n_visitors``, each shown one item drawn uniformly from an arm whose
    items have click probabilities ``ctrs``."""
    if n_visitors < 1 or not len(ctrs):
        raise ValueError("need at least one visitor and one item")
    rng = np.random.default_rng(seed)
    p = np.asarray(ctrs, dtype=float)[rng.integers(len(ctrs), size=n_visitors)]
    return int((rng.random(n_visitors) < p).sum())


# -- build or buy: an API priced per token vs a self-hosted model priced per hour -----------


@dataclass(frozen=True)
class LLMCostAssumptions:
    """Editable prices for serving generated text (US dollars). Placeholders: put in your
    provider's price list and your own hardware's price."""

    chars_per_token: float = 4.0  # English text with a BPE tokenizer, roughly
    api_input_per_million: float = 0.50  # dollars per million prompt tokens
    api_output_per_million: float = 1.50  # dollars per million generated tokens
    cache_hit_rate: float = 0.0  # share of requests answered from a cache, not the model
    gpu_hourly: float = 2.00  # a rented GPU, or your own amortised
    utilisation: float = 0.5  # share of the paid hours the server is busy
    self_host_fixed: float = 5000.0  # one-off: engineering, deployment, monitoring

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 0:
                raise ValueError(f"{name} must be ≥ 0, got {value}")
        if self.chars_per_token <= 0 or not 0 < self.utilisation <= 1:
            raise ValueError("chars_per_token must be > 0 and utilisation in (0, 1]")
        if self.cache_hit_rate > 1:
            raise ValueError(f"cache_hit_rate must be ≤ 1, got {self.cache_hit_rate}")


def api_cost_per_1000(prompt_chars: float, output_chars: float, a: LLMCostAssumptions) -> float:
    """Dollars for 1,000 items from a per-token API (cached requests cost nothing)."""
    tokens_in, tokens_out = prompt_chars / a.chars_per_token, output_chars / a.chars_per_token
    per_item = (tokens_in * a.api_input_per_million + tokens_out * a.api_output_per_million) / 1e6
    return 1000 * per_item * (1 - a.cache_hit_rate)


def self_hosted_cost_per_1000(
    items_per_second: float, hourly: float, a: LLMCostAssumptions
) -> float:
    """Dollars for 1,000 items on hardware paid by the hour, busy ``a.utilisation`` of it."""
    if items_per_second <= 0:
        raise ValueError(f"items_per_second must be > 0, got {items_per_second}")
    return 1000 * (1 - a.cache_hit_rate) / items_per_second / 3600 * hourly / a.utilisation


def payback_items(fixed: float, per_item_saving: float) -> float:
    """Items after which a one-off cost is paid back by a per-item saving (inf if none)."""
    return math.inf if per_item_saving <= 0 else fixed / per_item_saving
