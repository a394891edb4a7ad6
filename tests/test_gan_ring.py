"""Ring metrics (mode-histogram JSD) and the spectrally normalised toy discriminator."""

import math

import pytest
import torch

from aigc_course.metrics import image as mi
from aigc_course.models.gan import MLPDiscriminator, MLPGANConfig


def test_mode_histogram_jsd_extremes_and_unevenness():
    assert mi.mode_histogram_jsd([125] * 8, 1000) == pytest.approx(0.0, abs=1e-12)
    assert mi.mode_histogram_jsd([0] * 8, 1000) == pytest.approx(math.log(2), abs=1e-12)
    one = mi.mode_histogram_jsd([1000] + [0] * 7, 1000)
    assert 0.49 < one < 0.51
    # all 8 modes covered, but unevenly: the count says 8/8, the JSD sees it
    uneven = [650] + [50] * 7
    assert 0.1 < mi.mode_histogram_jsd(uneven, 1000) < one
    s = mi.ring_scores(mi.sample_ring(4000, sigma=0.05, seed=1), mi.ring_centers(), 0.05)
    assert s.mode_jsd < 0.01


def test_spectral_norm_discriminator_is_1_lipschitz():
    torch.manual_seed(0)
    D = MLPDiscriminator(MLPGANConfig(data_dim=2, hidden=32, n_layers=2, spectral_norm=True))
    plain = MLPDiscriminator(MLPGANConfig(data_dim=2, hidden=32, n_layers=2))
    for _ in range(50):
        D(torch.randn(4, 2))
    D.eval()
    x = (5 * torch.randn(500, 2)).requires_grad_(True)
    (g,) = torch.autograd.grad(D(x).sum(), x)
    assert g.norm(dim=1).max() <= 1 + 1e-3
    sigmas = [torch.linalg.matrix_norm(m.weight, ord=2) for m in D.net if hasattr(m, "weight")]
    assert all(abs(s.item() - 1) < 1e-3 for s in sigmas)
    assert set(D.state_dict()) != set(plain.state_dict())  # really reparameterised
