import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from aigc_course.models.gan import (
    AffineGenerator,
    DCGANConfig,
    MLPDiscriminator,
    MLPGANConfig,
    MLPGenerator,
    build_dcgan,
)
from aigc_course.theory.gan import gaussian_pdf, optimal_discriminator
from aigc_course.training import gan as tr


def test_losses_equal_bce_with_logits():
    real, fake = torch.randn(16), torch.randn(16)
    ref = F.binary_cross_entropy_with_logits(
        real, torch.ones(16)
    ) + F.binary_cross_entropy_with_logits(fake, torch.zeros(16))
    torch.testing.assert_close(tr.discriminator_loss(real, fake), ref)
    ns = F.binary_cross_entropy_with_logits(fake, torch.ones(16))
    torch.testing.assert_close(tr.generator_loss(fake), ns)
    sat = -F.binary_cross_entropy_with_logits(fake, torch.zeros(16))  # E log(1 - D)
    torch.testing.assert_close(tr.generator_loss(fake, saturating=True), sat)


def test_sigmoid_bceloss_mistake_loses_the_gradient():
    """Common mistake 4: Sigmoid + BCELoss. A confidently wrong logit gives zero gradient
    (BCELoss clamps log(0) at -100) where BCEWithLogitsLoss gives the right one, -1."""
    a = torch.tensor([-150.0], requires_grad=True)
    wrong = nn.BCELoss()(torch.sigmoid(a), torch.ones(1))
    (g_wrong,) = torch.autograd.grad(wrong, a)
    b = torch.tensor([-150.0], requires_grad=True)
    right = nn.BCEWithLogitsLoss()(b, torch.ones(1))
    (g_right,) = torch.autograd.grad(right, b)
    assert wrong.item() == pytest.approx(100.0) and right.item() == pytest.approx(150.0)
    assert g_wrong.item() == 0.0 and g_right.item() == pytest.approx(-1.0)


def _toy(seed=0):
    torch.manual_seed(seed)
    cfg = MLPGANConfig(data_dim=1, latent_dim=1, hidden=32, n_layers=2)
    return AffineGenerator(a=1.0, b=-2.0), MLPDiscriminator(cfg)


