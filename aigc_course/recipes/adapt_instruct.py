"""Recipes of notebook 07's instruction-tuning and preference-tuning artifacts::

    aigc-course recipes adapt_sft   # masked vs unmasked instruction tuning, 3 seeds each
    aigc-course recipes adapt_dpo   # DPO against invented claims, beta chosen on validation

``adapt_sft`` writes the record ``adapt_sft.json`` (full fine-tuning of
``char_transformer`` on the instruction set, masked vs unmasked); ``adapt_dpo`` writes the
reference ``adapt_copy_sft`` (``char_transformer`` fully fine-tuned on every copy
instruction), the record ``adapt_dpo.json`` and the adapter ``adapt_dpo_lora`` on that
reference (the loader builds the reference, then applies the adapter). The experiment code lives in
:mod:`aigc_course.adapt.instruct`; the recipes run on one CPU thread and record their
CPU seconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from ..adapt.lora import LoRAConfig
from ..checkpoint import pretrained_path, save_record
from ..config import by_mode, get_mode

SFT = "adapt_sft"
DPO, DPO_REFERENCE, DPO_ADAPTER = "adapt_dpo", "adapt_copy_sft", "adapt_dpo_lora"
SEEDS = (0, 1, 2)
#: the pilot's candidates (adapter or None for full fine-tuning, learning rate), compared
#: on validation, masked, seed 0. Full fine-tuning: at these budgets it fits several times
#: faster per step than LoRA (``adapt_lora_ranks``), and the comparison is about the mask.
SFT_CANDIDATES: tuple[tuple[LoRAConfig | None, float], ...] = ((None, 1e-3), (None, 3e-3))
BETAS = (0.1, 0.3, 1.0)


def sft_settings(mode: str | None = None) -> dict[str, Any]:
    """The instruction-tuning recipe's sizes, by mode."""
    return {
        "steps": by_mode(smoke=8, workshop=400, full=400, mode=mode),
        "pilot_steps": by_mode(smoke=4, workshop=150, full=150, mode=mode),
        "batch_size": 8,
        "seeds": by_mode(smoke=(0,), workshop=SEEDS, full=SEEDS, mode=mode),
        "candidates": by_mode(
            smoke=SFT_CANDIDATES[:1], workshop=SFT_CANDIDATES, full=SFT_CANDIDATES, mode=mode
        ),
        "n_eval": by_mode(smoke=6, workshop=100, full=100, mode=mode),
    }


def dpo_settings(mode: str | None = None) -> dict[str, Any]:
    """The preference-tuning recipe's sizes, by mode."""
    return {
        "reference_steps": by_mode(smoke=4, workshop=800, full=800, mode=mode),
        "reference_lr": 1e-3,
        "pair_products": by_mode(smoke=16, workshop=600, full=600, mode=mode),
        "k": 4,
        "min_pairs": by_mode(smoke=8, workshop=100, full=100, mode=mode),
        "steps": by_mode(smoke=4, workshop=120, full=120, mode=mode),
        "snapshot_at": by_mode(smoke=(2, 4), workshop=(40, 80, 120), full=(40, 80, 120), mode=mode),
        "batch_size": 8,
        "lr": 3e-4,
        "betas": by_mode(smoke=BETAS[:2], workshop=BETAS, full=BETAS, mode=mode),
        "n_val": by_mode(smoke=6, workshop=50, full=50, mode=mode),
        "n_test": by_mode(smoke=6, workshop=100, full=100, mode=mode),
        "n_samples": by_mode(smoke=2, workshop=4, full=4, mode=mode),
        "n_test_samples": by_mode(smoke=2, workshop=8, full=8, mode=mode),
    }


def _recipe(name: str) -> str:
    return f"aigc-course recipes {name}"


def _write_record(name: str, record: dict[str, Any]) -> Path:
    return save_record(pretrained_path(name), record)


