"""Text corpora, offline first.

The default corpus, ``pydoc``, is the Python reference documentation that ships inside
every CPython as ``pydoc_data.topics``: always present, no download. It is built in a
fixed order (topics sorted by name, joined by newlines) and identified by its sha256
and the Python version, because its content changes with the Python patch version
(465,048 characters on 3.11.7). A checkpoint therefore carries its own vocabulary.

Other corpora are opt-in downloads, verified and written atomically into the data
cache (``python -m aigc_course prefetch --corpus NAME``).
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ConfigError, data_dir
from .download import DataError, download, file_hash

if TYPE_CHECKING:
    import torch

    from ..tokenizer import CharTokenizer

#: The share of a corpus (its end) held out from training: validation, then test.
VAL_FRACTION = 0.1


@dataclass(frozen=True)
class RemoteCorpus:
    """A corpus that is downloaded on request."""

    name: str
    urls: tuple[str, ...]
    n_bytes: int
    sha256: str | None  # None: no digest is published; the first download's is pinned
    description: str


REMOTE_CORPORA: dict[str, RemoteCorpus] = {
    "tinyshakespeare": RemoteCorpus(
        name="tinyshakespeare",
        urls=(
            "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
            "tinyshakespeare/input.txt",
        ),
        n_bytes=1_115_394,
        sha256=None,
        description="40,000 lines of Shakespeare (Karpathy 2015, char-rnn)",
    ),
}
CORPORA: tuple[str, ...] = ("pydoc", *REMOTE_CORPORA)


@dataclass(frozen=True)
class Corpus:
    """A text corpus and what identifies it.

    Attributes:
        name: registry name (``pydoc``, ``tinyshakespeare``).
        text: the whole corpus.
        sha256: hex digest of ``text`` encoded as UTF-8: report it with every figure.
        source: where it came from, human-readable.
    """

    name: str
    text: str
    sha256: str
    source: str
    doc_starts: tuple[int, ...] = ()  # where each document (pydoc: each topic) begins

    def __len__(self) -> int:
        return len(self.text)

    def split(self, val_fraction: float = 0.1) -> tuple[str, str]:
        """(train, validation): the first ``1 - val_fraction`` and the last part.

        A contiguous split, never shuffled, so validation text is unseen in training
        (a shuffled split of overlapping windows leaks)."""
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
        cut = int(len(self.text) * (1.0 - val_fraction))
        return self.text[:cut], self.text[cut:]

    def splits(self, val_fraction: float = VAL_FRACTION) -> tuple[str, str, str]:
        """(train, validation, test): the held-out end of :meth:`split`, cut in two.

        The training part is exactly :meth:`split`'s. The held-out part is cut at the
        last document start at or before its middle (else at the last blank line there,
        else at the middle), so the test part is made of whole documents, holds at least
        half of the held-out text, and comes after the validation part. Choose on the
        validation part, report on the test part.
        """
        train, held = self.split(val_fraction)
        cut, mid = len(train), len(train) + len(held) // 2
        starts = [d for d in self.doc_starts if cut < d <= mid]
        if starts:
            at = starts[-1]
        else:
            blank = self.text.rfind("\n\n", cut + 1, mid)
            at = blank + 2 if blank > cut else mid
        return train, self.text[cut:at], self.text[at:]

    @property
    def summary(self) -> str:
        """One line: name, size, hash prefix, source."""
        return f"{self.name}: {len(self.text):,} chars, sha256 {self.sha256[:12]}…, {self.source}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pydoc_text() -> str:
    """The ``pydoc_data.topics`` corpus in the course's fixed order."""
    from pydoc_data.topics import topics

    return "\n".join(topics[key] for key in sorted(topics))


def pydoc_doc_starts() -> tuple[int, ...]:
    """Where each topic of :func:`pydoc_text` begins (its documents)."""
    from pydoc_data.topics import topics

    starts, pos = [], 0
    for key in sorted(topics):
        starts.append(pos)
        pos += len(topics[key]) + 1  # the joining newline
    return tuple(starts)


def corpus_path(name: str) -> Path:
    return data_dir() / "text" / f"{name}.txt"


def fetch_corpus(name: str, timeout: float = 30.0) -> Path:
    """Download a remote corpus into the cache (atomic, size- and hash-checked)."""
    spec = _remote(name)
    path = corpus_path(name)
    pin = path.with_suffix(".sha256.json")
    if not path.is_file():
        download(spec.urls, path, expected=spec.sha256, algorithm="sha256", timeout=timeout)
        size = path.stat().st_size
        if size != spec.n_bytes:
            path.unlink()
            raise DataError(
                f"{name}: the server sent {size:,} bytes, expected {spec.n_bytes:,}; nothing kept"
            )
        if spec.sha256 is None:
            pin.write_text(json.dumps({"sha256": file_hash(path), "pinned_on": "first download"}))
    _check_cached(spec, path)
    return path