def test_d_step_leaves_g_alone_and_g_step_leaves_d_alone():
    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    opt_G, opt_D = tr.make_optimizers(G, D)
    g0 = [p.clone() for p in G.parameters()]
    x, z = torch.rand(8, 1, 28, 28) * 2 - 1, torch.randn(8, 8)
    tr.update_D(G, D, opt_D, x, z)
    assert all(torch.equal(a, b) for a, b in zip(g0, G.parameters(), strict=True))
    assert all(p.grad is None for p in G.parameters())  # the fakes were detached
    d0 = [p.clone() for p in D.parameters()]
    tr.update_G(G, D, opt_G, z)
    assert all(torch.equal(a, b) for a, b in zip(d0, D.parameters(), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(g0, G.parameters(), strict=True))


def test_one_backward_over_summed_losses_gives_g_the_wrong_gradient():
    """Common mistake 2: backward of loss_D + loss_G without detaching. G then also
    descends loss_D, i.e. it is pushed to make its fakes *easier* to reject."""
    G, D = _toy()
    z, x = torch.randn(64, 1), torch.randn(64, 1) + 2
    fake = G(z)
    summed = tr.discriminator_loss(D(x), D(fake)) + tr.generator_loss(D(fake))
    g_summed = torch.autograd.grad(summed, G.b)[0]
    g_right = torch.autograd.grad(tr.generator_loss(D(G(z))), G.b)[0]
    assert not torch.allclose(g_summed, g_right, rtol=0.05)


def test_swapped_log_terms_learn_the_opposite():
    """Common mistake 1: the discriminator objective with log terms swapped (log D on fakes,
    log(1 - D) on real data) trains D to call the data fake."""
    G, D = _toy()
    x = torch.randn(2048, 1) + 2.0
    opt = torch.optim.Adam(D.parameters(), lr=1e-2)
    for _ in range(60):
        with torch.no_grad():
            fake = G(torch.randn(256, 1))
        idx = torch.randint(0, 2048, (256,))
        loss = tr.discriminator_loss(D(fake), D(x[idx]))  # swapped
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.sigmoid(D(x)).mean() < 0.2  # the real data now look "fake" to it


def test_discriminator_approaches_d_star():
    """Train D against a frozen affine G; compare with the closed form where both
    densities matter (|x - 0.5| <= 2.5)."""
    G, D = _toy()
    x = torch.randn(8192, 1) + 1.0  # p_data = N(1, 1)
    G.b.data.fill_(0.0)
    G.a.data.fill_(1.0)  # p_g = N(0, 1)
    losses = tr.train_discriminator(D, G, x, steps=400, batch_size=256, lr=3e-3)
    assert np.mean(losses[-50:]) < np.mean(losses[:10])
    grid = np.linspace(-2.0, 3.0, 101)
    d_star = optimal_discriminator(gaussian_pdf(grid, 1.0, 1.0), gaussian_pdf(grid, 0.0, 1.0))
    with torch.no_grad():
        d = torch.sigmoid(D(torch.tensor(grid, dtype=torch.float32)[:, None])).numpy()
    assert np.abs(d - d_star).max() < 0.1


def test_gradient_penalty_of_linear_critic():
    w = torch.tensor([3.0, 4.0])  # ‖w‖ = 5, so the penalty is (5 - 1)² = 16
    critic = lambda x, y=None: x @ w
    gp = tr.gradient_penalty(critic, torch.randn(10, 2), torch.randn(10, 2))
    assert gp.item() == pytest.approx(16.0)
    critic1 = lambda x, y=None: x @ (w / 5)
    assert tr.gradient_penalty(critic1, torch.randn(10, 2), torch.randn(10, 2)).item() < 1e-10


@pytest.mark.parametrize("loss", ["bce", "wgan-gp"])
def test_train_gan_is_deterministic(loss):
    def run():
        torch.manual_seed(0)
        G, D = MLPGenerator(MLPGANConfig.tiny()), MLPDiscriminator(MLPGANConfig.tiny())
        h = tr.train_gan(G, D, torch.randn(256, 2), steps=5, batch_size=32, loss=loss,
                         n_critic=2, seed=3, progress=False)  # fmt: skip
        return h, torch.cat([p.flatten() for p in G.parameters()])

    (h1, p1), (h2, p2) = run(), run()
    assert h1.loss_D == h2.loss_D and h1.loss_G == h2.loss_G and len(h1.loss_D) == 5
    torch.testing.assert_close(p1, p2, rtol=0, atol=0)


def test_train_gan_conditional_with_snapshots_and_time_limit():
    cfg = DCGANConfig.tiny(n_classes=10)
    G, D = build_dcgan(cfg, seed=0)
    x, y = torch.rand(64, 1, 28, 28) * 2 - 1, torch.arange(64) % 10
    g0 = G(torch.zeros(2, 8), torch.tensor([0, 1])).detach()
    fz, fy = torch.randn(3, 8), torch.tensor([0, 1, 2])
    h = tr.train_gan(G, D, x, y, n_classes=10, steps=4, batch_size=16, progress=False,
                     fixed_z=fz, fixed_y=fy, snapshot_every=2)  # fmt: skip
    assert [s for s, _ in h.snapshots] == [0, 2, 4] and h.snapshots[0][1].shape == (3, 1, 28, 28)
    assert not torch.allclose(g0, G.eval()(torch.zeros(2, 8), torch.tensor([0, 1])))
    assert all(math.isfinite(v) for v in h.loss_D + h.loss_G)
    h2 = tr.train_gan(*build_dcgan(cfg), x, y, n_classes=10, steps=1000, batch_size=16,
                      progress=False, max_seconds=0.0)  # fmt: skip
    assert h2.steps == 1
    with pytest.raises(ValueError, match="labels"):
        tr.train_gan(G, D, x, steps=1, progress=False, n_classes=10)


def test_discriminator_loss_falls_on_one_batch():
    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    opt_G, opt_D = tr.make_optimizers(G, D, lr=2e-3)
    x, z = torch.rand(16, 1, 28, 28) * 2 - 1, torch.randn(16, 8)
    first = tr.update_D(G, D, opt_D, x, z)["loss_D"]
    for _ in range(30):
        last = tr.update_D(G, D, opt_D, x, z)["loss_D"]
    assert last < first / 3


@pytest.mark.gpu
def test_train_gan_on_cuda():
    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    h = tr.train_gan(G, D, torch.rand(64, 1, 28, 28) * 2 - 1, steps=3, batch_size=16,
                     device="cuda", progress=False)  # fmt: skip
    assert h.steps == 3 and all(math.isfinite(v) for v in h.loss_G)


@pytest.mark.parametrize("loss", ["bce", "wgan-gp"])
def test_train_ring_gan_records_coverage(loss):
    out = tr.train_ring_gan(loss, seed=0, steps=4, hidden=8, batch_size=32, eval_every=2,
                            n_eval=50)  # fmt: skip
    assert out["samples"].shape == (50, 2) and [c[0] for c in out["coverage"]] == [2, 4]
    assert all(0 <= c[1] <= 8 and 0.0 <= c[2] <= 1.0 for c in out["coverage"])


def test_train_gan_checkpoints_both_players(tmp_path):
    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    x = torch.rand(32, 1, 28, 28) * 2 - 1
    tr.train_gan(G, D, x, steps=3, batch_size=8, progress=False,
                 checkpoint_path=tmp_path / "run", checkpoint_every=2)  # fmt: skip
    G2, D2 = build_dcgan(DCGANConfig.tiny(), seed=1)
    assert tr.load_gan_checkpoint(tmp_path / "run", G2, D2) == 3
    before = [*G.state_dict().values(), *D.state_dict().values()]
    after = [*G2.state_dict().values(), *D2.state_dict().values()]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
