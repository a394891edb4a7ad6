"""The instruction-tuning and preference-tuning experiments of notebook 07.

**Instruction tuning, masked vs unmasked.** :func:`run_sft` puts a LoRA adapter on the
pretrained character Transformer (pydoc corpus: it has never seen a product, an FAQ or the
``User:``/``Bot:`` format) and fine-tunes it on :func:`~aigc_course.adapt.sft.
instruction_set`, either on the response characters only (``mask_prompt=True``) or on the
prompt too (the common mistake). :func:`evaluate_instructions` answers held-out
instructions greedily and checks every answer with a program:

``copy``     faithful / unsupported rates of the description
             (:func:`aigc_course.business.faithfulness.evaluate`);
``faq``      the answer is the right FAQ entry's answer (exact), and the FAQ answer
             nearest to it by ``difflib.SequenceMatcher`` ratio is the right one;
``extract``  the attribute list is exactly right, and per-slot accuracy.

**Preference tuning (DPO).** :func:`preference_pairs` samples descriptions of *training*
products from the instruction-tuned model at temperature 1 and lets the faithfulness
checker judge them: chosen = a faithful sample (or the catalog's own description when no
sample is faithful), rejected = a sample with an unsupported (invented or contradicted)
attribute. :func:`run_dpo` trains a fresh adapter on a copy of the frozen reference with
:func:`~aigc_course.adapt.dpo.fit_dpo`; :func:`evaluate_copy_sampling` samples held-out
products at temperature 1 (where invented claims happen) and measures the unsupported
rate, diversity (distinct-n, self-BLEU) and the KL to the reference (Monte Carlo).

Intervals: rates carry Wilson intervals with their ``k/n``; differences of two arms are
either paired over items (a bootstrap over items, :func:`paired_bootstrap`) or Newcombe's
hybrid score interval for two independent proportions (:func:`newcombe_interval`).
"""

from __future__ import annotations

import copy
import difflib
import math
import random
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..business import catalog
from ..business.faithfulness import SLOTS, check_item, self_bleu
from ..business.faithfulness import evaluate as faithfulness_evaluate
from ..business.stats import wilson_interval
from ..metrics.text import distinct_n
from ..tokenizer import CharTokenizer
from .dpo import DPOTrainConfig, PreferencePair, contradict, fit_dpo, sequence_logprobs
from .lora import LoRAConfig, apply_lora, count_parameters, merge_lora
from .sft import KINDS, Example, fit_sft, respond, response_bits_per_char, sft_batch

BASE = "char_transformer"
#: the adapter of the instruction-tuning runs (chosen on validation: see the recipe's record)
SFT_LORA = LoRAConfig(r=8, alpha=16.0, targets=("c_attn", "c_fc"))
#: the fresh adapter DPO trains on top of the merged instruction-tuned model
DPO_LORA = LoRAConfig(r=8, alpha=16.0, targets=("c_attn", "c_fc"))
MAX_NEW = 100  # characters an answer may have (every reference answer is shorter)


# -- small statistics -------------------------------------------------------------------


def rate(k: int, n: int) -> dict[str, Any]:
    """A rate with its 95 % Wilson interval and its counts."""
    low, high = wilson_interval(k, n)
    return {"rate": k / n, "ci": [low, high], "k": int(k), "n": int(n)}


