"""Training objectives: noise prediction (DDPM's L_simple) and flow matching.

Both draw a time per example, noise the batch in closed form and regress the network's
output on a known target with a plain mean squared error. With ``p_uncond > 0`` each
label is replaced by the null label ``n_classes`` with that probability, so one network
learns the conditional and the unconditional model at once (classifier-free guidance).

References:
    Ho et al. 2020, Eq. (14) and Algorithm 1; Lipman et al. 2023, Eq. (23); Liu et al.
    2023, Eq. (1); Esser et al. 2024 (SD3), Sec. 3.1 (logit-normal times); Ho & Salimans
    2022, Algorithm 1 (label dropout).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import ConfigError
from .flow import flow_interpolate, flow_target
from .schedule import NoiseSchedule, q_sample

T_SAMPLERS = ("uniform", "logit_normal")


def drop_labels(
    labels: torch.Tensor | None,
    p_uncond: float,
    n_classes: int | None,
    generator: torch.Generator | None = None,
) -> torch.Tensor | None:
    """Replace each label by the null label ``n_classes`` with probability ``p_uncond``."""
    if labels is None or p_uncond <= 0:
        return labels
    if n_classes is None:
        raise ConfigError("p_uncond > 0 needs n_classes (the null label's index)")
    drop = torch.rand(labels.shape, generator=generator, device=labels.device) < p_uncond
    return torch.where(drop, torch.full_like(labels, n_classes), labels)


def eps_loss(
    model: torch.nn.Module,
    x0: torch.Tensor,
    labels: torch.Tensor | None,
    schedule: NoiseSchedule,
    generator: torch.Generator | None = None,
    p_uncond: float = 0.0,
    n_classes: int | None = None,
) -> torch.Tensor:
    """L_simple: ``E_{t, eps} || eps - eps_theta(x_t, t) ||^2`` with t uniform on 0..T-1.

    Args:
        model: ``model(x_t, t, labels)`` predicting eps; t the timestep as a float.
        x0: (B, ...) clean data.
        labels: (B,) or None.
        schedule: the noise schedule.
        generator: on x0's device, seeds t, eps and the label dropout.

    Returns:
        The scalar mean squared error (float32), averaged over every element.

    References: Ho et al. 2020, Eq. (14), Algorithm 1.
    """
    b = x0.shape[0]
    t = torch.randint(0, schedule.T, (b,), generator=generator, device=x0.device)
    noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    labels = drop_labels(labels, p_uncond, n_classes, generator)
    x_t = q_sample(schedule, x0, t, noise)
    return F.mse_loss(model(x_t, t.to(x0.dtype), labels).float(), noise.float())


def sample_times(
    n: int,
    t_sampler: str = "uniform",
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """(n,) times in (0, 1): uniform, or logit-normal ``sigmoid(N(0, 1))`` (SD3)."""
    if t_sampler == "uniform":
        return torch.rand(n, generator=generator, device=device)
    if t_sampler == "logit_normal":
        return torch.sigmoid(torch.randn(n, generator=generator, device=device))
    raise ConfigError(f"t_sampler={t_sampler!r} is not known; use one of {T_SAMPLERS}")


def flow_loss(
    model: torch.nn.Module,
    x0: torch.Tensor,
    labels: torch.Tensor | None,
    generator: torch.Generator | None = None,
    p_uncond: float = 0.0,
    n_classes: int | None = None,
    t_sampler: str = "uniform",
) -> torch.Tensor:
    """Conditional flow matching: ``E_{t, eps} || (eps - x_0) - v_theta(x_t, t) ||^2``
    on the straight path ``x_t = (1 - t) x_0 + t eps``.

    Args:
        model: ``model(x_t, t, labels)`` predicting the velocity; t in [0, 1].
        x0: (B, ...) clean data.
        labels: (B,) or None.
        generator: on x0's device, seeds t, eps and the label dropout.
        t_sampler: ``"uniform"`` or ``"logit_normal"`` (more weight on middle times).

    Returns:
        The scalar mean squared error (float32).

    References: Lipman et al. 2023, Eq. (23); Liu et al. 2023, Eq. (1).
    """
    t = sample_times(x0.shape[0], t_sampler, generator, x0.device).to(x0.dtype)
    noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    labels = drop_labels(labels, p_uncond, n_classes, generator)
    x_t = flow_interpolate(x0, noise, t)
    return F.mse_loss(model(x_t, t, labels).float(), flow_target(x0, noise).float())
