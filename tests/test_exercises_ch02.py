"""Notebook 02's exercises: each hidden solution passes, and the usual wrong attempts fail."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from aigc_course.exercises import get


def _verdict(exercise_id, attempt, **context):
    try:
        get(exercise_id).judge(attempt, **context)
    except AssertionError as err:
        return str(err)
    return None


def _step(detach=False, backward=True, step=True, zero=True):
    def generator_step(G, D, opt_G, z):
        fake = G(z).detach() if detach else G(z)
        logits = D(fake)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        if zero:
            opt_G.zero_grad()
        if backward and not detach:
            loss.backward()
        if step:
            opt_G.step()
        return loss.item()

    return generator_step


def test_generator_step_solution_passes():
    ex = get("02.generator_step")
    assert _verdict(ex.id, ex.solution()) is None


@pytest.mark.parametrize(
    "wrong",
    [
        dict(detach=True),
        dict(backward=False),
        dict(step=False),
        dict(zero=False),
    ],
)
def test_generator_step_judge_rejects_the_usual_mistakes(wrong):
    assert _verdict("02.generator_step", _step(**wrong)) is not None


def test_generator_step_judge_rejects_a_step_that_also_moves_d():
    def both(G, D, opt_G, z):
        loss = _step()(G, D, opt_G, z)
        with torch.no_grad():
            next(D.parameters()).add_(0.01)
        return loss

    assert _verdict("02.generator_step", both) is not None


def test_derive_and_predict_judges():
    for ex_id in ("02.transposed_padding", "02.summed_loss"):
        ex = get(ex_id)
        assert _verdict(ex_id, ex.solution()) is None
    assert _verdict("02.transposed_padding", (1, 8)) is not None
    assert _verdict("02.transposed_padding", (2, 7)) is not None
    assert _verdict("02.summed_loss", (-0.2, -0.2, 0.5)) is not None  # G's own gradient only
    assert _verdict("02.summed_loss", (0.6, -0.2, 0.0)) is not None


def test_underproduced_judge():
    predicted = torch.tensor([0] * 150 + [1] * 50 + [2] * 100 + [3] * 700)
    ex = get("02.underproduced")
    digits, reason = ex.solution(predicted=predicted)
    assert digits == [1] + list(range(4, 10)) and reason == "b"
    assert _verdict(ex.id, (digits, reason), predicted=predicted) is None
    assert _verdict(ex.id, ([1], "b"), predicted=predicted) is not None
    assert _verdict(ex.id, (digits, "a"), predicted=predicted) is not None
