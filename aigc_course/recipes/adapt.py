"""Recipes of chapter 07's measured tables (JSON-only records, no weights)::

    aigc-course recipes adapt_data_efficiency   # scratch vs full vs LoRA at N = 50..all
    aigc-course recipes adapt_lora_ranks        # LoRA ranks 1..64 vs full at equal steps

Both train on one CPU thread with :func:`aigc_course.adapt.efficiency.run_adaptation`, the
function notebook 07 calls live with smaller budgets. Learning rates are chosen per method
in a pilot on validation data (recorded); test figures are computed once, at the state
chosen on validation. Load the results with ``load_pretrained("adapt_data_efficiency")``
(``(None, meta)``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import pretrained_path, save_record

DATA_EFFICIENCY = "adapt_data_efficiency"
LORA_RANKS = "adapt_lora_ranks"

#: the data-efficiency grid and its equal budget per run
DE_SIZES = (50, 200, 1000, None)  # None: every training example
DE_SEEDS = (0, 1)
DE_BUDGET = {"steps": 60, "batch_size": 8, "eval_every": 15}
DE_PILOT_N = 200
DE_PILOT_LRS = {
    "scratch": (1e-3, 3e-3, 1e-2),
    "full": (3e-4, 1e-3, 3e-3),
    "lora": (1e-3, 3e-3, 1e-2),
}

#: the rank comparison
RK_N = 1000
RK_RANKS = (1, 4, 16, 64)  # alpha = 2 r: the same scale alpha / r = 2 at every rank
RK_SEEDS = (0, 1)
RK_BUDGET = {"steps": 120, "batch_size": 8, "eval_every": 30}
RK_PILOT_RANK = 16
RK_PILOT_LRS = {"lora": (1e-3, 3e-3, 1e-2), "full": (3e-4, 1e-3, 3e-3)}


def _write(name: str, result: dict[str, Any]) -> Path:
    record = {"mode": "full", "recipe": f"aigc-course recipes {name}"}
    return save_record(pretrained_path(name), {**record, **result})


def _short(row: dict[str, Any]) -> str:
    keep = ("method", "n_examples", "seed", "lr", "best_step", "val_bpc", "test_bpc")
    parts = [
        f"{k}={row[k]:.4g}" if isinstance(row.get(k), float) else f"{k}={row.get(k)}"
        for k in keep
        if k in row
    ]
    if "faithful" in row:
        parts.append(f"faithful={row['faithful']['k']}/{row['faithful']['n']}")
    if "pydoc_bpc" in row:
        parts.append(f"pydoc={row['pydoc_bpc']:.3f}")
    parts.append(f"cpu={row['train_cpu_seconds']:.0f}s")
    return " ".join(parts)


def _machine() -> dict[str, Any]:
    return {
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "device": "cpu",
    }


def _settings(budget: dict[str, int]) -> dict[str, Any]:
    return {
        **budget,
        "optimizer": "AdamW (make_optimizer: weight decay 0.1 on matrices), betas (0.9, 0.99)",
        "schedule": "linear warm-up over steps // 10, cosine decay to lr / 10",
        "grad_clip": 1.0,
        "loss": "response-masked cross-entropy (fit_sft, mask_prompt=True)",
        "selection": "best validation response bits/char among every eval_every steps",
        "greedy": "respond(temperature 0, max_new_tokens 100) on every test product",
        "forgetting": "bits/char on 16 windows x 256 chars of prepare_corpus('pydoc') "
        "validation text, evenly spaced (pydoc_windows)",
    }


def make_data_efficiency() -> Path:
    """``adapt_data_efficiency.json``: scratch, full fine-tuning and LoRA at N = 50, 200,
    1000 and every training example, equal steps, seeds :data:`DE_SEEDS`."""
    from ..adapt import efficiency as ef

    torch.set_num_threads(1)
    cpu0 = time.process_time()
    data = ef.copy_data()
    base, tok = ef.base_model()
    windows = ef.pydoc_windows(tok)
    base_pydoc = ef.window_bits_per_char(base, windows)
    from ..adapt.sft import response_bits_per_char

    base_val = response_bits_per_char(base, tok, data.val)
    print(f"base: pydoc {base_pydoc:.3f} bits/char, copy val {base_val:.3f}", flush=True)
    pilot = []
    for method, lrs in DE_PILOT_LRS.items():
        for lr in lrs:
            row = ef.run_adaptation(
                method, DE_PILOT_N, 0, lr=lr, data=data, score_test=False, **DE_BUDGET
            )
            print("pilot", _short(row), flush=True)
            pilot.append(row)
    lrs = ef.choose_lr(pilot)
    print("chosen", lrs, flush=True)
    rows = []
    for n in DE_SIZES:
        for method in ef.METHODS:
            for seed in DE_SEEDS:
                row = ef.run_adaptation(
                    method, n, seed, lr=lrs[method], data=data, windows=windows, **DE_BUDGET
                )
                print(_short(row), flush=True)
                rows.append(row)
    summary = ef.summarise(rows)
    print(ef.format_summary(summary), flush=True)
    return _write(
        DATA_EFFICIENCY,
        {
            "rows": rows,
            "summary": summary,
            "pilot": {
                "n_examples": DE_PILOT_N,
                "seed": 0,
                "lrs": DE_PILOT_LRS,
                "rows": pilot,
                "chosen_lr": lrs,
            },
            "settings": {
                **_settings(DE_BUDGET),
                "lr": lrs,
                "lora": ef.LORA.to_dict(),
                "lora_choice": "r 8, alpha 16 on c_attn and c_fc fixed beforehand; "
                "only the learning rate chosen on validation",
                "scratch": "GPT of the base's config, seeded init, dropout 0.1 as base",
            },
            "pydoc_bpc_base": base_pydoc,
            "val_bpc_base": base_val,
            "data": {
                "source": data.source,
                "seeds": list(DE_SEEDS),
                "subset": "first N of the training examples shuffled with the run's seed",
                "sizes": [n or len(data.train) for n in DE_SIZES],
                "n_train": len(data.train),
                "n_val": len(data.val),
                "n_test": len(data.test),
                "base": ef.BASE,
            },
            "metrics": {"cpu_seconds": time.process_time() - cpu0},
            **_machine(),
        },
    )


def make_lora_ranks() -> Path:
    """``adapt_lora_ranks.json``: LoRA at ranks 1..64 (alpha = 2 r) and full fine-tuning
    on N = 1000 copy examples, equal steps, seeds :data:`RK_SEEDS`, run one after the
    other in one process (step times on one clock)."""
    from ..adapt import efficiency as ef
    from ..adapt.lora import LoRAConfig

    torch.set_num_threads(1)
    cpu0 = time.process_time()
    data = ef.copy_data()
    _, tok = ef.base_model()
    windows = ef.pydoc_windows(tok)

    def lora(r: int) -> LoRAConfig:
        return LoRAConfig(r=r, alpha=2.0 * r, targets=ef.LORA.targets)

    def run(variant: str, seed: int, lr: float, **kw) -> dict[str, Any]:
        if variant == "full":
            row = ef.run_adaptation(
                "full", RK_N, seed, lr=lr, data=data, windows=windows, **RK_BUDGET, **kw
            )
        else:
            r = int(variant.removeprefix("lora r"))
            row = ef.run_adaptation(
                "lora",
                RK_N,
                seed,
                lr=lr,
                data=data,
                windows=windows,
                lora_config=lora(r),
                **RK_BUDGET,
                **kw,
            )
            row["rank"] = r
        row["variant"] = variant
        print(variant, _short(row), flush=True)
        return row

    pilot = [run(f"lora r{RK_PILOT_RANK}", 0, lr, score_test=False) for lr in RK_PILOT_LRS["lora"]]
    pilot += [run("full", 0, lr, score_test=False) for lr in RK_PILOT_LRS["full"]]
    lrs = ef.choose_lr(pilot)
    print("chosen", lrs, flush=True)
    rows = []
    for seed in RK_SEEDS:
        for variant in [f"lora r{r}" for r in RK_RANKS] + ["full"]:
            method = "full" if variant == "full" else "lora"
            rows.append(run(variant, seed, lrs[method]))
    metrics = (
        "val_bpc",
        "test_bpc",
        "faithful_rate",
        "unsupported_rate",
        "pydoc_bpc",
        "trainable_parameters",
        "trainable_share",
        "optimizer_state_bytes",
        "median_step_cpu_seconds",
        "train_cpu_seconds",
    )
    summary = ef.summarise(rows, keys=("variant",), metrics=metrics)
    print(
        ef.format_summary(summary, keys=("variant",), metrics=metrics[:5] + metrics[7:9]),
        flush=True,
    )
    return _write(
        LORA_RANKS,
        {
            "rows": rows,
            "summary": summary,
            "pilot": {
                "n_examples": RK_N,
                "seed": 0,
                "lora_rank": RK_PILOT_RANK,
                "lrs": RK_PILOT_LRS,
                "rows": pilot,
                "chosen_lr": lrs,
            },
            "settings": {
                **_settings(RK_BUDGET),
                "lr": lrs,
                "ranks": list(RK_RANKS),
                "alpha": "2 r (scale alpha / r = 2 at every rank)",
                "lora_targets": list(ef.LORA.targets),
                "lr_choice": f"one learning rate for every rank, chosen at rank "
                f"{RK_PILOT_RANK} on validation",
                "optimizer_state": "bytes of every AdamW state tensor after one step",
                "step_time": "median CPU seconds per training step (process_time, one "
                "thread), runs one after the other in one process",
            },
            "data": {
                "source": data.source,
                "seeds": list(RK_SEEDS),
                "n_examples": RK_N,
                "subset": "first N of the training examples shuffled with the run's seed",
                "n_val": len(data.val),
                "n_test": len(data.test),
                "base": ef.BASE,
            },
            "metrics": {"cpu_seconds": time.process_time() - cpu0},
            **_machine(),
        },
    )
