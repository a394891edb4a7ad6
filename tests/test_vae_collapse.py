"""Active units, free bits and the per-unit KL used by notebook 03's posterior-collapse section."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch.testing import assert_close

from aigc_course.models.vae import VAE, VAEConfig
from aigc_course.theory.elbo import gaussian_kl_standard
from aigc_course.training.vae import (
    VAETrainConfig,
    active_units,
    fit_vae,
    gaussian_kl_per_dim,
)


def _images(n: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g)


def test_per_unit_kl_sums_to_the_kl():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 6, generator=g), torch.randn(5, 6, generator=g)
    per_unit = gaussian_kl_per_dim(mu, logvar)
    assert per_unit.shape == (5, 6) and (per_unit >= 0).all()
    assert_close(per_unit.sum(-1), gaussian_kl_standard(mu, logvar))


def test_active_units_ignores_units_whose_mean_does_not_depend_on_x():
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny(latent_dim=6))
    x = _images().bernoulli()
    last = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight[:3] = 0.0  # mu_0..mu_2 = bias: the same for every image
        last.weight[3:6] *= 50.0  # mu_3..mu_5 vary a lot with x
    assert active_units(model, x) == 3
    assert active_units(model, x, threshold=1e9) == 0


def test_free_bits_below_every_units_kl_changes_nothing_and_a_high_floor_frees_the_kl():
    x = _images(32)
    cfg = replace(VAETrainConfig.tiny(), steps=30, lr=3e-3)
    runs = {}
    for name, fb in (("plain", 0.0), ("tiny floor", 1e-12), ("high floor", 5.0)):
        torch.manual_seed(0)
        model = VAE(VAEConfig.tiny(latent_dim=4))
        runs[name] = (model, fit_vae(model, x, replace(cfg, free_bits=fb)))
    for a, b in zip(runs["plain"][0].parameters(), runs["tiny floor"][0].parameters(), strict=True):
        assert_close(a, b)
    # a floor of 5 nats per unit leaves the KL unpenalised: it grows beyond the plain run's
    assert runs["high floor"][1]["kl"][-1] > 2 * runs["plain"][1]["kl"][-1]


@pytest.mark.slow
def test_recipes_are_compared_on_a_validation_split_of_the_training_digits(monkeypatch):
    from aigc_course.recipes import vae as rv

    monkeypatch.setenv("AIGC_OFFLINE", "1")
    rows = rv.compare_on_validation((rv.REFERENCE,), seeds=(0,), epochs=1, k=2)
    assert [r["recipe"] for r in rows] == [rv.REFERENCE.name]
    assert rows[0]["val_iwae"] >= rows[0]["val_elbo"] - 5  # a 2-sample IWAE, near the ELBO
    assert -550 < rows[0]["val_elbo"] < -100  # one pass: well below an untrained 543 nats
