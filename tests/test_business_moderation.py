"""The content filter and its threshold (business.moderation), and model cards
(business.report)."""

from __future__ import annotations

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
