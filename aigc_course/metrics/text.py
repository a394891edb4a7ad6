"""Text metrics: bits per character of a language model, and diversity of samples.

Bits per character (bpc) is the average negative log₂-likelihood a model assigns to
each next character of a held-out text; lower is better, log₂(V) is a uniform guess.
It equals the mean cross-entropy in nats divided by ln 2.

Diversity measures judge *samples*, which likelihood cannot: distinct-n (the share of
n-grams that are unique, Li et al. 2016), repetition (the share of n-grams that repeat
an earlier one in the same sample), and novelty (the share of n-grams not found in the
training text: near 0 means the model is copying its corpus).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

LN2 = math.log(2.0)


def nats_to_bits(nats: float) -> float:
    """Convert a cross-entropy in nats to bits (divide by ln 2)."""
    return nats / LN2


def sliding_windows(n: int, context: int) -> list[tuple[int, int, int]]:
    """The windows that score every next token of an ``n``-token text once.

    Windows of ``context`` input tokens overlap by half; each scores the targets not
    scored before, so every position after the first window has at least
    ``context // 2`` tokens of history.

    Returns:
        ``(start, end, first)`` triples: inputs ``ids[start:end]`` predict targets
        ``ids[start + 1 : end + 1]``, of which positions ``first .. end - 1`` (in the
        numbering of the ``n - 1`` next-token predictions) are this window's to keep.
    """
    if n < 2:
        raise ValueError("need at least two tokens to score one")
    if context < 2:
        raise ValueError(f"context must be ≥ 2, got {context}")
    half = context // 2
    jobs: list[tuple[int, int, int]] = []
    scored_to, s = 0, 0
    while scored_to < n - 1:
        e = min(s + context, n - 1)
        jobs.append((s, e, scored_to))
        scored_to, s = e, max(e - half, 0)
    return jobs


PositionFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@torch.no_grad()
def score_positions(
    model: torch.nn.Module,
    ids: torch.Tensor,
    fn: PositionFn,
    *,
    context: int | None = None,
    batch_size: int = 32,
) -> torch.Tensor:
    """Apply ``fn(logits, targets)`` to every next-token prediction of ``ids``, in the
    :func:`sliding_windows`, on the model's device (the device follows the model).

    Args:
        model: ``model(idx) -> (logits, _)``, logits (B, T, V).
        ids: (N,) token ids, N ≥ 2.
        fn: maps fp32 logits (B, T, V) and targets (B, T) to per-position values (B, T).
        context: window length (default ``model.block_size``).
        batch_size: windows per forward pass.

    Returns:
        (N - 1,) float tensor on the CPU: entry t is ``fn`` at the prediction of
        ``ids[t + 1]`` from ``ids[≤ t]``.
    """
    from ..device import model_device

    ids = torch.as_tensor(ids, dtype=torch.long).flatten()
    n = ids.numel()
    jobs = sliding_windows(n, int(context or model.block_size))
    device = model_device(model)
    was_training = model.training
    model.eval()
    out = torch.empty(n - 1)
    for b in range(0, len(jobs), batch_size):
        chunk = jobs[b : b + batch_size]
        width = max(e - s for s, e, _ in chunk)
        x = torch.zeros(len(chunk), width, dtype=torch.long)
        y = torch.zeros(len(chunk), width, dtype=torch.long)
        for j, (s, e, _) in enumerate(chunk):
            x[j, : e - s] = ids[s:e]
            y[j, : e - s] = ids[s + 1 : e + 1]
        logits, _ = model(x.to(device))  # (B, width, V)
        values = fn(logits.float(), y.to(device)).float().cpu()  # (B, width)
        for j, (s, e, first) in enumerate(chunk):
            out[first:e] = values[j, first - s : e - s]
    model.train(was_training)
    return out


def _nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")


def sequence_nll(
    model: torch.nn.Module,
    ids: torch.Tensor,
    *,
    context: int | None = None,
    batch_size: int = 32,
) -> torch.Tensor:
    """Negative log-likelihood (nats) of every token of ``ids`` after the first.

    Scored in :func:`sliding_windows` (each position once, with at least ``context // 2``
    tokens of history except at the very start), on the model's device. Deterministic
    and covers the whole text, unlike averaging random windows.

    Args:
        model: ``model(idx) -> (logits, _)``, logits (B, T, V).
        ids: (N,) token ids, N ≥ 2.
        context: window length (default ``model.block_size``).
        batch_size: windows per forward pass.

    Returns:
        (N - 1,) float tensor: entry t is -ln p(ids[t + 1] | ids[≤ t]) (on the CPU).
    """
    return score_positions(model, ids, _nll, context=context, batch_size=batch_size)


def bits_per_char(
    model: torch.nn.Module,
    ids: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    context: int | None = None,
    batch_size: int = 32,
) -> float:
    """Mean bits per character of ``ids`` under ``model`` (see :func:`sequence_nll`).

    Args:
        mask: (N,) bool, False at positions that must not be scored as targets (for
            example characters the tokenizer had never seen); None scores all.
    """
    nll = sequence_nll(model, ids, context=context, batch_size=batch_size)
    if mask is not None:
        keep = torch.as_tensor(mask, dtype=torch.bool).flatten()[1:]
        nll = nll[keep]
    if nll.numel() == 0:
        raise ValueError("no position left to score")
    return nats_to_bits(nll.mean().item())


def validation_bits_per_char(
    model: torch.nn.Module, data, *, context: int | None = None, batch_size: int = 32
) -> float:
    """The course's evaluation protocol for a text model: bits/char over the *whole*
    validation split (``data.val_ids`` of a :class:`~aigc_course.data.text.TextData`),
    scored once in :func:`sliding_windows` of ``context`` characters (default the
    model's ``block_size``), on the model's device."""
    return bits_per_char(model, data.val_ids, context=context, batch_size=batch_size)


def _ngrams(seq: Sequence, n: int) -> list[tuple]:
    return [tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)]


def _units(text: str, unit: str) -> list[str]:
    if unit == "char":
        return list(text)
    if unit == "word":
        return text.split()
    raise ValueError(f"unit must be 'char' or 'word', got {unit!r}")


def distinct_n(texts: Iterable[str], n: int = 2, unit: str = "word") -> float:
    """Distinct unique n-grams / all n-grams, pooled over ``texts`` (Li et al. 2016).

    1.0: no n-gram repeats; near 0: the samples say the same thing again and again.
    """
    grams = [g for t in texts for g in _ngrams(_units(t, unit), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def repetition_rate(text: str, n: int = 4, unit: str = "word") -> float:
    """Share of a text's n-grams that already occurred earlier in the same text."""
    grams = _ngrams(_units(text, unit), n)
    if not grams:
        return 0.0
    seen: set[tuple] = set()
    repeats = 0
    for g in grams:
        repeats += g in seen
        seen.add(g)
    return repeats / len(grams)


def novelty(texts: Iterable[str], reference: str, n: int = 8) -> float:
    """Share of the character n-grams of ``texts`` that do not occur in ``reference``.

    With ``reference`` the training text, this measures copying: 0 means every n-gram
    of the samples was seen in training.
    """
    ref = {reference[i : i + n] for i in range(len(reference) - n + 1)}
    grams = [t[i : i + n] for t in texts for i in range(len(t) - n + 1)]
    return sum(g not in ref for g in grams) / len(grams) if grams else 0.0


def verbatim_overlap(text: str, reference: str, min_len: int = 32) -> np.ndarray:
    """Which characters of ``text`` lie inside a string of at least ``min_len``
    characters that also occurs verbatim in ``reference`` (for example the training text).

    A character is covered when some window ``text[i : i + min_len]`` containing it is a
    substring of ``reference`` (every longer shared string contains such a window). The
    mean of the mask is the *overlap rate*: the share of an evaluation text a model could
    predict by copying its training text.

    Returns:
        (len(text),) bool array.
    """
    if min_len < 1:
        raise ValueError(f"min_len must be ≥ 1, got {min_len}")
    seen = {reference[j : j + min_len] for j in range(len(reference) - min_len + 1)}
    covered = np.zeros(len(text), dtype=bool)
    diff = np.zeros(len(text) + 1, dtype=np.int64)  # +1 at a match's start, -1 after its end
    for i in range(len(text) - min_len + 1):
        if text[i : i + min_len] in seen:
            diff[i] += 1
            diff[i + min_len] -= 1
    covered[:] = np.cumsum(diff[:-1]) > 0
    return covered


def paired_block_bootstrap(
    a: Sequence[float] | torch.Tensor,
    b: Sequence[float] | torch.Tensor,
    *,
    block: int = 1000,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of ``a - b`` and a bootstrap confidence interval for it.

    ``a`` and ``b`` are per-character losses of two models on the *same* text (for
    example bits of each character). Neighbouring characters are not independent (a
    passage a model knows is easy for many characters in a row), so the text is cut
    into consecutive blocks of ``block`` characters and whole blocks are resampled
    (the moving-block idea of Künsch 1989, with non-overlapping blocks).

    Returns:
        (mean difference, lower, upper): a difference is clear when the interval
        excludes 0.
    """
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"need two 1-D loss sequences of equal length (the same text scored by both "
            f"models); got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.numel() < 2 * block:
        raise ValueError(
            f"{a.numel()} values make fewer than 2 blocks of {block}; pass a smaller block"
        )
    diff = a - b
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    n_blocks = diff.numel() // block
    sums = diff[: n_blocks * block].view(n_blocks, block).sum(1)
    g = torch.Generator().manual_seed(seed)
    picks = torch.randint(n_blocks, (n_boot, n_blocks), generator=g)
    means = sums[picks].sum(1) / (n_blocks * block)
    lo, hi = torch.quantile(
        means, torch.tensor([(1 - confidence) / 2, (1 + confidence) / 2], dtype=torch.float64)
    )
    return diff.mean().item(), lo.item(), hi.item()
