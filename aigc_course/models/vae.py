"""Variational autoencoders for 28×28 binarised images, MLP and convolutional.

Both variants share one interface, so one loss, one training loop and one importance-
weighted estimator serve them all:

* ``model(x)`` returns :class:`VAEOutput` ``(recon_logits, mu, logvar)``: the Bernoulli
  decoder's **logits** for a reparameterised sample ``z ~ q(z|x)``, and the parameters of
  the diagonal Gaussian encoder ``q(z|x) = N(mu, diag(exp(logvar)))``;
* ``model.encode(x) -> (mu, logvar)``, ``model.decode(z) -> logits``;
* ``model.sample(n, generator)`` returns decoder means ``sigmoid(logits)`` of prior draws.

The decoder returns logits, never probabilities: the Bernoulli log-likelihood is then
computed by ``F.binary_cross_entropy_with_logits``, which is exact and stable for
saturated pixels (a sigmoid followed by ``BCELoss`` clamps ``log 0`` and its gradient).

References:
    Kingma & Welling 2014, "Auto-Encoding Variational Bayes" (Sec. 2.4, App. C.2);
    Rezende, Mohamed & Wierstra 2014, "Stochastic Backpropagation and Approximate
    Inference in Deep Generative Models".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn

IMAGE_SHAPE = (1, 28, 28)
N_PIXELS = 784
ARCHS = ("mlp", "conv")


@dataclass(frozen=True)
class VAEConfig:
    """Hyper-parameters of a VAE on 1×28×28 images.

    Attributes:
        arch: ``"mlp"`` (fully connected) or ``"conv"`` (strided convolutions).
        latent_dim: size of z (2 for the manifold figure).
        hidden: MLP hidden widths, encoder order (the decoder mirrors them).
        channels: conv channels after the first and second stride-2 convolution.
        activation: ``"relu"`` or ``"tanh"`` (Burda et al. 2015 use tanh).
    """

    arch: str = "mlp"
    latent_dim: int = 20
    hidden: tuple[int, ...] = (400,)
    channels: tuple[int, int] = (32, 64)
    activation: str = "relu"

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch={self.arch!r} is unknown; use one of {ARCHS}")
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {self.latent_dim}")
        if self.activation not in ("relu", "tanh"):
            raise ValueError(f"activation={self.activation!r}; use 'relu' or 'tanh'")
        if self.arch == "mlp" and not self.hidden:
            raise ValueError("an MLP VAE needs at least one hidden layer")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))

    @classmethod
    def tiny(cls, arch: str = "mlp", latent_dim: int = 4) -> VAEConfig:
        """Seconds on a CPU: used by tests and by smoke mode."""
        return cls(arch=arch, latent_dim=latent_dim, hidden=(32,), channels=(4, 8))

    @classmethod
    def pytorch_example(cls) -> VAEConfig:
        """The pytorch/examples ``vae/main.py`` model: MLP 784-400-20, ReLU."""
        return cls(arch="mlp", latent_dim=20, hidden=(400,))

    def to_dict(self) -> dict:
        """JSON-able form (stored in checkpoint sidecars)."""
        d = asdict(self)
        d["hidden"], d["channels"] = list(self.hidden), list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> VAEConfig:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["hidden"], d["channels"] = tuple(d["hidden"]), tuple(d["channels"])
        return cls(**d)


class VAEOutput(NamedTuple):
    """What a VAE forward pass returns.

    Attributes:
        recon_logits: (B, 1, 28, 28) Bernoulli logits of p(x|z) at z ~ q(z|x).
        mu: (B, latent_dim) mean of q(z|x).
        logvar: (B, latent_dim) log-variance of q(z|x).
    """

    recon_logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor


def _act(name: str) -> nn.Module:
    return nn.ReLU() if name == "relu" else nn.Tanh()


def _mlp(sizes: list[int], act: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(_act(act))
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """A VAE with a diagonal Gaussian encoder and a Bernoulli decoder that returns logits.

    Example:
        >>> model = VAE(VAEConfig.tiny())
        >>> out = model(torch.rand(8, 1, 28, 28).bernoulli())
        >>> out.recon_logits.shape, out.mu.shape
        (torch.Size([8, 1, 28, 28]), torch.Size([8, 4]))
    """

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        d = config.latent_dim
        if config.arch == "mlp":
            h = list(config.hidden)
            # the encoder's last layer outputs [mu, logvar] together: (B, 2d)
            self.encoder = nn.Sequential(
                nn.Flatten(), _mlp([N_PIXELS, *h, 2 * d], config.activation)
            )
            self.decoder = nn.Sequential(
                _mlp([d, *h[::-1], N_PIXELS], config.activation), nn.Unflatten(1, IMAGE_SHAPE)
            )
        else:
            c1, c2 = config.channels
            act = config.activation
            self.encoder = nn.Sequential(
                nn.Conv2d(1, c1, 4, stride=2, padding=1),  # (B, c1, 14, 14)
                _act(act),
                nn.Conv2d(c1, c2, 4, stride=2, padding=1),  # (B, c2, 7, 7)
                _act(act),
                nn.Flatten(),
                nn.Linear(c2 * 49, 2 * d),
            )
            self.decoder = nn.Sequential(
                nn.Linear(d, c2 * 49),
                _act(act),
                nn.Unflatten(1, (c2, 7, 7)),
                nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),  # (B, c1, 14, 14)
                _act(act),
                nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28) logits
            )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Parameters of q(z|x).

        Args:
            x: (B, 1, 28, 28) images in [0, 1] (binarised for training).

        Returns:
            ``(mu, logvar)``, each (B, latent_dim).
        """
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits of p(x|z): (..., latent_dim) -> (..., 1, 28, 28)."""
        lead = z.shape[:-1]
        logits = self.decoder(z.reshape(-1, self.latent_dim))  # (prod(lead), 1, 28, 28)
        return logits.reshape(*lead, *IMAGE_SHAPE)

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I): a differentiable sample of q(z|x).

        References: Kingma & Welling 2014, Eq. (10); Rezende et al. 2014, Sec. 3.
        """
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> VAEOutput:
        """Encode, draw one reparameterised z, decode.

        Args:
            x: (B, 1, 28, 28) images.
            generator: optional source of the noise eps (for reproducible passes).
        """
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator)
        return VAEOutput(self.decode(z), mu, logvar)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decoder means sigmoid(logits) of n prior draws z ~ N(0, I), on the model's
        device (a ``generator`` must live there too).

        Returns:
            (n, 1, 28, 28) float32 in [0, 1].
        """
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator, device=device)
        return torch.sigmoid(self.decode(z)).float()


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
