"""Decoding: pure functions from next-token logits to token ids, and one ``generate``.

Each strategy takes logits ``(B, V)`` (and a ``torch.Generator`` where it draws), so it
can be tested on its own and reused by every model family:

- :func:`greedy` — the arg-max, deterministic;
- temperature — divide the logits by T before the softmax (T → 0 is greedy, T = 1 the
  model's own distribution, T > 1 flatter);
- :func:`top_k_filter` — keep the k largest logits (Fan et al. 2018);
- :func:`top_p_filter` — keep the smallest set of tokens whose probability reaches p
  (nucleus sampling, Holtzman et al. 2020);
- :func:`repetition_penalty` — a logits processor that makes tokens already present less
  likely (Keskar et al. 2019, as ``transformers`` does it).

:func:`generate` serves both language-model families through their ``step(idx, state)``
method (a KV cache for the Transformer, (h, c) for the LSTM), or recomputes the whole
window each step with ``use_cache=False`` (the reference the cache is tested against).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import torch

#: A logits processor: ``(ids (B, T), logits (B, V)) -> logits (B, V)``, applied to the
#: next-token logits before sampling (the idea of Hugging Face's ``LogitsProcessor``). A
#: watermark, a banned-token list or an entropy gate is one small processor handed to the
#: one :func:`generate`, not a second sampling loop.
LogitsProcessor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@runtime_checkable
class CausalLM(Protocol):
    """The interface of the course's language models (``CharLSTM``, ``GPT``), which
    :func:`generate`, :func:`~aigc_course.metrics.text.sequence_nll` and
    :func:`~aigc_course.training.lm.save_lm` rely on.

    Attributes:
        recurrent: True if the model carries its whole history in a fixed-size state
            (an LSTM: the prompt is consumed whole, no window limit); False if it reads
            a window of at most ``block_size`` tokens (a Transformer).
        family: the checkpoint family its sidecar records (``aigc_course.loading``).
        block_size: the training context.
    """

    recurrent: bool
    family: str
    block_size: int

    def __call__(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> Any:
        """``(logits (B, T, V), loss or None)``."""

    def step(self, idx: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Consume ``idx`` (B, T) after ``state``: ``(logits (B, T, V), new state)``."""

    def state_length(self, state: Any) -> int:
        """How many tokens ``state`` holds (0 for a recurrent state: no limit)."""


def _check_logits(logits: torch.Tensor) -> None:
    if logits.ndim != 2:
        raise ValueError(f"logits must be (B, V), got shape {tuple(logits.shape)}")


def greedy(logits: torch.Tensor) -> torch.Tensor:
    """(B,) the index of the largest logit in each row of ``logits`` (B, V)."""
    _check_logits(logits)
    return logits.argmax(dim=-1)


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Set every logit outside the k largest of its row to -inf.

    Ties at the k-th value are all kept (so at least k survive). k ≥ V keeps all.
    """
    _check_logits(logits)
    if k < 1:
        raise ValueError(f"top_k must be ≥ 1, got {k}")
    if k >= logits.size(-1):
        return logits
    kth = torch.topk(logits, k, dim=-1).values[:, -1:]  # (B, 1) the k-th largest
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filter: keep the most probable tokens until their mass reaches ``p``.

    A token is kept if the probability mass of the tokens strictly more probable than
    it is below ``p``; the most probable token is always kept. ``p = 1`` keeps all.

    Ties: tokens tied with the least probable kept token are all kept, so the result
    does not depend on how a sort orders equal values (as :func:`top_k_filter` keeps
    every tie at the k-th value). Hugging Face's ``TopPLogitsWarper`` keeps only as many
    of such tied tokens as its ascending sort happens to put inside the nucleus; without
    ties the two agree (``tests/test_sampling.py`` checks both cases).

    References:
        Holtzman et al. 2020, "The Curious Case of Neural Text Degeneration", Eq. 2.
    """
    _check_logits(logits)
    if not 0.0 < p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {p}")
    if p >= 1.0:
        return logits
    sorted_logits, _ = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.float().softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs  # mass of the tokens sorted before
    n_keep = (mass_before < p).sum(dim=-1, keepdim=True)  # ≥ 1: the first has mass 0
    threshold = sorted_logits.gather(-1, n_keep - 1)  # the least probable kept logit
    return logits.masked_fill(logits < threshold, float("-inf"))


