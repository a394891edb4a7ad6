"""The diffusion chapter's MNIST pieces: digit sampling, the recipes' protocol, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aigc_course import cli, loading
from aigc_course.checkpoint import save_checkpoint
from aigc_course.data.mnist import MNIST
from aigc_course.diffusion.images import SamplerSpec, sample_digits, score_digits
from aigc_course.models.unet import UNet, UNetConfig
from aigc_course.recipes import diffusion_mnist as recipes


def _tiny(n_classes: int) -> UNet:
    torch.manual_seed(0)
    m = UNet(UNetConfig.tiny(n_classes=n_classes))
    torch.nn.init.normal_(m.conv_out.weight, std=0.05)  # not the zero predictor
    return m.eval()


@pytest.fixture
def pretrained(tmp_path, monkeypatch):
    """Tiny untrained U-Nets under the real names, in a temporary folder."""
    for name, n_classes in [("diffusion_mnist", 0), ("cdiffusion_mnist", 10)]:
        m = _tiny(n_classes)
        meta = {
            "family": "unet",
            "config": m.config.to_dict(),
            "sampler": {"objective": "flow", "steps": 3, "method": "euler", "guidance": 2.0},
            "metrics": {"fid": 1.0},
        }
        save_checkpoint(tmp_path / name, m.state_dict(), meta)
    monkeypatch.setattr(loading, "pretrained_path", lambda name: tmp_path / name)
    return tmp_path


def test_same_seed_same_digits_whatever_the_batch_size():
    m = _tiny(10)
    labels = torch.arange(6) % 10
    spec = SamplerSpec(steps=3, guidance=2.0)
    a = sample_digits(m, 6, spec, labels=labels, seed=1, batch_size=6)
    b = sample_digits(m, 6, spec, labels=labels, seed=1, batch_size=4)
    c = sample_digits(m, 6, spec, labels=labels, seed=2, batch_size=6)
    assert a.shape == (6, 1, 28, 28) and 0 <= a.min() and a.max() <= 1
    torch.testing.assert_close(a[:4], b[:4])  # the first batch shares its noise
    assert not torch.allclose(a, c)


def test_sampler_spec_counts_network_evaluations_and_rejects_mismatches():
    assert SamplerSpec(steps=10).nfe(conditional=False) == 10
    assert SamplerSpec(steps=10, guidance=2.0).nfe(conditional=True) == 20
    assert SamplerSpec(steps=10, guidance=1.0).nfe(conditional=True) == 10  # no second pass
    assert SamplerSpec(steps=5, method="heun").nfe(conditional=False) == 10
    with pytest.raises(ValueError, match="does not fit a flow model"):
        SamplerSpec(method="ddim")
    with pytest.raises(ValueError, match="steps"):
        SamplerSpec(steps=0)
    with pytest.raises(ValueError, match="unconditional"):
        sample_digits(_tiny(0), 2, labels=torch.tensor([1, 2]))


def test_guidance_one_is_the_conditional_model():
    m = _tiny(10)
    labels = torch.tensor([3, 7])
    plain = sample_digits(m, 2, SamplerSpec(steps=2, guidance=1.0), labels=labels)
    guided = sample_digits(m, 2, SamplerSpec(steps=2, guidance=3.0), labels=labels)
    assert not torch.allclose(plain, guided)


def test_split_is_stratified_disjoint_and_seeded():
    x = torch.arange(600, dtype=torch.float32).view(600, 1, 1, 1).expand(600, 1, 28, 28)
    y = torch.arange(600) // 60  # ordered by class, as the offline digits are
    data = MNIST(x, y, x[:10], y[:10], "test")
    a, b = recipes.split_train(data), recipes.split_train(data)
    assert torch.equal(a["x_val"], b["x_val"])
    assert torch.bincount(a["y_val"], minlength=10).tolist() == [recipes.N_VAL_PER_CLASS] * 10
    fit_ids = set(a["x_fit"][:, 0, 0, 0].tolist())
    val_ids = set(a["x_val"][:, 0, 0, 0].tolist())
    assert not fit_ids & val_ids and len(fit_ids | val_ids) == 600
    assert val_ids != set(range(0, 600, 60))  # drawn at random within each class


def test_scores_see_the_difference_between_real_and_noise():
    from aigc_course.models.classifier import ClassifierConfig, MNISTClassifier

    torch.manual_seed(0)
    clf = MNISTClassifier(ClassifierConfig()).eval()
    real = torch.rand(60, 1, 28, 28).round()
    near = score_digits(clf, real[:30], real[30:], labels=torch.zeros(30, dtype=torch.long))
    far = score_digits(clf, torch.zeros(30, 1, 28, 28), real[30:])
    assert far["fid"] > near["fid"] and "conditional_accuracy" in near
    assert {"precision", "recall", "confident", "entropy"} <= set(far)


def test_sample_command_is_seeded_and_writes_npz(pretrained, tmp_path, capsys):
    out = tmp_path / "s.npz"
    argv = ["sample", "diffusion", "--n", "4", "--seed", "3", "--out", str(out), "--conditional"]
    assert cli.main(argv) == 0
    first = np.load(out)
    assert cli.main(argv) == 0
    second = np.load(out)
    assert first["images"].shape == (4, 1, 28, 28) and first["images"].dtype == np.float32
    assert first["labels"].tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(first["images"], second["images"])
    assert "guidance 2" in capsys.readouterr().out
    assert cli.main(["sample", "diffusion", "--n", "3", "--digit", "7", "--out", str(out)]) == 0
    assert np.load(out)["labels"].tolist() == [7, 7, 7]
    png = tmp_path / "g.png"
    assert cli.main(["sample", "diffusion", "--n", "4", "--steps", "2", "--out", str(png)]) == 0
    assert png.stat().st_size > 0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--steps", "-1"], "--steps"),
        (["--steps", "0"], "--steps"),
        (["--digit", "12"], "--digit"),
        (["--guidance", "2"], "--guidance needs the conditional model"),
        (["--n", "0"], "--n"),
    ],
)
def test_bad_values_are_one_line_errors(pretrained, tmp_path, capsys, extra, message):
    assert cli.main(["sample", "diffusion", "--out", str(tmp_path / "x.npz"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_guidance_that_is_not_a_number_is_refused(pretrained, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["sample", "diffusion", "--conditional", "--guidance", "lots", "--out", "x.npz"])
    assert exit_info.value.code == 2
    assert "--guidance must be a number" in capsys.readouterr().err


def test_pipeline_is_called_like_a_diffusers_pipeline(pretrained):
    from aigc_course.diffusion.images import DigitPipeline

    pipe = DigitPipeline.from_pretrained("cdiffusion_mnist", device="cpu")
    out = pipe(digits=[3, 1, 4], num_inference_steps=2, seed=5)
    again = pipe(digits=[3, 1, 4], num_inference_steps=2, seed=5)
    assert out.images.shape == (3, 1, 28, 28) and out.labels.tolist() == [3, 1, 4]
    torch.testing.assert_close(out.images, again.images)
    spec = SamplerSpec(steps=2, guidance=2.0)  # the recorded guidance stays the default
    direct = sample_digits(pipe.model, 3, spec, labels=torch.tensor([3, 1, 4]), seed=5)
    torch.testing.assert_close(out.images, direct)
    with pytest.raises(ValueError, match="0..9"):
        pipe(digits=[11])
    uncond = DigitPipeline.from_pretrained("diffusion_mnist", device="cpu")
    assert uncond(num_images=2, num_inference_steps=1).images.shape == (2, 1, 28, 28)


def test_evaluate_command_prints_the_course_metrics(pretrained, capsys):
    import shutil

    from aigc_course.config import pretrained_dir

    for suffix in (".safetensors", ".json"):  # the real instrument beside the tiny models
        shutil.copy(pretrained_dir() / f"mnist_classifier{suffix}", pretrained)
    assert cli.main(["evaluate", "diffusion", "--conditional", "--n", "20", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    for key in ("fid", "precision", "recall", "confident", "entropy", "conditional_accuracy"):
        assert key in out
    assert "euler, 1 steps, guidance 2" in out
    assert cli.main(["evaluate", "diffusion", "--n", "5"]) == 2
