"""VAE model, loss, importance-weighted bound and training loop."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from aigc_course.checkpoint import load_checkpoint, save_checkpoint
from aigc_course.models.vae import VAE, VAEConfig, VAEOutput, count_parameters
from aigc_course.training.core import History, LambdaCallback
from aigc_course.training.vae import (
    VAETrainConfig,
    binarize,
    epoch_means,
    evaluate_elbo,
    fit_vae,
    fixed_binarization,
    iwae_log_likelihood,
    negative_elbo,
    steps_per_epoch,
    val_elbo,
)


def _images(n: int = 64, seed: int = 0) -> torch.Tensor:
    """(n, 1, 28, 28) intensities: 4 blurry prototypes plus noise, a cheap stand-in for digits."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.zeros(4, 1, 28, 28)
    protos[0, :, 4:24, 12:16] = 1  # a bar
    protos[1, :, 12:16, 4:24] = 1  # a dash
    protos[2, :, 6:22, 6:22] = 1
    protos[2, :, 10:18, 10:18] = 0  # a ring
    protos[3, :, 4:24, 4:24] = torch.eye(20)  # a diagonal
    idx = torch.arange(n) % 4
    x = 0.96 * protos[idx] + 0.02 + 0.02 * torch.rand(n, 1, 28, 28, generator=g)
    return x.clamp(0, 1)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_shapes(arch):
    model = VAE(VAEConfig.tiny(arch, latent_dim=3))
    x = binarize(_images(5))
    out = model(x)
    assert isinstance(out, VAEOutput)
    assert out.recon_logits.shape == (5, 1, 28, 28)
    assert out.mu.shape == out.logvar.shape == (5, 3)
    assert model.decode(torch.zeros(2, 7, 3)).shape == (2, 7, 1, 28, 28)
    samples = model.sample(6, torch.Generator().manual_seed(0))
    assert samples.shape == (6, 1, 28, 28) and samples.dtype == torch.float32
    assert 0 <= samples.min() and samples.max() <= 1


def test_reference_config_is_the_pytorch_example_model():
    model = VAE(VAEConfig.pytorch_example())
    # 784-400-(20+20) encoder, 20-400-784 decoder
    expected = (784 * 400 + 400) + (400 * 40 + 40) + (20 * 400 + 400) + (400 * 784 + 784)
    assert count_parameters(model) == expected


def test_config_validation_and_round_trip():
    with pytest.raises(ValueError, match="arch"):
        VAEConfig(arch="rnn")
    with pytest.raises(ValueError, match="latent_dim"):
        VAEConfig(latent_dim=0)
    cfg = VAEConfig(arch="conv", latent_dim=8, channels=(8, 16))
    assert VAEConfig.from_dict(cfg.to_dict()) == cfg


def test_negative_elbo_is_per_image_sum_over_pixels_and_latents():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 1, 28, 28, generator=g)
    x = torch.bernoulli(torch.full((3, 1, 28, 28), 0.3), generator=g)
    mu, logvar = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)
    terms = negative_elbo(logits, x, mu, logvar)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 3
    kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum() / 3
    assert_close(terms.recon, recon)
    assert_close(terms.kl, kl)
    assert_close(terms.loss, recon + kl)
    # untrained decoder (logits 0) costs log 2 per pixel: 543.4 nats per image
    zero = negative_elbo(torch.zeros_like(logits), x, torch.zeros_like(mu), torch.zeros_like(mu))
    assert_close(zero.loss, torch.tensor(784 * 0.6931472))


def test_mean_over_pixels_silently_reweights_the_kl():
    """reduction='mean' divides the reconstruction by 784 but not the KL: it is the
    beta = 784 objective rescaled, not the ELBO."""
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 1, 28, 28, generator=g)
    x = torch.bernoulli(torch.full((4, 1, 28, 28), 0.5), generator=g)
    mu, logvar = torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g)
    kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum(1).mean()
    wrong = F.binary_cross_entropy_with_logits(logits, x) + kl
    right = negative_elbo(logits, x, mu, logvar)
    assert not torch.isclose(wrong * 784, right.loss)
    assert_close(wrong * 784, negative_elbo(logits, x, mu, logvar, beta=784.0).loss)


def test_binarisation_protocol():
    x = _images(16)
    a, b = fixed_binarization(x), fixed_binarization(x)
    assert torch.equal(a, b)  # one fixed test binarisation
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(binarize(x), binarize(x))  # dynamic: fresh every call
    big = fixed_binarization(torch.full((1, 1, 28, 28), 0.25).expand(400, 1, 28, 28))
    assert abs(big.mean().item() - 0.25) < 0.01


