"""Notebook 07's instruction-tuning and DPO experiments, on tiny models."""

from __future__ import annotations

import json

import pytest
import torch

from aigc_course.adapt import instruct
from aigc_course.adapt.dpo import PreferencePair
from aigc_course.adapt.sft import Example, instruction_set
from aigc_course.business import catalog
from aigc_course.business.faq import FAQ
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.tokenizer import CharTokenizer

PRODUCT = catalog.Product("", "mug", "glass", "red", "mid", ("handmade", "stackable"))
KEY = "mug|glass|red|mid|handmade+stackable"


def _tok() -> CharTokenizer:
    faq = "".join(e.question + e.answer + "".join(e.lexical + e.semantic) for e in FAQ)
    return CharTokenizer(sorted(set(catalog.ALPHABET + faq)))


def _tiny(tok: CharTokenizer, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=256, n_layer=1, n_head=2, n_embd=16)
    return GPT(cfg).eval()


def _fake_answers(monkeypatch, answers):
    monkeypatch.setattr(
        instruct, "respond", lambda model, tok, prompts, **kw: answers[: len(prompts)]
    )
    monkeypatch.setattr(instruct, "response_bits_per_char", lambda model, tok, ex: 1.0)


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Table II, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    d, lo, hi = instruct.newcombe_interval(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert (lo, hi) == pytest.approx((0.0524, 0.3339), abs=5e-4)


def test_paired_bootstrap_is_paired_and_checks_its_input():
    a = [0.0, 1.0, 0.0, 1.0, 1.0, 0.0] * 5
    d, lo, hi = instruct.paired_bootstrap([x + 0.5 for x in a], a)
    assert (d, lo, hi) == pytest.approx((0.5, 0.5, 0.5))  # the same shift on every item
    d, lo, hi = instruct.paired_bootstrap(a, [1 - x for x in a])
    assert d == pytest.approx(0.0, abs=1e-12) and lo < -0.2 and hi > 0.2
    with pytest.raises(ValueError, match="equally long"):
        instruct.paired_bootstrap([1.0], [1.0, 2.0])


def test_product_of_reads_an_attribute_list_and_rejects_others():
    assert instruct.product_of(KEY).attributes() == PRODUCT.attributes()
    with pytest.raises(ValueError, match="not a product attribute list"):
        instruct.product_of("mug|glass")


def test_copy_answers_are_judged_by_the_faithfulness_checker(monkeypatch):
    ex = [Example("copy", "Write copy: " + KEY, "x", KEY)] * 3
    _fake_answers(
        monkeypatch,
        [
            "A red glass mug, handmade and stackable. Fairly priced.",  # faithful
            "A blue glass mug, handmade and stackable. Fairly priced.",  # contradicted colour
            "A red mug.",  # incomplete but invents nothing
        ],
    )
    r = instruct.evaluate_instructions(None, _tok(), ex)["copy"]
    assert r["per_item"] == {"faithful": [1, 0, 0], "unsupported": [0, 1, 0]}
    assert r["faithful"]["k"] == 1 and r["unsupported"]["k"] == 1 and r["faithful"]["n"] == 3


def test_faq_answers_count_exact_and_nearest_entry(monkeypatch):
    ex = [Example("faq", "Answer: q", FAQ[3].answer, "3")] * 3
    near = FAQ[3].answer.replace("Orders", "Order")  # a typo away from the right answer
    _fake_answers(monkeypatch, [FAQ[3].answer, near, FAQ[5].answer])
    r = instruct.evaluate_instructions(None, _tok(), ex)["faq"]
    assert r["per_item"] == {"exact": [1, 0, 0], "nearest": [1, 1, 0]}


def test_extract_answers_count_exact_match_and_slots(monkeypatch):
    ex = [Example("extract", "Attributes of: ...", KEY, KEY)] * 2
    _fake_answers(monkeypatch, [KEY, "mug|glass|blue|mid|stackable+handmade"])
    r = instruct.evaluate_instructions(None, _tok(), ex)["extract"]
    assert r["per_item"] == {"exact": [1, 0]}
    assert r["slot_accuracy"]["colour"] == 0.5 and r["slot_accuracy"]["feature_1"] == 1.0
    assert r["slot_mean"] == pytest.approx(11 / 12)


def test_preference_pairs_reject_unsupported_samples(monkeypatch):
    items = [
        catalog.Item(PRODUCT, "A red glass mug, handmade and stackable. Fairly priced."),
        catalog.Item(PRODUCT, "REFERENCE red glass mug, handmade, stackable. Fairly priced."),
        catalog.Item(PRODUCT, "unused"),
    ]
    faithful = "Red glass mug: handmade, stackable. Fairly priced."
    invented = "Red glass mug: handmade, stackable, padded. Fairly priced."
    samples = [[faithful, invented], [invented, "A mug."], ["A red mug.", "A mug."]]
    monkeypatch.setattr(instruct, "sample_copy", lambda *a, **k: samples)
    pairs = instruct.preference_pairs(None, _tok(), items, k=2, seed=0)
    assert [(p.chosen, p.rejected) for p in pairs] == [
        (faithful, invented),
        (items[1].description, invented),  # no faithful sample: the catalog's description
    ]  # the third product's samples invent nothing: no pair
    assert pairs[0].instruction == "Write copy: " + KEY
    with pytest.raises(ValueError, match="at least one product"):
        instruct.preference_pairs(None, _tok(), [], k=2)


def _tiny_data() -> dict[str, list[Example]]:
    data = instruction_set(n_copy=24, n_extract=12, n_eval=3)
    return {
        "train": data["train"],
        "val": data["val"][:2] + [e for e in data["val"] if e.kind == "faq"][:2],
        "test": [e for e in data["test"] if e.kind != "faq"] + data["test"][-2:],
    }


def test_run_sft_trains_the_adapter_only_and_reports_every_kind():
    tok, data = _tok(), _tiny_data()
    base = _tiny(tok)
    frozen = {k: v.clone() for k, v in base.state_dict().items()}
    model, row = instruct.run_sft(True, 0, steps=3, data=data, base=(base, tok))
    assert set(row["metrics"]) == {"copy", "faq", "extract"}
    assert row["trainable_parameters"] < row["total_parameters"] / 4
    for k, v in model.state_dict().items():
        if ".lora_" not in k:
            assert torch.equal(v, frozen[k.replace(".base.", ".")]), k
    _, masked = instruct.run_sft(True, 1, steps=2, data=data, base=(_tiny(tok), tok))
    _, unmasked = instruct.run_sft(False, 1, steps=2, data=data, base=(_tiny(tok), tok))
    assert masked["final_loss"] != unmasked["final_loss"]  # different characters are trained
    summary = instruct.sft_summary([masked, unmasked])
    assert "masked_minus_unmasked" in summary["extract/exact"]


def test_dpo_policy_starts_at_the_reference_and_moves_away():
    tok = _tok()
    reference = _tiny(tok)
    pairs = [
        PreferencePair("Write copy: " + KEY, "A red glass mug.", "A blue glass mug.", KEY),
        PreferencePair("Write copy: " + KEY, "Red glass mug.", "Red glass mug, padded.", KEY),
    ]
    products = [PRODUCT, PRODUCT]
    fresh = instruct.fresh_policy(reference)
    ev = instruct.evaluate_copy_sampling(fresh, reference, tok, products, n_samples=2, seed=0)
    assert ev["kl"] == pytest.approx(0.0, abs=1e-5)  # B = 0: the policy is the reference
    assert len(ev["per_product"]["unsupported"]) == 2 and ev["unsupported"]["n"] == 4
    policy, row = instruct.run_dpo(
        reference, pairs, 0.1, 0, tok=tok, steps=4, lr=1e-2, batch_size=2, snapshot_at=(2,)
    )
    assert set(row.pop("snapshots")) == {2}
    json.dumps(row)
    ev = instruct.evaluate_copy_sampling(policy, reference, tok, products, n_samples=2, seed=0)
    assert ev["kl"] != pytest.approx(0.0, abs=1e-5)
    change = instruct.sampling_change(ev, ev)
    assert change["unsupported"]["change"] == 0.0


def test_recipes_write_loadable_adapters_and_records(tmp_path, monkeypatch):
    """Both recipes in smoke mode on a tiny "char_transformer": the SFT record holds the
    comparison; the DPO recipe writes its reference, the record with the beta curve and
    an adapter that loads on the reference."""
    from aigc_course import checkpoint
    from aigc_course.loading import load_pretrained
    from aigc_course.recipes import adapt_instruct
    from aigc_course.training.lm import save_lm

    monkeypatch.setattr(checkpoint, "pretrained_dir", lambda: tmp_path)
    monkeypatch.setenv("AIGC_MODE", "smoke")
    tok = _tok()
    save_lm(tmp_path / "char_transformer", _tiny(tok), tok, {"recipe": "test"})
    adapt_instruct.make_adapt_sft()
    sft = json.loads((tmp_path / "adapt_sft.json").read_text())
    assert sft["mode"] == "smoke" and sft["cpu_seconds"] > 0
    assert [r["mask_prompt"] for r in sft["runs"]] == [True, False]
    assert set(sft["before"]) == {"copy", "faq", "extract"}
    assert all(r["lora"] is None for r in sft["runs"])  # full fine-tuning

    adapt_instruct.make_adapt_dpo()
    dpo = json.loads((tmp_path / "adapt_dpo.json").read_text())
    assert len(dpo["beta_curve"]) == 4  # two betas x two step counts
    assert dpo["config"]["chosen"]["beta"] in (0.1, 0.3)
    assert set(dpo["change"]) == {"unsupported", "faithful"}
    policy, meta = load_pretrained("adapt_dpo_lora", "cpu")
    assert meta["base"] == "adapt_copy_sft"
    reference, _ = instruct.reference_model("adapt_copy_sft")
    x = torch.tensor([tok.encode("User: Write copy: " + KEY + "\nBot: A")])
    with torch.no_grad():
        shift = (policy(x)[0] - reference(x)[0]).abs().max()
    assert shift > 0  # the DPO adapter is on top of the merged SFT model, and trained
