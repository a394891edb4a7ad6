"""Training GANs: the two step functions and a plain loop around them.

``update_D`` and ``update_G`` are one optimisation step each (d2l keeps the same split);
``train_gan`` alternates them over data that stay resident on the device, with bf16
autocast on CUDA, ``channels_last`` for image models on CUDA, a progress bar, fixed-noise
snapshots and an optional wall-clock limit (for comparisons at equal time).

Losses (discriminator logits ``a``; σ is the sigmoid; D = σ(a)):

* discriminator, ``"bce"``: −log σ(a_real) − log(1 − σ(a_fake)) = softplus(−a_real) +
  softplus(a_fake), i.e. ``BCEWithLogitsLoss`` with targets 1 for real, 0 for fake.
* generator, non-saturating (default): −log σ(a_fake) = softplus(−a_fake).
* generator, saturating (the minimax form): log(1 − σ(a_fake)) = −softplus(a_fake).
* ``"wgan-gp"``: critic E[f(fake)] − E[f(real)] + λ·E[(‖∇f(x̂)‖ − 1)²], generator −E[f(fake)].

References:
    Goodfellow et al. 2014, Algorithm 1 and §3 (non-saturating generator loss).
    Radford et al. 2016 (DCGAN optimiser settings).
    Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", Algorithm 1.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..device import autocast

LOSSES = ("bce", "wgan-gp")


# ----------------------------------------------------------------------------- losses


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """−E[log D(x)] − E[log(1 − D(G(z)))] from logits (``BCEWithLogitsLoss`` with 1/0 targets).

    References: Goodfellow et al. 2014, Eq. 1 (the discriminator ascends V; we descend −V).
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """The generator's loss from the discriminator's logits on fakes.

    Args:
        fake_logits: (B,) logits a = logit D(G(z)).
        saturating: True for the minimax form E[log(1 − D(G(z)))], whose gradient
            vanishes when D rejects the fakes confidently; False (default) for the
            non-saturating −E[log D(G(z))] of Goodfellow et al. 2014, §3.
    """
    if saturating:
        return -F.softplus(fake_logits).mean()  # log(1 − σ(a)) = −softplus(a)
    return F.softplus(-fake_logits).mean()  # −log σ(a) = softplus(−a)


def gradient_penalty(
    D: nn.Module, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None = None
) -> torch.Tensor:
    """E[(‖∇_x̂ D(x̂)‖₂ − 1)²] on random interpolates x̂ of real and fake samples.

    References: Gulrajani et al. 2017, Algorithm 1, lines 6–7.
    """
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    out = D(x_hat, y)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


# ----------------------------------------------------------------------------- steps


def update_D(
    G: nn.Module,
    D: nn.Module,
    opt_D: torch.optim.Optimizer,
    x_real: torch.Tensor,
    z: torch.Tensor,
    *,
    y_real: torch.Tensor | None = None,
    y_fake: torch.Tensor | None = None,
    loss: str = "bce",
    gp_weight: float = 10.0,
    device: torch.device | None = None,
) -> dict[str, float]:
    """One discriminator (critic) step; G is not updated (its output is detached).

    Returns:
        ``loss_D``, ``D_real`` and ``D_fake`` (mean σ(logit) for ``bce``, the mean critic
        value for ``wgan-gp``).
    """
    device = device or x_real.device
    with torch.no_grad(), autocast(device):
        fake = G(z, y_fake)
    fake = fake.float()  # detached: no gradient reaches G from the D step
    with autocast(device):
        real_logits = D(x_real, y_real).float()
        fake_logits = D(fake, y_fake).float()
    if loss == "bce":
        loss_D = discriminator_loss(real_logits, fake_logits)
        d_real, d_fake = torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()
    elif loss == "wgan-gp":
        gp = gradient_penalty(D, x_real, fake, y_real if y_fake is None else y_fake)
        loss_D = fake_logits.mean() - real_logits.mean() + gp_weight * gp
        d_real, d_fake = real_logits.mean(), fake_logits.mean()
    else:
        raise ValueError(f"loss={loss!r}; use one of {LOSSES}")
    opt_D.zero_grad(set_to_none=True)
    loss_D.backward()
    opt_D.step()
    return {"loss_D": loss_D.item(), "D_real": d_real.item(), "D_fake": d_fake.item()}


