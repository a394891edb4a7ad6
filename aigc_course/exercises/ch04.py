"""Exercises of notebook 04 (diffusion and flow matching): solutions and judges."""

from __future__ import annotations

from collections.abc import Callable

import torch

from . import Exercise

# ---------------------------------------------------------------- 04.marginal (derive)


def _marginal_solution(**_: object) -> Callable[[torch.Tensor], torch.Tensor]:
    def alpha_bar_from_betas(betas: torch.Tensor) -> torch.Tensor:
        # x_t = sqrt(1 - b_t) x_{t-1} + sqrt(b_t) e_t: the signal is scaled by sqrt(1 - b_s)
        # at every step s <= t, and independent Gaussian noises add their variances, so
        # x_t = sqrt(prod_s (1 - b_s)) x_0 + sqrt(1 - prod_s (1 - b_s)) e
        return torch.cumprod(1 - betas, dim=0)

    return alpha_bar_from_betas


def _marginal_judge(alpha_bar_from_betas: Callable[[torch.Tensor], torch.Tensor], **_: object):
    from ..diffusion.schedule import linear_schedule

    sched = linear_schedule(T=40, beta_start=1e-3, beta_end=0.2)
    betas = sched.betas.clone()
    got = torch.as_tensor(alpha_bar_from_betas(betas.clone()), dtype=torch.float64)
    assert got.shape == betas.shape, f"return one alpha_bar per step: {tuple(got.shape)}"
    expected = sched.alpha_bars
    if torch.allclose(got, 1 - torch.cumsum(betas, 0)):
        raise AssertionError(
            "1 - (sum of the betas) is only the first-order approximation: the signal is "
            "*multiplied* by sqrt(1 - beta_s) at every step, so alpha_bar is a product"
        )
    if torch.allclose(got, torch.cumprod(betas, 0)):
        raise AssertionError("that is the product of the betas; the kept signal is 1 - beta_s")
    shifted = torch.cat([torch.ones(1, dtype=torch.float64), expected[:-1]])
    if torch.allclose(got, shifted) or torch.allclose(got[:-1], expected[1:]):
        raise AssertionError(
            "off by one: step t = 0 already applies beta_0, so alpha_bar_0 = 1 - beta_0 "
            "(0-indexed, as diffusers' alphas_cumprod)"
        )
    if torch.allclose(got, torch.cumprod((1 - betas).sqrt(), 0)):
        raise AssertionError(
            "that is sqrt(alpha_bar), the factor on x_0; alpha_bar is the product of 1 - beta"
        )
    assert torch.allclose(got, expected), (
        "alpha_bar_t is the product of (1 - beta_s) over s = 0..t; compare with "
        "torch.cumprod on a small example"
    )


# ---------------------------------------------------------------- 04.ddim_step (implement)


def _ddim_solution(**_: object) -> Callable[..., torch.Tensor]:
    def ddim_update(x_t, eps, alpha_bar_t, alpha_bar_prev):
        # x_0 from x_t = sqrt(ab) x_0 + sqrt(1 - ab) eps, then re-noise it to the earlier
        # level with the *same* eps (eta = 0: no fresh noise)
        x0 = (x_t - (1 - alpha_bar_t) ** 0.5 * eps) / alpha_bar_t**0.5
        return alpha_bar_prev**0.5 * x0 + (1 - alpha_bar_prev) ** 0.5 * eps

    return ddim_update


def _ddim_variants(x, eps, a, p):
    """What the usual mistakes compute (a = alpha_bar_t, p = alpha_bar_prev)."""
    x0 = (x - (1 - a) ** 0.5 * eps) / a**0.5
    return {
        "the sign of the eps term: x_0 = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t), a minus": (
            p**0.5 * (x + (1 - a) ** 0.5 * eps) / a**0.5 + (1 - p) ** 0.5 * eps
        ),
        "the direction towards x_t is + sqrt(1 - ab_prev) eps, not minus": (
            p**0.5 * x0 - (1 - p) ** 0.5 * eps
        ),
        "the noise scale is a standard deviation: sqrt(1 - ab), not (1 - ab)": (
            p**0.5 * (x - (1 - a) * eps) / a**0.5 + (1 - p) * eps
        ),
        "the direction term re-noises to the *earlier* level: sqrt(1 - ab_prev) eps, not "
        "sqrt(1 - ab_t) eps": p**0.5 * x0 + (1 - a) ** 0.5 * eps,
        "x_0_hat is scaled by sqrt(ab_prev), the level you step to, not by sqrt(ab_t)": (
            a**0.5 * x0 + (1 - p) ** 0.5 * eps
        ),
    }


def _ddim_judge(ddim_update: Callable[..., torch.Tensor], **_: object) -> None:
    from ..diffusion.samplers import ddim_step
    from ..diffusion.schedule import cosine_schedule

    sched = cosine_schedule(1000)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 2, generator=g, dtype=torch.float64)
    eps = torch.randn(6, 2, generator=g, dtype=torch.float64)
    for t, t_prev in ((700, 600), (300, 100)):
        a, p = float(sched.alpha_bars[t]), float(sched.alpha_bars[t_prev])
        got = torch.as_tensor(ddim_update(x.clone(), eps.clone(), a, p), dtype=torch.float64)
        assert got.shape == x.shape, f"return x_prev with x_t's shape {tuple(x.shape)}"
        expected = ddim_step(sched, eps, x, t, t_prev)
        if torch.allclose(got, expected):
            continue
        for mistake, wrong in _ddim_variants(x, eps, a, p).items():
            if torch.allclose(got, wrong):
                raise AssertionError(f"check {mistake}")
        raise AssertionError(
            "x_prev = sqrt(ab_prev) x_0_hat + sqrt(1 - ab_prev) eps with "
            "x_0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t); yours differs"
        )


EXERCISES = [
    Exercise("04.marginal", "derive", judge=_marginal_judge, solution=_marginal_solution),
    Exercise("04.ddim_step", "implement", judge=_ddim_judge, solution=_ddim_solution),
]
