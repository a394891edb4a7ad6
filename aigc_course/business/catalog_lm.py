"""The catalog language models of the business case studies: data, settings, trainers.

``product_copy_lm`` (case study 10) is the course's GPT (3 layers x 64 wide, block 128)
trained on the synthetic catalog (:mod:`aigc_course.business.catalog`, seed 0) to
continue "attributes >" with a description; :func:`train_copy_lm` returns its sidecar
metadata (the training loss and greedy faithfulness on held-out products).
``canary_lm`` (case study 12) is the same model trained on the same text with
**canaries** planted (:mod:`aigc_course.business.privacy`); :func:`train_canary_lm`
measures the exposure of every canary at several points of training.

The recipes (``aigc-course recipes product_copy_lm``) call these functions with the
settings below and write ``aigc_course/pretrained/``; the notebooks call them with
smaller budgets and save only under the run folder. Training runs on the model's device.

Example::

    data = catalog_data()
    model = GPT(model_config()).to(device)
    meta = train_copy_lm(model, data, replace(train_config(), max_seconds=600))
    save_catalog_lm(run_dir("10_case_product_copy") / "product_copy_lm", model, meta)
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import save_checkpoint
from ..device import model_device
from ..models.transformer_lm import GPT, GPTConfig
from ..training.core import Callback, LoopState
from ..training.lm import LMTrainConfig, fit_lm
from . import catalog, privacy
from .faithfulness import evaluate as faithfulness

CATALOG_SEED = 0
N_ITEMS = 3000  # catalog size in full/workshop mode
N_TEST = 400  # the last items: held out (unseen attribute combinations are kept)
CANARY_REPEATS = (0, 1, 4, 16, 64)
CANARIES_PER_LEVEL = 10  # so each level has a median and a range, not one draw


def model_config(vocab_size: int | None = None) -> GPTConfig:
    """The product-copy model: small enough to train in minutes on a laptop CPU."""
    vocab = vocab_size or catalog.tokenizer().vocab_size
    return GPTConfig(vocab, block_size=128, n_layer=3, n_head=4, n_embd=64)


def train_config(steps: int = 1500) -> LMTrainConfig:
    """The recipe's optimisation settings (vary them with :func:`dataclasses.replace`)."""
    return LMTrainConfig(
        steps=steps, batch_size=24, block_size=128, lr=3e-3, min_lr=3e-4, warmup=50, seed=0
    )


@dataclass(frozen=True)
class CatalogData:
    """The catalog, its split and the token stream of the training lines."""

    train: list[catalog.Item]
    test: list[catalog.Item]
    train_ids: torch.Tensor
    source: str


def catalog_data(
    n_items: int = N_ITEMS, n_test: int = N_TEST, seed: int = CATALOG_SEED
) -> CatalogData:
    """The seeded catalog, split into training items and held-out ones."""
    items = catalog.make_catalog(n_items, seed)
    train, test = catalog.split_catalog(items, n_test)
    ids = catalog.tokenizer().encode_tensor(catalog.corpus(train))
    source = f"synthetic catalog (aigc_course.business.catalog, seed {seed}, {n_items} items)"
    return CatalogData(train, test, ids, source)


def default_canaries(per_level: int = CANARIES_PER_LEVEL) -> list[privacy.Canary]:
    """The canaries of case study 12: ``per_level`` of them repeated 0, 1, 4, 16 and 64
    times, each with its own name and secret. The levels take turns in the list
    (0, 1, 4, 16, 64, 0, 1, ...), so no level gets the first or the last names."""
    if per_level < 1:
        raise ValueError(f"per_level must be at least 1, got {per_level}")
    repeats = [r for _ in range(per_level) for r in CANARY_REPEATS]
    return privacy.make_canaries(repeats, seed=CATALOG_SEED)


def _machine(model: torch.nn.Module) -> dict[str, Any]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    device = model_device(model)
    return {"threads": torch.get_num_threads(), "load_average": load, "device": str(device)}


def _tail_mean(losses: Sequence[float], n: int = 50) -> float:
    tail = losses[-n:]
    return sum(tail) / len(tail)


