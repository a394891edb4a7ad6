"""Flow matching / rectified flow on the straight path between data and noise.

Convention of ``diffusers`` and Stable Diffusion 3: ``t`` in [0, 1], ``t = 0`` is the data
and ``t = 1`` pure noise,

    x_t = (1 - t) x_0 + t eps,        v = dx_t/dt = eps - x_0,

and a network trained to regress v (``E||v_theta(x_t, t) - (eps - x_0)||^2``) learns the
marginal velocity ``E[eps - x_0 | x_t]``; sampling integrates ``dx/dt = v`` from t = 1 to 0.

References:
    Lipman, Chen, Ben-Hamu, Nickel & Le 2023, "Flow Matching for Generative Modeling",
    Eqs. (20)-(23) (conditional OT path); Liu, Gong & Liu 2023, "Flow Straight and Fast:
    Learning to Generate and Transfer Data with Rectified Flow", Eq. (1); Karras, Aittala,
    Aila & Laine 2022, "Elucidating the Design Space of Diffusion-Based Generative Models",
    Algorithm 1 (Heun's second-order step).
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def _time(t: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor | float:
    """A (B,) time tensor shaped (B, 1, ..., 1) to broadcast over ``like``; floats pass."""
    if isinstance(t, torch.Tensor) and t.ndim == 1:
        return t.to(device=like.device, dtype=like.dtype).reshape(-1, *([1] * (like.ndim - 1)))
    return t


def flow_interpolate(
    x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor | float
) -> torch.Tensor:
    """The point ``x_t = (1 - t) x_0 + t eps`` of the straight path.

    Args:
        x0: (B, ...) data; noise: eps, same shape.
        t: (B,) times in [0, 1] (or one float).

    References: Lipman et al. 2023, Eq. (22) with sigma_min = 0; Liu et al. 2023, Eq. (1).
    """
    t = _time(t, x0)
    return (1 - t) * x0 + t * noise


def flow_target(x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The velocity of the straight path, ``v = eps - x_0`` (constant along it)."""
    return noise - x0


def euler_step(
    v: torch.Tensor, x: torch.Tensor, t: float | torch.Tensor, t_next: float | torch.Tensor
) -> torch.Tensor:
    """One Euler step of ``dx/dt = v`` from t to t_next (< t when sampling):
    ``x + (t_next - t) v`` (diffusers ``FlowMatchEulerDiscreteScheduler.step``)."""
    return x + (_time(t_next, x) - _time(t, x)) * v


def heun_step(
    model_fn: Callable[[torch.Tensor, float], torch.Tensor],
    x: torch.Tensor,
    t: float,
    t_next: float,
) -> torch.Tensor:
    """One step of Heun's method (explicit trapezoid) for ``dx/dt = model_fn(x, t)``.

    An Euler predictor ``x' = x + h v(x, t)``, then the average of the slopes at both
    ends, ``x + h (v(x, t) + v(x', t_next)) / 2``, with ``h = t_next - t``: two
    evaluations a step. Karras et al. 2022 (Algorithm 1) skip the correction at the last
    step because their denoiser is undefined at sigma = 0; a velocity model is defined at
    t = 0 (it was trained on t in [0, 1]), so every step here is corrected.

    Args:
        model_fn: ``(x, t) -> v``, t a float.
        x: (B, ...) the state at time t.

    Returns:
        (B, ...) the state at ``t_next``.

    References: Karras et al. 2022, Algorithm 1.
    """
    d = model_fn(x, t)
    x_euler = euler_step(d, x, t, t_next)
    d_next = model_fn(x_euler, t_next)
    return euler_step(0.5 * (d + d_next), x, t, t_next)
