"""Instruction tuning: the chat format against ``transformers``, response masks, the
instruction set's splits, and training and scoring on response characters only."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from aigc_course.adapt.sft import (
    CHAT_TEMPLATE,
    IGNORE,
    KINDS,
    Example,
    char_transformers_tokenizer,
    check_template,
    encode_example,
    fit_sft,
    instruction_set,
    render_chat,
    respond,
    response_bits_per_char,
    sft_batch,
)
from aigc_course.business.catalog import tokenizer as catalog_tokenizer
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.training.lm import LMTrainConfig

SINGLE = [
    {"role": "user", "content": "Write copy: mug|glass|red|mid|handmade+stackable"},
    {"role": "assistant", "content": "A red glass mug, handmade and stackable. Priced right."},
]
MULTI = [
    {"role": "user", "content": "Answer: where is my order?"},
    {"role": "assistant", "content": "Track it with the link in your email."},
    {"role": "user", "content": "and if it is late?"},
    {"role": "assistant", "content": "Write to us: we refund late orders."},
]
CONVERSATIONS = {"single": SINGLE, "multi": MULTI, "user only": MULTI[:1]}


@pytest.fixture(scope="module")
def tok():
    return catalog_tokenizer()


@pytest.fixture(scope="module")
def hf_tok(tok):
    return char_transformers_tokenizer(tok)


def tiny_gpt(vocab: int, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab, block_size=32, n_layer=2, n_head=2, n_embd=16, dropout=0.0))


# -- the format ----------------------------------------------------------------------------


@pytest.mark.parametrize("gen", [False, True])
@pytest.mark.parametrize("name", list(CONVERSATIONS))
def test_render_chat_equals_transformers_apply_chat_template(tok, hf_tok, name, gen):
    messages = CONVERSATIONS[name]
    text, mask = render_chat(messages, add_generation_prompt=gen)
    assert text == hf_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
    assert len(mask) == len(text) and text.endswith("Bot: " if gen else "\n")
    out = hf_tok.apply_chat_template(
        messages,
        tokenize=True,
        add_generation_prompt=gen,
        return_dict=True,
        return_assistant_tokens_mask=True,
    )
    assert out["input_ids"] == tok.encode(text)  # one token per character, the course's ids
    assert out["assistant_masks"] == [int(m) for m in mask]
    # the response is each assistant message and its newline, nothing else
    responses = "".join(ch for ch, m in zip(text, mask, strict=True) if m)
    expected = "".join(m["content"] + "\n" for m in messages if m["role"] == "assistant")
    assert responses == expected


def test_the_transformers_tokenizer_has_the_char_tokenizers_ids():
    from aigc_course.loading import load_pretrained

    _, meta = load_pretrained("char_transformer", "cpu")
    tok = meta["tokenizer"]
    fast = char_transformers_tokenizer(tok)
    text = "def f(x):\n    return {'a': x}  # ok\n"
    assert fast(text)["input_ids"] == tok.encode(text)
    assert fast.decode(tok.encode(text)) == text
    assert len(fast) == tok.vocab_size and fast.chat_template == CHAT_TEMPLATE


def test_check_template_needs_the_generation_marker():
    assert check_template(CHAT_TEMPLATE) == CHAT_TEMPLATE
    unmarked = CHAT_TEMPLATE.replace("{% generation %}", "").replace("{% endgeneration %}", "")
    with pytest.raises(ValueError, match="no response marker") as err:
        check_template(unmarked)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="no response marker"):
        check_template(CHAT_TEMPLATE.replace("{% endgeneration %}", ""))


def test_render_chat_rejects_unknown_roles_and_newlines():
    with pytest.raises(ValueError, match="roles must be 'user' or 'assistant', got 'system'"):
        render_chat([{"role": "system", "content": "be nice"}])
    with pytest.raises(ValueError, match="may not contain a newline"):
        render_chat([{"role": "user", "content": "two\nlines"}])
    with pytest.raises(ValueError, match="may not contain a newline"):
        render_chat([SINGLE[0], {"role": "assistant", "content": "a\nb"}])


# -- masked examples and batches ---------------------------------------------------------

EX = Example("faq", "Answer: refund?", "Within 30 days.", "3")


def test_encode_example_ignores_exactly_the_prompt_targets(tok):
    x, y = encode_example(tok, EX)
    text = "User: Answer: refund?\nBot: Within 30 days.\n"
    ids = tok.encode(text)
    assert x.tolist() == ids[:-1] and len(y) == len(x)
    start = text.index("Within")  # the first response character
    for t in range(len(y)):  # target t is character t + 1
        if t + 1 < start:
            assert y[t] == IGNORE, t
        else:
            assert y[t] == ids[t + 1], t
    assert tok.decode([int(v) for v in y if v != IGNORE]) == "Within 30 days.\n"
    _, y_all = encode_example(tok, EX, mask_prompt=False)
    assert y_all.tolist() == ids[1:] and IGNORE not in y_all.tolist()


def test_sft_batch_pads_with_ignore_and_checks_its_input(tok):
    short = Example("faq", "Answer: hi?", "Hello.")
    x, y = sft_batch(tok, [EX, short])
    x_long, y_long = encode_example(tok, EX)
    x_short, y_short = encode_example(tok, short)
    assert x.shape == y.shape == (2, len(x_long))
    assert torch.equal(x[0], x_long) and torch.equal(y[0], y_long)
    n = len(x_short)
    assert torch.equal(x[1, :n], x_short) and torch.equal(y[1, :n], y_short)
    assert (y[1, n:] == IGNORE).all() and (x[1, n:] == 0).all()
    _, y_all = sft_batch(tok, [EX, short], mask_prompt=False)
    assert (y_all[1, n:] == IGNORE).all() and (y_all[1, :n] != IGNORE).all()
    with pytest.raises(ValueError, match="more than block_size=20"):
        sft_batch(tok, [EX], block_size=20)
    assert sft_batch(tok, [EX], block_size=len(x_long))[0].shape == (1, len(x_long))
    with pytest.raises(ValueError, match="at least one example"):
        sft_batch(tok, [])


# -- the instruction set --------------------------------------------------------------------


@pytest.fixture(scope="module")
def sets():
    return instruction_set(n_copy=300, n_extract=150, n_eval=40, seed=0)


def test_instruction_set_is_seeded(sets):
    again = instruction_set(n_copy=300, n_extract=150, n_eval=40, seed=0)
    assert again == sets
    other = instruction_set(n_copy=300, n_extract=150, n_eval=40, seed=1)
    assert other["train"] != sets["train"]


def test_instruction_set_splits_share_nothing(sets):
    for name, examples in sets.items():
        kinds = {e.kind for e in examples}
        assert kinds == set(KINDS), name
    train = sets["train"]
    assert sum(e.kind == "copy" for e in train) == 300
    assert sum(e.kind == "extract" for e in train) == 150
    train_products = {e.key for e in train if e.kind in ("copy", "extract")}
    train_questions = {e.instruction for e in train if e.kind == "faq"}
    for name in ("val", "test"):
        held = sets[name]
        products = {e.key for e in held if e.kind in ("copy", "extract")}
        assert len(products) == 40
        assert not products & train_products, name  # unseen products
        copy_prompts = {e.key for e in held if e.kind == "copy"}
        assert not any(p in t.instruction for p in copy_prompts for t in train), name
        questions = {e.instruction for e in held if e.kind == "faq"}
        assert questions and not questions & train_questions, name
        texts = {q.removeprefix("Answer: ") for q in questions}
        assert not any(q in t.instruction for q in texts for t in train), name
    val_products = {e.key for e in sets["val"] if e.kind != "faq"}
    assert not val_products & {e.key for e in sets["test"] if e.kind != "faq"}
    # every example renders in the base model's characters and fits its block
    from aigc_course.loading import load_pretrained

    base, meta = load_pretrained("char_transformer", "cpu")
    base_chars = set(meta["tokenizer"].chars)
    for examples in sets.values():
        for e in examples:
            text, _ = render_chat(e.messages())
            assert set(text) <= base_chars and len(text) <= base.block_size, text
            if e.kind == "extract":
                assert e.response == e.key


# -- training and scoring -----------------------------------------------------------------


def test_response_bits_per_char_is_the_hand_computation(tok):
    model = tiny_gpt(tok.vocab_size).eval()
    examples = [
        Example("faq", "Answer: a?", "Yes."),
        Example("copy", "Write copy: x", "A cup."),
        Example("faq", "Answer: b", "No, 7 days."),
    ]
    nats, count = 0.0, 0
    for e in examples:
        text, mask = render_chat(e.messages())
        ids = torch.tensor([tok.encode(text)])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids[:, :-1])[0][0], dim=-1)
        for t in range(len(text) - 1):
            if mask[t + 1]:
                nats -= logp[t, ids[0, t + 1]].item()
                count += 1
    assert count == sum(len(e.response) + 1 for e in examples)
    expected = nats / count / math.log(2)
    got = response_bits_per_char(model, tok, examples, batch_size=2)  # padding in one batch
    assert got == pytest.approx(expected, rel=1e-5)
    assert got == pytest.approx(response_bits_per_char(model, tok, examples), rel=1e-6)


class PositionTable(nn.Module):
    """Logits that depend on the position only: a row of parameters per position. The
    gradient of a row is non-zero exactly when its position has a trained target."""

    def __init__(self, vocab: int, block: int) -> None:
        super().__init__()
        self.block_size = block
        self.table = nn.Parameter(torch.zeros(block, vocab))

    def forward(self, x, targets=None):
        logits = self.table[: x.size(1)].expand(x.size(0), -1, -1)
        if targets is None:
            return logits, None
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


SHORT = [Example("faq", "ab", r) for r in ("xy", "yz", "zx")]  # "User: ab\nBot: xy\n"


@pytest.mark.parametrize("mask_prompt", [True, False])
def test_fit_sft_trains_prompt_positions_only_without_the_mask(tok, mask_prompt):
    model = PositionTable(tok.vocab_size, 32)
    cfg = LMTrainConfig(steps=3, batch_size=4, lr=1e-2, warmup=0, weight_decay=0.0)
    fit_sft(model, tok, SHORT, cfg, mask_prompt=mask_prompt)
    moved = model.table.detach().abs().sum(dim=1) > 0
    first_response = len("User: ab\nBot: ")  # the character index of "x"
    n = len("User: ab\nBot: xy\n") - 1  # positions of every example
    response_positions = torch.arange(32) >= first_response - 1
    response_positions &= torch.arange(32) < n
    if mask_prompt:
        assert torch.equal(moved, response_positions)
    else:
        assert torch.equal(moved, torch.arange(32) < n)


def test_fit_sft_lowers_the_response_loss_and_respond_cuts_at_the_newline(tok):
    model = tiny_gpt(tok.vocab_size)
    before = response_bits_per_char(model, tok, SHORT[:1])
    cfg = LMTrainConfig(steps=60, batch_size=4, lr=1e-2, warmup=5)
    hist = fit_sft(model, tok, SHORT[:1], cfg)
    assert hist.steps == 60 and not model.training
    after = response_bits_per_char(model, tok, SHORT[:1])
    assert after < 0.25 * before, (before, after)
    assert sum(hist["loss"][-5:]) < sum(hist["loss"][:5])
    # the model answers "xy\n" and goes on after the newline; respond keeps "xy"
    answers = respond(model, tok, ["ab", "ab"], max_new_tokens=10)
    assert answers == ["xy", "xy"]
    prompt = torch.tensor([tok.encode("User: ab\nBot: ")])
    from aigc_course.sampling import generate

    raw = tok.decode(generate(model, prompt, 10, temperature=0.0)[0, prompt.size(1) :].tolist())
    assert raw.startswith("xy\n") and len(raw) == 10


def test_respond_is_greedy_and_deterministic_at_temperature_zero(tok):
    model = tiny_gpt(tok.vocab_size, seed=3).eval()
    questions = ["ab", "hello", "cd"]  # two lengths: two batches
    answers = respond(model, tok, questions, max_new_tokens=8)
    assert answers == respond(model, tok, questions, max_new_tokens=8, seed=5)
    for q, a in zip(questions, answers, strict=True):
        ids = tok.encode(render_chat([{"role": "user", "content": q}], True)[0])
        for _ in range(8):  # greedy by hand, without a cache
            with torch.no_grad():
                logits = model(torch.tensor([ids]))[0][0, -1]
            ids.append(int(logits.argmax()))
        by_hand = tok.decode(ids[-8:]).split("\n", 1)[0]
        assert a == by_hand and "\n" not in a
    sampled = [respond(model, tok, ["ab"] * 4, temperature=1.5, seed=s) for s in (0, 1)]
    assert sampled[0] != sampled[1]


def test_fit_sft_refuses_examples_longer_than_the_block(tok):
    model = tiny_gpt(tok.vocab_size)
    with pytest.raises(ValueError, match="longer than the model's block_size=32"):
        fit_sft(model, tok, [EX], LMTrainConfig(steps=1))
    with pytest.raises(ValueError, match="at least one example"):
        fit_sft(copy.deepcopy(model), tok, [], LMTrainConfig(steps=1))
