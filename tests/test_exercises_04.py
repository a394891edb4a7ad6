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


STEPS_CURVE = [
    {"method": "euler", "steps": 4, "nfe": 4, "fid": 12.0},
    {"method": "heun", "steps": 2, "nfe": 4, "fid": 9.0},
    {"method": "euler", "steps": 16, "nfe": 16, "fid": 8.0},
]
GUIDANCE_CURVE = [
    {"guidance": 1.0, "conditional_accuracy": 0.93, "recall": 0.90, "fid": 12.0},
    {"guidance": 1.5, "conditional_accuracy": 0.96, "recall": 0.85, "fid": 10.0},
    {"guidance": 2.0, "conditional_accuracy": 0.98, "recall": 0.74, "fid": 11.0},
    {"guidance": 3.0, "conditional_accuracy": 0.99, "recall": 0.60, "fid": 15.0},
]


def test_nfe_prediction_is_judged_against_the_measured_curve():
    v = lambda answer, curve=STEPS_CURVE: _verdict_of("04.nfe_predict", answer, steps_curve=curve)
    assert v(get("04.nfe_predict").solution(steps_curve=STEPS_CURVE)) is None
    assert v("heun") is None and v(None) == "not attempted"
    assert "count evaluations" in v("euler").lower()
    flipped = [dict(r, fid=20.0) if r["method"] == "heun" else r for r in STEPS_CURVE]
    assert v("euler", flipped) is None  # the answer follows the numbers, not a fixed letter


def test_guidance_choice_respects_the_recall_constraint():
    def v(f):
        return _verdict_of("04.guidance_choice", f, curve=GUIDANCE_CURVE)

    assert v(get("04.guidance_choice").solution(curve=GUIDANCE_CURVE)) is None
    assert v(_stub) == "not attempted"
    assert "recall constraint" in v(
        lambda c: max(c, key=lambda r: r["conditional_accuracy"])["guidance"]
    )
    assert "FID-best" in v(lambda c: min(c, key=lambda r: r["fid"])["guidance"])
    # a rule that happens to give 2.0 here but ignores the constraint elsewhere is caught
    assert "loses half the recall" in v(
        lambda c: (
            2.0
            if len(c) == 4 and c[1]["guidance"] == 1.5
            else max(c, key=lambda r: r["conditional_accuracy"])["guidance"]
        )
    )
