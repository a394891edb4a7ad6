"""Exact noised densities and scores of an isotropic Gaussian mixture (the ring toy).

If the data are ``p_0 = sum_k w_k N(mu_k, sigma0^2 I)``, then ``x_t = sqrt(ab) x_0 +
sqrt(1 - ab) eps`` is again a mixture,

    q_t = sum_k w_k N(sqrt(ab) mu_k, s^2 I),     s^2 = ab sigma0^2 + 1 - ab,

whose score is the responsibility-weighted pull towards each component's mean,
``grad log q_t(x) = sum_k r_k(x) (sqrt(ab) mu_k - x) / s^2``. A trained noise predictor
estimates it through ``score = -eps_hat / sqrt(1 - ab)`` (Tweedie's formula; denoising
score matching), which this module lets a test or a notebook check exactly.

References:
    Vincent 2011, "A Connection Between Score Matching and Denoising Autoencoders",
    Sec. 4.2; Song, Sohl-Dickstein, Kingma, Kumar, Ermon & Poole 2021b, "Score-Based
    Generative Modeling through Stochastic Differential Equations", Eq. (3) and App. B;
    Efron 2011, "Tweedie's formula and selection bias".
"""

from __future__ import annotations

import math

import torch


def _log_components(
    x: torch.Tensor, means: torch.Tensor, weights: torch.Tensor, sigma0: float, alpha_bar: float
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(N, K) log w_k N(x; sqrt(ab) mu_k, s^2 I), the (K, d) noised means and s^2."""
    var = alpha_bar * sigma0**2 + 1 - alpha_bar
    centres = math.sqrt(alpha_bar) * means.to(x)  # (K, d)
    sq = ((x[:, None, :] - centres[None]) ** 2).sum(-1)  # (N, K)
    d = x.shape[-1]
    log_norm = -0.5 * d * math.log(2 * math.pi * var)
    return weights.to(x).log()[None] + log_norm - sq / (2 * var), centres, var


def noised_gmm_logpdf(
    x: torch.Tensor, means: torch.Tensor, weights: torch.Tensor, sigma0: float, alpha_bar: float
) -> torch.Tensor:
    """``log q_t(x)`` of the noised mixture.

    Args:
        x: (N, d) points.
        means: (K, d) component means mu_k of the clean data.
        weights: (K,) mixture weights (summing to 1).
        sigma0: the components' standard deviation in the clean data.
        alpha_bar: ``ab`` of the noise level (1 = the clean data).

    Returns:
        (N,) log densities (logsumexp over the components).
    """
    logits, _, _ = _log_components(x, means, weights, sigma0, alpha_bar)
    return torch.logsumexp(logits, dim=1)


def noised_gmm_score(
    x: torch.Tensor, means: torch.Tensor, weights: torch.Tensor, sigma0: float, alpha_bar: float
) -> torch.Tensor:
    """The exact score ``grad_x log q_t(x)`` of the noised mixture.

    ``sum_k r_k(x) (sqrt(ab) mu_k - x) / s^2`` with responsibilities ``r = softmax_k`` of
    the components' log densities (computed stably by a softmax over logits).

    Args: as :func:`noised_gmm_logpdf`.

    Returns:
        (N, d) scores. The optimal noise predictor is ``-sqrt(1 - ab) * score``.

    References: Vincent 2011, Sec. 4.2; Song et al. 2021b, Eq. (3).
    """
    logits, centres, var = _log_components(x, means, weights, sigma0, alpha_bar)
    r = torch.softmax(logits, dim=1)  # (N, K) responsibilities
    return (r @ centres - x) / var
