"""The ELBO's pieces against independent references: torch.distributions, Monte Carlo,
and a latent-variable model whose log p(x) and posterior are exact."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence
from torch.testing import assert_close

from aigc_course.theory.elbo import (
    LinearGaussian,
    gaussian_kl,
    gaussian_kl_standard,
    kl_monte_carlo,
    reparameterised_gradient,
    score_function_gradient,
)


def _q(seed: int = 0, shape: tuple[int, ...] = (6, 5)):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(shape, generator=g, dtype=torch.float64)
    logvar = torch.randn(shape, generator=g, dtype=torch.float64)
    return mu, logvar


def _torch_kl(mu, logvar, mu_p=None, logvar_p=None):
    mu_p = torch.zeros_like(mu) if mu_p is None else mu_p
    logvar_p = torch.zeros_like(logvar) if logvar_p is None else logvar_p
    q = Independent(Normal(mu, (0.5 * logvar).exp()), 1)
    p = Independent(Normal(mu_p, (0.5 * logvar_p).exp()), 1)
    return kl_divergence(q, p)


def test_kl_closed_form_matches_torch_distributions():
    mu, logvar = _q()
    kl = gaussian_kl_standard(mu, logvar)
    assert kl.shape == (6,)  # summed over the latent dimension, one per row
    assert_close(kl, _torch_kl(mu, logvar))


def test_kl_closed_form_matches_monte_carlo():
    mu, logvar = _q(1, (3, 4))
    mc = kl_monte_carlo(mu, logvar, 200_000, torch.Generator().manual_seed(0))
    exact = gaussian_kl_standard(mu, logvar)
    assert torch.all((mc - exact).abs() < 0.03 * exact + 0.02), (mc, exact)


def test_general_diagonal_kl_matches_torch_distributions():
    mu, logvar = _q(2)
    mu_p, logvar_p = _q(3)
    assert_close(gaussian_kl(mu, logvar, mu_p, logvar_p), _torch_kl(mu, logvar, mu_p, logvar_p))
    assert_close(
        gaussian_kl(mu, logvar, torch.zeros_like(mu), torch.zeros_like(logvar)),
        gaussian_kl_standard(mu, logvar),
    )


def test_kl_is_nonnegative_and_zero_only_at_the_prior():
    mu, logvar = _q(4, (1000, 3))
    assert (gaussian_kl_standard(mu, logvar) > 0).all()
    zero = torch.zeros(2, 3)
    assert_close(gaussian_kl_standard(zero, zero), torch.zeros(2))


def test_wrong_kl_sign_is_caught_by_the_reference_check():
    """The mistake 'KL with the wrong sign' fails the same check the right formula passes."""
    mu, logvar = _q(5)

    def wrong(mu, logvar):  # -KL: what "+ 0.5 * sum(1 + logvar - mu² - exp(logvar))" gives
        return -gaussian_kl_standard(mu, logvar)

    with pytest.raises(AssertionError):
        assert_close(wrong(mu, logvar), _torch_kl(mu, logvar))
    assert (wrong(mu, logvar) < 0).all()  # a "divergence" below zero is the tell-tale


def test_linear_gaussian_marginal_satisfies_bayes_rule():
    """log p(x) = log p(x, z) - log p(z|x) for any z: checks marginal and posterior together."""
    model = LinearGaussian.random(D=5, d=2, sigma=0.7, seed=0)
    x = model.sample(4, torch.Generator().manual_seed(1))
    mean, cov = model.posterior(x)
    post = torch.distributions.MultivariateNormal(mean, covariance_matrix=cov)
    z = torch.randn(3, 4, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    log_px = model.log_joint(x, z) - post.log_prob(z)  # (3, 4), constant in z
    assert_close(log_px, model.log_marginal(x).expand(3, 4))


def test_elbo_closed_form_matches_monte_carlo():
    model = LinearGaussian.random(seed=3)
    x = model.sample(3, torch.Generator().manual_seed(0))
    q_mean = torch.zeros(3, 2, dtype=torch.float64)
    q_cov = torch.diag(torch.tensor([0.3, 0.6], dtype=torch.float64))
    mc = model.elbo_monte_carlo(x, q_mean, q_cov, 100_000, torch.Generator().manual_seed(1))
    assert_close(mc, model.elbo(x, q_mean, q_cov), rtol=0, atol=0.1)


def test_elbo_is_below_log_px_with_equality_at_the_true_posterior():
    model = LinearGaussian.random(D=6, d=3, sigma=0.5, seed=1)
    x = model.sample(8, torch.Generator().manual_seed(0))
    log_px = model.log_marginal(x)
    mean, cov = model.posterior(x)
    assert_close(model.elbo(x, mean, cov), log_px, rtol=0, atol=1e-9)
    g = torch.Generator().manual_seed(1)
    for scale in (0.2, 1.0, 3.0):
        q_mean = mean + scale * torch.randn(mean.shape, generator=g, dtype=torch.float64)
        q_cov = torch.diag(torch.rand(3, generator=g, dtype=torch.float64) + 0.05)
        elbo = model.elbo(x, q_mean, q_cov)
        assert (elbo < log_px).all()
        # the gap is exactly KL(q(z|x) ‖ p(z|x))
        assert_close(log_px - elbo, model.posterior_kl(x, q_mean, q_cov), rtol=1e-9, atol=1e-9)


def test_reparameterised_gradient_has_lower_variance_than_score_function():
    f = lambda z: (z - 2.0) ** 2  # d/dmu E[f] = 2 (mu - 2)
    mu, sigma, n = 0.5, 1.0, 20_000
    exact = 2 * (mu - 2.0)
    rep = reparameterised_gradient(f, mu, sigma, n, torch.Generator().manual_seed(0))
    sf = score_function_gradient(f, mu, sigma, n, torch.Generator().manual_seed(1))
    for est in (rep, sf):  # both unbiased: within 4 standard errors
        assert abs(est.mean().item() - exact) < 4 * est.std().item() / n**0.5
    assert sf.var() > 5 * rep.var()
    # a baseline reduces the score-function variance without bias
    sf_b = score_function_gradient(f, mu, sigma, n, torch.Generator().manual_seed(1), baseline=3.25)
    assert sf_b.var() < sf.var()
