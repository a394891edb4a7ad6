"""Two common DCGAN mistakes, measured as notebook 02 shows them."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from aigc_course.models.gan import DCGANConfig, build_dcgan
from aigc_course.training.gan import make_optimizers


def _bceloss_grad(a: float) -> float:
    logit = torch.tensor([a], requires_grad=True)
    loss = nn.BCELoss()(torch.sigmoid(logit), torch.ones(1))
    (g,) = torch.autograd.grad(loss, logit)
    return g.item()


def test_sigmoid_bceloss_gradient_fades_from_a_logit_of_about_minus_28():
    """BCELoss's backward divides by max(x(1 − x), 1e-12): below a ≈ log 1e-12 ≈ −27.6
    the clamp wins and the gradient shrinks like 1e12·e^a; from about −89 σ(a) is 0 in
    float32 and the gradient is exactly 0. BCEWithLogitsLoss gives −1 throughout."""
    assert _bceloss_grad(-20.0) == pytest.approx(-1.0, abs=1e-6)
    assert _bceloss_grad(-27.0) == pytest.approx(-1.0, abs=1e-3)
    for a in (-28.0, -30.0, -35.0):
        assert _bceloss_grad(a) == pytest.approx(-1e12 * math.exp(a), rel=1e-3)
    assert abs(_bceloss_grad(-40.0)) < 1e-5 and _bceloss_grad(-100.0) == 0.0
    logit = torch.tensor([-28.0, -40.0, -100.0], requires_grad=True)
    loss = nn.BCEWithLogitsLoss(reduction="sum")(logit, torch.ones(3))
    (g,) = torch.autograd.grad(loss, logit)
    torch.testing.assert_close(g, -torch.ones(3))


@pytest.mark.parametrize("d", [0.05, 0.2, 0.5, 0.8, 0.95])
def test_summed_backward_sends_2d_minus_1_per_fake_logit(d):
    """One backward over loss_D + loss_G: per fake logit both players get 2D − 1 (G's own
    loss gives D − 1, D's own fake term gives D)."""
    a = torch.tensor(math.log(d / (1 - d)), dtype=torch.float64, requires_grad=True)
    (summed,) = torch.autograd.grad(F.softplus(a) + F.softplus(-a), a)
    (own_G,) = torch.autograd.grad(F.softplus(-a), a)
    (own_D,) = torch.autograd.grad(F.softplus(a), a)
    assert summed.item() == pytest.approx(2 * d - 1)
    assert own_G.item() == pytest.approx(d - 1) and own_D.item() == pytest.approx(d)
    assert (summed.item() < 0) == (d < 0.5)  # same direction as G's own while D(G(z)) < ½


def test_summed_backward_pins_d_on_fakes_at_one_half():
    torch.manual_seed(0)
    x = torch.rand(256, 1, 28, 28) * 2 - 1
    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    opt_G, opt_D = make_optimizers(G, D)
    d_fake = []
    for _ in range(40):
        xb = x[torch.randint(0, 256, (32,))]
        a_r, a_f = D(xb), D(G(torch.randn(32, G.config.latent_dim)))
        loss = F.softplus(-a_r).mean() + F.softplus(a_f).mean() + F.softplus(-a_f).mean()
        opt_G.zero_grad()
        opt_D.zero_grad()
        loss.backward()
        opt_G.step()
        opt_D.step()
        d_fake.append(torch.sigmoid(a_f).mean().item())
    assert abs(sum(d_fake[-10:]) / 10 - 0.5) < 0.02
    assert torch.sigmoid(D(x)).mean() > 0.7  # D still learns the real side


def _adam_first_step_holds(step) -> bool:
    """Notebook 02's smoke check: one generator step from a fresh Adam moves every weight
    by −lr·g/(|g| + eps), g the gradient of −log D(G(z)) computed independently."""
    import copy

    G_a, D_a = build_dcgan(DCGANConfig.tiny(), seed=0)
    G_b, D_b = copy.deepcopy(G_a), copy.deepcopy(D_a)
    z = torch.randn(16, G_a.config.latent_dim, generator=torch.Generator().manual_seed(3))
    grads = torch.autograd.grad(F.softplus(-D_b(G_b(z))).mean(), list(G_b.parameters()))
    opt, _ = make_optimizers(G_a, D_a)
    step(G_a, D_a, opt, z)
    return all(
        torch.allclose(p_a, p_b - 2e-4 * g / (g.abs() + 1e-8), rtol=0, atol=1e-6)
        for p_a, p_b, g in zip(G_a.parameters(), G_b.parameters(), grads, strict=True)
    )


def _g_step(detach=False, backward=True, step=True):
    def run(G, D, opt, z):
        fake = G(z).detach() if detach else G(z)
        loss = F.softplus(-D(fake)).mean()
        opt.zero_grad()
        if backward and loss.requires_grad:
            loss.backward()
        if step:
            opt.step()

    return run


def test_the_notebooks_smoke_check_fails_for_a_broken_generator_step():
    from aigc_course.training.gan import update_G

    assert _adam_first_step_holds(update_G)
    assert _adam_first_step_holds(_g_step())
    for broken in (dict(detach=True), dict(backward=False), dict(step=False)):
        assert not _adam_first_step_holds(_g_step(**broken)), broken
