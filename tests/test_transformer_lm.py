"""From-scratch GPT: shapes, attention vs PyTorch, causality, KV cache, overfitting."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from aigc_course.models.transformer_lm import GPT, GPTConfig, attention
from aigc_course.sampling import generate

V = 11


def _model(**kw) -> GPT:
    torch.manual_seed(0)
    return GPT(dataclasses.replace(GPTConfig.tiny(V), **kw)).eval()


def test_shapes_and_loss():
    model = _model()
    idx = torch.randint(0, V, (3, 7))
    logits, loss = model(idx)
    assert logits.shape == (3, 7, V) and loss is None
    targets = torch.randint(0, V, (3, 7), generator=torch.Generator().manual_seed(1))
    _, loss = model(idx, targets)
    assert loss.ndim == 0
    # an untrained model is close to uniform: loss ≈ ln V
    assert abs(loss.item() - torch.log(torch.tensor(float(V))).item()) < 0.5


def test_too_long_input_is_an_error():
    model = _model()
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, model.block_size + 1, dtype=torch.long))


def test_bad_config():
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(V, n_embd=30, n_head=4)


@pytest.mark.parametrize("causal", [True, False])
def test_attention_matches_sdpa(causal):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 9, 8, generator=g) for _ in range(3))
    ours = attention(q, k, v, causal=causal)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)


def test_math_and_flash_paths_agree():
    a = _model(flash=True)
    b = _model(flash=False)
    b.load_state_dict(a.state_dict())
    idx = torch.randint(0, V, (2, 20))
    torch.testing.assert_close(a(idx)[0], b(idx)[0], rtol=1e-5, atol=1e-5)


def test_math_and_flash_paths_agree_with_dropout_in_training_mode():
    cfg = GPTConfig(V, block_size=16, n_layer=2, n_head=2, n_embd=16, dropout=0.3)
    torch.manual_seed(0)
    a = GPT(cfg).train()
    b = GPT(dataclasses.replace(cfg, flash=False)).train()
    b.load_state_dict(a.state_dict())
    idx = torch.randint(0, V, (2, 16), generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1)
    ya = a(idx)[0]
    torch.manual_seed(1)
    yb = b(idx)[0]
    torch.testing.assert_close(ya, yb, rtol=1e-5, atol=1e-5)  # same dropout masks on the CPU
    torch.manual_seed(2)
    assert (a(idx)[0] - ya).abs().max() > 1e-3  # dropout is on: another draw, another output
    a_eval, b_eval = a.eval()(idx)[0], b.eval()(idx)[0]
    torch.testing.assert_close(a_eval, b_eval, rtol=1e-5, atol=1e-5)
    assert (a_eval - ya).abs().max() > 1e-3


def test_no_causal_leakage():
    model = _model()
    idx = torch.randint(0, V, (1, 16))
    t = 9
    changed = idx.clone()
    changed[0, t + 1 :] = (changed[0, t + 1 :] + 1) % V
    a, _ = model(idx)
    b, _ = model(changed)
    torch.testing.assert_close(a[:, : t + 1], b[:, : t + 1])  # positions ≤ t unchanged
    assert not torch.allclose(a[:, t + 1 :], b[:, t + 1 :])


def test_missing_mask_leaks_the_future():
    model = _model(causal=False)
    idx = torch.randint(0, V, (1, 16))
    changed = idx.clone()
    changed[0, -1] = (changed[0, -1] + 1) % V
    assert not torch.allclose(model(idx)[0][:, 0], model(changed)[0][:, 0])


def test_kv_cache_equals_full_recomputation():
    model = _model()
    idx = torch.randint(0, V, (2, 12))
    full, _ = model(idx)
    logits, state = model.step(idx[:, :5])
    parts = [logits]
    logits, state = model.step(idx[:, 5:9], state)  # a chunk after a cache
    parts.append(logits)
    for t in range(9, 12):  # then one token at a time
        logits, state = model.step(idx[:, t : t + 1], state)
        parts.append(logits)
    torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=1e-5, atol=1e-5)


def test_generate_with_cache_equals_without_beyond_block_size():
    model = _model()
    prompt = torch.randint(0, V, (2, 4))
    n = model.block_size + 10  # runs past the window: the sliding fallback kicks in
    a = generate(model, prompt, n, generator=torch.Generator().manual_seed(1))
    b = generate(model, prompt, n, generator=torch.Generator().manual_seed(1), use_cache=False)
    assert a.shape == (2, 4 + n)
    assert torch.equal(a, b)
    assert torch.equal(a[:, :4], prompt)


def test_overfits_one_batch():
    model = _model().train()
    idx = torch.randint(0, V, (4, 16), generator=torch.Generator().manual_seed(0))
    x, y = idx[:, :-1], idx[:, 1:]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    first = None
    for _ in range(60):
        _, loss = model(x, y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first / 5


def test_tied_embeddings_and_parameter_count():
    model = _model()
    assert model.lm_head.weight is model.transformer.wte.weight
    c = model.config
    per_block = 12 * c.n_embd**2 + 13 * c.n_embd
    expected = V * c.n_embd + c.block_size * c.n_embd + c.n_layer * per_block + 2 * c.n_embd
    assert model.num_params() == expected


def test_seeded_init_is_deterministic():
    a, b = _model(), _model()
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


def test_declares_the_lm_interface_and_generate_requires_it():
    from aigc_course.sampling import CausalLM

    model = _model()
    assert isinstance(model, CausalLM) and not model.recurrent
    assert model.family == "transformer"
    with pytest.raises(TypeError, match="CausalLM"):
        generate(torch.nn.Linear(2, 2), torch.zeros(1, 1, dtype=torch.long), 1)
