"""The content filter and its threshold (business.moderation), and model cards
(business.report)."""

from __future__ import annotations

import numpy as np
import pytest

from aigc_course.business import moderation, report


def test_moderation_set_and_filter_metrics():
    data = moderation.make_moderation_set(2000, harmful_share=0.3, seed=0)
    assert data == moderation.make_moderation_set(2000, harmful_share=0.3, seed=0)
    share = sum(m.harmful for m in data) / len(data)
    assert 0.26 < share < 0.34
    assert {m.kind for m in data} >= {"disguised", "benign_alarming", "benign", "scam"}
    assert moderation.keyword_score("you are an idiot") == 2.0
    assert moderation.keyword_score("y0u are an id10t") == 0.0  # the filter's blind spot
    scores, labels = [0.0, 1.0, 2.0, 3.0], [False, True, False, True]
    res = moderation.evaluate_filter(scores, labels, threshold=1.5)
    assert (res.tp, res.fp, res.tn, res.fn) == (1, 1, 1, 1)
    assert res.fpr == 0.5 and res.fnr == 0.5
    assert res.cost_per_1000(cost_fp=1.0, cost_fn=10.0) == pytest.approx(1000 * 11 / 4)
    best = moderation.best_threshold(scores, labels, 1.0, 10.0)
    assert (best.fn, best.threshold) == (0, 1.0)  # missing harm is dear: flag from 1.0 up
    cheap_fn = moderation.best_threshold(scores, labels, 10.0, 1.0)
    assert cheap_fn.fp == 0


def test_model_card_renders_every_field():
    card = report.model_card({"Metrics": {"bits/char": 1.23, "exposure": "2.0 bits"}}, "LM")
    assert "| bits/char | 1.23 |" in card and "| exposure | 2.0 bits |" in card
    assert card.startswith("### LM") and "**Metrics**" in card
    table = report.markdown_table([("a", 1), ("b", 2)], ("k", "v"))
    assert table.splitlines() == ["| k | v |", "|---|---|", "| a | 1 |", "| b | 2 |"]


def test_split_by_template_shares_no_template_and_no_text():
    messages = moderation.make_moderation_set(3000, harmful_share=0.3, seed=0)
    tune, held = moderation.split_by_template(messages, seed=0)
    assert len(tune) + len(held) == len(messages)
    assert {m.template for m in tune}.isdisjoint({m.template for m in held})
    assert {m.text for m in tune}.isdisjoint({m.text for m in held})
    # every kind is on both sides, so the held-out set still has each kind of error
    assert {m.kind for m in tune} == {m.kind for m in held} == {m.kind for m in messages}
    assert moderation.split_by_template(messages, seed=0) == (tune, held)  # seeded
    with pytest.raises(ValueError):
        moderation.split_by_template([moderation.Message("hi", False, "benign")])


def test_cost_at_prevalence_by_hand():
    r = moderation.FilterResult(threshold=1.0, tp=8, fp=10, tn=90, fn=2)  # fnr 0.2, fpr 0.1
    assert r.cost_at_prevalence(0.5, 1.0, 5.0) == pytest.approx(1000 * (0.5 * 0.2 * 5 + 0.5 * 0.1))
    # at the set's own prevalence it agrees with the count-based cost
    assert r.cost_at_prevalence(10 / 110, 1.0, 5.0) == pytest.approx(r.cost_per_1000(1.0, 5.0))
    with pytest.raises(ValueError):
        r.cost_at_prevalence(1.5, 1.0, 5.0)


def test_constrained_threshold_meets_the_miss_limit_at_a_price():
    scores = np.array([0.0, 0.0, 0.5, 0.5, 1.0, 2.0, 3.0, 0.5])
    labels = np.array([False, False, False, False, True, True, True, True])
    threat = np.array([False, False, False, False, False, False, False, True])  # score 0.5
    grid = [0.0, 0.5, 1.0, 2.0, 3.0]
    free = moderation.best_threshold(scores, labels, 1.0, 1.0, thresholds=grid)
    safe = moderation.constrained_threshold(scores, labels, threat, 0.0, 1.0, 1.0, grid)
    assert free.threshold == 1.0 and safe.threshold == 0.5  # catching the threat costs alarms
    assert safe.cost_per_1000(1.0, 1.0) >= free.cost_per_1000(1.0, 1.0)
    none = moderation.constrained_threshold(scores, labels, threat, 0.0, 1.0, 1.0, [1.0, 2.0])
    assert none is None
    with pytest.raises(ValueError):
        moderation.constrained_threshold(scores, labels, ~labels, 0.0, 1.0, 1.0, grid)
