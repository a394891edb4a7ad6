"""Recipes for the committed VAE checkpoints, and the reference they are measured against.

``aigc-course recipes vae_mnist`` trains, in one process and one time window:

1. the course recipe (:data:`COURSE`) for a fixed number of epochs, timing it;
2. the pytorch/examples VAE recipe (:data:`REFERENCE`: MLP 784-400-20, Adam 1e-3,
   batch 128) for the *same training time* (``max_seconds`` = the course recipe's
   training seconds), on the same device, data, split and protocol;

then scores both with the test ELBO and the IWAE bound at k = 1000 and writes
``pretrained/vae_mnist.safetensors`` with a JSON sidecar that records the recipe, the
data source, the protocol, both sets of figures and the training times.
``aigc-course recipes vae_mnist_2d`` makes the 2-D latent model for the manifold figure.
Load them with ``aigc_course.loading.load_pretrained("vae_mnist")``.

Training time is the loop's clock (wall-clock seconds of training, evaluation
excluded); CPU seconds of the process and the load average are recorded too. (The
committed ``vae_mnist`` was made when the budget counted CPU seconds; its sidecar says so
in ``reference.train_budget``.)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import save_checkpoint
from ..config import by_mode, get_mode, pretrained_dir
from ..device import get_device, seed_everything
from ..models.vae import VAE, VAEConfig
from ..training.core import History
from ..training.vae import (
    PROTOCOL,
    VAETrainConfig,
    evaluate,
    fit_vae,
    fixed_binarization,
    steps_per_epoch,
)

SEED = 0
EVAL_K = 1000


@dataclass(frozen=True)
class VAERecipe:
    """A model config, a training config (its ``steps`` set from ``epochs`` and the data
    size when it runs) and a line saying where it comes from."""

    name: str
    model: VAEConfig
    train: VAETrainConfig
    epochs: int
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model.to_dict(),
            "train": self.train.to_dict(),
            "epochs": self.epochs,
            "description": self.description,
        }


REFERENCE = VAERecipe(
    name="pytorch_examples_vae",
    model=VAEConfig.pytorch_example(),
    train=VAETrainConfig(batch_size=128, lr=1e-3),
    epochs=10,
    description=(
        "pytorch/examples vae/main.py: MLP 784-400-20 (ReLU), Adam lr 1e-3, batch 128, "
        "constant learning rate; here on the course's binarisation protocol"
    ),
)

COURSE = VAERecipe(
    name="vae_mnist",
    model=VAEConfig(arch="mlp", latent_dim=20, hidden=(400,)),
    train=VAETrainConfig(batch_size=128, lr=3e-3, cosine=True, min_lr_ratio=0.05),
    epochs=300,
    description=(
        "the reference model (MLP 784-400-20, batch 128) with a schedule that converges "
        "faster: Adam lr 3e-3 decayed on a cosine to 5 % over 300 epochs"
    ),
)

LATENT_2D = VAERecipe(
    name="vae_mnist_2d",
    model=VAEConfig(arch="mlp", latent_dim=2, hidden=(400,)),
    train=VAETrainConfig(batch_size=128, lr=3e-3, cosine=True, min_lr_ratio=0.05),
    epochs=150,
    description="a 2-D latent VAE for the manifold figure (same schedule as vae_mnist)",
)


def _train(
    recipe: VAERecipe, x_train: torch.Tensor, device: torch.device, cfg: VAETrainConfig
) -> tuple[VAE, History, float]:
    """Build the recipe's model (seeded) on ``device`` and train it; returns the model,
    its history and the CPU seconds the process spent training."""
    seed_everything(SEED)
    model = VAE(recipe.model).to(device)
    cpu0 = time.process_time()
    hist = fit_vae(model, x_train, cfg)
    return model, hist, time.process_time() - cpu0


def _epochs(recipe: VAERecipe, n_train: int) -> VAETrainConfig:
    """The recipe's config with this mode's number of passes over ``n_train`` images."""
    epochs = by_mode(smoke=2, workshop=20, full=recipe.epochs)
    return replace(recipe.train, steps=epochs * steps_per_epoch(n_train, recipe.train.batch_size))


def _timing(hist: History, cpu_seconds: float, n_train: int, batch_size: int, load0: float):
    return {
        "epochs": round(hist.steps / steps_per_epoch(n_train, batch_size), 2),
        "steps": hist.steps,
        "wall_seconds": round(hist.seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min_before": round(load0, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
    }


def _meta(recipe: VAERecipe, data, device: torch.device) -> dict[str, Any]:
    return {
        "family": "vae",
        "config": recipe.model.to_dict(),
        "recipe": recipe.to_dict(),
        "command": f"aigc-course recipes {recipe.name}",
        "data_source": data.source,
        "protocol": PROTOCOL,
        "mode": get_mode(),
        "seed": SEED,
        "device": str(device),
    }


def make_vae_mnist(out_dir: Path | None = None) -> Path:
    """Train the course recipe and, for the same training time, the reference; save the
    course model with both sets of figures. Returns the ``.safetensors`` path."""
    from ..data import load_mnist

    device = get_device()
    data = load_mnist(device=device)
    n = len(data.x_train)
    x_test = fixed_binarization(data.x_test)
    load0 = os.getloadavg()[0]
    model, hist, cpu = _train(COURSE, data.x_train, device, _epochs(COURSE, n))
    course_timing = _timing(hist, cpu, n, COURSE.train.batch_size, load0)
    # the reference gets exactly the training seconds the course recipe used
    ref_cfg = replace(REFERENCE.train, steps=10**9, max_seconds=hist.seconds)
    load1 = os.getloadavg()[0]
    ref_model, ref_hist, ref_cpu = _train(REFERENCE, data.x_train, device, ref_cfg)
    ref_timing = _timing(ref_hist, ref_cpu, n, REFERENCE.train.batch_size, load1)
    start = time.perf_counter()
    metrics = evaluate(model, x_test, EVAL_K)
    eval_seconds = time.perf_counter() - start
    ref_metrics = evaluate(ref_model, x_test, EVAL_K)
    meta = {
        **_meta(COURSE, data, device),
        "metrics": metrics,
        "training": course_timing,
        "iwae_eval_seconds": round(eval_seconds, 1),
        "reference": {
            "recipe": REFERENCE.to_dict(),
            "train_budget": (
                "the course recipe's training seconds on the same device (equal training time)"
            ),
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
    n = len(data.x_train)
    x_test = fixed_binarization(data.x_test)
    load0 = os.getloadavg()[0]
    model, hist, cpu = _train(LATENT_2D, data.x_train, device, _epochs(LATENT_2D, n))
    meta = {
        **_meta(LATENT_2D, data, device),
        "metrics": evaluate(model, x_test, EVAL_K),
        "training": _timing(hist, cpu, n, LATENT_2D.train.batch_size, load0),
    }
    return save_checkpoint((out_dir or pretrained_dir()) / LATENT_2D.name, model.state_dict(), meta)


N_VAL = 500


def compare_on_validation(
    recipes: tuple[VAERecipe, ...] = (COURSE, REFERENCE),
    seeds: tuple[int, ...] = (0, 1),
    epochs: int | None = None,
    k: int = EVAL_K,
) -> list[dict[str, Any]]:
    """Score recipes on a validation split carved from the training digits (the last
    :data:`N_VAL`, binarised once), never on the test set: the way a recipe decision is
    made. Each recipe trains on the other training digits for ``epochs`` passes (its own
    number if None) from each seed (initialisation, batches and noise).

    Returns:
        One row per recipe and seed: ``recipe``, ``seed``, ``val_elbo``, ``val_iwae``
        (k samples), ``cpu_seconds``.
    """
    from ..data import load_mnist

    device = get_device()
    data = load_mnist(device=device)
    x_fit, x_val = data.x_train[:-N_VAL], fixed_binarization(data.x_train[-N_VAL:])
    rows = []
    for recipe in recipes:
        n_steps = (epochs or recipe.epochs) * steps_per_epoch(len(x_fit), recipe.train.batch_size)
        for seed in seeds:
            seed_everything(seed)
            model = VAE(recipe.model).to(device)
            cpu0 = time.process_time()
            fit_vae(model, x_fit, replace(recipe.train, steps=n_steps, seed=seed))
            cpu = time.process_time() - cpu0
            m = evaluate(model, x_val, k)
            rows.append(
                {
                    "recipe": recipe.name,
                    "seed": seed,
                    "val_elbo": m["test_elbo"],
                    "val_iwae": -m["test_nll_iwae"],
                    "cpu_seconds": round(cpu, 1),
                }
            )
    return rows
