"""GAN models: MLPs for the 1-D and 2-D toy problems, and a DCGAN for 28×28 MNIST.

Every discriminator returns **logits** (one real number per sample, shape ``(B,)``);
the losses apply the sigmoid inside ``BCEWithLogitsLoss``, which is numerically stable
where ``Sigmoid`` followed by ``BCELoss`` is not (log of a probability that has
underflowed to 0). Conditional models take the class label as a second argument:
``G(z, y)`` and ``D(x, y)``; unconditional ones accept and ignore ``y=None``.

Images are produced in [-1, 1] (``tanh``); rescale with :func:`to_unit` for display and
for the evaluation classifier, which reads [0, 1].

References:
    Goodfellow et al. 2014, "Generative Adversarial Nets" (the game).
    Radford, Metz, Chintala 2016, "Unsupervised Representation Learning with Deep
    Convolutional GANs" (DCGAN: strided convolutions, BatchNorm, ReLU/LeakyReLU, tanh
    output, N(0, 0.02) init, Adam(2e-4, β1=0.5)).
    Mirza, Osindero 2014, "Conditional Generative Adversarial Nets".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..device import model_device

IMAGE_SIZE = 28  # MNIST is 28×28; the generator must produce exactly this


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Map tanh outputs in [-1, 1] to [0, 1] (for plots and the evaluation classifier)."""
    return (x.clamp(-1, 1) + 1) / 2


def to_signed(x: torch.Tensor) -> torch.Tensor:
    """Map images in [0, 1] to [-1, 1], the range the generator's tanh produces."""
    return x * 2 - 1


# ----------------------------------------------------------------------------- toy GANs


@dataclass(frozen=True)
class AffineConfig:
    """The affine generator's one size: 1-D noise (the training loops read it here)."""

    latent_dim: int = 1


class AffineGenerator(nn.Module):
    """x = a·z + b on z ~ N(0, 1): p_g is N(b, a²), so D* has a closed form.

    Args:
        a, b: initial scale and shift (learned).
    """

    def __init__(self, a: float = 1.0, b: float = 0.0) -> None:
        super().__init__()
        self.config = AffineConfig()
        self.a = nn.Parameter(torch.tensor(float(a)))
        self.b = nn.Parameter(torch.tensor(float(b)))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z: (B, 1) → x: (B, 1)."""
        return self.a * z + self.b

    @property
    def mean(self) -> float:
        return float(self.b.detach())

    @property
    def std(self) -> float:
        return float(self.a.detach().abs())


@dataclass(frozen=True)
class MLPGANConfig:
    """Sizes of the toy MLP GAN (1-D or 2-D data)."""

    data_dim: int = 2
    latent_dim: int = 2  # nz
    hidden: int = 128
    n_layers: int = 3  # hidden layers in each network
    spectral_norm: bool = False  # divide each of D's weight matrices by its top singular value

    @classmethod
    def tiny(cls, data_dim: int = 2) -> MLPGANConfig:
        """Seconds on a CPU: tests and smoke mode."""
        return cls(data_dim=data_dim, latent_dim=2, hidden=16, n_layers=2)


def _mlp(d_in: int, hidden: int, n_layers: int, d_out: int, act: type[nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    d = d_in
    for _ in range(n_layers):
        layers += [nn.Linear(d, hidden), act()]
        d = hidden
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (B, latent_dim) → x (B, data_dim); no output squashing (toy data live in R^d)."""

    def __init__(self, config: MLPGANConfig) -> None:
        super().__init__()
        self.config = config
        self.net = _mlp(config.latent_dim, config.hidden, config.n_layers, config.data_dim, nn.ReLU)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """x (B, data_dim) → logits (B,). LeakyReLU keeps gradients alive for negative inputs.

    With ``config.spectral_norm`` every linear layer is reparameterised as W / σ_max(W)
    (one power iteration per training forward pass), so each layer and LeakyReLU are
    1-Lipschitz and so is the network.

    References: Miyato et al. 2018, "Spectral Normalization for GANs", Eq. 8 and Alg. 1.
    """

    def __init__(self, config: MLPGANConfig) -> None:
        super().__init__()
        self.config = config
        self.net = _mlp(config.data_dim, config.hidden, config.n_layers, 1, nn.LeakyReLU)
        if config.spectral_norm:
            for i, layer in enumerate(self.net):
                if isinstance(layer, nn.Linear):
                    self.net[i] = nn.utils.parametrizations.spectral_norm(layer)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).squeeze(-1)


