"""Numeric checks of the GAN minimax theory (Goodfellow et al. 2014, §4).

The game is

    V(D, G) = E_{x~p_data}[log D(x)] + E_{x~p_g}[log(1 − D(x))].

For fixed G the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x))
(Proposition 1), and then

    V(D*, G) = −log 4 + 2 · JSD(p_data ‖ p_g)                      (Theorem 1)

which is minimal, −log 4, exactly when p_g = p_data. Everything below evaluates these
quantities either as **exact sums** over discrete distributions or by **quadrature**
over 1-D densities on a grid, so the notebook and the tests can check the identities to
tight tolerances. Natural logarithms throughout (JSD ≤ log 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.integrate import trapezoid

Density = Callable[[np.ndarray], np.ndarray]
LOG4 = math.log(4.0)


# ----------------------------------------------------------------------------- densities


def gaussian_pdf(x: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """N(mean, std²) density at x."""
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def mixture_pdf(x: np.ndarray, means, stds, weights) -> np.ndarray:
    """Density of a 1-D Gaussian mixture."""
    return sum(w * gaussian_pdf(x, m, s) for m, s, w in zip(means, stds, weights, strict=True))


def grid(lo: float = -12.0, hi: float = 12.0, n: int = 200_001) -> np.ndarray:
    """An evenly spaced quadrature grid (the default resolves densities with σ ≳ 0.05)."""
    return np.linspace(lo, hi, n)


def integrate(values: np.ndarray, x: np.ndarray) -> float:
    """∫ values dx by the trapezoidal rule (error O(h²) for smooth integrands)."""
    return float(trapezoid(values, x))


def _xlogy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a · log b with the convention 0 · log 0 = 0."""
    out = np.zeros_like(a, dtype=float)
    mask = a > 0
    out[mask] = a[mask] * np.log(b[mask])
    return out


