"""Harmful content: a keyword filter scored on a seeded, labelled synthetic set.

A weighted keyword filter scored on a seeded, labelled synthetic set of marketplace
messages, with hard cases on purpose: benign text that uses alarming words ("this knife
kills it"), harmful text written to dodge keywords ("y0u id10t"). The trade-off between
false positives and negatives at a threshold, priced with a cost per error, is a
business decision, not a property of the filter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .stats import wilson_interval

HARMFUL = {
    "insult": (
        "you are an idiot {who}",
        "what a stupid {who}, nobody wants your junk",
        "the {who} is a moron and a liar",
        "worthless {who}, you are an idiot",
    ),
    "threat": (
        "i will hurt you if the {item} is late again",
        "i know where you live, {who}",
        "send my refund or you will regret it, {who}",
        "refund the {item} or else, {who}",
    ),
    "scam": (
        "pay with a gift card to claim your free {item}",
        "wire the money first and the {item} ships today",
        "click this link to verify your account and win a {item}",
    ),
    "dangerous": (
        "this {item} cures cancer, stop your medication",
        "mix bleach and ammonia to clean the {item}",
    ),
}
HARMFUL_DISGUISED = (  # written to get past keyword lists
    "y0u are an id10t {who}",
    "what a stup1d {who}",
    "pay with g1ft c4rd to get your {item}",
    "you will be sorry, {who}",
    "kindly settle the fee by voucher codes before we ship the {item}",
)
BENIGN = (
    "the {item} arrived on time and works well",
    "great {item}, the colour matches the photo",
    "can i return the {item} if it does not fit",
    "thanks {who}, fast delivery and careful packing",
    "the {item} is smaller than expected but fine",
    "does the {item} come with a warranty",
    "free delivery on the {item}, nice",
    "is the {item} a scam? the price looks too low",
)
BENIGN_ALARMING = (  # ordinary text that uses alarming words
    "this {item} kills it, a killer deal",
    "i was an idiot to wait so long to buy this {item}",
    "the sale price is insane, i will hurt my wallet again",
    "gift card accepted at checkout? i want the {item}",
    "it cures my boredom, the best {item} ever",
    "a free gift card with the {item}? count me in",
)
WHO = ("seller", "shop", "support team", "courier", "store")
ITEMS = ("lamp", "mug", "backpack", "scarf", "bottle", "chair", "watch", "notebook")

KEYWORDS: dict[str, float] = {
    "idiot": 2.0,
    "stupid": 1.5,
    "moron": 2.0,
    "worthless": 1.5,
    "liar": 1.0,
    "hurt": 1.5,
    "kill": 2.5,
    "kills": 1.0,
    "regret": 1.0,
    "or else": 1.5,
    "where you live": 2.5,
    "gift card": 1.0,
    "wire the money": 2.5,
    "verify your account": 2.0,
    "click this link": 1.5,
    "cures": 1.5,
    "cancer": 1.0,
    "bleach and ammonia": 3.0,
    "scam": 0.5,
    "junk": 0.5,
    "free": 0.5,
}


@dataclass(frozen=True)
class Message:
    text: str
    harmful: bool
    kind: str  # insult, threat, scam, dangerous, disguised, benign, benign_alarming
    template: str = ""  # "kind:index" of the template it was filled from


def make_moderation_set(
    n: int, harmful_share: float = 0.3, hard_share: float = 0.25, seed: int = 0
) -> list[Message]:
    """A seeded labelled set of marketplace messages (see the module docstring).

    Args:
        n: messages.
        harmful_share: share labelled harmful.
        hard_share: share of each class drawn from its hard cases (disguised harmful
            text; benign text with alarming words).
    """
    rng = np.random.default_rng(seed)
    kinds = list(HARMFUL)

    def fill(template: str) -> str:
        return template.format(
            who=WHO[rng.integers(len(WHO))], item=ITEMS[rng.integers(len(ITEMS))]
        )

    out = []
    for _ in range(n):
        harmful = rng.random() < harmful_share
        hard = rng.random() < hard_share
        if harmful and hard:
            kind, pool = "disguised", HARMFUL_DISGUISED
        elif harmful:
            kind = kinds[rng.integers(len(kinds))]
            pool = HARMFUL[kind]
        elif hard:
            kind, pool = "benign_alarming", BENIGN_ALARMING
        else:
            kind, pool = "benign", BENIGN
        j = int(rng.integers(len(pool)))
        out.append(Message(fill(pool[j]), bool(harmful), kind, f"{kind}:{j}"))
    return out


def template_pools() -> dict[str, tuple[str, ...]]:
    """Every template of :func:`make_moderation_set`, by kind."""
    return {
        **HARMFUL,
        "disguised": HARMFUL_DISGUISED,
        "benign": BENIGN,
        "benign_alarming": BENIGN_ALARMING,
    }


def split_by_template(
    messages: Sequence[Message], seed: int = 0
) -> tuple[list[Message], list[Message]]:
    """Split messages into a tuning and a held-out set whose *templates* do not overlap.

    Each kind's templates are shuffled and halved (the tuning half gets the extra one
    of an odd count), so both sets hold every kind but no sentence pattern of the
    held-out set was seen while tuning. A random split of messages would put copies of
    the same filled template on both sides and score memory, not generalisation.
    """
    rng = np.random.default_rng(seed)
    tune_templates: set[str] = set()
    for kind, pool in template_pools().items():
        order = rng.permutation(len(pool))
        tune_templates |= {f"{kind}:{j}" for j in order[: (len(pool) + 1) // 2]}
    if any(not m.template for m in messages):
        raise ValueError("messages need their template (made by make_moderation_set)")
    tune = [m for m in messages if m.template in tune_templates]
    test = [m for m in messages if m.template not in tune_templates]
    return tune, test


def keyword_score(text: str, keywords: dict[str, float] = KEYWORDS) -> float:
    """Sum of the weights of the keywords found in ``text`` (whole words, lower case)."""
    low = text.lower()
    return sum(w for k, w in keywords.items() if re.search(rf"\b{re.escape(k)}\b", low))


@dataclass(frozen=True)
class FilterResult:
    """Confusion counts of a filter at one threshold (flag when score ≥ threshold)."""

    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def fpr(self) -> float:
        return self.fp / max(1, self.fp + self.tn)

    @property
    def fnr(self) -> float:
        return self.fn / max(1, self.fn + self.tp)

    def fpr_ci(self) -> tuple[float, float]:
        return wilson_interval(self.fp, self.fp + self.tn)

    def fnr_ci(self) -> tuple[float, float]:
        return wilson_interval(self.fn, self.fn + self.tp)

    def cost_per_1000(self, cost_fp: float, cost_fn: float) -> float:
        """Expected cost of errors per 1,000 messages."""
        n = self.tp + self.fp + self.tn + self.fn
        return 1000 * (self.fp * cost_fp + self.fn * cost_fn) / n

    def cost_at_prevalence(self, prevalence: float, cost_fp: float, cost_fn: float) -> float:
        """Expected cost per 1,000 messages if a share ``prevalence`` of them were harmful,
        from this result's error *rates* (the test set's own mix no longer matters)."""
        if not 0 <= prevalence <= 1:
            raise ValueError(f"prevalence must be in [0, 1], got {prevalence}")
        return 1000 * (prevalence * self.fnr * cost_fn + (1 - prevalence) * self.fpr * cost_fp)


def evaluate_filter(
    scores: Sequence[float], labels: Sequence[bool], threshold: float
) -> FilterResult:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    flag = s >= threshold
    return FilterResult(
        float(threshold),
        int((flag & y).sum()),
        int((flag & ~y).sum()),
        int((~flag & ~y).sum()),
        int((~flag & y).sum()),
    )


def best_threshold(
    scores: Sequence[float],
    labels: Sequence[bool],
    cost_fp: float,
    cost_fn: float,
    thresholds: Sequence[float] | None = None,
) -> FilterResult:
    """The threshold with the lowest expected cost (ties: the lowest threshold)."""
    grid = sorted(set(scores) | {math.inf}) if thresholds is None else list(thresholds)
    results = [evaluate_filter(scores, labels, t) for t in grid]
    return min(results, key=lambda r: (r.cost_per_1000(cost_fp, cost_fn), r.threshold))


def constrained_threshold(
    scores: Sequence[float],
    labels: Sequence[bool],
    critical: Sequence[bool],
    max_miss: float,
    cost_fp: float,
    cost_fn: float,
    thresholds: Sequence[float],
) -> FilterResult | None:
    """The cheapest threshold whose miss rate on the ``critical`` harmful messages (e.g.
    threats) is at most ``max_miss``: some harms are obligations, not prices.

    Returns None when no threshold of the grid meets the constraint.
    """
    s = np.asarray(scores, dtype=float)
    crit = np.asarray(critical, dtype=bool) & np.asarray(labels, dtype=bool)
    if not crit.any():
        raise ValueError("no critical harmful message to constrain the miss rate on")
    feasible = [t for t in thresholds if np.mean(s[crit] < t) <= max_miss]
    if not feasible:
        return None
    return best_threshold(scores, labels, cost_fp, cost_fn, thresholds=feasible)
