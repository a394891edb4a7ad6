"""Notebook 07's exercise judges accept the hidden solutions and name the usual mistakes."""

from __future__ import annotations

import torch

from aigc_course.exercises import _verdict, get

CURVE = [
    {"beta": 0.1, "unsupported_rate": 0.10, "distinct_2": 0.50, "coverage": 0.70},
    {"beta": 0.3, "unsupported_rate": 0.12, "distinct_2": 0.54, "coverage": 0.80},
    {"beta": 1.0, "unsupported_rate": 0.20, "distinct_2": 0.55, "coverage": 0.82},
]
REFERENCE = {"unsupported_rate": 0.25, "distinct_2": 0.58, "coverage": 0.83}


def _verdict_of(exercise_id: str, attempt, **context) -> str | None:
    return _verdict(get(exercise_id), attempt, context)


def _stub(*args, **kwargs):
    raise NotImplementedError  # your code here


def test_solutions_pass_and_stubs_are_not_attempted():
    contexts = {
        "07.lora_count": {},
        "07.response_mask": {},
        "07.dpo_gradient": {},
        "07.choose_beta": {"curve": CURVE, "reference": REFERENCE},
    }
    for ex_id, ctx in contexts.items():
        assert _verdict_of(ex_id, get(ex_id).solution(**ctx), **ctx) is None
        assert _verdict_of(ex_id, _stub, **ctx) == "not attempted"
        assert _verdict_of(ex_id, None, **ctx) == "not attempted"


def test_lora_count_names_the_mistakes():
    v = lambda f: _verdict_of("07.lora_count", f)
    assert "full weights" in v(lambda d, n, r: n * (3 * d * d + 4 * d * d))
    assert "one layer" in v(lambda d, n, r: r * (4 * d) + r * (5 * d))
    assert "c_fc" in v(lambda d, n, r: n * r * 4 * d)
    assert v(lambda d, n, r: 9 * d * r * n) is None  # the same count, simplified


def test_response_mask_names_the_mistakes():
    v = lambda f: _verdict_of("07.response_mask", f)
    ignore = lambda ids: torch.full_like(ids[1:], -100)
    assert "not shifted" in v(lambda ids, m: (ids[:-1], torch.where(m[:-1], ids[1:], ignore(ids))))
    assert "inverted" in v(lambda ids, m: (ids[:-1], torch.where(~m[1:], ids[1:], ignore(ids))))
    assert "nothing is masked" in v(lambda ids, m: (ids[:-1], ids[1:]))
    assert "T - 1" in v(lambda ids, m: (ids, ids))


def test_dpo_gradient_names_the_mistakes():
    v = lambda f: _verdict_of("07.dpo_gradient", f)
    sig = lambda z: float(torch.sigmoid(torch.tensor(z)))
    assert "wrong argument" in v(lambda m, b: -b * sig(b * m))
    assert "sign" in v(lambda m, b: b * sig(-b * m))
    assert "factor beta" in v(lambda m, b: -sig(-b * m))
    assert v(lambda m, b: -b / (1 + torch.exp(torch.tensor(b * m)).item())) is None


def test_choose_beta_checks_the_constraint():
    v = lambda f: _verdict_of("07.choose_beta", f, curve=CURVE, reference=REFERENCE)
    lowest = lambda curve, ref: min(curve, key=lambda r: r["unsupported_rate"])["beta"]
    assert "constraint" in v(lowest)  # 0.1 loses 0.08 of distinct-2 and 0.13 of coverage
    assert v(lambda curve, ref: 0.3) is not None  # right here by luck, wrong on another curve
