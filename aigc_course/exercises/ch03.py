"""Exercises of notebook 03 (VAE and the ELBO): solutions and judges."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from . import Exercise

# ---------------------------------------------------------------- 03.kl_diag (derive)


def _kl_diag_solution(**_: object) -> Callable[..., torch.Tensor]:
    def kl_diag(mu_q, logvar_q, mu_p, logvar_p):
        # per dimension: ½ (σ²/s² + (μ − m)²/s² − 1 − log σ²/s²), from
        # E_q[log q − log p] with E_q[(z − m)²] = σ² + (μ − m)²
        ratio = (logvar_q - logvar_p).exp()
        quad = (mu_q - mu_p) ** 2 / logvar_p.exp()
        return 0.5 * (ratio + quad - 1 - (logvar_q - logvar_p)).sum(-1)

    return kl_diag


def _kl_diag_judge(kl_diag: Callable[..., torch.Tensor], **_: object) -> None:
    g = torch.Generator().manual_seed(3)
    mq, lq, mp, lp = (torch.randn(5, 4, generator=g, dtype=torch.float64) for _ in range(4))
    normal = torch.distributions.Normal
    q, p = normal(mq, (0.5 * lq).exp()), normal(mp, (0.5 * lp).exp())
    expected = torch.distributions.kl_divergence(q, p).sum(-1)
    got = torch.as_tensor(kl_diag(mq, lq, mp, lp))
    assert got.shape == (5,), f"return one KL per row, summed over the last dimension: {got.shape}"
    std = torch.distributions.kl_divergence(normal(mq, (0.5 * lq).exp()), normal(0.0, 1.0))
    std_got = torch.as_tensor(kl_diag(mq, lq, torch.zeros_like(mp), torch.zeros_like(lp)))
    assert torch.allclose(std_got, std.sum(-1)), (
        "with m = 0, s = 1 your KL should reduce to ½ Σ (μ² + σ² − 1 − log σ²); it does not"
    )
    assert torch.allclose(got, expected), (
        "right against N(0, I) but not against N(m, s²): check that (μ − m)² and σ² are both "
        "divided by s², and that the log term is log(σ²/s²) = logvar_q − logvar_p"
    )


# ------------------------------------------------------------- 03.iwae_bound (implement)


def _iwae_bound_solution(**_: object) -> Callable[[torch.Tensor], torch.Tensor]:
    def iwae_bound(log_w: torch.Tensor) -> torch.Tensor:
        # log (1/k) Σ exp(log_w): logsumexp subtracts the max before exp, so nothing underflows
        return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])

    return iwae_bound


def _iwae_bound_judge(iwae_bound: Callable[[torch.Tensor], torch.Tensor], **_: object) -> None:
    lw = torch.randn(50, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    got = iwae_bound(lw)
    assert got.shape == (3,), f"(k, B) = (50, 3) in, one bound per image (3,) out; got {got.shape}"
    assert torch.allclose(got, lw.exp().mean(0).log()), (
        "where the naive log(mean(exp(log_w))) works, your bound should equal it: check the "
        "average over the k samples (dimension 0) and the - log k"
    )
    far = iwae_bound(lw - 1000)
    assert torch.isfinite(far).all(), (
        "for log-weights near -1000 (a real image's are around -100) exp underflows to 0 and "
        "the log gives -inf: use torch.logsumexp"
    )
    assert torch.allclose(far, got - 1000), (
        "shifting every log-weight by c must shift the bound by c"
    )


# ------------------------------------------------------------- 03.bits_per_dim (derive)


def _bits_per_dim_solution(nll_nats: float, **_: object) -> float:
    # nats -> bits: divide by ln 2; per image -> per pixel: divide by 784
    return nll_nats / (784 * math.log(2))


def _bits_per_dim_judge(answer: float, nll_nats: float, **_: object) -> None:
    value = float(answer)
    exact = nll_nats / (784 * math.log(2))
    if abs(value - nll_nats / 784) < 1e-3:
        raise AssertionError("that is nats per pixel: convert nats to bits (1 bit = ln 2 nats)")
    if abs(value - nll_nats / math.log(2)) < 1e-2:
        raise AssertionError("that is bits per image: divide by the 784 dimensions (pixels)")
    assert abs(value - exact) < 2e-3, (
        f"{value:.4f} bits per dimension: divide the nats per image by 784 pixels and by ln 2"
    )


# -------------------------------------------------------------- 03.discrete (explain)

DISCRETE_CHOICES = {
    "a": "a VAE cannot model binary pixels or text tokens: a sampled 0/1 has no gradient",
    "b": "a categorical latent code needs score-function, Gumbel-softmax or straight-through "
    "gradients; a Bernoulli or categorical decoder needs none of them",
    "c": "a GAN generates text tokens with the same backpropagation as images",
    "d": "the reparameterisation trick needs the decoder's outputs to be continuous",
}


def _discrete_solution(**_: object) -> str:
    # (b). The reparameterisation trick differentiates through the *sample of z*; the decoder's
    # outputs are never sampled during training: log p(x|z) is a differentiable function of
    # the logits for a fixed 0/1 (or token) x, so discrete outputs are fine (this notebook's
    # decoder is Bernoulli). A discrete z is a step function of the encoder's parameters, so
    # it needs another estimator. A GAN is the one that is blocked by discrete outputs: its
    # generator's gradient must pass through the sample into the discriminator (not c).
    return "b"


def _discrete_judge(answer: str, **_: object) -> None:
    choice = str(answer).strip().lower().strip("()")
    assert choice in DISCRETE_CHOICES, f"answer one letter of {sorted(DISCRETE_CHOICES)}"
    hints = {
        "a": "this notebook's decoder is Bernoulli over 0/1 pixels, and it trains: log p(x|z) "
        "is differentiable in the logits for a fixed x. Which sample does the gradient pass?",
        "c": "a GAN's generator gets its gradient through its sample, into the discriminator; "
        "a sampled token is a step function of the logits",
        "d": "the trick rewrites the sample of z, not of x: the decoder's outputs are never "
        "sampled during training",
    }
    assert choice == "b", hints[choice]


# ----------------------------------------------------------- 03.amortisation (predict)

AMORTISATION_CHOICES = {
    "a": "it does not change: the encoder already gives the best Gaussian for each image",
    "b": "it rises, but stays below the IWAE (k = 1000) estimate",
    "c": "it rises above the IWAE (k = 1000) estimate",
}


def _amortisation_outcome(elbo_encoder: float, elbo_refined: float, iwae: float) -> str:
    if elbo_refined < elbo_encoder + 0.1:
        return "a"
    return "b" if elbo_refined < iwae else "c"


def _amortisation_solution(elbo_encoder: float, elbo_refined: float, iwae: float, **_: object):
    # The encoder is one network for all images (amortised), so its q(z|x) is not the best
    # Gaussian for each image: optimising (mu, logvar) per image raises the ELBO (the
    # amortisation gap). It cannot pass log p(x), and the best *diagonal Gaussian* is still
    # not the posterior (the approximation gap), so a tight IWAE bound stays above it.
    return _amortisation_outcome(elbo_encoder, elbo_refined, iwae)


def _amortisation_judge(
    answer: str, elbo_encoder: float, elbo_refined: float, iwae: float, **_: object
) -> None:
    choice = str(answer).strip().lower().strip("()")
    assert choice in AMORTISATION_CHOICES, f"answer one letter of {sorted(AMORTISATION_CHOICES)}"
    outcome = _amortisation_outcome(elbo_encoder, elbo_refined, iwae)
    assert choice == outcome, (
        f"the run says ({outcome}): encoder ELBO {elbo_encoder:.2f}, refined {elbo_refined:.2f}, "
        f"IWAE {iwae:.2f} nats. Which two gaps separate the encoder's ELBO from log p(x)?"
    )


# ------------------------------------------------------------ 03.active_units (implement)


def _active_units_solution(model, x, **_: object) -> Callable[..., int]:
    # (model and x are the judge's context; the answer is the function)
    def count_active(model, x, threshold=0.01):
        with torch.no_grad():
            mu = model.encode(x)[0]  # (N, d) encoder means
        return int((mu.var(0) > threshold).sum())  # variance over the images, per unit

    return count_active


def _active_units_judge(count_active: Callable[..., int], model, x, **_: object) -> None:
    from ..training.vae import active_units

    expected = active_units(model, x)
    got = count_active(model, x)
    assert isinstance(got, int | torch.Tensor), "return a number: the count of active units"
    assert int(got) == expected, (
        f"{int(got)} active units, expected {expected}: a unit is active when the variance "
        "*over the images* (dimension 0) of its encoder mean exceeds 0.01"
    )
    # a copy whose first half of the units ignore the input: they must not count
    import copy

    dead = copy.deepcopy(model)
    d = dead.latent_dim
    with torch.no_grad():
        last = [m for m in dead.encoder.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.weight[: d // 2] = 0.0  # mu_j = bias_j for every image: variance 0
    expected_dead = active_units(dead, x)
    got_dead = int(count_active(dead, x))
    if got_dead == d and expected_dead < d:
        raise AssertionError("units whose mean is the same for every image must not count")
    assert got_dead == expected_dead, f"{got_dead} active units where {expected_dead} are"


EXERCISES = [
    Exercise("03.kl_diag", "derive", judge=_kl_diag_judge, solution=_kl_diag_solution),
    Exercise("03.iwae_bound", "implement", judge=_iwae_bound_judge, solution=_iwae_bound_solution),
    Exercise(
        "03.bits_per_dim", "derive", judge=_bits_per_dim_judge, solution=_bits_per_dim_solution
    ),
    Exercise("03.discrete", "explain", judge=_discrete_judge, solution=_discrete_solution),
    Exercise(
        "03.amortisation",
        "predict",
        judge=_amortisation_judge,
        solution=_amortisation_solution,
    ),
    Exercise(
        "03.active_units",
        "implement",
        judge=_active_units_judge,
        solution=_active_units_solution,
    ),
]