# ----------------------------------------------------------------------------- DCGAN


@dataclass(frozen=True)
class DCGANConfig:
    """Hyper-parameters of the DCGAN for 28×28 one-channel images (DCGAN names).

    ``n_classes=0`` gives the unconditional model; ``n_classes=10`` the conditional one,
    where the generator reads a one-hot label next to z and the discriminator reads the
    label as ten constant one-hot planes next to the image.
    """

    latent_dim: int = 64  # nz
    g_features: int = 32  # ngf: channels of the last hidden generator layer
    d_features: int = 32  # ndf: channels of the first discriminator layer
    n_classes: int = 0  # 0: unconditional

    def __post_init__(self) -> None:
        if self.latent_dim < 1 or self.g_features < 1 or self.d_features < 1:
            raise ValueError(f"all sizes must be positive, got {self}")
        if self.n_classes < 0:
            raise ValueError(f"n_classes must be >= 0, got {self.n_classes}")

    @classmethod
    def tiny(cls, n_classes: int = 0) -> DCGANConfig:
        """Seconds on a CPU: tests and smoke mode."""
        return cls(latent_dim=8, g_features=8, d_features=8, n_classes=n_classes)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def _one_hot(y: torch.Tensor | None, n_classes: int, batch: int) -> torch.Tensor | None:
    if n_classes == 0:
        return None
    if y is None:
        raise ValueError("this is a conditional model: pass the class labels y, shape (B,)")
    if y.shape != (batch,):
        raise ValueError(f"y must have shape ({batch},), got {tuple(y.shape)}")
    if int(y.min()) < 0 or int(y.max()) >= n_classes:
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")
    return F.one_hot(y.long(), n_classes).float()


