"""The green-list watermark as logits processors of sampling.generate
(business.watermark)."""

from __future__ import annotations

import math

import pytest
import torch

from aigc_course.business import catalog, watermark
from aigc_course.metrics.text import sliding_windows
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.sampling import generate

TOK = catalog.tokenizer()


def _tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(TOK.vocab_size, block_size=48, n_layer=1, n_head=2, n_embd=16)).eval()


def _gen(model, idx, n, seed, processors=()):
    g = torch.Generator().manual_seed(seed)
    return generate(model, idx, n, generator=g, logits_processors=processors)


def test_green_lists_are_keyed_and_have_the_right_size():
    g = watermark.green_lists(40, gamma=0.25, key=7)
    assert g.shape == (40, 40) and (g.sum(1) == 10).all()
    assert torch.equal(g, watermark.green_lists(40, gamma=0.25, key=7))
    assert not torch.equal(g, watermark.green_lists(40, gamma=0.25, key=8))
    with pytest.raises(ValueError):
        watermark.green_lists(40, gamma=1.0)


def test_green_list_bias_adds_delta_to_the_last_tokens_green_list():
    green = watermark.green_lists(10, gamma=0.3, key=1)
    logits = torch.randn(2, 10)
    ids = torch.tensor([[0, 4], [2, 7]])
    out = watermark.GreenListBias(green, delta=2.5)(ids, logits)
    torch.testing.assert_close(out - logits, 2.5 * green[torch.tensor([4, 7])].float())


def test_zero_bias_generates_exactly_what_plain_generate_does():
    model = _tiny_gpt()
    idx = torch.tensor([TOK.encode("\nmug|"), TOK.encode("\nlamp")])
    g = watermark.green_lists(TOK.vocab_size)
    for wm in (
        watermark.watermark_processors(g, delta=0.0),
        watermark.watermark_processors(g, delta=0.0, entropy_threshold=0.5),
    ):
        a = _gen(model, idx, 60, 3, wm)
        b = _gen(model, idx, 60, 3)
        assert torch.equal(a, b)  # also past block_size = 48 (the window slides)
    assert not torch.equal(_gen(model, idx, 60, 3, watermark.watermark_processors(g, 4.0)), b)


def test_watermarked_text_scores_as_watermarked_and_plain_text_does_not():
    model = _tiny_gpt()  # near-uniform: high entropy, an easy case for the watermark
    g = watermark.green_lists(TOK.vocab_size, gamma=0.5)
    idx = torch.tensor([TOK.encode("\n")] * 4)
    marked = _gen(model, idx, 200, 0, watermark.watermark_processors(g, delta=4.0))
    plain = _gen(model, idx, 200, 1)
    zm = [watermark.watermark_score(row, g).z for row in marked]
    zp = [watermark.watermark_score(row, g).z for row in plain]
    assert min(zm) > 6 and max(abs(z) for z in zp) < 4
    other_key = watermark.green_lists(TOK.vocab_size, gamma=0.5, key=3)
    assert max(abs(watermark.watermark_score(row, other_key).z) for row in marked) < 4
    s = watermark.watermark_score([0, 1, 2], g)
    assert s.n_scored == 2 and 0 <= s.p_value <= 1


def test_entropy_gate():
    model = _tiny_gpt()
    g = watermark.green_lists(TOK.vocab_size)
    idx = torch.tensor([TOK.encode("\nmug|")] * 2)
    a = _gen(model, idx, 70, 1, watermark.watermark_processors(g, 2.0))
    b = _gen(model, idx, 70, 1, watermark.watermark_processors(g, 2.0, entropy_threshold=1e-9))
    assert torch.equal(a, b)  # every position has some entropy: same as unselective
    c = _gen(model, idx, 70, 1, watermark.watermark_processors(g, 9.0, entropy_threshold=1e9))
    assert torch.equal(c, _gen(model, idx, 70, 1))  # no position reaches it: plain sampling
    # the gate acts row by row: a sure row is left alone, an unsure one is biased
    logits = torch.tensor([[30.0] + [0.0] * 9, [0.0] * 10])
    green = watermark.green_lists(10, key=5)
    gate = watermark.EntropyGate(watermark.GreenListBias(green, 1.0), threshold=0.5)
    out = gate(torch.tensor([[3], [3]]), logits)
    assert torch.equal(out[0], logits[0]) and torch.equal(out[1], green[3].float())


def test_next_token_entropy_over_several_windows():
    model = _tiny_gpt()
    ids = _gen(model, torch.tensor([TOK.encode("\nmug|")]), 120, 1)[0]
    ent = watermark.next_token_entropy(model, ids)
    assert ent.shape == (ids.numel() - 1,) and (ent > 0).all()
    assert (ent <= math.log(TOK.vocab_size) + 1e-4).all()
    # brute force: each position from the window that sliding_windows assigns it
    for s, e, first in sliding_windows(ids.numel(), 48):
        logits, _ = model(ids[s:e][None])
        p = logits[0].softmax(-1)
        ref = -(p * p.log()).sum(-1)
        torch.testing.assert_close(ent[first:e], ref[first - s :], rtol=1e-4, atol=1e-5)
    full = watermark.watermark_score(ids, g := watermark.green_lists(TOK.vocab_size))
    same = watermark.watermark_score(ids, g, mask=torch.ones(ids.numel() - 1, dtype=torch.bool))
    assert full == same
    half = watermark.watermark_score(ids, g, mask=ent > ent.median())
    assert half.n_scored < full.n_scored


def test_substitute_words_replaces_the_requested_share():
    text = " ".join(f"w{i}" for i in range(100))
    out = watermark.substitute_words(text, 0.3, ["X"], seed=0).split(" ")
    assert out.count("X") == 30 and len(out) == 100
    assert watermark.substitute_words(text, 0.0, ["X"]) == text


@pytest.mark.gpu
def test_watermarked_generation_on_cuda():
    model = _tiny_gpt().to("cuda")
    g = watermark.green_lists(TOK.vocab_size)
    idx = torch.tensor([TOK.encode("\n")] * 4, device="cuda")
    wm = watermark.watermark_processors(g, delta=4.0, entropy_threshold=0.5)
    marked = _gen(model, idx, 200, 0, wm)
    assert marked.device.type == "cuda"
    assert min(watermark.watermark_score(row.cpu(), g).z for row in marked) > 6
    zero = _gen(model, idx, 100, 2, watermark.watermark_processors(g, delta=0.0))
    assert torch.equal(zero, _gen(model, idx, 100, 2))
    ent = watermark.next_token_entropy(model, marked[0])
    assert ent.shape == (marked.size(1) - 1,) and torch.isfinite(ent).all()