def update_G(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    z: torch.Tensor,
    *,
    y_fake: torch.Tensor | None = None,
    loss: str = "bce",
    saturating: bool = False,
    device: torch.device | None = None,
) -> dict[str, float]:
    """One generator step; D's parameters get gradients but are not stepped (and the
    D optimizer zeroes them before its next step).

    Returns:
        ``loss_G`` and ``D_G_z`` (mean σ(logit) on the fakes, before this step).
    """
    device = device or z.device
    with autocast(device):
        fake_logits = D(G(z, y_fake), y_fake).float()
    if loss == "bce":
        loss_G = generator_loss(fake_logits, saturating=saturating)
        d_g_z = torch.sigmoid(fake_logits).mean()
    elif loss == "wgan-gp":
        loss_G = -fake_logits.mean()
        d_g_z = fake_logits.mean()
    else:
        raise ValueError(f"loss={loss!r}; use one of {LOSSES}")
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    opt_G.step()
    return {"loss_G": loss_G.item(), "D_G_z": d_g_z.item()}


# ----------------------------------------------------------------------------- the loop


@dataclass
class GANHistory:
    """What :func:`train_gan` recorded, one entry per generator step."""

    loss_D: list[float] = field(default_factory=list)
    loss_G: list[float] = field(default_factory=list)
    D_real: list[float] = field(default_factory=list)  # D(x) on real data
    D_fake: list[float] = field(default_factory=list)  # D(G(z)) in the D step
    snapshots: list[tuple[int, torch.Tensor]] = field(default_factory=list)  # (step, G(fixed z))
    steps: int = 0
    seconds: float = 0.0

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else math.nan


def make_optimizers(
    G: nn.Module,
    D: nn.Module,
    lr: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    lr_D: float | None = None,
) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for both players; DCGAN's lr 2e-4 and β1 = 0.5 (β1 = 0.9 oscillated)."""
    return (
        torch.optim.Adam(G.parameters(), lr=lr, betas=betas),
        torch.optim.Adam(D.parameters(), lr=lr if lr_D is None else lr_D, betas=betas),
    )


def train_gan(
    G: nn.Module,
    D: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    *,
    steps: int,
    batch_size: int = 64,
    latent_dim: int | None = None,
    loss: str = "bce",
    saturating: bool = False,
    n_critic: int = 1,
    gp_weight: float = 10.0,
    lr: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer] | None = None,
    n_classes: int = 0,
    seed: int = 0,
    device: torch.device | str = "cpu",
    max_seconds: float | None = None,
    fixed_z: torch.Tensor | None = None,
    fixed_y: torch.Tensor | None = None,
    snapshot_every: int = 0,
    callback: Callable[[int, GANHistory], None] | None = None,
    progress: bool = True,
    history: GANHistory | None = None,
    checkpoint_path: str | Path | None = None,
    checkpoint_every: int = 0,
) -> GANHistory:
    """Train ``G`` and ``D`` in place by alternating :func:`update_D` and :func:`update_G`.

    Args:
        G, D: the players (moved to ``device`` here; image models get ``channels_last``
            on CUDA).
        x: (N, ...) training data (images in [-1, 1] for the DCGAN); moved to ``device``
            once and sampled there, a fresh permutation each epoch.
        y: (N,) labels, for a conditional pair (then ``n_classes`` must be set; fakes get
            uniformly drawn labels).
        steps: generator steps; each is preceded by ``n_critic`` discriminator steps.
        latent_dim: nz (default: ``G.config.latent_dim``).
        loss: ``"bce"`` or ``"wgan-gp"``.
        saturating: use the minimax generator loss (for the experiment in notebook 01).
        optimizers: ``(opt_G, opt_D)``; default Adam(lr, betas) for both.
        seed: seeds the noise and the batch order (a ``torch.Generator`` on the device).
        max_seconds: stop after this much wall-clock time (equal-time comparisons).
        fixed_z, fixed_y: noise (and labels) for snapshots every ``snapshot_every`` steps
            (G in eval mode, output on CPU).
        callback: called as ``callback(step, history)`` after every generator step.
        history: continue recording into this history (for training in several calls).
        checkpoint_path, checkpoint_every: save both players (``G.*`` and ``D.*`` tensors,
            safetensors + JSON with the step) every ``checkpoint_every`` steps and at the
            end; restore with :func:`load_gan_checkpoint`.

    Returns:
        The :class:`GANHistory`.
    """
    from tqdm.auto import tqdm

    device = torch.device(device)
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r}; use one of {LOSSES}")
    if (y is None) != (n_classes == 0):
        raise ValueError("pass labels y together with n_classes > 0 (conditional) or neither")
    nz = latent_dim if latent_dim is not None else G.config.latent_dim
    is_image = x.ndim == 4
    fmt = torch.channels_last if (is_image and device.type == "cuda") else torch.preserve_format
    G.to(device, memory_format=fmt)
    D.to(device, memory_format=fmt)
    x = x.to(device, memory_format=fmt) if is_image else x.to(device)
    y = None if y is None else y.to(device)
    opt_G, opt_D = optimizers or make_optimizers(G, D, lr=lr, betas=betas)
    gen = torch.Generator(device=device).manual_seed(seed)
    hist = history if history is not None else GANHistory()
    n = x.shape[0]
    order, pos = torch.randperm(n, generator=gen, device=device), 0

    def batch() -> tuple[torch.Tensor, torch.Tensor | None]:
        nonlocal order, pos
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=gen, device=device), 0
        idx = order[pos : pos + batch_size]
        pos += batch_size
        return x[idx], (None if y is None else y[idx])

    def noise() -> tuple[torch.Tensor, torch.Tensor | None]:
        z = torch.randn(batch_size, nz, generator=gen, device=device)
        yf = None
        if n_classes:
            yf = torch.randint(0, n_classes, (batch_size,), generator=gen, device=device)
        return z, yf

    def snapshot(step: int) -> None:
        was = G.training
        G.eval()
        with torch.no_grad():
            zz = fixed_z.to(device)
            yy = None if fixed_y is None else fixed_y.to(device)
            hist.snapshots.append((step, G(zz, yy).float().cpu()))
        G.train(was)

    G.train()
    D.train()
    start = time.perf_counter()
    first = hist.steps
    if fixed_z is not None and snapshot_every and first == 0:
        snapshot(0)
    bar = tqdm(range(first, first + steps), disable=not progress, desc="GAN", leave=False)
    for step in bar:
        for _ in range(n_critic):
            xb, yb = batch()
            z, yf = noise()
            d = update_D(G, D, opt_D, xb, z, y_real=yb, y_fake=yf, loss=loss,
                         gp_weight=gp_weight, device=device)  # fmt: skip
        z, yf = noise()
        g = update_G(G, D, opt_G, z, y_fake=yf, loss=loss, saturating=saturating, device=device)
        hist.loss_D.append(d["loss_D"])
        hist.loss_G.append(g["loss_G"])
        hist.D_real.append(d["D_real"])
        hist.D_fake.append(d["D_fake"])
        hist.steps = step + 1
        if fixed_z is not None and snapshot_every and hist.steps % snapshot_every == 0:
            snapshot(hist.steps)
        if callback is not None:
            callback(hist.steps, hist)
        if progress and hist.steps % 20 == 0:
            bar.set_postfix(loss_D=f"{d['loss_D']:.3f}", loss_G=f"{g['loss_G']:.3f}")
        if checkpoint_path is not None and checkpoint_every and hist.steps % checkpoint_every == 0:
            save_gan_checkpoint(checkpoint_path, G, D, hist.steps)
        if max_seconds is not None and time.perf_counter() - start >= max_seconds:
            break
    bar.close()
    hist.seconds += time.perf_counter() - start
    if checkpoint_path is not None:
        save_gan_checkpoint(checkpoint_path, G, D, hist.steps)
    return hist


