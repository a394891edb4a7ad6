"""Count-based character language models: the baselines every neural model must beat.

- :class:`UnigramLM` — p(x_t) from character frequencies, add-one (Laplace) smoothed.
- :class:`KneserNeyLM` — an order-n model, p(x_t | the previous n-1 characters), with
  interpolated Kneser-Ney smoothing (Kneser & Ney 1995; the interpolated form of Chen &
  Goodman 1999): every order subtracts a discount D from its counts and gives the mass
  it freed to the next lower order, and the lower orders count in how many *different
  contexts* a string occurs, not how often. The lowest order is interpolated with the
  uniform distribution, so no character of the vocabulary has probability zero.

They take text and a vocabulary (a :class:`~aigc_course.tokenizer.CharTokenizer`),
score held-out text in bits per character, and sample. Pure Python and NumPy: fitting
a 6-gram on the 420,000-character default corpus takes a few seconds.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tokenizer import CharTokenizer


class UnigramLM:
    """p(c) = (count(c) + 1) / (N + V): the model that ignores all context."""

    order = 1

    def __init__(self, tokenizer: CharTokenizer) -> None:
        self.tokenizer = tokenizer
        self.probs = np.full(tokenizer.vocab_size, 1.0 / tokenizer.vocab_size)

    def fit(self, text: str) -> UnigramLM:
        counts = np.ones(self.tokenizer.vocab_size)  # add-one
        for ch, n in Counter(text).items():
            if ch in self.tokenizer.stoi:
                counts[self.tokenizer.stoi[ch]] += n
        self.probs = counts / counts.sum()
        return self

    def distribution(self, context: str) -> np.ndarray:
        """(V,) next-character probabilities (the context is ignored)."""
        return self.probs

    def log2_probs(self, text: str) -> np.ndarray:
        """log₂ p of each character of ``text`` (unseen characters: see :meth:`bits_per_char`)."""
        ids, _ = self.tokenizer.encode_with_mask(text, "replace")
        return np.log2(self.probs[ids])

    def bits_per_char(self, text: str) -> float:
        """Mean -log₂ p over the characters of ``text`` that are in the vocabulary."""
        return _mean_bits(self, text)


class KneserNeyLM:
    """Interpolated Kneser-Ney character n-gram model.

    Args:
        tokenizer: fixes the vocabulary V (the uniform floor is 1/V).
        order: n, the number of characters in an n-gram (context = n - 1 characters).
        discount: D for every order; None estimates it per order as n₁ / (n₁ + 2 n₂)
            from the count-of-counts (Ney, Essen & Kneser 1994).

    References:
        Kneser & Ney 1995; Chen & Goodman 1999, Eq. 26 (interpolated Kneser-Ney).
    """

    def __init__(self, tokenizer: CharTokenizer, order: int = 5, discount: float | None = None):
        if order < 1:
            raise ValueError(f"order must be ≥ 1, got {order}")
        self.tokenizer = tokenizer
        self.order = order
        self.fixed_discount = discount
        self.V = tokenizer.vocab_size

    def fit(self, text: str) -> KneserNeyLM:
        """Count the n-grams of ``text``; every character of it must be in the vocabulary
        (build the tokenizer from the training text), so each distribution sums to 1."""
        unseen = sorted(set(text) - set(self.tokenizer.stoi))
        if unseen:
            raise ValueError(
                f"the training text holds {len(unseen)} character(s) outside the vocabulary "
                f"({''.join(unseen[:10])!r}); build the tokenizer from the training text"
            )
        n = self.order
        grams = [
            Counter(text[i : i + k] for i in range(len(text) - k + 1)) for k in range(1, n + 1)
        ]
        # counts[k][h][c]: for the highest order the raw count of h+c (len(h) = k);
        # for lower orders the continuation count N1+(• h c): distinct left extensions
        self.counts: list[dict[str, dict[str, int]]] = []
        self.totals: list[dict[str, int]] = []
        self.types: list[dict[str, int]] = []
        self.discounts: list[float] = []
        for k in range(n):  # context length k
            if k == n - 1:
                source: Counter = grams[k]
            else:
                source = Counter(g[1:] for g in grams[k + 1])
            table: dict[str, dict[str, int]] = defaultdict(dict)
            for g, c in source.items():
                table[g[:-1]][g[-1]] = c
            self.counts.append(dict(table))
            self.totals.append({h: sum(d.values()) for h, d in table.items()})
            self.types.append({h: len(d) for h, d in table.items()})
            if self.fixed_discount is not None:
                self.discounts.append(self.fixed_discount)
            else:
                hist = Counter(source.values())
                n1, n2 = hist.get(1, 0), hist.get(2, 0)
                self.discounts.append(n1 / (n1 + 2 * n2) if n1 + n2 else 0.75)
        return self

    def _interpolate(self, context: str, counts: Callable[[dict[str, int]], Any], p: Any) -> Any:
        """The interpolated Kneser-Ney recursion (Chen & Goodman 1999, Eq. 26), from the
        lowest order up: at context length k,

            p_k(c | h) = max(N_k(h c) - D_k, 0) / N_k(h •) + D_k · T_k(h) / N_k(h •) · p_{k-1}(c)

        with N_k the raw counts at the highest order and the continuation counts below
        it, T_k(h) the number of distinct characters seen after h, and p_{-1} = ``p``
        (uniform). It stops at the first unseen context, keeping the lower order.

        Args:
            counts: maps a context's table ``{char: count}`` to the count(s) wanted: one
                character's (a number, :meth:`prob`) or the vocabulary's (a (V,) array,
                :meth:`distribution`); the arithmetic is the same for both.
            p: the uniform floor, 1/V as a number or a (V,) array.
        """
        for k in range(min(self.order, len(context) + 1)):
            h = context[len(context) - k :] if k else ""
            total = self.totals[k].get(h)
            if not total:
                break  # an unseen context: keep the lower-order estimate
            d = self.discounts[k]
            c = counts(self.counts[k][h])
            p = _positive_part(c - d) / total + d * self.types[k][h] / total * p
        return p

    def prob(self, context: str, ch: str) -> float:
        """p(ch | the last n-1 characters of ``context``): :meth:`distribution`'s entry
        for ``ch``, by the same recursion on one count instead of V."""
        return float(self._interpolate(context, lambda table: table.get(ch, 0), 1.0 / self.V))

    def distribution(self, context: str) -> np.ndarray:
        """(V,) next-character probabilities after ``context`` (they sum to 1)."""
        stoi = self.tokenizer.stoi

        def vector(table: dict[str, int]) -> np.ndarray:
            out = np.zeros(self.V)
            for c, m in table.items():
                out[stoi[c]] = m
            return out

        return self._interpolate(context, vector, np.full(self.V, 1.0 / self.V))

    def log2_probs(self, text: str) -> np.ndarray:
        """log₂ p of each character of ``text`` given the characters before it."""
        return np.array(
            [
                math.log2(self.prob(text[max(0, i - self.order + 1) : i], ch))
                for i, ch in enumerate(text)
            ]
        )

    def bits_per_char(self, text: str) -> float:
        """Mean -log₂ p over the characters of ``text`` that are in the vocabulary
        (unseen characters stay in the context, are not scored, and are counted by
        ``tokenizer.unseen``)."""
        return _mean_bits(self, text)

    def sample(self, prompt: str, n_chars: int, rng: np.random.Generator) -> str:
        """Continue ``prompt`` by ``n_chars`` characters drawn from the model."""
        out = prompt
        for _ in range(n_chars):
            p = self.distribution(out[max(0, len(out) - self.order + 1) :])
            out += self.tokenizer.chars[rng.choice(self.V, p=p)]
        return out


def _positive_part(x: Any) -> Any:
    """max(x, 0) of a number or, elementwise, of an array (a Python float stays one:
    NumPy scalars would make the one-character path several times slower)."""
    return np.maximum(x, 0.0) if isinstance(x, np.ndarray) else max(x, 0.0)


def _mean_bits(model, text: str) -> float:
    seen = np.array([ch in model.tokenizer.stoi for ch in text], dtype=bool)
    if not seen.any():
        raise ValueError("the text holds no character of the vocabulary")
    return float(-model.log2_probs(text)[seen].mean())
