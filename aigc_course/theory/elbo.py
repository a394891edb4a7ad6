"""The evidence lower bound, checked numerically.

* :func:`gaussian_kl_standard`: the closed-form KL(N(mu, diag(exp(logvar))) ‖ N(0, I)),
  summed over latent dimensions; :func:`gaussian_kl` between two diagonal Gaussians;
  :func:`kl_monte_carlo` estimates the same quantity by sampling, as a check.
* :class:`LinearGaussian`: a latent-variable model ``z ~ N(0, I_d)``,
  ``x | z ~ N(W z + b, sigma² I_D)`` whose marginal ``log p(x)`` and posterior ``p(z|x)``
  are known exactly, so ``log p(x) = ELBO(q) + KL(q ‖ p(z|x))`` can be verified to the last
  digit, with equality when q is the true posterior.
* :func:`reparameterised_gradient` and :func:`score_function_gradient`: two unbiased
  estimators of ``d/dmu E_{z ~ N(mu, sigma²)}[f(z)]``, whose variances can be compared.

References:
    Kingma & Welling 2014, "Auto-Encoding Variational Bayes", Eq. (3), (10) and App. B;
    Rezende, Mohamed & Wierstra 2014; Williams 1992 (REINFORCE, the score-function
    estimator); Bishop 2006, "Pattern Recognition and Machine Learning", Sec. 2.3.3
    (the linear-Gaussian marginal and posterior).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

LOG_2PI = math.log(2 * math.pi)


def gaussian_kl_standard(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(sigma²)) ‖ N(0, I)) in nats, summed over the last dimension.

    ``0.5 * sum_j (mu_j² + sigma_j² - 1 - log sigma_j²)``: non-negative, zero only at
    mu = 0, sigma = 1.

    Args:
        mu, logvar: (..., d) mean and log-variance of q.

    Returns:
        (...,) one KL per leading index (per image, for a batch).

    References: Kingma & Welling 2014, App. B.
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def gaussian_kl(
    mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor
) -> torch.Tensor:
    """KL(N(mu_q, diag e^logvar_q) ‖ N(mu_p, diag e^logvar_p)), summed over the last dim."""
    var_ratio = (logvar_q - logvar_p).exp()
    return 0.5 * (
        var_ratio + (mu_q - mu_p).pow(2) / logvar_p.exp() - 1.0 - (logvar_q - logvar_p)
    ).sum(dim=-1)


def diag_gaussian_log_prob(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)


def kl_monte_carlo(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    n_samples: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Monte Carlo estimate of KL(q ‖ N(0, I)) = E_q[log q(z) - log p(z)].

    Args:
        mu, logvar: (..., d).
        n_samples: draws of z per distribution.

    Returns:
        (...,) the sample mean over the draws.
    """
    eps = torch.randn((n_samples, *mu.shape), generator=generator, dtype=mu.dtype)
    z = mu + (0.5 * logvar).exp() * eps  # (S, ..., d)
    log_q = diag_gaussian_log_prob(z, mu, logvar)
    log_p = diag_gaussian_log_prob(z, torch.zeros_like(mu), torch.zeros_like(logvar))
    return (log_q - log_p).mean(dim=0)


