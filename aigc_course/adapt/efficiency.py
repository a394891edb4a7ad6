"""Why pretraining helps, measured: data-efficiency curves and LoRA ranks at equal steps.

**Task.** The catalog's product copy in the chat format of :mod:`aigc_course.adapt.sft`
("Write copy: <attributes>" → the description). Training examples are the first ``N`` of
a shuffle of the catalog's training items (seeded by the run's seed); validation and test
are disjoint halves of the distinct held-out products, attribute combinations never seen
in training (:func:`copy_data`).

**Methods** (one architecture, the tokenizer of the pretrained character Transformer):

``scratch``  the same GPT with a random (seeded) initialisation, every weight trained;
``full``     the pretrained model, every weight trained;
``lora``     the pretrained model, frozen, plus LoRA adapters (:data:`LORA`).

**Protocol** (:func:`run_adaptation`). A fixed number of steps at a fixed batch; every
``eval_every`` steps the response bits/char on the *validation* examples is measured and
the best state is kept (early stopping chosen on validation). Only then is the kept
state scored on the test examples: test response bits/char, and greedy answers to the
test products' instructions checked by :func:`aigc_course.business.faithfulness.evaluate`.
Forgetting: bits/char of the adapted model on fixed windows of the pretraining corpus's
validation text (:func:`pydoc_windows`), beside the base model's figure.

Example::

    data = copy_data()
    row = run_adaptation("lora", 200, seed=0, steps=40, batch_size=8, lr=3e-3,
                         eval_every=10, data=data)
    print(row["test_bpc"], row["faithful"]["rate"])
    print(format_summary(summarise([row, ...])))

References:
    E. J. Hu et al., "LoRA: low-rank adaptation of large language models", ICLR 2022.
    D. Hernandez, J. Kaplan, T. Henighan, S. McCandlish, "Scaling laws for transfer",
    2021 (pretraining as "effective data transferred", largest when fine-tuning data is
    small). D. Biderman et al., "LoRA learns less and forgets less", TMLR 2024 (forgetting
    of the source domain measured beside the target's gain).
"""

from __future__ import annotations

import copy
import math
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..business import catalog
from ..business.faithfulness import evaluate as faithfulness
from ..tokenizer import CharTokenizer
from ..training.core import Callback, LoopState
from ..training.lm import LMTrainConfig, make_optimizer
from .lora import LoRAConfig, apply_lora, count_parameters
from .sft import Example, _pad, encode_example, fit_sft, respond, response_bits_per_char

METHODS = ("scratch", "full", "lora")
BASE = "char_transformer"
#: the adapter of the ``lora`` method: rank 8, alpha 16, on attention and MLP inputs
LORA = LoRAConfig(r=8, alpha=16.0, targets=("c_attn", "c_fc"))
PYDOC_WINDOWS = 16
PYDOC_WINDOW_CHARS = 256


@dataclass(frozen=True)
class CopyData:
    """Copy instructions: all training examples (catalog order), validation and test
    examples with the products they describe."""

    train: list[Example]
    val: list[Example]
    test: list[Example]
    test_products: list[catalog.Product]
    source: str


def _copy_examples(items: Sequence[catalog.Item]) -> list[Example]:
    out = []
    for it in items:
        attrs = it.product.prompt()[:-1]  # without the ">" separator
        out.append(Example("copy", "Write copy: " + attrs, it.description, attrs))
    return out


def copy_data(seed: int = 0) -> CopyData:
    """The copy task of :func:`aigc_course.adapt.sft.instruction_set`, with disjoint
    evaluation halves: the held-out products (attribute combinations never seen in
    training) are deduplicated (a combination drawn twice in the catalog is one product,
    with its first description), shuffled (``seed``) and cut into two halves, validation
    then test, so that no product is in both."""
    from ..business import catalog_lm

    data = catalog_lm.catalog_data()
    first: dict[str, catalog.Item] = {}
    for it in data.test:
        first.setdefault(it.product.prompt(), it)
    held = list(first.values())
    random.Random(seed).shuffle(held)
    half = len(held) // 2
    val_items, test_items = held[:half], held[half : 2 * half]
    source = (
        data.source + f"; {len(held)} distinct held-out products shuffled with seed {seed}, "
        "halved into validation and test"
    )
    return CopyData(
        _copy_examples(data.train),
        _copy_examples(val_items),
        _copy_examples(test_items),
        [it.product for it in test_items],
        source,
    )


