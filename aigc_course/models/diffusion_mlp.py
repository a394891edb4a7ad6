"""A small MLP denoiser for low-dimensional data (the 8-Gaussian ring).

It follows the diffusion chapter's model contract ``model(x, t, labels) -> same shape as
x`` and predicts either the noise (eps objective, t the timestep 0..T-1 as a float) or the
velocity (flow objective, t in [0, 1]); ``t_max`` maps both onto [0, 1] before a
sinusoidal (Fourier) embedding. A conditional model has ``n_classes + 1`` label
embeddings: the last one is the null label of classifier-free guidance.

References:
    Vaswani et al. 2017, Sec. 3.5 (sinusoidal embedding); Ho et al. 2020, App. B (the
    time embedding of the denoiser); Tancik et al. 2020 (Fourier features).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class DiffusionMLPConfig:
    """Sizes of the MLP denoiser.

    Attributes:
        data_dim: dimension d of a data point (2 for the ring).
        hidden: width of the hidden layers.
        n_layers: number of residual hidden blocks.
        time_dim: size of the sinusoidal time embedding (even).
        t_max: the value of t that maps to 1 (1.0 for flow models, T for eps models).
        n_classes: classes of a conditional model (None: unconditional).
    """

    data_dim: int = 2
    hidden: int = 128
    n_layers: int = 3
    time_dim: int = 32
    t_max: float = 1.0
    n_classes: int | None = None

    def __post_init__(self) -> None:
        if self.time_dim % 2:
            raise ValueError(f"time_dim must be even, got {self.time_dim}")
        if min(self.data_dim, self.hidden, self.n_layers) < 1:
            raise ValueError("data_dim, hidden and n_layers must be >= 1")
        if self.t_max <= 0:
            raise ValueError(f"t_max must be > 0, got {self.t_max}")

    @classmethod
    def tiny(cls, **overrides: object) -> DiffusionMLPConfig:
        """Seconds on a CPU: tests and smoke mode."""
        return cls(**{"hidden": 32, "n_layers": 2, "time_dim": 16, **overrides})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DiffusionMLPConfig:
        return cls(**d)


def sinusoidal_embedding(s: torch.Tensor, dim: int, max_freq: float = 1000.0) -> torch.Tensor:
    """(B,) times s in [0, 1] -> (B, dim) features ``[sin(w_k s), cos(w_k s)]`` with
    frequencies w_k spaced geometrically from 1 to ``max_freq``."""
    half = dim // 2
    freqs = torch.exp(torch.linspace(0.0, math.log(max_freq), half, device=s.device))
    angles = s.float()[:, None] * freqs[None]  # (B, half)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class _Block(nn.Module):
    """Residual block: ``h + W2 silu(W1 silu(h) + c)``, c the time/label conditioning."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return h + self.fc2(nn.functional.silu(self.fc1(nn.functional.silu(h)) + c))


class DiffusionMLP(nn.Module):
    """``model(x, t, labels)``: predicted noise or velocity, same shape as x.

    Args (forward):
        x: (B, data_dim) noised points.
        t: (B,) float times (timestep 0..T-1 or t in [0, 1]; see ``config.t_max``).
        labels: (B,) LongTensor in 0..n_classes (n_classes = null), or None.

    Returns:
        (B, data_dim).
    """

    def __init__(self, config: DiffusionMLPConfig) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.time_mlp = nn.Sequential(nn.Linear(config.time_dim, h), nn.SiLU(), nn.Linear(h, h))
        self.label_emb = (
            nn.Embedding(config.n_classes + 1, h) if config.n_classes is not None else None
        )
        self.inp = nn.Linear(config.data_dim, h)
        self.blocks = nn.ModuleList(_Block(h) for _ in range(config.n_layers))
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(h, config.data_dim))

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        s = t.to(x.device).float() / self.config.t_max  # (B,) in [0, 1]
        c = self.time_mlp(sinusoidal_embedding(s, self.config.time_dim))  # (B, hidden)
        if self.label_emb is not None:
            if labels is None:  # unconditional use of a conditional model: the null label
                labels = torch.full((x.shape[0],), self.config.n_classes, device=x.device)
            c = c + self.label_emb(labels)
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, c)
        return self.out(h)
