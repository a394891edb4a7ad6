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


@dataclass(frozen=True)
class DigitPipelineOutput:
    """What :class:`DigitPipeline` returns: ``images`` (N, 1, 28, 28) in [0, 1] on the
    CPU, and the requested ``labels`` (None for an unconditional model)."""

    images: torch.Tensor
    labels: torch.Tensor | None


class DigitPipeline:
    """A committed diffusion model behind the call shape of a diffusers pipeline::

        pipe = DigitPipeline.from_pretrained("cdiffusion_mnist")
        out = pipe(digits=[3, 1, 4], num_inference_steps=20, guidance_scale=2.0, seed=0)
        out.images  # (3, 1, 28, 28) in [0, 1]

    The defaults are the sampler settings recorded with the checkpoint (chosen on
    validation digits by its recipe).
    """

    def __init__(self, model: nn.Module, spec: SamplerSpec):
        self.model, self.spec = model, spec

    @classmethod
    def from_pretrained(cls, name: str, device: torch.device | str | None = None) -> DigitPipeline:
        from ..loading import load_pretrained

        model, meta = load_pretrained(name, device)
        return cls(model, SamplerSpec(**meta["sampler"]))

    def __call__(
        self,
        digits: list[int] | torch.Tensor | None = None,
        *,
        num_images: int | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        method: str | None = None,
        seed: int = 0,
    ) -> DigitPipelineOutput:
        """Draw one image per entry of ``digits`` (a conditional model), or ``num_images``
        images (an unconditional one)."""
        from dataclasses import replace

        spec = replace(
            self.spec,
            steps=num_inference_steps or self.spec.steps,
            guidance=self.spec.guidance if guidance_scale is None else guidance_scale,
            method=method or self.spec.method,
        )
        if digits is None:
            if num_images is None:
                raise ValueError("give digits=[...] (conditional model) or num_images=N")
            return DigitPipelineOutput(sample_digits(self.model, num_images, spec, seed=seed), None)
        labels = torch.as_tensor(digits, dtype=torch.long).flatten()
        if labels.numel() and not bool(((labels >= 0) & (labels <= 9)).all()):
            raise ValueError(f"digits must be 0..9, got {labels.tolist()}")
        images = sample_digits(self.model, len(labels), spec, labels=labels, seed=seed)
        return DigitPipelineOutput(images, labels)
