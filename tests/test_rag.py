"""Retrieval-augmented answers: prompt, claims, groundedness, training data, injection."""

import pytest
import torch

from aigc_course.adapt import sft
from aigc_course.business import rag
from aigc_course.business.faq import FAQ, OUT_OF_SCOPE
from aigc_course.checkpoint import pretrained_path
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.sampling import generate
from aigc_course.tokenizer import CharTokenizer

ANSWERS = [e.answer for e in FAQ]


def test_prompt_is_one_line_and_rejects_empty_parts():
    p = rag.prompt("We ship to 40 countries.\n", "  do you ship abroad ")
    assert p == "Help: We ship to 40 countries. Q: do you ship abroad"
    with pytest.raises(ValueError, match="non-empty"):
        rag.prompt("", "question")


def test_claims_of_faq_style_answers():
    assert rag.claims(FAQ[0].answer) == ["3", "5 business days"]
    assert set(rag.claims(FAQ[3].answer)) == {"tracking link", "orders page", "email"}
    assert "privacy@example.com" in rag.claims(FAQ[14].answer)
    assert "forgot password" in rag.claims(FAQ[13].answer)
    assert rag.claims("Pay at pay-now.example today.") == ["pay-now.example"]
    assert rag.claims(rag.REFUSAL) == []


def test_supported_needs_whole_words():
    assert rag.supported("40 countries", "We ship to 40 countries; rates at checkout.")
    assert not rag.supported("0 countries", "We ship to 40 countries.")
    assert not rag.supported("9.9", "a fee of 9.90")
    assert rag.supported("9.90", "a fee of 9.90.")


def test_groundedness_flags_a_changed_fact():
    passage = FAQ[1].answer
    assert rag.groundedness(passage, passage).grounded
    wrong = passage.replace("9.90", "4.90")
    g = rag.groundedness(wrong, passage)
    assert g.hallucinated and g.unsupported == ("4.90",)
    assert rag.groundedness("We ship to 40 countries.", passage).unsupported == ("40 countries",)
    assert rag.groundedness(rag.REFUSAL, passage).grounded  # no claims
    assert rag.groundedness(wrong, [passage, "fees: 4.90"]).grounded  # any of several


def test_every_faq_answer_is_grounded_in_itself_and_most_not_in_others():
    for a in ANSWERS:
        assert rag.groundedness(a, a).grounded
    with_claims = [a for a in ANSWERS if rag.claims(a)]
    assert len(with_claims) >= 20
    crossed = sum(
        rag.groundedness(a, b).grounded for a in with_claims for b in ANSWERS if a != b
    ) / (len(with_claims) * (len(ANSWERS) - 1))
    assert crossed < 0.1


def test_training_data_never_contains_the_real_faq():
    from aigc_course.recipes.business import COPY_RATE

    train = rag.training_examples(20000, "train", copy_rate=COPY_RATE)  # the recipe's data
    val = rag.training_examples(300, "val")
    texts = " ".join(e.instruction + " " + e.response for e in train + val).lower()
    for e in FAQ:
        assert e.answer.lower() not in texts
        assert e.question.lower().rstrip("?") not in texts
        for q in e.lexical + e.semantic:
            assert q.lower().rstrip("?") not in texts, q
    for q in OUT_OF_SCOPE:
        assert q.lower() not in texts


def test_split_is_by_template():
    for split in ("train", "val"):
        for e in rag.training_examples(2000 if split == "train" else 300, split):
            if not e.key:
                continue
            name, p, q = e.key.split("|")
            fam = next(f for f in rag.FAMILIES if f.name == name)
            last_g = f"g{len(rag.GENERIC_QUESTIONS) - 1}"
            held_q = q in (str(len(fam.questions) - 1), last_g)
            if split == "val":
                assert int(p) == len(fam.passages) - 1 and held_q, e.key
            else:
                assert int(p) < len(fam.passages) - 1 and not held_q, e.key
    train_q = {e.instruction.rpartition(" Q: ")[2] for e in rag.training_examples(2000)}
    for fam in rag.FAMILIES:  # a held-out question's wording never occurs in training
        held = fam.questions[-1].split("{")[0].strip()
        if len(held) > 15:
            assert not any(held in q for q in train_q), held


def test_training_facts_vary_and_negatives_refuse():
    train = rag.training_examples(2000, "train")
    by_family = {}
    for e in train:
        if e.key:
            assert e.response in e.instruction  # the answer restates a passage sentence
            by_family.setdefault(e.key.split("|")[0], []).append(e.response)
    for answers in by_family.values():  # no answer to memorise: the commonest is rare
        assert max(answers.count(a) for a in set(answers)) < 0.25 * len(answers)
    negatives = [e for e in train if not e.key]
    assert 0.2 < len(negatives) / len(train) < 0.4
    assert all(e.response == rag.REFUSAL for e in negatives)
    with pytest.raises(ValueError, match="split"):
        rag.training_examples(1, "test")


def test_training_text_fits_the_base_characters_and_block():
    spec = pretrained_path("char_transformer").with_name("char_transformer.tokenizer.json")
    tok = CharTokenizer.load(spec)
    for e in rag.training_examples(500, "train") + rag.training_examples(100, "val"):
        text, _ = sft.render_chat(e.messages())
        assert not tok.unseen(text)
        assert len(text) < rag.BLOCK_SIZE


