import numpy as np
import pytest

from aigc_course import cli
from aigc_course.checkpoint import checkpoint_exists, pretrained_path

pytestmark = pytest.mark.skipif(
    not checkpoint_exists(pretrained_path("cdcgan_mnist")), reason="checkpoints not built"
)


def test_sample_dcgan_npz_is_deterministic(tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert cli.main(["sample", "dcgan", "--n", "5", "--seed", "3", "--out", str(a)]) == 0
    assert cli.main(["sample", "dcgan", "--n", "5", "--seed", "3", "--out", str(b)]) == 0
    x = np.load(a)["images"]
    assert x.shape == (5, 1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    np.testing.assert_array_equal(x, np.load(b)["images"])


def test_sample_digit_has_labels_and_png(tmp_path):
    out = tmp_path / "sevens.npz"
    assert cli.main(["sample", "dcgan", "--n", "4", "--digit", "7", "--out", str(out)]) == 0
    assert (np.load(out)["labels"] == 7).all()
    png = tmp_path / "grid.png"
    assert cli.main(["sample", "dcgan", "--n", "8", "--out", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_bad_requests_are_one_line(tmp_path, capsys):
    assert cli.main(["sample", "dcgan", "--digit", "12", "--out", str(tmp_path / "x.npz")]) == 2
    assert cli.main(["sample", "dcgan", "--out", str(tmp_path / "x.jpg")]) == 2
    err = capsys.readouterr().err
    assert "--digit" in err and ".npz or .png" in err
