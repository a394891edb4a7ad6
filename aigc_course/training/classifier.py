"""Training a classifier, on the one training contract (``training.core``).

Two classifiers of the course use it: the MNIST evaluation classifier behind the image
metrics (mini-batches, random shifts of a few pixels, a one-cycle learning rate) and the
small few-label classifiers of the synthetic-data case study (full batch, constant rate).

Example::

    cfg = ClassifierTrainConfig(steps=300, batch_size=128, lr=2e-3, shift=2)
    hist = fit_classifier(model.to(device), x_train, y_train, cfg)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..device import Precision, model_device
from .core import Callback, History, TrainConfig, run_loop

SCHEDULES = ("constant", "onecycle")


@dataclass(frozen=True)
class ClassifierTrainConfig(TrainConfig):
    """AdamW on cross-entropy; a batch as large as the data means full-batch training."""

    steps: int = 300
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.0  # AdamW's decoupled decay; 0 is plain Adam
    schedule: str = "constant"  # or "onecycle" (Smith & Topin 2019), over `steps`
    shift: int = 0  # random translation of the batch by up to ±shift pixels (images)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule={self.schedule!r}; use one of {SCHEDULES}")
        if self.shift < 0:
            raise ValueError(f"shift must be >= 0, got {self.shift}")

    @classmethod
    def tiny(cls) -> ClassifierTrainConfig:
        """Seconds on a CPU: tests and smoke mode."""
        return cls(steps=20, batch_size=32, lr=3e-3)


def random_shift(x: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate a batch of images (B, C, H, W) by one random offset in ±``shift`` pixels,
    filling with zeros (background)."""
    h, w = x.shape[-2:]
    pad = F.pad(x, (shift,) * 4)
    dx, dy = torch.randint(0, 2 * shift + 1, (2,), generator=generator, device=x.device)
    return pad[:, :, int(dy) : int(dy) + h, int(dx) : int(dx) + w]


def fit_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: ClassifierTrainConfig,
    *,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
) -> History:
    """Train ``model`` (logits out) in place on ``(x, y)``, on the device it is on.

    Args:
        model: ``model(x) -> logits (B, n_classes)``, already on its device.
        x: (N, ...) inputs; y: (N,) labels; moved to the model's device once.
        cfg: optimisation settings and the time budget. Mini-batches follow a fresh
            permutation each epoch (a ``torch.Generator`` on the device, seeded by
            ``cfg.seed``); ``batch_size >= N`` trains on the whole set every step.
        callbacks, history: see :func:`aigc_course.training.core.run_loop`.

    Returns:
        The history: ``hist["loss"]`` (mean cross-entropy of each step's batch, nats).
    """
    device = model_device(model)
    precision = Precision(device)
    x, y = x.to(device), y.to(device)
    n = len(x)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = None
    if cfg.schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps)
    full_batch = cfg.batch_size >= n
    order, pos = None, n

    def step(i: int) -> dict[str, float]:
        nonlocal order, pos
        if full_batch:
            xb, yb = x, y
        else:
            if pos >= n:
                order, pos = torch.randperm(n, generator=gen, device=device), 0
            idx = order[pos : pos + cfg.batch_size]
            pos += cfg.batch_size
            xb, yb = x[idx], y[idx]
        if cfg.shift:
            xb = random_shift(xb, cfg.shift, gen)
        with precision.autocast():
            loss = F.cross_entropy(model(xb).float(), yb)
        precision.step(loss, opt)
        if sched is not None:
            sched.step()
        return {"loss": loss.item()}

    hist = run_loop(step, cfg, models={"model": model}, callbacks=callbacks, history=history)
    model.eval()
    return hist


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Share of ``x`` that ``model`` classifies as ``y`` (computed on the model's device)."""
    device = model_device(model)
    was = model.training
    model.eval()
    right = 0
    for i in range(0, len(x), batch_size):
        logits = model(x[i : i + batch_size].to(device))
        right += (logits.argmax(1) == y[i : i + batch_size].to(device)).sum().item()
    model.train(was)
    return right / len(x)
