"""Recipes of the diffusion chapter's committed artifacts::

    aigc-course recipes diffusion_ring_8gaussians   # flow and eps MLPs on the ring, 3 seeds

Recipes only write; load the results with :func:`aigc_course.loading.load_pretrained`.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from ..checkpoint import pretrained_path, save_checkpoint
from ..config import by_mode, get_mode
from .gan import RING_SEEDS

RING = "diffusion_ring_8gaussians"
RING_STEP_COUNTS = (1, 2, 4, 8, 16, 32, 64)
RING_METHODS = {"flow": ("euler", "heun"), "eps": ("ddim", "ddpm")}
RING_SAMPLES_AT = 32  # the step count whose samples are stored


def ring_train_steps(mode: str | None = None) -> dict[str, int]:
    """Optimisation steps of the two ring models, by mode."""
    return {
        "flow": by_mode(smoke=60, workshop=1000, full=2500, mode=mode),
        "eps": by_mode(smoke=60, workshop=1500, full=4000, mode=mode),
    }


def _recipe(name: str) -> str:
    return f"aigc-course recipes {name}"


def diffusion_ring_8gaussians() -> Path:
    """A flow-matching MLP and a DDPM noise-prediction MLP on the 8-Gaussian ring, for the
    GAN ring experiment's seeds, data and scoring protocol (``ring_scores`` of 2,000 samples
    from fixed evaluation noise, sigma 0.05, radius 2): modes covered, high-quality share and
    mode JSD of the EMA weights at 1..64 sampling steps of each sampler. No weights: the
    notebook trains its own models live; this is the multi-seed table."""
    from ..device import seed_everything
    from ..diffusion.samplers import nfe
    from ..metrics.image import ring_centers, ring_scores
    from ..training.diffusion import (
        RING_EVAL_N,
        ring_sample,
        ring_train_config,
        train_ring_diffusion,
    )

    seed_everything(0)
    steps = ring_train_steps()
    tensors: dict[str, torch.Tensor] = {}
    results: dict[str, dict] = {}
    for objective in ("flow", "eps"):
        for seed in RING_SEEDS:
            out = train_ring_diffusion(objective, seed, steps[objective])
            hist = out["history"]
            results[f"{objective}/seed{seed}/train"] = {
                "seconds": hist.seconds,
                "steps": hist.steps,
                "final_loss": sum(hist["loss"][-100:]) / len(hist["loss"][-100:]),
            }
            for method in RING_METHODS[objective]:
                curve = []
                for k in RING_STEP_COUNTS:
                    start = time.perf_counter()
                    samples = ring_sample(out["ema"], objective, method, k, seed)
                    seconds = time.perf_counter() - start
                    r = ring_scores(samples, ring_centers(), 0.05)
                    key = f"{objective}/{method}/steps{k}/seed{seed}"
                    results[key] = {
                        "modes_covered": r.modes_covered,
                        "high_quality": r.high_quality,
                        "mode_jsd": r.mode_jsd,
                        "counts": list(r.counts),
                        "nfe": nfe(method, k),
                        "sample_seconds": seconds,
                    }
                    curve.append([r.modes_covered, r.high_quality, r.mode_jsd, nfe(method, k)])
                    if k == RING_SAMPLES_AT:
                        tensors[f"{objective}/{method}/seed{seed}"] = samples.half()
                    print(key, results[key], flush=True)
                tensors[f"{objective}/{method}/seed{seed}/curve"] = torch.tensor(curve)
    config = {
        "sigma": 0.05,
        "radius": 2.0,
        "n_modes": 8,
        "n_data": 20_000,
        "model": out["config"].to_dict() | {"t_max": "T for eps, 1 for flow"},
        "train": {o: ring_train_config(o, steps[o]).to_dict() for o in ("flow", "eps")},
        "step_counts": list(RING_STEP_COUNTS),
        "methods": {k: list(v) for k, v in RING_METHODS.items()},
        "curve_columns": ["modes_covered", "high_quality", "mode_jsd", "nfe"],
        "samples_at_steps": RING_SAMPLES_AT,
        "n_eval": RING_EVAL_N,
        "eval_noise_seed": "10000 + seed",
        "weights": "EMA (decay min(0.995, (1 + step) / (10 + step)))",
    }
    meta = {
        "family": "record",
        "config": config,
        "data_source": "synthetic 8-Gaussian ring (aigc_course.metrics.image.sample_ring)",
        "mode": get_mode(),
        "seed": list(RING_SEEDS),
        "metrics": results,
        "torch_threads": torch.get_num_threads(),
        "recipe": _recipe(RING),
    }
    return save_checkpoint(pretrained_path(RING), tensors, meta)
