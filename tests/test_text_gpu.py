"""The text family on a CUDA device (skipped without one): the LM loop, the samplers with
and without their caches, sliding-window scoring, and the GPT-2 port."""

from __future__ import annotations

import pytest
import torch

from aigc_course.device import model_device
from aigc_course.metrics.text import bits_per_char, sequence_nll
from aigc_course.models.rnn_lm import CharLSTM, LSTMConfig
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.sampling import generate
from aigc_course.training.lm import LMTrainConfig, fit_lm

pytestmark = pytest.mark.gpu
V = 17
CUDA = torch.device("cuda")


def _models():
    torch.manual_seed(0)
    return {"gpt": GPT(GPTConfig.tiny(V)), "lstm": CharLSTM(LSTMConfig.tiny(V))}


def _text(n: int = 3000) -> torch.Tensor:
    # a learnable stream: a repeated random phrase
    phrase = torch.randint(V, (37,), generator=torch.Generator().manual_seed(0))
    return phrase.repeat(n // 37 + 1)[:n]


@pytest.mark.parametrize("name", ["gpt", "lstm"])
def test_fit_lm_trains_on_cuda(name):
    model = _models()[name].to(CUDA)
    ids = _text()
    cfg = LMTrainConfig.tiny()
    hist = fit_lm(model, ids, cfg, val_ids=ids[:500])
    assert hist.steps == cfg.steps and model_device(model).type == "cuda"
    loss = hist["loss"]
    assert all(torch.isfinite(torch.tensor(loss)))
    assert sum(loss[-5:]) / 5 < sum(loss[:5]) / 5  # it learned
    assert hist.eval_curve("val_loss")[1]


@pytest.mark.parametrize("name", ["gpt", "lstm"])
def test_generate_on_cuda_with_and_without_cache(name):
    model = _models()[name].to(CUDA).eval()
    prompt = torch.randint(V, (3, 5))  # on the CPU: generate moves it to the model
    n = model.block_size + 12  # past the Transformer's window: the sliding fallback
    kw = dict(temperature=1.0, top_k=8)
    a = generate(model, prompt, n, generator=torch.Generator().manual_seed(1), **kw)
    b = generate(
        model, prompt, n, generator=torch.Generator().manual_seed(1), use_cache=False, **kw
    )
    assert a.device.type == "cuda" and a.shape == (3, 5 + n)
    assert torch.equal(a, b)
    greedy_a = generate(model, prompt, 20, temperature=0)
    greedy_b = generate(model, prompt, 20, temperature=0, use_cache=False)
    assert torch.equal(greedy_a, greedy_b)


@pytest.mark.parametrize("name", ["gpt", "lstm"])
def test_sequence_nll_on_cuda_equals_cpu(name):
    model = _models()[name].eval()
    ids = torch.randint(V, (500,), generator=torch.Generator().manual_seed(2))
    on_cpu = sequence_nll(model, ids, context=24, batch_size=7)
    on_gpu = sequence_nll(model.to(CUDA), ids, context=24, batch_size=7)
    assert on_gpu.device.type == "cpu"
    torch.testing.assert_close(on_gpu, on_cpu, atol=2e-4, rtol=1e-4)
    assert bits_per_char(model, ids, context=24) == pytest.approx(
        on_cpu.mean().item() / 0.6931471805599453, abs=1e-4
    )


def test_ported_gpt2_on_cuda():
    pytest.importorskip("transformers")
    from aigc_course.hf import from_gpt2, max_logit_difference, to_gpt2

    model = _models()["gpt"].to(CUDA).eval()
    hf = to_gpt2(model)
    assert model_device(hf).type == "cuda"
    idx = torch.randint(V, (2, 20), generator=torch.Generator().manual_seed(3))
    assert max_logit_difference(model, hf, idx) < 1e-4
    prompt = idx[:1, :4].to(CUDA)
    ours = generate(model, prompt, 10, temperature=0)
    theirs = hf.generate(
        prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=10, do_sample=False
    )
    assert torch.equal(ours, theirs)
    back = from_gpt2(hf)
    assert model_device(back).type == "cuda"
    for k, v in model.state_dict().items():
        torch.testing.assert_close(back.state_dict()[k], v)
