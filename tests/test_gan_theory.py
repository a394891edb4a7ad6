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
    assert out["V_star"] > -math.log(4)  # p != q, so above the global minimum
    d_star = th.optimal_discriminator(p, q)
    # D* maximises V: an optimiser that knows no formula finds it, no coordinate move helps,
    # and the same test catches D* shrunk 20 % towards 1/2
    assert np.abs(th.maximise_value_numerically(p, q) - d_star).max() < 1e-6
    assert th.best_coordinate_gain(d_star, p, q) <= 0
    assert th.best_coordinate_gain(0.5 + 0.8 * (d_star - 0.5), p, q) > 0


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


def test_non_saturating_loss_follows_kl_minus_two_jsd():
    for args in [(1.5, 0.6, 0.0, 1.0), (0.0, 1.0, -2.0, 0.5)]:
        g = th.generator_gradients_against_d_star(*args)
        assert g["ns"] == pytest.approx(g["kl_minus_2jsd"], abs=1e-6)
        assert g["sat"] == pytest.approx(g["two_jsd"], abs=1e-6)
        assert abs(g["ns"] - g["two_jsd"]) > 0.1  # different divergences


def test_reverse_kl_objective_prefers_one_mode():
    x = th.grid()
    p = th.mixture_pdf(x, [-2.0, 2.0], [0.5, 0.5], [0.5, 0.5])
    one = th.divergences_quadrature(p, th.gaussian_pdf(x, 2.0, 0.5), x)
    spread = th.divergences_quadrature(p, th.gaussian_pdf(x, 0.0, math.sqrt(4.25)), x)
    assert one["KL(p_g||p_data) - 2 JSD"] < spread["KL(p_g||p_data) - 2 JSD"]
    assert one["KL(p_data||p_g)"] > spread["KL(p_data||p_g)"]
    assert one["KL(p_g||p_data)"] == pytest.approx(math.log(2), abs=1e-3)


def test_bilinear_game_spirals_or_cycles():
    sim = th.bilinear_game(0.1, 100, alternating=False)
    r = np.hypot(sim[:, 0], sim[:, 1])
    np.testing.assert_allclose(r, (1 + 0.01) ** (np.arange(101) / 2), rtol=1e-12)
    alt = th.bilinear_game(0.1, 5000, alternating=True)
    assert np.abs(alt).max() < 1.1 and np.hypot(*alt[-1]) > 0.9


def test_value_mc_matches_log_sigmoid():
    a, b = np.array([-3.0, 0.0, 2.0]), np.array([1.0, -1.0])
    sig = lambda t: 1 / (1 + np.exp(-t))
    want = np.log(sig(a)).mean() + np.log(1 - sig(b)).mean()
    assert th.value_mc(a, b) == pytest.approx(want, rel=1e-12)
