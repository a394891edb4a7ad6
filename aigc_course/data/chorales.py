"""Bach's four-part chorales from the corpus that ships inside ``music21``, on a grid.

The ``music21`` wheel carries about 430 Bach chorale files (MusicXML, a few Humdrum),
so the data is always available offline. :func:`load_chorales` reads every score file
of the composer ``bach``, keeps the four-part (soprano, alto, tenor, bass) ones and puts
each voice on a sixteenth-note grid: ``pitches[t, v]`` is the MIDI pitch voice ``v``
sounds at step ``t`` (0 for a rest) and ``onsets[t, v]`` says whether a note *starts*
there (a held note repeats its pitch with ``onsets`` False; ties are merged first).

A file that cannot be used is skipped with its reason counted, never an error: not four
parts, a chord inside a voice, a note off the sixteenth grid (a triplet, a 32nd), or a
parse failure. The split is by whole chorale, seeded. Parsing takes about a minute, so
the parsed arrays are cached in :func:`~aigc_course.config.data_dir`, in a file whose
name holds the ``music21`` version and a hash of the files read (written atomically).

Example:
    >>> data = load_chorales()
    >>> data.train[0].pitches.shape        # (T, 4): steps x (S, A, T, B)
    >>> data.record["skipped"]             # {reason: count}
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write
from ..config import data_dir
from .download import DataError

VOICES = ("soprano", "alto", "tenor", "bass")
STEP = Fraction(1, 4)  # one grid step in quarter notes: a sixteenth note
SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn")  # preferred first; not the analyses
SPLIT_SEED = 0
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # train, validation, test, by whole chorale


class ChoraleSkip(Exception):
    """A file that is not a usable four-part chorale; the message is the reason."""


@dataclass(frozen=True)
class Chorale:
    """One chorale on the sixteenth-note grid.

    Attributes:
        name: the file's stem, e.g. ``"bwv66.6"``.
        pitches: (T, 4) int16, the MIDI pitch each voice (S, A, T, B) sounds at each
            step, 0 during a rest.
        onsets: (T, 4) bool, True where a note starts (always False during a rest).
        time_signature: e.g. ``"4/4"`` (the first one of the score).
    """

    name: str
    pitches: np.ndarray
    onsets: np.ndarray
    time_signature: str = "4/4"

    def __post_init__(self) -> None:
        check_grid(self.pitches, self.onsets)

    @property
    def steps(self) -> int:
        return int(self.pitches.shape[0])


def check_grid(pitches: np.ndarray, onsets: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``pitches`` (T, 4) and ``onsets`` (T, 4) are a valid grid:
    pitches in 0..127, an onset only on a note, and every note starts with an onset
    (a sounding step either starts a note or repeats the pitch of the step before)."""
    p, o = np.asarray(pitches), np.asarray(onsets)
    if p.ndim != 2 or p.shape[1] != 4 or o.shape != p.shape:
        raise ValueError(f"need pitches and onsets of shape (T, 4); got {p.shape} and {o.shape}")
    if p.size and (p.min() < 0 or p.max() > 127):
        raise ValueError("pitches must be MIDI numbers 0..127 (0: rest)")
    if (o & (p == 0)).any():
        raise ValueError("an onset on a rest")
    prev = np.vstack([np.zeros((1, 4), p.dtype), p[:-1]])
    held = (p > 0) & ~o
    if (held & (prev != p)).any():
        raise ValueError("a held step whose pitch differs from the step before (missing onset)")


@dataclass
class ChoraleData:
    """The parsed corpus: the three splits and what the sidecars record about it."""

    train: list[Chorale]
    val: list[Chorale]
    test: list[Chorale]
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def all(self) -> list[Chorale]:
        return [*self.train, *self.val, *self.test]


# -- the corpus files --------------------------------------------------------------------


def corpus_files() -> list[Path]:
    """The Bach score files of the installed ``music21`` corpus, sorted by chorale."""
    try:
        from music21 import corpus
    except ImportError as err:  # pragma: no cover - a dependency of the package
        raise DataError("music21 is not installed: pip install 'music21>=10'") from err
    paths = [
        Path(p) for p in corpus.getComposer("bach") if Path(p).suffix.lower() in SCORE_SUFFIXES
    ]
    # by chorale, MusicXML first: a chorale also present as Humdrum is read from MusicXML
    return sorted(paths, key=lambda p: (p.stem, SCORE_SUFFIXES.index(p.suffix.lower())))


