"""Recipes for the diffusion chapter's MNIST models (the registry runs them in order)::

    aigc-course recipes cdiffusion_mnist            # class-conditional flow matching + guidance
    aigc-course recipes diffusion_mnist             # unconditional flow matching + the NFE curve
    aigc-course recipes diffusion_reference_mnist   # the diffusers recipe, at equal time

Protocol. The 4,000 training digits are split once with a fixed seed into 3,500 to fit
and 500 for validation (50 of each digit). Every choice (the guidance scale, the number
of solver steps) is made on the validation digits; the test digits are touched only to
report the chosen setting, with the GAN chapter's protocol (1,000 samples, noise seed 0,
balanced labels, the committed classifier), so the numbers sit in one table with the
DCGAN's and the VAE's. Budgets are step counts calibrated on an idle 2-core CPU so that
training stays within the issue's time targets; each sidecar records the wall-clock and
the CPU seconds it took.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import pretrained_path, save_checkpoint
from ..config import by_mode, get_mode

SEED = 0
N_VAL_PER_CLASS = 50
CONDITIONAL, UNCONDITIONAL, REFERENCE = (
    "cdiffusion_mnist",
    "diffusion_mnist",
    "diffusion_reference_mnist",
)
#: the U-Net of both course recipes: about 0.58 M parameters, no attention
UNET = dict(channels=(16, 32, 64), emb_dim=64, time_scale=1000.0)
GUIDANCE_GRID = (1.0, 1.5, 2.0, 3.0, 4.0)
STEPS_GRID = {"euler": (2, 4, 8, 16, 32), "heun": (2, 4, 8, 16)}
DEFAULT_STEPS = 20
N_VAL_SAMPLES = 500  # per point of a validation curve (against the 500 validation digits)
#: CPU seconds of training for the diffusers recipe: the conditional course recipe's budget
REFERENCE_CPU_SECONDS = 900.0
SNAPSHOT_ROWS = 2  # fixed-noise digits 0..9 twice, drawn during training


def split_train(data) -> dict[str, torch.Tensor]:
    """3,500 fit / 500 validation digits out of the training split, stratified, seeded."""
    g = torch.Generator().manual_seed(SEED)
    val = []
    for d in range(10):
        idx = torch.nonzero(data.y_train == d).flatten()
        val.append(idx[torch.randperm(len(idx), generator=g)[:N_VAL_PER_CLASS]])
    val_idx = torch.cat(val).sort().values
    mask = torch.ones(len(data.y_train), dtype=torch.bool)
    mask[val_idx] = False
    return {
        "x_fit": data.x_train[mask],
        "y_fit": data.y_train[mask],
        "x_val": data.x_train[val_idx],
        "y_val": data.y_train[val_idx],
    }


def train_config(conditional: bool, mode: str | None = None):
    """The course recipe's training settings (flow matching, EMA, label dropout 0.1)."""
    from ..training.diffusion import DiffusionTrainConfig

    mode = mode or get_mode()
    steps = by_mode(smoke=20, workshop=300, full=1250 if conditional else 700, mode=mode)
    return DiffusionTrainConfig(
        steps=steps,
        batch_size=128,
        lr=2e-3,
        seed=SEED,
        objective="flow",
        t_sampler="logit_normal",
        p_uncond=0.1 if conditional else 0.0,
        n_classes=10 if conditional else None,
        ema=0.999 if mode == "full" else 0.99,
        warmup=50,
        grad_clip=1.0,
    )


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _snapshot_labels() -> torch.Tensor:
    return torch.arange(10).repeat(SNAPSHOT_ROWS)


