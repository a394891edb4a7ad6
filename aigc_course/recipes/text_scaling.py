"""The ``text_scaling`` record: how the character models of notebook 05 grow with data,
and character against byte-level BPE tokens at equal compute (notebook 06)::

    aigc-course recipes text_scaling

Two measurements on the default corpus (``pydoc``), its training, validation and test
parts (:func:`aigc_course.data.text.prepare_corpus`), one thread on a CPU:

1. **Data scaling.** The quick char-Transformer recipe
   (:func:`~aigc_course.recipes.text.quick_transformer_config`: 2,000 steps of 12
   windows of 64 characters) trained on the first 25 %, 50 % and 100 % of the training
   text, each cut after the last blank line (a paragraph's end) at or before that share,
   with seeds 0 and 1. Every fraction gets the same steps, so the same compute: less data
   means more passes over it. Beside it, Kneser-Ney n-grams fitted on the same prefixes,
   their order chosen on validation. Every model uses the one character vocabulary of
   the whole training text, so the figures compare.
2. **Characters or BPE tokens at equal compute.** The same GPT shape on byte-level BPE
   tokens (a tokenizer trained on the training text only; two vocabulary sizes, one
   chosen on validation with seed 0), with the same batch and context *in tokens* as the
   character model, trained for the character run's CPU seconds (its step count is set
   from a timing of its own steps, and a CPU budget stops it in any case). The
   character arm is the 100 % run of part 1. Both are scored in bits per *character*:
   the total nats over a text divided by the characters the scored tokens cover.

No weights are kept; ``aigc_course/pretrained/text_scaling.json`` (family ``record``)
holds every figure, read by ``load_pretrained("text_scaling")``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import pretrained_path, save_record
from ..data.text import TextData, prepare_corpus
from ..metrics.text import bits_per_char, sequence_nll
from ..models.ngram import KneserNeyLM
from ..models.transformer_lm import GPT, GPTConfig
from ..training.core import Callback, LoopState
from ..training.lm import LMTrainConfig, fit_lm
from .text import _device, quick_transformer_config

NAME = "text_scaling"
RECIPE = f"aigc-course recipes {NAME}"
FRACTIONS = (0.25, 0.5, 1.0)
SEEDS = (0, 1)
KN_ORDERS = (3, 4, 5, 6, 8, 10, 12, 16, 24, 32)
BPE_VOCABS = (512, 1024)
Config = Callable[[int], tuple[GPTConfig, LMTrainConfig]]


class CPUBudget(Callback):
    """Count the CPU seconds of training (this process, callbacks excluded) and stop the
    loop once they reach ``budget`` (None: only count)."""

    def __init__(self, budget: float | None = None) -> None:
        self.budget = budget
        self.paused = 0.0

    def on_start(self, state: LoopState) -> None:
        self.start = time.process_time()

    @property
    def seconds(self) -> float:
        return time.process_time() - self.start - self.paused

    def on_step(self, state: LoopState) -> None:
        if self.budget is not None and self.seconds >= self.budget:
            state.stop = True


def training_prefix(data: TextData, fraction: float) -> str:
    """The first ``fraction`` of the training text, cut after the last blank line (a
    paragraph's end) at or before that share (at the share itself when there is none).

    pydoc's topics are few and long (the last topic start before 25 % of the training
    text is at 15 % of it), so the cut is at a paragraph rather than at a topic."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    text = data.train_text
    if fraction == 1.0:
        return text
    target = int(len(text) * fraction)
    blank = text.rfind("\n\n", 0, target)
    return text[: blank + 2 if blank > 0 else target]


def _train(
    model: torch.nn.Module, ids: torch.Tensor, cfg: LMTrainConfig, budget: float | None = None
) -> tuple[int, float]:
    clock = CPUBudget(budget)
    hist = fit_lm(model, ids, cfg, callbacks=[clock])
    return hist.steps, round(clock.seconds, 1)


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def kneser_ney_scan(data: TextData, text: str, orders: Sequence[int] = KN_ORDERS) -> dict[str, Any]:
    """Kneser-Ney models of each order fitted on ``text``, scored on validation; the
    order with the lowest validation bits/char is scored once on test."""
    scan = {}
    for n in orders:
        scan[n] = round(KneserNeyLM(data.tokenizer, n).fit(text).bits_per_char(data.val_text), 4)
    best = min(scan, key=scan.get)
    test = KneserNeyLM(data.tokenizer, best).fit(text).bits_per_char(data.test_text)
    return {
        "val_scan": {str(n): v for n, v in scan.items()},
        "order": best,
        "val_bits_per_char": scan[best],
        "test_bits_per_char": round(test, 4),
    }


