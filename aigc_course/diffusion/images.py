"""Digits from a diffusion or flow model, and their scores on the course's instrument.

The models of the chapter work on images scaled to [−1, 1] (noise is zero-mean, so the data
should be too); everything a learner or a metric sees is in [0, 1], as for the DCGAN and
the VAE. :func:`sample_digits` is the one way the notebook, the recipes and the command line
draw digits, so the same seed gives the same images everywhere;
:func:`score_digits` is the GAN chapter's protocol (classifier FID, confident share, class
entropy, conditional accuracy) plus improved precision and recall.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..device import model_device

OBJECTIVES = ("flow", "eps")


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] → [−1, 1]."""
    return images * 2 - 1


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """[−1, 1] → [0, 1], clipped (a sampler can overshoot the data range slightly)."""
    return ((x + 1) / 2).clamp(0, 1)


@dataclass(frozen=True)
class SamplerSpec:
    """How to draw from a model: the objective it was trained with and the sampler settings.

    Attributes:
        objective: ``"flow"`` (velocity, t ∈ [0, 1]) or ``"eps"`` (noise, DDPM timesteps).
        steps: solver steps (network evaluations: steps for Euler and DDIM, about twice
            that for Heun, and twice again with guidance).
        method: ``"euler"`` / ``"heun"`` for flow models, ``"ddim"`` / ``"ddpm"`` for eps.
        guidance: classifier-free guidance scale (1 = plain conditional).
        schedule: ``"cosine"`` or ``"linear"`` (eps models only).
        T: training timesteps of an eps model.
    """

    objective: str = "flow"
    steps: int = 20
    method: str = "euler"
    guidance: float = 1.0
    schedule: str = "cosine"
    T: int = 1000

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective={self.objective!r}; use one of {OBJECTIVES}")
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        allowed = ("euler", "heun") if self.objective == "flow" else ("ddim", "ddpm")
        if self.method not in allowed:
            raise ValueError(
                f"method={self.method!r} does not fit a {self.objective} model; use {allowed}"
            )

    def nfe(self, conditional: bool) -> int:
        """Network evaluations per image (guidance doubles them)."""
        from .samplers import nfe

        return nfe(self.method, self.steps, guided=conditional and self.guidance != 1.0)


def sample_digits(
    model: nn.Module,
    n: int,
    spec: SamplerSpec | None = None,
    *,
    labels: torch.Tensor | None = None,
    seed: int = 0,
    batch_size: int = 500,
) -> torch.Tensor:
    """Draw ``n`` digits (n, 1, 28, 28) in [0, 1] on the CPU, from a model on any device.

    The starting noise of all ``n`` images is drawn at once on the CPU from a generator
    seeded with ``seed`` (same seed, same images, on every device and batch size); the
    sampler's own noise (DDPM only) comes from the same generator.
    """
    from .samplers import sample_eps, sample_flow
    from .schedule import cosine_schedule, linear_schedule

    spec = spec or SamplerSpec()
    n_classes = getattr(getattr(model, "config", None), "n_classes", 0) or None
    if labels is not None and n_classes is None:
        raise ValueError("labels were given but the model is unconditional")
    if labels is not None and len(labels) != n:
        raise ValueError(f"need one label per image: {len(labels)} labels for n={n}")
    device = model_device(model)
    was_training = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(0, n, batch_size):
        b = min(batch_size, n - i)
        y = None if labels is None else labels[i : i + b].to(device)
        kw = dict(steps=spec.steps, method=spec.method, generator=g)
        if y is not None:
            kw.update(labels=y, guidance=spec.guidance, n_classes=n_classes)
        if spec.objective == "flow":
            x = sample_flow(model, (b, 1, 28, 28), **kw)
        else:
            make = cosine_schedule if spec.schedule == "cosine" else linear_schedule
            x = sample_eps(model, (b, 1, 28, 28), make(spec.T), **kw)
        out.append(to_unit_range(x).float().cpu())
    model.train(was_training)
    return torch.cat(out)


def score_digits(
    classifier: nn.Module,
    images: torch.Tensor,
    reference: torch.Tensor,
    labels: torch.Tensor | None = None,
) -> dict[str, float]:
    """The course's scores of generated digits against real ``reference`` images (both in
    [0, 1]): classifier FID, confident share, class entropy, improved precision and recall
    (k = 3) in the classifier's feature space, and conditional accuracy when ``labels``
    (the requested digits) are given."""
    from ..metrics.image import (
        classify,
        conditional_accuracy,
        precision_recall,
        reference_stats,
        score_images,
    )

    out: dict[str, float] = score_images(
        classifier, images, reference_stats(classifier, reference)
    ).as_dict()
    pr = precision_recall(classify(classifier, reference)[0], classify(classifier, images)[0])
    out.update(precision=pr.precision, recall=pr.recall)
    if labels is not None:
        out["conditional_accuracy"] = conditional_accuracy(classifier, images, labels)
    return out