def train_subset(data: CopyData, n_examples: int | None, seed: int) -> list[Example]:
    """The first ``n_examples`` (None: all) of a shuffle of the training examples seeded
    by ``seed``: for one seed the subsets are nested (50 ⊂ 200 ⊂ 1000 ⊂ all).

    Raises:
        ValueError: ``n_examples`` is not between 1 and the number of training examples.
    """
    n_all = len(data.train)
    n = n_all if n_examples is None else n_examples
    if not isinstance(n, int) or not 1 <= n <= n_all:
        raise ValueError(f"n_examples must be an int in 1..{n_all} or None, got {n_examples!r}")
    order = list(data.train)
    random.Random(seed).shuffle(order)
    return order[:n]


def pydoc_windows(
    tok: CharTokenizer, n: int = PYDOC_WINDOWS, length: int = PYDOC_WINDOW_CHARS
) -> torch.Tensor:
    """``n`` windows of ``length + 1`` ids, evenly spaced over the validation text of the
    pretraining corpus (``prepare_corpus("pydoc")``): the same windows every call."""
    from ..data.text import prepare_corpus

    text = prepare_corpus("pydoc").val_text
    ids = torch.tensor(tok.encode_with_mask(text, unknown="replace")[0], dtype=torch.long)
    if ids.numel() < n * (length + 1):
        raise ValueError(f"validation text has {ids.numel()} ids, need {n * (length + 1)}")
    stride = (ids.numel() - (length + 1)) // max(1, n - 1)
    return torch.stack([ids[i * stride : i * stride + length + 1] for i in range(n)])


@torch.no_grad()
def window_bits_per_char(model: torch.nn.Module, windows: torch.Tensor) -> float:
    """Mean bits per predicted character of ``model`` on ``windows`` (n, T + 1)."""
    from ..device import model_device

    was = model.training
    model.eval()
    w = windows.to(model_device(model))
    _, loss = model(w[:, :-1], w[:, 1:])
    model.train(was)
    return loss.item() / math.log(2)


def base_model(device: str | torch.device = "cpu") -> tuple[torch.nn.Module, CharTokenizer]:
    """The pretrained character Transformer and its tokenizer."""
    from ..loading import load_pretrained

    model, meta = load_pretrained(BASE, device)
    return model, meta["tokenizer"]


def build_model(
    method: str,
    seed: int,
    lora_config: LoRAConfig | None = None,
    device: str | torch.device = "cpu",
) -> tuple[torch.nn.Module, CharTokenizer]:
    """The model a method starts from (seeded): a random GPT of the base's config, the
    base itself, or the frozen base with adapters (``lora_config``, default :data:`LORA`).

    Raises:
        ValueError: an unknown method.
    """
    from ..device import seed_everything
    from ..models.transformer_lm import GPT

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    base, tok = base_model(device)
    seed_everything(seed)
    if method == "scratch":
        return GPT(base.config).to(device), tok
    if method == "lora":
        apply_lora(base, lora_config or LORA)
    return base, tok


def optimizer_state_bytes(
    model: torch.nn.Module, tok: CharTokenizer, examples: Sequence[Example], cfg: LMTrainConfig
) -> int:
    """Bytes of AdamW state (every state tensor, the step counters included) after one
    step of :func:`make_optimizer` on a copy of ``model``: measured, not computed."""
    from ..device import model_device

    trial = copy.deepcopy(model)
    trial.train()
    opt = make_optimizer(trial, cfg)
    x, y = _pad([encode_example(tok, e) for e in examples[: cfg.batch_size]])
    device = model_device(trial)
    _, loss = trial(x.to(device), y.to(device))
    loss.backward()
    opt.step()
    return sum(
        t.numel() * t.element_size()
        for state in opt.state.values()
        for t in state.values()
        if torch.is_tensor(t)
    )


