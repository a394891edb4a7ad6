"""``aigc-course sample chorale`` on a tiny checkpoint made here: seeded, three formats,
one-line errors."""

from __future__ import annotations

import wave

import numpy as np
import pytest
import torch

from aigc_course import cli, loading
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.music.tokens import GRID_VOCAB, char_tokenizer
from aigc_course.training.lm import save_lm


@pytest.fixture
def pretrained(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = GPT(GPTConfig.tiny(len(GRID_VOCAB)))
    save_lm(tmp_path / "chorale_transformer", model, char_tokenizer(), {})
    monkeypatch.setattr(loading, "pretrained_path", lambda name: tmp_path / name)
    return tmp_path


def test_same_seed_same_chorale(pretrained, tmp_path):
    paths = [tmp_path / f"{k}.npz" for k in ("a", "b", "c")]
    for path, seed in zip(paths, (3, 3, 4), strict=True):
        assert (
            cli.main(
                ["sample", "chorale", "--seed", str(seed), "--steps", "20", "--out", str(path)]
            )
            == 0
        )
    a, b, c = (np.load(p) for p in paths)
    assert a["pitches"].shape == (20, 4) and a["onsets"].dtype == bool
    np.testing.assert_array_equal(a["pitches"], b["pitches"])
    np.testing.assert_array_equal(a["onsets"], b["onsets"])
    assert not np.array_equal(a["pitches"], c["pitches"])


def test_wav_and_midi_outputs(pretrained, tmp_path):
    wav = tmp_path / "out" / "c.wav"
    assert cli.main(["sample", "chorale", "--steps", "16", "--out", str(wav)]) == 0
    with wave.open(str(wav)) as w:
        assert w.getnframes() == round(16 * 0.125 * w.getframerate())
    mid = tmp_path / "c.mid"
    assert cli.main(["sample", "chorale", "--steps", "16", "--out", str(mid)]) == 0
    assert mid.read_bytes()[:4] == b"MThd"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--out", "x.mp3"], "--out must end in"),
        (["--out", "x.wav", "--seed", "-1"], "--seed"),
        (["--out", "x.wav", "--steps", "0"], "--steps"),
        (["--out", "x.wav", "--temperature", "-0.5"], "--temperature"),
    ],
)
def test_bad_arguments_are_one_line(pretrained, capsys, extra, message):
    assert cli.main(["sample", "chorale", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_directory_is_not_a_file(pretrained, tmp_path, capsys):
    (tmp_path / "d.wav").mkdir()
    assert cli.main(["sample", "chorale", "--out", str(tmp_path / "d.wav")]) == 2
    assert "directory" in capsys.readouterr().err
