"""A plain training loop for the course's language models, and their checkpoints.

The whole token stream is one tensor resident on the device; a batch is ``batch_size``
random windows of ``block_size + 1`` tokens (inputs and the targets shifted by one), as
in nanoGPT. AdamW with weight decay on matrices only, linear warm-up then cosine decay,
gradient clipping, autocast from :func:`aigc_course.device.autocast` (bf16 on CUDA,
plain fp32 on the CPU). ``time_limit`` stops at a wall-clock budget, for comparisons at
equal training time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..checkpoint import load_checkpoint, save_checkpoint
from ..device import autocast, needs_grad_scaler
from ..tokenizer import CharTokenizer


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; the defaults are nanoGPT's char-level recipe."""

    steps: int = 2000
    batch_size: int = 12
    block_size: int = 64
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup: int = 100
    weight_decay: float = 0.1
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_every: int = 0  # 0: only at the end
    eval_batches: int = 20
    seed: int = 0
    time_limit: float | None = None  # seconds; stop early when reached

    @classmethod
    def tiny(cls) -> TrainConfig:
        return cls(steps=30, batch_size=8, block_size=32, lr=3e-3, warmup=5)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class History:
    """What :func:`fit` recorded."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)  # nats, per step
    eval_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)  # nats, random-window estimate
    seconds: float = 0.0
    steps_done: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``lr``, then cosine decay to ``min_lr`` at ``steps``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (cfg.lr - cfg.min_lr)


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
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
    cfg: TrainConfig,
    device: torch.device,
    generator: torch.Generator,
) -> float:
    """Mean loss (nats) over ``cfg.eval_batches`` random windows (nanoGPT's estimate)."""
    was_training = model.training
    model.eval()
    losses = []
    for _ in range(cfg.eval_batches):
        x, y = get_batch(data, cfg.batch_size, cfg.block_size, generator)
        with autocast(device):
            _, loss = model(x, y)
        losses.append(loss.item())
    model.train(was_training)
    return sum(losses) / len(losses)


def fit(
    model: torch.nn.Module,
    train_ids: torch.Tensor,
    cfg: TrainConfig,
    *,
    device: torch.device | str = "cpu",
    val_ids: torch.Tensor | None = None,
    callback: Callable[[int, float, torch.nn.Module], None] | None = None,
    progress: bool = False,
) -> History:
    """Train ``model`` in place on next-token prediction.

    Args:
        model: ``model(x, y) -> (logits, loss)``; moved to ``device`` here.
        train_ids: (N,) token ids of the training text.
        cfg: optimisation settings.
        device: where to train; the token stream is moved there once.
        val_ids: (M,) validation ids for periodic estimates (``cfg.eval_every``).
        callback: called as ``callback(step, loss, model)`` after every step.
        progress: show a tqdm bar.

    Returns:
        The :class:`History` (losses in nats).
    """
    device = torch.device(device)
    model.to(device).train()
    data = torch.as_tensor(train_ids, dtype=torch.long).to(device)
    val = None if val_ids is None else torch.as_tensor(val_ids, dtype=torch.long).to(device)
    gen = torch.Generator().manual_seed(cfg.seed)
    eval_gen = torch.Generator().manual_seed(cfg.seed + 1)
    opt = make_optimizer(model, cfg)
    scaler = torch.amp.GradScaler(device.type) if needs_grad_scaler(device) else None
    hist = History()
    t0 = time.perf_counter()
    bar = tqdm(range(cfg.steps), disable=not progress, desc="train", leave=False)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        x, y = get_batch(data, cfg.batch_size, cfg.block_size, gen)
        with autocast(device):
            _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
        else:
            loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        value = loss.item()
        hist.step.append(step)
        hist.train_loss.append(value)
        if progress:
            bar.set_postfix(loss=f"{value:.3f}")
        if callback is not None:
            callback(step, value, model)
        last = step == cfg.steps - 1
        out_of_time = cfg.time_limit is not None and time.perf_counter() - t0 >= cfg.time_limit
        if val is not None and (
            last or out_of_time or (cfg.eval_every and (step + 1) % cfg.eval_every == 0)
        ):
            hist.eval_step.append(step)
            hist.val_loss.append(estimate_loss(model, val, cfg, device, eval_gen))
        if out_of_time:
            break
    hist.steps_done = len(hist.step)
    hist.seconds = time.perf_counter() - t0
    model.eval()
    return hist


# -- checkpoints of language models ----------------------------------------------------


def save_lm(
    path: str | Path,
    model: torch.nn.Module,
    tokenizer: CharTokenizer,
    meta: dict[str, Any],
    dtype: torch.dtype | None = None,
) -> Path:
    """Save an LM with its tokenizer: ``NAME.safetensors``, ``NAME.json`` (config, the
    tokenizer's vocabulary, and ``meta``) and ``NAME.tokenizer.json``.

    Args:
        dtype: store floating-point weights in this type (``torch.float16`` halves the
            file); :func:`load_lm` casts them back to the model's float32.
    """
    path = Path(path)
    family = "transformer" if hasattr(model, "transformer") else "lstm"
    record = {
        "family": family,
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


def load_lm(
    path: str | Path, device: torch.device | str = "cpu"
) -> tuple[torch.nn.Module, CharTokenizer, dict[str, Any]]:
    """Load ``(model, tokenizer, meta)`` saved by :func:`save_lm` (model in eval mode)."""
    from ..models.rnn_lm import CharLSTM, LSTMConfig
    from ..models.transformer_lm import GPT, GPTConfig

    state, meta = load_checkpoint(path, device=device)
    tokenizer = CharTokenizer.from_dict(meta["tokenizer"])
    if meta.get("family") == "transformer":
        model: torch.nn.Module = GPT(GPTConfig(**meta["config"]))
        state.setdefault("lm_head.weight", state["transformer.wte.weight"])
    else:
        model = CharLSTM(LSTMConfig(**meta["config"]))
    model.load_state_dict(state)
    return model.to(device).eval(), tokenizer, meta
