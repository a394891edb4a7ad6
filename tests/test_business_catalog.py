"""The synthetic catalog, the faithfulness checker, and (self-)BLEU."""

from __future__ import annotations

import math

import pytest
import torch

from aigc_course.business import catalog
from aigc_course.business.faithfulness import (
    check_item,
    evaluate,
    self_bleu,
    sentence_bleu,
)
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.training.lm import LMTrainConfig, fit_lm

PRODUCT = catalog.Product("SKU", "mug", "ceramic", "red", "budget", ("handmade", "stackable"))


def test_catalog_is_seeded_and_stays_in_the_lexicon():
    a, b, c = (
        catalog.make_catalog(200, 0),
        catalog.make_catalog(200, 0),
        catalog.make_catalog(200, 1),
    )
    assert a == b and a != c
    for it in a:
        p = it.product
        materials, features = catalog.CATEGORIES[p.category]
        assert p.material in materials and set(p.features) <= set(features)
        assert len(set(p.features)) == 2 and p.colour in catalog.COLOURS
        assert p.price in catalog.PRICE_BANDS


def test_line_format_and_tokenizer():
    items = catalog.make_catalog(300, 0)
    line = items[0].line()
    prompt, rest = line.split(catalog.SEPARATOR, 1)
    assert line.endswith("\n") and rest.count("\n") == 1
    assert prompt.split("|")[0] == items[0].product.category
    tok = catalog.tokenizer()
    text = catalog.corpus(items)
    assert tok.decode(tok.encode(text)) == text  # no character outside the alphabet


def test_every_reference_description_is_faithful():
    items = catalog.make_catalog(500, 3)
    report = evaluate([it.product for it in items], [it.description for it in items])
    assert report.coverage == 1.0 and report.unsupported_rate == 0.0
    assert report.faithful_rate == 1.0 and report.n_items == 500


def test_split_drops_prompts_seen_in_training():
    train, test = catalog.split_catalog(catalog.make_catalog(2000, 0), 300)
    seen = {it.product.prompt() for it in train}
    assert len(train) == 1700 and 0 < len(test) < 300
    assert not any(it.product.prompt() in seen for it in test)


def test_check_item_finds_correct_contradicted_and_invented():
    r = check_item(PRODUCT, "A red ceramic mug, handmade and stackable. Great value.")
    assert r.faithful and r.coverage == 1.0
    r = check_item(PRODUCT, "A blue ceramic mug, handmade and padded. Luxury finish.")
    assert r.correct == {
        "category": True,
        "material": True,
        "colour": False,
        "price": False,
        "feature_1": True,
        "feature_2": False,
    }
    assert set(r.unsupported) == {"colour=blue", "price=premium", "feature=padded"}
    # whole words only: "redo" is not "red", "mugs" is not "mug"
    r = check_item(PRODUCT, "redo the mugs")
    assert r.n_correct == 0 and not r.unsupported


def test_evaluate_aggregates_with_intervals():
    texts = ["A red ceramic mug, handmade and stackable. Great value.", "A blue mug."]
    rep = evaluate([PRODUCT, PRODUCT], texts)
    assert rep.coverage == pytest.approx((6 + 1) / 12)
    assert rep.unsupported_rate == 0.5 and rep.faithful_rate == 0.5
    lo, hi = rep.faithful_ci
    assert lo < 0.5 < hi
    with pytest.raises(ValueError):
        evaluate([PRODUCT], [])


def test_sentence_bleu_matches_a_hand_computation():
    hyp = "the cat sat on the mat".split()
    ref = "the cat sat on a mat".split()
    # clipped matches: 1-grams 5/6, 2-grams 3/5, 3-grams 2/4, 4-grams 1/3; c = r = 6
    expected = math.exp((math.log(5 / 6) + math.log(4 / 6) + math.log(3 / 5) + math.log(2 / 4)) / 4)
    assert sentence_bleu(hyp, [ref]) == pytest.approx(expected)
    assert sentence_bleu(ref, [ref]) == pytest.approx(1.0)
    # brevity penalty: a 3-word prefix against a 6-word reference
    short = sentence_bleu(ref[:3], [ref], max_n=1)
    assert short == pytest.approx(math.exp(1 - 6 / 3))
    assert sentence_bleu(["dog"], [ref]) == 0.0


def test_self_bleu_is_one_for_copies_and_lower_for_varied_texts():
    same = ["a red mug that is handmade"] * 4
    varied = ["a red mug", "blue lamp of oak glass", "our padded chair", "grey wool scarf here"]
    assert self_bleu(same) == pytest.approx(1.0)
    assert self_bleu(varied) < 0.3
    with pytest.raises(ValueError):
        self_bleu(["one"])


def test_write_descriptions_after_a_little_training():
    torch.manual_seed(0)
    items = catalog.make_catalog(300, 0)
    tok = catalog.tokenizer()
    model = GPT(GPTConfig(tok.vocab_size, block_size=64, n_layer=1, n_head=2, n_embd=32))
    cfg = LMTrainConfig(steps=40, batch_size=8, block_size=64, lr=1e-2, warmup=5)
    hist = fit_lm(model, tok.encode_tensor(catalog.corpus(items)), cfg)
    assert hist["loss"][-1] < 0.7 * hist["loss"][0]
    products = [it.product for it in items[:5]]
    texts = catalog.write_descriptions(model, products, max_new_tokens=30)
    again = catalog.write_descriptions(model, products, max_new_tokens=30)
    assert len(texts) == 5 and texts == again  # greedy is deterministic
    assert all("\n" not in t and len(t) <= 30 for t in texts)
    sampled = catalog.write_descriptions(model, products, max_new_tokens=30, temperature=1.0)
    assert sampled == catalog.write_descriptions(
        model, products, max_new_tokens=30, temperature=1.0
    )  # same seed, same samples


def test_parse_line_round_trips_and_rejects_malformed_prompts():
    item = catalog.make_catalog(1, 0)[0]
    product, description = catalog.parse_line(item.line())
    assert description == item.description
    assert product.attributes() == item.product.attributes()
    assert catalog.parse_line("mug|glass|red>text") is None
    assert catalog.parse_line("mug|gold|red|mid|handmade+stackable>text") is None
