"""Hugging Face interop: BPE tokenizer, GPT2Config, and the weight port (logits match)."""

from __future__ import annotations

import pytest
import torch

from aigc_course.hf import (
    as_transformers_tokenizer,
    from_gpt2,
    gpt2_config,
    max_logit_difference,
    to_gpt2,
    train_bpe,
)
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.sampling import generate

TEXT = ["the quick brown fox jumps over the lazy dog. " * 30, "return the value of the key\n" * 30]


@pytest.fixture(scope="module")
def gpt() -> GPT:
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=37, block_size=16, n_layer=2, n_head=2, n_embd=16))
    with torch.no_grad():  # move biases and norms off their init so the test can fail
        for p in model.parameters():
            if p.ndim == 1:
                p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def test_bpe_round_trip_and_compression(tmp_path):
    tok = train_bpe(TEXT, vocab_size=300)
    assert tok.get_vocab_size() == 300
    text = "the lazy fox returns the key ✓"  # ✓ never seen: bytes still cover it
    enc = tok.encode(text)
    assert tok.decode(enc.ids) == text
    assert len(enc.ids) < len(text.encode("utf-8"))  # merges shorten the sequence
    tok.save(str(tmp_path / "bpe.json"))
    from tokenizers import Tokenizer

    back = Tokenizer.from_file(str(tmp_path / "bpe.json"))
    assert back.encode(text).ids == enc.ids
    wrapped = as_transformers_tokenizer(tok)
    assert wrapped.decode(wrapped(text)["input_ids"]) == text
    assert wrapped.eos_token == "<|endoftext|>"


def test_config_matches(gpt):
    c = gpt2_config(gpt.config)
    assert (c.n_embd, c.n_layer, c.n_head, c.n_positions) == (16, 2, 2, 16)
    assert c.activation_function == "gelu_new" and c.layer_norm_epsilon == 1e-5
    with pytest.raises(ValueError, match="causal"):
        gpt2_config(GPTConfig.tiny(5).__class__(5, causal=False))


def test_port_gives_identical_logits(gpt):
    hf = to_gpt2(gpt)
    idx = torch.randint(0, 37, (3, 16), generator=torch.Generator().manual_seed(0))
    assert max_logit_difference(gpt, hf, idx) < 1e-5
    assert hf.lm_head.weight.data_ptr() == hf.transformer.wte.weight.data_ptr()


def test_port_detects_a_wrong_weight(gpt):
    hf = to_gpt2(gpt)
    with torch.no_grad():
        hf.transformer.h[0].attn.c_attn.weight.copy_(
            hf.transformer.h[0].attn.c_attn.weight.T.reshape(16, 48)
        )
    idx = torch.randint(0, 37, (1, 8), generator=torch.Generator().manual_seed(1))
    assert max_logit_difference(gpt, hf, idx) > 1e-3


def test_round_trip_back_and_greedy_generation_agree(gpt, tmp_path):
    hf = to_gpt2(gpt)
    hf.save_pretrained(tmp_path / "m")
    from transformers import GPT2LMHeadModel

    reloaded = GPT2LMHeadModel.from_pretrained(tmp_path / "m", local_files_only=True)
    back = from_gpt2(reloaded)
    for k, v in gpt.state_dict().items():
        torch.testing.assert_close(back.state_dict()[k], v)
    prompt = torch.tensor([[1, 2, 3]])
    ours = generate(gpt, prompt, 8, temperature=0)
    theirs = reloaded.generate(
        prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=8, do_sample=False
    )
    assert torch.equal(ours, theirs)


@pytest.fixture(scope="module")
def bpe_gpt2():
    """A BPE tokenizer and a random GPT-2 over its vocabulary, with <|endoftext|> as EOS."""
    tok = as_transformers_tokenizer(train_bpe(TEXT, vocab_size=300))
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=300, block_size=32, n_layer=1, n_head=2, n_embd=16))
    return tok, to_gpt2(model, eos_token_id=tok.eos_token_id)


def test_tokenizer_returns_no_token_type_ids(bpe_gpt2):
    tok, _ = bpe_gpt2
    assert tok.model_input_names == ["input_ids", "attention_mask"]
    enc = tok("the lazy fox", return_tensors="pt")
    assert set(enc) == {"input_ids", "attention_mask"}
    assert "token_type_ids" not in tok(["a b", "the quick brown"], padding=True)


def test_generate_from_the_tokenizer_output_equals_explicit_inputs(bpe_gpt2):
    tok, hf = bpe_gpt2
    enc = tok("the quick brown", return_tensors="pt")
    kw = dict(max_new_tokens=6, do_sample=False, pad_token_id=tok.eos_token_id)
    via_dict = hf.generate(**enc, **kw)
    explicit = hf.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], **kw)
    assert torch.equal(via_dict, explicit)
    # what token_type_ids would do to GPT-2: a different result (so the test above can fail)
    with torch.no_grad():
        plain = hf(**enc).logits
        typed = hf(**enc, token_type_ids=torch.ones_like(enc["input_ids"])).logits
    assert (plain - typed).abs().max() > 1e-3


def test_character_port_has_no_eos_and_generates_past_every_character(gpt):
    hf = to_gpt2(gpt)  # a character vocabulary: every id is a real character
    assert hf.config.eos_token_id is None and hf.generation_config.eos_token_id is None
    assert hf.config.pad_token_id is None and hf.config.bos_token_id is None
    last = gpt.config.vocab_size - 1  # the old choice of EOS: the last character ("…")
    prompt = torch.tensor([[1, 2, 3]]).repeat(20, 1)
    sample = dict(max_new_tokens=12, do_sample=True, temperature=50.0, top_k=0)  # ~uniform
    torch.manual_seed(0)
    out = hf.generate(prompt, attention_mask=torch.ones_like(prompt), **sample)
    new = out[:, 3:]
    assert new.shape == (20, 12)
    hit = [(r, int(c)) for r in range(20) for c in (new[r, :-1] == last).nonzero().flatten()[:1]]
    assert hit, "the sample never drew the last character: pick another seed"
    assert any((new[r, c + 1 :] != last).any() for r, c in hit)  # it went on after "…"
    with_eos = to_gpt2(gpt, eos_token_id=last)  # with that id as EOS, rows would stop there
    assert with_eos.generation_config.eos_token_id == last
    torch.manual_seed(0)
    stopped = with_eos.generate(
        prompt, attention_mask=torch.ones_like(prompt), pad_token_id=last, **sample
    )
    r, c = hit[0]
    assert (stopped[r, 3 + c + 1 :] == last).all()  # padded with EOS after the first "…"
    assert not torch.equal(stopped, out)


def test_a_saved_gpt2_loads_into_the_course_model(tmp_path):
    # the opt-in hub cell's code path, on a small GPT-2 saved locally (no network)
    from transformers import GPT2Config, GPT2LMHeadModel

    from aigc_course.hf import load_gpt2_as_course_model

    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=50, n_positions=32, n_embd=32, n_layer=2, n_head=4)
    GPT2LMHeadModel(cfg).save_pretrained(tmp_path)
    ours, theirs = load_gpt2_as_course_model(str(tmp_path))
    idx = torch.randint(0, 50, (2, 16))
    assert max_logit_difference(ours, theirs, idx) < 1e-4
    assert theirs.transformer.h[0].attn.c_attn.weight.shape == (32, 96)  # Conv1D: (in, out)
