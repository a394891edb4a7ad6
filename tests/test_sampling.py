"""Samplers: properties that must hold for any logits."""

from __future__ import annotations

import pytest
import torch

from aigc_course.sampling import greedy, sample_next, top_k_filter, top_p_filter


def _logits(seed: int = 0, b: int = 4, v: int = 20) -> torch.Tensor:
    return torch.randn(b, v, generator=torch.Generator().manual_seed(seed)) * 3


@pytest.mark.parametrize("seed", range(3))
def test_temperature_zero_is_argmax(seed):
    logits = _logits(seed)
    assert torch.equal(sample_next(logits, temperature=0), logits.argmax(-1))
    assert torch.equal(greedy(logits), logits.argmax(-1))


@pytest.mark.parametrize("k", [1, 3, 7])
def test_top_k_never_leaves_the_k_largest(k):
    logits = _logits(1)
    allowed = logits.topk(k, dim=-1).indices
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        ids = sample_next(logits, top_k=k, generator=g)
        assert (allowed == ids[:, None]).any(-1).all()
    kept = torch.isfinite(top_k_filter(logits, k)).sum(-1)
    assert (kept == k).all()


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_top_p_keeps_the_smallest_nucleus(p):
    logits = _logits(2)
    filtered = top_p_filter(logits, p)
    probs = logits.softmax(-1)
    for row in range(logits.size(0)):
        kept = torch.isfinite(filtered[row])
        # the kept tokens are the most probable ones …
        if (~kept).any():
            assert probs[row][kept].min() >= probs[row][~kept].max()
        # … their mass reaches p, and dropping the least probable kept one falls below p
        mass = probs[row][kept].sum()
        assert mass >= p - 1e-6
        assert mass - probs[row][kept].min() < p
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        ids = sample_next(logits, top_p=p, generator=g)
        assert torch.isfinite(filtered.gather(1, ids[:, None])).all()


def test_top_p_always_keeps_the_best_token():
    logits = torch.tensor([[10.0, 0.0, 0.0]])
    assert torch.isfinite(top_p_filter(logits, 0.01)).tolist() == [[True, False, False]]


def test_fixed_generator_gives_fixed_ids():
    logits = _logits(3, b=8)
    a = sample_next(logits, temperature=1.3, generator=torch.Generator().manual_seed(7))
    b = sample_next(logits, temperature=1.3, generator=torch.Generator().manual_seed(7))
    c = sample_next(logits, temperature=1.3, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_sampling_follows_the_distribution():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1]])).expand(20000, 3)
    ids = sample_next(logits, generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(ids, minlength=3).float() / ids.numel()
    torch.testing.assert_close(freq, torch.tensor([0.7, 0.2, 0.1]), atol=0.015, rtol=0)


def test_low_temperature_sharpens():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.2]])).expand(5000, 3)
    ids = sample_next(logits, temperature=0.2, generator=torch.Generator().manual_seed(0))
    assert (ids == 0).float().mean() > 0.85


def test_bad_arguments():
    logits = _logits()
    with pytest.raises(ValueError):
        sample_next(logits, temperature=-1)
    with pytest.raises(ValueError):
        top_k_filter(logits, 0)
    with pytest.raises(ValueError):
        top_p_filter(logits, 0.0)
    with pytest.raises(ValueError, match=r"\(B, V\)"):
        greedy(logits[0])
