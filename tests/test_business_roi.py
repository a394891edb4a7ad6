"""The cost model of generated copy and the click/A-B simulation."""

from __future__ import annotations

import pytest

from aigc_course.business.roi import (
    ClickModel,
    CostAssumptions,
    break_even_rewrite_rate,
    cost_per_1000,
    simulate_clicks,
)
from aigc_course.business.stats import ab_test


def test_cost_per_1000_by_hand():
    a = CostAssumptions(
        copywriter_hourly=36.0,
        copywriter_items_per_hour=12.0,
        review_seconds_per_item=10.0,
        compute_hourly=3.6,
    )
    c = cost_per_1000(items_per_second=2.0, rewrite_rate=0.1, assumptions=a)
    assert c.human_baseline == pytest.approx(3000.0)  # $3 per item
    assert c.compute == pytest.approx(500 / 3600 * 3.6)  # 500 s of compute
    assert c.review == pytest.approx(1000 * 10 / 3600 * 36)
    assert c.rewrite == pytest.approx(100 * 3.0)
    assert c.total == pytest.approx(c.compute + c.review + c.rewrite)
    assert c.saving == pytest.approx(3000 - c.total)
    assert 0 < c.saving_share < 1


def test_break_even_rate_costs_the_same_as_the_baseline():
    a = CostAssumptions()
    rate = break_even_rewrite_rate(5.0, a)
    assert 0 < rate < 1
    c = cost_per_1000(5.0, rate, a)
    assert c.total == pytest.approx(c.human_baseline)
    assert cost_per_1000(5.0, rate + 0.05, a).saving < 0 < cost_per_1000(5.0, rate - 0.05, a).saving


def test_cost_rejects_bad_inputs():
    with pytest.raises(ValueError):
        cost_per_1000(0.0, 0.1)
    with pytest.raises(ValueError):
        cost_per_1000(1.0, 1.5)
    with pytest.raises(ValueError):
        CostAssumptions(copywriter_hourly=-1)


def test_click_model_rewards_coverage_and_penalises_unsupported_claims():
    m = ClickModel(base_ctr=0.05)
    assert m.ctr(1.0, 0) == pytest.approx(0.05)
    assert m.ctr(0.5, 0) < m.ctr(1.0, 0)
    assert m.ctr(1.0, 2) < m.ctr(1.0, 1) < m.ctr(1.0, 0)
    with pytest.raises(ValueError):
        ClickModel(base_ctr=1.0)


def test_simulated_clicks_are_seeded_and_binomial():
    n = 200_000
    a = simulate_clicks([0.04, 0.06], n, seed=1)
    assert a == simulate_clicks([0.04, 0.06], n, seed=1)
    sd = (n * 0.05 * 0.95) ** 0.5
    assert abs(a - 0.05 * n) < 5 * sd
    # a real difference of 1 point is detected at this size; no difference mostly is not
    b = simulate_clicks([0.06], n, seed=2)
    assert ab_test(a, n, b, n).p_value < 1e-6