def repetition_penalty(penalty: float) -> LogitsProcessor:
    """A logits processor that penalises every token already in ``ids``.

    The logit of a token present in its row is divided by ``penalty`` if it is positive
    and multiplied by it if it is negative, so with ``penalty`` > 1 the token always
    becomes less likely (dividing a negative logit would make it *more* likely). This is
    the rule of CTRL (Keskar et al. 2019) as ``transformers``' ``repetition_penalty``
    applies it; ``tests/test_sampling.py`` checks it against
    ``RepetitionPenaltyLogitsProcessor``.

    Args:
        penalty: > 0; 1 changes nothing, > 1 discourages repeats.

    Returns:
        ``processor(ids (B, T), logits (B, V)) -> logits (B, V)``.

    References:
        Keskar et al. 2019, "CTRL", Sec. 4.1 (penalised sampling).
    """
    if penalty <= 0:
        raise ValueError(f"penalty must be > 0, got {penalty}")

    def processor(ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        _check_logits(logits)
        seen = logits.gather(-1, ids)  # (B, T) the logits of the tokens already present
        seen = torch.where(seen > 0, seen / penalty, seen * penalty)
        return logits.scatter(-1, ids, seen)

    return processor


def sample_next(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw one token per row.

    Args:
        logits: (B, V) next-token logits.
        temperature: ≥ 0; 0 means greedy (no randomness, ``generator`` unused).
        top_k: keep only the k most likely tokens (None: all).
        top_p: nucleus threshold in (0, 1] (None: no filter).
        generator: the source of randomness (same generator state → same ids). Its
            device is where the draw happens.

    Returns:
        (B,) long token ids.
    """
    _check_logits(logits)
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")
    if temperature == 0:
        return greedy(logits)
    logits = logits.float() / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    probs = logits.softmax(dim=-1)
    device = generator.device if generator is not None else probs.device
    ids = torch.multinomial(probs.to(device), 1, generator=generator)  # (B, 1)
    return ids.squeeze(-1).to(logits.device)


@torch.no_grad()
def generate(
    model: torch.nn.Module,
    idx: torch.Tensor,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    use_cache: bool = True,
    logits_processors: Sequence[LogitsProcessor] = (),
) -> torch.Tensor:
    """Continue ``idx`` by ``max_new_tokens`` sampled tokens.

    Args:
        model: a course LM (:class:`CausalLM`); the tokens are generated on its device.
        idx: (B, T0) prompt ids, T0 ≥ 1 (moved to the model's device).
        max_new_tokens: how many tokens to add.
        temperature, top_k, top_p, generator: see :func:`sample_next`.
        use_cache: reuse the model's state (KV cache / LSTM state) instead of recomputing
            the last ``block_size`` tokens at every step. Both give the same ids; the
            cache is faster. A Transformer whose cache would exceed ``block_size``
            recomputes the sliding window from then on (learned positions end there).
        logits_processors: applied in order to the next-token logits (fp32) with the ids
            so far, before temperature and filtering.

    Returns:
        (B, T0 + max_new_tokens) on the model's device: the prompt followed by the new
        tokens.
    """
    from .device import model_device

    if idx.ndim != 2 or idx.size(1) < 1:
        raise ValueError(f"idx must be (B, T) with T ≥ 1, got shape {tuple(idx.shape)}")
    if not isinstance(model, CausalLM):
        raise TypeError(f"{type(model).__name__} does not follow the CausalLM interface")
    idx = idx.to(model_device(model))
    was_training = model.training
    model.eval()
    block = model.block_size
    recurrent = model.recurrent  # an RNN state has no window limit
    state = None
    windowed = False  # set once a Transformer's cache would outgrow block_size
    pending = idx if recurrent else idx[:, -block:]  # what the next call must consume
    for _ in range(max_new_tokens):
        if use_cache and not windowed:
            windowed = not recurrent and model.state_length(state) + pending.size(1) > block
        if not use_cache or windowed:
            logits, _ = model(idx if recurrent else idx[:, -block:])
        else:
            logits, state = model.step(pending, state)
        next_logits = logits[:, -1, :].float()
        for processor in logits_processors:
            next_logits = processor(idx, next_logits)
        nxt = sample_next(
            next_logits,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            generator=generator,
        )
        idx = torch.cat([idx, nxt[:, None]], dim=1)
        pending = nxt[:, None]
    model.train(was_training)
    return idx