def data_scaling(
    data: TextData,
    fractions: Sequence[float] = FRACTIONS,
    seeds: Sequence[int] = SEEDS,
    orders: Sequence[int] = KN_ORDERS,
    config: Config = quick_transformer_config,
) -> dict[str, Any]:
    """Part 1: the GPT of ``config`` and Kneser-Ney on prefixes of the training text."""
    device = _device()
    gpt_rows, kn_rows = [], []
    for fraction in fractions:
        text = training_prefix(data, fraction)
        ids = data.train_ids[: len(text)]
        kn = kneser_ney_scan(data, text, orders)
        kn_rows.append({"fraction": fraction, "train_chars": len(text), **kn})
        print(json.dumps({"kn": fraction, "order": kn["order"], "test": kn["test_bits_per_char"]}))
        for seed in seeds:
            mcfg, tcfg = config(data.tokenizer.vocab_size)
            tcfg = dataclasses.replace(tcfg, seed=seed)
            torch.manual_seed(seed)
            model = GPT(mcfg).to(device)
            steps, cpu = _train(model, ids, tcfg)
            context = tcfg.block_size
            row = {
                "fraction": fraction,
                "train_chars": len(text),
                "seed": seed,
                "val_bits_per_char": round(bits_per_char(model, data.val_ids, context=context), 4),
                "test_bits_per_char": round(
                    bits_per_char(model, data.test_ids, context=context), 4
                ),
                "steps": steps,
                "train_cpu_seconds": cpu,
                "num_params": _params(model),
                "chars_seen": steps * tcfg.batch_size * tcfg.block_size,
                "passes": round(steps * tcfg.batch_size * tcfg.block_size / len(text), 2),
            }
            gpt_rows.append(row)
            print(json.dumps({"gpt": row}), flush=True)
    mcfg, tcfg = config(data.tokenizer.vocab_size)
    return {
        "fractions": list(fractions),
        "cut": "the first share of the training text, cut after the last blank line at or "
        "before it (100 %: the whole training text)",
        "compute": "the same steps, batch and context at every fraction: equal compute, "
        "so less data means more passes over it",
        "gpt": gpt_rows,
        "kn": kn_rows,
        "kn_orders": list(orders),
        "model_config": mcfg.to_dict(),
        "train_config": tcfg.to_dict(),
    }


def bpe_bits_per_char(
    model: torch.nn.Module, tokenizer, text: str, context: int
) -> tuple[float, float, int]:
    """Bits per *character* of ``text`` under a model on ``tokenizer``'s tokens: the total
    nats of every token after the first, over the characters those tokens decode to.

    Returns:
        (bits/char, total nats, characters scored).
    """
    ids = torch.tensor(tokenizer.encode(text).ids, dtype=torch.long)
    if ids.numel() < 2:
        raise ValueError(f"{text!r} is a single token or none: nothing to score")
    nll = sequence_nll(model, ids, context=context)
    chars = len(tokenizer.decode(ids[1:].tolist()))
    nats = nll.sum().item()
    return nats / chars / math.log(2), nats, chars


def _cpu_per_step(model_cfg: GPTConfig, train_cfg: LMTrainConfig, ids: torch.Tensor) -> float:
    """CPU seconds per step of a throwaway model of this shape (after 5 warm-up steps)."""
    model = GPT(model_cfg).to(_device())
    fit_lm(model, ids, dataclasses.replace(train_cfg, steps=5))
    n = 30
    clock = CPUBudget()
    fit_lm(model, ids, dataclasses.replace(train_cfg, steps=n, warmup=1), callbacks=[clock])
    return clock.seconds / n


