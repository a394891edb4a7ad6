"""Sampling chorales from a course language model trained on grid tokens."""

from __future__ import annotations

import torch

from ..data.chorales import Chorale
from .tokens import (
    BOUNDARY,
    GRID_STOI,
    decode_sample,
    encode_grid,
    melody_processor,
    voice_order_processor,
)


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


@torch.no_grad()
def harmonise(
    model: torch.nn.Module,
    chorale: Chorale,
    n: int,
    steps: int | None = None,
    temperature: float = 1.0,
    seed: int = 0,
) -> list[Chorale]:
    """``n`` harmonisations of ``chorale``'s soprano (its first ``steps`` steps): the
    soprano tokens are forced (:func:`~aigc_course.music.tokens.melody_processor`), the
    alto, tenor and bass sampled, step by step, left to right."""
    from ..device import model_device
    from ..sampling import generate

    steps = chorale.steps if steps is None else min(steps, chorale.steps)
    melody = [int(i) for i in encode_grid(chorale)[0::4][:steps]]
    device = model_device(model)
    prompt = torch.full((n, 1), GRID_STOI[BOUNDARY], dtype=torch.long, device=device)
    processors = [voice_order_processor(), melody_processor(melody)]
    out = generate(
        model,
        prompt,
        4 * steps,
        temperature=temperature,
        generator=torch.Generator().manual_seed(seed),
        logits_processors=processors,
    )
    return [
        decode_sample(r.cpu(), name=f"{chorale.name} harmonised {i}")[0] for i, r in enumerate(out)
    ]


def lower_voices_bits_per_step(model: torch.nn.Module, chorale: Chorale) -> float:
    """Bits per step the model spends on the alto, tenor and bass of ``chorale`` given its
    soprano and everything before (a chorale scored alone, from its boundary token)."""
    import math

    from ..metrics.text import sequence_nll

    ids = torch.cat([torch.tensor([GRID_STOI[BOUNDARY]]), torch.from_numpy(encode_grid(chorale))])
    nll = sequence_nll(model, ids)  # entry k scores token k + 1, i.e. grid token k
    lower = torch.arange(len(nll)) % 4 != 0  # not the soprano
    return float(nll[lower].sum()) / math.log(2) / chorale.steps
