"""Canary exposure, the green-list watermark, and the content filter."""

from __future__ import annotations

import math

import pytest
import torch

from aigc_course.business import catalog, risk
from aigc_course.metrics.text import sequence_nll
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.sampling import generate

TOK = catalog.tokenizer()


def _tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(TOK.vocab_size, block_size=48, n_layer=1, n_head=2, n_embd=16)).eval()


class Parrot(torch.nn.Module):
    """A fake LM that puts almost all probability on one fixed next character per
    position of a target string (so it has 'memorised' it)."""

    block_size = 64

    def __init__(self, text: str) -> None:
        super().__init__()
        self.target = TOK.encode(text)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        logits = torch.zeros(B, T, TOK.vocab_size)
        for t in range(T):
            if t + 1 < len(self.target):
                logits[:, t, self.target[t + 1]] = 20.0
        return logits, None


def test_canaries_are_seeded_and_planted_the_right_number_of_times():
    cs = risk.make_canaries([0, 2, 5], seed=0)
    assert cs == risk.make_canaries([0, 2, 5], seed=0)
    assert len({c.secret for c in cs}) == 3 and all(len(c.secret) == 6 for c in cs)
    text = "".join(f"line {i}\n" for i in range(50))
    planted = risk.plant_canaries(text, cs, seed=0)
    for c in cs:
        assert planted.count(c.line()) == c.repeats
    assert planted.count("\n") == 50 + 7
    assert planted.replace("".join([]), "").count("line 49\n") == 1


def test_secret_bits_agree_with_sequence_nll():
    model = _tiny_gpt()
    prefix, secrets = "Ada's door code is ", ["123456", "999999"]
    bits = risk.secret_bits(model, TOK, prefix, secrets)
    for s, b in zip(secrets, bits, strict=True):
        ids = TOK.encode_tensor("\n" + prefix + s)
        nll = sequence_nll(model, ids, context=48)  # independent reference
        assert b == pytest.approx(nll[-6:].sum().item() / math.log(2), rel=1e-4)
    with pytest.raises(ValueError):
        risk.secret_bits(model, TOK, prefix, ["1", "22"])


def test_exposure_is_high_for_a_memorised_secret_and_low_otherwise():
    canary = risk.Canary("Ada's door code is ", "314159", repeats=1)
    memorised = risk.exposure(
        Parrot("\n" + canary.prefix + canary.secret), TOK, canary, n_candidates=300
    )
    assert memorised.exposure > 15 and memorised.rank_exposure == pytest.approx(
        math.log2(300), abs=0.1
    )
    assert memorised.max_exposure == pytest.approx(6 * math.log2(10))
    # a random model: the canary is a typical secret; averaged over canaries ≈ log2(e)
    model = _tiny_gpt(1)
    values = [
        risk.exposure(model, TOK, c, n_candidates=300).rank_exposure
        for c in risk.make_canaries([1] * 10, seed=3)
    ]
    assert sum(values) / len(values) < 4


def test_green_lists_are_keyed_and_have_the_right_size():
    g = risk.green_lists(40, gamma=0.25, key=7)
    assert g.shape == (40, 40) and (g.sum(1) == 10).all()
    assert torch.equal(g, risk.green_lists(40, gamma=0.25, key=7))
    assert not torch.equal(g, risk.green_lists(40, gamma=0.25, key=8))
    with pytest.raises(ValueError):
        risk.green_lists(40, gamma=1.0)


def test_unwatermarked_generation_equals_ordinary_sampling():
    model = _tiny_gpt()
    idx = torch.tensor([TOK.encode("\nmug|"), TOK.encode("\nlamp")])
    g = risk.green_lists(TOK.vocab_size)
    a = risk.generate_watermarked(
        model, idx, 60, g, delta=0.0, generator=torch.Generator().manual_seed(3)
    )
    b = generate(model, idx, 60, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)  # also past block_size = 48 (the window slides)


