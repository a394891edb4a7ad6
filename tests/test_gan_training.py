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
    TutorialDiscriminator,
    TutorialGenerator,
    build_dcgan,
    sample_images,
)
from aigc_course.theory.gan import gaussian_pdf, optimal_discriminator
from aigc_course.training import gan as tr
from aigc_course.training.core import (
    Checkpoint,
    LambdaCallback,
    TrainConfig,
    load_training_checkpoint,
)
from aigc_course.training.gan import GANTrainConfig, fixed_noise


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
    """Common mistake 4: Sigmoid + BCELoss. At a logit of -150 the float32 sigmoid is
    exactly 0, so the gradient is 0 (and the loss is capped at 100 by BCELoss's clamp of the
    log at -100), where BCEWithLogitsLoss gives the right gradient, -1. The fade starts far
    earlier, near -28: see tests/test_gan_mistakes.py."""
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
    hist = tr.train_discriminator(D, G, x, TrainConfig(steps=400, batch_size=256, lr=3e-3))
    losses = hist["loss_D"]
    assert len(losses) == 400 and np.mean(losses[-50:]) < np.mean(losses[:10])
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


def _mlp_pair(seed=0):
    torch.manual_seed(seed)
    return MLPGenerator(MLPGANConfig.tiny()), MLPDiscriminator(MLPGANConfig.tiny())


@pytest.mark.parametrize("loss", ["bce", "wgan-gp"])
def test_train_gan_is_deterministic(loss):
    cfg = GANTrainConfig(steps=5, batch_size=32, loss=loss, n_critic=2, seed=3)

    def run():
        G, D = _mlp_pair()
        h = tr.train_gan(G, D, torch.randn(256, 2), cfg=cfg)
        return h, torch.cat([p.flatten() for p in G.parameters()])

    (h1, p1), (h2, p2) = run(), run()
    assert set(h1.metrics) == {"loss_D", "loss_G", "D_real", "D_fake"}
    assert h1["loss_D"] == h2["loss_D"] and h1["loss_G"] == h2["loss_G"]
    assert len(h1["loss_D"]) == 5 and h1.steps == 5
    torch.testing.assert_close(p1, p2, rtol=0, atol=0)


def test_train_gan_conditional_with_snapshots():
    cfg = DCGANConfig.tiny(n_classes=10)
    G, D = build_dcgan(cfg, seed=0)
    x, y = torch.rand(64, 1, 28, 28) * 2 - 1, torch.arange(64) % 10
    g0 = G(torch.zeros(2, 8), torch.tensor([0, 1])).detach()
    snaps = fixed_noise(torch.randn(3, 8), torch.tensor([0, 1, 2]), every=2)
    h = tr.train_gan(G, D, x, y, GANTrainConfig(steps=4, batch_size=16), callbacks=[snaps])
    assert [s for s, _ in h.snapshots] == [0, 2, 4] and h.snapshots[0][1].shape == (3, 1, 28, 28)
    assert not torch.allclose(g0, G.eval()(torch.zeros(2, 8), torch.tensor([0, 1])))
    assert all(math.isfinite(v) for v in h["loss_D"] + h["loss_G"])
    with pytest.raises(ValueError, match="labels"):
        tr.train_gan(G, D, x, cfg=GANTrainConfig(steps=1))  # conditional G, no labels
    with pytest.raises(ValueError, match="labels"):
        tr.train_gan(*_mlp_pair(), torch.randn(8, 2), torch.zeros(8).long(), GANTrainConfig())


def test_max_seconds_stops_training():
    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    x = torch.rand(64, 1, 28, 28) * 2 - 1
    cfg = GANTrainConfig(steps=100_000, batch_size=16, max_seconds=0.3)
    h = tr.train_gan(G, D, x, cfg=cfg)
    assert 1 <= h.steps < 100_000 and 0.3 <= h.seconds < 5.0
    h1 = tr.train_gan(G, D, x, cfg=GANTrainConfig(steps=1000, batch_size=16, max_seconds=1e-9))
    assert h1.steps == 1