def _brief(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics without the per-item lists (for the adapter's sidecar)."""
    return {k: {a: b for a, b in v.items() if a != "per_item"} for k, v in metrics.items()}


def _score(metrics: dict[str, Any]) -> float:
    from ..adapt.instruct import MAIN

    return sum(metrics[k][m]["rate"] for k, m in MAIN.items()) / len(MAIN)


def make_adapt_sft() -> Path:
    """Instruction tuning of a LoRA adapter on ``char_transformer``, response-masked vs
    unmasked (the mistake), equal steps, three seeds each, evaluated on test
    instructions; the base model's answers as the "before" column. The adapter and
    learning rate are chosen on validation instructions in a pilot (masked, seed 0)."""
    from ..adapt.instruct import base_model, evaluate_instructions, run_sft, sft_summary
    from ..adapt.sft import KINDS, instruction_set, response_bits_per_char

    torch.set_num_threads(1)
    cpu0 = time.process_time()
    s = sft_settings()
    tok = base_model()[1]
    data = instruction_set(n_eval=s["n_eval"])
    kw = {"batch_size": s["batch_size"], "data": data}

    pilot, best = [], None
    for lora, lr in s["candidates"]:
        model, row = run_sft(
            True, 0, steps=s["pilot_steps"], lora=lora, lr=lr, eval_split=None, **kw
        )
        row["val_bits_per_char"] = {
            kind: response_bits_per_char(model, tok, [e for e in data["val"] if e.kind == kind])
            for kind in KINDS
        }
        row["val_score"] = sum(row["val_bits_per_char"].values()) / len(KINDS)
        pilot.append(row)
        print("pilot", lora, lr, round(row["val_score"], 3), flush=True)
        if best is None or row["val_score"] < best["val_score"]:
            best = row
    lora = None if best["lora"] is None else LoRAConfig.from_dict(best["lora"])
    lr = best["lr"]
    config = {
        "base": "char_transformer",
        "settings": {k: v for k, v in s.items() if k != "candidates"},
        "candidates": [[c and c.to_dict(), lr_] for c, lr_ in s["candidates"]],
        "chosen": {"lora": lora and lora.to_dict(), "lr": lr},
        "full_fine_tuning": "candidates with lora None train every weight",
        "selection": "lowest validation response bits/char (mean over the three kinds) of "
        "masked seed-0 pilot runs of pilot_steps steps (the greedy rates are near zero "
        "for every candidate that early, so they cannot rank them)",
        "comparison": "masked - unmasked: mean over items of the per-item rate averaged "
        "over seeds, 95 % percentile bootstrap over items (2000 resamples; both arms "
        "answer the same items)",
        "decoding": "greedy, at most 100 new characters, cut at the first newline",
    }
    common = {
        "data_source": "aigc_course.adapt.sft.instruction_set (catalog seed 0, FAQ)",
        "mode": get_mode(),
        "torch_threads": torch.get_num_threads(),
    }

    base, tok = base_model()
    before = evaluate_instructions(base, tok, data["test"])
    runs = []
    for mask in (True, False):
        for seed in s["seeds"]:
            model, row = run_sft(
                mask, seed, steps=s["steps"], lora=lora, lr=lr, eval_split="test", **kw
            )
            runs.append(row)
            print("run", mask, seed, round(_score(row["metrics"]), 3), flush=True)
    cpu = time.process_time() - cpu0
    return _write_record(
        SFT,
        {
            **common,
            "config": config,
            "seed": list(s["seeds"]),
            "pilot": pilot,
            "before": before,
            "runs": runs,
            "summary": sft_summary(runs),
            "cpu_seconds": round(cpu, 1),
            "recipe": _recipe(SFT),
        },
    )


def make_adapt_dpo() -> Path:
    """DPO of a fresh adapter on the merged instruction-tuned model: on-policy pairs from
    training products judged by the faithfulness checker; beta and the step count chosen
    on validation products (lowest unsupported rate whose distinct-2 stays within 0.05
    of the reference's), before/after on test products by sampling at temperature 1."""
    from ..adapt.instruct import (
        contradiction_pairs,
        evaluate_copy_sampling,
        fresh_policy,
        pair_stats,
        preference_pairs,
        product_of,
        reference_model,
        run_dpo,
        sampling_change,
        train_copy_reference,
    )
    from ..adapt.lora import load_lora_state_dict, save_adapter
    from ..adapt.sft import instruction_set
    from ..business import catalog_lm
    from ..device import seed_everything
    from ..training.lm import save_lm

    torch.set_num_threads(1)
    cpu0 = time.process_time()
    s = dpo_settings()
    seed_everything(0)
    t = time.process_time()
    ref_model, ref_tok, ref_row = train_copy_reference(s["reference_steps"], lr=s["reference_lr"])
    ref_row["cpu_seconds"] = round(time.process_time() - t, 1)
    save_lm(
        pretrained_path(DPO_REFERENCE),
        ref_model,
        ref_tok,
        {
            "data_source": "aigc_course.adapt.efficiency.copy_data (catalog seed 0): every "
            "training copy instruction",
            "train": ref_row,
            "mode": get_mode(),
            "seed": 0,
            "recipe": _recipe(DPO),
        },
        dtype=torch.float16,
    )
    print("reference", ref_row, flush=True)
    del ref_model
    reference, tok = reference_model(DPO_REFERENCE)  # exactly the committed weights
    data = catalog_lm.catalog_data()
    train_items = data.train[: s["pair_products"]]
    held = instruction_set(n_eval=max(s["n_val"], s["n_test"]))
    val = [product_of(e.key) for e in held["val"] if e.kind == "copy"][: s["n_val"]]
    test = [product_of(e.key) for e in held["test"] if e.kind == "copy"][: s["n_test"]]

    t = time.process_time()
    pairs = preference_pairs(reference, tok, train_items, k=s["k"], seed=0)
    n_on_policy = len(pairs)
    if n_on_policy < s["min_pairs"]:  # too few invented claims to learn from: top up
        extra = train_items[: s["min_pairs"] - n_on_policy]
        pairs += contradiction_pairs(extra, seed=0)
    pairs_cpu = time.process_time() - t
    stats = pair_stats(pairs) | {"cpu_seconds": round(pairs_cpu, 1)}
    stats |= {"on_policy": n_on_policy, "contradicted": len(pairs) - n_on_policy}
    stats["products_sampled"] = len(train_items)
    stats["examples"] = [[p.instruction, p.chosen, p.rejected] for p in pairs[:4]]
    print("pairs", {k: v for k, v in stats.items() if k != "examples"}, flush=True)

    n, seed = s["n_samples"], 1  # evaluation samples use their own seed
    ref_val = evaluate_copy_sampling(reference, None, tok, val, n, seed)
    ref_val["kl"] = 0.0
    curve, runs, policies = [], [], {}
    for beta in s["betas"]:
        policy, row = run_dpo(
            reference, pairs, beta, 0, tok=tok, steps=s["steps"], lr=s["lr"],
            batch_size=s["batch_size"], snapshot_at=s["snapshot_at"],
        )  # fmt: skip
        snaps = row.pop("snapshots")
        runs.append(row)
        for steps in s["snapshot_at"]:
            load_lora_state_dict(policy, snaps[steps])
            ev = evaluate_copy_sampling(policy, reference, tok, val, n, seed)
            point = {"beta": beta, "steps": steps} | {
                k: ev[k]
                for k in ("unsupported", "faithful", "coverage", "distinct_2", "distinct_3")
            }
            point |= {k: ev[k] for k in ("self_bleu", "mean_chars", "kl", "kl_se")}
            curve.append(point)
            policies[(beta, steps)] = snaps[steps]
            print("val", beta, steps, round(ev["unsupported"]["rate"], 3), flush=True)
        del policy

    floor = ref_val["distinct_2"] - 0.05
    cover = ref_val["coverage"] - 0.05  # saying less is not being more faithful
    ok = [p for p in curve if p["distinct_2"] >= floor and p["coverage"] >= cover] or curve
    pick = min(ok, key=lambda p: (p["unsupported"]["rate"], p["kl"]))
    beta, steps = pick["beta"], pick["steps"]
    policy = load_lora_state_dict(fresh_policy(reference), policies[(beta, steps)])

    n_test = s["n_test_samples"]
    before = evaluate_copy_sampling(reference, None, tok, test, n_test, seed)
    after = evaluate_copy_sampling(policy, reference, tok, test, n_test, seed)
    change = sampling_change(before, after)
    cpu = time.process_time() - cpu0
    print("test", before["unsupported"], after["unsupported"], change, flush=True)
    config = {
        "reference": f"{DPO_REFERENCE}: char_transformer fully fine-tuned on every copy "
        "instruction (response-masked), frozen",
        "reference_train": ref_row,
        "settings": s,
        "pairs": "on-policy: k samples per training product at temperature 1 from the "
        "reference; rejected = a sample with an unsupported attribute, chosen = a faithful "
        "sample (the catalog description when none); at most 2 pairs per product; "
        "topped up to min_pairs with contradict() pairs (catalog description vs one "
        "attribute replaced) only if fewer on-policy pairs were found",
        "selection": "on validation products: the lowest unsupported rate among (beta, "
        "steps) whose distinct-2 and slot coverage are each within 0.05 of the "
        "reference's; ties by lower KL",
        "chosen": {"beta": beta, "steps": steps},
        "evaluation": "n_samples (validation) or n_test_samples (test) descriptions per "
        "product at temperature 1 (seed 1), "
        "at most 100 characters; rates pooled over samples with Wilson intervals; the "
        "change paired over products (95 % percentile bootstrap of per-product shares, "
        "2000 resamples), Newcombe's interval on pooled counts beside it; KL = mean over "
        "policy samples of log pi - log pi_ref (nats per response, newline included)",
    }
    common = {
        "data_source": "synthetic catalog (aigc_course.business.catalog_lm.catalog_data): "
        "training products for pairs, instruction_set's held-out products for val/test",
        "mode": get_mode(),
        "torch_threads": torch.get_num_threads(),
    }
    brief = {k: v for k, v in after.items() if k not in ("per_product", "samples")}
    save_adapter(
        pretrained_path(DPO_ADAPTER),
        policy,
        base=DPO_REFERENCE,
        meta={
            **common,
            "config": config,
            "seed": 0,
            "metrics": {"test": brief, "change": change},
            "recipe": _recipe(DPO),
        },
    )
    return _write_record(
        DPO,
        {
            **common,
            "config": config,
            "seed": 0,
            "pairs": stats,
            "train_runs": runs,
            "reference_val": ref_val,
            "beta_curve": curve,
            "before": before,
            "after": after,
            "change": change,
            "cpu_seconds": round(cpu, 1),
            "recipe": _recipe(DPO),
        },
    )
