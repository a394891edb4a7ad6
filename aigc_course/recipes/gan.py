"""Recipes for the GAN chapter's committed artifacts (the registry runs them in order)::

    aigc-course recipes mnist_classifier       # the evaluation instrument
    aigc-course recipes gan_ring_8gaussians    # vanilla GAN, WGAN-GP, SN-GAN on the ring
    aigc-course recipes dcgan_mnist            # unconditional DCGAN (+ its history)
    aigc-course recipes cdcgan_mnist           # class-conditional DCGAN (+ its history)
    aigc-course recipes dcgan_reference_mnist  # PyTorch-tutorial recipe, same time

Recipes only write. Every generator is scored with the committed classifier by
:func:`aigc_course.metrics.image.evaluate_generator`; the numbers go into the JSON sidecar
and notebook 02 checks that the committed weights still reproduce them. Load the results
with :func:`aigc_course.loading.load_pretrained`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import pretrained_path, save_checkpoint
from ..config import by_mode, get_mode

SEED = 0
CLASSIFIER = "mnist_classifier"
DCGAN = "dcgan_mnist"
CDCGAN = "cdcgan_mnist"
REFERENCE = "dcgan_reference_mnist"
RING = "gan_ring_8gaussians"
RING_SEEDS = (0, 1, 2)
RING_FULL_STEPS = 1000
RING_D_LAYERS = (1, 3)  # the discriminator's hidden layers: collapses with 1
RING_EVERY = 100
REFERENCE_SECONDS = 500.0


def _recipe(name: str) -> str:
    return f"aigc-course recipes {name}"


def mnist_classifier() -> Path:
    """Train the evaluation classifier on the training split; record test accuracy."""
    from ..data import load_mnist
    from ..device import get_device, seed_everything
    from ..metrics.image import accuracy
    from ..models.classifier import ClassifierConfig, MNISTClassifier
    from ..training.classifier import ClassifierTrainConfig, fit_classifier
    from ..training.core import ProgressBar

    seed_everything(SEED)
    device = get_device()
    data = load_mnist()
    config = ClassifierConfig()
    model = MNISTClassifier(config).to(device)
    epochs = by_mode(smoke=1, workshop=5, full=20)
    per_epoch = math.ceil(len(data.x_train) / 128)
    train = ClassifierTrainConfig(
        steps=epochs * per_epoch, batch_size=128, lr=2e-3, seed=SEED, schedule="onecycle", shift=2
    )
    hist = fit_classifier(model, data.x_train, data.y_train, train, callbacks=[ProgressBar()])
    last_epoch = hist["loss"][-per_epoch:]
    meta = {
        "family": "mnist_classifier",
        "config": config.to_dict(),
        "train": train.to_dict(),
        "data_source": data.source,
        "mode": get_mode(),
        "seed": SEED,
        "metrics": {
            "test_accuracy": accuracy(model, data.x_test, data.y_test),
            "n_test": len(data.x_test),
            "train_loss": sum(last_epoch) / len(last_epoch),
            "seconds": hist.seconds,
        },
        "device": str(device),
        "recipe": _recipe(CLASSIFIER),
    }
    return save_checkpoint(pretrained_path(CLASSIFIER), model.state_dict(), meta)


def course_train_config(mode: str | None = None, conditional: bool = False):
    """The course DCGAN recipe: batch 64, Adam(2e-4, (0.5, 0.999)), steps by mode.

    Full mode trains the unconditional model for 9,000 steps (about 8 minutes on one
    core of a 2-core CPU); the conditional one learns faster (the label tells it which
    digit to draw) and keeps 2,500.
    """
    from ..training.gan import GANTrainConfig

    steps = by_mode(smoke=20, workshop=200, full=2500 if conditional else 9000, mode=mode)
    return GANTrainConfig(steps=steps, batch_size=64, lr=2e-4, betas=(0.5, 0.999), seed=SEED)


def _train_dcgan(name: str, n_classes: int) -> tuple[Path, dict]:
    from ..data import load_mnist
    from ..device import get_device, seed_everything
    from ..loading import load_pretrained
    from ..metrics.image import EVAL_N, EVAL_SEED, evaluate_generator
    from ..models.gan import DCGANConfig, build_dcgan, to_signed
    from ..training.core import ProgressBar
    from ..training.gan import fixed_noise, train_gan

    seed_everything(SEED)
    device = get_device()
    data = load_mnist()
    config = DCGANConfig(n_classes=n_classes)
    G, D = build_dcgan(config, seed=SEED)
    G, D = G.to(device), D.to(device)
    train = course_train_config(conditional=bool(n_classes))
    fixed_z = torch.randn(16, config.latent_dim, generator=torch.Generator().manual_seed(1234))
    fixed_y = (torch.arange(16) % 10) if n_classes else None
    snapshots = fixed_noise(fixed_z, fixed_y, every=max(1, train.steps // 10))
    labels = data.y_train if n_classes else None
    callbacks = [ProgressBar("GAN"), snapshots]
    hist = train_gan(G, D, to_signed(data.x_train), labels, train, callbacks=callbacks)
    classifier, cmeta = load_pretrained(CLASSIFIER, device)
    metrics: dict[str, Any] = evaluate_generator(G, classifier, data.x_test)
    metrics.update(train_seconds=hist.seconds, steps=hist.steps)
    meta = {
        "family": "dcgan_generator",
        "config": config.to_dict(),
        "data_source": data.source,
        "mode": get_mode(),
        "seed": SEED,
        "train": train.to_dict(),
        "metrics": metrics,
        "metrics_protocol": (
            f"{EVAL_N} samples, noise seed {EVAL_SEED}, against the {len(data.x_test)} "
            f"test images, classifier {CLASSIFIER} (accuracy "
            f"{cmeta['metrics']['test_accuracy']:.4f})"
        ),
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "recipe": _recipe(name),
    }
    path = save_checkpoint(pretrained_path(name), G.state_dict(), meta)
    curves = {k: torch.tensor(hist[k]) for k in ("loss_D", "loss_G", "D_real", "D_fake")}
    curves["snapshot_steps"] = torch.tensor([s for s, _ in hist.snapshots])
    curves["snapshots"] = torch.stack([im for _, im in hist.snapshots]).half()  # (S, 16, 1, 28, 28)
    record = {**meta, "family": "record", "what": "history"}
    save_checkpoint(pretrained_path(name + "_history"), curves, record)
    return path, meta


def dcgan_mnist() -> Path:
    """Unconditional course DCGAN (needs ``mnist_classifier`` for its metrics)."""
    return _train_dcgan(DCGAN, 0)[0]


def cdcgan_mnist() -> Path:
    """Class-conditional course DCGAN."""
    return _train_dcgan(CDCGAN, 10)[0]


def dcgan_reference_mnist(seconds: float = REFERENCE_SECONDS) -> Path:
    """The PyTorch DCGAN tutorial recipe, trained for ``seconds`` of training time on the
    device the course recipe uses (:func:`aigc_course.device.get_device`).

    The budget is set at or above the course recipe's recorded training time (compare
    ``metrics.train_seconds`` of both sidecars), so the comparison never favours the
    course recipe by giving it more time. Saves 64 samples (not the weights) and the
    metrics on the same protocol as the course generators.
    """
    from ..data import load_mnist
    from ..device import get_device, seed_everything
    from ..loading import load_pretrained
    from ..metrics.image import EVAL_N, EVAL_SEED, reference_stats, score_images
    from ..models.gan import (
        TutorialDiscriminator,
        TutorialGenerator,
        dcgan_init_,
        to_signed,
        to_unit,
    )
    from ..training.core import TrainConfig
    from ..training.gan import train_reference_dcgan

    seed_everything(SEED)
    device = get_device()
    data = load_mnist()
    G, D = TutorialGenerator(), TutorialDiscriminator()
    G.apply(dcgan_init_)
    D.apply(dcgan_init_)
    G, D = G.to(device), D.to(device)
    budget = by_mode(smoke=5.0, workshop=60.0, full=seconds)
    train = TrainConfig(steps=10**9, batch_size=128, lr=2e-4, seed=SEED, max_seconds=budget)
    hist = train_reference_dcgan(G, D, to_signed(data.x_train), train)
    G.eval()
    with torch.no_grad():
        z = torch.randn(EVAL_N, 100, generator=torch.Generator().manual_seed(EVAL_SEED))
        images = to_unit(G(z.to(device))).cpu()
    classifier, _ = load_pretrained(CLASSIFIER, device)
    metrics = score_images(classifier, images, reference_stats(classifier, data.x_test)).as_dict()
    metrics.update(train_seconds=hist.seconds, steps=hist.steps)
    meta = {
        "family": "record",
        "config": {"nz": 100, "ngf": 64, "ndf": 64, "batch_size": 128, "lr": 2e-4, "beta1": 0.5},
        "data_source": data.source,
        "mode": get_mode(),
        "seed": SEED,
        "metrics": metrics,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "what": "samples of the PyTorch DCGAN tutorial recipe at the course recipe's wall-clock",
        "recipe": _recipe(REFERENCE),
    }
    return save_checkpoint(pretrained_path(REFERENCE), {"samples": images[:64]}, meta)


def ring_steps(mode: str | None = None) -> dict[str, int]:
    """Generator steps for the ring experiment, by variant and mode."""
    return {
        "bce": by_mode(smoke=40, workshop=600, full=RING_FULL_STEPS, mode=mode),
        "wgan-gp": by_mode(smoke=20, workshop=400, full=RING_FULL_STEPS, mode=mode),
        "bce-sn": by_mode(smoke=40, workshop=600, full=RING_FULL_STEPS, mode=mode),
    }


def gan_ring_8gaussians() -> Path:
    """Vanilla GAN, WGAN-GP and a spectrally normalised GAN on the 8-Gaussian ring, with
    the same generator and a discriminator of one hidden layer (Metz et al. 2017's size,
    with which the vanilla GAN collapses) or three, over seeds: final samples (float16)
    and coverage during training. No weights: the results are what the notebook shows."""
    from ..device import seed_everything
    from ..metrics.image import ring_centers, ring_scores
    from ..training.gan import RING_VARIANTS, ring_config, train_ring_gan

    seed_everything(SEED)
    steps = ring_steps()
    tensors, results = {}, {}
    runs = [(v, d, seed) for d in RING_D_LAYERS for v in RING_VARIANTS for seed in RING_SEEDS]
    for variant, d_layers, seed in runs:
        out = train_ring_gan(
            variant, seed, steps[variant], d_layers=d_layers, eval_every=RING_EVERY
        )
        r = ring_scores(out["samples"], ring_centers(), 0.05)
        key = f"{variant}/D{d_layers}/seed{seed}"
        tensors[key] = out["samples"].half()
        tensors[key + "/coverage"] = torch.tensor(out["coverage"], dtype=torch.float32)
        results[key] = {
            "modes_covered": r.modes_covered,
            "high_quality": r.high_quality,
            "mode_jsd": r.mode_jsd,
            "counts": list(r.counts),
            "seconds": out["history"].seconds,
            "steps": out["history"].steps,
        }
        print(key, results[key], flush=True)
    settings = {}
    for variant in RING_VARIANTS:
        c = ring_config(variant, steps[variant])
        settings[variant] = {
            "loss": c.loss,
            "lr": c.lr,
            "betas": list(c.betas),
            "n_critic": c.n_critic,
            "gp_weight": c.gp_weight if c.loss == "wgan-gp" else None,
            "spectral_norm": variant == "bce-sn",
        }
    config = {
        "sigma": 0.05,
        "radius": 2.0,
        "n_modes": 8,
        "hidden": 128,
        "g_layers": 3,
        "d_layers": list(RING_D_LAYERS),
        "latent_dim": 2,
        "batch_size": 256,
        "steps": steps,
        "eval_every": RING_EVERY,
    }
    meta = {
        "family": "record",
        "config": {**config, "settings": settings},
        "data_source": "synthetic 8-Gaussian ring (aigc_course.metrics.image.sample_ring)",
        "mode": get_mode(),
        "seed": list(RING_SEEDS),
        "metrics": results,
        "torch_threads": torch.get_num_threads(),
        "recipe": _recipe(RING),
    }
    return save_checkpoint(pretrained_path(RING), tensors, meta)
