"""The chorales as token streams for the course's language models.

:func:`prepare_chorale_tokens` reads the corpus (:func:`aigc_course.data.chorales.
load_chorales`), normalises every chorale to C major / A minor (or not), optionally adds
transposed copies of the *training* chorales (augmentation), and writes each split as
one grid-token stream (:func:`aigc_course.music.tokens.grid_stream`). Likelihoods are
reported in **bits per step**: the bits of all tokens of a sixteenth-note step (four
voices, plus the boundary that ends a chorale), a unit that does not depend on how a
step is cut into tokens, so the grid and the event stream can be compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..data.chorales import Chorale, ChoraleData, load_chorales
from ..tokenizer import CharTokenizer
from .keys import normalise_key, transpose
from .tokens import HIGH, LOW, char_tokenizer, grid_stream


@dataclass
class ChoraleTokens:
    """Chorales (after key normalisation) and their grid-token id streams."""

    train: list[Chorale]
    val: list[Chorale]
    test: list[Chorale]
    train_ids: torch.Tensor
    val_ids: torch.Tensor
    test_ids: torch.Tensor
    tokenizer: CharTokenizer
    record: dict[str, Any] = field(default_factory=dict)


def _in_range(c: Chorale) -> bool:
    p = c.pitches[c.pitches > 0]
    return bool(p.size == 0 or (p.min() >= LOW and p.max() <= HIGH))


def augment(chorales: list[Chorale], shifts: tuple[int, ...]) -> list[Chorale]:
    """The chorales plus their transpositions by each of ``shifts`` semitones (copies
    that would leave the vocabulary's pitch range are left out)."""
    out = list(chorales)
    for s in shifts:
        if s == 0:
            continue
        out += [t for t in (transpose(c, s) for c in chorales) if _in_range(t)]
    return out


def prepare_chorale_tokens(
    normalise: bool = True,
    shifts: tuple[int, ...] = (),
    limit: int | None = None,
    data: ChoraleData | None = None,
) -> ChoraleTokens:
    """The corpus, split by chorale, as grid-token streams.

    Args:
        normalise: transpose each chorale to C major / A minor (its estimated key).
        shifts: augmentation: also train on the training chorales transposed by these
            semitones (validation and test are never augmented).
        limit: read only the first ``limit`` corpus files (tests, smoke mode).
        data: the parsed corpus, if already loaded (then ``limit`` is not used).
    """
    data = load_chorales(limit=limit) if data is None else data
    splits = {}
    shifts_applied = {}
    for name, chorales in (("train", data.train), ("val", data.val), ("test", data.test)):
        if normalise:
            pairs = [normalise_key(c) for c in chorales]
            chorales = [c for c, _ in pairs]
            shifts_applied[name] = [s for _, s in pairs]
        splits[name] = chorales
    train = augment(splits["train"], shifts)
    streams = {"train": train, "val": splits["val"], "test": splits["test"]}
    ids = {k: torch.from_numpy(grid_stream(v)) for k, v in streams.items()}
    record = {
        **data.record,
        "normalised_to_c_major_a_minor": normalise,
        "augmentation_shifts": list(shifts),
        "train_chorales_with_augmentation": len(train),
        "tokens": {k: int(v.numel()) for k, v in ids.items()},
        "steps": {k: int(sum(c.steps for c in v)) for k, v in splits.items()},
    }
    return ChoraleTokens(
        splits["train"],
        splits["val"],
        splits["test"],
        ids["train"],
        ids["val"],
        ids["test"],
        char_tokenizer(),
        record,
    )


def steps_in(chorales: list[Chorale]) -> int:
    return int(sum(c.steps for c in chorales))


def bits_per_step(nll_nats: torch.Tensor | np.ndarray, n_steps: int) -> float:
    """Total negative log-likelihood (nats, one value per predicted token) in bits per
    grid step."""
    total = float(torch.as_tensor(nll_nats, dtype=torch.float64).sum())
    return total / math.log(2) / n_steps


def lm_bits_per_step(model: torch.nn.Module, ids: torch.Tensor, n_steps: int, **kw) -> float:
    """Bits per step of a course LM on a stream (every token after the first scored once,
    in :func:`~aigc_course.metrics.text.sequence_nll`'s sliding windows)."""
    from ..metrics.text import sequence_nll

    return bits_per_step(sequence_nll(model, ids, **kw), n_steps)


def ngram_bits_per_step(ngram, ids: torch.Tensor, n_steps: int) -> float:
    """Bits per step of a :class:`~aigc_course.models.ngram.KneserNeyLM` fitted on
    :func:`~aigc_course.music.tokens.ids_to_text` (every token after the first)."""
    from .tokens import ids_to_text

    bits = -ngram.log2_probs(ids_to_text(ids))[1:]
    return float(bits.sum() / n_steps)