def files_sha256(paths: list[Path]) -> str:
    """One sha256 over the names and bytes of ``paths`` (in the order given)."""
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.name.encode() + b"\0")
        digest.update(hashlib.sha256(p.read_bytes()).digest())
    return digest.hexdigest()


def music21_version() -> str:
    import music21

    return str(music21.__version__)


# -- one file → one Chorale ----------------------------------------------------------------


def _on_grid(x: Fraction | float) -> int:
    q = Fraction(x).limit_denominator(10_000) / STEP
    if q.denominator != 1:
        raise ChoraleSkip("a note off the sixteenth grid")
    return int(q)


def score_to_chorale(score: Any, name: str) -> Chorale:
    """Put a parsed ``music21`` score of four parts on the sixteenth-note grid.

    Raises:
        ChoraleSkip: not four parts, a chord in a voice, or a note off the grid.
    """
    from music21 import chord, note

    parts = list(score.parts)
    if len(parts) != 4:
        raise ChoraleSkip("not four parts")
    voices: list[list[tuple[int, int, int]]] = []  # per voice: (start, end, pitch)
    for part in parts:
        notes = []
        for el in part.stripTies().flatten().notes:
            if isinstance(el, chord.Chord):
                raise ChoraleSkip("a chord inside a voice")
            if not isinstance(el, note.Note) or el.duration.quarterLength == 0:
                continue  # grace notes take no time on the grid
            start = _on_grid(el.offset)
            end = _on_grid(el.offset + el.duration.quarterLength)
            notes.append((start, end, int(el.pitch.midi)))
        voices.append(notes)
    n_steps = max((end for notes in voices for _, end, _ in notes), default=0)
    if n_steps == 0:
        raise ChoraleSkip("no notes")
    pitches = np.zeros((n_steps, 4), dtype=np.int16)
    onsets = np.zeros((n_steps, 4), dtype=bool)
    for v, notes in enumerate(voices):
        for start, end, midi in notes:
            if (pitches[start:end, v] != 0).any():
                raise ChoraleSkip("overlapping notes inside a voice")
            pitches[start:end, v] = midi
            onsets[start, v] = True
    ts = next(iter(score.recurse().getElementsByClass("TimeSignature")), None)
    return Chorale(name, pitches, onsets, ts.ratioString if ts is not None else "4/4")


def parse_chorale(path: Path) -> Chorale:
    """Parse one corpus file (not from music21's own cache) and grid it.

    Raises:
        ChoraleSkip: the file is not a usable four-part chorale (the reason says why).
    """
    from music21 import converter

    try:
        score = converter.parse(str(path), forceSource=True)
    except Exception as err:  # music21 raises many kinds; a bad file is a skip, not a crash
        raise ChoraleSkip(f"parse error ({type(err).__name__})") from err
    if not hasattr(score, "parts"):
        raise ChoraleSkip("not a score")
    return score_to_chorale(score, path.stem)


# -- the whole corpus, cached -----------------------------------------------------------------


def split_of(name: str, seed: int = SPLIT_SEED) -> str:
    """``"train"``, ``"val"`` or ``"test"`` for a chorale, from a hash of its name and the
    seed: the same chorale always lands in the same split, whichever other files are read
    (a subset in smoke mode, a newer corpus), and about 80/10/10 % land in each."""
    u = int(hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()[:12], 16) / 16**12
    test, val = SPLIT_FRACTIONS[2], SPLIT_FRACTIONS[1]
    return "test" if u < test else "val" if u < test + val else "train"


def split_names(names: list[str], seed: int = SPLIT_SEED) -> dict[str, list[str]]:
    """Split chorale names into train / val / test by :func:`split_of`."""
    out: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for n in sorted(names):
        out[split_of(n, seed)].append(n)
    return out