def train_copy_lm(
    model: GPT,
    data: CatalogData,
    cfg: LMTrainConfig,
    *,
    n_eval: int = 200,
    callbacks: Sequence[Callback] = (),
) -> dict[str, Any]:
    """Train ``model`` (on its device) on the catalog lines; return the sidecar's metadata:
    the loss curve and greedy faithfulness on ``n_eval`` held-out products."""
    hist = fit_lm(model, data.train_ids, cfg, callbacks=callbacks)
    products = [it.product for it in data.test[:n_eval]]
    texts = catalog.write_descriptions(model, products, temperature=0.0)
    report = faithfulness(products, texts)
    losses = hist["loss"]
    return {
        "data_source": data.source,
        "metrics": {
            "first_loss": losses[0],
            "final_train_loss": _tail_mean(losses),
            "train_seconds": round(hist.seconds, 1),
            "steps": hist.steps,
            "greedy_coverage": round(report.coverage, 4),
            "greedy_unsupported_rate": round(report.unsupported_rate, 4),
            "greedy_faithful_rate": round(report.faithful_rate, 4),
            "n_eval": report.n_items,
        },
        "loss_curve": [round(x, 4) for x in losses[::10]],
        "train_config": cfg.to_dict(),
        "seed": cfg.seed,
        **_machine(model),
    }


class ExposureCurve(Callback):
    """Off the clock, at the given steps (1-based), measure every canary's exposure: one
    row per canary and step, with the canary's index in ``canaries`` and its prefix."""

    def __init__(
        self,
        canaries: Sequence[privacy.Canary],
        at: set[int],
        tokens_per_epoch: int,
        n_candidates: int,
    ) -> None:
        self.canaries, self.at = list(canaries), at
        self.tokens_per_epoch, self.n_candidates = tokens_per_epoch, n_candidates
        self.rows: list[dict[str, Any]] = []
        self.cpu_seconds = 0.0  # what the measurement costs (process CPU time)

    def on_step(self, state: LoopState) -> None:
        if state.step not in self.at:
            return
        cpu0 = time.process_time()
        model, cfg = state.models["model"], state.config
        model.eval()
        epochs = state.step * cfg.batch_size * cfg.block_size / self.tokens_per_epoch
        for i, c in enumerate(self.canaries):  # every canary, identified by its index
            e = privacy.exposure(model, catalog.tokenizer(), c, n_candidates=self.n_candidates)
            self.rows.append(
                {"step": state.step, "epochs": round(epochs, 2), "canary": i}
                | {"prefix": c.prefix, "repeats": c.repeats, "exposure": round(e.exposure, 3)}
                | {"rank_exposure": round(e.rank_exposure, 3)}
            )
        model.train()
        self.cpu_seconds += time.process_time() - cpu0


def train_canary_lm(
    model: GPT,
    data: CatalogData,
    cfg: LMTrainConfig,
    canaries: Sequence[privacy.Canary],
    *,
    n_checkpoints: int = 5,
    n_candidates: int = 2000,
    callbacks: Sequence[Callback] = (),
) -> dict[str, Any]:
    """Train ``model`` (on its device) on the catalog lines with ``canaries`` planted;
    measure their exposure at ``n_checkpoints`` evenly spaced steps (the last one at the
    end of training), off the clock. Returns the sidecar's metadata."""
    text = privacy.plant_canaries(catalog.corpus(data.train), canaries, seed=cfg.seed)
    ids = catalog.tokenizer().encode_tensor(text)
    at = {round(cfg.steps * (i + 1) / n_checkpoints) for i in range(n_checkpoints)}
    curve = ExposureCurve(canaries, at, len(ids), n_candidates)
    hist = fit_lm(model, ids, cfg, callbacks=[curve, *callbacks])
    losses = hist["loss"]
    tokens_per_step = cfg.batch_size * cfg.block_size
    return {
        "data_source": data.source + f" + {len(canaries)} planted canaries",
        "canaries": [c.to_dict() for c in canaries],
        "exposure_curve": curve.rows,
        "metrics": {
            "first_loss": losses[0],
            "final_train_loss": _tail_mean(losses),
            "train_seconds": round(hist.seconds, 1),
            "steps": hist.steps,
            "epochs": round(hist.steps * tokens_per_step / len(ids), 2),
            "exposure_cpu_seconds": round(curve.cpu_seconds, 1),
        },
        "train_config": cfg.to_dict(),
        "seed": cfg.seed,
        **_machine(model),
    }


def save_catalog_lm(path: str | Path, model: GPT, meta: dict[str, Any]) -> Path:
    """Save a catalog LM so that :func:`aigc_course.loading.load_pretrained` can read it
    back (``family`` and ``config`` in the sidecar; the tokenizer is
    :func:`aigc_course.business.catalog.tokenizer`, a fixed alphabet)."""
    record = {"family": "transformer", "config": model.config.to_dict(), **meta}
    return save_checkpoint(path, model.state_dict(), record)
