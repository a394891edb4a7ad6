"""Exercises of notebook 00 (orientation): solutions and judges."""

from __future__ import annotations

import math

import torch

from . import Exercise


def _bits_per_pixel_solution(nll_mix: float, **_: object) -> float:
    # nats → bits: divide by ln 2; per image → per pixel: divide by 784
    return nll_mix / math.log(2) / 784


def _bits_per_pixel_judge(attempt: float, nll_mix: float, **_: object) -> None:
    got = float(attempt)
    assert abs(got - nll_mix / 784) > 1e-9, (
        f"{got:.4f} is nats per pixel: convert nats to bits too (1 nat = 1/ln 2 bits)"
    )
    assert abs(got - nll_mix / math.log(2)) > 1e-6, (
        f"{got:.1f} is bits per image: divide by the 784 pixels"
    )
    want = nll_mix / math.log(2) / 784
    assert abs(got - want) < 1e-9, f"{got} is not the NLL in bits per pixel; expected ≈ {want:.3f}"


def _purity(assign: torch.Tensor, labels: torch.Tensor) -> float:
    hits = sum(
        torch.bincount(labels[assign == k], minlength=10).max().item() for k in assign.unique()
    )
    return hits / len(labels)


def _purity_solution(mixture, x_test: torch.Tensor, labels: torch.Tensor, **_: object) -> float:
    log_pi = mixture.logit_pi.log_softmax(0)
    assign = (mixture.component_log_prob(x_test) + log_pi).argmax(1)  # most responsible k
    return _purity(assign, labels)


def _purity_judge(attempt: float, mixture, x_test, labels, **_: object) -> None:
    want = _purity_solution(mixture, x_test, labels)
    got = float(attempt)
    assert 0.0 <= got <= 1.0, f"purity is a fraction of the test digits, not {got}"
    no_prior = _purity(mixture.component_log_prob(x_test).argmax(1), labels)
    if abs(no_prior - want) > 1e-9:
        assert abs(got - no_prior) > 1e-9, (
            "add the mixture weights: the most responsible component maximises "
            "log π_k + log p(x | k), not log p(x | k) alone"
        )
    assert abs(got - want) < 1e-9, (
        f"{got:.4f} is not the purity of the most-responsible-component clusters ({want:.4f})"
    )


EXERCISES = [
    Exercise(
        "00.bits_per_pixel",
        "derive",
        judge=_bits_per_pixel_judge,
        solution=_bits_per_pixel_solution,
    ),
    Exercise("00.purity", "implement", judge=_purity_judge, solution=_purity_solution),
]
