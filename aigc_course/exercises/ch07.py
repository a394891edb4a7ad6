"""Exercises of notebook 07 (adapting pretrained language models): solutions and judges."""

from __future__ import annotations

from collections.abc import Callable

import torch

from . import Exercise, NotAttempted

# ---------------------------------------------------------------- 07.lora_count (derive)


def _lora_count(n_embd: int, n_layer: int, r: int) -> int:
    # c_attn maps d -> 3d and c_fc maps d -> 4d; an adapter on a (d_in -> d_out) layer has
    # A (r, d_in) and B (d_out, r): r (d_in + d_out) numbers. Per layer r (d + 3d) + r (d + 4d)
    return n_layer * (r * (n_embd + 3 * n_embd) + r * (n_embd + 4 * n_embd))


def _lora_count_solution(**_: object) -> Callable[[int, int, int], int]:
    return _lora_count


def _lora_count_judge(lora_count: Callable[[int, int, int], int], **_: object) -> None:
    from ..adapt.lora import apply_lora, count_parameters
    from ..models.transformer_lm import GPT, GPTConfig

    for d, n_layer, r in ((192, 4, 8), (16, 2, 3), (64, 3, 1)):
        got = int(lora_count(d, n_layer, r))
        model = GPT(GPTConfig(20, 8, n_layer, 2, d))
        expected = count_parameters(apply_lora(model, r=r, alpha=r, targets=("c_attn", "c_fc")))[0]
        if got == expected:
            continue
        if got == n_layer * (d * 3 * d + d * 4 * d):
            raise AssertionError("that is the full weights' count: LoRA trains A and B only")
        if got == r * (d + 3 * d) + r * (d + 4 * d):
            raise AssertionError(f"that is one layer's count: the model has {n_layer} layers")
        if got == n_layer * r * (d + 3 * d):
            raise AssertionError("only c_attn counted: c_fc (d -> 4d) has an adapter too")
        if got == n_layer * 2 * r * (3 * d) or got == n_layer * r * (3 * d + 4 * d):
            raise AssertionError("A is (r, d_in) and B is (d_out, r): count both sides")
        raise AssertionError(
            f"for d = {d}, {n_layer} layers, r = {r}: got {got}, expected {expected} "
            "(an adapter on a d_in -> d_out layer holds r (d_in + d_out) numbers)"
        )


# ---------------------------------------------------------- 07.response_mask (implement)


def _response_targets(ids: torch.Tensor, is_response: torch.Tensor):
    ids = torch.as_tensor(ids)
    keep = torch.as_tensor(is_response, dtype=torch.bool)[1:]  # the target at t is ids[t + 1]
    return ids[:-1], torch.where(keep, ids[1:], torch.full_like(ids[1:], -100))


def _response_mask_solution(**_: object):
    return _response_targets


def _response_mask_judge(response_targets, **_: object) -> None:
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, 50, (23,), generator=g)
    is_response = torch.zeros(23, dtype=torch.bool)
    is_response[9:15] = True  # one answer ...
    is_response[19:] = True  # ... and a second
    out = response_targets(ids.clone(), is_response.clone())
    if out is None:
        raise NotAttempted
    x, y = (torch.as_tensor(t) for t in out)
    ex, ey = _response_targets(ids, is_response)
    assert x.shape == ex.shape and y.shape == ey.shape, (
        f"inputs and targets both have T - 1 = {len(ids) - 1} positions, got "
        f"{tuple(x.shape)} and {tuple(y.shape)}"
    )
    assert torch.equal(x, ex), "the inputs are ids[:-1] (every character but the last)"
    if torch.equal(y, ey):
        return
    unshifted = torch.where(is_response[:-1], ids[1:], torch.full_like(ids[1:], -100))
    if torch.equal(y, unshifted):
        raise AssertionError(
            "the mask is not shifted: the target at t is character t + 1, so it counts when "
            "character t + 1 is response (is_response[1:])"
        )
    flipped = torch.where(~is_response[1:], ids[1:], torch.full_like(ids[1:], -100))
    if torch.equal(y, flipped):
        raise AssertionError("the mask is inverted: keep response targets, drop prompt ones")
    if torch.equal(y, ids[1:]):
        raise AssertionError("nothing is masked: set prompt targets to -100")
    raise AssertionError("targets should be ids[1:] where is_response[1:], and -100 elsewhere")


# ---------------------------------------------------------- 07.dpo_gradient (derive)


def _dpo_grad(margin: float, beta: float) -> float:
    # L = -log sigma(beta * m), m = (log pi_w - log ref_w) - (log pi_l - log ref_l);
    # dL/dm = -beta * sigma(-beta * m) and dm/d(log pi_w) = 1
    return -beta * float(torch.sigmoid(torch.tensor(-beta * margin)))


def _dpo_grad_solution(**_: object):
    return _dpo_grad


