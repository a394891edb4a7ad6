"""Recipes for the checkpoints of the business case studies.

``product_copy_lm``
    the conditional product-copy Transformer of case study 10
    (:func:`aigc_course.business.catalog_lm.train_copy_lm`).
``canary_lm``
    the same model trained with planted canaries, for case study 12
    (:func:`aigc_course.business.catalog_lm.train_canary_lm`).

    aigc-course recipes product_copy_lm     # or: make checkpoints
    aigc-course recipes canary_lm

Data, settings and trainers live in :mod:`aigc_course.business.catalog_lm`; this module
only trains with the recipe's settings (on the GPU when there is one) and writes
``aigc_course/pretrained/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..business import catalog_lm
from ..checkpoint import pretrained_path
from ..device import get_device, seed_everything
from ..models.transformer_lm import GPT


def _make(name: str, train: Callable[[GPT], dict[str, Any]]) -> Path:
    seed_everything(0)
    model = GPT(catalog_lm.model_config()).to(get_device())
    t0, cpu0 = time.perf_counter(), time.process_time()
    meta = {**train(model), "mode": "full", "recipe": f"aigc-course recipes {name}"}
    meta["wall_seconds"] = round(time.perf_counter() - t0, 1)  # training and measurements
    meta["cpu_seconds"] = round(time.process_time() - cpu0, 1)
    out = catalog_lm.save_catalog_lm(pretrained_path(name), model, meta)
    print(name, meta["metrics"], f"{meta['wall_seconds']:.0f} s", flush=True)
    return out


def make_product_copy_lm() -> Path:
    """Write ``product_copy_lm``."""
    data = catalog_lm.catalog_data()
    return _make(
        "product_copy_lm", lambda m: catalog_lm.train_copy_lm(m, data, catalog_lm.train_config())
    )


def make_canary_lm() -> Path:
    """Write ``canary_lm``."""
    data = catalog_lm.catalog_data()
    canaries = catalog_lm.default_canaries()
    return _make(
        "canary_lm",
        lambda m: catalog_lm.train_canary_lm(m, data, catalog_lm.train_config(), canaries),
    )
