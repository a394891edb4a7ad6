import math

import numpy as np
import pytest
from scipy import stats

from aigc_course.business.faq import FAQ, OUT_OF_SCOPE, customer_questions
from aigc_course.business.retrieval import (
    BM25Retriever,
    TfidfRetriever,
    accuracy_at_k,
    handoff,
    load_embedding_model,
)
from aigc_course.business.stats import ab_test, mean_interval, sample_size_per_arm, wilson_interval

DOCS = [f.question + " " + f.answer for f in FAQ]


def test_questions_are_seeded_and_complete():
    a, b = customer_questions(3), customer_questions(3)
    assert a == b and a != customer_questions(4)
    n_para = sum(len(f.lexical) + len(f.semantic) for f in FAQ)
    assert len(a) == n_para + len(OUT_OF_SCOPE)
    assert {q.kind for q in a} == {"lexical", "semantic", "out-of-scope"}
    with pytest.raises(ValueError):
        customer_questions(typo_rate=2)


def _bm25_by_hand(docs, query, k1=1.5, b=0.75):
    tok = [d.lower().replace("?", " ").replace(".", " ").replace(",", " ").split() for d in docs]
    avg = sum(map(len, tok)) / len(tok)
    out = []
    for d in tok:
        s = 0.0
        for t in set(query.lower().split()):
            n = sum(t in dd for dd in tok)
            idf = math.log(1 + (len(tok) - n + 0.5) / (n + 0.5))
            tf = d.count(t)
            s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avg))
        out.append(s)
    return np.array(out)


def test_bm25_matches_the_formula():
    docs = ["the cat sat on the mat", "dogs chase cats", "the mat is red and the cat is red"]
    r = BM25Retriever(docs)
    for query in ("cat mat", "red dogs", "the"):
        np.testing.assert_allclose(r.scores([query])[0], _bm25_by_hand(docs, query), rtol=1e-10)
    with pytest.raises(ValueError):
        BM25Retriever(docs, b=2)


@pytest.mark.parametrize("cls", [TfidfRetriever, BM25Retriever])
def test_exact_faq_question_is_found(cls):
    r = cls(DOCS)
    scores = r.scores([f.question for f in FAQ])
    assert accuracy_at_k(scores, np.arange(len(FAQ)), 1) == 1.0


def test_accuracy_at_k_and_handoff():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5], [0.1, 0.2, 0.15]])
    labels = np.array([0, 1, -1])
    assert accuracy_at_k(scores[:2], labels[:2], 1) == 0.5
    assert accuracy_at_k(scores[:2], labels[:2], 2) == 1.0
    h = handoff(scores, labels, 0.4)
    assert h.answered == 1.0 and h.correct_when_answered == 0.5 and h.out_of_scope_answered == 0.0
    assert handoff(scores, labels, 0.1).out_of_scope_answered == 1.0
    with pytest.raises(ValueError):
        accuracy_at_k(scores, labels[:2], 1)


def test_embedding_model_is_installed_and_the_published_one():
    model, why = load_embedding_model(device="cpu")
    assert model is not None, why  # part of the setup: an offline classroom has it
    assert "'weights_are_the_published_ones': True" in why
    from aigc_course.business.retrieval import EmbeddingRetriever

    r = EmbeddingRetriever(DOCS[:4], model)
    s = r.scores(["how long until my parcel arrives", "can I pay with a card"])
    assert s.shape == (2, 4) and s[0].argmax() == 0


def test_embedding_model_refuses_other_weights(monkeypatch):
    from aigc_course.business import retrieval

    monkeypatch.setattr(retrieval, "MINILM_SHA256", "0" * 64)
    model, why = retrieval.load_embedding_model(device="cpu")
    assert model is None and "not all-MiniLM-L6-v2 as published" in why


def test_wilson_interval_properties():
    lo, hi = wilson_interval(0, 20)
    assert lo == 0.0 and 0.1 < hi < 0.2  # the rule of three, roughly 3/n
    assert wilson_interval(20, 20)[1] == 1.0
    assert all(type(v) is float for v in wilson_interval(3, 7))
    lo, hi = wilson_interval(50, 100)
    assert lo < 0.5 < hi and hi - lo == pytest.approx(0.19, abs=0.01)
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


def test_mean_interval_matches_scipy():
    x = [0.81, 0.84, 0.79, 0.86, 0.83]
    mean, lo, hi = mean_interval(x)
    ref = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    assert mean == pytest.approx(np.mean(x)) and (lo, hi) == pytest.approx(ref)


def test_ab_test_matches_chi_square():
    res = ab_test(120, 2000, 165, 2000)
    table = [[120, 2000 - 120], [165, 2000 - 165]]
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    assert res.z**2 == pytest.approx(chi2) and res.p_value == pytest.approx(p)
    assert res.lift_low < res.lift < res.lift_high and res.lift > 0
    n = sample_size_per_arm(0.06, 0.02)
    assert 2000 < n < 3000  # ~2,550 visitors per arm for 6% → 8% at 80% power


def test_with_typos_swaps_letters_inside_long_words():
    from aigc_course.business.faq import with_typos

    text = "where is my package right now"
    typo = with_typos(text, n=1, seed=0)
    assert typo != text and sorted(typo) == sorted(text)  # a transposition, same letters
    assert len(typo.split()) == len(text.split())
    assert with_typos(text, n=2, seed=3) == with_typos(text, n=2, seed=3)  # seeded
    assert with_typos("hi there", n=2) == "hi there"  # no word longer than four letters


def test_non_native_pairs_are_one_per_entry_and_new_text():
    from aigc_course.business.faq import NON_NATIVE, non_native_pairs

    pairs = non_native_pairs()
    assert [lab for _, _, lab in pairs] == list(range(len(FAQ)))
    assert all(native == FAQ[lab].semantic[1] for native, _, lab in pairs)
    assert len(set(NON_NATIVE)) == len(FAQ)  # distinct phrasings
    every_paraphrase = {t.lower() for e in FAQ for t in (e.question, *e.lexical, *e.semantic)}
    assert not every_paraphrase & {t.lower() for t in NON_NATIVE}  # not a copy of one