def save_gan_checkpoint(path: str | Path, G: nn.Module, D: nn.Module, step: int) -> Path:
    """Save both players in one checkpoint (tensors prefixed ``G.`` and ``D.``)."""
    from ..checkpoint import save_checkpoint

    state = {f"G.{k}": v for k, v in G.state_dict().items()}
    state.update({f"D.{k}": v for k, v in D.state_dict().items()})
    config = getattr(G, "config", None)
    meta = {"step": step, "config": config.to_dict() if hasattr(config, "to_dict") else None}
    return save_checkpoint(path, state, meta)


def load_gan_checkpoint(path: str | Path, G: nn.Module, D: nn.Module) -> int:
    """Load a :func:`save_gan_checkpoint` file into ``G`` and ``D``; returns its step."""
    from ..checkpoint import load_checkpoint

    state, meta = load_checkpoint(path)
    G.load_state_dict({k[2:]: v for k, v in state.items() if k.startswith("G.")})
    D.load_state_dict({k[2:]: v for k, v in state.items() if k.startswith("D.")})
    return int(meta["step"])


def train_discriminator(
    D: nn.Module,
    G: nn.Module,
    x: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 256,
    latent_dim: int = 1,
    lr: float = 1e-3,
    seed: int = 0,
) -> list[float]:
    """Train D alone against a frozen G (the inner maximisation of the game).

    Used to check that D approaches D* = p_data / (p_data + p_g). Returns the losses.
    """
    opt = torch.optim.Adam(D.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (batch_size,), generator=gen)
        z = torch.randn(batch_size, latent_dim, generator=gen)
        with torch.no_grad():
            fake = G(z)
        loss = discriminator_loss(D(x[idx]), D(fake))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# ----------------------------------------------------------------------------- reference


