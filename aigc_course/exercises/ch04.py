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


# -------------------------------------------------------------- 04.nfe_predict (predict)


def _nfe_outcome(steps_curve: list[dict], nfe: int = 4) -> str:
    by = {(r["method"], int(r["nfe"])): float(r["fid"]) for r in steps_curve}
    missing = [m for m in ("euler", "heun") if (m, nfe) not in by]
    if missing:
        raise AssertionError(f"the curve has no {nfe}-evaluation point for {missing}")
    return "euler" if by[("euler", nfe)] < by[("heun", nfe)] else "heun"


def _nfe_solution(steps_curve: list[dict], **_: object) -> str:
    # At equal evaluations Heun takes half as many, twice as long steps. Its error is of
    # second order only once the steps are small enough; with 2 steps from pure noise the
    # predictor overshoots and the correction cannot repair it. Whether it wins at a given
    # budget depends on how curved the learned paths are, so the answer is read from the
    # measured curve.
    return _nfe_outcome(steps_curve)


def _nfe_judge(answer: str, steps_curve: list[dict], **_: object) -> None:
    choice = str(answer).strip().lower()
    assert choice in ("euler", "heun"), 'answer "euler" or "heun"'
    outcome = _nfe_outcome(steps_curve)
    by = {(r["method"], int(r["nfe"])): float(r["fid"]) for r in steps_curve}
    assert choice == outcome, (
        f"the measured curve says {outcome}: at 4 evaluations Euler has FID "
        f"{by[('euler', 4)]:.2f}, Heun {by[('heun', 4)]:.2f}. Count evaluations, not steps: "
        "a Heun step costs two, so 4 evaluations buy only 2 Heun steps"
    )


# ---------------------------------------------------------- 04.guidance_choice (decide)


def _choose_guidance(curve: list[dict], keep: float = 0.8) -> float:
    base = next(r for r in curve if float(r["guidance"]) == 1.0)
    allowed = [r for r in curve if float(r["recall"]) >= keep * float(base["recall"])]
    best = max(allowed, key=lambda r: (float(r["conditional_accuracy"]), -float(r["guidance"])))
    return float(best["guidance"])


def _guidance_solution(curve: list[dict], **_: object) -> Callable[[list[dict]], float]:
    # Filter by the constraint first (recall at least 80 % of w = 1's), then maximise the
    # objective (conditional accuracy) among what is left; ties go to the smaller scale,
    # which costs less diversity for the same accuracy.
    return _choose_guidance


def _guidance_judge(choose: Callable[[list[dict]], float], curve: list[dict], **_: object) -> None:
    got = float(choose([dict(r) for r in curve]))
    expected = _choose_guidance(curve)
    if got == expected:
        # a made-up curve where the constraint binds, so a rule that ignores it fails
        synthetic = [
            {"guidance": 1.0, "conditional_accuracy": 0.90, "recall": 0.80, "fid": 9.0},
            {"guidance": 2.0, "conditional_accuracy": 0.97, "recall": 0.70, "fid": 8.0},
            {"guidance": 3.0, "conditional_accuracy": 0.97, "recall": 0.66, "fid": 11.0},
            {"guidance": 4.0, "conditional_accuracy": 0.99, "recall": 0.40, "fid": 20.0},
        ]
        got_s, exp_s = float(choose(synthetic)), _choose_guidance(synthetic)
        assert got_s == exp_s, (
            f"right on this curve, but on a curve where w = 4 loses half the recall your rule "
            f"picks {got_s:g} instead of {exp_s:g}: keep only scales whose recall is at least "
            "0.8 x the recall at w = 1, then take the best accuracy (ties: the smaller scale)"
        )
        return
    by_fid = float(min(curve, key=lambda r: float(r["fid"]))["guidance"])
    by_acc = float(max(curve, key=lambda r: float(r["conditional_accuracy"]))["guidance"])
    if got == by_acc:
        raise AssertionError(
            f"{got:g} has the best accuracy but breaks the recall constraint; expected {expected:g}"
        )
    if got == by_fid:
        raise AssertionError(
            f"{got:g} is the FID-best scale, not the constrained choice ({expected:g})"
        )
    raise AssertionError(f"got {got:g}, expected {expected:g}")


EXERCISES += [
    Exercise("04.nfe_predict", "predict", judge=_nfe_judge, solution=_nfe_solution),
    Exercise("04.guidance_choice", "implement", judge=_guidance_judge, solution=_guidance_solution),
]