def test_iwae_increases_with_k_and_lies_above_the_elbo():
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny(latent_dim=2))
    fit_vae(model, _images(64), VAETrainConfig(steps=8, batch_size=32, lr=3e-3))
    x = fixed_binarization(_images(24, seed=1))
    elbo = evaluate_elbo(model, x)["elbo"]
    bounds = {k: iwae_log_likelihood(model, x, k, seed=k).mean().item() for k in (1, 10, 100)}
    assert abs(bounds[1] - elbo) < 0.02 * abs(elbo)  # L_1 is the ELBO (up to noise)
    tol = 0.05  # nats: estimates of expectations, not exact values
    assert bounds[1] < bounds[10] - tol and bounds[10] < bounds[100] - tol
    assert bounds[100] > elbo


def test_iwae_chunking_does_not_change_the_estimate_much():
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny())
    x = fixed_binarization(_images(20))
    a = iwae_log_likelihood(model, x, 64, batch_size=10, max_rows=10 * 64).mean()
    b = iwae_log_likelihood(model, x, 64, batch_size=10, max_rows=10 * 7).mean()
    assert abs(a - b) < 0.01 * abs(a)
    with pytest.raises(ValueError, match="k must be"):
        iwae_log_likelihood(model, x, 0)


@pytest.mark.parametrize(("arch", "factor"), [("mlp", 4.0), ("conv", 2.0)])
def test_overfits_a_batch(arch, factor):
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny(arch))
    x = _images(32)
    hist = fit_vae(model, x, VAETrainConfig(steps=40, batch_size=32, lr=1e-2))
    first, last = hist["loss"][0], hist["loss"][-1]
    assert last < first / factor, (first, last)


def test_training_is_deterministic_given_the_seed():
    def run(seed: int) -> torch.Tensor:
        torch.manual_seed(0)
        model = VAE(VAEConfig.tiny())
        fit_vae(model, _images(48), VAETrainConfig(steps=6, batch_size=16, seed=seed))
        return model.sample(4, torch.Generator().manual_seed(0))

    assert torch.equal(run(0), run(0))
    assert not torch.equal(run(0), run(1))


def test_max_seconds_stops_training_and_evaluation_is_off_the_clock():
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny())
    x = _images(32)
    cfg = replace(VAETrainConfig.tiny(), steps=100_000, max_seconds=0.3, cosine=True)
    hist = fit_vae(model, x, cfg, callbacks=[val_elbo(fixed_binarization(x[:8]), every=1)])
    assert 0 < hist.steps < 100_000 and 0.3 <= hist.seconds < 5
    steps, values = hist.eval_curve("val_elbo")
    assert steps == list(range(1, hist.steps + 1))  # every step, and not again at the end
    assert all(v < 0 for v in values)
    assert len(hist["loss"]) == len(hist["recon"]) == len(hist["kl"]) == hist.steps


def test_cosine_schedule_follows_the_time_budget(monkeypatch):
    """With ``max_seconds`` the learning rate decays over the budget, not over ``steps``."""
    made = []

    class SpyAdam(torch.optim.Adam):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(torch.optim, "Adam", SpyAdam)
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny())
    lrs = []
    cb = LambdaCallback(lambda state: lrs.append(made[0].param_groups[0]["lr"]))
    cfg = replace(VAETrainConfig.tiny(), steps=10**6, max_seconds=0.5, cosine=True, lr=1e-2)
    fit_vae(model, _images(32), cfg, callbacks=[cb])
    assert lrs[0] > 0.9e-2  # starts at lr
    assert lrs[-1] < 0.3e-2  # and has decayed most of the way when the budget ends


def test_epochs_helpers_and_history_continues():
    assert steps_per_epoch(100, 32) == 4
    # passes of 3 images in batches of 2: weights 2 and 1; a partial pass at the end
    assert epoch_means([1.0, 4.0, 5.0, 8.0, 9.0], 3, 2) == [2.0, 6.0, 9.0]
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny())
    hist = fit_vae(model, _images(32), VAETrainConfig.tiny())
    assert isinstance(hist, History) and hist.steps == 4
    hist = fit_vae(model, _images(32), VAETrainConfig.tiny(), history=hist)
    assert hist.steps == 8 and len(hist["loss"]) == 8


def test_one_pass_visits_every_image_once(monkeypatch):
    """Batches follow a fresh permutation per pass: each epoch sees every image once."""
    import aigc_course.training.vae as tv

    seen = []

    def spy(xb, generator=None):
        seen.append(xb[:, 0, 0, 0].tolist())
        return torch.bernoulli(xb, generator=generator)

    monkeypatch.setattr(tv, "binarize", spy)
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny())
    x = (torch.arange(40.0) / 40).view(40, 1, 1, 1).expand(40, 1, 28, 28).contiguous()
    per_epoch = steps_per_epoch(40, 16)
    fit_vae(model, x, VAETrainConfig(steps=2 * per_epoch, batch_size=16))
    assert [len(b) for b in seen] == [16, 16, 8, 16, 16, 8]
    first, second = sum(seen[:3], []), sum(seen[3:], [])
    assert sorted(first) == sorted(second) == sorted((torch.arange(40.0) / 40).tolist())
    assert first != second  # a fresh order each pass


