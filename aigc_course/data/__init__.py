"""Data: MNIST and text corpora, offline first, verified, with their source recorded.

The names below are imported on first use, so ``from aigc_course.data import DataError``
(as the command line does) imports no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from .download import DataError, OfflineError

_LAZY = {
    "CORPORA": "text",
    "Corpus": "text",
    "fetch_corpus": "text",
    "load_corpus": "text",
    "MNIST": "mnist",
    "fetch_mnist": "mnist",
    "load_mnist": "mnist",
    "resolve_source": "mnist",
}

__all__ = ["DataError", "OfflineError", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
