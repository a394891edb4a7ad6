"""Exercises of the case studies on the data the notebooks use: the answers must depend on
the numbers (an exercise whose two answers coincide teaches nothing)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from aigc_course.exercises import get


def test_11_tau_strict_moves_on_the_course_faq():
    from aigc_course.business.faq import FAQ, customer_questions
    from aigc_course.business.retrieval import BM25Retriever
    from aigc_course.exercises.ch11 import _cost

    questions = customer_questions(seed=0)
    labels = np.array([q.label for q in questions])
    tune = np.array([q.variant for q in questions]) == 0
    docs = [f"{e.question} {e.answer}" for e in FAQ]
    s = BM25Retriever(docs).scores([q.text for q in questions])
    grid = np.quantile(s, np.linspace(0, 1, 201))
    tau = float(
        grid[int(np.argmin([_cost(s[tune], labels[tune], t, 0.01, 10.0, 4.0) for t in grid]))]
    )
    ctx = dict(
        s_best=s, labels=labels, tune=tune, grid=grid, tau=tau, cost_human=4.0, cost_auto=0.01
    )
    tau_strict, direction = get("11.tau_strict").solution(**ctx)
    assert tau_strict > tau and direction == "up", (tau, tau_strict)  # the answer moves
    get("11.tau_strict").judge((tau_strict, "up"), **ctx)
    with pytest.raises(AssertionError, match="'up'"):
        get("11.tau_strict").judge((tau_strict, "same"), **ctx)
    with pytest.raises(AssertionError, match="tau_strict"):
        get("11.tau_strict").judge((tau, "same"), **ctx)  # the old threshold, unchanged
    # enough out-of-scope questions on each side to tune and to report a rate
    assert (labels[tune] < 0).sum() >= 10 and (labels[~tune] < 0).sum() >= 10


def test_11_injection_judge_checks_payloads_and_clean_answers():
    from aigc_course.business import rag
    from aigc_course.business.faq import FAQ

    answers = [e.answer for e in FAQ]
    ex = get("11.injection")
    ex.judge(ex.solution(answers=answers), answers=answers)
    words = re.compile(r"(?i)\b(ignore|assistant|bot|ai|reply|say|important|rule)\b")
    with pytest.raises(AssertionError, match="payload"):
        ex.judge(lambda p: p, answers=answers)  # no defence
    with pytest.raises(AssertionError, match="payload"):  # words only: an unseen phrasing passes
        ex.judge(
            lambda p: " ".join(s for s in rag.sentences(p) if not words.search(s)), answers=answers
        )
    with pytest.raises(AssertionError, match="clean FAQ answer"):
        ex.judge(lambda p: p.split(".")[0], answers=answers)  # too eager: cuts 9.90
    with pytest.raises(AssertionError, match="clean FAQ answer"):
        ex.judge(lambda p: "", answers=answers)  # drops everything


def test_10_rewrite_policy_tells_the_two_policies_apart():
    from aigc_course.business.roi import CostAssumptions, cost_per_1000

    class Report:  # what notebook 10 hands over: top-p copy, where the two rates differ
        faithful_rate, unsupported_rate = 0.883, 0.10

    ctx = dict(items_per_second=10.0, report=Report(), assume=CostAssumptions())
    right = get("10.rewrite_policy").solution(**ctx)
    current = cost_per_1000(10.0, 1 - 0.883, CostAssumptions())
    assert right.total < current.total  # the cheaper policy is cheaper
    get("10.rewrite_policy").judge(right, **ctx)
    with pytest.raises(AssertionError, match="current policy"):
        get("10.rewrite_policy").judge(current, **ctx)


def test_12_learned_filter_is_judged_on_unseen_templates():
    from aigc_course.business import moderation

    messages = moderation.make_moderation_set(1500, harmful_share=0.2, hard_share=0.4, seed=3)
    tune, held = moderation.split_by_template(messages, seed=0)
    kinds = np.array([m.kind for m in held])
    dis = kinds == "disguised"
    scores = np.array([moderation.keyword_score(m.text) for m in held])
    ctx = dict(tune=tune, held=held, dis=dis, scores=scores)
    right = get("12.learned_filter").solution(**ctx)
    get("12.learned_filter").judge(right, **ctx)
    assert {m.text for m in tune}.isdisjoint({m.text for m in held})
    # a filter that had seen the held-out texts would be scored on memory: the judge's
    # answer differs from what training on every message gives, or both are perfect
    from aigc_course.exercises.ch12 import _fit_filter

    leaked = float(np.mean(_fit_filter(messages, held)[dis] < 0.5))
    assert leaked == 0.0 and right >= leaked


def test_12_strict_platform_chooses_on_tuning_and_reports_on_held_out():
    from aigc_course.business import moderation

    messages = moderation.make_moderation_set(4000, harmful_share=0.1, hard_share=0.25, seed=0)
    tune, held = moderation.split_by_template(messages, seed=0)

    def arrays(msgs):
        return (
            np.array([moderation.keyword_score(m.text) for m in msgs]),
            np.array([m.harmful for m in msgs]),
        )

    (scores_t, labels_t), (scores, labels) = arrays(tune), arrays(held)
    grid = np.round(np.arange(0.0, 5.01, 0.5), 2)
    ctx = dict(scores_t=scores_t, labels_t=labels_t, scores=scores, labels=labels, grid=grid)
    ex = get("12.strict_platform")
    threshold, cost = ex.solution(**ctx)
    ex.judge((threshold, cost), **ctx)
    # a $50 miss lowers the threshold below the $5 one of the notebook
    five = moderation.best_threshold(scores_t, labels_t, 1.0, 5.0, thresholds=grid)
    assert threshold < five.threshold
    tuned_cost = moderation.evaluate_filter(scores_t, labels_t, threshold).cost_per_1000(1, 50)
    assert abs(tuned_cost - cost) > 1e-6  # the two sets disagree, so the judge can tell
    with pytest.raises(AssertionError, match="held-out set"):
        ex.judge((threshold, tuned_cost), **ctx)
    with pytest.raises(AssertionError, match="expected"):
        ex.judge((five.threshold, cost), **ctx)
    leaked = moderation.best_threshold(scores, labels, 1.0, 50.0, thresholds=grid).threshold
    if leaked != threshold:
        with pytest.raises(AssertionError, match="tuning set"):
            ex.judge((leaked, cost), **ctx)


def test_12_guess_budget_counts_extracted_canaries_for_100_guesses():
    by_level = {0: [1.0, 2.0], 1: [11.0, 14.0], 4: [12.0, 17.0], 64: [19.9, 19.9]}
    by_level = {r: np.array(v) for r, v in by_level.items()}
    ex = get("12.guess_budget")
    right = ex.solution(by_level=by_level)
    assert right == {0: 0, 1: 1, 4: 1, 64: 2}  # log2(1e6 / 100) ≈ 13.3 bits
    ex.judge(right, by_level=by_level)
    ex.judge({str(r): float(k) for r, k in right.items()}, by_level=by_level)  # keys as text
    with pytest.raises(AssertionError, match="1,000 guesses"):
        ex.judge({0: 0, 1: 2, 4: 2, 64: 2}, by_level=by_level)
    with pytest.raises(AssertionError, match="10 guesses"):
        ex.judge({0: 0, 1: 0, 4: 1, 64: 2}, by_level=by_level)
    with pytest.raises(AssertionError, match="NOT extract"):
        ex.judge({0: 2, 1: 1, 4: 1, 64: 0}, by_level=by_level)
    with pytest.raises(AssertionError, match="one entry per level"):
        ex.judge({1: 1}, by_level=by_level)
    with pytest.raises(AssertionError, match="dict"):
        ex.judge(4, by_level=by_level)
    with pytest.raises(AssertionError, match="expected"):
        ex.judge({0: 1, 1: 1, 4: 1, 64: 2}, by_level=by_level)
