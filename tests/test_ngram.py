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


def test_interpolated_kneser_ney_by_hand():
    # the ten characters "abracadabr", V = 5 (a b c d r), a bigram model, D = 0.5.
    # bigrams: ab br ra ac ca ad da ab br  ->  after "a": b 2, c 1, d 1 (total 4, 3 types)
    # lower order, continuation counts N1+(• c) over the 7 bigram types
    # {ab, br, ra, ac, ca, ad, da}: a 3 (r, c, d), b 1, c 1, d 1, r 1 (total 7, 5 types)
    #   p0(b) = max(1 - 0.5, 0) / 7 + 0.5 · 5 / 7 · 1/5 = 0.5/7 + 0.5/7 = 1/7
    #   p0(a) = (3 - 0.5) / 7 + 0.5/7 = 3/7
    #   p(b | a) = (2 - 0.5) / 4 + 0.5 · 3 / 4 · p0(b) = 0.375 + 0.375/7 = 3/7
    #   p(r | a) = 0 + 0.375 · p0(r) = 0.375/7 = 3/56   (r never follows a)
    #   p(a | a) = 0 + 0.375 · 3/7 = 9/56
    tok = CharTokenizer.from_text("abracadabr")
    lm = KneserNeyLM(tok, order=2, discount=0.5).fit("abracadabr")
    assert lm.prob("a", "b") == pytest.approx(3 / 7, abs=1e-12)
    assert lm.prob("a", "r") == pytest.approx(3 / 56, abs=1e-12)
    assert lm.prob("a", "a") == pytest.approx(9 / 56, abs=1e-12)
    assert lm.prob("", "a") == pytest.approx(3 / 7, abs=1e-12)  # the lower order alone
    # prob and distribution are one recursion: the same numbers, entry by entry
    for context in ["", "a", "r", "xa"]:
        dist = lm.distribution(context)
        scalar = [lm.prob(context, c) for c in tok.chars]
        np.testing.assert_allclose(dist, scalar, rtol=0, atol=1e-15)


def test_lower_order_counts_contexts_not_occurrences():
    # "u" is the most frequent character, but it only ever follows "q"; "e" is rarer and
    # follows three different characters. After a context never seen, Kneser-Ney backs
    # off to the continuation distribution, where "e" beats "u"; absolute discounting
    # (the same interpolation with raw counts below) would rank them the other way.
    text = "qu" * 10 + "be" + "ce" + "de" + "z"
    tok = CharTokenizer.from_text(text)
    assert text.count("u") > text.count("e")
    kn = KneserNeyLM(tok, order=2, discount=0.5).fit(text)
    assert kn.prob("z", "e") > 2 * kn.prob("z", "u")  # "z" is never followed by anything
    # the 9 bigram types {qu, uq, ub, be, ec, ce, ed, de, ez} end in 7 distinct
    # characters (all of V = 7); N1+(• u) = 1, N1+(• e) = 3, so with D = 0.5
    #   p0(u) = (1 - 0.5)/9 + 0.5 · 7/9 · 1/7 = 1/9,  p0(e) = (3 - 0.5)/9 + 0.5/9 = 1/3
    assert tok.vocab_size == 7
    assert kn.prob("z", "u") == pytest.approx(1 / 9, abs=1e-12)
    assert kn.prob("z", "e") == pytest.approx(1 / 3, abs=1e-12)
    # the order-1 model (raw counts, i.e. absolute discounting) says the opposite
    unigram = KneserNeyLM(tok, order=1, discount=0.5).fit(text)
    assert unigram.prob("", "u") > unigram.prob("", "e")


def test_fit_refuses_characters_outside_the_vocabulary():
    with pytest.raises(ValueError, match="outside the vocabulary"):
        KneserNeyLM(CharTokenizer.from_text("ab"), 2).fit("abc")
