"""Recipes for the GAN chapter's committed checkpoints (run them in this order)::

    python -m aigc_course.recipes mnist_classifier       # the evaluation instrument
    python -m aigc_course.recipes dcgan_mnist            # unconditional DCGAN (+ its history)
    python -m aigc_course.recipes cdcgan_mnist           # class-conditional DCGAN
    python -m aigc_course.recipes dcgan_reference_mnist  # PyTorch-tutorial recipe, same time

Every generator is scored with the committed classifier against the MNIST test split,
on 1,000 samples drawn with seed 0; the numbers go into the JSON sidecar and the
notebook checks that the committed weights still reproduce them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..checkpoint import load_checkpoint, pretrained_path, save_checkpoint
from ..config import by_mode, get_mode

SEED = 0
EVAL_N = 1000
EVAL_SEED = 0
CLASSIFIER = "mnist_classifier"
DCGAN = "dcgan_mnist"
CDCGAN = "cdcgan_mnist"
REFERENCE = "dcgan_reference_mnist"


def _recipe(name: str) -> str:
    return f"python -m aigc_course.recipes {name}"


# ----------------------------------------------------------------------------- loaders


def load_classifier(device: torch.device | str = "cpu", name: str = CLASSIFIER):
    """The committed evaluation classifier and its sidecar."""
    from ..models.classifier import ClassifierConfig, MNISTClassifier

    state, meta = load_checkpoint(pretrained_path(name), device=device)
    model = MNISTClassifier(ClassifierConfig(**meta["config"])).to(device)
    model.load_state_dict(state)
    return model.eval(), meta


def load_generator(name: str = DCGAN, device: torch.device | str = "cpu"):
    """A committed DCGAN generator (eval mode) and its sidecar."""
    from ..models.gan import DCGANConfig, DCGenerator

    state, meta = load_checkpoint(pretrained_path(name), device=device)
    G = DCGenerator(DCGANConfig(**meta["config"])).to(device)
    G.load_state_dict(state)
    return G.eval(), meta


def eval_labels(n: int = EVAL_N, n_classes: int = 10) -> torch.Tensor:
    """Balanced requested labels for conditional evaluation: 0, 1, …, 9, 0, 1, …"""
    return torch.arange(n) % n_classes


def evaluate_generator(G, classifier, x_test: torch.Tensor, *, n: int = EVAL_N) -> dict:
    """Classifier FID, confident share, class entropy (and conditional accuracy) of G."""
    from ..metrics.image import conditional_accuracy, reference_stats, score_images
    from ..models.gan import sample_images

    device = next(G.parameters()).device
    labels = eval_labels(n) if G.config.n_classes else None
    images = sample_images(G, n, labels=labels, seed=EVAL_SEED, device=device)
    out: dict[str, Any] = score_images(classifier, images, reference_stats(classifier, x_test))
    out = out.as_dict()
    if labels is not None:
        out["conditional_accuracy"] = conditional_accuracy(classifier, images, labels)
    return out


# ----------------------------------------------------------------------------- recipes


def mnist_classifier() -> Path:
    """Train the evaluation classifier on the training split; record test accuracy."""
    from ..data import load_mnist
    from ..device import get_device, seed_everything
    from ..metrics.image import accuracy, train_classifier
    from ..models.classifier import ClassifierConfig, MNISTClassifier

    seed_everything(SEED)
    device = get_device()
    data = load_mnist()
    cfg = ClassifierConfig()
    model = MNISTClassifier(cfg)
    fit = train_classifier(
        model, data.x_train, data.y_train, epochs=by_mode(smoke=1, workshop=5, full=20),
        seed=SEED, device=device, progress=True,
    )  # fmt: skip
    acc = accuracy(model, data.x_test, data.y_test)
    meta = {
        "config": cfg.to_dict(),
        "data_source": data.source,
        "mode": get_mode(),
        "seed": SEED,
        "metrics": {"test_accuracy": acc, "n_test": len(data.x_test), **fit},
        "device": str(device),
        "recipe": _recipe(CLASSIFIER),
    }
    return save_checkpoint(pretrained_path(CLASSIFIER), model.state_dict(), meta)


def course_train_settings(mode: str | None = None, conditional: bool = False) -> dict[str, Any]:
    """The course DCGAN recipe: batch 64, Adam(2e-4, (0.5, 0.999)), steps by mode.

    Full mode trains the unconditional model for 9,000 steps (about 8 minutes on one
    core of a 2-core CPU); the conditional one learns faster (the label tells it which
    digit to draw) and keeps 2,500.
    """
    return {
        "steps": by_mode(smoke=20, workshop=200, full=2500 if conditional else 9000, mode=mode),
        "batch_size": 64,
        "lr": 2e-4,
        "betas": (0.5, 0.999),
    }


def _train_dcgan(name: str, n_classes: int) -> tuple[Path, dict]:
    from ..data import load_mnist
    from ..device import get_device, seed_everything
    from ..models.gan import DCGANConfig, build_dcgan, to_signed
    from ..training.gan import train_gan

    seed_everything(SEED)
    device = get_device()
    data = load_mnist()
    cfg = DCGANConfig(n_classes=n_classes)
    G, D = build_dcgan(cfg, seed=SEED)
    settings = course_train_settings(conditional=bool(n_classes))
    g = torch.Generator().manual_seed(1234)
    fixed_z = torch.randn(16, cfg.latent_dim, generator=g)
    fixed_y = (torch.arange(16) % 10) if n_classes else None
    hist = train_gan(
        G, D, to_signed(data.x_train), data.y_train if n_classes else None,
        n_classes=n_classes, seed=SEED, device=device, fixed_z=fixed_z, fixed_y=fixed_y,
        snapshot_every=max(1, settings["steps"] // 10), **settings,
    )  # fmt: skip
    classifier, cmeta = load_classifier(device)
    metrics = evaluate_generator(G, classifier, data.x_test.to(device))
    metrics.update(train_seconds=hist.seconds, steps=hist.steps)
    meta = {
        "config": cfg.to_dict(),
        "data_source": data.source,
        "mode": get_mode(),
        "seed": SEED,
        "train": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
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
    curves = {
        "loss_D": torch.tensor(hist.loss_D),
        "loss_G": torch.tensor(hist.loss_G),
        "D_real": torch.tensor(hist.D_real),
        "D_fake": torch.tensor(hist.D_fake),
        "snapshot_steps": torch.tensor([s for s, _ in hist.snapshots]),
        "snapshots": torch.stack([im for _, im in hist.snapshots]).half(),  # (S, 16, 1, 28, 28)
    }
    save_checkpoint(pretrained_path(name + "_history"), curves, {**meta, "what": "history"})
    return path, meta


def dcgan_mnist() -> Path:
    """Unconditional course DCGAN (needs ``mnist_classifier`` for its metrics)."""
    return _train_dcgan(DCGAN, 0)[0]


def cdcgan_mnist() -> Path:
    """Class-conditional course DCGAN."""
    return _train_dcgan(CDCGAN, 10)[0]


REFERENCE_SECONDS = 500.0


def dcgan_reference_mnist(seconds: float = REFERENCE_SECONDS) -> Path:
    """The PyTorch DCGAN tutorial recipe, trained for ``seconds`` of wall-clock time.

    The budget is set at or above the course recipe's recorded training time (compare
    ``metrics.train_seconds`` of both sidecars), so the comparison never favours the
    course recipe by giving it more time. Saves 64 samples (not the weights) and the
    metrics on the same protocol as the course generators.
    """
    from ..data import load_mnist
    from ..device import seed_everything
    from ..metrics.image import reference_stats, score_images
    from ..models.gan import TutorialDiscriminator, TutorialGenerator, dcgan_init_, to_unit
    from ..training.gan import train_reference_dcgan

    seed_everything(SEED)
    data = load_mnist()
    G, D = TutorialGenerator(), TutorialDiscriminator()
    G.apply(dcgan_init_)
    D.apply(dcgan_init_)
    x = to_signed_cpu(data.x_train)
    hist = train_reference_dcgan(
        G, D, x, max_seconds=by_mode(smoke=5.0, workshop=60.0, full=seconds), seed=SEED
    )
    G.eval()
    with torch.no_grad():
        z = torch.randn(EVAL_N, 100, generator=torch.Generator().manual_seed(EVAL_SEED))
        images = to_unit(G(z))
    classifier, _ = load_classifier()
    metrics = score_images(classifier, images, reference_stats(classifier, data.x_test)).as_dict()
    metrics.update(train_seconds=hist.seconds, steps=hist.steps)
    meta = {
        "config": {"nz": 100, "ngf": 64, "ndf": 64, "batch_size": 128, "lr": 2e-4, "beta1": 0.5},
        "data_source": data.source,
        "mode": get_mode(),
        "seed": SEED,
        "metrics": metrics,
        "torch_threads": torch.get_num_threads(),
        "what": "samples of the PyTorch DCGAN tutorial recipe at the course recipe's wall-clock",
        "recipe": _recipe(REFERENCE),
    }
    return save_checkpoint(pretrained_path(REFERENCE), {"samples": images[:64]}, meta)


def to_signed_cpu(x: torch.Tensor) -> torch.Tensor:
    return (x * 2 - 1).cpu()


RECIPES = {
    CLASSIFIER: mnist_classifier,
    DCGAN: dcgan_mnist,
    CDCGAN: cdcgan_mnist,
    REFERENCE: dcgan_reference_mnist,
}


RING = "gan_ring_8gaussians"
RING_SEEDS = (0, 1, 2)


def ring_settings(mode: str | None = None) -> dict[str, int]:
    """Generator steps for the ring experiment, by mode."""
    return {"bce": by_mode(smoke=40, workshop=1000, full=3000, mode=mode),
            "wgan-gp": by_mode(smoke=20, workshop=600, full=3000, mode=mode)}  # fmt: skip


def gan_ring_8gaussians() -> Path:
    """Vanilla GAN vs WGAN-GP on the 8-Gaussian ring, over seeds: final samples (float16)
    and coverage during training. No weights: the results are what the notebook shows."""
    from ..device import seed_everything
    from ..metrics.image import ring_centers, ring_scores
    from ..training.gan import RING_SETTINGS, train_ring_gan

    seed_everything(SEED)
    steps = ring_settings()
    tensors, results = {}, {}
    for loss in ("bce", "wgan-gp"):
        for seed in RING_SEEDS:
            out = train_ring_gan(loss, seed, steps[loss], progress=True)
            r = ring_scores(out["samples"], ring_centers(), 0.05)
            key = f"{loss}/seed{seed}"
            tensors[key] = out["samples"].half()
            tensors[key + "/coverage"] = torch.tensor(out["coverage"], dtype=torch.float32)
            results[key] = {
                "modes_covered": r.modes_covered,
                "high_quality": r.high_quality,
                "counts": list(r.counts),
                "seconds": out["history"].seconds,
                "steps": out["history"].steps,
            }
            print(key, results[key])
    settings = {k: {**v, "betas": list(v["betas"])} for k, v in RING_SETTINGS.items()}
    meta = {
        "config": {"sigma": 0.05, "radius": 2.0, "n_modes": 8, "hidden": 128, "steps": steps,
                   "settings": settings},
        "data_source": "synthetic 8-Gaussian ring (aigc_course.metrics.image.sample_ring)",
        "mode": get_mode(),
        "seed": list(RING_SEEDS),
        "metrics": results,
        "torch_threads": torch.get_num_threads(),
        "recipe": _recipe(RING),
    }  # fmt: skip
    return save_checkpoint(pretrained_path(RING), tensors, meta)


RECIPES[RING] = gan_ring_8gaussians