def test_watermark_z_score_separates_marked_from_unmarked_text():
    model = _tiny_gpt()  # near-uniform: high entropy, an easy case for the watermark
    g = risk.green_lists(TOK.vocab_size, gamma=0.5)
    idx = torch.tensor([TOK.encode("\n")] * 4)
    gen = torch.Generator().manual_seed(0)
    marked = risk.generate_watermarked(model, idx, 200, g, delta=4.0, generator=gen)
    plain = risk.generate_watermarked(model, idx, 200, g, delta=0.0, generator=gen)
    zm = [risk.watermark_score(row, g).z for row in marked]
    zp = [risk.watermark_score(row, g).z for row in plain]
    assert min(zm) > 6 and max(abs(z) for z in zp) < 4
    s = risk.watermark_score([0, 1, 2], g)
    assert s.n_scored == 2 and 0 <= s.p_value <= 1


def test_substitute_words_replaces_the_requested_share():
    text = " ".join(f"w{i}" for i in range(100))
    out = risk.substitute_words(text, 0.3, ["X"], seed=0).split(" ")
    assert out.count("X") == 30 and len(out) == 100
    assert risk.substitute_words(text, 0.0, ["X"]) == text


def test_moderation_set_and_filter_metrics():
    data = risk.make_moderation_set(2000, harmful_share=0.3, seed=0)
    assert data == risk.make_moderation_set(2000, harmful_share=0.3, seed=0)
    share = sum(m.harmful for m in data) / len(data)
    assert 0.26 < share < 0.34
    assert {m.kind for m in data} >= {"disguised", "benign_alarming", "benign", "scam"}
    assert risk.keyword_score("you are an idiot") == 2.0
    assert risk.keyword_score("y0u are an id10t") == 0.0  # the filter's blind spot
    res = risk.evaluate_filter([0.0, 1.0, 2.0, 3.0], [False, True, False, True], threshold=1.5)
    assert (res.tp, res.fp, res.tn, res.fn) == (1, 1, 1, 1)
    assert res.fpr == 0.5 and res.fnr == 0.5
    assert res.cost_per_1000(cost_fp=1.0, cost_fn=10.0) == pytest.approx(1000 * 11 / 4)
    best = risk.best_threshold([0.0, 1.0, 2.0, 3.0], [False, True, False, True], 1.0, 10.0)
    assert (best.fn, best.threshold) == (0, 1.0)  # missing harm is dear: flag from 1.0 up
    cheap_fn = risk.best_threshold([0.0, 1.0, 2.0, 3.0], [False, True, False, True], 10.0, 1.0)
    assert cheap_fn.fp == 0


def test_model_card_renders_every_field():
    card = risk.model_card({"Metrics": {"bits/char": 1.23, "exposure": "2.0 bits"}}, "LM")
    assert "| bits/char | 1.23 |" in card and card.startswith("### LM")


def test_entropy_selective_watermark():
    model = _tiny_gpt()
    g = risk.green_lists(TOK.vocab_size)
    idx = torch.tensor([TOK.encode("\nmug|")] * 2)
    a = risk.generate_watermarked(
        model, idx, 70, g, delta=2.0, generator=torch.Generator().manual_seed(1)
    )
    b = risk.generate_watermarked(
        model,
        idx,
        70,
        g,
        delta=2.0,
        entropy_threshold=1e-9,
        generator=torch.Generator().manual_seed(1),
    )
    assert torch.equal(a, b)  # every position has some entropy: same as unselective
    c = risk.generate_watermarked(
        model,
        idx,
        70,
        g,
        delta=9.0,
        entropy_threshold=1e9,
        generator=torch.Generator().manual_seed(1),
    )
    assert torch.equal(c, generate(model, idx, 70, generator=torch.Generator().manual_seed(1)))
    ent = risk.next_token_entropy(model, a[0])
    assert (
        ent.shape == (a.size(1) - 1,)
        and (ent > 0).all()
        and (ent <= math.log(TOK.vocab_size) + 1e-4).all()
    )
    logits, _ = model(a[0, :48][None])
    p = logits[0].softmax(-1)
    torch.testing.assert_close(ent[:47], -(p * p.log()).sum(-1)[:47], rtol=1e-4, atol=1e-5)
    full = risk.watermark_score(a[0], g)
    same = risk.watermark_score(a[0], g, mask=torch.ones(a.size(1) - 1, dtype=torch.bool))
    assert full == same
    half = risk.watermark_score(a[0], g, mask=ent > ent.median())
    assert half.n_scored < full.n_scored
