"""``sample`` / ``evaluate`` for the char models, on a tiny checkpoint made here."""

from __future__ import annotations

import json

import pytest
import torch

from aigc_course import cli, loading
from aigc_course.loading import load_pretrained
from aigc_course.models.rnn_lm import CharLSTM, LSTMConfig
from aigc_course.models.transformer_lm import GPT, GPTConfig
from aigc_course.tokenizer import CharTokenizer
from aigc_course.training.lm import save_lm

TEXT = "def f(x):\n    return x + 1\n" * 5


@pytest.fixture
def pretrained(tmp_path, monkeypatch):
    """Tiny untrained checkpoints under the real names, in a temporary folder."""
    tok = CharTokenizer.from_text(TEXT)
    torch.manual_seed(0)
    save_lm(tmp_path / "char_transformer", GPT(GPTConfig.tiny(tok.vocab_size)), tok, {})
    save_lm(tmp_path / "char_lstm", CharLSTM(LSTMConfig.tiny(tok.vocab_size)), tok, {})
    monkeypatch.setattr(loading, "pretrained_path", lambda name: tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("model", ["char-transformer", "char-lstm"])
def test_sample_is_seeded(pretrained, capsys, model):
    argv = ["sample", model, "--prompt", "def", "--max-new-chars", "40", "--temperature", "1"]
    assert cli.main([*argv, "--seed", "3", "--top-k", "5"]) == 0
    a = capsys.readouterr().out
    assert cli.main([*argv, "--seed", "3", "--top-k", "5"]) == 0
    b = capsys.readouterr().out
    assert a == b and a.startswith("def") and len(a.rstrip("\n")) >= 3
    assert cli.main([*argv, "--seed", "3", "--top-p", "0.9"]) == 0


def test_sample_replaces_unseen_prompt_characters(pretrained, capsys):
    assert cli.main(["sample", "char-lstm", "--prompt", "é!", "--max-new-chars", "5"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("é!")
    assert "not in the vocabulary" in captured.err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--temperature", "-1"], "--temperature"),
        (["--top-k", "0"], "--top-k"),
        (["--top-p", "1.5"], "--top-p"),
        (["--max-new-chars", "-3"], "--max-new-chars"),
        (["--prompt", ""], "--prompt"),
    ],
)
def test_sample_bad_arguments_are_one_line(pretrained, capsys, extra, message):
    assert cli.main(["sample", "char-transformer", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aigc-course: error:") and message in err and "\n" not in err


def test_evaluate_counts_unseen_characters(pretrained, tmp_path, capsys):
    f = tmp_path / "t.txt"
    f.write_text("def g(y):\n    return y * 2 ✓\n", encoding="utf-8")
    assert cli.main(["evaluate", "char-transformer", "--text-file", str(f)]) == 0
    record = json.loads(capsys.readouterr().out)
    unseen = {"g", "y", "*", "2", "✓"}
    n_unseen = sum(ch in unseen for ch in f.read_text(encoding="utf-8"))
    assert record["n_unseen"] == n_unseen
    assert set(record["unseen_chars"]) == unseen
    assert record["n_scored"] == record["n_chars"] - n_unseen - 1
    assert 0 < record["bits_per_char"] < 10


def test_evaluate_bits_per_char_matches_the_model(pretrained, tmp_path, capsys):
    f = tmp_path / "t.txt"
    f.write_text(TEXT[:30], encoding="utf-8")
    assert cli.main(["evaluate", "char-lstm", "--text-file", str(f)]) == 0
    record = json.loads(capsys.readouterr().out)
    model, meta = load_pretrained(pretrained / "char_lstm", device="cpu")
    tok = meta["tokenizer"]
    ids = tok.encode_tensor(TEXT[:30])
    _, loss = model(ids[None, :-1], ids[None, 1:])
    assert record["bits_per_char"] == pytest.approx(loss.item() / 0.693147, abs=1e-3)


@pytest.mark.parametrize("content", [None, b"\xff\xfe\x00bad", b"a"])
def test_evaluate_bad_files_are_one_line(pretrained, tmp_path, capsys, content):
    f = tmp_path / "bad.txt"
    if content is not None:
        f.write_bytes(content)
    assert cli.main(["evaluate", "char-lstm", "--text-file", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aigc-course: error:") and "--text-file" in err and "\n" not in err


def test_missing_checkpoint_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(loading, "pretrained_path", lambda name: tmp_path / name)
    assert cli.main(["sample", "char-lstm"]) == 2
    assert "no checkpoint named 'char_lstm'" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["char_lstm", "char_transformer"])
def test_committed_checkpoints_load(name):
    model, meta = load_pretrained(name, device="cpu")
    tok = meta["tokenizer"]
    assert meta["data"]["corpus"] == "pydoc" and tok.vocab_size == model.config.vocab_size
    assert meta["family"] == model.family
    assert meta["metrics"]["val_bits_per_char"] < 2.5
