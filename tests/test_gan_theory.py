import math

import numpy as np
import pytest
import torch
from scipy import integrate
from scipy.spatial.distance import jensenshannon

from aigc_course.theory import gan as th


def test_pointwise_maximiser_is_a_over_a_plus_b():
    for a, b in [(0.3, 0.7), (2.0, 0.5), (1.0, 1.0)]:
        assert th.pointwise_maximiser(a, b) == pytest.approx(a / (a + b), abs=2e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_theorem_exact_sums(seed):
    rng = np.random.default_rng(seed)
    p, q = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(7))
    out = th.check_theorem_discrete(p, q)
    assert out["gap"] < 1e-12
    assert out["best_other"] <= out["V_star"]  # D* maximises V for fixed G
    assert out["V_star"] > -math.log(4)  # p != q, so above the global minimum


def test_global_optimum_and_extremes():
    p = np.array([0.2, 0.3, 0.5])
    assert th.check_theorem_discrete(p, p)["V_star"] == pytest.approx(-math.log(4), abs=1e-12)
    assert th.jsd_discrete([1, 0], [0, 1]) == pytest.approx(math.log(2), abs=1e-12)
    # independent JSD: scipy returns the JS *distance* sqrt(JSD)
    q = np.array([0.6, 0.1, 0.3])
    assert th.jsd_discrete(p, q) == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-10)


def test_theorem_quadrature_gaussians_and_mixture():
    x = th.grid()
    p = th.gaussian_pdf(x, 0.0, 1.0)
    for q in (th.gaussian_pdf(x, 1.5, 0.7), th.mixture_pdf(x, [-2, 2], [0.5, 0.8], [0.3, 0.7])):
        assert th.integrate(q, x) == pytest.approx(1.0, abs=1e-9)
        out = th.check_theorem_quadrature(p, q, x)
        assert out["gap"] < 1e-8


def test_jsd_gaussians_against_scipy_quad():
    f = lambda t: (
        0.5
        * sum(
            a * math.log(a / (0.5 * (a + b))) if a > 0 else 0.0
            for a, b in ((p(t), q(t)), (q(t), p(t)))
        )
    )
    p = lambda t: th.gaussian_pdf(np.array(t), 0.0, 1.0)
    q = lambda t: th.gaussian_pdf(np.array(t), 2.0, 0.5)
    ref, _ = integrate.quad(f, -15, 15, limit=200)
    assert th.jsd_gaussians(0.0, 1.0, 2.0, 0.5) == pytest.approx(ref, rel=1e-7)


def test_closed_form_d_star_matches_ratio():
    x = np.linspace(-4, 4, 101)
    p, q = th.gaussian_pdf(x, 0.5, 1.0), th.gaussian_pdf(x, -1.0, 0.6)
    np.testing.assert_allclose(
        th.optimal_discriminator_gaussians(x, 0.5, 1.0, -1.0, 0.6),
        th.optimal_discriminator(p, q),
        rtol=1e-10,
    )


def test_generator_gradients_match_autograd():
    a = torch.linspace(-8, 8, 33, dtype=torch.float64, requires_grad=True)
    sat = torch.log1p(-torch.sigmoid(a)).sum()
    (g_sat,) = torch.autograd.grad(sat, a)
    ns = (-torch.log(torch.sigmoid(a))).sum()
    (g_ns,) = torch.autograd.grad(ns, a)
    out = th.generator_loss_gradients(torch.sigmoid(a).detach().numpy())
    np.testing.assert_allclose(out["saturating_logit"], g_sat.numpy(), atol=1e-12)
    np.testing.assert_allclose(out["non_saturating_logit"], g_ns.numpy(), atol=1e-12)
    # when D rejects fakes (D -> 0) the saturating gradient vanishes, the other does not
    weak = th.generator_loss_gradients(np.array([1e-4]))
    assert abs(weak["saturating_logit"][0]) < 1e-3 < abs(weak["non_saturating_logit"][0])
