"""Training diffusion (noise-prediction) and flow-matching models on the one contract.

:func:`fit_diffusion` serves any data shape (2-D points of the ring toy and MNIST images
alike): each step draws a batch (a fresh seeded permutation every pass over the data),
computes :func:`aigc_course.diffusion.eps_loss` or :func:`~aigc_course.diffusion.flow_loss`
under the precision policy, takes an AdamW step (optionally after a linear warm-up of the
learning rate, with gradient-norm clipping) and then updates an exponential moving average
(EMA) of the weights, the copy that samples best.

References:
    Ho et al. 2020, Algorithm 1 and Sec. 4 (EMA of the weights); Lipman et al. 2023;
    Ho & Salimans 2022, Algorithm 1 (label dropout); Loshchilov & Hutter 2019 (AdamW).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..config import ConfigError
from ..device import Precision, model_device
from ..diffusion.losses import T_SAMPLERS, eps_loss, flow_loss
from ..diffusion.schedule import SCHEDULES, get_schedule
from .core import Callback, History, TrainConfig, resident, run_loop

OBJECTIVES = ("flow", "eps")


@dataclass(frozen=True)
class DiffusionTrainConfig(TrainConfig):
    """How a diffusion or flow model is trained (``steps``, ``batch_size``, ``lr``,
    ``seed``, ``max_seconds`` from :class:`~aigc_course.training.core.TrainConfig`).

    Attributes:
        objective: ``"flow"`` (velocity regression on the straight path) or ``"eps"``
            (noise prediction, DDPM's L_simple).
        T: number of noising steps of the eps objective's schedule.
        schedule: ``"cosine"`` or ``"linear"`` (eps objective).
        p_uncond: probability of replacing a label by the null label (classifier-free
            guidance training); needs ``n_classes``.
        n_classes: number of classes of a conditional model (its null label).
        ema: decay of the weights' moving average (None: no EMA).
        grad_clip: gradient-norm clip (None: off).
        weight_decay: AdamW's decoupled weight decay.
        warmup: steps of linear learning-rate warm-up from 0 (0: none).
        t_sampler: ``"uniform"`` or ``"logit_normal"`` times (flow objective).
    """

    objective: str = "flow"
    T: int = 1000
    schedule: str = "cosine"
    p_uncond: float = 0.0
    n_classes: int | None = None
    ema: float | None = 0.999
    grad_clip: float | None = 1.0
    weight_decay: float = 0.0
    warmup: int = 0
    t_sampler: str = "uniform"

    def __post_init__(self) -> None:
        try:
            super().__post_init__()
        except ValueError as err:
            raise ConfigError(str(err)) from None
        problems = []
        if self.objective not in OBJECTIVES:
            problems.append(f"objective={self.objective!r} is not one of {OBJECTIVES}")
        if self.T < 1:
            problems.append(f"T must be >= 1, got {self.T}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule={self.schedule!r} is not one of {SCHEDULES}")
        if not 0.0 <= self.p_uncond < 1.0:
            problems.append(f"p_uncond must be in [0, 1), got {self.p_uncond}")
        if self.p_uncond > 0 and self.n_classes is None:
            problems.append("p_uncond > 0 needs n_classes (the null label's index)")
        if self.n_classes is not None and self.n_classes < 1:
            problems.append(f"n_classes must be >= 1 or None, got {self.n_classes}")
        if self.ema is not None and not 0.0 < self.ema < 1.0:
            problems.append(f"ema must be in (0, 1) or None, got {self.ema}")
        if self.grad_clip is not None and self.grad_clip <= 0:
            problems.append(f"grad_clip must be > 0 or None, got {self.grad_clip}")
        if self.weight_decay < 0:
            problems.append(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.warmup < 0:
            problems.append(f"warmup must be >= 0, got {self.warmup}")
        if self.t_sampler not in T_SAMPLERS:
            problems.append(f"t_sampler={self.t_sampler!r} is not one of {T_SAMPLERS}")
        if problems:
            raise ConfigError("; ".join(problems))

    @classmethod
    def tiny(cls) -> DiffusionTrainConfig:
        """Seconds on a CPU: tests and smoke mode."""
        return cls(steps=50, batch_size=64, lr=2e-3, ema=None)


def make_ema(model: torch.nn.Module) -> torch.nn.Module:
    """A frozen deep copy of ``model`` (eval mode, no gradients) to hold the EMA weights."""
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


@torch.no_grad()
def ema_update(ema_model: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """``theta_ema <- decay * theta_ema + (1 - decay) * theta`` for every parameter;
    buffers (e.g. normalisation statistics) are copied."""
    for e, p in zip(ema_model.parameters(), model.parameters(), strict=True):
        e.lerp_(p.detach(), 1.0 - decay)
    for e, b in zip(ema_model.buffers(), model.buffers(), strict=True):
        e.copy_(b)


def fit_diffusion(
    model: torch.nn.Module,
    x: torch.Tensor,
    cfg: DiffusionTrainConfig,
    labels: torch.Tensor | None = None,
    callbacks: Sequence[Callback] = (),
    ema_model: torch.nn.Module | None = None,
    *,
    history: History | None = None,
) -> History:
    """Train ``model`` in place on data ``x`` with the eps or the flow objective.

    Args:
        model: follows the contract ``model(x, t, labels)``; already on its device.
        x: (N, ...) training data (any trailing shape); moved to the model's device once.
        cfg: the :class:`DiffusionTrainConfig`.
        labels: (N,) class labels for a conditional model, or None.
        callbacks: progress, evaluation, snapshots, checkpoints (off the clock).
        ema_model: from :func:`make_ema`; updated after every step with decay
            ``cfg.ema`` (ignored when ``cfg.ema`` is None).
        history: continue this history.

    Returns:
        The History: per step ``loss`` and ``lr``.
    """
    device = model_device(model)
    precision = Precision(device)
    x, labels = resident(x, labels, device=device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    g = torch.Generator(device=device).manual_seed(cfg.seed)
    schedule = get_schedule(cfg.schedule, cfg.T) if cfg.objective == "eps" else None
    n = len(x)
    order, pos = None, n

    def step(i: int) -> dict[str, float]:
        nonlocal order, pos
        if pos + cfg.batch_size > n:  # a new pass over the data
            order, pos = torch.randperm(n, generator=g, device=device), 0
        idx = order[pos : pos + cfg.batch_size]
        pos += cfg.batch_size
        lr = cfg.lr * min(1.0, (i + 1) / cfg.warmup) if cfg.warmup else cfg.lr
        for group in opt.param_groups:
            group["lr"] = lr
        yb = None if labels is None else labels[idx]
        with precision.autocast():
            if cfg.objective == "eps":
                loss = eps_loss(model, x[idx], yb, schedule, g, cfg.p_uncond, cfg.n_classes)
            else:
                loss = flow_loss(model, x[idx], yb, g, cfg.p_uncond, cfg.n_classes, cfg.t_sampler)
        precision.step(loss, opt, grad_clip=cfg.grad_clip)
        if ema_model is not None and cfg.ema is not None:
            ema_update(ema_model, model, cfg.ema)
        return {"loss": loss.item(), "lr": lr}

    models = {"model": model} if ema_model is None else {"model": model, "ema": ema_model}
    hist = run_loop(step, cfg, models=models, callbacks=callbacks, history=history)
    model.eval()
    if ema_model is not None:
        ema_model.eval()
    return hist