def test_training_continues_a_history():
    G, D = _mlp_pair()
    x = torch.randn(128, 2)
    h = tr.train_gan(G, D, x, cfg=GANTrainConfig(steps=3, batch_size=16))
    h = tr.train_gan(G, D, x, cfg=GANTrainConfig(steps=2, batch_size=16), history=h)
    assert h.steps == 5 and len(h["loss_G"]) == 5


def test_callbacks_see_each_step_and_the_saturating_loss_is_used():
    G, D = _mlp_pair()
    seen = []
    cb = LambdaCallback(lambda state: seen.append((state.step, state.last["loss_G"])))
    cfg = GANTrainConfig(steps=3, batch_size=16, saturating=True)
    h = tr.train_gan(G, D, torch.randn(64, 2), cfg=cfg, callbacks=[cb])
    assert [s for s, _ in seen] == [1, 2, 3] and [v for _, v in seen] == h["loss_G"]
    assert all(v < 0 for v in h["loss_G"])  # log(1 - D) < 0: the minimax form


def test_discriminator_loss_falls_on_one_batch():
    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    opt_G, opt_D = tr.make_optimizers(G, D, lr=2e-3)
    x, z = torch.rand(16, 1, 28, 28) * 2 - 1, torch.randn(16, 8)
    first = tr.update_D(G, D, opt_D, x, z)["loss_D"]
    for _ in range(30):
        last = tr.update_D(G, D, opt_D, x, z)["loss_D"]
    assert last < first / 3


def test_device_follows_the_models():
    """The loop computes where the models are and never moves them: its inputs reach D on
    D's device, and models on the 'meta' device stay there (and fail there, since nothing
    can be computed on meta) rather than being moved to the CPU."""
    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    seen = set()
    D.register_forward_hook(lambda m, inp, out: seen.add((inp[0].device, out.device)))
    x = torch.rand(32, 1, 28, 28, dtype=torch.float32) * 2 - 1
    tr.train_gan(G, D, x, cfg=GANTrainConfig(steps=2, batch_size=8))
    assert seen == {(torch.device("cpu"), torch.device("cpu"))}
    G.to("meta")
    D.to("meta")
    with pytest.raises(RuntimeError):
        tr.train_gan(G, D, x, cfg=GANTrainConfig(steps=2, batch_size=8))
    assert all(p.device.type == "meta" for p in [*G.parameters(), *D.parameters()])
    G2, D2 = build_dcgan(DCGANConfig.tiny(), seed=0)
    with pytest.raises(ValueError, match="one device"):
        tr.train_gan(G2, D.to("meta"), x, cfg=GANTrainConfig(steps=1))


@pytest.mark.parametrize("loss", ["bce", "wgan-gp"])
def test_train_ring_gan_records_coverage(loss):
    out = tr.train_ring_gan(loss, seed=0, steps=4, hidden=8, batch_size=32, eval_every=2, n_eval=50)
    assert out["samples"].shape == (50, 2) and [c[0] for c in out["coverage"]] == [2, 4]
    assert all(0 <= c[1] <= 8 and 0.0 <= c[2] <= 1.0 for c in out["coverage"])
    assert out["history"].steps == 4


def test_checkpoint_callback_restores_both_players_bit_exactly(tmp_path):
    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    x = torch.rand(32, 1, 28, 28) * 2 - 1
    saved_at = []
    ckpt = Checkpoint(tmp_path / "run", every=2)
    spy = LambdaCallback(lambda state: saved_at.append((tmp_path / "run.json").exists()))
    tr.train_gan(G, D, x, cfg=GANTrainConfig(steps=3, batch_size=8), callbacks=[ckpt, spy])
    assert saved_at == [False, True, True]  # every 2 steps, then at the end
    G2, D2 = build_dcgan(DCGANConfig.tiny(), seed=1)
    assert load_training_checkpoint(tmp_path / "run", {"G": G2, "D": D2}) == 3
    for a, b in ((G, G2), (D, D2)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)  # buffers (BatchNorm) included


