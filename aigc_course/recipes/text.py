"""Recipes for the pretrained character language models of the text chapter.

``char_transformer`` and ``char_lstm`` are trained on the default corpus (``pydoc``),
on its first 90 % (the last 10 % is the validation split every figure uses), with a
char tokenizer built from the training text. ``benchmarks`` trains the nanoGPT
README's CPU recipe (4 layers x 128, 4 heads, block 64, batch 12, 2,000 iterations,
its learning-rate schedule) with the course's model on the same data and split, and
the course's quick recipe (the same model and work, another learning-rate schedule):
the comparison at equal time.

    python -m aigc_course.recipes char_transformer      # or: make checkpoints
    python -m aigc_course.recipes.text benchmarks       # reference and quick recipe
    python -m aigc_course.recipes.text replicates       # the same with seeds 1 and 2

Each run writes its validation bits/char (with a curve against training time),
wall-clock and CPU time, thread count and corpus hash into the checkpoint's sidecar
(the benchmarks into ``char_benchmarks.json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .._io import atomic_write
from ..checkpoint import pretrained_path
from ..data.text import Corpus, load_corpus
from ..metrics.text import bits_per_char
from ..models.rnn_lm import CharLSTM, LSTMConfig
from ..models.transformer_lm import GPT, GPTConfig
from ..tokenizer import CharTokenizer
from ..training.lm import TrainConfig, fit, save_lm

VAL_FRACTION = 0.1
BENCHMARKS = "char_benchmarks.json"


@dataclass(frozen=True)
class TextData:
    """A corpus, its split and its tokenizer (built from the training part only)."""

    corpus: Corpus
    tokenizer: CharTokenizer
    train_text: str
    val_text: str
    train_ids: torch.Tensor
    val_ids: torch.Tensor

    @property
    def record(self) -> dict[str, Any]:
        return {
            "corpus": self.corpus.name,
            "sha256": self.corpus.sha256,
            "source": self.corpus.source,
            "n_chars": len(self.corpus),
            "val_fraction": VAL_FRACTION,
            "python_version": platform.python_version(),
        }


def prepare(name: str = "pydoc", max_chars: int | None = None) -> TextData:
    """Load a corpus, split it (last 10 % for validation) and build the tokenizer.

    Args:
        max_chars: keep only the first ``max_chars`` characters *before* splitting
            (smoke mode); None keeps everything.
    """
    corpus = load_corpus(name)
    if max_chars is not None:
        text = corpus.text[:max_chars]
        corpus = Corpus(corpus.name, text, corpus.sha256, corpus.source + f", first {max_chars}")
    train, val = corpus.split(VAL_FRACTION)
    tok = CharTokenizer.from_text(train)
    val_ids, _ = tok.encode_with_mask(val, unknown="replace")
    return TextData(
        corpus,
        tok,
        train,
        val,
        tok.encode_tensor(train),
        torch.tensor(val_ids, dtype=torch.long),
    )


# -- the recorded recipes --------------------------------------------------------------


def nanogpt_reference_config(vocab_size: int) -> tuple[GPTConfig, TrainConfig]:
    """nanoGPT's CPU recipe: ``--block_size=64 --batch_size=12 --n_layer=4 --n_head=4
    --n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0`` on top of its
    ``train_shakespeare_char`` config (lr 1e-3 → 1e-4, warm-up 100, β₂ 0.99, weight
    decay 0.1, clip 1.0)."""
    return GPTConfig.nanogpt_cpu(vocab_size), TrainConfig()


def quick_transformer_config(vocab_size: int) -> tuple[GPTConfig, TrainConfig]:
    """The course's quick char-Transformer recipe: the nanoGPT recipe's model, batch,
    context and step count, with twice its peak learning rate (2e-3 → 2e-4) and a
    shorter warm-up (50 steps). Same work per step, so the same training time: the
    comparison at equal time changes only the learning-rate schedule."""
    model = GPTConfig.nanogpt_cpu(vocab_size)
    return model, TrainConfig(lr=2e-3, min_lr=2e-4, warmup=50)


def transformer_config(vocab_size: int) -> tuple[GPTConfig, TrainConfig]:
    """The course's pretrained char-Transformer: 4 layers x 192 (6 heads), a context of
    256 characters (the documentation repeats passages hundreds of characters long, and
    attention can copy them), dropout 0.1 against over-fitting (about 18 passes over
    the training text), 3,600 steps of 8 windows (about 29 CPU-minutes). Its validation
    loss is flat over the last third of training; a 6-layer model with dropout 0.2 and
    a lower learning rate learned more slowly (2.07 bits/char after 1,900 steps, against
    this recipe's 1.84)."""
    model = GPTConfig(vocab_size, block_size=256, n_layer=4, n_head=6, n_embd=192, dropout=0.1)
    train = TrainConfig(steps=3600, batch_size=8, block_size=256, lr=2e-3, min_lr=2e-4)
    return model, train


def lstm_config(vocab_size: int) -> tuple[LSTMConfig, TrainConfig]:
    """The course's pretrained char-LSTM: 2 layers x 512, windows of 128 (the BPTT
    length), dropout 0.35 on the non-recurrent connections, 3,000 steps of 16 windows
    (about 15 CPU-minutes; with dropout 0.25 the validation loss turned up after about
    2,500 steps, 8 passes over the training text)."""
    model = LSTMConfig(
        vocab_size, n_embd=64, hidden_size=512, num_layers=2, block_size=128, dropout=0.35
    )
    train = TrainConfig(
        steps=3000, batch_size=16, block_size=128, lr=2e-3, min_lr=2e-4, weight_decay=0.0
    )
    return model, train


def evaluate(model: torch.nn.Module, data: TextData, context: int) -> float:
    """Validation bits/char over the whole validation split (see ``sequence_nll``)."""
    return bits_per_char(model, data.val_ids, context=context)


def train_and_measure(
    model: torch.nn.Module,
    train_cfg: TrainConfig,
    data: TextData,
    eval_every: float | None = None,
    name: str = "",
    stored_dtype: torch.dtype | None = None,
) -> dict[str, Any]:
    """Train from scratch on ``data`` and return the figures a sidecar records.

    Args:
        eval_every: also evaluate on the whole validation split every this many CPU
            seconds of training (the evaluations' own time is left out of the clock)
            and print a progress line: validation bits/char against training time,
            for comparisons at equal time.
        stored_dtype: the type the checkpoint will store the weights in (float16 halves
            the file): the weights are rounded to it before the final evaluation, so the
            recorded figure is that of the stored weights.
    """
    # on a shared machine wall-clock depends on the neighbours; the CPU time of a
    # one-thread run does not, so the curve is taken (and compared) in CPU seconds
    curve: list[list[float]] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    paused = {"wall": 0.0, "cpu": 0.0, "next": eval_every or float("inf")}

    def clock() -> tuple[float, float]:
        wall = time.perf_counter() - start - paused["wall"]
        return wall, time.process_time() - cpu_start - paused["cpu"]

    def measure(step: int, loss: float, m: torch.nn.Module) -> None:
        wall, cpu = clock()
        if cpu < paused["next"]:
            return
        w0, c0 = time.perf_counter(), time.process_time()
        value = evaluate(m, data, train_cfg.block_size)
        curve.append([round(wall, 1), round(cpu, 1), step + 1, round(value, 4)])
        print(f"{name} {cpu:6.0f} CPU-s  step {step + 1:5d}  train loss {loss:.3f} nats  "
              f"val {value:.4f} bits/char", flush=True)  # fmt: skip
        paused["wall"] += time.perf_counter() - w0
        paused["cpu"] += time.process_time() - c0
        every = eval_every or float("inf")
        paused["next"] = (cpu // every + 1) * every  # the next multiple of eval_every

    hist = fit(model, data.train_ids, train_cfg, callback=measure)
    train_seconds, train_cpu = clock()
    if stored_dtype is not None:
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(stored_dtype))
    t0 = time.perf_counter()
    bpc = evaluate(model, data, context=train_cfg.block_size)
    eval_seconds = time.perf_counter() - t0
    curve.append([round(train_seconds, 1), round(train_cpu, 1), hist.steps_done, round(bpc, 4)])
    return {
        "val_curve": {
            "columns": ["train_seconds", "cpu_seconds", "step", "val_bits_per_char"],
            "rows": curve,
        },
        "metrics": {
            "val_bits_per_char": round(bpc, 4),
            "train_seconds": round(train_seconds, 1),
            "train_cpu_seconds": round(train_cpu, 1),
            "steps_done": hist.steps_done,
            "final_train_loss_nats": round(sum(hist.train_loss[-50:]) / min(50, len(hist.step)), 4),
            "eval_seconds": round(eval_seconds, 1),
        },
        "train_config": train_cfg.to_dict(),
        "threads": torch.get_num_threads(),
        "device": "cpu",
        "load_average_at_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "num_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


def _run(name: str, kind: str, recipe_cmd: str) -> Path:
    _one_thread()
    torch.manual_seed(0)
    data = prepare()
    if kind == "transformer":
        mcfg, tcfg = transformer_config(data.tokenizer.vocab_size)
        model: torch.nn.Module = GPT(mcfg)
    else:
        mcfg, tcfg = lstm_config(data.tokenizer.vocab_size)
        model = CharLSTM(mcfg)
    record = train_and_measure(
        model, tcfg, data, eval_every=60.0, name=name, stored_dtype=torch.float16
    )
    meta = {**record, "data": data.record, "mode": "full", "seed": 0, "recipe": recipe_cmd}
    path = save_lm(pretrained_path(name), model, data.tokenizer, meta, dtype=torch.float16)
    print(json.dumps({"name": name, **record["metrics"]}), flush=True)
    return path


def _one_thread() -> None:
    """The recipes train on the CPU, on one thread: models this small gain little from
    more threads, and the CPU time of a one-thread run is comparable between runs even
    on a shared machine."""
    torch.set_num_threads(1)


def make_char_transformer() -> Path:
    return _run("char_transformer", "transformer", "python -m aigc_course.recipes char_transformer")


def make_char_lstm() -> Path:
    return _run("char_lstm", "lstm", "python -m aigc_course.recipes char_lstm")


def _benchmark(
    key: str, config, recipe_cmd: str, seed: int = 0, eval_every: float | None = 30.0
) -> dict[str, Any]:
    torch.manual_seed(seed)
    data = prepare()
    mcfg, tcfg = config(data.tokenizer.vocab_size)
    tcfg = dataclasses.replace(tcfg, seed=seed)
    record = train_and_measure(GPT(mcfg), tcfg, data, eval_every=eval_every, name=key)
    print(json.dumps({"name": key, **record["metrics"]}), flush=True)
    return {key: {**record, "model_config": mcfg.to_dict(), "data": data.record,
                  "recipe": recipe_cmd}}  # fmt: skip


def benchmarks() -> dict[str, Any]:
    """Train the nanoGPT CPU recipe and the course's quick recipe one after the other,
    in one process, on the same data and split, and record both in
    ``aigc_course/pretrained/char_benchmarks.json`` (no weights are kept): the
    comparison at equal time."""
    _one_thread()
    cmd = "python -m aigc_course.recipes.text benchmarks"
    result = {
        **_benchmark("nanogpt_cpu_reference", nanogpt_reference_config, cmd),
        **_benchmark("course_quick_transformer", quick_transformer_config, cmd),
    }
    _record(result)
    return result


def replicates(seeds: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Repeat the comparison with other seeds (other initial weights and batches), to
    show the difference is not one seed's luck; record each seed's final figures under
    ``replicates`` in ``char_benchmarks.json``."""
    _one_thread()
    cmd = "python -m aigc_course.recipes.text replicates"
    rows = []
    for seed in seeds:
        for key, config in (
            ("nanogpt_cpu_reference", nanogpt_reference_config),
            ("course_quick_transformer", quick_transformer_config),
        ):
            m = _benchmark(key, config, cmd, seed=seed, eval_every=None)[key]["metrics"]
            rows.append([seed, key, m["val_bits_per_char"], m["train_cpu_seconds"]])
    result = {
        "replicates": {
            "columns": ["seed", "recipe", "val_bits_per_char", "train_cpu_seconds"],
            "rows": rows,
            "recipe": cmd,
        }
    }
    _record(result)
    return result


def _record(result: dict[str, Any]) -> None:
    path = pretrained_path(BENCHMARKS).with_suffix(".json")
    old = json.loads(path.read_text()) if path.is_file() else {}
    text = json.dumps({**old, **result}, indent=2, sort_keys=True) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


RECIPES = {"char_transformer": make_char_transformer, "char_lstm": make_char_lstm}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["benchmarks", "replicates", *RECIPES])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.what == "benchmarks":
        benchmarks()
    elif args.what == "replicates":
        replicates()
    else:
        RECIPES[args.what]()


if __name__ == "__main__":
    main()
