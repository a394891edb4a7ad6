"""Faithfulness and diversity of generated product copy.

**Faithfulness** compares a description with the attributes it was written from. The
catalog's lexicon is closed (:mod:`aigc_course.business.catalog`), so every attribute
word in a text can be found exactly (whole words, case-insensitive). Each product has
six *slots*: category, material, colour, price band, and its two features. A slot is

- **correct** when its value is mentioned (a price band by one of its phrases);
- **contradicted** when a *different* value of the same kind is mentioned (a blue
  mug described as red; a budget item called "A premium piece.");
- a feature that the product does not have is **invented**.

Contradicted and invented attributes are both claims the catalog does not support: a
customer who buys on them returns the product. Per item we count them; over a set we
report coverage (share of slots mentioned correctly), the share of items with at least
one unsupported claim, and the share of fully faithful items (every slot correct,
nothing unsupported), with Wilson intervals.

**Diversity**: distinct-n (Li et al. 2016) lives in :mod:`aigc_course.metrics.text`;
here is **self-BLEU** (Zhu et al. 2018): the BLEU (Papineni et al. 2002) of each text
against all the others as references, averaged. 1 means every text repeats the others;
lower means more varied wording.

References:
    K. Papineni, S. Roukos, T. Ward, W.-J. Zhu, "BLEU: a method for automatic evaluation
    of machine translation", ACL 2002 (Eqs. 1–2: modified n-gram precision and the
    brevity penalty). C.-Y. Lin, F. J. Och, "ORANGE", COLING 2004 (add-one smoothing of
    the n > 1 precisions). Y. Zhu et al., "Texygen", SIGIR 2018 (self-BLEU).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from .catalog import CATEGORIES, COLOURS, FEATURES, MATERIALS, PRICE_PHRASES, Product
from .stats import wilson_interval

SLOTS = ("category", "material", "colour", "price", "feature_1", "feature_2")


def _find(words: Sequence[str], text: str) -> set[str]:
    """The entries of ``words`` that occur in ``text`` as whole words (case-insensitive)."""
    low = text.lower()
    return {w for w in words if re.search(rf"(?<![a-z]){re.escape(w.lower())}(?![a-z])", low)}


def _price_bands(text: str) -> set[str]:
    return {band for band, phrases in PRICE_PHRASES.items() if _find(phrases, text)}


@dataclass(frozen=True)
class ItemFaithfulness:
    """What one description says about one product."""

    correct: dict[str, bool]  # slot -> mentioned with the right value
    unsupported: tuple[str, ...] = field(default=())  # e.g. ("colour=red", "feature=padded")

    @property
    def n_correct(self) -> int:
        return sum(self.correct.values())

    @property
    def coverage(self) -> float:
        return self.n_correct / len(self.correct)

    @property
    def faithful(self) -> bool:
        """Every slot correct and nothing unsupported."""
        return self.n_correct == len(self.correct) and not self.unsupported


def check_item(product: Product, text: str) -> ItemFaithfulness:
    """Compare ``text`` with ``product``'s attributes (see the module docstring).

    Example:
        >>> r = check_item(product, "A blue oak lamp, dimmable and foldable. Great value.")
        >>> r.correct["colour"], r.unsupported  # doctest: +SKIP
    """
    found = {
        "category": _find(list(CATEGORIES), text),
        "material": _find(MATERIALS, text),
        "colour": _find(COLOURS, text),
        "price": _price_bands(text),
    }
    truth = {"category": product.category, "material": product.material}
    truth |= {"colour": product.colour, "price": product.price}
    correct = {slot: truth[slot] in found[slot] for slot in truth}
    unsupported = [f"{slot}={v}" for slot in truth for v in sorted(found[slot] - {truth[slot]})]
    feats = _find(FEATURES, text)
    for i, f in enumerate(product.features, 1):
        correct[f"feature_{i}"] = f in feats
    unsupported += [f"feature={f}" for f in sorted(feats - set(product.features))]
    return ItemFaithfulness(correct, tuple(unsupported))


@dataclass(frozen=True)
class FaithfulnessReport:
    """Faithfulness over a set of descriptions, with 95 % Wilson intervals."""

    n_items: int
    coverage: float  # share of slots mentioned correctly (pooled over items)
    coverage_ci: tuple[float, float]
    unsupported_rate: float  # share of items with ≥ 1 invented or contradicted attribute
    unsupported_ci: tuple[float, float]
    faithful_rate: float  # share of items fully faithful
    faithful_ci: tuple[float, float]
    unsupported_per_item: float
    slot_coverage: dict[str, float]

    def as_row(self) -> dict[str, float]:
        return {
            "coverage": self.coverage,
            "unsupported_rate": self.unsupported_rate,
            "faithful_rate": self.faithful_rate,
        }


def evaluate(products: Sequence[Product], texts: Sequence[str]) -> FaithfulnessReport:
    """Aggregate :func:`check_item` over pairs of products and descriptions."""
    if len(products) != len(texts) or not products:
        raise ValueError(
            f"need equally many products and texts (≥ 1): {len(products)}, {len(texts)}"
        )
    items = [check_item(p, t) for p, t in zip(products, texts, strict=True)]
    n = len(items)
    slots = n * len(SLOTS)
    n_correct = sum(r.n_correct for r in items)
    n_unsup = sum(bool(r.unsupported) for r in items)
    n_faithful = sum(r.faithful for r in items)
    return FaithfulnessReport(
        n_items=n,
        coverage=n_correct / slots,
        coverage_ci=wilson_interval(n_correct, slots),
        unsupported_rate=n_unsup / n,
        unsupported_ci=wilson_interval(n_unsup, n),
        faithful_rate=n_faithful / n,
        faithful_ci=wilson_interval(n_faithful, n),
        unsupported_per_item=sum(len(r.unsupported) for r in items) / n,
        slot_coverage={s: sum(r.correct[s] for r in items) / n for s in SLOTS},
    )


# -- BLEU and self-BLEU ---------------------------------------------------------------


def _ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def sentence_bleu(
    hypothesis: Sequence[str], references: Sequence[Sequence[str]], max_n: int = 4
) -> float:
    """BLEU of one tokenised hypothesis against tokenised references, in [0, 1].

    Modified n-gram precisions p_n (counts clipped by the largest count in any
    reference), geometric mean over n = 1..max_n, times the brevity penalty
    exp(min(0, 1 - r / c)) with r the reference length closest to c. Precisions for
    n > 1 are add-one smoothed (Lin & Och 2004) so a short sentence does not score 0.

    References:
        Papineni et al. 2002, Eqs. 1–2.
    """
    if not references:
        raise ValueError("need at least one reference")
    c = len(hypothesis)
    if c == 0:
        return 0.0
    log_p = 0.0
    for n in range(1, max_n + 1):
        hyp = _ngram_counts(hypothesis, n)
        max_ref: Counter = Counter()
        for ref in references:
            for g, k in _ngram_counts(ref, n).items():
                max_ref[g] = max(max_ref[g], k)
        clipped = sum(min(k, max_ref[g]) for g, k in hyp.items())
        total = sum(hyp.values())
        if n == 1:
            if clipped == 0:
                return 0.0
            log_p += math.log(clipped / total)
        else:
            log_p += math.log((clipped + 1) / (total + 1))
    r = min((len(ref) for ref in references), key=lambda L: (abs(L - c), L))
    bp = min(0.0, 1 - r / c)
    return math.exp(bp + log_p / max_n)


def self_bleu(texts: Sequence[str], max_n: int = 4, max_refs: int | None = None) -> float:
    """Mean BLEU of each text against the others (word tokens, lower-cased).

    Args:
        texts: at least two texts.
        max_refs: use only the first ``max_refs`` other texts as references (speed).
    """
    if len(texts) < 2:
        raise ValueError("self-BLEU needs at least two texts")
    toks = [t.lower().split() for t in texts]
    scores = []
    for i, hyp in enumerate(toks):
        refs = [r for j, r in enumerate(toks) if j != i][:max_refs]
        scores.append(sentence_bleu(hyp, refs, max_n))
    return sum(scores) / len(scores)