def train_reference_dcgan(
    G: nn.Module,
    D: nn.Module,
    x: torch.Tensor,
    *,
    max_seconds: float,
    max_steps: int | None = None,
    batch_size: int = 128,
    latent_dim: int = 100,
    lr: float = 2e-4,
    beta1: float = 0.5,
    seed: int = 0,
    num_workers: int = 0,
) -> GANHistory:
    """The PyTorch DCGAN tutorial's training loop, for comparison at equal wall-clock.

    Follows the tutorial: a standard ``DataLoader`` (shuffled, batch 128), ``nn.BCELoss``
    on a discriminator that ends in ``Sigmoid``, real and fake batches backpropagated
    separately, Adam(2e-4, β=(0.5, 0.999)), non-saturating generator loss with real
    labels. Stops at ``max_seconds`` (or ``max_steps``). CPU only.

    References: Inkawhich, "DCGAN Tutorial", pytorch.org/tutorials (beginner/dcgan_faces).
    """
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(seed)
    loader = DataLoader(
        TensorDataset(x), batch_size=batch_size, shuffle=True, num_workers=num_workers
    )
    criterion = nn.BCELoss()
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(beta1, 0.999))
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(beta1, 0.999))
    hist = GANHistory()
    start = time.perf_counter()
    done = False
    while not done:
        for (real,) in loader:
            b = real.shape[0]
            D.zero_grad()
            out = D(real).view(-1)
            err_real = criterion(out, torch.full((b,), 1.0))
            err_real.backward()
            d_x = out.mean().item()
            noise = torch.randn(b, latent_dim, 1, 1)
            fake = G(noise)
            out = D(fake.detach()).view(-1)
            err_fake = criterion(out, torch.full((b,), 0.0))
            err_fake.backward()
            d_g_z1 = out.mean().item()
            opt_D.step()
            G.zero_grad()
            out = D(fake).view(-1)
            err_G = criterion(out, torch.full((b,), 1.0))
            err_G.backward()
            opt_G.step()
            hist.loss_D.append((err_real + err_fake).item())
            hist.loss_G.append(err_G.item())
            hist.D_real.append(d_x)
            hist.D_fake.append(d_g_z1)
            hist.steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= max_seconds or (max_steps is not None and hist.steps >= max_steps):
                done = True
                break
    hist.seconds = time.perf_counter() - start
    return hist


# ----------------------------------------------------------------------------- 2-D ring


RING_SETTINGS = {
    # Adam(1e-3, (0.5, 0.999)) for the vanilla (non-saturating BCE) GAN; WGAN-GP with
    # Gulrajani et al.'s n_critic = 5, λ = 10 and β = (0.5, 0.9)
    "bce": {"lr": 1e-3, "betas": (0.5, 0.999), "n_critic": 1},
    "wgan-gp": {"lr": 5e-4, "betas": (0.5, 0.9), "n_critic": 5},
}


def train_ring_gan(
    loss: str,
    seed: int,
    steps: int,
    *,
    sigma: float = 0.05,
    hidden: int = 128,
    batch_size: int = 256,
    eval_every: int = 250,
    n_eval: int = 2000,
    progress: bool = False,
) -> dict:
    """Train an MLP GAN on the 8-Gaussian ring and track mode coverage during training.

    Returns:
        ``G``, ``history``, ``coverage`` (list of (step, modes covered, high-quality share))
        and ``samples`` (n_eval, 2) from the final generator (fixed evaluation noise).
    """
    from ..metrics.image import ring_centers, ring_scores, sample_ring
    from ..models.gan import MLPDiscriminator, MLPGANConfig, MLPGenerator

    torch.manual_seed(seed)
    cfg = MLPGANConfig(data_dim=2, latent_dim=2, hidden=hidden, n_layers=3)
    G, D = MLPGenerator(cfg), MLPDiscriminator(cfg)
    s = RING_SETTINGS[loss]
    x = sample_ring(20_000, sigma=sigma, seed=seed)
    z_eval = torch.randn(n_eval, 2, generator=torch.Generator().manual_seed(10_000 + seed))
    centers, coverage = ring_centers(), []

    def track(step: int, hist: GANHistory) -> None:
        if step % eval_every == 0:
            with torch.no_grad():
                r = ring_scores(G(z_eval), centers, sigma)
            coverage.append((step, r.modes_covered, r.high_quality))

    hist = train_gan(
        G, D, x, steps=steps, batch_size=batch_size, loss=loss, n_critic=s["n_critic"],
        optimizers=make_optimizers(G, D, lr=s["lr"], betas=s["betas"]), seed=seed,
        callback=track, progress=progress,
    )  # fmt: skip
    with torch.no_grad():
        samples = G(z_eval)
    return {"G": G, "history": hist, "coverage": coverage, "samples": samples}
