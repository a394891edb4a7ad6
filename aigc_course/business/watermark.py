"""Provenance: the green-list watermark, as logits processors of the one sampler.

Before each token, the previous token seeds a pseudo-random split of the vocabulary into
a "green" share γ and a "red" rest; δ is added to the green logits, then sampling goes
on as usual (Kirchenbauer et al. 2023, Algorithm 2). Here that bias is a **logits
processor** (:class:`GreenListBias`) handed to :func:`aigc_course.sampling.generate`,
so watermarked text comes from the same sampling loop as any other text::

    wm = watermark_processors(green_lists(V), delta=4.0, entropy_threshold=0.5)
    ids = generate(model, start, 640, generator=gen, logits_processors=wm)

Anyone with the key counts green tokens: without a watermark the count of T scored
tokens is Binomial(T, γ), so

    z = (|s|_G - γ T) / sqrt(T γ (1 - γ))

is about standard normal on ordinary text, and large on watermarked text (Eq. 3).

Low-entropy text (copied attribute words) carries no watermark: a bonus cannot change
a near-certain choice. :class:`EntropyGate` applies the bias only where the model's own
next-token entropy reaches a threshold, and :func:`next_token_entropy` lets a detector
that owns the model score only those positions (Lee et al. 2023, SWEET).

References:
    J. Kirchenbauer, J. Geiping, Y. Wen, J. Katz, I. Miers, T. Goldstein, "A Watermark
    for Large Language Models", ICML 2023 (Algorithm 2, Eq. 3). T. Lee et al., "Who
    Wrote this Code? Watermarking for Code Generation", 2023 (SWEET: watermark and
    score only high-entropy tokens).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats

from ..metrics.text import score_positions
from ..sampling import LogitsProcessor

KEY = 15485863  # the default watermark key (a prime, as in the paper's code)


def green_lists(vocab_size: int, gamma: float = 0.5, key: int = KEY) -> torch.Tensor:
    """(V, V) bool: row p marks the green tokens after token p (a share ``gamma``).

    Each row is a random permutation seeded by ``key`` and p (Kirchenbauer et al.'s
    hash of the previous token); whoever holds ``key`` can rebuild the table.
    """
    if not 0 < gamma < 1:
        raise ValueError(f"gamma must be in (0, 1), got {gamma}")
    k = max(1, round(gamma * vocab_size))
    table = torch.zeros(vocab_size, vocab_size, dtype=torch.bool)
    for p in range(vocab_size):
        g = torch.Generator().manual_seed((key * (p + 1)) % (2**61 - 1))
        table[p, torch.randperm(vocab_size, generator=g)[:k]] = True
    return table


@dataclass(frozen=True, eq=False)
class GreenListBias:
    """Logits processor: add ``delta`` to the green list of each row's last token.

    ``delta = 0`` leaves the logits unchanged (ordinary sampling).
    """

    green: torch.Tensor  # (V, V) bool, from green_lists
    delta: float = 2.0

    def __call__(self, ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        green = self.green.to(logits.device)
        return logits + self.delta * green[ids[:, -1]].to(logits.dtype)


@dataclass(frozen=True, eq=False)
class EntropyGate:
    """Logits processor: apply ``processor`` only to the rows whose next-token entropy
    (nats, of the incoming logits at ``temperature``) reaches ``threshold``; other rows
    pass unchanged. Where the model is sure of the next token, nothing is changed."""

    processor: LogitsProcessor
    threshold: float
    temperature: float = 1.0

    def __call__(self, ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        entropy = token_entropy(logits / max(self.temperature, 1e-6))  # (B,)
        keep = (entropy >= self.threshold)[:, None]
        return torch.where(keep, self.processor(ids, logits), logits)


def watermark_processors(
    green: torch.Tensor,
    delta: float = 2.0,
    *,
    entropy_threshold: float = 0.0,
    temperature: float = 1.0,
) -> list[LogitsProcessor]:
    """The processors that watermark :func:`aigc_course.sampling.generate`'s output.

    Args:
        green: (V, V) bool green lists (:func:`green_lists`).
        delta: the bias added to green logits.
        entropy_threshold: > 0 gates the bias by the model's next-token entropy (nats)
            at ``temperature`` (use the sampling temperature).
    """
    bias = GreenListBias(green, delta)
    if entropy_threshold > 0:
        return [EntropyGate(bias, entropy_threshold, temperature)]
    return [bias]


def token_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of the softmax of ``logits`` along the last dimension."""
    logp = F.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(-1)


def next_token_entropy(
    model: torch.nn.Module, ids: Sequence[int] | torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """(N - 1,) entropy (nats) of the model's distribution for token t + 1 given the
    tokens up to t, scored in :func:`aigc_course.metrics.text.sliding_windows` on the
    model's device: what a detector that owns the model uses to score only the
    positions where the watermark could act."""
    return score_positions(
        model, torch.as_tensor(ids), lambda logits, _: token_entropy(logits / temperature)
    )


@dataclass(frozen=True)
class WatermarkScore:
    n_scored: int
    n_green: int
    z: float
    p_value: float  # one-sided, normal approximation


def watermark_score(
    ids: Sequence[int] | torch.Tensor,
    green: torch.Tensor,
    gamma: float = 0.5,
    mask: torch.Tensor | None = None,
) -> WatermarkScore:
    """z-test for the green-list watermark over the token pairs of ``ids`` (Eq. 3).

    Args:
        mask: (N - 1,) bool, which next tokens to score (e.g. where
            :func:`next_token_entropy` reaches the generation threshold); None: all.
    """
    ids = torch.as_tensor(ids, dtype=torch.long).flatten()
    hits = green[ids[:-1], ids[1:]]  # (N - 1,)
    if mask is not None:
        hits = hits[torch.as_tensor(mask, dtype=torch.bool)[: hits.numel()]]
    t = hits.numel()
    if t < 1:
        raise ValueError("need at least one scored token")
    n_green = int(hits.sum())
    z = (n_green - gamma * t) / math.sqrt(t * gamma * (1 - gamma))
    return WatermarkScore(t, n_green, z, float(stats.norm.sf(z)))


def substitute_words(text: str, fraction: float, vocabulary: Sequence[str], seed: int = 0) -> str:
    """A paraphrase-like edit: replace a ``fraction`` of the words of ``text`` by words
    drawn from ``vocabulary`` (the replacements carry no watermark)."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    words = text.split(" ")
    k = round(fraction * len(words))
    for i in rng.choice(len(words), size=k, replace=False):
        words[i] = vocabulary[rng.integers(len(vocabulary))]
    return " ".join(words)
