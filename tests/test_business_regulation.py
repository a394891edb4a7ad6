"""The regulation checklist: dated facts, each tied to a risk the course measures."""

from __future__ import annotations

import datetime as dt

import pytest

from aigc_course.business.regulation import RISKS, RULES, Rule


def test_every_rule_is_dated_and_tied_to_a_measured_risk():
    for rule in RULES:
        adopted = dt.date.fromisoformat(rule.adopted)
        effective = dt.date.fromisoformat(rule.effective)
        assert adopted <= effective, rule.title
        assert set(rule.risks) <= set(RISKS) and rule.risks
        assert "Art." in rule.requires  # a provision, not a summary of a summary
    assert {risk for rule in RULES for risk in rule.risks} == set(RISKS)  # each risk answered
    labelling = next(r for r in RULES if r.title.startswith("Measures for Labeling"))
    assert labelling.effective == "2025-09-01"


def test_rule_rejects_an_unknown_risk_or_dates_out_of_order():
    with pytest.raises(ValueError):
        Rule("x", "y", "2020-01-01", "2021-01-01", "Art. 1", ("weather",))
    with pytest.raises(ValueError):
        Rule("x", "y", "2022-01-01", "2021-01-01", "Art. 1", ("privacy",))
