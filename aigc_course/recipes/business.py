"""Recipes for the checkpoints of the business case studies.

``product_copy_lm``
    the conditional product-copy Transformer of case study 10
    (:func:`aigc_course.business.catalog_lm.train_copy_lm`).
``canary_lm``
    the same model trained with planted canaries, for case study 12
    (:func:`aigc_course.business.catalog_lm.train_canary_lm`).
``faq_answerer``
    the retrieval-augmented answerer of case study 11: the pretrained character
    Transformer fine-tuned on synthetic FAQ passages
    (:func:`aigc_course.business.rag.train_answerer`).

    aigc-course recipes product_copy_lm     # or: make checkpoints
    aigc-course recipes canary_lm
    aigc-course recipes faq_answerer

Data, settings and trainers live in :mod:`aigc_course.business.catalog_lm` and
:mod:`aigc_course.business.rag`; this module
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


def make_faq_answerer() -> Path:
    """Write ``faq_answerer`` (fp16, with its tokenizer): on a CPU, on one thread."""
    import torch

    from ..business import rag
    from ..training.lm import save_lm

    device = get_device()
    if device.type == "cpu":
        torch.set_num_threads(1)
    model, tok = rag.base_answerer("finetune", seed=0, device=str(device))
    t0 = time.perf_counter()
    meta = rag.train_answerer(model, tok, rag.train_config(), copy_rate=COPY_RATE)
    meta |= {"mode": "full", "recipe": "aigc-course recipes faq_answerer", "why": WHY_FINETUNE}
    meta |= {"selection": SELECTION}
    out = save_lm(pretrained_path("faq_answerer"), model, tok, meta, dtype=torch.float16)
    print("faq_answerer", meta["metrics"], f"{time.perf_counter() - t0:.0f} s", flush=True)
    return out


#: Share of training examples that are :func:`aigc_course.business.rag.copy_example`.
COPY_RATE = 0.6

#: Why the answerer is fine-tuned rather than trained from scratch: a pilot of 250 steps
#: of batch 8 on an earlier version of the synthetic data (without the generic questions),
#: one thread on a shared 2-core CPU, scored on 200 validation examples (100 greedy).
WHY_FINETUNE = (
    "pilot, 250 steps, batch 8: from scratch (4 x 128, lr 2e-3) 60 CPU-s, final train loss "
    "1.75 nats/char, validation 2.66 bits/char, 0 % exact greedy answers; fine-tuned from "
    "char_transformer (lr 1e-3) 103 CPU-s, train loss 0.14, validation 1.67 bits/char, "
    "21 % exact. The pretrained model already copies spans of its context."
)

#: How the data mix and the step count were chosen: earlier runs of this recipe, each
#: scored on the validation examples of held-out templates (bits per response character,
#: lower is better; the best step's weights kept). Runs 1-2 had the template wording
#: varied less (word swaps at rate 0.25) in training and validation; run 2 scores 1.399
#: on run 3's validation set. Run 4 was superseded: a word swap could rebuild a real FAQ
#: question in its training data ("how long does standard shipping take"), which the
#: generator now rejects; run 5 is the same recipe with that filter.
SELECTION = {
    "columns": ["run", "copy_rate", "word_swap_rate", "steps", "best_step", "val_bits_per_char"],
    "rows": [
        [1, 0.0, 0.25, "stopped at 250", 100, 1.5893],
        [2, 0.3, 0.25, 900, 900, 1.4169],
        [3, 0.6, 0.5, 900, 900, 1.0372],
        [4, 0.6, 0.5, 1300, 1300, 0.6702],
        [5, 0.6, 0.5, 1300, "this checkpoint", "this checkpoint"],
    ],
    "note": "run 1 validation rose after step 100 (the model recalled template wording "
    "instead of copying); copy examples and more varied wording fixed that; run 3 was still "
    "improving at its last step, hence the longer schedule of runs 4 and 5",
}