def char_vs_bpe(
    data: TextData,
    char_rows: Sequence[dict[str, Any]],
    vocabs: Sequence[int] = BPE_VOCABS,
    seeds: Sequence[int] = SEEDS,
    config: Config = quick_transformer_config,
) -> dict[str, Any]:
    """Part 2: the GPT of ``config`` on byte-level BPE tokens, at the CPU seconds of the
    character runs ``char_rows`` (part 1's rows on the whole training text, one per
    seed). Every vocabulary size is trained with the first seed; the one with the lowest
    validation bits/char is trained with the other seeds too."""
    from ..hf import train_bpe

    device = _device()
    by_seed = {r["seed"]: r for r in char_rows}
    missing = [s for s in seeds if s not in by_seed]
    if missing:
        raise ValueError(f"no character run for seed(s) {missing}: train them first")
    _, char_cfg = config(data.tokenizer.vocab_size)
    rows = [
        {
            "tokenizer": "characters",
            "vocab_size": data.tokenizer.vocab_size,
            "chars_per_token": 1.0,
            "context_chars": char_cfg.block_size,
            "tokens_seen": r["chars_seen"],
            **{k: r[k] for k in ("seed", "num_params", "steps", "train_cpu_seconds")},
            **{k: r[k] for k in ("chars_seen", "val_bits_per_char", "test_bits_per_char")},
        }
        for r in char_rows
        if r["seed"] in seeds
    ]
    per_char_step = sum(r["train_cpu_seconds"] / r["steps"] for r in rows) / len(rows)

    def run(vocab: int, seed: int) -> dict[str, Any]:
        tok = tokenizers[vocab]
        ids = torch.tensor(tok.encode(data.train_text).ids, dtype=torch.long)
        mcfg, tcfg = config(tok.get_vocab_size())
        per_step = _cpu_per_step(mcfg, tcfg, ids)
        budget = by_seed[seed]["train_cpu_seconds"]
        steps = max(1, min(tcfg.steps, int(budget / per_step)))
        tcfg = dataclasses.replace(tcfg, seed=seed, steps=steps)
        torch.manual_seed(seed)
        model = GPT(mcfg).to(device)
        done, cpu = _train(model, ids, tcfg, budget=budget)
        per_token = len(data.train_text) / ids.numel()
        val = bpe_bits_per_char(model, tok, data.val_text, tcfg.block_size)
        test = bpe_bits_per_char(model, tok, data.test_text, tcfg.block_size)
        row = {
            "tokenizer": "byte-level BPE",
            "vocab_size": tok.get_vocab_size(),
            "vocab_asked": vocab,
            "seed": seed,
            "num_params": _params(model),
            "steps_planned": steps,
            "steps": done,
            "train_cpu_seconds": cpu,
            "cpu_budget_seconds": budget,
            "cpu_per_step_timed": round(per_step, 4),
            "chars_per_token": round(per_token, 3),
            "context_chars": round(tcfg.block_size * per_token, 1),
            "tokens_seen": done * tcfg.batch_size * tcfg.block_size,
            "chars_seen": round(done * tcfg.batch_size * tcfg.block_size * per_token),
            "val_bits_per_char": round(val[0], 4),
            "test_bits_per_char": round(test[0], 4),
            "val_chars_scored": val[2],
            "test_chars_scored": test[2],
        }
        print(json.dumps({"bpe": row}), flush=True)
        return row

    tokenizers = {v: train_bpe([data.train_text], vocab_size=v) for v in vocabs}
    first, *others = seeds
    scan = [run(v, first) for v in vocabs]
    chosen = min(scan, key=lambda r: r["val_bits_per_char"])
    bpe_rows = [chosen, *(run(chosen["vocab_asked"], s) for s in others)]
    return {
        "rows": rows + bpe_rows,
        "vocab_scan": [
            {k: r[k] for k in ("vocab_size", "seed", "val_bits_per_char")} for r in scan
        ],
        "chosen_vocab": chosen["vocab_size"],
        "unchosen": [r for r in scan if r is not chosen],
        "chosen_on": f"validation bits/char, seed {first}",
        "char_cpu_per_step": round(per_char_step, 4),
        "same": "model shape, batch and context in tokens, learning-rate schedule over the "
        "planned steps; the BPE run's steps are set so that it fits the character run's "
        "CPU seconds (timed on 30 steps) and a CPU budget stops it there in any case",
        "bits_per_char": "total nats over the text / characters the scored tokens decode "
        "to (every token after the first), over ln 2",
    }


def text_scaling(
    data: TextData,
    fractions: Sequence[float] = FRACTIONS,
    seeds: Sequence[int] = SEEDS,
    orders: Sequence[int] = KN_ORDERS,
    vocabs: Sequence[int] = BPE_VOCABS,
    config: Config = quick_transformer_config,
    mode: str = "full",
) -> dict[str, Any]:
    """Both parts; the record ``text_scaling.json`` holds what this returns."""
    if 1.0 not in fractions:
        raise ValueError("fractions must include 1.0: the character arm of part 2 is that run")
    c0, w0 = time.process_time(), time.perf_counter()
    scaling = data_scaling(data, fractions, seeds, orders, config)
    full = [r for r in scaling["gpt"] if r["fraction"] == 1.0]
    bpe = char_vs_bpe(data, full, vocabs, seeds, config)
    device = _device()
    return {
        "data": data.record,
        "recipe": RECIPE,
        "mode": mode,
        "seeds": list(seeds),
        "data_scaling": scaling,
        "char_vs_bpe": bpe,
        "cpu_seconds": round(time.process_time() - c0, 1),
        "wall_seconds": round(time.perf_counter() - w0, 1),
        "threads": torch.get_num_threads(),
        "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
        "load_average_at_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def make_text_scaling(path: Path | None = None) -> Path:
    """``text_scaling.json``: data scaling of the quick GPT and Kneser-Ney, and
    characters vs BPE tokens at equal CPU time."""
    _device()
    return save_record(path or pretrained_path(NAME), text_scaling(prepare_corpus()))
