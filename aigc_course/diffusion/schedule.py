"""Noise schedules of the Gaussian diffusion (DDPM) forward process and its closed forms.

The forward (noising) chain adds Gaussian noise in ``T`` small steps,

    q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I),     t = 0 .. T-1,

so that, with ``alpha_t = 1 - beta_t`` and ``alpha_bar_t = prod_{s <= t} alpha_s``, any step
is reached from the data in one jump (Ho et al. 2020, Eq. 4):

    q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I).

Timesteps are **0-indexed** exactly as in ``diffusers``: ``alpha_bars[t]`` equals
``DDPMScheduler.alphas_cumprod[t]``; ``t = 0`` is the first noising step (not the data).

References:
    Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models", Eqs. (4), (6)-(7);
    Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models", Eq. (17)
    (the cosine schedule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import ConfigError

SCHEDULES = ("linear", "cosine")


@dataclass(frozen=True)
class NoiseSchedule:
    """The variances ``beta_t`` of the forward chain and the quantities derived from them.

    Attributes:
        betas: (T,) float64, each in (0, 1).
    """

    betas: torch.Tensor

    def __post_init__(self) -> None:
        b = self.betas
        if b.ndim != 1 or len(b) < 1:
            raise ConfigError(f"betas must be a non-empty 1-D tensor, got shape {tuple(b.shape)}")
        if not bool(((b > 0) & (b < 1)).all()):
            raise ConfigError(
                f"every beta must lie in (0, 1); got min {float(b.min()):.3g}, "
                f"max {float(b.max()):.3g}"
            )
        object.__setattr__(self, "betas", b.detach().to("cpu", torch.float64))

    @property
    def T(self) -> int:
        """Number of noising steps."""
        return len(self.betas)

    @property
    def alphas(self) -> torch.Tensor:
        """(T,) ``alpha_t = 1 - beta_t``."""
        return 1.0 - self.betas

    @property
    def alpha_bars(self) -> torch.Tensor:
        """(T,) ``alpha_bar_t = prod_{s<=t} alpha_s`` (diffusers' ``alphas_cumprod``)."""
        return torch.cumprod(self.alphas, dim=0)

    @property
    def snr(self) -> torch.Tensor:
        """(T,) signal-to-noise ratio ``alpha_bar_t / (1 - alpha_bar_t)``, decreasing in t."""
        ab = self.alpha_bars
        return ab / (1.0 - ab)


def linear_schedule(
    T: int = 1000,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
) -> NoiseSchedule:
    """Betas evenly spaced from ``beta_start`` to ``beta_end`` (Ho et al. 2020, Sec. 4;
    diffusers ``beta_schedule="linear"``).

    Raises:
        ConfigError: T < 1 or betas outside (0, 1).
    """
    if T < 1:
        raise ConfigError(f"T must be >= 1, got {T}")
    return NoiseSchedule(torch.linspace(beta_start, beta_end, T, dtype=torch.float64))


def cosine_schedule(
    T: int = 1000,
    s: float = 0.008,
    max_beta: float = 0.999,
) -> NoiseSchedule:
    """The cosine schedule: ``alpha_bar(u) = cos^2((u + s) / (1 + s) * pi / 2)`` at
    ``u = t / T``, betas ``1 - alpha_bar((t+1)/T) / alpha_bar(t/T)`` capped at ``max_beta``
    (Nichol & Dhariwal 2021, Eq. 17; diffusers ``beta_schedule="squaredcos_cap_v2"``).

    Raises:
        ConfigError: T < 1 or betas outside (0, 1).
    """
    if T < 1:
        raise ConfigError(f"T must be >= 1, got {T}")
    u = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=max_beta)
    return NoiseSchedule(betas)


def get_schedule(name: str, T: int = 1000) -> NoiseSchedule:
    """``"linear"`` or ``"cosine"`` with their default settings."""
    if name == "linear":
        return linear_schedule(T)
    if name == "cosine":
        return cosine_schedule(T)
    raise ConfigError(f"schedule={name!r} is not known; use one of {', '.join(SCHEDULES)}")


def _at(values: torch.Tensor, t: torch.Tensor | int, like: torch.Tensor) -> torch.Tensor:
    """``values[t]`` cast to ``like``'s dtype/device, shaped (B, 1, ..., 1) to broadcast."""
    t = torch.as_tensor(t, dtype=torch.long).to("cpu")
    v = values[t].to(device=like.device, dtype=like.dtype)
    if v.ndim == 0:
        return v
    return v.reshape(-1, *([1] * (like.ndim - 1)))


def q_sample(
    schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor
) -> torch.Tensor:
    """Draw ``x_t ~ q(x_t | x_0)`` by ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps``.

    Args:
        schedule: the noise schedule.
        x0: (B, ...) clean data.
        t: (B,) LongTensor of timesteps in 0..T-1.
        noise: eps, same shape as x0, standard normal.

    Returns:
        (B, ...) x_t in x0's dtype and on its device (diffusers ``add_noise``).

    References: Ho et al. 2020, Eq. (4).
    """
    ab = schedule.alpha_bars
    return _at(ab.sqrt(), t, x0) * x0 + _at((1 - ab).sqrt(), t, x0) * noise


def _alpha_bar_prev(schedule: NoiseSchedule) -> torch.Tensor:
    """(T,) ``alpha_bar_{t-1}`` with ``alpha_bar_{-1} = 1`` (no noise before step 0)."""
    ab = schedule.alpha_bars
    return torch.cat([ab.new_ones(1), ab[:-1]])


def q_posterior(
    schedule: NoiseSchedule, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of the reverse posterior ``q(x_{t-1} | x_t, x_0)``.

    ``mean = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) x_0
    + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) x_t`` and
    ``variance = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t`` (``beta~_t``), with
    ``alpha_bar_{-1} = 1``: at ``t = 0`` the mean is x_0 and the variance 0.

    Args:
        x0, x_t: (B, ...) data and noised data.
        t: (B,) LongTensor of timesteps.

    Returns:
        ``(mean, variance)``: mean (B, ...), variance (B, 1, ..., 1), in x_t's dtype.

    References: Ho et al. 2020, Eqs. (6)-(7).
    """
    ab, ab_prev, betas, alphas = (
        schedule.alpha_bars,
        _alpha_bar_prev(schedule),
        schedule.betas,
        schedule.alphas,
    )
    c0 = ab_prev.sqrt() * betas / (1 - ab)
    ct = alphas.sqrt() * (1 - ab_prev) / (1 - ab)
    var = (1 - ab_prev) / (1 - ab) * betas
    mean = _at(c0, t, x_t) * x0 + _at(ct, t, x_t) * x_t
    return mean, _at(var, t, x_t)
