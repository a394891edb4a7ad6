"""Data: MNIST and text corpora, offline first, verified, with their source recorded.

The names below are imported on first use, so ``from aigc_course.data import DataError``
(as the command line does) imports no torch.
"""

from __future__ import annotations

from .._lazy import lazy_getattr
from .download import DataError, OfflineError

_LAZY = {
    "CORPORA": "text",
    "Corpus": "text",
    "fetch_corpus": "text",
    "load_corpus": "text",
    "prepare_corpus": "text",
    "TextData": "text",
    "binarise": "mnist",
    "MNIST": "mnist",
    "fetch_mnist": "mnist",
    "load_mnist": "mnist",
    "resolve_source": "mnist",
}

__all__ = ["DataError", "OfflineError", *_LAZY]


__getattr__ = lazy_getattr(__name__, _LAZY)