class DCGenerator(nn.Module):
    """z (B, nz) [+ label (B,)] → image (B, 1, 28, 28) in [-1, 1].

    7 → 14 → 28 by two stride-2 transposed convolutions (kernel 4, padding 1 doubles the
    size exactly). The usual 64×64 DCGAN stack (4 → 8 → 16 → 32 → 64) does not fit 28×28.
    """

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        nz, f = config.latent_dim + config.n_classes, config.g_features
        self.net = nn.Sequential(
            # (B, nz, 1, 1) → (B, 4f, 7, 7): a 7×7 "projection" of the code
            nn.ConvTranspose2d(nz, 4 * f, kernel_size=7, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(4 * f),
            nn.ReLU(inplace=True),
            # (B, 4f, 7, 7) → (B, 2f, 14, 14)
            nn.ConvTranspose2d(4 * f, 2 * f, kernel_size=4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * f),
            nn.ReLU(inplace=True),
            # (B, 2f, 14, 14) → (B, 1, 28, 28); no BatchNorm on the output layer (DCGAN §3)
            nn.ConvTranspose2d(2 * f, 1, kernel_size=4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z: (B, nz); y: (B,) int labels for a conditional model. Returns (B, 1, 28, 28)."""
        onehot = _one_hot(y, self.config.n_classes, z.shape[0])
        h = z if onehot is None else torch.cat([z, onehot.to(z.dtype)], dim=1)  # (B, nz+K)
        return self.net(h[:, :, None, None])  # (B, nz+K, 1, 1) → (B, 1, 28, 28)


class DCDiscriminator(nn.Module):
    """image (B, 1, 28, 28) [+ label (B,)] → logits (B,).

    Strided convolutions instead of pooling, LeakyReLU(0.2), BatchNorm everywhere except
    the input layer, and no sigmoid at the end (logits go to ``BCEWithLogitsLoss``).
    """

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        c_in, f = 1 + config.n_classes, config.d_features
        self.net = nn.Sequential(
            # (B, 1+K, 28, 28) → (B, f, 14, 14); no BatchNorm on the input layer (DCGAN §3)
            nn.Conv2d(c_in, f, kernel_size=4, stride=2, padding=1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # (B, f, 14, 14) → (B, 2f, 7, 7)
            nn.Conv2d(f, 2 * f, kernel_size=4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * f),
            nn.LeakyReLU(0.2, inplace=True),
            # (B, 2f, 7, 7) → (B, 1, 1, 1): one logit
            nn.Conv2d(2 * f, 1, kernel_size=7, stride=1, padding=0),
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, 1, 28, 28) in [-1, 1]; y: (B,) labels if conditional. Returns (B,)."""
        if x.shape[-2:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(
                f"the discriminator reads {IMAGE_SIZE}×{IMAGE_SIZE} images, got "
                f"{tuple(x.shape[-2:])}; a generator for 32×32 or 64×64 does not fit MNIST"
            )
        onehot = _one_hot(y, self.config.n_classes, x.shape[0])
        if onehot is not None:  # (B, K) → (B, K, 28, 28) constant planes
            planes = onehot.to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[-2:])
            x = torch.cat([x, planes], dim=1)
        return self.net(x).flatten()  # (B, 1, 1, 1) → (B,)


def dcgan_init_(module: nn.Module) -> None:
    """DCGAN initialisation, applied with ``model.apply(dcgan_init_)``.

    Convolution weights ~ N(0, 0.02); BatchNorm scale ~ N(1, 0.02), shift 0.

    References:
        Radford et al. 2016, §4 ("All weights were initialized from a zero-centered
        Normal distribution with standard deviation 0.02"). The BatchNorm scale
        N(1, 0.02) is not in the paper: it is the PyTorch DCGAN tutorial's ``weights_init``.
    """
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def build_dcgan(
    config: DCGANConfig, seed: int | None = None
) -> tuple[DCGenerator, DCDiscriminator]:
    """A generator and a discriminator for ``config``, DCGAN-initialised, in fp32 on CPU."""
    if seed is not None:
        torch.manual_seed(seed)
    G, D = DCGenerator(config), DCDiscriminator(config)
    G.apply(dcgan_init_)
    D.apply(dcgan_init_)
    return G, D


@torch.no_grad()
def sample_images(
    G: nn.Module,
    n: int,
    *,
    labels: torch.Tensor | None = None,
    seed: int = 0,
    batch_size: int = 500,
) -> torch.Tensor:
    """Draw ``n`` images from ``G`` in eval mode, reproducibly, on the device G is on.

    Args:
        G: a :class:`DCGenerator`, on any device (the noise is drawn on the CPU and moved
            there, so a seed gives the same codes on every device).
        labels: (n,) requested digits for a conditional generator.
        seed: the noise comes from a ``torch.Generator`` seeded with this (same seed,
            same images).

    Returns:
        (n, 1, 28, 28) float32 in [0, 1], on CPU.
    """
    device = model_device(G)
    was_training = G.training
    G.eval()
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.config.latent_dim, generator=g)
    out = []
    for i in range(0, n, batch_size):
        y = None if labels is None else labels[i : i + batch_size].to(device)
        out.append(to_unit(G(z[i : i + batch_size].to(device), y)).float().cpu())
    G.train(was_training)
    return torch.cat(out)


# ----------------------------------------------------------------------------- reference


class TutorialGenerator(nn.Module):
    """The PyTorch DCGAN tutorial's generator, adapted from 64×64 to 28×28 (one layer fewer).

    Kept as published otherwise: nz = 100, ngf = 64, no biases, input (B, nz, 1, 1).

    References: Inkawhich, "DCGAN Tutorial", pytorch.org/tutorials (beginner/dcgan_faces).
    """

    def __init__(self, nz: int = 100, ngf: int = 64) -> None:
        super().__init__()
        self.nz = nz
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False),  # (B, 4ngf, 7, 7)
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # (B, 2ngf, 14, 14)
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1, bias=False),  # (B, 1, 28, 28)
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.view(z.shape[0], self.nz, 1, 1))


class TutorialDiscriminator(nn.Module):
    """The tutorial's discriminator adapted to 28×28: it ends in ``Sigmoid`` (for ``BCELoss``)."""

    def __init__(self, ndf: int = 64) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False),  # (B, ndf, 14, 14)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # (B, 2ndf, 7, 7)
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False),  # (B, 1, 1, 1)
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)
