"""Recipes for the pretrained character language models of the text chapter.

``char_transformer`` and ``char_lstm`` are trained on the default corpus (``pydoc``),
on its first 90 %, with a char tokenizer built from the training text
(:func:`aigc_course.data.text.prepare_corpus`). The last 10 % is held out, cut into a
validation part (recipes record their figures on it) and a test part (reported by the
notebook, never chosen on). The committed checkpoints were recorded before that cut, on
the whole held-out 10 %; their sidecars' ``data`` has no ``test_chars``. Their dropout,
first chosen on that whole 10 %, is chosen again on the validation part alone by
``char_selection`` (the committed value against one below and one above it).
``char_benchmarks`` trains with the nanoGPT README's CPU settings (4 layers x 128, 4 heads,
block 64, batch 12, 2,000 iterations, its learning-rate schedule) with the course's model
on the same data and split, and the course's quick recipe (the same model and work,
another learning-rate schedule): the comparison at equal time, then both again with
seeds 1 and 2::

    aigc-course recipes char_transformer      # or: make checkpoints (all of them)
    aigc-course recipes char_benchmarks
    aigc-course recipes char_selection

Each run records its validation bits/char (with a curve against training time), wall-
clock and CPU time, device, thread count and corpus hash in the checkpoint's sidecar
(the benchmarks in ``char_benchmarks.json``). On a CPU the recipes train on one thread:
models this small gain little from more, and the CPU time of a one-thread run is
comparable between runs even on a shared machine. On a GPU they train there.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import pretrained_path, save_record
from ..data.text import TextData, prepare_corpus
from ..device import get_device, model_device
from ..metrics.text import validation_bits_per_char
from ..models.rnn_lm import CharLSTM, LSTMConfig
from ..models.transformer_lm import GPT, GPTConfig
from ..training.core import Callback, LoopState
from ..training.lm import LMTrainConfig, fit_lm, save_lm

BENCHMARKS = "char_benchmarks"
BENCHMARK_KEYS = ("nanogpt_cpu_reference", "course_quick_transformer")

# -- the recorded configurations -------------------------------------------------------


def nanogpt_reference_config(vocab_size: int) -> tuple[GPTConfig, LMTrainConfig]:
    """nanoGPT's CPU recipe: ``--block_size=64 --batch_size=12 --n_layer=4 --n_head=4
    --n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0`` on top of its
    ``train_shakespeare_char`` config (lr 1e-3 → 1e-4, warm-up 100, β₂ 0.99, weight
    decay 0.1, clip 1.0), applied to the course's model: unlike nanoGPT's own run, it
    keeps biases and uses the tanh GELU, and it is evaluated on a whole split rather
    than on random batches."""
    return GPTConfig.nanogpt_cpu(vocab_size), LMTrainConfig()


def quick_transformer_config(vocab_size: int) -> tuple[GPTConfig, LMTrainConfig]:
    """The course's quick char-Transformer recipe: the nanoGPT recipe's model, batch,
    context and step count, with twice its peak learning rate (2e-3 → 2e-4) and a
    shorter warm-up (50 steps). Same work per step, so the same training time: the
    comparison at equal time changes only the learning-rate schedule."""
    model = GPTConfig.nanogpt_cpu(vocab_size)
    return model, LMTrainConfig(lr=2e-3, min_lr=2e-4, warmup=50)


def transformer_config(vocab_size: int) -> tuple[GPTConfig, LMTrainConfig]:
    """The course's pretrained char-Transformer: 4 layers x 192 (6 heads), a context of
    256 characters (the documentation repeats passages hundreds of characters long, and
    attention can copy them), dropout 0.1 against over-fitting (about 18 passes over
    the training text), 3,600 steps of 8 windows (about 29 CPU-minutes). Its validation
    loss is flat over the last third of training; a 6-layer model with dropout 0.2 and
    a lower learning rate learned more slowly (2.07 bits/char after 1,900 steps, against
    this recipe's 1.84)."""
    model = GPTConfig(vocab_size, block_size=256, n_layer=4, n_head=6, n_embd=192, dropout=0.1)
    train = LMTrainConfig(steps=3600, batch_size=8, block_size=256, lr=2e-3, min_lr=2e-4)
    return model, train


def lstm_config(vocab_size: int) -> tuple[LSTMConfig, LMTrainConfig]:
    """The course's pretrained char-LSTM: 2 layers x 512, windows of 128 (the BPTT
    length), dropout 0.45 on the non-recurrent connections, 3,000 steps of 16 windows
    (8 passes over the training text). The dropout is the one ``char_selection`` chose
    on the validation part among 0.25, 0.35 and 0.45 (it was 0.35, chosen earlier on
    the whole held-out 10 %)."""
    model = LSTMConfig(
        vocab_size, n_embd=64, hidden_size=512, num_layers=2, block_size=128, dropout=0.45
    )
    train = LMTrainConfig(
        steps=3000, batch_size=16, block_size=128, lr=2e-3, min_lr=2e-4, weight_decay=0.0
    )
    return model, train


# -- the measuring harness -------------------------------------------------------------


class ValidationCurve(Callback):
    """Every ``every`` seconds of training time, score the whole validation split
    (off the clock) and keep ``[train_seconds, cpu_seconds, step, bits/char]``.

    The schedule follows CPU seconds on a CPU (on a shared machine wall-clock depends on
    the neighbours; the CPU time of a one-thread run does not) and training seconds on
    a GPU. The evaluations' own CPU time is left out of the CPU clock too.
    """

    def __init__(self, data: TextData, context: int, every: float | None, name: str = ""):
        self.data, self.context, self.every, self.name = data, context, every, name
        self.rows: list[list[float]] = []
        self.cpu_paused = 0.0
        self.next = every or float("inf")

    def on_start(self, state: LoopState) -> None:
        self.cpu_start = time.process_time()
        self.on_cpu = model_device(state.models["model"]).type == "cpu"

    def cpu_seconds(self) -> float:
        return time.process_time() - self.cpu_start - self.cpu_paused

    def on_step(self, state: LoopState) -> None:
        cpu, wall = self.cpu_seconds(), state.clock.seconds
        now = cpu if self.on_cpu else wall
        if now < self.next:
            return
        c0 = time.process_time()
        value = validation_bits_per_char(state.models["model"], self.data, context=self.context)
        self.rows.append([round(wall, 1), round(cpu, 1), state.step, round(value, 4)])
        loss = state.last.get("loss", float("nan"))
        line = f"{self.name} {now:6.0f} s  step {state.step:5d}  train loss {loss:.3f} nats"
        print(f"{line}  val {value:.4f} bits/char", flush=True)
        self.cpu_paused += time.process_time() - c0
        self.next = (now // self.every + 1) * self.every  # the next multiple of every


def train_and_measure(
    model: torch.nn.Module,
    train_cfg: LMTrainConfig,
    data: TextData,
    eval_every: float | None = None,
    name: str = "",
    stored_dtype: torch.dtype | None = None,
) -> dict[str, Any]:
    """Train ``model`` (on the device it is on) from scratch on ``data`` and return the
    figures a sidecar records.

    Args:
        eval_every: also score the whole validation split every this many seconds of
            training (CPU seconds on a CPU; the evaluations' own time is left out of the
            clock) and print a progress line: validation bits/char against training
            time, for comparisons at equal time.
        stored_dtype: the type the checkpoint will store the weights in (float16 halves
            the file): the weights are rounded to it before the final evaluation, so the
            recorded figure is that of the stored weights.
    """
    curve = ValidationCurve(data, train_cfg.block_size, eval_every, name)
    hist = fit_lm(model, data.train_ids, train_cfg, callbacks=[curve])
    train_cpu = curve.cpu_seconds()
    if stored_dtype is not None:
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(stored_dtype))
    t0 = time.perf_counter()
    bpc = validation_bits_per_char(model, data, context=train_cfg.block_size)
    eval_seconds = time.perf_counter() - t0
    rows = [*curve.rows, [round(hist.seconds, 1), round(train_cpu, 1), hist.steps, round(bpc, 4)]]
    losses = hist["loss"][-50:]
    device = model_device(model)
    return {
        "val_curve": {
            "columns": ["train_seconds", "cpu_seconds", "step", "val_bits_per_char"],
            "rows": rows,
        },
        "metrics": {
            "val_bits_per_char": round(bpc, 4),
            "train_seconds": round(hist.seconds, 1),
            "train_cpu_seconds": round(train_cpu, 1),
            "steps_done": hist.steps,
            "final_train_loss_nats": round(sum(losses) / len(losses), 4),
            "eval_seconds": round(eval_seconds, 1),
        },
        "train_config": train_cfg.to_dict(),
        "threads": torch.get_num_threads(),
        "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
        "load_average_at_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "num_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


def _device() -> torch.device:
    """The recipes' device: the GPU when there is one; on a CPU, one thread."""
    device = get_device()
    if device.type == "cpu":
        torch.set_num_threads(1)
    return device


# -- the recipes (named in aigc_course.recipes.REGISTRY) -------------------------------


def _make(name: str, kind: str) -> Path:
    device = _device()
    torch.manual_seed(0)
    data = prepare_corpus()
    if kind == "transformer":
        mcfg, tcfg = transformer_config(data.tokenizer.vocab_size)
        model: torch.nn.Module = GPT(mcfg)
    else:
        mcfg, tcfg = lstm_config(data.tokenizer.vocab_size)
        model = CharLSTM(mcfg)
    record = train_and_measure(
        model.to(device), tcfg, data, eval_every=60.0, name=name, stored_dtype=torch.float16
    )
    recipe = f"aigc-course recipes {name}"
    meta = {**record, "data": data.record, "mode": "full", "seed": 0, "recipe": recipe}
    path = save_lm(pretrained_path(name), model, data.tokenizer, meta, dtype=torch.float16)
    print(json.dumps({"name": name, **record["metrics"]}), flush=True)
    return path


def make_char_transformer() -> Path:
    """The pretrained character Transformer (:func:`transformer_config`)."""
    return _make("char_transformer", "transformer")


def make_char_lstm() -> Path:
    """The pretrained character LSTM (:func:`lstm_config`)."""
    return _make("char_lstm", "lstm")


def _benchmark(
    key: str, config, data: TextData, seed: int = 0, eval_every: float | None = 30.0
) -> dict[str, Any]:
    torch.manual_seed(seed)
    mcfg, tcfg = config(data.tokenizer.vocab_size)
    tcfg = dataclasses.replace(tcfg, seed=seed)
    model = GPT(mcfg).to(get_device())
    record = train_and_measure(model, tcfg, data, eval_every=eval_every, name=key)
    print(json.dumps({"name": key, **record["metrics"]}), flush=True)
    recipe = f"aigc-course recipes {BENCHMARKS}"
    return {**record, "model_config": mcfg.to_dict(), "data": data.record, "recipe": recipe}


def benchmarks(data: TextData, seeds: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """The nanoGPT CPU recipe and the course's quick recipe, one after the other, in one
    process, on the same data and split (seed 0, with validation curves), then both
    again with each of ``seeds`` (other initial weights and batches: the difference is
    not one seed's luck). No weights are kept."""
    configs = {
        "nanogpt_cpu_reference": nanogpt_reference_config,
        "course_quick_transformer": quick_transformer_config,
    }
    result: dict[str, Any] = {key: _benchmark(key, cfg, data) for key, cfg in configs.items()}
    rows = []
    for seed in seeds:
        for key, cfg in configs.items():
            m = _benchmark(key, cfg, data, seed=seed, eval_every=None)["metrics"]
            rows.append([seed, key, m["val_bits_per_char"], m["train_cpu_seconds"]])
    result["replicates"] = {
        "columns": ["seed", "recipe", "val_bits_per_char", "train_cpu_seconds"],
        "rows": rows,
        "recipe": f"aigc-course recipes {BENCHMARKS}",
    }
    return result


def write_benchmarks(result: dict[str, Any], path: Path | None = None) -> Path:
    """Write ``result`` as the JSON-only record ``char_benchmarks.json`` (atomically)."""
    return save_record(path or pretrained_path(BENCHMARKS), result)


def make_char_benchmarks() -> Path:
    """``char_benchmarks.json``: the comparison at equal time and its replicates."""
    _device()
    return write_benchmarks(benchmarks(prepare_corpus()))


# -- char_selection: the pretrained recipes' dropout, re-chosen on validation alone ------

SELECTION = "char_selection"

#: The dropout values compared for each pretrained recipe, everything else as recorded
#: (model, steps, batches, schedule, seed 0): centred on the values the recipes had when
#: the selection ran (0.1 and 0.35).
SELECTION_GRID: dict[str, tuple[float, ...]] = {
    "char_transformer": (0.0, 0.1, 0.2),
    "char_lstm": (0.25, 0.35, 0.45),
}


def _recorded(name: str, vocab_size: int):
    kind = transformer_config if name == "char_transformer" else lstm_config
    return kind(vocab_size)


def selection_run(name: str, dropout: float, eval_every: float | None = 300.0) -> list:
    """One cell of :data:`SELECTION_GRID`: the recipe ``name`` with ``dropout``, scored
    on the **validation part only**. The committed value is not retrained: its
    checkpoint (the model the course ships) is scored. Others train from scratch with
    the recipe's seed and are rounded to float16 like the stored weights; no weights are
    kept. Returns ``[name, dropout, val bits/char, train CPU-s, source]``."""
    from ..loading import load_pretrained

    device = _device()
    data = prepare_corpus()
    mcfg, tcfg = _recorded(name, data.tokenizer.vocab_size)
    if dropout == mcfg.dropout:
        model, meta = load_pretrained(name, device=device)
        bpc = validation_bits_per_char(model, data, context=tcfg.block_size)
        cpu = meta["metrics"]["train_cpu_seconds"]
        return [name, dropout, round(bpc, 4), cpu, "committed checkpoint"]
    torch.manual_seed(0)
    mcfg = dataclasses.replace(mcfg, dropout=dropout)
    model = (GPT(mcfg) if name == "char_transformer" else CharLSTM(mcfg)).to(device)
    label = f"{name} dropout {dropout:g}"
    record = train_and_measure(
        model, tcfg, data, eval_every=eval_every, name=label, stored_dtype=torch.float16
    )
    m = record["metrics"]
    return [name, dropout, m["val_bits_per_char"], m["train_cpu_seconds"], "trained here"]


def char_selection(
    grid: dict[str, tuple[float, ...]] | None = None, workers: int | None = None
) -> dict[str, Any]:
    """Re-make the pretrained recipes' dropout choice on the validation part alone.

    Every value of ``grid`` (default :data:`SELECTION_GRID`) is scored on the validation
    part; the rule, fixed before the runs: the lowest validation bits/char wins. The
    record says, per recipe, which value wins and whether it is the committed one. Every
    value trains for the recipe's own number of steps (the comparison is at equal steps,
    not equal time). On a CPU the runs go in ``workers`` parallel processes (default: up
    to 2), one thread each; where two processes share a physical core, their CPU seconds
    run long and are not comparable with a recipe run alone. On a GPU one after another."""
    import concurrent.futures
    import multiprocessing

    grid = grid or SELECTION_GRID
    jobs = [(name, d) for name, values in grid.items() for d in values]
    if workers is None:
        workers = 1 if get_device().type != "cpu" else min(2, os.cpu_count() or 1)
    if workers > 1:
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            rows = list(pool.map(selection_run, *zip(*jobs, strict=True)))
    else:
        rows = [selection_run(*job) for job in jobs]
    data = prepare_corpus()
    chosen = {}
    for name in grid:
        mine = [r for r in rows if r[0] == name]
        best = min(mine, key=lambda r: r[2])
        committed = _recorded(name, data.tokenizer.vocab_size)[0].dropout
        chosen[name] = {"dropout": best[1], "is_committed": best[1] == committed}
    return {
        "rows": rows,
        "columns": ["recipe", "dropout", "val_bits_per_char", "train_cpu_seconds", "source"],
        "rule": "lowest bits/char on the validation part (the test part is not scored)",
        "chosen": chosen,
        "data": data.record,
        "seed": 0,
        "mode": "full",
        "recipe": f"aigc-course recipes {SELECTION}",
    }


def make_char_selection() -> Path:
    """``char_selection.json``: :func:`char_selection`, written atomically."""
    result = char_selection()
    print(json.dumps(result["chosen"]), flush=True)
    return save_record(pretrained_path(SELECTION), result)
