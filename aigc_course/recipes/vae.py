"""Recipes for the committed VAE checkpoints, and the reference they are measured against.

``python -m aigc_course.recipes vae_mnist`` trains, in one process and one time window:

1. the course recipe (:data:`COURSE`) for a fixed number of epochs, timing it;
2. the pytorch/examples VAE recipe (:data:`REFERENCE`: MLP 784-400-20, Adam 1e-3,
   batch 128) for the *same training time*, on the same data, split and protocol;

then scores both with the test ELBO and the IWAE bound at k = 1000 and writes
``pretrained/vae_mnist.safetensors`` with a JSON sidecar that records the recipe, the
data source, the protocol, both sets of figures and the training times.
``python -m aigc_course.recipes vae_mnist_2d`` makes the 2-D latent model for the
manifold figure.

Time is counted in CPU seconds of the training process (``TrainConfig.clock="cpu"``):
on a shared machine, other users' load then does not shorten one run's budget more
than the other's. Wall-clock seconds and the load average are recorded too.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import load_checkpoint, pretrained_path, save_checkpoint
from ..config import by_mode, get_mode, pretrained_dir
from ..device import get_device, seed_everything
from ..models.vae import VAE, VAEConfig
from ..training.vae import PROTOCOL, TrainConfig, evaluate, fit, fixed_binarization

SEED = 0
EVAL_K = 1000


@dataclass(frozen=True)
class VAERecipe:
    """A model config, a training config and a line saying where it comes from."""

    name: str
    model: VAEConfig
    train: TrainConfig
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model.to_dict(),
            "train": self.train.to_dict(),
            "description": self.description,
        }


REFERENCE = VAERecipe(
    name="pytorch_examples_vae",
    model=VAEConfig.pytorch_example(),
    train=TrainConfig(epochs=10, batch_size=128, lr=1e-3),
    description=(
        "pytorch/examples vae/main.py: MLP 784-400-20 (ReLU), Adam lr 1e-3, batch 128, "
        "constant learning rate; here on the course's binarisation protocol"
    ),
)

COURSE = VAERecipe(
    name="vae_mnist",
    model=VAEConfig(arch="mlp", latent_dim=20, hidden=(400,)),
    train=TrainConfig(epochs=300, batch_size=128, lr=3e-3, cosine=True, min_lr_ratio=0.05),
    description=(
        "the reference model (MLP 784-400-20, batch 128) with a schedule that converges "
        "faster: Adam lr 3e-3 decayed on a cosine to 5 % over 300 epochs"
    ),
)

LATENT_2D = VAERecipe(
    name="vae_mnist_2d",
    model=VAEConfig(arch="mlp", latent_dim=2, hidden=(400,)),
    train=TrainConfig(epochs=150, batch_size=128, lr=3e-3, cosine=True, min_lr_ratio=0.05),
    description="a 2-D latent VAE for the manifold figure (same schedule as vae_mnist)",
)


def load_pretrained(name: str = "vae_mnist", device: torch.device | str = "cpu"):
    """The committed VAE ``name`` and its sidecar: ``(model in eval mode, meta)``.

    Raises:
        CheckpointError: the files are missing or do not fit the recorded config.
    """
    state, meta = load_checkpoint(pretrained_path(name), device=device)
    model = VAE(VAEConfig.from_dict(meta["config"])).to(device)
    model.load_state_dict(state)
    return model.eval(), meta


def train_recipe(
    recipe: VAERecipe,
    x_train: torch.Tensor,
    device: torch.device,
    *,
    train: TrainConfig | None = None,
    seed: int = SEED,
    progress: bool = False,
):
    """Build the recipe's model (seeded) and train it; returns ``(model, TrainResult)``."""
    seed_everything(seed)
    model = VAE(recipe.model).to(device)
    result = fit(model, x_train, train or recipe.train, device, progress=progress)
    return model, result


def _timing(result, load_before: float) -> dict[str, Any]:
    return {
        "epochs": result.epochs,
        "steps": result.steps,
        "wall_seconds": round(result.seconds, 1),
        "cpu_seconds": round(result.cpu_seconds, 1),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min_before": round(load_before, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
    }


def _budget(recipe: VAERecipe) -> TrainConfig:
    return replace(recipe.train, epochs=by_mode(smoke=2, workshop=20, full=recipe.train.epochs))


def make_vae_mnist(out_dir: Path | None = None) -> Path:
    """Train the course recipe and, for the same CPU time, the reference; save the course
    model with both sets of figures. Returns the ``.safetensors`` path."""
    from ..data import load_mnist

    device = get_device()
    data = load_mnist(device=device)
    x_test = fixed_binarization(data.x_test)
    load0 = os.getloadavg()[0]
    model, res = train_recipe(COURSE, data.x_train, device, train=_budget(COURSE), progress=True)
    course_timing = _timing(res, load0)
    # the reference gets exactly the CPU time the course recipe used
    ref_train = replace(REFERENCE.train, epochs=100_000, time_budget_s=res.cpu_seconds, clock="cpu")
    load1 = os.getloadavg()[0]
    ref_model, ref_res = train_recipe(REFERENCE, data.x_train, device, train=ref_train)
    ref_timing = _timing(ref_res, load1)
    start = time.perf_counter()
    metrics = evaluate(model, x_test, EVAL_K)
    eval_seconds = time.perf_counter() - start
    ref_metrics = evaluate(ref_model, x_test, EVAL_K)
    meta = {
        "config": COURSE.model.to_dict(),
        "recipe": COURSE.to_dict(),
        "command": "python -m aigc_course.recipes vae_mnist",
        "data_source": data.source,
        "protocol": PROTOCOL,
        "mode": get_mode(),
        "seed": SEED,
        "device": str(device),
        "metrics": metrics,
        "training": course_timing,
        "iwae_eval_seconds": round(eval_seconds, 1),
        "reference": {
            "recipe": REFERENCE.to_dict(),
            "train_budget": "the course recipe's CPU seconds (equal training time)",
            "metrics": ref_metrics,
            "training": ref_timing,
        },
        "nats_better_than_reference": {
            "test_elbo": metrics["test_elbo"] - ref_metrics["test_elbo"],
            f"test_iwae_k{EVAL_K}": ref_metrics["test_nll_iwae"] - metrics["test_nll_iwae"],
        },
    }
    return save_checkpoint((out_dir or pretrained_dir()) / COURSE.name, model.state_dict(), meta)


def make_vae_mnist_2d(out_dir: Path | None = None) -> Path:
    """Train the 2-D latent VAE for the manifold figure and save it."""
    from ..data import load_mnist

    device = get_device()
    data = load_mnist(device=device)
    x_test = fixed_binarization(data.x_test)
    load0 = os.getloadavg()[0]
    model, res = train_recipe(LATENT_2D, data.x_train, device, train=_budget(LATENT_2D))
    meta = {
        "config": LATENT_2D.model.to_dict(),
        "recipe": LATENT_2D.to_dict(),
        "command": "python -m aigc_course.recipes vae_mnist_2d",
        "data_source": data.source,
        "protocol": PROTOCOL,
        "mode": get_mode(),
        "seed": SEED,
        "device": str(device),
        "metrics": evaluate(model, x_test, EVAL_K),
        "training": _timing(res, load0),
    }
    return save_checkpoint((out_dir or pretrained_dir()) / LATENT_2D.name, model.state_dict(), meta)


RECIPES = {"vae_mnist": make_vae_mnist, "vae_mnist_2d": make_vae_mnist_2d}
