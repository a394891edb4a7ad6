"""Samplers: ancestral DDPM, deterministic DDIM, and Euler / Heun for flow models.

The model contract (every network of the chapter follows it)::

    model(x, t, labels) -> same shape as x

* ``x``: (B, ...) the current state; ``t``: (B,) float tensor. A noise-prediction (eps)
  model receives the integer timestep 0..T-1 as a float; a flow model the time in [0, 1];
* ``labels``: (B,) LongTensor or None. The *null label* of classifier-free guidance is
  ``n_classes``: a conditional model has ``n_classes + 1`` label embeddings.

Everything runs on the model's device (:func:`aigc_course.device.model_device`) under
``torch.no_grad()``. Noise is drawn on the CPU from the given ``torch.Generator`` and then
moved, so the same seed gives the same samples on every device.

References:
    Ho et al. 2020, Algorithm 2 (ancestral sampling); Song, Meng & Ermon 2021a, "Denoising
    Diffusion Implicit Models", Eq. (12); Ho & Salimans 2022, "Classifier-Free Diffusion
    Guidance", Eq. (6); Karras et al. 2022, Algorithm 1 (Heun).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..config import ConfigError
from ..device import model_device
from .flow import euler_step, heun_step
from .schedule import NoiseSchedule, _at

EPS_METHODS = ("ddim", "ddpm")
FLOW_METHODS = ("euler", "heun")

Model = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


def _alpha_bar(schedule: NoiseSchedule, t: int) -> float:
    """``alpha_bar_t`` as a float; ``t < 0`` means before any noise: 1."""
    return 1.0 if t < 0 else float(schedule.alpha_bars[t])


def predict_x0(
    schedule: NoiseSchedule, x_t: torch.Tensor, t: torch.Tensor | int, eps: torch.Tensor
) -> torch.Tensor:
    """Invert ``x_t = sqrt(ab) x_0 + sqrt(1 - ab) eps`` for x_0 given a noise estimate:
    ``x_0 = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t)``.

    Args:
        x_t: (B, ...) noised data; eps: the predicted noise, same shape.
        t: (B,) LongTensor of timesteps, or one int.

    References: Ho et al. 2020, Eq. (15).
    """
    ab = schedule.alpha_bars
    return (x_t - _at((1 - ab).sqrt(), t, x_t) * eps) / _at(ab.sqrt(), t, x_t)


def _clip(x0: torch.Tensor, clip: float | None) -> torch.Tensor:
    return x0 if clip is None else x0.clamp(-clip, clip)


def ddpm_step(
    schedule: NoiseSchedule,
    eps: torch.Tensor,
    x_t: torch.Tensor,
    t: int,
    noise: torch.Tensor | None,
    *,
    t_prev: int | None = None,
    clip: float | None = None,
) -> torch.Tensor:
    """One ancestral step ``x_t -> x_{t_prev}`` of DDPM with the posterior variance.

    The network's eps gives ``x_0_hat`` (:func:`predict_x0`); the step draws from
    ``q(x_{t_prev} | x_t, x_0_hat)`` with variance ``beta~`` (diffusers
    ``variance_type="fixed_small"``): ``mean + sqrt(beta~) noise``; no noise at t = 0. For
    strided sampling (``t_prev < t - 1``) the betas of the skipped steps are merged, as in
    diffusers: ``beta_t' = 1 - ab_t / ab_prev``.

    Args:
        eps: (B, ...) the model's noise prediction at (x_t, t).
        x_t: (B, ...) current state; t: its timestep.
        noise: standard normal, same shape (unused, may be None, at t = 0).
        t_prev: the next timestep (default t - 1; negative means the data, ab = 1).
        clip: clamp x_0_hat to [-clip, clip] (None: off, as the course uses it).

    References: Ho et al. 2020, Eqs. (6)-(7) and Algorithm 2.
    """
    t_prev = t - 1 if t_prev is None else t_prev
    ab_t, ab_prev = _alpha_bar(schedule, t), _alpha_bar(schedule, t_prev)
    beta = 1 - ab_t / ab_prev
    x0 = _clip(predict_x0(schedule, x_t, t, eps), clip)
    mean = (ab_prev**0.5 * beta / (1 - ab_t)) * x0 + (
        (1 - beta) ** 0.5 * (1 - ab_prev) / (1 - ab_t)
    ) * x_t
    if t == 0:
        return mean
    if noise is None:
        raise ValueError("ddpm_step needs noise for t > 0")
    var = max((1 - ab_prev) / (1 - ab_t) * beta, 1e-20)
    return mean + var**0.5 * noise


def ddim_step(
    schedule: NoiseSchedule,
    eps: torch.Tensor,
    x_t: torch.Tensor,
    t: int,
    t_prev: int,
    eta: float = 0.0,
    noise: torch.Tensor | None = None,
    *,
    clip: float | None = None,
) -> torch.Tensor:
    """One DDIM step ``x_t -> x_{t_prev}``:

    ``x_prev = sqrt(ab_prev) x_0_hat + sqrt(1 - ab_prev - sigma^2) eps + sigma noise``,
    ``sigma = eta sqrt((1 - ab_prev) / (1 - ab_t)) sqrt(1 - ab_t / ab_prev)``.

    ``eta = 0`` is deterministic (the DDIM ODE sampler); ``eta = 1`` has DDPM's posterior
    variance. ``t_prev = -1`` (or any negative) means ``ab_prev = 1``: the last step lands
    on x_0_hat (diffusers ``set_alpha_to_one=True``).

    Args:
        eps: (B, ...) predicted noise at (x_t, t).
        x_t: (B, ...) current state.
        t, t_prev: current and next timestep (t_prev < t).
        eta: 0 deterministic, 1 DDPM-like.
        noise: standard normal, same shape; needed when eta > 0.
        clip: clamp x_0_hat to [-clip, clip] (None: off).

    References: Song, Meng & Ermon 2021a, Eqs. (12) and (16).
    """
    ab_t, ab_prev = _alpha_bar(schedule, t), _alpha_bar(schedule, t_prev)
    x0 = _clip(predict_x0(schedule, x_t, t, eps), clip)
    sigma = eta * ((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev)) ** 0.5
    x_prev = ab_prev**0.5 * x0 + max(1 - ab_prev - sigma**2, 0.0) ** 0.5 * eps
    if eta > 0:
        if noise is None:
            raise ValueError("ddim_step with eta > 0 needs noise")
        x_prev = x_prev + sigma * noise
    return x_prev


def guided(
    model: Model,
    x: torch.Tensor,
    t: torch.Tensor,
    labels: torch.Tensor | None,
    scale: float,
    n_classes: int | None,
) -> torch.Tensor:
    """Classifier-free guidance: ``uncond + scale * (cond - uncond)``.

    One network is evaluated on a batch of 2B: the B inputs with their labels and the same
    inputs with the null label ``n_classes``. ``scale = 1`` is the conditional model,
    ``scale = 0`` the unconditional one, ``scale > 1`` extrapolates away from the
    unconditional prediction (diffusers' ``guidance_scale``; Ho & Salimans write
    ``w = scale - 1``). The same formula serves eps and velocity predictions.

    Args:
        model: ``model(x, t, labels)``.
        x: (B, ...); t: (B,) float; labels: (B,) LongTensor, or None for a plain call.
        scale: the guidance scale.
        n_classes: the number of real classes (the null label's index).

    Returns:
        (B, ...) the guided prediction.

    References: Ho & Salimans 2022, Eq. (6).
    """
    if labels is None:
        return model(x, t, None)
    if scale == 1.0:  # the plain conditional model: the unconditional pass would cancel
        return model(x, t, labels)
    if n_classes is None:
        raise ConfigError("classifier-free guidance needs n_classes (the null label's index)")
    null = torch.full_like(labels, n_classes)
    out = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]))
    cond, uncond = out.chunk(2)
    return uncond + scale * (cond - uncond)


def nfe(method: str, steps: int, guided: bool = False) -> int:
    """Network evaluations per sample of a sampler run: ``steps`` for DDPM, DDIM and
    Euler, ``2 steps`` for Heun (a predictor and a corrector); doubled when guided
    (the conditional and the unconditional pass, batched together)."""
    _check_steps(steps)
    methods = EPS_METHODS + FLOW_METHODS
    if method not in methods:
        raise ConfigError(f"method={method!r} is not known; use one of {methods}")
    n = 2 * steps if method == "heun" else steps
    return 2 * n if guided else n


def _check_steps(steps: int) -> None:
    if not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps must be a positive integer, got {steps!r}")


def _prepare(
    model: torch.nn.Module | Model,
    labels: torch.Tensor | None,
    guidance: float,
    n_classes: int | None,
) -> tuple[torch.device, torch.Tensor | None, bool]:
    if labels is None and guidance != 1.0:
        raise ConfigError(f"guidance={guidance} needs labels (guidance steers towards a class)")
    use_cfg = labels is not None and guidance != 1.0
    if use_cfg and n_classes is None:
        raise ConfigError("classifier-free guidance needs n_classes (the null label's index)")
    device = model_device(model) if isinstance(model, torch.nn.Module) else torch.device("cpu")
    if labels is not None:
        labels = torch.as_tensor(labels, dtype=torch.long).to(device)
    return device, labels, use_cfg


def _noise(shape: Sequence[int], generator: torch.Generator | None, device: torch.device):
    return torch.randn(tuple(shape), generator=generator).to(device)


def leading_timesteps(T: int, steps: int) -> list[int]:
    """diffusers' ``timestep_spacing="leading"``: ``[k * (T // steps)]`` for k = steps-1..0,
    e.g. T = 1000, 50 steps: 980, 960, ..., 20, 0 (the default of DDPMScheduler and
    DDIMScheduler). The last step goes from 0 to the data (ab = 1)."""
    _check_steps(steps)
    if steps > T:
        raise ConfigError(f"steps={steps} exceeds the schedule's T={T}")
    ratio = T // steps
    return [k * ratio for k in range(steps - 1, -1, -1)]


@torch.no_grad()
def sample_eps(
    model: torch.nn.Module | Model,
    shape: Sequence[int],
    schedule: NoiseSchedule,
    *,
    steps: int,
    method: str = "ddim",
    labels: torch.Tensor | None = None,
    guidance: float = 1.0,
    n_classes: int | None = None,
    generator: torch.Generator | None = None,
    eta: float = 0.0,
    clip: float | None = None,
) -> torch.Tensor:
    """Samples of a noise-prediction model by DDIM or ancestral DDPM.

    Timesteps are spaced like diffusers' ``"leading"`` spacing (:func:`leading_timesteps`);
    each step goes from t to ``t - T // steps`` and the last from 0 to the data. The
    initial noise, then each step's noise, is drawn on the CPU from ``generator``.

    Args:
        model: eps-prediction model ``model(x, t, labels)`` (t the timestep as a float).
        shape: (B, ...) of the samples.
        schedule: the schedule the model was trained with.
        steps: number of sampling steps (1..T).
        method: ``"ddim"`` (eta as given, 0 deterministic) or ``"ddpm"`` (ancestral).
        labels: (B,) class labels, or None for an unconditional model.
        guidance: classifier-free guidance scale (1 = plain conditional).
        n_classes: number of classes (the null label), needed when guidance != 1.
        generator: CPU generator for all the noise.
        eta: DDIM's stochasticity (ignored by DDPM).
        clip: clamp x_0_hat to [-clip, clip] at every step (None: off).

    Returns:
        (B, ...) samples on the model's device.

    Raises:
        ConfigError: steps < 1 or > T, an unknown method, guidance without labels.

    References: Ho et al. 2020, Algorithm 2; Song et al. 2021a, Eq. (12).
    """
    if method not in EPS_METHODS:
        raise ConfigError(f"method={method!r} is not an eps sampler; use one of {EPS_METHODS}")
    timesteps = leading_timesteps(schedule.T, steps)
    device, labels, use_cfg = _prepare(model, labels, guidance, n_classes)
    ratio = schedule.T // steps
    x = _noise(shape, generator, device)
    for t in timesteps:
        t_in = torch.full((x.shape[0],), float(t), device=device)
        if use_cfg:
            eps = guided(model, x, t_in, labels, guidance, n_classes)
        else:
            eps = model(x, t_in, labels)
        eps = eps.float()
        if method == "ddim":
            noise = _noise(x.shape, generator, device) if eta > 0 else None
            x = ddim_step(schedule, eps, x, t, t - ratio, eta, noise, clip=clip)
        else:
            noise = _noise(x.shape, generator, device) if t > 0 else None
            x = ddpm_step(schedule, eps, x, t, noise, t_prev=t - ratio, clip=clip)
    return x


@torch.no_grad()
def sample_flow(
    model: torch.nn.Module | Model,
    shape: Sequence[int],
    *,
    steps: int,
    method: str = "euler",
    labels: torch.Tensor | None = None,
    guidance: float = 1.0,
    n_classes: int | None = None,
    generator: torch.Generator | None = None,
    trajectory: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
    """Samples of a velocity (flow-matching) model: integrate ``dx/dt = v`` from t = 1
    (noise) to t = 0 on the uniform grid ``1, 1 - 1/steps, ..., 0``.

    Args:
        model: velocity model ``model(x, t, labels)``, t in [0, 1].
        shape: (B, ...) of the samples.
        steps: number of steps (Euler: one evaluation each; Heun: two).
        method: ``"euler"`` or ``"heun"``.
        labels, guidance, n_classes: as in :func:`sample_eps`.
        generator: CPU generator for the initial noise.
        trajectory: also return the states at every grid time (on the CPU).

    Returns:
        (B, ...) samples on the model's device, and with ``trajectory`` the list of
        ``steps + 1`` states from the noise to the samples.

    Raises:
        ConfigError: steps < 1, an unknown method, guidance without labels.

    References: Lipman et al. 2023, Sec. 4; Liu et al. 2023, Sec. 2; Karras et al. 2022,
    Algorithm 1.
    """
    _check_steps(steps)
    if method not in FLOW_METHODS:
        raise ConfigError(f"method={method!r} is not a flow sampler; use one of {FLOW_METHODS}")
    device, labels, use_cfg = _prepare(model, labels, guidance, n_classes)

    def velocity(x: torch.Tensor, t: float) -> torch.Tensor:
        t_in = torch.full((x.shape[0],), float(t), device=device)
        if use_cfg:
            return guided(model, x, t_in, labels, guidance, n_classes).float()
        return model(x, t_in, labels).float()

    grid = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64).tolist()
    x = _noise(shape, generator, device)
    states = [x.cpu()] if trajectory else []
    for t, t_next in zip(grid[:-1], grid[1:], strict=True):
        if method == "euler":
            x = euler_step(velocity(x, t), x, t, t_next)
        else:
            x = heun_step(velocity, x, t, t_next)
        if trajectory:
            states.append(x.cpu())
    return (x, states) if trajectory else x
