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


# -- against Hugging Face's logits warpers (transformers' generate) ---------------------

transformers = pytest.importorskip("transformers")


def _ties(seed: int = 0, b: int = 6, v: int = 12) -> torch.Tensor:
    """Logits rounded to a coarse grid: many exact ties, at every rank."""
    return torch.round(_logits(seed, b, v)).float()


@pytest.mark.parametrize("k", [1, 2, 3, 5, 12, 20])
@pytest.mark.parametrize("make", [_logits, _ties])
def test_top_k_matches_transformers_ties_included(k, make):
    logits = make(4)
    ours = top_k_filter(logits, k)
    theirs = transformers.TopKLogitsWarper(k)(None, logits.clone())
    assert torch.equal(torch.isfinite(ours), torch.isfinite(theirs))
    assert torch.equal(ours[torch.isfinite(ours)], logits[torch.isfinite(ours)])


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.77, 0.9, 0.99])
@pytest.mark.parametrize("seed", range(3))
def test_top_p_matches_transformers_without_ties(p, seed):
    logits = _logits(seed, b=8, v=50)
    ours = torch.isfinite(top_p_filter(logits, p))
    theirs = torch.isfinite(transformers.TopPLogitsWarper(p)(None, logits.clone()))
    assert torch.equal(ours, theirs)


def test_top_p_keeps_every_tie_at_the_boundary_unlike_transformers():
    # probabilities ∝ (e², e, e, e, 1) = (.447, .164, .164, .164, .060): with p = 0.7 the
    # nucleus ends inside the tied group. We keep all three tied tokens (the rule "the
    # mass of the strictly more probable tokens is below p" holds for each of them);
    # transformers keeps two of the three, whichever its sort puts first.
    logits = torch.tensor([[1.0, 2.0, 1.0, 0.0, 1.0]])
    ours = torch.isfinite(top_p_filter(logits, 0.7))[0]
    theirs = torch.isfinite(transformers.TopPLogitsWarper(0.7)(None, logits.clone()))[0]
    assert ours.tolist() == [True, True, True, False, True]
    assert theirs[1] and not theirs[3] and int(theirs[[0, 2, 4]].sum()) == 2
    assert (ours | theirs).equal(ours)  # we keep a superset: the ties transformers cut
    # on random tied logits: ours = theirs, plus only tokens tied with one theirs keeps
    logits = _ties(5, b=32, v=12)
    for p in (0.3, 0.6, 0.9):
        ours = torch.isfinite(top_p_filter(logits, p))
        theirs = torch.isfinite(transformers.TopPLogitsWarper(p)(None, logits.clone()))
        assert (ours | theirs).equal(ours)
        least_kept = logits.masked_fill(~theirs, float("inf")).min(-1, keepdim=True).values
        assert torch.equal(ours & ~theirs, (logits == least_kept) & ~theirs)


@pytest.mark.parametrize(
    "kw", [dict(temperature=0.7), dict(temperature=1.3, top_k=5), dict(top_p=0.8, top_k=9)]
)
def test_sample_next_draws_from_the_transformers_warped_distribution(kw):
    # the same pipeline as transformers' generate (temperature, then top-k, then top-p),
    # and the same draw: one multinomial from the same generator state
    logits = _logits(6, b=5, v=30)
    warped = logits.clone()
    warpers = [transformers.TemperatureLogitsWarper(kw.get("temperature", 1.0))]
    if "top_k" in kw:
        warpers.append(transformers.TopKLogitsWarper(kw["top_k"]))
    if "top_p" in kw:
        warpers.append(transformers.TopPLogitsWarper(kw["top_p"]))
    for w in warpers:
        warped = w(None, warped)
    probs = warped.softmax(-1)
    for seed in range(5):
        ours = sample_next(logits, generator=torch.Generator().manual_seed(seed), **kw)
        ref = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(ours, ref[:, 0])


@pytest.mark.parametrize("penalty", [1.3, 0.7, 2.0])
def test_repetition_penalty_matches_transformers(penalty):
    from aigc_course.sampling import repetition_penalty

    logits = _logits(8, b=3, v=15)  # positive and negative logits
    ids = torch.randint(0, 15, (3, 6), generator=torch.Generator().manual_seed(0))
    ids[0, :2] = 4  # a repeated id is penalised once, not twice
    ours = repetition_penalty(penalty)(ids, logits.clone())
    theirs = transformers.RepetitionPenaltyLogitsProcessor(penalty)(ids, logits.clone())
    torch.testing.assert_close(ours, theirs)
    present = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, ids, True)
    assert torch.equal(ours[~present], logits[~present])  # absent tokens untouched
    if penalty > 1:  # every present token loses probability mass relative to the rest
        assert (ours[present] < logits[present]).all()
    naive = torch.where(present, logits / penalty, logits)  # divide every logit: wrong
    assert not torch.allclose(naive, theirs)  # negative logits go the wrong way
    with pytest.raises(ValueError):
        repetition_penalty(0.0)
