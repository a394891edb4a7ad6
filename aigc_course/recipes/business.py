"""Recipes for the checkpoints of the business case studies.

``product_copy_lm``
    the course's GPT (3 layers x 64 wide, block 128) trained on the synthetic catalog
    (:mod:`aigc_course.business.catalog`, seed 0) to continue "attributes >" with a
    description; its sidecar records the training loss and greedy faithfulness on
    held-out products.
``canary_lm``
    the same model trained on the same catalog text with **canaries** planted
    (:mod:`aigc_course.business.risk`): secret lines repeated 0, 1, 4, 16 and 64 times;
    its sidecar records the exposure of every canary at several points of training.

    python -m aigc_course.recipes product_copy_lm   # or: make checkpoints
    python -m aigc_course.recipes canary_lm

The notebooks call the same functions with smaller budgets in smoke mode.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..business import catalog, risk
from ..business.faithfulness import evaluate as faithfulness
from ..checkpoint import load_or_train, pretrained_path
from ..device import seed_everything
from ..models.transformer_lm import GPT, GPTConfig
from ..training.lm import TrainConfig, fit

CATALOG_SEED = 0
N_ITEMS = 3000  # catalog size in full/workshop mode
N_TEST = 400  # the last items: held out (unseen attribute combinations are kept)
CANARY_REPEATS = (0, 1, 4, 16, 64)


def model_config(vocab_size: int | None = None) -> GPTConfig:
    """The product-copy model: small enough to train in minutes on a laptop CPU."""
    vocab = vocab_size or catalog.tokenizer().vocab_size
    return GPTConfig(vocab, block_size=128, n_layer=3, n_head=4, n_embd=64)


def train_config(steps: int = 1500) -> TrainConfig:
    return TrainConfig(
        steps=steps, batch_size=24, block_size=128, lr=3e-3, min_lr=3e-4, warmup=50, seed=0
    )


@dataclass(frozen=True)
class CatalogData:
    """The catalog, its split and the token stream of the training lines."""

    train: list[catalog.Item]
    test: list[catalog.Item]
    train_ids: torch.Tensor
    source: str


def catalog_data(n_items: int = N_ITEMS, n_test: int = N_TEST, seed: int = CATALOG_SEED):
    items = catalog.make_catalog(n_items, seed)
    train, test = catalog.split_catalog(items, n_test)
    ids = catalog.tokenizer().encode_tensor(catalog.corpus(train))
    source = f"synthetic catalog (aigc_course.business.catalog, seed {seed}, {n_items} items)"
    return CatalogData(train, test, ids, source)


def _machine() -> dict[str, Any]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"threads": torch.get_num_threads(), "load_average": load, "device": "cpu"}


def train_copy_lm(
    model: GPT, data: CatalogData, cfg: TrainConfig, n_eval: int = 200
) -> dict[str, Any]:
    """Train ``model`` on the catalog lines; return the sidecar's metadata."""
    hist = fit(model, data.train_ids, cfg)
    products = [it.product for it in data.test[:n_eval]]
    texts = catalog.write_descriptions(model, products, temperature=0.0)
    report = faithfulness(products, texts)
    tail = hist.train_loss[-50:]
    return {
        "data_source": data.source,
        "metrics": {
            "first_loss": hist.train_loss[0],
            "final_train_loss": sum(tail) / len(tail),
            "train_seconds": round(hist.seconds, 1),
            "steps": hist.steps_done,
            "greedy_coverage": round(report.coverage, 4),
            "greedy_unsupported_rate": round(report.unsupported_rate, 4),
            "greedy_faithful_rate": round(report.faithful_rate, 4),
            "n_eval": report.n_items,
        },
        "loss_curve": [round(x, 4) for x in hist.train_loss[::10]],
        "train_config": cfg.to_dict(),
        "seed": cfg.seed,
        **_machine(),
    }


def train_canary_lm(
    model: GPT,
    data: CatalogData,
    cfg: TrainConfig,
    canaries: list[risk.Canary],
    n_checkpoints: int = 5,
    n_candidates: int = 2000,
) -> dict[str, Any]:
    """Train on the catalog lines with ``canaries`` planted; measure their exposure at
    ``n_checkpoints`` evenly spaced points of training (and at the end)."""
    text = risk.plant_canaries(catalog.corpus(data.train), canaries, seed=cfg.seed)
    ids = catalog.tokenizer().encode_tensor(text)
    tokens_per_step = cfg.batch_size * cfg.block_size
    at = {round(cfg.steps * (i + 1) / n_checkpoints) - 1 for i in range(n_checkpoints)}
    rows: list[dict[str, Any]] = []

    def measure(step: int, loss: float, m: torch.nn.Module) -> None:
        if step in at:
            m.eval()
            for c in canaries:
                e = risk.exposure(m, catalog.tokenizer(), c, n_candidates=n_candidates)
                epochs = (step + 1) * tokens_per_step / len(ids)
                rows.append(
                    {"step": step + 1, "epochs": round(epochs, 2), "repeats": c.repeats}
                    | {"exposure": round(e.exposure, 3), "rank_exposure": round(e.rank_exposure, 3)}
                )
            m.train()

    hist = fit(model, ids, cfg, callback=measure)
    return {
        "data_source": data.source + f" + {len(canaries)} planted canaries",
        "canaries": [c.to_dict() for c in canaries],
        "exposure_curve": rows,
        "metrics": {
            "first_loss": hist.train_loss[0],
            "final_train_loss": sum(hist.train_loss[-50:]) / len(hist.train_loss[-50:]),
            "train_seconds": round(hist.seconds, 1),
            "steps": hist.steps_done,
            "epochs": round(hist.steps_done * tokens_per_step / len(ids), 2),
        },
        "train_config": cfg.to_dict(),
        "seed": cfg.seed,
        **_machine(),
    }


def default_canaries() -> list[risk.Canary]:
    return risk.make_canaries(CANARY_REPEATS, seed=CATALOG_SEED)


def _make(name: str, train: Callable[[GPT], dict[str, Any]]) -> Path:
    seed_everything(0)
    cfg = model_config()
    path = pretrained_path(name)
    t0 = time.perf_counter()
    result = load_or_train(
        path, GPT(cfg), lambda m: {**train(m), "mode": "full"}, config=cfg.to_dict(), retrain=True
    )
    result.meta.setdefault("metrics", {})
    print(name, result.meta["metrics"], f"{time.perf_counter() - t0:.0f} s", flush=True)
    return path.with_suffix(".safetensors")


def make_product_copy_lm() -> Path:
    data = catalog_data()
    return _make(
        "product_copy_lm",
        lambda m: {
            **train_copy_lm(m, data, train_config()),
            "recipe": "python -m aigc_course.recipes product_copy_lm",
        },
    )


def make_canary_lm() -> Path:
    data = catalog_data()
    return _make(
        "canary_lm",
        lambda m: {
            **train_canary_lm(m, data, train_config(), default_canaries()),
            "recipe": "python -m aigc_course.recipes canary_lm",
        },
    )


RECIPES = {"product_copy_lm": make_product_copy_lm, "canary_lm": make_canary_lm}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=list(RECIPES))
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    RECIPES[args.what]()


if __name__ == "__main__":
    main()