class ValidationSelector(Callback):
    """Every ``eval_every`` steps (and after the last), the validation response bits/char;
    keeps a copy of the best state. Also times every step on the process's CPU clock
    (evaluation excluded), so ``step_cpu`` is the training cost alone."""

    def __init__(self, tok: CharTokenizer, val: Sequence[Example], eval_every: int) -> None:
        if eval_every < 1:
            raise ValueError(f"eval_every must be a positive int, got {eval_every!r}")
        self.tok, self.val, self.eval_every = tok, list(val), eval_every
        self.curve: list[tuple[int, float]] = []
        self.step_cpu: list[float] = []
        self.best_step, self.best_bpc, self.best_state = 0, math.inf, None
        self._t = 0.0

    def on_start(self, state: LoopState) -> None:
        self._t = time.process_time()

    def _evaluate(self, state: LoopState) -> None:
        model = state.models["model"]
        bpc = response_bits_per_char(model, self.tok, self.val)
        self.curve.append((state.step, bpc))
        if bpc < self.best_bpc:
            self.best_step, self.best_bpc = state.step, bpc
            self.best_state = copy.deepcopy(model.state_dict())

    def on_step(self, state: LoopState) -> None:
        self.step_cpu.append(time.process_time() - self._t)
        if state.step % self.eval_every == 0:
            self._evaluate(state)
        self._t = time.process_time()

    def on_end(self, state: LoopState) -> None:
        if not self.curve or self.curve[-1][0] != state.step:
            self._evaluate(state)