def test_kl_warmup_scales_the_kl_in_the_loss():
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny())
    hist = fit_vae(model, _images(32), VAETrainConfig(steps=4, batch_size=32, kl_warmup_steps=4))
    terms = zip(hist["loss"], hist["recon"], hist["kl"], strict=True)
    for i, (loss, recon, kl) in enumerate(terms):
        assert loss == pytest.approx(recon + (i + 1) / 4 * kl, rel=1e-5)


def test_device_follows_the_model_on_the_cpu():
    """A model on the CPU with data on the CPU trains there and stays there."""
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny())
    before = [p.detach().clone() for p in model.parameters()]
    fit_vae(model, _images(32), VAETrainConfig.tiny())
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    ll = iwae_log_likelihood(model, fixed_binarization(_images(4)), 3)
    assert ll.device.type == "cpu"


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    cfg = VAEConfig.tiny("conv")
    model = VAE(cfg)
    save_checkpoint(tmp_path / "vae", model.state_dict(), {"config": cfg.to_dict()})
    state, meta = load_checkpoint(tmp_path / "vae")
    clone = VAE(VAEConfig.from_dict(meta["config"]))
    clone.load_state_dict(state)
    x = binarize(_images(4), torch.Generator().manual_seed(0))
    assert_close(clone.encode(x), model.encode(x))


def test_train_config_is_frozen_and_validated():
    cfg = VAETrainConfig.tiny()
    with pytest.raises(AttributeError):
        cfg.beta = 2.0
    with pytest.raises(ValueError, match="max_seconds"):
        VAETrainConfig(max_seconds=0)
    assert "time_budget_s" not in cfg.to_dict() and "clock" not in cfg.to_dict()


@pytest.mark.gpu
def test_trains_and_evaluates_on_cuda():
    """A few steps under the GPU's precision policy (bf16 or fp16 + scaler); data given
    on the CPU; evaluation follows the model to CUDA."""
    from aigc_course.device import Precision

    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny()).to("cuda")
    x = _images(64)  # on the CPU: the loop moves it to the model's device
    hist = fit_vae(model, x, VAETrainConfig(steps=40, batch_size=32, lr=1e-2))
    assert hist["loss"][-1] < hist["loss"][0] / 2
    assert all(p.device.type == "cuda" for p in model.parameters())
    assert Precision(torch.device("cuda")).dtype in (torch.bfloat16, torch.float16)
    x_bin = fixed_binarization(x[:8])  # on the CPU too
    ll = iwae_log_likelihood(model, x_bin, 16)
    assert ll.device.type == "cuda" and torch.isfinite(ll).all()
    elbo = evaluate_elbo(model, x_bin)["elbo"]
    assert elbo < ll.mean().item() + 1.0  # the ELBO is (up to noise) below the IWAE bound
    g = torch.Generator(device="cuda").manual_seed(0)
    assert model.sample(3, g).device.type == "cuda"


@pytest.mark.gpu
def test_fp16_path_with_a_gradient_scaler(monkeypatch):
    """The fp16 + GradScaler path of pre-Ampere GPUs, forced on any CUDA GPU."""
    import aigc_course.device as dev

    monkeypatch.setattr(dev, "bf16_is_native", lambda device: False)
    assert dev.Precision(torch.device("cuda")).scaler is not None
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny("conv")).to("cuda")
    hist = fit_vae(model, _images(64), VAETrainConfig(steps=30, batch_size=32, lr=1e-2))
    assert all(torch.isfinite(torch.tensor(hist["loss"])))
    assert hist["loss"][-1] < hist["loss"][0]


def test_committed_vaes_load_by_name_and_match_their_records():
    from aigc_course.checkpoint import checkpoint_exists, pretrained_path
    from aigc_course.data.mnist import load_mnist
    from aigc_course.loading import load_pretrained

    if not checkpoint_exists(pretrained_path("vae_mnist_2d")):
        pytest.skip("vae_mnist_2d is not committed")
    model, meta = load_pretrained("vae_mnist_2d", "cpu")
    assert isinstance(model, VAE) and model.latent_dim == 2 and meta["family"] == "vae"
    data = load_mnist(verbose=False)
    if data.source != meta["data_source"]:
        pytest.skip(f"recorded on {meta['data_source']}, the data here are {data.source}")
    elbo = evaluate_elbo(model, fixed_binarization(data.x_test))["elbo"]
    assert abs(elbo - meta["metrics"]["test_elbo"]) < 1.0, (elbo, meta["metrics"])
