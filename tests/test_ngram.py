"""Count-based baselines: normalisation, smoothing, and that more context helps."""

from __future__ import annotations

import numpy as np
import pytest

from aigc_course.models.ngram import KneserNeyLM, UnigramLM
from aigc_course.tokenizer import CharTokenizer

TEXT = "the cat sat on the mat. the dog sat on the log. " * 20 + "a cat and a dog."


@pytest.fixture(scope="module")
def tok():
    return CharTokenizer.from_text(TEXT + "xyz")  # x, y, z never occur in training


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_distribution_sums_to_one_and_is_positive(tok, order):
    lm = KneserNeyLM(tok, order).fit(TEXT)
    for context in ["", "th", "the c", "qqq"]:
        p = lm.distribution(context)
        assert p.shape == (tok.vocab_size,)
        assert np.isclose(p.sum(), 1.0)
        assert (p > 0).all()  # smoothing: nothing is impossible, not even x, y, z
        scalar = sum(lm.prob(context, c) for c in tok.chars)
        assert np.isclose(scalar, 1.0)


def test_unigram_matches_add_one_counts(tok):
    lm = UnigramLM(tok).fit("aac")
    # counts a=2, c=1, plus one for each of the vocabulary's characters
    expected_a = 3 / (3 + tok.vocab_size)
    assert np.isclose(lm.distribution("")[tok.stoi["a"]], expected_a)


def test_more_context_lowers_bits_per_char(tok):
    held_out = "the cat sat on the log. the dog sat on the mat."
    bpc = [KneserNeyLM(tok, n).fit(TEXT).bits_per_char(held_out) for n in (1, 2, 4)]
    assert bpc[0] > bpc[1] > bpc[2]
    assert bpc[2] < 1.0  # this text is nearly deterministic given 3 characters


def test_sampling_is_seeded(tok):
    lm = KneserNeyLM(tok, 3).fit(TEXT)
    a = lm.sample("the ", 30, np.random.default_rng(0))
    b = lm.sample("the ", 30, np.random.default_rng(0))
    assert a == b and a.startswith("the ") and len(a) == 34


def test_bad_order(tok):
    with pytest.raises(ValueError):
        KneserNeyLM(tok, 0)
