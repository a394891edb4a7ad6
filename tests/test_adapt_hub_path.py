"""The opt-in hub cell of notebook 07, offline: a BPE tokenizer with the chat template
and the course's GPT run through the same SFT and LoRA code as the character model."""

from __future__ import annotations

import torch

from aigc_course.adapt import lora, sft
from aigc_course.hf import as_transformers_tokenizer, train_bpe
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.training.lm import LMTrainConfig


def _bpe_tokenizer():
    texts = [sft.render_chat(e.messages())[0] for e in sft.instruction_set()["train"][:300]]
    tok = as_transformers_tokenizer(train_bpe(texts, vocab_size=400))
    tok.chat_template = sft.CHAT_TEMPLATE
    return tok


def test_bpe_mask_covers_exactly_the_response_tokens():
    tok = _bpe_tokenizer()
    example = sft.instruction_set()["test"][0]
    ids, targets = sft.encode_example(tok, example)
    kept = tok.decode([t for t in targets.tolist() if t != sft.IGNORE])
    # the answer and its end; byte-level BPE may glue the space after "Bot:" to the first
    # response token ("ĠA"), and the assistant mask keeps a token that overlaps the answer
    assert kept.endswith(example.response + "\n")
    assert kept in (example.response + "\n", " " + example.response + "\n")
    full = tok.apply_chat_template(example.messages(), tokenize=False)
    assert tok.decode(ids.tolist() + [targets[-1].item()]) == full


def test_sft_and_respond_run_on_a_bpe_model():
    tok = _bpe_tokenizer()
    torch.manual_seed(0)
    model = GPT(GPTConfig(len(tok), block_size=160, n_layer=1, n_head=2, n_embd=32, dropout=0.0))
    train = [e for e in sft.instruction_set()["train"] if e.kind == "faq"][:40]
    before = sft.response_bits_per_char(model, tok, train)  # bits per token here
    sft.fit_sft(model, tok, train, LMTrainConfig(steps=40, batch_size=8, lr=1e-2, warmup=2))
    after = sft.response_bits_per_char(model, tok, train)
    assert after < before - 1.0
    lora.apply_lora(model, r=4, alpha=8, targets=("c_attn", "c_fc"))  # the hub cell's path
    answers = sft.respond(model, tok, [e.instruction for e in train[:5]], max_new_tokens=12)
    assert len(answers) == 5 and all("\n" not in a for a in answers)
    again = sft.respond(model, tok, [e.instruction for e in train[:5]], max_new_tokens=12)
    assert answers == again