def _save_cache(path: Path, chorales: list[Chorale], record: dict[str, Any]) -> None:
    lengths = np.array([c.steps for c in chorales], dtype=np.int64)
    arrays = {
        "pitches": np.concatenate([c.pitches for c in chorales]),
        "onsets": np.concatenate([c.onsets for c in chorales]),
        "lengths": lengths,
        "names": np.array([c.name for c in chorales]),
        "time_signatures": np.array([c.time_signature for c in chorales]),
        "record": np.array(json.dumps(record)),
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(buf.getvalue()))


def _load_cache(path: Path) -> tuple[list[Chorale], dict[str, Any]]:
    with np.load(path) as z:
        ends = np.cumsum(z["lengths"])
        starts = ends - z["lengths"]
        chorales = [
            Chorale(str(n), z["pitches"][s:e].copy(), z["onsets"][s:e].copy(), str(ts))
            for n, ts, s, e in zip(z["names"], z["time_signatures"], starts, ends, strict=True)
        ]
        return chorales, json.loads(str(z["record"]))


def cache_path(version: str, sha256: str) -> Path:
    """Where the parsed corpus of this ``music21`` version and file hash is cached."""
    return data_dir() / "chorales" / f"bach-m21_{version}-{sha256[:16]}.npz"


def parse_corpus(paths: list[Path]) -> tuple[list[Chorale], dict[str, Any]]:
    """Parse ``paths``; returns the chorales and ``{files, parsed, skipped, cpu_seconds}``."""
    chorales, skipped, names = [], {}, set()
    t0, w0 = time.process_time(), time.perf_counter()
    for p in paths:
        try:
            if p.stem in names:  # the same chorale in two formats (.mxl and .xml)
                raise ChoraleSkip("a second file of a chorale already read")
            chorales.append(parse_chorale(p))
            names.add(p.stem)
        except ChoraleSkip as why:
            skipped[str(why)] = skipped.get(str(why), 0) + 1
    stats = {
        "files": len(paths),
        "parsed": len(chorales),
        "skipped": dict(sorted(skipped.items())),
        "parse_cpu_seconds": round(time.process_time() - t0, 1),
        "parse_wall_seconds": round(time.perf_counter() - w0, 1),
    }
    return chorales, stats


def describe_corpus() -> str:
    """One line for the setup banner: the corpus, its version and hash, and whether the
    parsed arrays are already cached (else the first load parses every file)."""
    paths = corpus_files()
    version, sha = music21_version(), files_sha256(paths)
    state = "parsed cache present" if cache_path(version, sha).is_file() else "parsed on first use"
    return (
        f"Bach chorales in music21 {version}: {len(paths)} score files, sha256 {sha[:12]}, {state}"
    )


def load_chorales(cache: bool = True, limit: int | None = None) -> ChoraleData:
    """The four-part Bach chorales of the installed ``music21``, split by chorale.

    Args:
        cache: read/write the parsed arrays in ``data_dir()/chorales/`` (keyed by the
            ``music21`` version and the sha256 of the files), written atomically.
        limit: parse only the first ``limit`` files (tests; never cached).

    Returns:
        :class:`ChoraleData` with ``record``: source, ``music21`` version, sha256 of the
        files read, how many parsed and skipped (by reason), parse time, split sizes
        and the names of the test chorales.
    """
    paths = corpus_files()
    if limit is not None:
        paths, cache = paths[:limit], False
    if not paths:
        raise DataError("the music21 corpus holds no Bach chorales (a no-corpus build?)")
    version, sha = music21_version(), files_sha256(paths)
    path = cache_path(version, sha)
    if cache and path.is_file():
        chorales, stats = _load_cache(path)
    else:
        chorales, stats = parse_corpus(paths)
        if cache:
            _save_cache(path, chorales, stats)
    by_name = {c.name: c for c in chorales}
    split = split_names(sorted(by_name))
    record = {
        "source": "music21 corpus, composer 'bach' (score files only)",
        "music21_version": version,
        "sha256": sha,
        **stats,
        "split_seed": SPLIT_SEED,
        "split": {k: len(v) for k, v in split.items()},
        "test_names": split["test"],
    }
    return ChoraleData(
        *(([by_name[n] for n in split[k]]) for k in ("train", "val", "test")), record
    )
