"""Exercises of notebook 02 (DCGAN on MNIST): solutions and judges."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from . import Exercise, NotAttempted

# ------------------------------------------------------------------------ 02.transposed_padding


def _transposed_padding_solution(**_: object) -> tuple[int, int]:
    # output = (n − 1)·s − 2p + k. Doubling with s = 2, k = 6: (n − 1)·2 − 2p + 6 = 2n
    # ⇔ −2 − 2p + 6 = 0 ⇔ p = 2, for every n (7 → 14 and 14 → 28 alike).
    padding = 2
    # the paper's layer (k = 4, s = 2, p = 1) from 4×4: (4 − 1)·2 − 2 + 4 = 8
    size_from_4 = 8
    return padding, size_from_4


def _transposed_padding_judge(attempt: tuple, **_: object) -> None:
    padding, size_from_4 = attempt
    if padding is None or size_from_4 is None:
        raise NotAttempted
    for n in (7, 14):
        out = (n - 1) * 2 - 2 * int(padding) + 6
        layer = nn.ConvTranspose2d(1, 1, kernel_size=6, stride=2, padding=int(padding))
        got = layer(torch.zeros(1, 1, n, n)).shape[-1]
        assert got == 2 * n, (
            f"padding = {padding}: kernel 6, stride 2 then maps {n} → {out} (PyTorch agrees: "
            f"{got}), not {2 * n}. Solve (n − 1)·2 − 2p + 6 = 2n for p"
        )
    assert int(size_from_4) == 8, (
        f"size_from_4 = {size_from_4}: put n = 4, s = 2, p = 1, k = 4 into (n − 1)·s − 2p + k"
    )


# ----------------------------------------------------------------------------- 02.summed_loss


def _summed_loss_solution(**_: object) -> tuple[float, float, float]:
    # Summed loss per fake logit a: softplus(a) (D's term) + softplus(−a) (G's term).
    # d/da = σ(a) − (1 − σ(a)) = 2D − 1; at D = 0.8: 0.6 (a push *down*, wrong for G).
    g_summed = 2 * 0.8 - 1
    # G's own loss softplus(−a): d/da = −(1 − σ(a)) = D − 1 = −0.2 (push a up).
    g_correct = 0.8 - 1
    # D also descends softplus(a) + softplus(−a), minimal where 2D − 1 = 0: D(G(z)) = ½.
    d_fixed_point = 0.5
    return g_summed, g_correct, d_fixed_point


def _summed_loss_judge(attempt: tuple, **_: object) -> None:
    g_summed, g_correct, d_fixed = (float(v) for v in attempt)
    a = torch.tensor(math.log(0.8 / 0.2), dtype=torch.float64, requires_grad=True)
    softplus = nn.functional.softplus
    (true_summed,) = torch.autograd.grad(softplus(a) + softplus(-a), a)
    (true_correct,) = torch.autograd.grad(softplus(-a), a)
    assert abs(g_correct - float(true_correct)) < 1e-6, (
        f"g_correct = {g_correct}: differentiate −log σ(a) = softplus(−a); "
        "d/da softplus(−a) = −(1 − σ(a))"
    )
    assert abs(g_summed - float(true_summed)) < 1e-6, (
        f"g_summed = {g_summed}: the summed loss holds D's fake term softplus(a) as well as "
        "G's softplus(−a); add their derivatives"
    )
    assert abs(d_fixed - 0.5) < 1e-6, (
        f"d_fixed_point = {d_fixed}: D descends the same sum; where is 2D − 1 = 0?"
    )


# ----------------------------------------------------------------------------- 02.generator_step


def _generator_step_solution(**_: object):
    def generator_step(G, D, opt_G, z):
        logits = D(G(z))  # not detached: the gradient must reach G through D
        loss = nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        opt_G.zero_grad()
        loss.backward()
        opt_G.step()
        return loss.item()

    return generator_step


def _generator_step_judge(attempt, **_: object) -> None:
    from ..models.gan import DCGANConfig, build_dcgan
    from ..training.gan import make_optimizers, update_G

    G, D = build_dcgan(DCGANConfig.tiny(), seed=0)
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    opt, _ = make_optimizers(G, D)
    opt_ref, _ = make_optimizers(G_ref, D_ref)
    g = torch.Generator().manual_seed(1)
    zs = [torch.randn(16, G.config.latent_dim, generator=g) for _ in range(2)]
    before = [p.detach().clone() for p in G.parameters()]
    d_before = [p.detach().clone() for p in D.parameters()]
    for step, z in enumerate(zs):  # two steps: the second catches a missing zero_grad
        try:
            loss = attempt(G, D, opt, z)
        except NotImplementedError:
            raise
        except RuntimeError as err:
            raise AssertionError(
                f"step {step} raised {err!s:.120}: was G(z) detached, or backward called twice?"
            ) from err
        ref = update_G(G_ref, D_ref, opt_ref, z)["loss_G"]
        assert loss is not None and abs(float(loss) - ref) < 1e-5, (
            f"step {step}: loss {loss}, expected {ref:.6f} (the non-saturating −log D(G(z)), "
            "BCEWithLogitsLoss with target 1, as a float)"
        )
    moved = max(
        (p.detach() - b).abs().max().item() for p, b in zip(G.parameters(), before, strict=True)
    )
    assert moved > 0, (
        "G's parameters did not move: is G(z) detached, or backward() or opt_G.step() missing?"
    )
    for p, r in zip(G.parameters(), G_ref.parameters(), strict=True):
        assert torch.allclose(p, r, atol=1e-6), (
            "after two steps G's parameters differ from the seeded reference (update_G): "
            "zero the gradients before backward, and step opt_G once per call"
        )
    assert all(torch.equal(p, b) for p, b in zip(D.parameters(), d_before, strict=True)), (
        "the generator step changed D's parameters: step only opt_G"
    )


# ----------------------------------------------------------------------------- 02.underproduced


def _underproduced_solution(predicted: torch.Tensor, **_: object) -> tuple[list[int], str]:
    counts = torch.bincount(predicted, minlength=10)
    share = counts.double() / counts.sum()
    digits = [int(k) for k in torch.nonzero(share < 0.07).flatten()]  # < 70 of 1,000
    # (b): the training set is balanced (400 per digit), so (a) is false; the classifier
    # reads real test digits at 98 % accuracy, so (c) cannot explain a 3:1 imbalance;
    # D judges each sample on its own, so nothing in the loss rewards G for drawing every
    # digit: a generator that draws few 4s pays no price as long as its 9s look real.
    return digits, "b"


def _underproduced_judge(attempt: tuple, predicted: torch.Tensor, **_: object) -> None:
    digits, reason = attempt
    if digits is None or reason is None:
        raise NotAttempted
    want, _ = _underproduced_solution(predicted)
    got = sorted(int(d) for d in digits)
    counts = torch.bincount(predicted, minlength=10).tolist()
    assert got == want, (
        f"digits = {got}: count the predicted classes (torch.bincount(predicted, minlength=10))"
        f" and list those below 70 of {sum(counts)}"
    )
    assert str(reason).strip().lower() == "b", (
        f"reason = {reason!r}: the training digits are balanced, and the classifier reads real "
        "digits at 98 %; what in the GAN loss would reward drawing every digit?"
    )


EXERCISES = [
    Exercise(
        "02.transposed_padding",
        "derive",
        judge=_transposed_padding_judge,
        solution=_transposed_padding_solution,
    ),
    Exercise("02.summed_loss", "predict", judge=_summed_loss_judge, solution=_summed_loss_solution),
    Exercise(
        "02.generator_step",
        "implement",
        judge=_generator_step_judge,
        solution=_generator_step_solution,
    ),
    Exercise(
        "02.underproduced",
        "explain",
        judge=_underproduced_judge,
        solution=_underproduced_solution,
    ),
]