def _dpo_grad_judge(dpo_grad, **_: object) -> None:
    for m, b in ((0.0, 0.1), (20.0, 0.1), (-15.0, 0.5), (3.0, 1.0)):
        got = float(dpo_grad(m, b))
        pw = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        loss = -torch.nn.functional.logsigmoid(b * (pw + m))
        loss.backward()
        expected = float(pw.grad)
        if abs(got - expected) < 1e-6:
            continue
        if abs(got + expected) < 1e-6:
            raise AssertionError(
                "the sign: gradient descent must raise log pi(y_w), so dL/dlog pi(y_w) < 0"
            )
        sig = float(torch.sigmoid(torch.tensor(b * m)))
        if abs(abs(got) - b * sig) < 1e-6:
            raise AssertionError(
                "sigma(+beta m) has the wrong argument: the push is largest when the pair is "
                "ranked wrongly (m < 0) and fades as m grows, so it is sigma(-beta m)"
            )
        if abs(got - expected / b) < 1e-6:
            raise AssertionError("the chain rule brings a factor beta out of sigma(beta m)")
        raise AssertionError(f"at margin {m}, beta {b}: got {got:.5f}, expected {expected:.5f}")


# ---------------------------------------------------------- 07.choose_beta (decide)


def _allowed(curve: list[dict], reference: dict, slack: float) -> list[dict]:
    return [
        r
        for r in curve
        if float(r["distinct_2"]) >= float(reference["distinct_2"]) - slack
        and float(r["coverage"]) >= float(reference["coverage"]) - slack
    ]


def _choose_beta(curve: list[dict], reference: dict, slack: float = 0.05) -> float:
    allowed = _allowed(curve, reference, slack) or list(curve)
    best = min(allowed, key=lambda r: (float(r["unsupported_rate"]), -float(r["beta"])))
    return float(best["beta"])


def _choose_beta_solution(curve: list[dict], reference: dict, **_: object):
    # constraints first (diversity and the share of attributes mentioned each within 0.05
    # of the reference's: fewer claims is not more faithful copy), then the objective
    # (fewest invented claims); ties go to the larger beta, which stays closer to the
    # reference
    return _choose_beta


_SYNTHETIC = (  # made-up curves where the constraints bind, with different answers
    [
        {"beta": 0.03, "unsupported_rate": 0.10, "distinct_2": 0.30, "coverage": 0.80},
        {"beta": 0.1, "unsupported_rate": 0.20, "distinct_2": 0.48, "coverage": 0.60},
        {"beta": 0.3, "unsupported_rate": 0.25, "distinct_2": 0.50, "coverage": 0.82},
        {"beta": 1.0, "unsupported_rate": 0.30, "distinct_2": 0.52, "coverage": 0.84},
    ],
    [
        {"beta": 0.03, "unsupported_rate": 0.05, "distinct_2": 0.51, "coverage": 0.50},
        {"beta": 0.1, "unsupported_rate": 0.15, "distinct_2": 0.35, "coverage": 0.83},
        {"beta": 0.3, "unsupported_rate": 0.22, "distinct_2": 0.49, "coverage": 0.81},
        {"beta": 1.0, "unsupported_rate": 0.22, "distinct_2": 0.52, "coverage": 0.85},
    ],
)
_SYNTHETIC_REFERENCE = {"unsupported_rate": 0.35, "distinct_2": 0.52, "coverage": 0.85}


def _choose_beta_judge(choose_beta, curve: list[dict], reference: dict, **_: object) -> None:
    got = choose_beta([dict(r) for r in curve], dict(reference))
    if got is None:
        raise NotAttempted
    got, expected = float(got), _choose_beta(curve, reference)
    if got == expected:
        for curve_s in _SYNTHETIC:
            got_s = float(choose_beta([dict(r) for r in curve_s], dict(_SYNTHETIC_REFERENCE)))
            exp_s = _choose_beta(curve_s, _SYNTHETIC_REFERENCE)
            assert got_s == exp_s, (
                f"right on the recorded curve, but on another curve your rule picks {got_s:g} "
                f"instead of {exp_s:g}: keep the betas whose distinct-2 and coverage are each "
                "at least the reference's minus 0.05, then take the fewest invented claims "
                "(ties: the larger beta)"
            )
        return
    lowest = float(min(curve, key=lambda r: float(r["unsupported_rate"]))["beta"])
    if got == lowest:
        raise AssertionError(
            f"{got:g} has the fewest invented claims but breaks a constraint (diversity or "
            f"coverage); expected {expected:g}"
        )
    raise AssertionError(f"got {got:g}, expected {expected:g}")


EXERCISES = [
    Exercise("07.lora_count", "derive", judge=_lora_count_judge, solution=_lora_count_solution),
    Exercise(
        "07.response_mask",
        "implement",
        judge=_response_mask_judge,
        solution=_response_mask_solution,
    ),
    Exercise("07.dpo_gradient", "derive", judge=_dpo_grad_judge, solution=_dpo_grad_solution),
    Exercise(
        "07.choose_beta", "implement", judge=_choose_beta_judge, solution=_choose_beta_solution
    ),
]
