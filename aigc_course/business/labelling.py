"""Synthetic data to cut labelling cost: the experiment and its arithmetic.

A digit classifier is trained on a few labelled images per class, with or without
class-conditional samples from a generator, and scored on held-out test digits over
several seeds. :func:`labels_saved` turns the accuracy gain into the number of real
labels that would have given the same accuracy, by interpolating the real-only
learning curve in log(labels).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..training.classifier import ClassifierTrainConfig
from ..training.classifier import fit_classifier as train

# a generator of labelled images: (labels (n,), seed) -> images (n, 1, 28, 28) in [0, 1]
ConditionalSampler = Callable[[torch.Tensor, int], torch.Tensor]


def few_labels(
    x: torch.Tensor, y: torch.Tensor, per_class: int, seed: int, n_classes: int = 10
) -> tuple[torch.Tensor, torch.Tensor]:
    """A stratified random subset: ``per_class`` labelled images of each class.

    Raises:
        ValueError: if a class has fewer than ``per_class`` images.
    """
    g = torch.Generator().manual_seed(seed)
    picks = []
    for c in range(n_classes):
        idx = torch.nonzero(y.cpu() == c).flatten()
        if len(idx) < per_class:
            raise ValueError(f"class {c} has {len(idx)} images, fewer than {per_class}")
        picks.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    idx = torch.cat(picks).to(x.device)
    return x[idx], y[idx]


def balanced_labels(per_class: int, n_classes: int = 10) -> torch.Tensor:
    """(per_class · n_classes,) labels 0,0,…,1,1,…: what to ask a conditional generator for."""
    return torch.arange(n_classes).repeat_interleave(per_class)


def fit_classifier(
    x: torch.Tensor, y: torch.Tensor, *, steps: int, seed: int, hidden: int = 128
) -> nn.Module:
    """A small MLP digit classifier, trained full-batch (AdamW, lr 3e-3, weight decay
    1e-2) with :func:`aigc_course.training.classifier.fit_classifier`, on ``x``'s device.

    Deliberately cheap, so that an experiment of dozens of classifiers (budgets ×
    seeds × conditions) runs in a class: the question is how accuracy moves with the
    training data, not how high a state-of-the-art network can go.

    Args:
        x: (N, 1, 28, 28) images in [0, 1]; y: (N,) labels.
        steps: full-batch optimisation steps.
        seed: seeds the initialisation.
    """
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    model.to(x.device)
    cfg = ClassifierTrainConfig(
        steps=steps, batch_size=len(x), lr=3e-3, weight_decay=1e-2, seed=seed
    )
    train(model, x, y, cfg)
    return model.eval()


@torch.no_grad()
def test_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of ``x`` classified as ``y``."""
    return (model(x).argmax(1) == y).float().mean().item()


@dataclass(frozen=True)
class Run:
    """One trained classifier."""

    condition: str
    per_class: int
    seed: int
    accuracy: float


def learning_curve(
    runs: Sequence[Run], condition: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels per class, mean accuracy, std over seeds) of one condition, sorted."""
    per = sorted({r.per_class for r in runs if r.condition == condition})
    if not per:
        raise ValueError(f"no runs for condition {condition!r}")
    accs = [
        [r.accuracy for r in runs if r.condition == condition and r.per_class == p] for p in per
    ]
    return np.array(per), np.array([np.mean(a) for a in accs]), np.array([np.std(a) for a in accs])


def equivalent_labels(per_class: np.ndarray, accuracy: np.ndarray, target: float) -> float:
    """Labels per class that the real-only curve needs to reach ``target`` accuracy.

    Interpolates linearly in log(labels) between measured points. Returns ``nan`` below
    the curve's first point and ``inf`` above its last (the gain is then "more than we
    measured", and must not be extrapolated into money).
    """
    if target < accuracy[0]:
        return math.nan
    if target > accuracy.max():
        return math.inf
    logs = np.log(per_class.astype(float))
    acc = np.maximum.accumulate(accuracy)  # a learning curve is taken as non-decreasing
    i = int(np.searchsorted(acc, target))
    if i == 0 or acc[i] == acc[i - 1]:
        return float(per_class[i])
    frac = (target - acc[i - 1]) / (acc[i] - acc[i - 1])
    return float(math.exp(logs[i - 1] + frac * (logs[i] - logs[i - 1])))


def labels_saved(
    runs: Sequence[Run], condition: str, baseline: str = "real only", n_classes: int = 10
) -> list[tuple[int, float]]:
    """For each budget: (labels per class, labels saved in total) by ``condition``.

    Labels saved = n_classes · (labels the baseline needs for the same mean accuracy −
    labels used). Negative means the synthetic data hurt; ``inf`` means the gain went
    beyond the largest budget measured; ``nan`` means the accuracy fell below the
    smallest budget measured (it hurt, by an amount the curve cannot price).
    """
    per, acc_base, _ = learning_curve(runs, baseline)
    per_c, acc_c, _ = learning_curve(runs, condition)
    return [
        (int(p), n_classes * (equivalent_labels(per, acc_base, a) - p))
        for p, a in zip(per_c, acc_c, strict=True)
    ]


def paired_labels_saved(
    runs: Sequence[Run], condition: str, baseline: str = "real only", n_classes: int = 10
) -> dict[int, np.ndarray]:
    """Labels saved per budget, **one value per seed**: each seed's ``condition`` run is
    priced on the same seed's ``baseline`` learning curve (same labelled subsets), so
    the spread over seeds gives a paired interval for :func:`labels_saved`.

    Returns:
        {labels per class: (n_seeds,) labels saved in total, ordered by seed}; a seed's
        value is ``nan`` or ``inf`` where :func:`equivalent_labels` is.
    """
    seeds = sorted({r.seed for r in runs if r.condition == condition})
    out: dict[int, list[float]] = {}
    for seed in seeds:
        mine = [r for r in runs if r.seed == seed]
        per, acc_base, _ = learning_curve(mine, baseline)
        for r in sorted(mine, key=lambda r: r.per_class):
            if r.condition == condition:
                saved = equivalent_labels(per, acc_base, r.accuracy) - r.per_class
                out.setdefault(r.per_class, []).append(n_classes * saved)
    return {p: np.array(v) for p, v in sorted(out.items())}


def augment(
    x: torch.Tensor, copies: int, seed: int, max_shift: float = 2.0, max_degrees: float = 15.0
) -> torch.Tensor:
    """Classical augmentation: ``copies`` randomly shifted and rotated versions of each
    image (bilinear, zero padding), the first baseline a team tries before a generator.

    Args:
        x: (N, 1, 28, 28) images in [0, 1].
        copies: versions per image.
        seed: seeds the random shifts (pixels, ±max_shift) and rotations (±max_degrees).

    Returns:
        (N · copies, 1, 28, 28), image-major (the copies of image 0 first), on x's device.
    """
    if copies < 1:
        raise ValueError(f"copies must be ≥ 1, got {copies}")
    g = torch.Generator().manual_seed(seed)
    n = x.size(0) * copies
    angle = (torch.rand(n, generator=g) * 2 - 1) * math.radians(max_degrees)
    shift = (torch.rand(n, 2, generator=g) * 2 - 1) * max_shift * 2 / x.size(-1)  # grid units
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )  # (n, 2, 3)
    src = x.repeat_interleave(copies, dim=0)
    grid = nn.functional.affine_grid(theta.to(x), list(src.shape), align_corners=False)
    return nn.functional.grid_sample(src, grid, align_corners=False).clamp(0, 1)
