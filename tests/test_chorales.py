"""The chorale loader: parsing, skipping with a count, the split, the cache."""

from __future__ import annotations

import numpy as np
import pytest

from aigc_course.data import chorales as ch


@pytest.fixture(scope="module")
def few_files():
    files = ch.corpus_files()
    assert len(files) > 300, "the music21 corpus should hold about 410 Bach score files"
    return files[:6]


def test_a_real_chorale_parses_onto_the_grid(few_files):
    c = ch.parse_chorale(next(p for p in ch.corpus_files() if p.stem == "bwv66.6"))
    assert c.pitches.shape[1] == 4 and c.steps > 100
    sounding = c.pitches > 0
    means = [c.pitches[sounding[:, v], v].mean() for v in range(4)]
    assert means == sorted(means, reverse=True), "voices are soprano, alto, tenor, bass"
    assert c.onsets[0].sum() >= 1 and c.time_signature == "4/4"


def test_unusable_files_are_skipped_with_their_reason(tmp_path, few_files):
    garbage = tmp_path / "broken.xml"
    garbage.write_text("<score-partwise><part-list>")
    with pytest.raises(ch.ChoraleSkip, match="parse error"):
        ch.parse_chorale(garbage)
    from music21 import note, stream

    two = stream.Score([stream.Part([note.Note(60)]), stream.Part([note.Note(48)])])
    with pytest.raises(ch.ChoraleSkip, match="not four parts"):
        ch.score_to_chorale(two, "two")
    triplet = stream.Score([stream.Part([note.Note(60, quarterLength=1 / 3)]) for _ in range(4)])
    with pytest.raises(ch.ChoraleSkip, match="off the sixteenth grid"):
        ch.score_to_chorale(triplet, "triplet")
    chorales, stats = ch.parse_corpus([*few_files[:2], garbage])
    assert len(chorales) + sum(stats["skipped"].values()) == 3
    assert any(k.startswith("parse error") for k in stats["skipped"])


def test_split_is_by_whole_chorale_seeded_disjoint_and_subset_stable():
    names = [f"bwv{i}.{j}" for i in range(200) for j in range(3)]
    a, b = ch.split_names(names), ch.split_names(list(reversed(names)))
    assert a == b
    sizes = {k: len(v) for k, v in a.items()}
    assert 0.75 < sizes["train"] / len(names) < 0.85 and 0.07 < sizes["test"] / len(names) < 0.13
    assert sorted(a["train"] + a["val"] + a["test"]) == sorted(names)
    subset = ch.split_names(names[:50])  # a chorale keeps its split in any subset
    assert all(n in a[k] for k, v in subset.items() for n in v)
    assert ch.split_names(names, seed=1)["test"] != a["test"]


def test_cache_is_keyed_written_once_and_read_back(tmp_path, monkeypatch, few_files):
    monkeypatch.setenv("AIGC_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(ch, "corpus_files", lambda: few_files)
    first = ch.load_chorales()
    cached = list((tmp_path / "chorales").glob("*.npz"))
    assert len(cached) == 1 and ch.music21_version() in cached[0].name
    assert cached[0].name.endswith(first.record["sha256"][:16] + ".npz")

    def no_parsing(path):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(ch, "parse_chorale", no_parsing)
    second = ch.load_chorales()
    assert [c.name for c in second.all] == [c.name for c in first.all]
    for x, y in zip(first.all, second.all, strict=True):
        np.testing.assert_array_equal(x.pitches, y.pitches)
        np.testing.assert_array_equal(x.onsets, y.onsets)
    assert second.record["parsed"] == first.record["parsed"] > 0
    assert not list((tmp_path / "chorales").glob("*.part"))  # no temporary file left


def test_files_hash_changes_with_any_file(tmp_path):
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    a.write_text("x")
    b.write_text("y")
    h = ch.files_sha256([a, b])
    b.write_text("z")
    assert ch.files_sha256([a, b]) != h
