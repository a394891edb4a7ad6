"""Notebook 04's exercise judges accept the hidden solutions and name the usual mistakes."""

from __future__ import annotations

import torch

from aigc_course.exercises import _verdict, get


def _verdict_of(exercise_id: str, attempt, **context) -> str | None:
    return _verdict(get(exercise_id), attempt, context)


def _stub(*args, **kwargs):
    raise NotImplementedError  # your code here


def test_solutions_pass_and_stubs_are_not_attempted():
    for ex_id in ("04.marginal", "04.ddim_step"):
        assert _verdict_of(ex_id, get(ex_id).solution()) is None
        assert _verdict_of(ex_id, _stub) == "not attempted"
        assert _verdict_of(ex_id, None) == "not attempted"


def test_marginal_judge_names_the_mistakes():
    v = lambda f: _verdict_of("04.marginal", f)
    assert "product" in v(lambda b: 1 - torch.cumsum(b, 0))
    assert "off by one" in v(
        lambda b: torch.cat([torch.ones(1).double(), torch.cumprod(1 - b, 0)[:-1]])
    )
    assert "1 - beta" in v(lambda b: torch.cumprod(b, 0))
    assert "sqrt(alpha_bar)" in v(lambda b: torch.cumprod((1 - b).sqrt(), 0))
    assert v(lambda b: torch.exp(torch.cumsum(torch.log1p(-b), 0))) is None  # same, via logs


def test_ddim_judge_names_the_mistakes():
    v = lambda f: _verdict_of("04.ddim_step", f)

    def x0(x, e, a):
        return (x - (1 - a) ** 0.5 * e) / a**0.5

    assert "sign of the eps term" in v(
        lambda x, e, a, p: p**0.5 * (x + (1 - a) ** 0.5 * e) / a**0.5 + (1 - p) ** 0.5 * e
    )
    assert "standard deviation" in v(
        lambda x, e, a, p: p**0.5 * (x - (1 - a) * e) / a**0.5 + (1 - p) * e
    )
    assert "earlier" in v(lambda x, e, a, p: p**0.5 * x0(x, e, a) + (1 - a) ** 0.5 * e)
    assert "sqrt(ab_prev)" in v(lambda x, e, a, p: a**0.5 * x0(x, e, a) + (1 - p) ** 0.5 * e)
    assert v(lambda x, e, a, p: x) is not None
