"""Notebook 03's exercise judges reject wrong answers and accept the hidden solutions."""

from __future__ import annotations

import math

import torch

from aigc_course.exercises import _verdict, get
from aigc_course.models.vae import VAE, VAEConfig


def _wrong(exercise_id: str, attempt, **context) -> str | None:
    return _verdict(get(exercise_id), attempt, context)


def test_wrong_answers_get_a_verdict_that_is_not_correct():
    nll = 98.6
    assert "nats per pixel" in _wrong("03.bits_per_dim", nll / 784, nll_nats=nll)
    assert _wrong("03.bits_per_dim", nll / (784 * math.log(2)), nll_nats=nll) is None
    assert _wrong("03.discrete", "a") is not None
    assert _wrong("03.discrete", "b") is None
    measured = dict(elbo_encoder=-105.7, elbo_refined=-99.5, iwae=-98.9)
    assert _wrong("03.amortisation", "c", **measured) is not None
    assert _wrong("03.amortisation", "b", **measured) is None
    naive = lambda log_w: log_w.exp().mean(0).log()
    assert "logsumexp" in _wrong("03.iwae_bound", naive)
    standard_only = lambda mq, lq, mp, lp: 0.5 * (mq**2 + lq.exp() - 1 - lq).sum(-1)
    assert _wrong("03.kl_diag", standard_only) is not None


def test_active_unit_judge_rejects_a_count_of_every_unit():
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny(latent_dim=6))
    x = torch.rand(64, 1, 28, 28).bernoulli()
    every_unit = lambda model, x, threshold=0.01: model.latent_dim
    assert _wrong("03.active_units", every_unit, model=model, x=x) is not None
    solution = get("03.active_units").solution(model=model, x=x)
    assert _wrong("03.active_units", solution, model=model, x=x) is None