def newcombe_interval(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """(p1 − p2, low, high): Newcombe's hybrid score interval (his method 10) for the
    difference of two independent proportions, built from the two Wilson intervals.

    References:
        R. G. Newcombe, "Interval estimation for the difference between independent
        proportions", Statistics in Medicine 17, 1998.
    """
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1)
    l2, u2 = wilson_interval(k2, n2)
    d = p1 - p2
    return (
        d,
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """(mean(a − b), low, high): 95 % percentile bootstrap of the mean difference, the
    items resampled together (``a[i]`` and ``b[i]`` belong to one item).

    Raises:
        ValueError: the two sequences differ in length or are empty.
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"need two equally long non-empty sequences, got {x.size} and {y.size}")
    d = x - y
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(d.mean()), float(low), float(high)


# -- models -----------------------------------------------------------------------------


def base_model(device: str = "cpu") -> tuple[torch.nn.Module, CharTokenizer]:
    """The pretrained character Transformer and its tokenizer."""
    from ..loading import load_pretrained

    model, meta = load_pretrained(BASE, device)
    return model, meta["tokenizer"]


def reference_model(name: str = "adapt_copy_sft", device: str = "cpu"):
    """The instruction-tuned model with its adapter merged and every weight frozen: the
    reference (and starting point) of preference tuning. Returns (model, tokenizer)."""
    from ..loading import load_pretrained

    model, meta = load_pretrained(name, device)
    merge_lora(model)
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval(), meta["tokenizer"]


def product_of(key: str) -> catalog.Product:
    """The product an instruction's key names (``mug|glass|red|mid|handmade+stackable``).

    Raises:
        ValueError: the key is not a valid attribute list.
    """
    parsed = catalog.parse_line(key + catalog.SEPARATOR)
    if parsed is None:
        raise ValueError(f"not a product attribute list: {key!r}")
    return parsed[0]


# -- instruction tuning -----------------------------------------------------------------


def sft_config(steps: int, *, lr: float = 2e-3, batch_size: int = 8, seed: int = 0):
    """The optimiser settings of :func:`run_sft` (the course's LM schedule: warm-up, then
    cosine decay to lr/10; no weight decay on the adapter)."""
    from ..training.lm import LMTrainConfig

    return LMTrainConfig(
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        min_lr=lr / 10,
        warmup=max(1, steps // 20),
        weight_decay=0.0,
        seed=seed,
    )


def _split(examples: Sequence[Example], kind: str) -> list[Example]:
    return [e for e in examples if e.kind == kind]


def evaluate_instructions(
    model: torch.nn.Module,
    tok: CharTokenizer,
    examples: Sequence[Example],
    *,
    max_new_tokens: int = MAX_NEW,
) -> dict[str, dict[str, Any]]:
    """Greedy answers to ``examples``, checked per kind (see the module docstring).

    Returns:
        ``{kind: {...}}`` for the kinds present: rates with Wilson intervals and k/n,
        ``bits_per_char`` of the reference responses, ``per_item`` (one 0/1 per example
        of the kind's main measure, for paired comparisons) and a few ``answers``.
    """
    from ..business.faq import FAQ

    if not examples:
        raise ValueError("evaluate_instructions needs at least one example")
    out: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        ex = _split(examples, kind)
        if not ex:
            continue
        answers = respond(model, tok, [e.instruction for e in ex], max_new_tokens=max_new_tokens)
        n = len(ex)
        row: dict[str, Any] = {"n": n, "bits_per_char": response_bits_per_char(model, tok, ex)}
        if kind == "copy":
            products = [product_of(e.key) for e in ex]
            rep = faithfulness_evaluate(products, answers)
            items = [check_item(p, a) for p, a in zip(products, answers, strict=True)]
            row["faithful"] = rate(sum(r.faithful for r in items), n)
            row["unsupported"] = rate(sum(bool(r.unsupported) for r in items), n)
            row["coverage"] = rep.coverage
            row["per_item"] = {
                "faithful": [int(r.faithful) for r in items],
                "unsupported": [int(bool(r.unsupported)) for r in items],
            }
        elif kind == "faq":
            answers_db = [e.answer for e in FAQ]
            exact = [int(a.strip() == e.response) for a, e in zip(answers, ex, strict=True)]
            nearest = []
            for a, e in zip(answers, ex, strict=True):
                ratios = [difflib.SequenceMatcher(None, a, t).ratio() for t in answers_db]
                nearest.append(int(int(np.argmax(ratios)) == int(e.key)))
            row["exact"] = rate(sum(exact), n)
            row["nearest"] = rate(sum(nearest), n)
            row["per_item"] = {"exact": exact, "nearest": nearest}
        else:
            exact, slots = [], {s: 0 for s in SLOTS}
            for a, e in zip(answers, ex, strict=True):
                exact.append(int(a.strip() == e.response))
                truth = e.response.split("|")
                got = a.strip().split("|")
                got += [""] * (5 - len(got))
                for i, s in enumerate(SLOTS[:4]):
                    slots[s] += got[i] == truth[i]
                got_feats = set(got[4].split("+"))
                for i, f in enumerate(truth[4].split("+")):
                    slots[f"feature_{i + 1}"] += f in got_feats
            row["exact"] = rate(sum(exact), n)
            row["slot_accuracy"] = {s: k / n for s, k in slots.items()}
            row["slot_mean"] = sum(slots.values()) / (n * len(SLOTS))
            row["per_item"] = {"exact": exact}
        row["answers"] = [[e.instruction, a] for e, a in list(zip(ex, answers, strict=True))[:4]]
        out[kind] = row
    return out


#: the main measure of each kind (the one the arms are compared on)
MAIN = {"copy": "faithful", "faq": "nearest", "extract": "exact"}


def run_sft(
    mask_prompt: bool,
    seed: int,
    *,
    steps: int,
    lr: float = 2e-3,
    batch_size: int = 8,
    lora: LoRAConfig | None = SFT_LORA,
    data: dict[str, list[Example]] | None = None,
    eval_split: str | None = "test",
    base: tuple[torch.nn.Module, CharTokenizer] | None = None,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Instruction-tune the pretrained character Transformer: a LoRA adapter, or every
    weight (``lora=None``: full fine-tuning).

    Args:
        mask_prompt: loss on response characters only (``False``: on the prompt too).
        seed: seeds the adapter's initialisation, dropout and the batch order.
        steps, lr, batch_size, lora: the training settings.
        data: :func:`~aigc_course.adapt.sft.instruction_set`'s splits (built if None).
        eval_split: the split to evaluate on (``None``: no evaluation).
        base: (model, tokenizer) to adapt; a fresh copy of the pretrained model if None
            (the model passed is modified in place).

    Returns:
        (the adapted model, its row: settings, CPU seconds, loss, metrics per kind).
    """
    from ..adapt.sft import instruction_set
    from ..device import seed_everything

    data = data if data is not None else instruction_set()
    model, tok = base if base is not None else base_model()
    seed_everything(seed)
    if lora is not None:
        apply_lora(model, lora)
    cfg = sft_config(steps, lr=lr, batch_size=batch_size, seed=seed)
    cpu0 = time.process_time()
    hist = fit_sft(model, tok, data["train"], cfg, mask_prompt=mask_prompt)
    train_cpu = time.process_time() - cpu0
    losses = hist["loss"]
    trainable, total = count_parameters(model)
    row: dict[str, Any] = {
        "mask_prompt": mask_prompt,
        "seed": seed,
        "steps": steps,
        "lr": lr,
        "batch_size": batch_size,
        "lora": None if lora is None else lora.to_dict(),
        "trainable_parameters": trainable,
        "total_parameters": total,
        "train_cpu_seconds": round(train_cpu, 1),
        "final_loss": sum(losses[-20:]) / len(losses[-20:]) if losses else float("nan"),
    }
    if eval_split is not None:
        cpu0 = time.process_time()
        row["metrics"] = evaluate_instructions(model, tok, data[eval_split])
        row["eval_cpu_seconds"] = round(time.process_time() - cpu0, 1)
    return model, row


# -- preference tuning ------------------------------------------------------------------


def train_copy_reference(
    steps: int, *, lr: float = 1e-3, batch_size: int = 8, seed: int = 0
) -> tuple[torch.nn.Module, CharTokenizer, dict[str, Any]]:
    """The reference model of preference tuning: the pretrained character Transformer
    with every weight fine-tuned (response-masked) on all the catalog's copy
    instructions (:func:`aigc_course.adapt.efficiency.copy_data`'s training examples),
    the method that fits fastest per step in the chapter's measurements.

    Returns:
        (model in eval mode, tokenizer, a row with the settings and CPU seconds).
    """
    from ..device import seed_everything
    from .efficiency import copy_data

    data = copy_data()
    model, tok = base_model()
    seed_everything(seed)
    cfg = sft_config(steps, lr=lr, batch_size=batch_size, seed=seed)
    cpu0 = time.process_time()
    hist = fit_sft(model, tok, data.train, cfg, mask_prompt=True)
    row = {
        "method": "full fine-tuning, response-masked",
        "examples": len(data.train),
        "steps": steps,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "final_loss": sum(hist["loss"][-20:]) / len(hist["loss"][-20:]),
        "train_cpu_seconds": round(time.process_time() - cpu0, 1),
    }
    return model.eval(), tok, row


def copy_instruction(product: catalog.Product) -> str:
    """The ``copy`` instruction for a product, as in the instruction set."""
    from .sft import INSTRUCTIONS

    return INSTRUCTIONS["copy"] + product.prompt()[:-1]


def sample_copy(
    model: torch.nn.Module,
    tok: CharTokenizer,
    products: Sequence[catalog.Product],
    n_samples: int,
    seed: int,
    temperature: float = 1.0,
) -> list[list[str]]:
    """``n_samples`` descriptions of each product sampled at ``temperature``."""
    prompts = [copy_instruction(p) for p in products for _ in range(n_samples)]
    texts = respond(model, tok, prompts, temperature=temperature, seed=seed, max_new_tokens=MAX_NEW)
    return [texts[i * n_samples : (i + 1) * n_samples] for i in range(len(products))]


def preference_pairs(
    model: torch.nn.Module,
    tok: CharTokenizer,
    products: Sequence[catalog.Item],
    k: int = 4,
    seed: int = 0,
    *,
    max_pairs_per_product: int = 2,
) -> list[PreferencePair]:
    """On-policy preference pairs judged by the faithfulness checker.

    For every item, ``k`` descriptions are sampled at temperature 1 from ``model``; each
    sample with an unsupported attribute (``check_item(...).unsupported``) is rejected
    against a faithful sample (or, when no sample is faithful, the catalog's own
    description), at most ``max_pairs_per_product`` pairs per item. Items whose samples
    invent nothing give no pair: the checker has nothing to prefer.

    Args:
        products: catalog items (product and reference description), training items only.
    """
    if not products or k < 1:
        raise ValueError(f"need at least one product and k ≥ 1, got {len(products)} and {k}")
    samples = sample_copy(model, tok, [it.product for it in products], k, seed)
    rng = random.Random(seed)
    pairs = []
    for item, texts in zip(products, samples, strict=True):
        checks = [check_item(item.product, t) for t in texts]
        good = [t for t, c in zip(texts, checks, strict=True) if c.faithful]
        bad = [t for t, c in zip(texts, checks, strict=True) if c.unsupported]
        if not bad:
            continue
        good = good or [item.description]
        rng.shuffle(bad)
        instruction = copy_instruction(item.product)
        for t in bad[:max_pairs_per_product]:
            chosen = rng.choice(good)
            if chosen != t:
                pairs.append(PreferencePair(instruction, chosen, t, item.product.prompt()[:-1]))
    return pairs


def contradiction_pairs(products: Sequence[catalog.Item], seed: int = 0) -> list[PreferencePair]:
    """Off-policy pairs: the catalog's description against the same description with one
    attribute word replaced by a wrong value (:func:`~aigc_course.adapt.dpo.contradict`)."""
    rng = random.Random(seed)
    out = []
    for item in products:
        bad = contradict(item.product, item.description, rng)
        instruction = copy_instruction(item.product)
        out.append(PreferencePair(instruction, item.description, bad, item.product.prompt()[:-1]))
    return out


def pair_stats(pairs: Sequence[PreferencePair]) -> dict[str, Any]:
    """How many pairs, how many distinct prompts, mean lengths of both sides."""
    if not pairs:
        return {"n_pairs": 0}
    return {
        "n_pairs": len(pairs),
        "n_prompts": len({p.instruction for p in pairs}),
        "chosen_chars": sum(len(p.chosen) for p in pairs) / len(pairs),
        "rejected_chars": sum(len(p.rejected) for p in pairs) / len(pairs),
    }


def fresh_policy(reference: torch.nn.Module, lora: LoRAConfig = DPO_LORA) -> torch.nn.Module:
    """A copy of ``reference`` with a fresh adapter (equal to the reference until trained)."""
    policy = copy.deepcopy(reference)
    return apply_lora(policy, lora)


def run_dpo(
    reference: torch.nn.Module,
    pairs: Sequence[PreferencePair],
    beta: float,
    seed: int,
    *,
    tok: CharTokenizer,
    steps: int,
    lr: float = 1e-3,
    batch_size: int = 8,
    lora: LoRAConfig = DPO_LORA,
    snapshot_at: Sequence[int] = (),
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """DPO of a fresh adapter on a copy of the frozen ``reference``.

    Args:
        snapshot_at: step counts after which to keep a copy of the adapter (to choose the
            step count on validation without retraining): ``row["snapshots"]`` maps each
            to its :func:`~aigc_course.adapt.lora.lora_state_dict` (load it with
            ``load_lora_state_dict(policy, ...)``); pop it before saving the row as JSON.

    Returns:
        (the policy, with its adapter unmerged; its row: settings, CPU seconds, final
        loss, reward margin and accuracy over the last steps).
    """
    from ..device import seed_everything
    from ..training.core import LambdaCallback
    from .lora import lora_state_dict

    seed_everything(seed)
    policy = fresh_policy(reference, lora)
    cfg = DPOTrainConfig(steps=steps, batch_size=batch_size, lr=lr, beta=beta, seed=seed)
    snapshots: dict[int, dict[str, torch.Tensor]] = {}

    def keep(state) -> None:
        if state.step in snapshot_at:
            snapshots[state.step] = lora_state_dict(policy)

    cpu0 = time.process_time()
    hist = fit_dpo(policy, reference, tok, pairs, cfg, callbacks=[LambdaCallback(keep)])
    cpu = time.process_time() - cpu0

    def tail(name: str) -> float:
        v = hist[name][-20:]
        return sum(v) / len(v) if v else float("nan")

    row = {
        "beta": beta,
        "seed": seed,
        "steps": steps,
        "lr": lr,
        "batch_size": batch_size,
        "lora": lora.to_dict(),
        "train_cpu_seconds": round(cpu, 1),
        "final_loss": tail("loss"),
        "reward_margin": tail("reward_margin"),
        "reward_accuracy": tail("reward_accuracy"),
        "snapshots": snapshots,
    }
    return policy, row


@torch.no_grad()
def response_logprobs(
    model: torch.nn.Module, tok: CharTokenizer, examples: Sequence[Example], batch_size: int = 64
) -> torch.Tensor:
    """(N,) log-probability (nats) of each example's response and its closing newline."""
    out = []
    for s in range(0, len(examples), batch_size):
        x, y = sft_batch(tok, examples[s : s + batch_size])
        out.append(sequence_logprobs(model, x, y))
    return torch.cat(out)


def evaluate_copy_sampling(
    model: torch.nn.Module,
    reference: torch.nn.Module | None,
    tok: CharTokenizer,
    products: Sequence[catalog.Product],
    n_samples: int = 4,
    seed: int = 0,
) -> dict[str, Any]:
    """Sample ``n_samples`` descriptions per product at temperature 1 and measure them.

    Returns:
        ``unsupported`` and ``faithful`` rates over all samples (Wilson intervals; the
        samples of one product are not independent: compare arms with
        :func:`paired_bootstrap` over ``per_product``), ``coverage``, ``distinct_2``,
        ``distinct_3`` (word n-grams), ``self_bleu`` (each sample against the first 100
        others), ``mean_chars``, the Monte-Carlo ``kl`` to ``reference`` (mean over the
        samples of log π − log π_ref, nats per response; None without a reference),
        ``per_product`` unsupported and faithful shares, and a few ``samples``.
    """
    if not products or n_samples < 1:
        raise ValueError(f"need products and n_samples ≥ 1, got {len(products)}, {n_samples}")
    grouped = sample_copy(model, tok, products, n_samples, seed)
    flat_p = [p for p, texts in zip(products, grouped, strict=True) for _ in texts]
    flat_t = [t for texts in grouped for t in texts]
    checks = [check_item(p, t) for p, t in zip(flat_p, flat_t, strict=True)]
    n = len(checks)
    unsup = [int(bool(c.unsupported)) for c in checks]
    faith = [int(c.faithful) for c in checks]
    out: dict[str, Any] = {
        "n_products": len(products),
        "n_samples": n_samples,
        "unsupported": rate(sum(unsup), n),
        "faithful": rate(sum(faith), n),
        "coverage": sum(c.coverage for c in checks) / n,
        "distinct_2": distinct_n(flat_t, 2),
        "distinct_3": distinct_n(flat_t, 3),
        "self_bleu": self_bleu(flat_t, max_refs=100),
        "mean_chars": sum(len(t) for t in flat_t) / n,
        "per_product": {
            "unsupported": [
                sum(unsup[i : i + n_samples]) / n_samples for i in range(0, n, n_samples)
            ],
            "faithful": [sum(faith[i : i + n_samples]) / n_samples for i in range(0, n, n_samples)],
        },
        "samples": [
            [copy_instruction(p), t] for p, t in list(zip(flat_p, flat_t, strict=True))[:6]
        ],
        "kl": None,
    }
    if reference is not None:
        ex = [Example("copy", copy_instruction(p), t) for p, t in zip(flat_p, flat_t, strict=True)]
        diff = response_logprobs(model, tok, ex) - response_logprobs(reference, tok, ex)
        out["kl"] = float(diff.mean())
        out["kl_se"] = float(diff.std() / math.sqrt(n)) if n > 1 else 0.0
    return out


def sampling_change(before: dict[str, Any], after: dict[str, Any], seed: int = 0) -> dict:
    """The change (after − before) of the unsupported and faithful rates of two
    :func:`evaluate_copy_sampling` results on the same products: a 95 % bootstrap over
    products of the per-product shares (paired), and Newcombe's interval on the pooled
    counts (which treats samples as independent) for comparison."""
    out = {}
    for name in ("unsupported", "faithful"):
        d, lo, hi = paired_bootstrap(
            after["per_product"][name], before["per_product"][name], seed=seed
        )
        a, b = after[name], before[name]
        nd, nlo, nhi = newcombe_interval(a["k"], a["n"], b["k"], b["n"])
        out[name] = {"change": d, "bootstrap_ci": [lo, hi], "newcombe_ci": [nlo, nhi]}
    return out


def sft_summary(rows: Sequence[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
    """Per kind and measure: mean, min and max over seeds of each arm, and masked −
    unmasked with a 95 % bootstrap over items of the per-item means over seeds (paired:
    both arms answer the same items)."""
    arms = {m: [r for r in rows if r["mask_prompt"] is m and "metrics" in r] for m in (True, False)}
    out: dict[str, Any] = {}
    measures = {"copy": ("faithful", "unsupported"), "faq": ("exact", "nearest")}
    measures |= {"extract": ("exact",)}
    for kind, names in measures.items():
        for name in names:
            entry: dict[str, Any] = {}
            per_item = {}
            for m, rs in arms.items():
                vals = [r["metrics"][kind][name]["rate"] for r in rs]
                if not vals:
                    continue
                arm = "masked" if m else "unmasked"
                entry[arm] = {"mean": float(np.mean(vals)), "min": min(vals), "max": max(vals)}
                per_item[arm] = np.mean([r["metrics"][kind]["per_item"][name] for r in rs], axis=0)
            if len(per_item) == 2:
                d, lo, hi = paired_bootstrap(per_item["masked"], per_item["unmasked"], seed=seed)
                entry["masked_minus_unmasked"] = {"diff": d, "ci": [lo, hi]}
            out[f"{kind}/{name}"] = entry
        bits = {}
        for m, rs in arms.items():
            vals = [r["metrics"][kind]["bits_per_char"] for r in rs]
            if vals:
                bits["masked" if m else "unmasked"] = {
                    "mean": float(np.mean(vals)),
                    "min": min(vals),
                    "max": max(vals),
                }
        out[f"{kind}/bits_per_char"] = bits
    return out
