"""Char tokenizer: round trips, unseen characters, JSON save/load."""

from __future__ import annotations

import pytest
import torch

from aigc_course.tokenizer import CharTokenizer, UnknownCharacterError


@pytest.fixture
def tok() -> CharTokenizer:
    return CharTokenizer.from_text("hello world?")


def test_vocab_is_sorted_unique_chars(tok):
    assert tok.chars == sorted(set("hello world?"))
    assert tok.vocab_size == 9
    assert tok.encode("d") == [tok.chars.index("d")]


def test_round_trip(tok):
    text = "hello world? hello"
    ids = tok.encode(text)
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text
    assert tok.decode(torch.tensor(ids)) == text


def test_unseen_characters_error_by_default(tok):
    with pytest.raises(UnknownCharacterError, match="'z'"):
        tok.encode("hazy")


def test_unseen_characters_replace_and_skip(tok):
    ids, seen = tok.encode_with_mask("hazy", unknown="replace")
    assert tok.decode(ids) == "h???"
    assert seen == [True, False, False, False]
    assert tok.decode(tok.encode("hazy", unknown="skip")) == "h"
    assert tok.unseen("hazy") == ["a", "y", "z"]


def test_replacement_falls_back_when_no_question_mark():
    t = CharTokenizer.from_text("ab c")
    assert t.replacement == " "
    assert CharTokenizer.from_text("ab").replacement == "a"


def test_bad_inputs(tok):
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([99])
    with pytest.raises(ValueError, match="unknown="):
        tok.encode("h", unknown="ignore")
    with pytest.raises(ValueError, match="duplicate"):
        CharTokenizer(["a", "a"])


def test_json_round_trip(tok, tmp_path):
    path = tok.save(tmp_path / "tok.json")
    back = CharTokenizer.load(path)
    assert back == tok
    assert back.encode("hello") == tok.encode("hello")
    unicode = CharTokenizer.from_text("naïve → ok")
    assert CharTokenizer.load(unicode.save(tmp_path / "u.json")) == unicode