def run_adaptation(
    method: str,
    n_examples: int | None,
    seed: int,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    eval_every: int,
    lora_config: LoRAConfig | None = None,
    data: CopyData | None = None,
    windows: torch.Tensor | None = None,
    n_faithful: int | None = None,
    score_test: bool = True,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Adapt one model to the copy task and score it: one row of the experiment.

    Args:
        method: ``scratch``, ``full`` or ``lora``.
        n_examples: training examples (:func:`train_subset`; None: all of them).
        seed: model initialisation / adapter init, dropout, batch order and the subset.
        steps, batch_size, lr: the budget (AdamW, linear warm-up over the first tenth of
            the steps, cosine decay to lr / 10).
        eval_every: validation every so many steps; the best validation state is kept.
        lora_config: the adapter of ``lora`` (default :data:`LORA`).
        data: :func:`copy_data` (made if None).
        windows: :func:`pydoc_windows` for the forgetting figure (made if None; skipped
            for ``scratch``, which never saw the corpus).
        n_faithful: test products answered greedily (None: all).
        score_test: False for a pilot (validation only: nothing of the test set is run).

    Returns:
        the row: method, N, seed, best step, validation curve, val and test response
        bits/char, greedy faithfulness (k faithful and k unsupported of n), pydoc
        bits/char, parameters, optimizer state bytes, CPU seconds of training.
    """
    data = data or copy_data()
    train = train_subset(data, n_examples, seed)
    model, tok = build_model(method, seed, lora_config, device)
    warmup = max(1, steps // 10)
    cfg = LMTrainConfig(
        steps=steps, batch_size=batch_size, lr=lr, min_lr=lr / 10, warmup=warmup, seed=seed
    )
    trainable, total = count_parameters(model)
    state_bytes = optimizer_state_bytes(model, tok, train, cfg)
    torch.manual_seed(seed)  # dropout
    selector = ValidationSelector(tok, data.val, eval_every)
    fit_sft(model, tok, train, cfg, callbacks=[selector])
    model.load_state_dict(selector.best_state)
    model.eval()
    row: dict[str, Any] = {
        "method": method,
        "n_examples": len(train),
        "seed": seed,
        "lr": lr,
        "steps": steps,
        "batch_size": batch_size,
        "best_step": selector.best_step,
        "val_bpc": selector.best_bpc,
        "val_curve": [[s, round(b, 4)] for s, b in selector.curve],
        "trainable_parameters": trainable,
        "total_parameters": total,
        "trainable_share": trainable / total,
        "optimizer_state_bytes": state_bytes,
        "train_cpu_seconds": sum(selector.step_cpu),
        "median_step_cpu_seconds": statistics.median(selector.step_cpu),
    }
    if method == "lora":
        row["lora"] = (lora_config or LORA).to_dict()
    if not score_test:
        return row
    row["test_bpc"] = response_bits_per_char(model, tok, data.test)
    n = len(data.test) if n_faithful is None else min(n_faithful, len(data.test))
    answers = respond(model, tok, [e.instruction for e in data.test[:n]], seed=seed)
    report = faithfulness(data.test_products[:n], answers)
    row["faithful"] = {
        "n": report.n_items,
        "k": round(report.faithful_rate * report.n_items),
        "rate": report.faithful_rate,
        "unsupported_k": round(report.unsupported_rate * report.n_items),
        "unsupported_rate": report.unsupported_rate,
        "coverage": report.coverage,
    }
    row["samples"] = [[e.instruction, a] for e, a in zip(data.test[:3], answers, strict=False)]
    if method != "scratch":
        w = pydoc_windows(tok) if windows is None else windows
        row["pydoc_bpc"] = window_bits_per_char(model, w)
    return row


def choose_lr(pilot_rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Per method, the learning rate of the pilot run with the lowest validation
    bits/char (the mean over seeds when a rate was run more than once)."""
    by: dict[tuple[str, float], list[float]] = {}
    for r in pilot_rows:
        by.setdefault((r["method"], r["lr"]), []).append(r["val_bpc"])
    best: dict[str, tuple[float, float]] = {}
    for (method, lr), vals in by.items():
        v = statistics.fmean(vals)
        if method not in best or v < best[method][1]:
            best[method] = (lr, v)
    return {m: lr for m, (lr, _) in best.items()}


SUMMARY_METRICS = (
    "val_bpc",
    "test_bpc",
    "faithful_rate",
    "unsupported_rate",
    "pydoc_bpc",
    "best_step",
    "train_cpu_seconds",
)


def _metric(row: dict[str, Any], name: str) -> float | None:
    if name in ("faithful_rate", "unsupported_rate"):
        f = row.get("faithful")
        return None if f is None else f["rate" if name == "faithful_rate" else name]
    return row.get(name)


def summarise(
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str] = ("method", "n_examples"),
    metrics: Sequence[str] = SUMMARY_METRICS,
) -> list[dict[str, Any]]:
    """One entry per group of ``keys`` (in first-seen order): the seeds it holds and, per
    metric, ``{"mean", "min", "max", "sd"}`` over them (sd 0 for one seed); a metric no
    row of the group has is left out."""
    if not rows:
        raise ValueError("summarise needs at least one row")
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    out = []
    for key, group in groups.items():
        entry: dict[str, Any] = dict(zip(keys, key, strict=True))
        entry["seeds"] = [r["seed"] for r in group]
        for m in metrics:
            vals = [v for v in (_metric(r, m) for r in group) if v is not None]
            if vals:
                sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
                entry[m] = {
                    "mean": statistics.fmean(vals),
                    "min": min(vals),
                    "max": max(vals),
                    "sd": sd,
                }
        out.append(entry)
    return out


def format_summary(
    summary: Sequence[dict[str, Any]],
    keys: Sequence[str] = ("method", "n_examples"),
    metrics: Sequence[str] = ("val_bpc", "test_bpc", "faithful_rate", "pydoc_bpc"),
) -> str:
    """The summary as a text table: mean (min–max) per metric."""
    head = [*keys, "seeds", *metrics]
    lines = [" | ".join(head)]
    for e in summary:
        cells = [str(e[k]) for k in keys] + [str(len(e["seeds"]))]
        for m in metrics:
            s = e.get(m)
            cells.append("-" if s is None else f"{s['mean']:.3f} ({s['min']:.3f}–{s['max']:.3f})")
        lines.append(" | ".join(cells))
    return "\n".join(lines)
