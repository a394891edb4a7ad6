"""Recipe for the orientation chapter's checkpoint: a mixture of Bernoulli images on MNIST.

``python -m aigc_course.recipes bernoulli_mixture_mnist`` (part of ``make checkpoints``).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from ..checkpoint import pretrained_path, save_checkpoint
from ..config import by_mode, get_mode
from ..data import load_mnist
from ..models.bernoulli_mixture import BernoulliMixture, MixtureConfig, fit_mixture

NAME = "bernoulli_mixture_mnist"
BINARISE_AT = 0.5  # a pixel is "on" if its intensity is above one half


def binarise(x: torch.Tensor) -> torch.Tensor:
    """(N, 1, 28, 28) intensities in [0, 1] → (N, 784) binary pixels (fixed threshold)."""
    return (x.flatten(1) > BINARISE_AT).float()


def train_mixture(seed: int = 0) -> tuple[BernoulliMixture, dict]:
    """Fit the mixture with this mode's budget; returns the model and its metadata."""
    data = load_mnist(verbose=False)
    config = MixtureConfig(n_components=by_mode(smoke=5, workshop=30, full=30))
    n_iter = by_mode(smoke=5, workshop=40, full=40)
    x_train, x_test = binarise(data.x_train), binarise(data.x_test)
    model, history = fit_mixture(x_train, config, n_iter, torch.Generator().manual_seed(seed))
    meta = {
        "config": asdict(config),
        "n_iter": n_iter,
        "data_source": data.source,
        "binarisation": f"fixed threshold {BINARISE_AT}",
        "mode": get_mode(),
        "seed": seed,
        "metrics": {
            "train_nll_nats": -model.log_prob(x_train).mean().item(),
            "test_nll_nats": -model.log_prob(x_test).mean().item(),
        },
        "history_train_ll": history,
        "recipe": f"python -m aigc_course.recipes {NAME}",
    }
    return model, meta


def make() -> Path:
    model, meta = train_mixture()
    return save_checkpoint(pretrained_path(NAME), model.state_dict(), meta)


RECIPES = {NAME: make}
