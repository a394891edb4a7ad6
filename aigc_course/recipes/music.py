"""The recipe of the chorale chapter: a Transformer on Bach chorale grid tokens.

``chorale_transformer`` trains the course's GPT (:mod:`aigc_course.models.transformer_lm`,
unchanged) with the course's loop (:func:`~aigc_course.training.lm.fit_lm`) on the
training chorales, normalised to C major / A minor, as grid tokens
(:mod:`aigc_course.music.tokens`); one thread on a CPU, within 15 CPU-minutes. Its
sidecar also records the evaluation the chapter reports:

- the Kneser-Ney n-gram baseline (the text chapter's :class:`~aigc_course.models.ngram.
  KneserNeyLM` on the same tokens), its order chosen on the validation chorales;
- validation bits per step of the Transformer during training, and both models' bits per
  step on the test chorales (reported, never chosen on);
- the music-theory statistics of samples at three temperatures beside the real test
  chorales', and the memorisation figure (longest sample passage found verbatim in the
  training chorales, with the test chorales' own figure as the reference)::

    aigc-course recipes chorale_transformer
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checkpoint import pretrained_path
from ..data.chorales import Chorale
from ..models.ngram import KneserNeyLM
from ..models.transformer_lm import GPT, GPTConfig
from ..music.dataset import (
    ChoraleTokens,
    lm_bits_per_step,
    ngram_bits_per_step,
    prepare_chorale_tokens,
    steps_in,
)
from ..music.sampling import sample_chorales
from ..music.theory import longest_copied_passage, pooled_histogram, statistics, total_variation
from ..music.tokens import ids_to_text
from ..training.core import Callback, LoopState
from ..training.lm import LMTrainConfig, fit_lm, save_lm
from .text import _device

NAME = "chorale_transformer"
NGRAM_ORDERS = (5, 9, 13, 17, 21, 25, 33)
TEMPERATURES = (0.8, 1.0, 1.2)


def chorale_config(vocab_size: int) -> tuple[GPTConfig, LMTrainConfig]:
    """4 layers x 128 (4 heads), a context of 128 tokens (32 steps: two 4/4 bars),
    dropout 0.1, 1,600 steps of 16 windows of 128 tokens (about 13 passes over the
    249,000 training tokens; 0.3 CPU-s a step on one thread, validation included: 8
    CPU-minutes, 10.3 for the whole recipe). The budget is a step count, not
    ``max_seconds``: wall-clock time on a shared machine would cut the schedule at a
    different point on every run."""
    model = GPTConfig(vocab_size, block_size=128, n_layer=4, n_head=4, n_embd=128, dropout=0.1)
    train = LMTrainConfig(
        steps=1600, batch_size=16, block_size=128, lr=2e-3, min_lr=2e-4, warmup=100
    )
    return model, train


class ValBitsPerStep(Callback):
    """Every ``every`` steps, the whole validation stream in bits per step (off the clock)."""

    def __init__(self, data: ChoraleTokens, every: int) -> None:
        self.data, self.every, self.rows = data, every, []
        self.n_steps = steps_in(data.val)

    def on_step(self, state: LoopState) -> None:
        if state.step % self.every:
            return
        bps = lm_bits_per_step(state.models["model"], self.data.val_ids, self.n_steps)
        state.models["model"].train()
        self.rows.append([state.step, round(state.clock.seconds, 1), round(bps, 4)])
        print(f"step {state.step:5d}  val {bps:.4f} bits/step", flush=True)


def fit_ngrams(data: ChoraleTokens, orders=NGRAM_ORDERS) -> dict[str, Any]:
    """Kneser-Ney on the training tokens for each order; the order is chosen on the
    validation chorales and only that one is scored on the test chorales."""
    text = ids_to_text(data.train_ids)
    val = {}
    for n in orders:
        kn = KneserNeyLM(data.tokenizer, order=n).fit(text)
        val[n] = ngram_bits_per_step(kn, data.val_ids, steps_in(data.val))
    best = min(val, key=val.get)
    kn = KneserNeyLM(data.tokenizer, order=best).fit(text)
    test = ngram_bits_per_step(kn, data.test_ids, steps_in(data.test))
    return {
        "val_bits_per_step": {str(n): round(b, 4) for n, b in val.items()},
        "chosen_order": best,
        "test_bits_per_step": round(test, 4),
    }


def theory_table(
    model: torch.nn.Module, data: ChoraleTokens, n: int = 16, steps: int = 128, seed: int = 0
) -> dict[str, Any]:
    """Theory statistics and memorisation of the real test chorales and of ``n`` samples
    of ``steps`` steps at each of :data:`TEMPERATURES`."""
    real_hist = pooled_histogram(data.train)
    rows = {"real test chorales": _describe(data.test, data, real_hist)}
    for t in TEMPERATURES:
        samples = sample_chorales(model, n, steps, t, seed)
        rows[f"samples T={t}"] = _describe(samples, data, real_hist)
    return {"rows": rows, "samples_per_temperature": n, "sample_steps": steps, "seed": seed}


def _describe(chorales: list[Chorale], data: ChoraleTokens, real_hist) -> dict[str, float]:
    stats = {k: round(float(v), 4) for k, v in statistics(chorales).items()}
    stats["pitch_class_tv_to_train"] = round(
        total_variation(pooled_histogram(chorales), real_hist), 4
    )
    copied = [longest_copied_passage(c, data.train)[0] for c in chorales]
    stats["longest_copied_steps_median"] = float(np.median(copied))
    stats["longest_copied_steps_max"] = int(max(copied))
    return stats


def make_chorale_transformer() -> Path:
    """Train, evaluate and save ``chorale_transformer`` (see the module docstring)."""
    device = _device()
    torch.manual_seed(0)
    c0 = time.process_time()
    data = prepare_chorale_tokens()
    prep_cpu = time.process_time() - c0
    c0 = time.process_time()
    ngram = fit_ngrams(data)
    ngram["cpu_seconds"] = round(time.process_time() - c0, 1)
    print(json.dumps({"ngram": ngram}), flush=True)
    mcfg, tcfg = chorale_config(data.tokenizer.vocab_size)
    model = GPT(mcfg).to(device)
    curve = ValBitsPerStep(data, every=400)
    c0 = time.process_time()
    hist = fit_lm(model, data.train_ids, tcfg, callbacks=[curve])
    train_cpu = time.process_time() - c0  # includes the validation passes
    with torch.no_grad():  # the figures below are those of the stored fp16 weights
        for p in model.parameters():
            p.copy_(p.to(torch.float16))
    val = lm_bits_per_step(model, data.val_ids, steps_in(data.val))
    test = lm_bits_per_step(model, data.test_ids, steps_in(data.test))
    c0 = time.process_time()
    table = theory_table(model, data)
    table["cpu_seconds"] = round(time.process_time() - c0, 1)
    metrics = {
        "val_bits_per_step": round(val, 4),
        "test_bits_per_step": round(test, 4),
        "train_seconds": round(hist.seconds, 1),
        "train_cpu_seconds_with_validation": round(train_cpu, 1),
        "steps_done": hist.steps,
        "final_train_loss_nats": round(float(np.mean(hist["loss"][-50:])), 4),
    }
    meta = {
        "metrics": metrics,
        "val_curve": {
            "columns": ["step", "train_seconds", "val_bits_per_step"],
            "rows": curve.rows,
        },
        "ngram": ngram,
        "theory": table,
        "data": data.record,
        "data_prep_cpu_seconds": round(prep_cpu, 1),
        "token_vocabulary": "aigc_course.music.tokens.GRID_VOCAB (id i is written chr(256 + i))",
        "train_config": tcfg.to_dict(),
        "threads": torch.get_num_threads(),
        "device": str(device),
        "num_params": model.num_params(),
        "mode": "full",
        "seed": 0,
        "recipe": f"aigc-course recipes {NAME}",
    }
    path = save_lm(pretrained_path(NAME), model, data.tokenizer, meta, dtype=torch.float16)
    print(json.dumps({"name": NAME, **metrics, "ngram_test": ngram["test_bits_per_step"]}))
    print(json.dumps(table["rows"], indent=1), flush=True)
    return path