# ----------------------------------------------------------------------------- the game


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g), where the denominator is positive (else 0.5).

    References: Goodfellow et al. 2014, Proposition 1.
    """
    p_data, p_g = np.asarray(p_data, float), np.asarray(p_g, float)
    s = p_data + p_g
    return np.divide(p_data, s, out=np.full_like(s, 0.5), where=s > 0)


def value_discrete(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray) -> float:
    """V(D, G) as an exact sum over a finite support: Σ p_data log D + Σ p_g log(1 − D)."""
    d = np.asarray(d, float)
    return float(_xlogy(p_data, d).sum() + _xlogy(p_g, 1 - d).sum())


def value_quadrature(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    """V(D, G) = ∫ p_data log D + p_g log(1 − D) dx on the grid x (all arrays on x)."""
    return integrate(_xlogy(p_data, d) + _xlogy(p_g, 1 - np.asarray(d, float)), x)


def kl_discrete(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p ‖ q) = Σ p log(p / q) (natural log)."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    return float((_xlogy(p, p) - _xlogy(p, q)).sum())


def jsd_discrete(p: np.ndarray, q: np.ndarray) -> float:
    """JSD(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q)/2; in [0, log 2]."""
    m = (np.asarray(p, float) + np.asarray(q, float)) / 2
    return 0.5 * kl_discrete(p, m) + 0.5 * kl_discrete(q, m)


def jsd_quadrature(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """JSD of two densities given on the grid x, by quadrature."""
    m = (p + q) / 2
    return 0.5 * integrate(_xlogy(p, p) - _xlogy(p, m), x) + 0.5 * integrate(
        _xlogy(q, q) - _xlogy(q, m), x
    )


def jsd_gaussians(mean1: float, std1: float, mean2: float, std2: float, n: int = 200_001) -> float:
    """JSD between two 1-D Gaussians (no closed form exists; quadrature on a wide grid)."""
    lo = min(mean1 - 12 * std1, mean2 - 12 * std2)
    hi = max(mean1 + 12 * std1, mean2 + 12 * std2)
    x = np.linspace(lo, hi, n)
    return jsd_quadrature(gaussian_pdf(x, mean1, std1), gaussian_pdf(x, mean2, std2), x)


def optimal_discriminator_gaussians(
    x: np.ndarray, mean_data: float, std_data: float, mean_g: float, std_g: float
) -> np.ndarray:
    """D*(x) for two Gaussians in closed form, σ(log p_data(x) − log p_g(x)) (stable)."""
    log_ratio = (
        -0.5 * ((x - mean_data) / std_data) ** 2
        + 0.5 * ((x - mean_g) / std_g) ** 2
        + math.log(std_g / std_data)
    )
    return 1 / (1 + np.exp(-log_ratio))


# ----------------------------------------------------------------------------- checks


def check_theorem_discrete(p_data: np.ndarray, p_g: np.ndarray) -> dict[str, float]:
    """Exact-sum check of Theorem 1 on a finite support.

    Returns:
        ``V_star`` = V(D*, G), ``rhs`` = −log 4 + 2 JSD and ``gap`` = |V_star − rhs|.
    """
    d_star = optimal_discriminator(p_data, p_g)
    v_star = value_discrete(d_star, p_data, p_g)
    rhs = -LOG4 + 2 * jsd_discrete(p_data, p_g)
    return {"V_star": v_star, "rhs": rhs, "gap": abs(v_star - rhs)}


def best_coordinate_gain(
    d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, delta: float = 1e-3
) -> float:
    """The largest increase of V(D, G) from moving one D(x) by ±delta (clipped to (0, 1)).

    At the maximiser D* no single move helps (the value is ≤ 0, a second-order loss of
    order delta²); a D that is off in any coordinate by more than about delta gains.
    Proposition 1 checked by perturbation rather than by random guesses (a random D is
    far from D* and loses to a D* shrunk towards ½ just as well).
    """
    d = np.asarray(d, float)
    base = value_discrete(d, p_data, p_g)
    best = -np.inf
    for i in range(len(d)):
        for step in (-delta, delta):
            moved = d.copy()
            moved[i] = np.clip(moved[i] + step, 1e-12, 1 - 1e-12)
            best = max(best, value_discrete(moved, p_data, p_g) - base)
    return float(best)


def maximise_value_numerically(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """argmax_D V(D, G) found by L-BFGS over the logits of D (no formula used)."""
    from scipy.optimize import minimize

    p_data, p_g = np.asarray(p_data, float), np.asarray(p_g, float)

    def neg_value(a: np.ndarray) -> tuple[float, np.ndarray]:
        # log σ(a) = −softplus(−a), log(1 − σ(a)) = −softplus(a)
        v = -(p_data * np.logaddexp(0, -a) + p_g * np.logaddexp(0, a)).sum()
        sig = 1 / (1 + np.exp(-a))
        grad = p_data * (1 - sig) - p_g * sig  # dV/da
        return -v, -grad

    res = minimize(
        neg_value,
        np.zeros(len(p_data)),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 1000},
    )
    return 1 / (1 + np.exp(-res.x))


def value_mc(real_logits: np.ndarray, fake_logits: np.ndarray) -> float:
    """Monte Carlo V(D, G) from D's logits on real and on generated samples (stable)."""
    return float(
        -np.logaddexp(0, -np.asarray(real_logits)).mean()
        - np.logaddexp(0, np.asarray(fake_logits)).mean()
    )