def test_reference_loop_runs_on_the_models_device_and_stops():
    torch.manual_seed(0)
    G, D = TutorialGenerator(nz=100, ngf=8), TutorialDiscriminator(ndf=8)
    x = torch.rand(40, 1, 28, 28) * 2 - 1
    h = tr.train_reference_dcgan(G, D, x, TrainConfig(steps=7, batch_size=16))
    assert h.steps == 7 and set(h.metrics) == {"loss_D", "loss_G", "D_real", "D_fake"}
    assert all(0 < v < 1 for v in h["D_real"])  # probabilities: it ends in a Sigmoid
    h = tr.train_reference_dcgan(G, D, x, TrainConfig(steps=10**6, batch_size=16, max_seconds=0.2))
    assert h.steps < 10**6


# ----------------------------------------------------------------------------- on a GPU


def _cuda_pair(n_classes=0):
    G, D = build_dcgan(DCGANConfig.tiny(n_classes=n_classes), seed=0)
    return G.to("cuda"), D.to("cuda")


@pytest.mark.gpu
@pytest.mark.parametrize("loss", ["bce", "wgan-gp"])
def test_train_gan_on_cuda(loss):
    G, D = _cuda_pair()
    x = torch.rand(64, 1, 28, 28) * 2 - 1  # on the CPU: the loop moves it to G's device
    cfg = GANTrainConfig(steps=3, batch_size=16, loss=loss, n_critic=2)
    h = tr.train_gan(G, D, x, cfg=cfg, callbacks=[fixed_noise(torch.randn(4, 8), every=1)])
    assert h.steps == 3 and all(math.isfinite(v) for v in h["loss_G"] + h["loss_D"])
    assert next(G.parameters()).device.type == "cuda"
    assert G.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert all(s.device.type == "cpu" for _, s in h.snapshots)


@pytest.mark.gpu
def test_train_conditional_gan_on_cuda():
    G, D = _cuda_pair(n_classes=10)
    x, y = torch.rand(64, 1, 28, 28) * 2 - 1, torch.arange(64) % 10
    h = tr.train_gan(G, D, x, y, GANTrainConfig(steps=3, batch_size=16))
    assert h.steps == 3 and all(math.isfinite(v) for v in h["loss_G"])


@pytest.mark.gpu
def test_fp16_precision_path_scales_the_gan_losses(monkeypatch):
    """On a GPU without native bf16 the loop runs fp16 autocast with a gradient scaler;
    forced here on any GPU."""
    import aigc_course.device as dev

    monkeypatch.setattr(dev, "bf16_is_native", lambda device: False)
    made = []

    class Spy(dev.Precision):
        def __init__(self, device):
            super().__init__(device)
            made.append(self)

    monkeypatch.setattr(tr, "Precision", Spy)
    G, D = _cuda_pair()
    h = tr.train_gan(G, D, torch.rand(64, 1, 28, 28) * 2 - 1, cfg=GANTrainConfig(steps=4))
    assert len(made) == 2 and all(p.dtype == torch.float16 and p.scaler for p in made)
    assert all(p.scaler.get_scale() > 0 for p in made)
    assert h.steps == 4 and all(math.isfinite(v) for v in h["loss_D"] + h["loss_G"])


@pytest.mark.gpu
def test_sample_images_follows_the_model_to_cuda():
    G, _ = build_dcgan(DCGANConfig.tiny(n_classes=10), seed=1)
    labels = torch.arange(6) % 10
    on_cpu = sample_images(G, 6, labels=labels, seed=3)
    on_gpu = sample_images(G.to("cuda"), 6, labels=labels, seed=3)
    assert on_gpu.device.type == "cpu" and next(G.parameters()).device.type == "cuda"
    torch.testing.assert_close(on_gpu, on_cpu, atol=1e-4, rtol=0)