@dataclass(frozen=True)
class LinearGaussian:
    """z ~ N(0, I_d), x | z ~ N(W z + b, sigma² I_D): a model with an exact log p(x).

    The marginal is ``x ~ N(b, W Wᵀ + sigma² I)`` and the posterior is Gaussian with
    covariance ``S = (I + Wᵀ W / sigma²)⁻¹`` and mean ``S Wᵀ (x - b) / sigma²``
    (Bishop 2006, Eq. 2.115–2.117). Work in float64: the checks compare to ~1e-8.

    Attributes:
        W: (D, d) loading matrix.
        b: (D,) offset.
        sigma: observation noise standard deviation.
    """

    W: torch.Tensor
    b: torch.Tensor
    sigma: float

    @classmethod
    def random(cls, D: int = 5, d: int = 2, sigma: float = 0.5, seed: int = 0) -> LinearGaussian:
        """A seeded random instance (float64)."""
        g = torch.Generator().manual_seed(seed)
        W = torch.randn(D, d, generator=g, dtype=torch.float64)
        b = torch.randn(D, generator=g, dtype=torch.float64)
        return cls(W, b, float(sigma))

    @property
    def D(self) -> int:
        return self.W.shape[0]

    @property
    def d(self) -> int:
        return self.W.shape[1]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, D) draws of x from the model."""
        z = torch.randn(n, self.d, generator=generator, dtype=self.W.dtype)
        noise = torch.randn(n, self.D, generator=generator, dtype=self.W.dtype)
        return z @ self.W.T + self.b + self.sigma * noise

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) for (B, D) x: the Gaussian N(b, W Wᵀ + sigma² I). Returns (B,)."""
        cov = self.W @ self.W.T + self.sigma**2 * torch.eye(self.D, dtype=self.W.dtype)
        return torch.distributions.MultivariateNormal(self.b, covariance_matrix=cov).log_prob(x)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact p(z|x): mean (B, d) and covariance (d, d) (the same for every x)."""
        eye = torch.eye(self.d, dtype=self.W.dtype)
        cov = torch.linalg.inv(eye + self.W.T @ self.W / self.sigma**2)
        mean = (x - self.b) @ self.W @ cov / self.sigma**2  # (B, d); cov is symmetric
        return mean, cov

    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x, z) = log p(x|z) + log p(z), broadcasting z (..., B, d) against x (B, D)."""
        mean = z @ self.W.T + self.b
        log_lik = -0.5 * (
            self.D * (LOG_2PI + 2 * math.log(self.sigma))
            + (x - mean).pow(2).sum(-1) / self.sigma**2
        )
        log_prior = -0.5 * (self.d * LOG_2PI + z.pow(2).sum(-1))
        return log_lik + log_prior

    def elbo(self, x: torch.Tensor, q_mean: torch.Tensor, q_cov: torch.Tensor) -> torch.Tensor:
        """The ELBO in closed form for a Gaussian q(z|x) = N(q_mean, q_cov).

        ``E_q[log p(x|z)] - KL(q ‖ N(0, I))`` with
        ``E_q ||x - W z - b||² = ||x - W m - b||² + tr(W S Wᵀ)``.

        Args:
            x: (B, D). q_mean: (B, d). q_cov: (d, d) or (B, d, d), positive definite.

        Returns:
            (B,) ELBO in nats.
        """
        cov = q_cov.expand(x.shape[0], self.d, self.d)
        resid = x - q_mean @ self.W.T - self.b
        trace = torch.einsum("ij,bjk,ik->b", self.W, cov, self.W)  # tr(W S Wᵀ)
        expected_log_lik = -0.5 * (
            self.D * (LOG_2PI + 2 * math.log(self.sigma))
            + (resid.pow(2).sum(-1) + trace) / self.sigma**2
        )
        kl = 0.5 * (
            torch.diagonal(cov, dim1=-2, dim2=-1).sum(-1)
            + q_mean.pow(2).sum(-1)
            - self.d
            - torch.logdet(cov)
        )
        return expected_log_lik - kl

    def elbo_monte_carlo(
        self,
        x: torch.Tensor,
        q_mean: torch.Tensor,
        q_cov: torch.Tensor,
        n_samples: int,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """E_q[log p(x, z) - log q(z|x)] by sampling (checks :meth:`elbo`). Returns (B,)."""
        cov = q_cov.expand(x.shape[0], self.d, self.d)
        q = torch.distributions.MultivariateNormal(q_mean, covariance_matrix=cov)
        chol = torch.linalg.cholesky(cov)  # (B, d, d)
        eps = torch.randn(n_samples, *q_mean.shape, generator=generator, dtype=q_mean.dtype)
        z = q_mean + torch.einsum("bij,sbj->sbi", chol, eps)  # (S, B, d)
        return (self.log_joint(x, z) - q.log_prob(z)).mean(0)

    def posterior_kl(
        self, x: torch.Tensor, q_mean: torch.Tensor, q_cov: torch.Tensor
    ) -> torch.Tensor:
        """KL(q(z|x) ‖ p(z|x)) exactly, (B,): the gap log p(x) - ELBO."""
        p_mean, p_cov = self.posterior(x)
        cov = q_cov.expand(x.shape[0], self.d, self.d)
        q = torch.distributions.MultivariateNormal(q_mean, covariance_matrix=cov)
        p = torch.distributions.MultivariateNormal(p_mean, covariance_matrix=p_cov)
        return torch.distributions.kl_divergence(q, p)


def reparameterised_gradient(
    f: Callable[[torch.Tensor], torch.Tensor],
    mu: float,
    sigma: float,
    n_samples: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Per-sample estimates of d/dmu E_{z~N(mu, sigma²)}[f(z)] by reparameterisation.

    With z = mu + sigma·eps, the gradient passes through the sample: f'(mu + sigma·eps).

    Args:
        f: an elementwise differentiable function of a tensor.
        n_samples: number of independent single-sample estimates.

    Returns:
        (n_samples,) float64 estimates; their mean is unbiased.

    References: Kingma & Welling 2014, Sec. 2.4.
    """
    eps = torch.randn(n_samples, generator=generator, dtype=torch.float64)
    mu_t = torch.tensor(float(mu), dtype=torch.float64, requires_grad=True)
    z = mu_t + sigma * eps
    values = f(z)
    (grad_z,) = torch.autograd.grad(values.sum(), z)  # df/dz per sample; dz/dmu = 1
    return grad_z.detach()


def score_function_gradient(
    f: Callable[[torch.Tensor], torch.Tensor],
    mu: float,
    sigma: float,
    n_samples: int,
    generator: torch.Generator | None = None,
    baseline: float = 0.0,
) -> torch.Tensor:
    """Per-sample score-function (REINFORCE) estimates of d/dmu E_{z~N(mu, sigma²)}[f(z)].

    ``(f(z) - baseline) · d/dmu log N(z; mu, sigma²) = (f(z) - baseline)(z - mu)/sigma²``.
    Needs only values of f (f may be discrete or non-differentiable), but its variance
    grows with the size of f; a baseline (control variate) reduces it without bias.

    Returns:
        (n_samples,) float64 estimates.

    References: Williams 1992; Kingma & Welling 2014, Sec. 2.2.
    """
    eps = torch.randn(n_samples, generator=generator, dtype=torch.float64)
    z = mu + sigma * eps
    with torch.no_grad():
        values = f(z)
    return (values - baseline) * (z - mu) / sigma**2
