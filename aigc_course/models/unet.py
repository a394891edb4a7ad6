"""A small convolutional U-Net for 28×28 images: the denoiser of the diffusion chapter.

One interface serves both objectives of :mod:`aigc_course.diffusion`:
``model(x, t, labels=None)`` takes noisy images ``x`` (B, C, 28, 28), a float time ``t``
(B,) and optional class labels (B,), and returns a tensor of the shape of ``x`` (the
predicted noise ε for a DDPM model, the velocity ε − x₀ for a flow-matching model).

* ``t`` is embedded with sinusoids of ``t · time_scale``: a flow model's t ∈ [0, 1] uses
  ``time_scale=1000`` so that its embedding spans the same frequencies as a DDPM model's
  integer timesteps 0…999 with ``time_scale=1``.
* ``labels`` index ``n_classes + 1`` embeddings: the last one, ``n_classes``, is the *null
  label* of classifier-free guidance (Ho & Salimans 2022) and is what an unlabelled call
  uses. ``n_classes=0`` makes an unconditional model.
* No attention: at 28×28 on a CPU, a self-attention layer at 14×14 (196 tokens) costs more
  time than it buys quality at this size (the chapter measures the trade).

The layout is the one of Ho et al. 2020 (residual blocks with GroupNorm and SiLU, the time
embedding added inside every block, skip connections between the two halves), scaled
down: two resolutions below 28×28 (14×14 and 7×7).

References:
    Ronneberger, Fischer & Brox 2015, "U-Net"; Ho, Jain & Abbeel 2020, "Denoising
    Diffusion Probabilistic Models" (App. B); Ho & Salimans 2022, "Classifier-Free
    Diffusion Guidance".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class UNetConfig:
    """Hyper-parameters of :class:`UNet`.

    Attributes:
        channels: feature channels at 28×28, 14×14 and 7×7.
        blocks: residual blocks per resolution on the way down (the way up has one more).
        emb_dim: width of the time (and label) embedding.
        n_classes: number of classes for conditioning; 0 for an unconditional model.
        in_channels: image channels (1 for MNIST).
        time_scale: the embedding sees ``t * time_scale`` (1000 for t ∈ [0, 1]).
        groups: GroupNorm groups (must divide every entry of ``channels``).
        dropout: inside the residual blocks.
    """

    channels: tuple[int, int, int] = (32, 64, 64)
    blocks: int = 1
    emb_dim: int = 128
    n_classes: int = 0
    in_channels: int = 1
    time_scale: float = 1000.0
    groups: int = 8
    dropout: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if len(self.channels) != 3 or min(self.channels) < 1:
            raise ValueError(f"channels must be three positive widths, got {self.channels}")
        if any(c % self.groups for c in self.channels):
            raise ValueError(f"groups={self.groups} must divide every channel {self.channels}")
        if self.blocks < 1 or self.emb_dim < 2 or self.emb_dim % 2:
            raise ValueError("blocks must be >= 1 and emb_dim an even number >= 2")
        if self.n_classes < 0 or self.in_channels < 1:
            raise ValueError("n_classes must be >= 0 and in_channels >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @classmethod
    def tiny(cls, n_classes: int = 0) -> UNetConfig:
        """Seconds on a CPU: tests and smoke mode."""
        return cls(channels=(8, 16, 16), emb_dim=16, n_classes=n_classes, groups=4)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding (B,) → (B, dim) of Vaswani et al. 2017, as used by Ho et al. 2020:
    frequencies from 1 down to 1/10000, first half cosines, second half sines."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None]  # (B, half)
    return torch.cat([angles.cos(), angles.sin()], dim=1)


class ResBlock(nn.Module):
    """GroupNorm → SiLU → conv → (+ embedding) → GroupNorm → SiLU → dropout → conv, plus a skip."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, groups: int, dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]  # the time (and label) enter every block
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return h + self.skip(x)


class UNet(nn.Module):
    """Denoiser ``(x, t, labels) -> tensor like x`` for 1×28×28 images (see the module doc)."""

    def __init__(self, config: UNetConfig | None = None):
        super().__init__()
        self.config = cfg = config or UNetConfig()
        c0, c1, c2 = cfg.channels
        e = cfg.emb_dim
        self.time_mlp = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        self.label_emb = nn.Embedding(cfg.n_classes + 1, e) if cfg.n_classes else None
        block = lambda a, b: ResBlock(a, b, e, cfg.groups, cfg.dropout)
        self.conv_in = nn.Conv2d(cfg.in_channels, c0, 3, padding=1)
        # way down: blocks at 28, stride-2 conv to 14, blocks, stride-2 conv to 7, blocks
        widths = [c0, c1, c2]
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skips = [c0]
        c = c0
        for level, w in enumerate(widths):
            blocks = nn.ModuleList()
            for _ in range(cfg.blocks):
                blocks.append(block(c, w))
                c = w
                skips.append(c)
            self.down.append(blocks)
            if level < 2:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                skips.append(c)
        self.mid = nn.ModuleList([block(c, c), block(c, c)])
        # way up: one more block per level, each eating one skip
        self.up = nn.ModuleList()
        for w in reversed(widths):
            blocks = nn.ModuleList()
            for _ in range(cfg.blocks + 1):
                blocks.append(block(c + skips.pop(), w))
                c = w
            self.up.append(blocks)
        self.norm_out = nn.GroupNorm(cfg.groups, c)
        self.conv_out = nn.Conv2d(c, cfg.in_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # start as the zero predictor: a calm first step
        nn.init.zeros_(self.conv_out.bias)

    def embed(self, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """(B,) times and optional (B,) labels → (B, emb_dim)."""
        cfg = self.config
        emb = self.time_mlp(timestep_embedding(t * cfg.time_scale, cfg.emb_dim))
        if self.label_emb is not None:
            if labels is None:  # unlabelled call: the null label of classifier-free guidance
                labels = torch.full((len(t),), cfg.n_classes, device=t.device, dtype=torch.long)
            emb = emb + self.label_emb(labels)
        elif labels is not None:
            raise ValueError("this UNet is unconditional (n_classes=0) but got labels")
        return emb

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        if x.shape[-2:] != (28, 28) or x.shape[1] != self.config.in_channels:
            raise ValueError(
                f"UNet expects (B, {self.config.in_channels}, 28, 28) images, got {tuple(x.shape)}"
            )
        if t.ndim == 0:
            t = t.expand(len(x))
        emb = self.embed(t.to(x.device), labels)
        h = self.conv_in(x)
        hs = [h]
        for level, blocks in enumerate(self.down):
            for blk in blocks:
                h = blk(h, emb)
                hs.append(h)
            if level < 2:
                h = self.downsample[level](h)
                hs.append(h)
        for blk in self.mid:
            h = blk(h, emb)
        for i, blocks in enumerate(self.up):
            for blk in blocks:
                h = blk(torch.cat([h, hs.pop()], dim=1), emb)
            if i < 2:
                # 7 → 14 → 28; the next block's convolution smooths the nearest-neighbour copy
                h = F.interpolate(h, size=hs[-1].shape[-2:], mode="nearest")
        return self.conv_out(F.silu(self.norm_out(h)))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
