"""The diffusion chapter's U-Net: shape contract, conditioning, determinism, learning, loading."""

from __future__ import annotations

import pytest
import torch

from aigc_course.checkpoint import save_checkpoint
from aigc_course.loading import load_pretrained
from aigc_course.models.unet import UNet, UNetConfig, count_parameters, timestep_embedding


def _tiny(n_classes: int = 0, seed: int = 0) -> UNet:
    torch.manual_seed(seed)
    return UNet(UNetConfig.tiny(n_classes=n_classes))


@pytest.mark.parametrize("n_classes", [0, 10])
def test_output_has_the_input_shape(n_classes):
    m = _tiny(n_classes)
    x, t = torch.randn(3, 1, 28, 28), torch.rand(3)
    labels = torch.tensor([0, 5, 10]) if n_classes else None
    assert m(x, t, labels).shape == x.shape


def test_a_new_model_predicts_zero():
    # the last convolution starts at zero, so the first loss is the target's own scale
    assert torch.count_nonzero(_tiny()(torch.randn(2, 1, 28, 28), torch.rand(2))) == 0


def test_time_and_label_change_the_output():
    m = _tiny(10)
    torch.nn.init.normal_(m.conv_out.weight, std=0.1)
    x = torch.randn(2, 1, 28, 28)
    a = m(x, torch.full((2,), 0.1), torch.tensor([3, 3]))
    assert not torch.allclose(a, m(x, torch.full((2,), 0.9), torch.tensor([3, 3])))
    assert not torch.allclose(a, m(x, torch.full((2,), 0.1), torch.tensor([4, 4])))
    # no labels means the null label (index n_classes) of classifier-free guidance
    torch.testing.assert_close(
        m(x, torch.full((2,), 0.1)), m(x, torch.full((2,), 0.1), torch.tensor([10, 10]))
    )


def test_timestep_embedding_is_the_sinusoid():
    e = timestep_embedding(torch.tensor([0.0, 3.0]), 8)
    torch.testing.assert_close(e[0], torch.tensor([1.0] * 4 + [0.0] * 4))
    freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(4) / 4)
    torch.testing.assert_close(e[1], torch.cat([(3 * freqs).cos(), (3 * freqs).sin()]))


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"expects \(B, 1, 28, 28\)"):
        _tiny()(torch.randn(2, 1, 32, 32), torch.rand(2))
    with pytest.raises(ValueError, match="unconditional"):
        _tiny()(torch.randn(2, 1, 28, 28), torch.rand(2), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="groups"):
        UNetConfig(channels=(6, 16, 16), groups=4)


def test_seeded_construction_is_deterministic():
    a, b = _tiny(10, seed=3), _tiny(10, seed=3)
    for (na, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(pa, pb), na


def test_default_size_is_the_documented_one():
    m = UNet(UNetConfig(channels=(16, 32, 64), emb_dim=64, n_classes=10))
    assert 400_000 < count_parameters(m) < 800_000


def test_overfits_one_batch():
    # velocity regression on one fixed batch: the loss must fall by a large factor
    torch.manual_seed(0)
    m = _tiny(10)
    x0, noise = torch.rand(8, 1, 28, 28) * 2 - 1, torch.randn(8, 1, 28, 28)
    t, y = torch.rand(8), torch.arange(8)
    xt = (1 - t.view(-1, 1, 1, 1)) * x0 + t.view(-1, 1, 1, 1) * noise
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(150):
        loss = (m(xt, t, y) - (noise - x0)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 4, (losses[0], losses[-1])


def test_round_trip_through_the_loader(tmp_path):
    m = _tiny(10)
    torch.nn.init.normal_(m.conv_out.weight, std=0.1)
    save_checkpoint(
        tmp_path / "unet", m.state_dict(), {"family": "unet", "config": m.config.to_dict()}
    )
    back, meta = load_pretrained(tmp_path / "unet", device="cpu")
    x, t, y = torch.randn(2, 1, 28, 28), torch.rand(2), torch.tensor([1, 2])
    torch.testing.assert_close(back(x, t, y), m.eval()(x, t, y))
    assert isinstance(back, UNet) and back.config == m.config
