"""Exercises of notebook 01 (GAN theory): solutions and judges."""

from __future__ import annotations

import math

import numpy as np
import torch

from . import Exercise, NotAttempted

P_DATA = (0.5, 0.5, 0.0)
P_G = (0.0, 0.5, 0.5)


def _disjoint_support_solution() -> tuple[list[float], float, float]:
    # D* = p / (p + q) where p + q > 0: (1, 1/2, 0) (any value where both are 0)
    d_star = [1.0, 0.5, 0.0]
    # V = Σ p log D* + Σ q log(1 − D*) = 0.5·log 1 + 0.5·log ½ + 0.5·log ½ + 0.5·log 1
    value = math.log(0.5)
    # m = (¼, ½, ¼); KL(p‖m) = ½ log 2 + ½ log 1 = ½ log 2, and the same for q
    jsd = 0.5 * math.log(2)
    return d_star, value, jsd


def _disjoint_support_judge(attempt: tuple, **_: object) -> None:
    d_star, value, jsd = attempt
    p, q = np.array(P_DATA), np.array(P_G)
    d = np.asarray(d_star, dtype=float)
    assert d.shape == (3,), f"d_star should hold three numbers, one per point, not {d.shape}"
    where = (p + q) > 0
    assert np.allclose(d[where], (p / np.where(where, p + q, 1))[where]), (
        f"d_star = {d.tolist()}: at each point D* = p_data / (p_data + p_g)"
    )
    exact = float(np.sum(p[p > 0] * np.log(d[p > 0])) + np.sum(q[q > 0] * np.log(1 - d[q > 0])))
    assert abs(float(value) - exact) < 1e-9, (
        f"value = {value}: the exact sum Σ p log D* + Σ p_g log(1 − D*) is {exact:.6f} for your D*"
    )
    assert abs(float(jsd) - 0.5 * math.log(2)) < 1e-9, (
        f"jsd = {jsd}: compute m = (p_data + p_g) / 2 first, then ½ KL(p_data‖m) + ½ KL(p_g‖m)"
    )
    assert abs(float(value) - (-math.log(4) + 2 * float(jsd))) < 1e-9, (
        "your value and JSD do not satisfy V(D*, G) = −log 4 + 2·JSD: recheck one of them"
    )


# ----------------------------------------------------------------------------- 01.bilinear_play

PLAY_CHOICES = ("converges", "cycles", "spirals out")


def _bilinear_play_solution() -> tuple[str, str]:
    # simultaneous: (x, y) ← (x − ηy, y + ηx) is a rotation scaled by sqrt(1 + η²) > 1,
    # so the distance from (0, 0) grows geometrically: 1.01^250 ≈ 12 after 500 steps.
    # alternating: the map has determinant 1 (it preserves area) and trace 2 − η² ∈ (−2, 2),
    # so its eigenvalues lie on the unit circle: a closed orbit, no convergence.
    return "spirals out", "cycles"


def _bilinear_play_judge(attempt: tuple, **_: object) -> None:
    simultaneous, alternating = attempt
    for name, answer in (("simultaneous", simultaneous), ("alternating", alternating)):
        assert answer in PLAY_CHOICES, f"{name} = {answer!r}: choose one of {PLAY_CHOICES}"
    assert simultaneous == "spirals out", (
        f"simultaneous = {simultaneous!r}: write one step as a 2×2 matrix acting on (x, y); "
        "how does it change x² + y²?"
    )
    assert alternating == "cycles", (
        f"alternating = {alternating!r}: the alternating map has determinant 1, so it can "
        "neither shrink nor grow areas; look at its eigenvalues for η = 0.1"
    )


# ----------------------------------------------------------------------------- 01.lsgan


def _lsgan_solution(p_data, p_g, **_: object) -> tuple[np.ndarray, float]:
    p, q = np.asarray(p_data, float), np.asarray(p_g, float)
    # pointwise, minimise ½ p (y − 1)² + ½ q y²: derivative p (y − 1) + q y = 0
    d_star = p / (p + q)  # the same D* as the log-loss game
    # plug in: ½ p (q / (p + q))² + ½ q (p / (p + q))² = ½ p q / (p + q)
    loss = float(0.5 * np.sum(p * q / (p + q)))
    return d_star, loss


