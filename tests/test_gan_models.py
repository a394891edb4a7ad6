import pytest
import torch
from torch import nn

from aigc_course.checkpoint import save_checkpoint
from aigc_course.loading import load_pretrained
from aigc_course.models.gan import (
    AffineGenerator,
    DCDiscriminator,
    DCGANConfig,
    DCGenerator,
    MLPDiscriminator,
    MLPGANConfig,
    MLPGenerator,
    TutorialDiscriminator,
    TutorialGenerator,
    build_dcgan,
    sample_images,
    to_signed,
    to_unit,
)


def test_dcgan_shapes_and_range():
    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    x = G(torch.randn(5, 8))
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (5,)


def test_default_config_shapes_and_size():
    G, D = build_dcgan(DCGANConfig(), seed=0)
    assert G(torch.randn(2, 64)).shape == (2, 1, 28, 28)
    n_g = sum(p.numel() for p in G.parameters())
    assert 300_000 < n_g < 1_000_000  # a few MB in fp32


def test_dcgan_init():
    G, D = build_dcgan(DCGANConfig(), seed=0)
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert w.mean().abs() < 1e-3 and w.std().item() == pytest.approx(0.02, rel=0.05)
    bn = [m for m in D.modules() if isinstance(m, nn.BatchNorm2d)][0]
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01) and bn.bias.abs().sum() == 0


def test_conditional_labels_matter_and_are_checked():
    G, D = build_dcgan(DCGANConfig.tiny(n_classes=10), seed=0)
    G.eval()
    z = torch.randn(4, 8)
    a, b = G(z, torch.tensor([1, 1, 1, 1])), G(z, torch.tensor([7, 7, 7, 7]))
    assert not torch.allclose(a, b)
    assert D(a, torch.tensor([0, 1, 2, 3])).shape == (4,)
    with pytest.raises(ValueError, match="labels"):
        G(z)
    with pytest.raises(ValueError, match="0..9"):
        G(z, torch.tensor([0, 1, 2, 10]))


def test_32x32_generator_is_rejected():
    """Common mistake 3: a 32×32 (or 64×64) DCGAN generator against 28×28 MNIST."""
    D = DCDiscriminator(DCGANConfig.tiny())
    with pytest.raises(ValueError, match="28"):
        D(torch.zeros(2, 1, 32, 32))


def test_tutorial_models_fit_28x28():
    G, D = TutorialGenerator(nz=100, ngf=8), TutorialDiscriminator(ndf=8)
    x = G(torch.randn(3, 100))
    assert x.shape == (3, 1, 28, 28)
    p = D(x).view(-1)
    assert p.shape == (3,) and ((p > 0) & (p < 1)).all()  # probabilities, for BCELoss


def test_mlp_and_affine_shapes():
    cfg = MLPGANConfig.tiny(data_dim=2)
    assert MLPGenerator(cfg)(torch.randn(7, 2)).shape == (7, 2)
    assert MLPDiscriminator(cfg)(torch.randn(7, 2)).shape == (7,)
    g = AffineGenerator(a=-2.0, b=1.0)
    assert g.std == 2.0 and g.mean == 1.0
    torch.testing.assert_close(g(torch.zeros(3, 1)), torch.ones(3, 1))


def test_range_maps_are_inverse():
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(to_unit(to_signed(x)), x)


def test_sampling_is_deterministic_and_save_load_round_trip(tmp_path):
    G, _ = build_dcgan(DCGANConfig.tiny(n_classes=10), seed=1)
    labels = torch.arange(6) % 10
    a = sample_images(G, 6, labels=labels, seed=3)
    assert a.shape == (6, 1, 28, 28) and 0 <= a.min() and a.max() <= 1
    torch.testing.assert_close(a, sample_images(G, 6, labels=labels, seed=3))
    assert not torch.allclose(a, sample_images(G, 6, labels=labels, seed=4))
    meta = {"family": "dcgan_generator", "config": G.config.to_dict()}
    save_checkpoint(tmp_path / "g", G.state_dict(), meta)
    G2, meta2 = load_pretrained(tmp_path / "g", device="cpu")  # built from the sidecar
    assert isinstance(G2, DCGenerator) and not G2.training and meta2["config"] == meta["config"]
    torch.testing.assert_close(sample_images(G2, 6, labels=labels, seed=3), a)


def test_helpers_that_take_a_model_have_no_device_argument():
    """The device follows the model: no public helper of the GAN chapter takes a device."""
    import inspect

    from aigc_course.metrics import image
    from aigc_course.models import gan
    from aigc_course.training import gan as training_gan

    for module in (gan, image, training_gan):
        for name, fn in vars(module).items():
            if (
                inspect.isfunction(fn)
                and not name.startswith("_")
                and fn.__module__ == module.__name__
            ):
                assert "device" not in inspect.signature(fn).parameters, f"{module.__name__}.{name}"
