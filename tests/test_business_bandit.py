import numpy as np
import pytest
from scipy import integrate, stats

from aigc_course.business.bandit import (
    Campaign,
    beta_posterior,
    chi2_pvalue,
    chi2_sample_size,
    compare,
    simulate,
    thompson_allocation,
)

NULL = Campaign((0.3, 0.3, 0.3), visitors=3000, batch=150, test_per_arm=900)
ALT = Campaign((0.04, 0.044, 0.05, 0.046), visitors=60_000, batch=1000, test_per_arm=9250)


def test_posterior_update_is_the_normalised_prior_times_likelihood():
    clicks, views, prior = 7, 40, (2.0, 3.0)
    a, b = beta_posterior(clicks, views, prior)
    grid = np.linspace(1e-4, 1 - 1e-4, 20001)
    unnorm = stats.beta.pdf(grid, *prior) * stats.binom.pmf(clicks, views, grid)
    posterior = unnorm / integrate.trapezoid(unnorm, grid)
    np.testing.assert_allclose(posterior, stats.beta.pdf(grid, a, b), atol=1e-4, rtol=1e-3)
    a2, b2 = beta_posterior(np.array([[0, 5]]), np.array([[10, 5]]))
    np.testing.assert_array_equal(a2, [[1, 6]])
    np.testing.assert_array_equal(b2, [[11, 1]])


def test_thompson_shows_each_variant_with_its_probability_of_being_best():
    a, b = np.array([[3.0, 5.0]]), np.array([[9.0, 8.0]])
    # P(X1 > X0) for X0 ~ Beta(3, 9), X1 ~ Beta(5, 8): ∫ f1(x) F0(x) dx with scipy's Beta
    p1 = integrate.quad(lambda x: stats.beta.pdf(x, 5, 8) * stats.beta.cdf(x, 3, 9), 0, 1)[0]
    rng = np.random.default_rng(0)
    n = 200_000
    for draws in (None, 400):
        shown = thompson_allocation(a, b, n, rng, draws)
        assert shown.sum() == n
        m = n if draws is None else draws  # the estimate of π uses m draws
        se = np.sqrt(p1 * (1 - p1) * (1 / n + (0 if draws is None else 1 / m)))
        assert abs(shown[0, 1] / n - p1) < 4 * se, (shown, p1)


def test_chi2_pvalue_matches_scipy_contingency_table():
    clicks = np.array([[30, 45, 38], [10, 10, 10]])
    views = np.array([[500, 500, 480], [200, 210, 190]])
    p = chi2_pvalue(clicks, views)
    for row in range(2):
        table = np.stack([clicks[row], views[row] - clicks[row]])
        ref = stats.chi2_contingency(table, correction=False).pvalue
        assert p[row] == pytest.approx(ref, rel=1e-9)
    assert chi2_pvalue(np.array([0, 0]), np.array([10, 10])) == 1.0


def test_fixed_test_holds_alpha_and_peeking_does_not():
    fixed = simulate(NULL, "fixed", n_rep=3000, seed=1)
    peek = simulate(NULL, "peeking", n_rep=3000, seed=1)
    lo, hi = stats.binom.interval(0.999, 3000, NULL.alpha)
    assert lo <= fixed.significant.sum() <= hi, fixed.significant.mean()
    assert peek.significant.mean() > 2.5 * NULL.alpha, peek.significant.mean()
    assert (peek.significant >= fixed.significant).all(), "the last look is the fixed test"
    assert (fixed.regret == 0).all(), "no variant is better: nothing to lose"


def test_sample_size_gives_the_power_it_promises():
    rates = (0.2, 0.23, 0.25)
    n = chi2_sample_size(rates, power=0.8, multiple=100)
    assert n % 100 == 0 and chi2_sample_size(rates, power=0.9) > n
    c = Campaign(rates, visitors=3 * n, batch=300, test_per_arm=n)
    power = simulate(c, "fixed", n_rep=2000, seed=2).significant.mean()
    assert 0.76 < power < 0.86, power
    with pytest.raises(ValueError):
        chi2_sample_size((0.1, 0.1))


def test_thompson_earns_while_learning_and_finds_the_best_variant():
    res = compare(ALT, n_rep=200, seed=0, draws=200)
    assert res["thompson"].regret_ci[1] < res["fixed"].regret_ci[0], res
    assert res["thompson"].best_picked > res["fixed"].best_picked
    assert res["fixed"].declared_ci[0] > 0.7, "the test was sized for power 0.8"
    out = simulate(ALT, "thompson", n_rep=50, seed=0, draws=200)
    assert (out.views.sum(1) == ALT.visitors).all()
    assert out.views[:, ALT.best].mean() > out.views[:, 0].mean(), "traffic moves to the best"


@pytest.mark.parametrize("policy", ["fixed", "peeking", "thompson"])
def test_simulation_is_determined_by_its_seed(policy):
    a, b, c = (simulate(ALT, policy, n_rep=20, seed=s, draws=50) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.views, b.views)
    np.testing.assert_array_equal(a.regret, b.regret)
    assert not np.array_equal(a.views, c.views) or not np.array_equal(a.regret, c.regret)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="rates"):
        Campaign((0.5,))
    with pytest.raises(ValueError, match="multiple"):
        Campaign((0.1, 0.2), batch=101)
    with pytest.raises(ValueError, match="fit"):
        Campaign((0.1, 0.2), visitors=1000, batch=100, test_per_arm=600)
    with pytest.raises(ValueError, match="policy"):
        simulate(NULL, "greedy")
    with pytest.raises(ValueError):
        beta_posterior(5, 3)