def _train(conditional: bool) -> dict[str, Any]:
    from ..data import load_mnist
    from ..device import get_device, seed_everything
    from ..diffusion.images import SamplerSpec, sample_digits, to_model_range
    from ..models.unet import UNet, UNetConfig
    from ..training.core import ProgressBar, Snapshots
    from ..training.diffusion import fit_diffusion, make_ema

    seed_everything(SEED)
    device = get_device()
    if device.type == "cpu":
        torch.set_num_threads(1)  # the recorded CPU budgets are per core
    data = load_mnist()
    split = split_train(data)
    cfg = train_config(conditional)
    model = UNet(UNetConfig(n_classes=10 if conditional else 0, **UNET)).to(device)
    ema = make_ema(model)
    labels = _snapshot_labels() if conditional else None
    snap_every = max(1, cfg.steps // 7)
    off_clock = {"cpu": 0.0}  # CPU seconds spent drawing snapshots: not training

    def snapshot(models):
        start = time.process_time()
        images = sample_digits(
            models["ema"], len(_snapshot_labels()), SamplerSpec(), labels=labels, seed=SEED
        )
        off_clock["cpu"] += time.process_time() - start
        return images

    snaps = Snapshots(snapshot, every=snap_every)
    hist, _, cpu = _timed(
        lambda: fit_diffusion(
            model,
            to_model_range(split["x_fit"]),
            cfg,
            labels=split["y_fit"] if conditional else None,
            callbacks=[ProgressBar(every=max(1, cfg.steps // 20)), snaps],
            ema_model=ema,
        )
    )
    return dict(
        data=data,
        split=split,
        cfg=cfg,
        model=ema,
        hist=hist,
        wall=hist.seconds,
        cpu=cpu - off_clock["cpu"],
        device=device,
    )


def _val_curve(model, split, classifier, specs, conditional: bool) -> list[dict[str, float]]:
    """Scores of ``N_VAL_SAMPLES`` samples per sampler spec against the validation digits."""
    from ..diffusion.images import sample_digits, score_digits

    out = []
    n = by_mode(smoke=40, workshop=200, full=N_VAL_SAMPLES)
    labels = torch.arange(n) % 10 if conditional else None
    for spec in specs:
        images, wall, _ = _timed(
            lambda s=spec: sample_digits(model, n, s, labels=labels, seed=SEED + 1)
        )
        scores = score_digits(classifier, images, split["x_val"], labels)
        out.append(
            {**asdict(spec), **scores, "nfe": spec.nfe(conditional), "seconds": wall, "n": n}
        )
        print(
            f"  validation {spec.method} {spec.steps:3d} steps, guidance {spec.guidance:g}: "
            f"FID {scores['fid']:.2f}"
            + (f", accuracy {scores['conditional_accuracy']:.3f}" if conditional else "")
        )
    return out


def _test_scores(model, data, classifier, spec, conditional: bool) -> dict[str, float]:
    """The GAN chapter's protocol on the test digits, plus the seconds per 1,000 samples."""
    from ..diffusion.images import sample_digits, score_digits
    from ..metrics.image import EVAL_N, EVAL_SEED, eval_labels

    labels = eval_labels(EVAL_N) if conditional else None
    images, wall, cpu = _timed(
        lambda: sample_digits(model, EVAL_N, spec, labels=labels, seed=EVAL_SEED)
    )
    scores = score_digits(classifier, images, data.x_test, labels)
    return {
        **scores,
        "sample_seconds_per_1000": wall * 1000 / EVAL_N,
        "sample_cpu_seconds_per_1000": cpu * 1000 / EVAL_N,
    }


def _protocol(cmeta: dict, data) -> str:
    return (
        f"1000 samples, noise seed 0, against the {len(data.x_test)} test images, classifier "
        f"mnist_classifier (accuracy {cmeta['metrics']['test_accuracy']:.4f}); choices made on "
        f"{N_VAL_PER_CLASS * 10} validation digits held out of the training split"
    )


def _save(name: str, run: dict, meta_extra: dict, record: dict[str, torch.Tensor]) -> Path:
    cfg, hist = run["cfg"], run["hist"]
    model = run["model"]
    meta = {
        "family": "unet",
        "config": model.config.to_dict(),
        "data_source": run["data"].source,
        "mode": get_mode(),
        "seed": SEED,
        "device": str(run["device"]),
        "torch_threads": torch.get_num_threads(),
        "recipe": f"aigc-course recipes {name}",
        "train": asdict(cfg),
        "train_seconds": run["wall"],
        "train_cpu_seconds": run["cpu"],
        "n_fit": len(run["split"]["x_fit"]),
        **meta_extra,
    }
    path = save_checkpoint(pretrained_path(name), model.state_dict(), meta)
    steps = torch.tensor([s for s, _ in hist.snapshots])
    snaps = torch.stack([im for _, im in hist.snapshots])
    curves = {
        "loss": torch.tensor(hist["loss"]),
        "snapshot_steps": steps,
        "snapshots": snaps,
        **record,
    }
    save_checkpoint(
        pretrained_path(name + "_history"),
        curves,
        {
            "family": "record",
            "config": {},
            "recipe": meta["recipe"],
            "mode": get_mode(),
            "seed": SEED,
        },
    )
    return path


def make_cdiffusion_mnist() -> Path:
    """The class-conditional flow-matching U-Net; guidance chosen on validation digits."""
    from ..diffusion.images import SamplerSpec
    from ..loading import load_pretrained

    run = _train(conditional=True)
    classifier, cmeta = load_pretrained("mnist_classifier", run["device"])
    base = SamplerSpec(steps=DEFAULT_STEPS)
    curve = _val_curve(
        run["model"],
        run["split"],
        classifier,
        [replace(base, guidance=w) for w in GUIDANCE_GRID],
        True,
    )
    fid_best = min(curve, key=lambda r: r["fid"])["guidance"]
    acc_best = max(curve, key=lambda r: (r["conditional_accuracy"], -r["fid"]))["guidance"]
    test = _test_scores(
        run["model"], run["data"], classifier, replace(base, guidance=fid_best), True
    )
    test_acc = _test_scores(
        run["model"], run["data"], classifier, replace(base, guidance=acc_best), True
    )
    print(f"test at guidance {fid_best:g} (FID-best on validation): {test}")
    print(f"test at guidance {acc_best:g} (accuracy-best on validation): {test_acc}")
    keys = (
        "guidance",
        "fid",
        "confident",
        "entropy",
        "precision",
        "recall",
        "conditional_accuracy",
        "seconds",
    )
    record = {f"guidance_{k}": torch.tensor([float(r[k]) for r in curve]) for k in keys}
    return _save(
        CONDITIONAL,
        run,
        {
            "sampler": asdict(replace(base, guidance=fid_best)),
            "metrics": {
                **test,
                "steps": run["cfg"].steps,
                "train_seconds": run["wall"],
                "train_cpu_seconds": run["cpu"],
            },
            "metrics_accuracy_best": {"guidance": acc_best, **test_acc},
            "metrics_protocol": _protocol(cmeta, run["data"]),
            "validation": {
                "guidance_curve": curve,
                "fid_best_guidance": fid_best,
                "accuracy_best_guidance": acc_best,
            },
        },
        record,
    )


def make_diffusion_mnist() -> Path:
    """The unconditional flow-matching U-Net, and the quality-vs-steps curve on validation."""
    from ..diffusion.images import SamplerSpec
    from ..loading import load_pretrained

    run = _train(conditional=False)
    classifier, cmeta = load_pretrained("mnist_classifier", run["device"])
    specs = [SamplerSpec(steps=k, method=m) for m, ks in STEPS_GRID.items() for k in ks]
    curve = _val_curve(run["model"], run["split"], classifier, specs, False)
    test = _test_scores(
        run["model"], run["data"], classifier, SamplerSpec(steps=DEFAULT_STEPS), False
    )
    print(f"test at {DEFAULT_STEPS} Euler steps: {test}")
    keys = ("steps", "nfe", "fid", "confident", "entropy", "precision", "recall", "seconds")
    record = {f"steps_{k}": torch.tensor([float(r[k]) for r in curve]) for k in keys}
    record["steps_is_heun"] = torch.tensor([r["method"] == "heun" for r in curve])
    return _save(
        UNCONDITIONAL,
        run,
        {
            "sampler": asdict(SamplerSpec(steps=DEFAULT_STEPS)),
            "metrics": {
                **test,
                "steps": run["cfg"].steps,
                "train_seconds": run["wall"],
                "train_cpu_seconds": run["cpu"],
            },
            "metrics_protocol": _protocol(cmeta, run["data"]),
            "validation": {"steps_curve": curve},
        },
        record,
    )


def make_diffusion_reference_mnist(seconds: float | None = None) -> Path:
    """The diffusers class-conditioned recipe (DDPM noise prediction, squared-cosine
    schedule, Adam 1e-3, batch 128) trained through the course's loop for
    :data:`REFERENCE_CPU_SECONDS` of CPU time, the budget the course's conditional recipe
    must stay within (its sidecar records what it used), then sampled
    with 50 DDIM steps and scored with the same protocol. Writes a record (metrics and a
    grid of its samples), not a model: nobody should use these weights."""

    from ..data import load_mnist
    from ..device import get_device, seed_everything
    from ..diffusion.images import SamplerSpec, sample_digits, score_digits, to_model_range
    from ..diffusion.reference import ClassConcatUNet
    from ..loading import load_pretrained
    from ..metrics.image import EVAL_N, EVAL_SEED, eval_labels
    from ..models.unet import count_parameters
    from ..training.core import LambdaCallback, ProgressBar
    from ..training.diffusion import DiffusionTrainConfig, fit_diffusion

    seed_everything(SEED)
    device = get_device()
    if device.type == "cpu":
        torch.set_num_threads(1)
    if seconds is None:
        seconds = by_mode(smoke=5.0, workshop=60.0, full=REFERENCE_CPU_SECONDS)
    data = load_mnist()
    split = split_train(data)
    model = ClassConcatUNet().to(device)
    cfg = DiffusionTrainConfig(
        steps=100_000,
        batch_size=128,
        lr=1e-3,
        seed=SEED,
        objective="eps",
        schedule="cosine",
        ema=None,
        grad_clip=None,
    )
    start = time.process_time()

    def budget(state) -> None:
        state.stop = time.process_time() - start >= seconds

    hist, wall, cpu = _timed(
        lambda: fit_diffusion(
            model,
            to_model_range(split["x_fit"]),
            cfg,
            labels=split["y_fit"],
            callbacks=[LambdaCallback(budget), ProgressBar(every=10)],
        )
    )
    classifier, cmeta = load_pretrained("mnist_classifier", device)
    spec = SamplerSpec(objective="eps", method="ddim", steps=50, schedule="cosine")
    labels = eval_labels(EVAL_N)
    images, s_wall, s_cpu = _timed(
        lambda: sample_digits(model, EVAL_N, spec, labels=labels, seed=EVAL_SEED)
    )
    scores = score_digits(classifier, images, data.x_test, labels)
    print(f"reference recipe: {hist.steps} steps in {cpu:.0f} CPU-s; {scores}")
    meta = {
        "family": "record",
        "config": {"parameters": count_parameters(model), "sampler": asdict(spec)},
        "recipe": f"aigc-course recipes {REFERENCE}",
        "data_source": data.source,
        "mode": get_mode(),
        "seed": SEED,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "metrics": {
            **scores,
            "steps": hist.steps,
            "train_seconds": wall,
            "train_cpu_seconds": cpu,
            "sample_seconds_per_1000": s_wall * 1000 / EVAL_N,
            "sample_cpu_seconds_per_1000": s_cpu * 1000 / EVAL_N,
        },
        "metrics_protocol": _protocol(cmeta, data),
    }
    record = {"loss": torch.tensor(hist["loss"]), "samples": images[:40]}
    return save_checkpoint(pretrained_path(REFERENCE), record, meta)
