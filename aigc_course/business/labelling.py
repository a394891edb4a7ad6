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
