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


def test_format_p_floors_tiny_values():
    from aigc_course.business.stats import format_p

    assert format_p(3e-55) == "p < 0.001"
    assert format_p(0.0342) == "p = 0.034"
    assert format_p(0.001) == "p = 0.001"
    with pytest.raises(ValueError):
        format_p(1.5)


def test_holm_by_hand():
    import numpy as np

    from aigc_course.business.stats import holm

    # sorted 0.01, 0.02, 0.04 -> 3*0.01, max(2*0.02, .03), max(1*0.04, .04)
    np.testing.assert_allclose(holm([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])
    # monotone step-down: a later raw p cannot get a smaller adjusted p than an earlier one
    np.testing.assert_allclose(holm([0.01, 0.011, 0.5]), [0.03, 0.03, 0.5])
    np.testing.assert_allclose(holm([0.6, 0.7]), [1.0, 1.0])
    with pytest.raises(ValueError):
        holm([])


def test_non_inferiority_is_one_sided_with_a_margin():
    from scipy import stats as st

    from aigc_course.business.stats import non_inferiority_test

    n = 30_000
    # equal rates: non-inferior at a half-point margin with this many visitors
    t = non_inferiority_test(1500, n, 1500, n, margin=0.005)
    se = (2 * 0.05 * 0.95 / n) ** 0.5
    assert t.z == pytest.approx(0.005 / se)
    assert t.p_value == pytest.approx(st.norm.sf(0.005 / se))
    assert t.lift_low == pytest.approx(-st.norm.ppf(0.95) * se)
    assert t.non_inferior and t.p_value < 0.05
    # a true drop as large as the margin is not declared non-inferior
    bad = non_inferiority_test(1500, n, 1350, n, margin=0.005)
    assert not bad.non_inferior and bad.p_value > 0.05
    with pytest.raises(ValueError):
        non_inferiority_test(1, 10, 1, 10, margin=0.0)


def test_opening_share_and_the_sameness_effect():
    import numpy as np

    from aigc_course.business.roi import opening_share

    share = opening_share(["A red mug.", "A blue cup.", "Blue cup, a gift."])
    np.testing.assert_allclose(share, [0.5, 0.5, 0.0])
    assert opening_share(["Only one"]).tolist() == [0.0]
    m = ClickModel(base_ctr=0.05, beta_sameness=-0.5)
    assert m.ctr(1.0, 0, sameness=1.0) < m.ctr(1.0, 0, sameness=0.0) == pytest.approx(0.05)
    assert ClickModel().ctr(1.0, 0, sameness=1.0) == pytest.approx(0.05)  # off by default


def test_traffic_turns_a_lift_into_money():
    from aigc_course.business.roi import Traffic, months_to_cancel

    t = Traffic(visits_per_month=100_000, orders_per_click=0.1, order_value=50, gross_margin=0.2)
    assert t.monthly_margin(-0.01) == pytest.approx(-0.01 * 100_000 * 0.1 * 50 * 0.2)
    assert t.monthly_margin(0.0) == 0.0
    assert months_to_cancel(1000.0, 100.0) == pytest.approx(10.0)
    assert months_to_cancel(1000.0, 0.0) == float("inf")
    assert months_to_cancel(-5.0, 100.0) == 0.0  # no saving: nothing to wait for
    with pytest.raises(ValueError):
        Traffic(order_value=-1)


def test_build_or_buy_by_hand():
    from aigc_course.business.roi import (
        LLMCostAssumptions,
        api_cost_per_1000,
        payback_items,
        self_hosted_cost_per_1000,
    )

    a = LLMCostAssumptions(
        chars_per_token=4, api_input_per_million=1.0, api_output_per_million=3.0, utilisation=0.5
    )
    # 400 prompt chars = 100 tokens, 800 output chars = 200 tokens: 100e-6 + 600e-6 dollars
    assert api_cost_per_1000(400, 800, a) == pytest.approx(1000 * 700e-6)
    cached = LLMCostAssumptions(
        chars_per_token=4,
        api_input_per_million=1.0,
        api_output_per_million=3.0,
        cache_hit_rate=0.25,
    )
    assert api_cost_per_1000(400, 800, cached) == pytest.approx(0.75 * 1000 * 700e-6)
    # 10 items/s: 1,000 items take 100 s; at $3.60/h and half utilisation, $0.20
    assert self_hosted_cost_per_1000(10.0, 3.6, a) == pytest.approx(0.2)
    assert payback_items(100.0, 0.01) == pytest.approx(10_000)
    assert payback_items(100.0, -0.01) == float("inf")
    with pytest.raises(ValueError):
        LLMCostAssumptions(utilisation=0.0)
    with pytest.raises(ValueError):
        self_hosted_cost_per_1000(0.0, 1.0, a)


def test_review_recall_and_escaped_errors():
    a = CostAssumptions(review_recall=0.8, cost_per_escaped_error=50.0)
    c = cost_per_1000(10.0, 0.1, a)
    human_per_item = 40.0 / 12.0
    assert c.rewrite == pytest.approx(1000 * 0.1 * 0.8 * human_per_item)  # caught: rewritten
    assert c.escaped == pytest.approx(1000 * 0.1 * 0.2 * 50.0)  # missed: shipped
    assert c.total == pytest.approx(c.compute + c.review + c.rewrite + c.escaped)
    # defaults: a perfect reviewer, nothing escapes (the notebook's main calculation)
    assert cost_per_1000(10.0, 0.1).escaped == 0.0
    rate = break_even_rewrite_rate(10.0, a)
    assert cost_per_1000(10.0, rate, a).total == pytest.approx(
        cost_per_1000(10.0, rate, a).human_baseline
    )
    assert rate < break_even_rewrite_rate(10.0)  # escaped errors cost more than rewrites here
    with pytest.raises(ValueError):
        CostAssumptions(review_recall=1.5)
