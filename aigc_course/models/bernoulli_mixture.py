"""The simplest generative models of binary images: independent pixels and a mixture.

A model of ``p(x)`` for binary images ``x ∈ {0, 1}^D``:

* independent Bernoulli pixels, ``p(x) = Π_d θ_d^{x_d} (1 − θ_d)^{1 − x_d}``, whose maximum-
  likelihood fit is the pixel mean (closed form);
* a mixture of ``K`` such products, ``p(x) = Σ_k π_k Π_d θ_{kd}^{x_d} (1 − θ_{kd})^{1 − x_d}``,
  fitted by expectation–maximisation (EM), which never decreases the training likelihood.

Both are learned, evaluated in nats per image and sampled: the whole loop of the course
on a model small enough to read in one screen.

References:
    Bishop, *Pattern Recognition and Machine Learning* (2006), §9.3.3 (mixtures of
    Bernoulli distributions) and §9.4 (EM never decreases the likelihood).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

_EPS = 1e-4  # keep θ inside (0, 1): a pixel never seen on must not get log 0


@dataclass(frozen=True)
class MixtureConfig:
    """Hyper-parameters of a mixture of Bernoulli products."""

    n_components: int = 20  # K
    n_pixels: int = 784  # D
    smoothing: float = 1.0  # pseudo-counts added in the M-step (a Beta(1+a, 1+a) prior)

    def __post_init__(self) -> None:
        if self.n_components < 1 or self.n_pixels < 1:
            raise ValueError(f"n_components and n_pixels must be ≥ 1, got {self}")
        if self.smoothing < 0:
            raise ValueError(f"smoothing must be ≥ 0, got {self.smoothing}")

    @classmethod
    def tiny(cls) -> MixtureConfig:
        return cls(n_components=3, n_pixels=784)


class BernoulliMixture(nn.Module):
    """A mixture of ``K`` independent-Bernoulli images (K = 1: independent pixels).

    Buffers (not parameters: EM updates them in closed form):
        logit_pi: (K,) log mixing weights, up to a constant.
        theta: (K, D) pixel-on probabilities of each component, in (0, 1).
    """

    def __init__(self, config: MixtureConfig) -> None:
        super().__init__()
        self.config = config
        k, d = config.n_components, config.n_pixels
        self.register_buffer("logit_pi", torch.zeros(k))
        self.register_buffer("theta", torch.full((k, d), 0.5))

    def component_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x | component k) for a batch of flat binary images.

        Args:
            x: (N, D) with values in {0, 1}.

        Returns:
            (N, K) log-likelihoods in nats.
        """
        if x.ndim != 2 or x.shape[1] != self.config.n_pixels:
            raise ValueError(f"x must be (N, {self.config.n_pixels}), got {tuple(x.shape)}")
        log_t, log_1mt = self.theta.log(), (-self.theta).log1p()  # (K, D)
        return x @ log_t.T + (1 - x) @ log_1mt.T  # (N, K)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, (N,), for flat binary images (N, D)."""
        log_pi = self.logit_pi.log_softmax(0)
        return torch.logsumexp(self.component_log_prob(x) + log_pi, dim=1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` images: pick a component by π, then each pixel by its θ. (n, D)."""
        k = torch.multinomial(self.logit_pi.softmax(0), n, replacement=True, generator=generator)
        return torch.bernoulli(self.theta[k], generator=generator)

    @torch.no_grad()
    def em_step(self, x: torch.Tensor) -> float:
        """One EM iteration on flat binary images ``x`` (N, D); returns the mean
        log-likelihood (nats per image) *before* the update."""
        comp = self.component_log_prob(x) + self.logit_pi.log_softmax(0)  # (N, K)
        log_px = torch.logsumexp(comp, dim=1, keepdim=True)
        resp = (comp - log_px).exp()  # E-step: responsibilities r_nk = p(k | x_n), (N, K)
        nk = resp.sum(0)  # (K,)
        a = self.config.smoothing
        self.theta = ((resp.T @ x + a) / (nk[:, None] + 2 * a)).clamp(_EPS, 1 - _EPS)
        self.logit_pi = (nk + 1e-8).log()
        return log_px.mean().item()


@torch.no_grad()
def fit_independent(x: torch.Tensor, smoothing: float = 1.0) -> BernoulliMixture:
    """Maximum-likelihood independent-pixel model: θ_d = (Σ_n x_nd + a) / (N + 2a),
    on ``x``'s device."""
    model = BernoulliMixture(MixtureConfig(1, x.shape[1], smoothing)).to(x.device)
    theta = (x.sum(0, keepdim=True) + smoothing) / (len(x) + 2 * smoothing)
    model.theta = theta.clamp(_EPS, 1 - _EPS)
    return model


@torch.no_grad()
def fit_mixture(
    x: torch.Tensor,
    config: MixtureConfig,
    n_iter: int = 30,
    generator: torch.Generator | None = None,
) -> tuple[BernoulliMixture, list[float]]:
    """Fit a mixture by EM from a random start (components seeded on random images).

    EM updates the model in closed form (no gradient steps), on ``x``'s device: put the
    data where the mixture should live.

    Args:
        x: (N, D) binary training images.
        config: the mixture's size.
        n_iter: EM iterations.
        generator: seeds the initialisation.

    Returns:
        The model and the training log-likelihood (nats per image) at every iteration,
        which EM guarantees never decreases (up to the smoothing prior's effect).
    """
    if len(x) < config.n_components:
        raise ValueError(f"need at least {config.n_components} images, got {len(x)}")
    model = BernoulliMixture(config).to(x.device)
    idx = torch.randperm(len(x), generator=generator)[: config.n_components].to(x.device)
    model.theta = (0.5 * x[idx] + 0.25).clamp(_EPS, 1 - _EPS)  # (K, D): near a random image
    history = [model.em_step(x) for _ in range(n_iter)]
    return model, history


def nats_to_bits_per_pixel(nats_per_image: float, n_pixels: int = 784) -> float:
    """Convert a negative log-likelihood in nats per image to bits per pixel."""
    return nats_per_image / (n_pixels * math.log(2))
