"""Does a generator copy its training data? Two measurements with a baseline each.

* **Images.** The distance of each generated image to its nearest *training* image,
  compared with the same distance for held-out *test* images, which are new by
  construction. A generator that copies puts many samples closer to the training set
  than real new digits ever come (below the 1st percentile of test-to-train distances).
* **Text.** The longest passage of a generated text found verbatim in the training text,
  and the share of texts that contain a training passage of at least ``n`` characters
  (50 by default), compared with real held-out text of the same kind.

References:
    N. Carlini et al., "Extracting Training Data from Large Language Models", USENIX
    Security 2021 (verbatim extraction of training text from a language model).
    N. Carlini et al., "Extracting Training Data from Diffusion Models", USENIX Security
    2023 (near-copies of training images found by nearest-neighbour distance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..metrics.image import nearest_neighbours
from .stats import wilson_interval


def median_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(median, low, high): the distribution-free interval for a median, from order
    statistics (the ranks n/2 ∓ z·√n/2 of the sorted values)."""
    from scipy import stats

    x = np.sort(np.asarray(values, dtype=np.float64))
    if x.size < 2:
        raise ValueError("need at least two values for an interval")
    z = stats.norm.ppf(0.5 + confidence / 2)
    half = z * math.sqrt(x.size) / 2
    lo = max(0, math.floor(x.size / 2 - half))
    hi = min(x.size - 1, math.ceil(x.size / 2 + half) - 1)
    return float(np.median(x)), float(x[lo]), float(x[hi])


@dataclass(frozen=True)
class CopyCheck:
    """Nearest-training-image distances of generated images against the test baseline.

    Attributes:
        generated: (G,) distance of each generated image to its nearest training image.
        nearest: (G,) index of that training image.
        test: (T,) the same distance for each held-out test image.
        threshold: the ``quantile`` of ``test`` (a distance real new digits rarely beat).
        quantile: the quantile used for ``threshold`` (0.01: the 1st percentile).
    """

    generated: torch.Tensor
    nearest: torch.Tensor
    test: torch.Tensor
    threshold: float
    quantile: float

    @property
    def n_close(self) -> int:
        """Generated images closer to the training set than ``threshold``."""
        return int((self.generated < self.threshold).sum())

    def share_close(self, confidence: float = 0.95) -> tuple[float, float, float]:
        """(share, low, high) of generated images below ``threshold`` (Wilson interval).
        Test images sit below it about ``quantile`` of the time, by construction."""
        n = len(self.generated)
        return (self.n_close / n, *wilson_interval(self.n_close, n, confidence))

    def medians(self) -> dict[str, tuple[float, float, float]]:
        """Median distance (with its interval) of the generated and the test images."""
        return {"generated": median_interval(self.generated), "test": median_interval(self.test)}

    def closest(self, k: int = 4) -> list[tuple[int, int, float]]:
        """The ``k`` generated images nearest to a training image, as (generated index,
        training index, distance), closest first."""
        order = torch.argsort(self.generated)[:k]
        return [(int(i), int(self.nearest[i]), float(self.generated[i])) for i in order]


def copy_check(
    generated: torch.Tensor,
    train: torch.Tensor,
    test: torch.Tensor,
    quantile: float = 0.01,
    batch_size: int = 512,
) -> CopyCheck:
    """Compare generated images with held-out test images by their distance (pixel L2)
    to the nearest training image.

    Args:
        generated: (G, ...) images in the same range as ``train`` (e.g. [0, 1]).
        train: (N, ...) the images the generator was trained on.
        test: (T, ...) held-out images of the same kind (the "new sample" baseline).
        quantile: where to put the "closer than real new data" line on the test
            distances (0.01: their 1st percentile).

    Raises:
        ValueError: shapes that differ, an empty set, or a quantile outside (0, 1).
    """
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    if min(len(generated), len(train), len(test)) == 0:
        raise ValueError("generated, train and test must each hold at least one image")
    shapes = {tuple(x.shape[1:]) for x in (generated, train, test)}
    if len(shapes) != 1:
        raise ValueError(f"generated, train and test images differ in shape: {sorted(shapes)}")
    d_gen, idx = nearest_neighbours(generated, train, batch_size)
    d_test, _ = nearest_neighbours(test, train, batch_size)
    threshold = float(torch.quantile(d_test, quantile))
    return CopyCheck(d_gen, idx, d_test, threshold, quantile)


# ----------------------------------------------------------------------------- text


class NgramIndex:
    """Every ``n``-character passage of a training text, hashed, for fast "does this text
    contain a training passage of at least ``n`` characters?" queries.

    Python's string hash is salted per process but fixed within one, which is all a set
    needs; a collision (two different passages with one hash) has a chance of about
    2^-64 per pair.
    """

    def __init__(self, text: str, n: int = 50):
        if n < 1:
            raise ValueError(f"n must be ≥ 1, got {n}")
        self.text, self.n = text, n
        self._hashes = {hash(text[i : i + n]) for i in range(len(text) - n + 1)}

    def __len__(self) -> int:
        return len(self._hashes)

    def contains_passage(self, sample: str) -> bool:
        """True when some ``n`` consecutive characters of ``sample`` occur in the text."""
        n, h = self.n, self._hashes
        return any(hash(sample[i : i + n]) in h for i in range(len(sample) - n + 1))


def longest_verbatim(sample: str, text: str) -> tuple[int, int]:
    """The longest substring of ``sample`` that occurs verbatim in ``text``.

    One pass over ``sample`` keeping ``best``, the longest match found so far: a match
    ending at position j can only beat it if the ``best + 1`` characters ending there
    occur in ``text`` (a C-speed substring search), so there are at most
    ``len(sample) + best`` searches.

    Returns:
        (length, start in ``sample``); (0, 0) for an empty sample or no shared character.
    """
    best, where = 0, 0
    for j in range(1, len(sample) + 1):  # matches ending just before j
        while best < j and sample[j - best - 1 : j] in text:
            best, where = best + 1, j - best - 1
    return best, where


@dataclass(frozen=True)
class Regurgitation:
    """Verbatim overlap of a set of texts with a training text.

    Attributes:
        longest: (S,) length of each text's longest passage found in the training text.
        has_passage: (S,) whether each text contains a training passage of ≥ ``n`` chars.
        n: the passage length of ``has_passage``.
    """

    longest: np.ndarray
    has_passage: np.ndarray
    n: int

    def share(self, confidence: float = 0.95) -> tuple[float, float, float]:
        """(share, low, high) of texts holding a ≥ n-character training passage."""
        k, m = int(self.has_passage.sum()), len(self.has_passage)
        return (k / m, *wilson_interval(k, m, confidence))

    def median_longest(self) -> float:
        return float(np.median(self.longest))


def regurgitation(texts: Sequence[str], index: NgramIndex) -> Regurgitation:
    """Longest verbatim training passage of each text, and whether it reaches ``index.n``
    characters.

    Raises:
        ValueError: no texts.
    """
    if not texts:
        raise ValueError("no texts to check")
    longest = np.array([longest_verbatim(t, index.text)[0] for t in texts], dtype=np.int64)
    has = np.array([index.contains_passage(t) for t in texts], dtype=bool)
    return Regurgitation(longest, has, index.n)