def test_padded_batch_answers_equal_one_by_one_greedy():
    tok = CharTokenizer("\n" + "".join(chr(c) for c in range(32, 127)))
    torch.manual_seed(0)
    model = GPT(
        GPTConfig(tok.vocab_size, block_size=rag.BLOCK_SIZE, n_layer=2, n_head=2, n_embd=16)
    )
    passages = [ANSWERS[0], ANSWERS[5] + " And more.", ANSWERS[9]]
    questions = ["hi", "when do I get my money back please", "address?"]
    got = rag.answer(model, tok, passages, questions, max_new_tokens=12)
    for p, q, g in zip(passages, questions, got, strict=True):
        text = sft.render_chat([{"role": "user", "content": rag.prompt(p, q)}], True)[0]
        x = torch.tensor([tok.encode(text)])
        ref = tok.decode(generate(model, x, 12, temperature=0.0)[0, x.size(1) :].tolist())
        assert g == ref.split("\n", 1)[0]
    with pytest.raises(ValueError, match="passages"):
        rag.answer(model, tok, passages, questions[:2])


def test_sanitise_removes_every_injection_and_keeps_the_faq():
    for a in ANSWERS:
        assert rag.sanitise(a) == a  # no cost on the clean FAQ
        for instruction, payload in rag.INJECTIONS:
            for where in ("start", "end"):
                cleaned = rag.sanitise(rag.inject(a, instruction, where))
                assert payload not in cleaned and cleaned == a
    with pytest.raises(ValueError, match="where"):
        rag.inject("a", "b", "middle")


def test_output_check_refuses_untrusted_claims_only():
    for a in ANSWERS:
        assert rag.output_check(a, ANSWERS) == a
    bad = ANSWERS[0] + " Pay at pay-now.example."
    assert rag.output_check(bad, ANSWERS) == rag.REFUSAL
    assert rag.output_check(ANSWERS[0].replace("3 to 5", "3 to 9"), ANSWERS) == rag.REFUSAL


def test_check_answer_and_payload_rate():
    c = rag.check_answer(ANSWERS[0], ANSWERS[0], 0, ANSWERS)
    assert (c.grounded, c.invented, c.correct) == (True, False, True)
    wrong_entry = rag.check_answer(ANSWERS[4], ANSWERS[4], 0, ANSWERS)  # wrong retrieval
    assert wrong_entry.grounded and not wrong_entry.correct and not wrong_entry.invented
    made_up = rag.check_answer("Standard shipping takes 3 to 8 days.", ANSWERS[0], 0, ANSWERS)
    assert made_up.invented and not made_up.grounded and not made_up.correct
    assert rag.check_answer(rag.REFUSAL, ANSWERS[0], None, ANSWERS).refusal
    assert rag.payload_rate(["go to pay-now.example", "no"], ["pay-now.example"] * 2) == (1, 2)


def test_base_answerer_keeps_the_pretrained_positions():
    from aigc_course.loading import load_pretrained

    base, _ = load_pretrained(rag.BASE, "cpu")
    model, tok = rag.base_answerer("finetune")
    assert model.block_size == rag.BLOCK_SIZE
    x = torch.tensor([tok.encode("def f(x):\n    return x")])
    torch.testing.assert_close(model(x)[0], base(x)[0])
    with pytest.raises(ValueError, match="kind"):
        rag.base_answerer("bigger")


def test_committed_answerer_reads_the_passage():
    from aigc_course.loading import load_pretrained

    path = pretrained_path("faq_answerer")
    weights = path.with_name(path.name + ".safetensors")
    assert weights.stat().st_size < 4e6
    model, meta = load_pretrained("faq_answerer", "cpu")
    assert meta["recipe"] == "aigc-course recipes faq_answerer" and meta["base"] == rag.BASE
    assert meta["metrics"]["val_greedy_n"] >= 100
    tok = meta["tokenizer"]
    # the same question with two passages whose facts differ: the answer follows the passage
    a = "Standard shipping takes 3 to 5 business days within the country."
    b = a.replace("3 to 5", "6 to 8")
    got = rag.answer(model, tok, [a, b], ["how long does standard shipping take"] * 2)
    assert rag.groundedness(got[0], a).grounded and rag.groundedness(got[1], b).grounded
    assert got[0] != got[1]


def test_copy_examples_answer_from_the_passage_or_refuse():
    mixed = rag.training_examples(1000, "train", copy_rate=0.3)
    copies = [e for e in mixed if e.key in ("copy", "") and "Q: " in e.instruction]
    assert 200 < sum(e.key == "copy" for e in mixed) < 400
    for e in copies:
        passage = e.instruction.removeprefix("Help: ").rpartition(" Q: ")[0]
        assert e.response == rag.REFUSAL or e.response in passage
    with pytest.raises(ValueError, match="training only"):
        rag.training_examples(10, "val", copy_rate=0.3)


def test_hub_messages_carry_the_rule_and_the_same_prompt():
    msgs = rag.hub_messages(ANSWERS[0], "how long is shipping")
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert rag.REFUSAL in msgs[0]["content"]
    assert msgs[1]["content"] == rag.prompt(ANSWERS[0], "how long is shipping")
