"""The class-conditioned MNIST recipe of the Hugging Face diffusion class, as a model the
course's loop can train: what a new user copies first, kept as the chapter's reference
point (``aigc-course recipes diffusion_reference_mnist`` trains it at equal CPU time).
"""

from __future__ import annotations

import torch


class ClassConcatUNet(torch.nn.Module):
    """The class-conditioned recipe of the Hugging Face diffusion class, as a new user
    meets it: diffusers' ``UNet2DModel`` (blocks 32, 64, 64, two layers each, attention in
    the two lower down blocks and the two upper up blocks) whose input is the noisy image
    with a 4-dimensional class embedding appended as extra channels; it predicts the noise.
    Wrapped to the course's contract ``model(x, t, labels)``; ``attention=False`` swaps the
    attention blocks for plain ones, to measure what they cost."""

    def __init__(self, n_classes: int = 10, class_channels: int = 4, attention: bool = True):
        from types import SimpleNamespace

        from diffusers import UNet2DModel

        super().__init__()
        self.config = SimpleNamespace(n_classes=n_classes)  # what the samplers read
        self.class_emb = torch.nn.Embedding(n_classes, class_channels)
        self.unet = UNet2DModel(
            sample_size=28,
            in_channels=1 + class_channels,
            out_channels=1,
            layers_per_block=2,
            block_out_channels=(32, 64, 64),
            down_block_types=("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D")
            if attention
            else ("DownBlock2D",) * 3,
            up_block_types=("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D")
            if attention
            else ("UpBlock2D",) * 3,
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        cond = self.class_emb(labels)[:, :, None, None].expand(b, -1, h, w)
        return self.unet(torch.cat([x, cond], dim=1), t).sample