def _remote(name: str) -> RemoteCorpus:
    if name not in REMOTE_CORPORA:
        raise ConfigError(f"corpus {name!r} is unknown; use one of {', '.join(CORPORA)}")
    return REMOTE_CORPORA[name]


def _check_cached(spec: RemoteCorpus, path: Path) -> str:
    expected = spec.sha256
    pin = path.with_suffix(".sha256.json")
    if expected is None and pin.is_file():
        expected = json.loads(pin.read_text())["sha256"]
    actual = file_hash(path)
    if path.stat().st_size != spec.n_bytes or (expected is not None and actual != expected):
        raise DataError(
            f"{path} is corrupt or partial (sha256 {actual[:12]}…, {path.stat().st_size:,} "
            f"bytes); delete it and run `python -m aigc_course prefetch --corpus {spec.name}`"
        )
    return actual


def load_corpus(name: str = "pydoc", *, download: bool = False) -> Corpus:
    """Load a corpus by name.

    Args:
        name: ``pydoc`` (offline default) or a remote corpus such as ``tinyshakespeare``.
        download: fetch a remote corpus if it is not cached yet (opt-in; it needs the
            network and ``AIGC_OFFLINE`` unset).

    Raises:
        ConfigError: unknown name.
        DataError: a remote corpus is not cached (and ``download`` is False), or is corrupt.
    """
    if name == "pydoc":
        text, starts = pydoc_text(), pydoc_doc_starts()
        version = platform.python_version()
        source = f"pydoc_data.topics of CPython {version}"
        return Corpus("pydoc", text, _sha256(text), source, starts)
    spec = _remote(name)
    path = corpus_path(name)
    if not path.is_file():
        if not download:
            raise DataError(
                f"corpus {name!r} is not in the cache ({path}); fetch it with "
                f"`python -m aigc_course prefetch --corpus {name}` or load_corpus({name!r}, "
                "download=True)"
            )
        fetch_corpus(name)
    _check_cached(spec, path)
    text = path.read_text(encoding="utf-8")
    return Corpus(name, text, _sha256(text), spec.description)


@dataclass(frozen=True)
class TextData:
    """A corpus, its three parts and its tokenizer (built from the training part only).

    Attributes:
        train_text, val_text, test_text: :meth:`Corpus.splits`: the first 90 %, then the
            held-out 10 % cut at a document boundary into validation and test.
        train_ids, val_ids, test_ids: (N,) long token ids of the three parts; held-out
            characters the tokenizer never saw are replaced by its replacement character.
    """

    corpus: Corpus
    tokenizer: CharTokenizer
    train_text: str
    val_text: str
    train_ids: torch.Tensor
    val_ids: torch.Tensor
    test_text: str = ""
    test_ids: torch.Tensor | None = None

    @property
    def heldout_text(self) -> str:
        """Validation and test together: the whole held-out 10 % (the text the committed
        checkpoints recorded their figures on, before the test part was set apart)."""
        return self.val_text + self.test_text

    @property
    def record(self) -> dict[str, Any]:
        """What a checkpoint's sidecar records about its data."""
        return {
            "corpus": self.corpus.name,
            "sha256": self.corpus.sha256,
            "source": self.corpus.source,
            "n_chars": len(self.corpus),
            "val_fraction": VAL_FRACTION,
            "val_chars": len(self.val_text),
            "test_chars": len(self.test_text),
            "python_version": platform.python_version(),
        }


def prepare_corpus(name: str = "pydoc", max_chars: int | None = None) -> TextData:
    """Load a corpus, split it (:meth:`Corpus.splits`: 90 % training, then validation
    and test) and build the tokenizer from the training part: the data of every text
    model of the course.

    Args:
        max_chars: keep only the first ``max_chars`` characters *before* splitting
            (smoke mode); None keeps everything.
    """
    import torch

    from ..tokenizer import CharTokenizer

    corpus = load_corpus(name)
    if max_chars is not None:
        text = corpus.text[:max_chars]
        starts = tuple(d for d in corpus.doc_starts if d < max_chars)
        source = corpus.source + f", first {max_chars}"
        corpus = Corpus(corpus.name, text, corpus.sha256, source, starts)
    train, val, test = corpus.splits(VAL_FRACTION)
    tok = CharTokenizer.from_text(train)

    def ids(part: str) -> torch.Tensor:
        return torch.tensor(tok.encode_with_mask(part, unknown="replace")[0], dtype=torch.long)

    return TextData(corpus, tok, train, val, tok.encode_tensor(train), ids(val), test, ids(test))
