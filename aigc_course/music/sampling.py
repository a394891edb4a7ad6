"""Sampling chorales from a course language model trained on grid tokens."""

from __future__ import annotations

import torch

from ..data.chorales import Chorale
from .tokens import BOUNDARY, GRID_STOI, decode_sample, voice_order_processor


@torch.no_grad()
def sample_chorales(
    model: torch.nn.Module, n: int, steps: int, temperature: float = 1.0, seed: int = 0
) -> list[Chorale]:
    """``n`` chorales of ``steps`` sixteenth-note steps each.

    Sampled with :func:`aigc_course.sampling.generate` from a boundary token, with the
    :func:`~aigc_course.music.tokens.voice_order_processor` (so every sample is a
    well-formed grid of exactly ``steps`` steps), on the model's device. The same
    ``seed`` gives the same chorales.
    """
    from ..device import model_device
    from ..sampling import generate

    if n < 1 or steps < 1:
        raise ValueError(f"need n ≥ 1 and steps ≥ 1, got n={n}, steps={steps}")
    device = model_device(model)
    prompt = torch.full((n, 1), GRID_STOI[BOUNDARY], dtype=torch.long, device=device)
    out = generate(
        model,
        prompt,
        4 * steps,
        temperature=temperature,
        generator=torch.Generator().manual_seed(seed),
        logits_processors=[voice_order_processor()],
    )
    return [decode_sample(row.cpu(), name=f"sample{i}")[0] for i, row in enumerate(out)]
