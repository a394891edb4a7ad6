"""Data: MNIST and text corpora, offline first, verified, with their source recorded."""

from .download import DataError, OfflineError
from .mnist import MNIST, fetch_mnist, load_mnist, resolve_source
from .text import CORPORA, Corpus, fetch_corpus, load_corpus

__all__ = [
    "CORPORA",
    "MNIST",
    "Corpus",
    "DataError",
    "OfflineError",
    "fetch_corpus",
    "fetch_mnist",
    "load_corpus",
    "load_mnist",
    "resolve_source",
]
