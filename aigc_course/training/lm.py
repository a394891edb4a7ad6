"""The training loop of the course's language models, on the one training contract.

The whole token stream is one tensor resident on the model's device; a batch is
``batch_size`` random windows of ``block_size + 1`` tokens (inputs and the targets shifted
by one), as in nanoGPT. AdamW with weight decay on matrices only, linear warm-up then
cosine decay, gradient clipping, the course's precision policy
(:class:`aigc_course.device.Precision`: bf16 where native, fp16 with a scaler on older
GPUs, fp32 on CPU/MPS). ``max_seconds`` stops at a training-time budget, for comparisons
at equal time; validation runs in an :class:`~aigc_course.training.core.Evaluate`
callback, off the clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import save_checkpoint
from ..device import Precision, autocast, model_device
from ..sampling import CausalLM
from ..tokenizer import CharTokenizer
from .core import Callback, Evaluate, History, TrainConfig, run_loop


@dataclass(frozen=True)
class LMTrainConfig(TrainConfig):
    """Optimisation settings; the defaults are nanoGPT's char-level recipe."""

    steps: int = 2000
    batch_size: int = 12
    lr: float = 1e-3
    block_size: int = 64
    min_lr: float = 1e-4
    warmup: int = 100
    weight_decay: float = 0.1
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_every: int = 0  # 0: only at the end (when validation ids are given)
    eval_batches: int = 20

    @classmethod
    def tiny(cls) -> LMTrainConfig:
        """Seconds on a CPU: tests and smoke mode."""
        return cls(steps=30, batch_size=8, block_size=32, lr=3e-3, warmup=5)


def get_batch(
    data: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows: x (B, T) and y (B, T) = x shifted by one, on ``data``'s device."""
    if data.numel() <= block_size:
        raise ValueError(f"data has {data.numel()} tokens, need more than block_size={block_size}")
    ix = torch.randint(data.numel() - block_size, (batch_size,), generator=generator)
    ix = ix.to(data.device)
    offsets = torch.arange(block_size + 1, device=data.device)
    windows = data[ix[:, None] + offsets]  # (B, T + 1)
    return windows[:, :-1], windows[:, 1:]


def lr_at(step: int, cfg: LMTrainConfig) -> float:
    """Linear warm-up to ``lr``, then cosine decay to ``min_lr`` at ``steps``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (cfg.lr - cfg.min_lr)


def make_optimizer(model: torch.nn.Module, cfg: LMTrainConfig) -> torch.optim.AdamW:
    """AdamW; weight decay on matrices only (not biases, norms' gains, or embeddings'
    duplicates: tied weights are one parameter and appear once)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, cfg.beta2))


@torch.no_grad()
def estimate_loss(
    model: torch.nn.Module,
    data: torch.Tensor,
    cfg: LMTrainConfig,
    generator: torch.Generator,
) -> float:
    """Mean loss (nats) over ``cfg.eval_batches`` random windows (nanoGPT's estimate),
    on the model's device."""
    device = model_device(model)
    was_training = model.training
    model.eval()
    losses = []
    for _ in range(cfg.eval_batches):
        x, y = get_batch(data.to(device), cfg.batch_size, cfg.block_size, generator)
        with autocast(device):
            _, loss = model(x, y)
        losses.append(loss.item())
    model.train(was_training)
    return sum(losses) / len(losses)


def fit_lm(
    model: torch.nn.Module,
    train_ids: torch.Tensor,
    cfg: LMTrainConfig,
    *,
    val_ids: torch.Tensor | None = None,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
) -> History:
    """Train ``model`` in place on next-token prediction, on the device it is on.

    Args:
        model: ``model(x, y) -> (logits, loss)``, already on its device.
        train_ids: (N,) token ids of the training text (moved to the model's device once).
        cfg: optimisation settings and the time budget ``max_seconds``.
        val_ids: (M,) validation ids: ``val_loss`` (nats, random windows) is evaluated
            every ``cfg.eval_every`` steps and at the end, off the clock, into
            ``history.evals``.
        callbacks: progress bar, checkpoints, more evaluations (see ``training.core``).
        history: continue this history.

    Returns:
        The :class:`~aigc_course.training.core.History`: ``hist["loss"]`` (nats per step),
        ``hist.eval_curve("val_loss")``, ``hist.seconds``, ``hist.steps``.
    """
    device = model_device(model)
    precision = Precision(device)
    data = torch.as_tensor(train_ids, dtype=torch.long).to(device)
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = make_optimizer(model, cfg)
    callbacks = list(callbacks)
    if val_ids is not None:
        val = torch.as_tensor(val_ids, dtype=torch.long).to(device)
        eval_gen = torch.Generator().manual_seed(cfg.seed + 1)
        evaluate = Evaluate(
            lambda models: {"val_loss": estimate_loss(models["model"], val, cfg, eval_gen)},
            every=cfg.eval_every,
        )
        callbacks.insert(0, evaluate)

    def step(i: int) -> dict[str, float]:
        for group in opt.param_groups:
            group["lr"] = lr_at(i, cfg)
        x, y = get_batch(data, cfg.batch_size, cfg.block_size, gen)
        with precision.autocast():
            _, loss = model(x, y)
        precision.step(loss, opt, grad_clip=cfg.grad_clip)
        return {"loss": loss.item()}

    hist = run_loop(step, cfg, models={"model": model}, callbacks=callbacks, history=history)
    model.eval()
    return hist


# -- checkpoints of language models ----------------------------------------------------


def save_lm(
    path: str | Path,
    model: CausalLM,
    tokenizer: CharTokenizer,
    meta: dict[str, Any],
    dtype: torch.dtype | None = None,
) -> Path:
    """Save an LM with its tokenizer: ``NAME.safetensors``, ``NAME.json`` (config, the
    tokenizer's vocabulary, and ``meta``) and ``NAME.tokenizer.json``.

    Args:
        dtype: store floating-point weights in this type (``torch.float16`` halves the
            file); :func:`aigc_course.loading.load_pretrained` casts them back to
            float32.
    """
    path = Path(path)
    record = {
        "family": model.family,  # "lstm" or "transformer": see sampling.CausalLM
        "config": model.config.to_dict(),
        "tokenizer": tokenizer.to_dict(),
        **meta,
    }
    state = model.state_dict()
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
        record["stored_dtype"] = str(dtype).removeprefix("torch.")
    out = save_checkpoint(path, state, record)
    tokenizer.save(path.with_name(path.name + ".tokenizer.json"))
    return out