def check_theorem_quadrature(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> dict:
    """Quadrature check of Theorem 1 for densities on the grid x (see the discrete one)."""
    # D* and 1 − D* as ratios, not 1 − D* in floating point: in the far tails D* rounds
    # to 1.0 while p_g is still positive, and log(1 − 1.0) would be −inf
    s = p_data + p_g
    v_star = integrate(_xlogy(p_data, p_data / s) + _xlogy(p_g, p_g / s), x)
    rhs = -LOG4 + 2 * jsd_quadrature(p_data, p_g, x)
    return {"V_star": v_star, "rhs": rhs, "gap": abs(v_star - rhs)}


def pointwise_maximiser(a: float, b: float, n: int = 1_000_001) -> float:
    """argmax over y in (0, 1) of a·log y + b·log(1 − y), by brute force on a fine grid.

    The derivation's key step says it is a / (a + b).
    """
    y = np.linspace(0.0, 1.0, n)[1:-1]
    return float(y[np.argmax(a * np.log(y) + b * np.log1p(-y))])


# ----------------------------------------------------------------------------- G's loss


def generator_loss_gradients(d: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of the two generator losses w.r.t. D's logit a, at D = σ(a) = d.

    saturating (minimise log(1 − D)):     d/da log(1 − σ(a)) = −σ(a) = −d
    non-saturating (minimise −log D):     d/da −log σ(a) = −(1 − σ(a)) = −(1 − d)

    When the discriminator wins (d → 0 on fakes) the saturating gradient vanishes while
    the non-saturating one tends to −1. Also returned: the gradients w.r.t. d itself,
    −1/(1 − d) and −1/d.

    References: Goodfellow et al. 2014, §3 (the paragraph after Eq. 1).
    """
    d = np.asarray(d, float)
    return {
        "saturating_logit": -d,
        "non_saturating_logit": -(1 - d),
        "saturating_d": -1 / (1 - d),
        "non_saturating_d": -1 / d,
    }


def kl_quadrature(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """KL(p ‖ q) of two densities on the grid x, by quadrature (q > 0 where p > 0)."""
    return integrate(_xlogy(p, p) - _xlogy(p, q), x)


def divergences_quadrature(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> dict:
    """JSD, both KLs and the non-saturating objective KL(p_g ‖ p_data) − 2·JSD on a grid."""
    jsd = jsd_quadrature(p_data, p_g, x)
    kl_g = kl_quadrature(p_g, p_data, x)
    return {
        "JSD": jsd,
        "KL(p_data||p_g)": kl_quadrature(p_data, p_g, x),
        "KL(p_g||p_data)": kl_g,
        "KL(p_g||p_data) - 2 JSD": kl_g - 2 * jsd,
    }


def generator_gradients_against_d_star(
    mean_data: float, std_data: float, mean_g: float, std_g: float, h: float = 1e-4
) -> dict[str, float]:
    """d/d(mean of p_g) of both generator losses with D* held fixed, and of the divergences
    they follow, for p_data = N(mean_data, std_data²) and p_g = N(mean_g, std_g²).

    With D* frozen at the current p_g, the generator sees only ∂p_g/∂θ:

    * saturating, E_{p_g}[log(1 − D*)]: its gradient is that of 2·JSD(p_data ‖ p_g);
    * non-saturating, E_{p_g}[−log D*]: its gradient is that of
      KL(p_g ‖ p_data) − 2·JSD(p_data ‖ p_g)  (Arjovsky & Bottou 2017, Theorem 2.5).

    Returns ``ns``, ``kl_minus_2jsd``, ``sat``, ``two_jsd`` (the divergences by central
    finite differences of quadrature values, the losses by quadrature of ∂p_g/∂mean).
    """
    lo = min(mean_data - 12 * std_data, mean_g - 12 * std_g)
    hi = max(mean_data + 12 * std_data, mean_g + 12 * std_g)
    x = np.linspace(lo, hi, 200_001)
    p, q = gaussian_pdf(x, mean_data, std_data), gaussian_pdf(x, mean_g, std_g)
    log_d = np.log(p) - np.logaddexp(np.log(p), np.log(q))  # log D*, stable in the tails
    log_1md = np.log(q) - np.logaddexp(np.log(p), np.log(q))
    dq = q * (x - mean_g) / std_g**2  # ∂p_g/∂mean

    def objective(m: float) -> tuple[float, float]:
        qm = gaussian_pdf(x, m, std_g)
        jsd = jsd_quadrature(p, qm, x)
        return kl_quadrature(qm, p, x) - 2 * jsd, 2 * jsd

    (f1, j1), (f0, j0) = objective(mean_g + h), objective(mean_g - h)
    return {
        "ns": integrate(-dq * log_d, x),
        "kl_minus_2jsd": (f1 - f0) / (2 * h),
        "sat": integrate(dq * log_1md, x),
        "two_jsd": (j1 - j0) / (2 * h),
    }


# ----------------------------------------------------------------------------- dynamics


def bilinear_game(eta: float, steps: int, alternating: bool, start=(1.0, 0.0)) -> np.ndarray:
    """Gradient play on min_x max_y x·y with exact gradients, from ``start``.

    Simultaneous steps multiply the distance from the equilibrium (0, 0) by
    sqrt(1 + eta²) each step (an outward spiral); alternating steps (y moves after seeing
    the new x) keep the iterates on a closed orbit. Neither converges.

    Returns:
        (steps + 1, 2) array of (x, y).
    """
    x, y = start
    out = [(x, y)]
    for _ in range(steps):
        if alternating:
            x = x - eta * y  # ∂(xy)/∂x = y: x descends
            y = y + eta * x  # y ascends, seeing the new x
        else:
            x, y = x - eta * y, y + eta * x
        out.append((x, y))
    return np.array(out)