def _lsgan_judge(attempt: tuple, p_data, p_g, **_: object) -> None:
    d_star, loss = attempt
    right_d, right_loss = _lsgan_solution(p_data, p_g)
    d = np.asarray(d_star, dtype=float)
    assert d.shape == right_d.shape, f"d_star should hold one number per point, {right_d.shape}"
    assert np.allclose(d, right_d, atol=1e-6), (
        f"d_star = {np.round(d, 4).tolist()}: minimise ½·p_data·(y − 1)² + ½·p_g·y² over y "
        "at each point separately (set the derivative to zero)"
    )
    p, q = np.asarray(p_data, float), np.asarray(p_g, float)
    yours = float(0.5 * np.sum(p * (d - 1) ** 2 + q * d**2))
    assert abs(float(loss) - right_loss) < 1e-6, (
        f"loss = {loss}: the sum ½ Σ p_data (D* − 1)² + p_g D*² at your D* is {yours:.6f}"
    )


# ----------------------------------------------------------------------------- 01.value_from_logits


def _value_from_logits_solution() -> object:
    import torch.nn.functional as F

    def value_from_logits(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        # log σ(a) = −softplus(−a) and log(1 − σ(a)) = −softplus(a): exact and finite for
        # any logit, where log(torch.sigmoid(a)) underflows to log 0 = −inf below a ≈ −88
        return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()

    return value_from_logits


def _value_from_logits_judge(attempt, **_: object) -> None:
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(64, generator=gen, dtype=torch.float64) * 3
    fake = torch.randn(64, generator=gen, dtype=torch.float64) * 3 - 1
    got = attempt(real, fake)
    if got is None:
        raise NotAttempted
    want = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    assert torch.is_tensor(got) and got.numel() == 1, "return one number, as a 0-d tensor"
    assert abs(float(got) - float(want)) < 1e-8, (
        f"value {float(got):.6f} but E[log D(x)] + E[log(1 − D(G(z)))] is {float(want):.6f} "
        "on moderate logits: check the signs, and that D = σ(logit)"
    )
    extreme = attempt(torch.full((4,), -200.0), torch.full((4,), 200.0))  # float32
    assert torch.isfinite(extreme) and abs(float(extreme) + 400.0) < 1e-3, (
        f"with real logits −200 and fake logits +200 the value is −400 but you return "
        f"{float(extreme)}: σ(−200) is 0 in float32; use log σ(a) = −softplus(−a)"
    )


# ----------------------------------------------------------------------------- 01.mode_seeking

MODE_SEEKING_CHOICES = {
    "a": "KL(p_g‖p_data) weighs the log-ratio by p_g, so a mode where p_g has no mass adds "
    "almost nothing to it, and −2·JSD is bounded (at most 2 log 2)",
    "b": "the JSD becomes infinite when p_g misses a mode",
    "c": "the discriminator cannot tell real from fake samples at a missing mode",
    "d": "Adam's momentum keeps the generator where it is",
}


def _mode_seeking_solution() -> str:
    # KL(p_g‖p_data) = ∫ p_g log(p_g / p_data): the integrand vanishes where p_g ≈ 0, so a
    # mode of p_data that p_g skips costs only through the bounded JSD term. (b) is false:
    # the JSD is at most log 2. (c) is false: there D* = p_data / (p_data + 0) = 1, the
    # discriminator is certain; but the generator only sees D at its own samples. (d) is
    # not the reason: the objective itself prefers the one-mode generator (the table).
    return "a"


def _mode_seeking_judge(attempt: str, **_: object) -> None:
    assert attempt in MODE_SEEKING_CHOICES, f"answer one of {sorted(MODE_SEEKING_CHOICES)}"
    why = {
        "b": "the JSD is at most log 2 (Step 3), whatever p_g misses",
        "c": "at a missing mode D* = p_data / (p_data + 0) = 1: D is sure those are real; ask "
        "where the generator's gradient is evaluated",
        "d": "the table shows the objective itself prefers the one-mode generator, with no "
        "optimiser involved",
    }
    assert attempt == "a", f"not {attempt!r}: {why.get(attempt, '')}"


EXERCISES = [
    Exercise(
        "01.disjoint_support",
        "derive",
        judge=_disjoint_support_judge,
        solution=_disjoint_support_solution,
    ),
    Exercise(
        "01.bilinear_play", "predict", judge=_bilinear_play_judge, solution=_bilinear_play_solution
    ),
    Exercise("01.lsgan", "derive", judge=_lsgan_judge, solution=_lsgan_solution),
    Exercise(
        "01.value_from_logits",
        "implement",
        judge=_value_from_logits_judge,
        solution=_value_from_logits_solution,
    ),
    Exercise(
        "01.mode_seeking", "explain", judge=_mode_seeking_judge, solution=_mode_seeking_solution
    ),
]
