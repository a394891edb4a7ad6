"""Recipes for the pretrained character language models of the text chapter.

``char_transformer`` and ``char_lstm`` are trained on the default corpus (``pydoc``),
on its first 90 % (the last 10 % is the validation split every figure uses), with a
char tokenizer built from the training text. ``nanogpt_reference`` trains the nanoGPT
README's CPU recipe (4 layers x 128, 4 heads, block 64, batch 12, 2,000 iterations,
its learning-rate schedule) with the course's model on the same data and split: the
reference figure the course's own recipe is compared with.

    python -m aigc_course.recipes char_transformer      # or: make checkpoints
    python -m aigc_course.recipes.text reference        # the nanoGPT reference run

Each run writes its validation bits/char, wall-clock time, thread count and corpus
hash into the checkpoint's sidecar (and the reference into ``char_benchmarks.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

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


def transformer_config(vocab_size: int) -> tuple[GPTConfig, TrainConfig]:
    """The course's char-Transformer recipe: the reference's width and depth, a longer
    context (the corpus repeats itself over hundreds of characters), larger batches
    and a higher learning rate; 1,500 steps (about 2x the reference's CPU time; the
    recorded curve gives its figure at the reference's time)."""
    model = GPTConfig(vocab_size, block_size=128, n_layer=4, n_head=4, n_embd=128)
    train = TrainConfig(steps=1500, batch_size=16, block_size=128, lr=2e-3, min_lr=2e-4)
    return model, train


def lstm_config(vocab_size: int) -> tuple[LSTMConfig, TrainConfig]:
    """The course's char-LSTM recipe (2 layers x 256, windows of 128 = BPTT length)."""
    model = LSTMConfig(vocab_size, n_embd=64, hidden_size=256, num_layers=2, block_size=128)
    train = TrainConfig(
        steps=2400, batch_size=16, block_size=128, lr=3e-3, min_lr=3e-4, weight_decay=0.0
    )
    return model, train


def evaluate(model: torch.nn.Module, data: TextData, context: int) -> float:
    """Validation bits/char over the whole validation split (see ``sequence_nll``)."""
    return bits_per_char(model, data.val_ids, context=context)


def train_and_measure(
    model: torch.nn.Module,
    train_cfg: TrainConfig,
    data: TextData,
    snapshot_every: float | None = None,
) -> dict[str, Any]:
    """Train from scratch on ``data`` and return the figures a sidecar records.

    Args:
        snapshot_every: also keep a copy of the weights every this many seconds of
            training and evaluate each afterwards: validation bits/char against
            wall-clock time, for comparisons at equal training time.
    """
    # on a shared machine wall-clock depends on the neighbours; the CPU time of a
    # one-thread run does not, so snapshots are taken (and compared) by CPU seconds
    snaps: list[tuple[float, float, int, dict[str, torch.Tensor]]] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    next_at = [snapshot_every or float("inf")]

    def keep(step: int, loss: float, m: torch.nn.Module) -> None:
        cpu = time.process_time() - cpu_start
        if cpu >= next_at[0]:
            state = {k: v.clone() for k, v in m.state_dict().items()}
            snaps.append((time.perf_counter() - start, cpu, step + 1, state))
            while next_at[0] <= cpu:
                next_at[0] += snapshot_every or float("inf")

    hist = fit(model, data.train_ids, train_cfg, callback=keep)
    train_seconds = time.perf_counter() - start
    train_cpu = time.process_time() - cpu_start
    t0 = time.perf_counter()
    bpc = evaluate(model, data, context=train_cfg.block_size)
    eval_seconds = time.perf_counter() - t0
    curve = []
    if snaps:
        final = {k: v.clone() for k, v in model.state_dict().items()}
        for wall, cpu, step, state in snaps:
            model.load_state_dict(state)
            value = evaluate(model, data, train_cfg.block_size)
            curve.append([round(wall, 1), round(cpu, 1), step, round(value, 4)])
        model.load_state_dict(final)
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
    record = train_and_measure(model, tcfg, data, snapshot_every=30.0)
    meta = {**record, "data": data.record, "mode": "full", "seed": 0, "recipe": recipe_cmd}
    path = save_lm(pretrained_path(name), model, data.tokenizer, meta)
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


def nanogpt_reference() -> dict[str, Any]:
    """Train the nanoGPT CPU recipe on the same data and split; record its figures in
    ``aigc_course/pretrained/char_benchmarks.json`` (no weights are kept)."""
    _one_thread()
    torch.manual_seed(0)
    data = prepare()
    mcfg, tcfg = nanogpt_reference_config(data.tokenizer.vocab_size)
    record = train_and_measure(GPT(mcfg), tcfg, data, snapshot_every=30.0)
    result = {
        "nanogpt_cpu_reference": {
            **record,
            "model_config": mcfg.to_dict(),
            "data": data.record,
            "recipe": "python -m aigc_course.recipes.text reference",
        }
    }
    path = pretrained_path(BENCHMARKS).with_suffix(".json")
    old = json.loads(path.read_text()) if path.is_file() else {}
    path.write_text(json.dumps({**old, **result}, indent=2, sort_keys=True) + "\n")
    print(json.dumps({"name": "nanogpt_reference", **record["metrics"]}), flush=True)
    return result


RECIPES = {"char_transformer": make_char_transformer, "char_lstm": make_char_lstm}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["reference", *RECIPES])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.what == "reference":
        nanogpt_reference()
    else:
        RECIPES[args.what]()


if __name__ == "__main__":
    main()
