"""Exercises of notebooks 00, 05, 06 and 09-12: each judge accepts its solution and rejects
likely mistakes (07 and 08 have test files of their own)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from aigc_course.business.labelling import Run
from aigc_course.business.roi import CostAssumptions, cost_per_1000
from aigc_course.exercises import get


def accepts(exercise_id, attempt=None, **context):
    ex = get(exercise_id)
    if attempt is None:
        attempt = ex.solution(**context)
    ex.judge(attempt, **context)


def rejects(exercise_id, attempt, match, **context):
    with pytest.raises(AssertionError, match=match):
        get(exercise_id).judge(attempt, **context)


# ---- 05 -------------------------------------------------------------------------------


def test_05_units():
    accepts("05.units", vocab_size=65)
    accepts("05.units", (lambda b: 2**b, lambda n: n * math.log2(math.e)), vocab_size=65)
    rejects("05.units", (lambda b: 2**b, lambda n: n * math.log(2)), "divide by log", vocab_size=65)
    rejects("05.units", (lambda b: 2**b, lambda n: n / math.log10(2)), "log", vocab_size=65)
    rejects("05.units", (lambda b: math.exp(b), lambda n: n / math.log(2)), "2 to", vocab_size=65)


def test_05_top_k():
    accepts("05.top_k")

    def drops_ties(logits, k):  # keeps exactly k per row, by index
        idx = logits.topk(k, dim=-1).indices
        out = torch.full_like(logits, float("-inf"))
        return out.scatter(-1, idx, logits.gather(-1, idx))

    def drops_kth(logits, k):  # <= instead of <
        kth = logits.topk(k, dim=-1).values[:, -1:]
        return logits.masked_fill(logits <= kth, float("-inf"))

    def whole_tensor(logits, k):  # the k-th largest of the whole batch
        kth = logits.flatten().topk(k).values[-1]
        return logits.masked_fill(logits < kth, float("-inf"))

    def rescales(logits, k):
        kth = logits.topk(k, dim=-1).values[:, -1:]
        return logits.masked_fill(logits < kth, float("-inf")).log_softmax(-1)

    for wrong in (drops_ties, drops_kth, whole_tensor):
        rejects("05.top_k", wrong, "keep")
    rejects("05.top_k", rescales, "unchanged")


def test_05_causal_leak():
    def causal(q, k, v):
        T = q.size(-2)
        att = q @ k.transpose(-2, -1) / q.size(-1) ** 0.5
        att = att.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
        return att.softmax(-1) @ v

    accepts("05.causal_leak", causal_attention=causal)
    leaky, _ = get("05.causal_leak").solution()
    rejects("05.causal_leak", (leaky, [7, 8, 9]), "which queries", causal_attention=causal)
    rejects("05.causal_leak", (leaky, [0, 1, 2, 3, 4, 5, 6]), "which queries")
    rejects("05.causal_leak", (causal, list(range(10))), "without the masked_fill")
    rejects("05.causal_leak", (leaky, None), "fill in moved_positions")


def test_05_kv_step():
    accepts("05.kv_step")

    def no_append(q, k, v, cache):  # attends to the new position only
        y = (q @ k.transpose(-2, -1) / q.size(-1) ** 0.5).softmax(-1) @ v
        if cache is not None:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        return y, (k, v)

    def tril_mask(q, k, v, cache):  # the (1, T) lower-triangular mask: sees key 0 only
        if cache is not None:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        att = q @ k.transpose(-2, -1) / q.size(-1) ** 0.5
        mask = torch.ones(1, k.size(2), dtype=torch.bool).tril()
        return att.masked_fill(~mask, float("-inf")).softmax(-1) @ v, (k, v)

    def unscaled(q, k, v, cache):
        if cache is not None:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        return (q @ k.transpose(-2, -1)).softmax(-1) @ v, (k, v)

    def forgets_cache(q, k, v, cache):  # returns only the new key and value
        y, _ = get("05.kv_step").solution()(q, k, v, cache)
        return y, (k, v)

    rejects("05.kv_step", no_append, "before")
    rejects("05.kv_step", tril_mask, "no mask")
    rejects("05.kv_step", unscaled, "scaled")
    rejects("05.kv_step", forgets_cache, "every position so far")
    rejects("05.kv_step", lambda q, k, v, cache: q, "return")


# ---- 06 -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bpe():
    from aigc_course.hf import train_bpe

    text = "the quick brown fox jumps over the lazy dog; a value is returned. " * 40
    return train_bpe([text], vocab_size=300)


def test_06_longest_token(bpe):
    accepts("06.longest_token", bpe=bpe)
    longest, n = get("06.longest_token").solution(bpe=bpe)
    vocab = bpe.get_vocab()
    raw = max(vocab, key=lambda t: len(bpe.decode([vocab[t]])))
    if raw != longest:  # the byte-level name (Ġ for a space) rather than the text
        rejects("06.longest_token", (raw, n), "decode", bpe=bpe)
    shortest = min((bpe.decode([i]) for i in vocab.values()), key=len)
    rejects("06.longest_token", (shortest, n), "characters but some token", bpe=bpe)
    sentence = "The return value of the function"
    rejects("06.longest_token", (longest, len(sentence)), "count the ids", bpe=bpe)
    assert n != len(sentence.split())
    rejects("06.longest_token", (longest, len(sentence.split())), "count the ids", bpe=bpe)


def test_06_continuation():
    accepts("06.continuation")
    rejects("06.continuation", lambda out, inputs: out[0, -5:], "slice from the prompt")
    rejects("06.continuation", lambda out, inputs: out[:, inputs["input_ids"].shape[1] :], "1-D")
    rejects("06.continuation", lambda out, inputs: out[0], "slice from the prompt")


# ---- 08 -------------------------------------------------------------------------------


@pytest.fixture
def runs():
    acc = {
        ("real only", 5): [0.60, 0.64, 0.58, 0.62],
        ("real only", 20): [0.80, 0.82, 0.79, 0.81],
        ("+ cDCGAN (bought)", 5): [0.70, 0.71, 0.69, 0.73],
        ("+ cDCGAN (bought)", 20): [0.83, 0.84, 0.82, 0.85],
    }
    return [
        Run(cond, per, seed, a)
        for (cond, per), accs in acc.items()
        for seed, a in reversed(list(enumerate(accs)))  # not in seed order
    ]


def test_09_paired_gain(runs):
    accepts("09.paired_gain", runs=runs, budgets=[5, 20])
    from aigc_course.business.stats import mean_interval

    gain, lo, hi = get("09.paired_gain").solution(runs=runs, budgets=[5, 20])
    # unpaired: the interval of the difference from the two separate intervals
    _, lo_b, hi_b = mean_interval([0.70, 0.71, 0.69, 0.73])
    _, lo_r, hi_r = mean_interval([0.60, 0.64, 0.58, 0.62])
    rejects(
        "09.paired_gain", (gain, lo_b - hi_r, hi_b - lo_r), "paired", runs=runs, budgets=[5, 20]
    )
    rejects("09.paired_gain", (gain + 0.13, lo, hi + 0.13), "mean", runs=runs, budgets=[5, 20])
    rejects("09.paired_gain", (0.03, 0.0, 0.06), "gain", runs=runs, budgets=[5, 20])


def test_09_expert_value(runs):
    from aigc_course.business.labelling import labels_saved

    accepts("09.expert_value", runs=runs, budgets=[5, 20])
    saved = dict(labels_saved(runs, "+ cDCGAN (bought)"))[5]
    assert 0 < saved < math.inf
    rejects("09.expert_value", saved, "times 5.00", runs=runs, budgets=[5, 20])
    rejects("09.expert_value", saved / 10 * 5.0, "times 5.00", runs=runs, budgets=[5, 20])
    hurt = [
        Run(r.condition, r.per_class, r.seed, r.accuracy - 0.2 * (r.condition != "real only"))
        for r in runs
    ]
    accepts("09.expert_value", runs=hurt, budgets=[5, 20])
    bad = 5.0 * dict(labels_saved(hurt, "+ cDCGAN (bought)"))[5]
    rejects(
        "09.expert_value",
        bad if math.isfinite(bad) else -1.0,
        "store 0",
        runs=hurt,
        budgets=[5, 20],
    )


# ---- 09 -------------------------------------------------------------------------------


def test_10_rewrite_policy():
    report = SimpleNamespace(unsupported_rate=0.1, faithful_rate=0.6, unsupported_per_item=0.3)
    ctx = dict(items_per_second=20.0, report=report, assume=CostAssumptions())
    accepts("10.rewrite_policy", **ctx)
    rejects("10.rewrite_policy", cost_per_1000(20.0, 0.4, CostAssumptions()), "current", **ctx)
    rejects("10.rewrite_policy", cost_per_1000(20.0, 0.3, CostAssumptions()), "rewrite rate", **ctx)
    rejects("10.rewrite_policy", cost_per_1000(5.0, 0.1, CostAssumptions()), "throughput", **ctx)
    rejects("10.rewrite_policy", 123.0, "CostPer1000", **ctx)


def test_10_sample_size():
    from aigc_course.business.stats import sample_size_per_arm

    n_arm = sample_size_per_arm(0.05, -0.005)
    accepts("10.sample_size", n_arm=n_arm)
    n = sample_size_per_arm(0.05, 0.001)
    rejects("10.sample_size", (sample_size_per_arm(0.05, 0.1), 0.1), "absolute", n_arm=n_arm)
    rejects("10.sample_size", (sample_size_per_arm(0.05, 0.01), 0.3), "absolute", n_arm=n_arm)
    rejects("10.sample_size", (n, n_arm / n), "n_small divided by n_arm", n_arm=n_arm)


# ---- 10 -------------------------------------------------------------------------------


@pytest.fixture
def retrieval():
    rng = np.random.default_rng(0)
    n, n_faq = 60, 8
    labels = rng.integers(-1, n_faq, n)
    s = rng.normal(0, 1, (n, n_faq))
    ok = labels >= 0
    s[ok, labels[ok]] += rng.normal(1.2, 1.0, ok.sum())
    kinds = np.where(labels < 0, "out-of-scope", np.where(np.arange(n) % 2, "semantic", "lexical"))
    return dict(scores={"BM25": s}, labels=labels, kinds=kinds)


def test_11_acc3_by_hand(retrieval):
    from aigc_course.business.retrieval import accuracy_at_k

    accepts("11.acc3_by_hand", **retrieval)
    s, lab, m = retrieval["scores"]["BM25"], retrieval["labels"], retrieval["kinds"] == "semantic"
    assert accuracy_at_k(s[m], lab[m], 1) != accuracy_at_k(s[m], lab[m], 3)
    rejects("11.acc3_by_hand", accuracy_at_k(s[m], lab[m], 1), "accuracy@1", **retrieval)
    rejects("11.acc3_by_hand", accuracy_at_k(s, lab, 3), "every question", **retrieval)
    lowest = float((np.argsort(s[m], axis=1)[:, :3] == lab[m][:, None]).any(1).mean())
    rejects("11.acc3_by_hand", lowest, "lowest", **retrieval)


def test_11_tau_strict(retrieval):
    s, lab = retrieval["scores"]["BM25"], retrieval["labels"]
    tune = np.arange(len(lab)) % 3 != 0
    grid = np.quantile(s, np.linspace(0, 1, 101))

    def cost(t, wrong):
        top, answered = s[tune].argmax(1), s[tune].max(1) >= t
        right = answered & (top == lab[tune])
        return (right * 0.01 + (answered & ~right) * wrong + ~answered * 4.0).mean()

    tau = float(grid[int(np.argmin([cost(t, 10.0) for t in grid]))])
    ctx = dict(s_best=s, labels=lab, tune=tune, grid=grid, tau=tau, cost_human=4.0, cost_auto=0.01)
    accepts("11.tau_strict", **ctx)
    strict, _ = get("11.tau_strict").solution(**ctx)
    assert strict > tau  # the toy data make the move visible
    rejects("11.tau_strict", (strict, "down"), "'up'", **ctx)
    rejects("11.tau_strict", (strict, "same"), "'up'", **ctx)
    ctx_same = dict(ctx, tau=strict)  # had the threshold not moved
    accepts("11.tau_strict", **ctx_same)
    rejects("11.tau_strict", (strict, "up"), "'same'", **ctx_same)
    rejects("11.tau_strict", (tau, "up"), "cost_wrong", **ctx)  # forgot to change the cost
    on_all = float(grid[int(np.argmin([cost(t, 20.0) for t in grid]))])
    ctx_all = dict(ctx, tune=np.ones(len(lab), bool))
    if on_all != strict:
        rejects(
            "11.tau_strict", (get("11.tau_strict").solution(**ctx_all)[0], "up"), "tuning", **ctx
        )


# ---- 11 -------------------------------------------------------------------------------


def test_12_threshold():
    rng = np.random.default_rng(0)
    z_marked, z_plain = rng.normal(3, 2, (40, 4)), rng.normal(0, 1, (40, 4))
    z_marked[:, 0] -= 2  # shorter texts, lower z
    ctx = dict(z_marked=z_marked, z_plain=z_plain)
    accepts("12.threshold", **ctx)
    det2, fpr2 = get("12.threshold").solution(**ctx)
    rejects("12.threshold", (100 * det2, 100 * fpr2), "percentages", **ctx)
    rejects("12.threshold", (float((z_marked[:, 0] >= 2).mean()), fpr2), "last column", **ctx)
    rejects("12.threshold", (det2, float((z_marked[:, -1] < 2).mean())), "z_plain", **ctx)
    rejects("12.threshold", (float((z_marked[:, -1] >= 4).mean()), fpr2), "z >= 2", **ctx)


def test_12_learned_filter():
    from aigc_course.business import moderation

    messages = moderation.make_moderation_set(1200, harmful_share=0.2, hard_share=0.5, seed=0)
    tune, held = moderation.split_by_template(messages, seed=0)
    kinds = np.array([m.kind for m in held])
    dis = kinds == "disguised"
    scores = np.array([moderation.keyword_score(m.text) for m in held])
    ctx = dict(tune=tune, held=held, dis=dis, scores=scores)
    assert dis.sum() >= 10
    accepts("12.learned_filter", **ctx)
    keyword = float(np.mean(scores[dis] < 1.5))
    rejects("12.learned_filter", keyword, "keyword", **ctx)
    right = get("12.learned_filter").solution(**ctx)
    rejects("12.learned_filter", 1 - right, "below 0.5|keyword", **ctx)  # caught, not missed
    rejects("12.learned_filter", 100 * right + 50, "percentage", **ctx)
    harmful = np.array([m.harmful for m in held])
    from aigc_course.exercises.ch12 import _fit_filter

    fnr_all = float(np.mean(_fit_filter(tune, held)[harmful] < 0.5))
    if abs(fnr_all - right) > 2 / dis.sum():
        rejects("12.learned_filter", fnr_all, "disguised", **ctx)


def test_orientation_exercises_reject_the_usual_mistakes():
    import math

    from aigc_course.exercises import get
    from aigc_course.models.bernoulli_mixture import BernoulliMixture, MixtureConfig

    units = get("00.bits_per_pixel")
    nll = 150.0
    units.judge(units.solution(nll_mix=nll), nll_mix=nll)
    for wrong in (nll / 784, nll / math.log(2), nll * math.log(2) / 784):
        with pytest.raises(AssertionError):
            units.judge(wrong, nll_mix=nll)

    torch.manual_seed(0)
    mixture = BernoulliMixture(MixtureConfig(n_components=4, n_pixels=6))
    with torch.no_grad():
        mixture.logit_pi.copy_(torch.tensor([4.0, -4.0, 0.0, 0.0]))  # a strong prior
    x = (torch.rand(200, 6) > 0.5).float()
    labels = torch.randint(0, 10, (200,))
    ctx = {"mixture": mixture, "x_test": x, "labels": labels}
    purity = get("00.purity")
    purity.judge(purity.solution(**ctx), **ctx)
    with pytest.raises(AssertionError):
        purity.judge(1.5, **ctx)


def test_06_top_p():
    accepts("06.top_p")

    def crossing_dropped(logits, p):  # keeps while the cumulative sum *including* it is < p
        sl, order = logits.sort(-1, descending=True)
        drop = sl.softmax(-1).cumsum(-1) > p
        return logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))

    def no_unsort(logits, p):  # decides in sorted order, applies in vocabulary order
        sl, _ = logits.sort(-1, descending=True)
        probs = sl.softmax(-1)
        return logits.masked_fill(probs.cumsum(-1) - probs >= p, float("-inf"))

    def ascending(logits, p):
        sl, order = logits.sort(-1)
        probs = sl.softmax(-1)
        drop = probs.cumsum(-1) - probs >= p
        return logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))

    rejects("06.top_p", crossing_dropped, "crosses")
    rejects("06.top_p", no_unsort, "vocabulary order|crosses|most probable")
    rejects("06.top_p", ascending, "most probable|descending")
    rejects("06.top_p", lambda logits, p: logits.softmax(-1), "unchanged|keep")


def test_06_left_pad():
    from aigc_course.hf import to_gpt2
    from aigc_course.models.transformer_lm import GPT, GPTConfig

    torch.manual_seed(0)
    gpt2 = to_gpt2(GPT(GPTConfig(vocab_size=20, block_size=16, n_layer=1, n_head=2, n_embd=16)))
    accepts("06.left_pad", gpt2=gpt2)
    solution = get("06.left_pad").solution()

    def right_pad(seqs, pad_id):
        ids, mask = solution(seqs, pad_id)
        return ids.flip(1), mask.flip(1)  # wrong for row 0 too, but row 1 shows it

    def inverted(seqs, pad_id):
        ids, mask = solution(seqs, pad_id)
        return ids, 1 - mask

    rejects("06.left_pad", right_pad, "right padding")
    rejects("06.left_pad", inverted, "inverted|attention_mask")
    rejects("06.left_pad", lambda seqs, pad_id: solution(seqs, pad_id)[0], "returns")
