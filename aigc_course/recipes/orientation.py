"""Recipe for the orientation chapter's checkpoint: a mixture of Bernoulli images on MNIST.

``aigc-course recipes bernoulli_mixture_mnist`` (part of ``make checkpoints``) writes
``pretrained/bernoulli_mixture_mnist``; load it with
``aigc_course.loading.load_pretrained("bernoulli_mixture_mnist")``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from ..checkpoint import pretrained_path, save_checkpoint
from ..config import by_mode, get_mode
from ..data.mnist import BINARISE_AT, binarise, load_mnist
from ..device import get_device
from ..models.bernoulli_mixture import MixtureConfig, fit_mixture

NAME = "bernoulli_mixture_mnist"
SEED = 0


def make() -> Path:
    """Fit the mixture by EM with this mode's budget and save it with its figures."""
    device = get_device()
    data = load_mnist(device=device, verbose=False)
    config = MixtureConfig(n_components=by_mode(smoke=5, workshop=30, full=30))
    n_iter = by_mode(smoke=5, workshop=40, full=40)
    x_train, x_test = binarise(data.x_train), binarise(data.x_test)
    model, history = fit_mixture(x_train, config, n_iter, torch.Generator().manual_seed(SEED))
    meta = {
        "family": "bernoulli_mixture",
        "config": asdict(config),
        "n_iter": n_iter,
        "data_source": data.source,
        "binarisation": f"fixed threshold {BINARISE_AT}",
        "mode": get_mode(),
        "seed": SEED,
        "device": str(device),
        "metrics": {
            "train_nll_nats": -model.log_prob(x_train).mean().item(),
            "test_nll_nats": -model.log_prob(x_test).mean().item(),
        },
        "history_train_ll": history,
        "recipe": f"aigc-course recipes {NAME}",
    }
    return save_checkpoint(pretrained_path(NAME), model.state_dict(), meta)
