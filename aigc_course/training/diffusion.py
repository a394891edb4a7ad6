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


def ema_decay(decay: float, step: int) -> float:
    """The decay used at update ``step`` (0-based): ``min(decay, (1 + step) / (10 + step))``.

    Without this warm-up an average that starts from the initial weights keeps a share
    ``decay ** steps`` of them: after 800 steps at 0.999 that is 45 % of an untrained
    network, and the averaged model samples noise. The warm-up makes the early average
    follow the weights closely and lengthens its memory as training goes on (the
    ``num_updates`` rule of TensorFlow's ``ExponentialMovingAverage``).
    """
    return min(decay, (1.0 + step) / (10.0 + step))


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
            :func:`ema_decay` ``(cfg.ema, step)`` (ignored when ``cfg.ema`` is None).
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
            ema_update(ema_model, model, ema_decay(cfg.ema, i))
        return {"loss": loss.item(), "lr": lr}

    models = {"model": model} if ema_model is None else {"model": model, "ema": ema_model}
    hist = run_loop(step, cfg, models=models, callbacks=callbacks, history=history)
    model.eval()
    if ema_model is not None:
        ema_model.eval()
    return hist


# ----------------------------------------------------------------------------- ring toy

RING_EVAL_N = 2000  # samples scored per model, as the GAN ring experiment scores
RING_EVAL_SEED = 10_000  # + seed: the GAN ring experiment's evaluation-noise seeds


def ring_train_config(objective: str, steps: int, seed: int = 0) -> DiffusionTrainConfig:
    """The course's settings for a 2-D denoiser on the 8-Gaussian ring."""
    return DiffusionTrainConfig(
        steps=steps,
        batch_size=256,
        lr=2e-3,
        seed=seed,
        objective=objective,
        schedule="cosine",
        ema=0.995,
        warmup=50,
    )


def train_ring_diffusion(
    objective: str,
    seed: int,
    steps: int,
    *,
    sigma: float = 0.05,
    n_data: int = 20_000,
    hidden: int = 128,
    n_layers: int = 3,
    callbacks: Sequence[Callback] = (),
) -> dict:
    """Train an MLP denoiser (on the CPU) on the 8-Gaussian ring of chapter 01.

    The data are the GAN ring experiment's: ``sample_ring(20_000, sigma=0.05, seed=seed)``;
    the model is :class:`~aigc_course.models.diffusion_mlp.DiffusionMLP` initialised with
    ``torch.manual_seed(seed)``; settings :func:`ring_train_config`.

    Args:
        objective: ``"flow"`` (velocity, t in [0, 1]) or ``"eps"`` (noise, T = 1000, cosine).
        seed: seeds the data, the initialisation and the training noise.
        steps: optimisation steps.

    Returns:
        ``model`` (the trained weights), ``ema`` (their moving average, the one to sample
        with), ``history``, ``x`` (the training data) and ``config``.
    """
    from ..metrics.image import sample_ring
    from ..models.diffusion_mlp import DiffusionMLP, DiffusionMLPConfig

    cfg = ring_train_config(objective, steps, seed)
    torch.manual_seed(seed)
    config = DiffusionMLPConfig(
        data_dim=2,
        hidden=hidden,
        n_layers=n_layers,
        t_max=float(cfg.T) if objective == "eps" else 1.0,
    )
    model = DiffusionMLP(config)
    ema = make_ema(model)
    x = sample_ring(n_data, sigma=sigma, seed=seed)
    hist = fit_diffusion(model, x, cfg, callbacks=callbacks, ema_model=ema)
    return {"model": model, "ema": ema, "history": hist, "x": x, "config": config, "train": cfg}


def ring_sample(
    model: torch.nn.Module, objective: str, method: str, steps: int, seed: int, n: int = RING_EVAL_N
) -> torch.Tensor:
    """(n, 2) samples of a ring model with the evaluation noise of ``seed``
    (``RING_EVAL_SEED + seed``), on the CPU."""
    from ..diffusion.samplers import sample_eps, sample_flow
    from ..diffusion.schedule import get_schedule

    g = torch.Generator().manual_seed(RING_EVAL_SEED + seed)
    if objective == "flow":
        x = sample_flow(model, (n, 2), steps=steps, method=method, generator=g)
    else:
        cfg = ring_train_config("eps", 1)
        schedule = get_schedule(cfg.schedule, cfg.T)
        x = sample_eps(model, (n, 2), schedule, steps=steps, method=method, generator=g)
    return x.float().cpu()
