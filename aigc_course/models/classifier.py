"""A small MNIST classifier: the course's instrument for judging generated digits.

Its penultimate layer (``features``) plays the role that Inception-v3's pool features play
in the FID of Heusel et al. 2017: a Fréchet distance between the feature statistics of
real and generated images ("classifier FID"). Its softmax gives the share of confidently
classified samples and the histogram of predicted classes (mode coverage). The numbers
are comparable only with numbers from the same classifier checkpoint.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ClassifierConfig:
    """Sizes of the evaluation classifier."""

    channels: int = 32  # first conv layer; the second has twice as many
    feature_dim: int = 128  # the feature layer used for the Fréchet distance
    n_classes: int = 10
    dropout: float = 0.25

    @classmethod
    def tiny(cls) -> ClassifierConfig:
        return cls(channels=4, feature_dim=16)

    def to_dict(self) -> dict:
        return asdict(self)


class MNISTClassifier(nn.Module):
    """image (B, 1, 28, 28) in [0, 1] → logits (B, 10); ``features`` → (B, feature_dim)."""

    def __init__(self, config: ClassifierConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or ClassifierConfig()
        c = config.channels
        self.conv = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1),  # (B, c, 28, 28)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 3, padding=1),  # (B, 2c, 14, 14)
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # (B, 2c, 7, 7)
            nn.Flatten(),  # (B, 2c·49)
        )
        self.fc = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(2 * c * 49, config.feature_dim),
            nn.ReLU(inplace=True),  # features: (B, feature_dim), non-negative
        )
        self.head = nn.Linear(config.feature_dim, config.n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) in [0, 1] → (B, feature_dim)."""
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"expected (B, 1, 28, 28) images in [0, 1], got {tuple(x.shape)}")
        return self.fc(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
