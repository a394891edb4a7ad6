"""Training GANs: the two step functions and a loop around them, on the one training
contract (:mod:`aigc_course.training.core`).

``update_D`` and ``update_G`` are one optimisation step each (d2l keeps the same split);
``train_gan`` alternates them in a ``step(i)`` handed to :func:`~.core.run_loop`, on the
device the generator is on (the device follows the model), with the data resident there,
the course's precision policy for both optimizers (bf16 autocast where native, fp16 with
a gradient scaler on older GPUs, fp32 on CPU/MPS), ``channels_last`` for image models on
CUDA, and callbacks for the progress bar, fixed-noise snapshots (:func:`fixed_noise`) and
checkpoints of both players (``Checkpoint``; restore with ``load_training_checkpoint``
and the models ``{"G": G, "D": D}``). ``GANTrainConfig.max_seconds`` is the time budget of
comparisons at equal time.

Example::

    cfg = GANTrainConfig(steps=400, max_seconds=45)
    hist = train_gan(G.to(device), D.to(device), x, cfg=cfg,
                     callbacks=[ProgressBar("GAN"), fixed_noise(z, every=25)])
    hist["loss_D"], hist.snapshots

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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from ..device import Precision, model_device
from .core import (
    Callback,
    Evaluate,
    History,
    ProgressBar,
    Snapshots,
    TrainConfig,
    run_loop,
)

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
    precision: Precision | None = None,
) -> dict[str, float]:
    """One discriminator (critic) step; G is not updated (its output is detached).

    Args:
        precision: the run's :class:`~aigc_course.device.Precision` (autocast, and the
            gradient scaler in fp16); default: a fresh one for D's device.

    Returns:
        ``loss_D``, ``D_real`` and ``D_fake`` (mean σ(logit) for ``bce``, the mean critic
        value for ``wgan-gp``).
    """
    precision = precision or Precision(model_device(D))
    with torch.no_grad(), precision.autocast():
        fake = G(z, y_fake)
    fake = fake.float()  # detached: no gradient reaches G from the D step
    with precision.autocast():
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
    precision.step(loss_D, opt_D)
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
    precision: Precision | None = None,
) -> dict[str, float]:
    """One generator step; D's parameters get gradients but are not stepped (and the
    D optimizer zeroes them before its next step).

    Returns:
        ``loss_G`` and ``D_G_z`` (mean σ(logit) on the fakes, before this step).
    """
    precision = precision or Precision(model_device(G))
    with precision.autocast():
        fake_logits = D(G(z, y_fake), y_fake).float()
    if loss == "bce":
        loss_G = generator_loss(fake_logits, saturating=saturating)
        d_g_z = torch.sigmoid(fake_logits).mean()
    elif loss == "wgan-gp":
        loss_G = -fake_logits.mean()
        d_g_z = fake_logits.mean()
    else:
        raise ValueError(f"loss={loss!r}; use one of {LOSSES}")
    precision.step(loss_G, opt_G)
    return {"loss_G": loss_G.item(), "D_G_z": d_g_z.item()}


# ----------------------------------------------------------------------------- the loop


@dataclass(frozen=True)
class GANTrainConfig(TrainConfig):
    """Settings of :func:`train_gan`; the defaults are DCGAN's (Radford et al. 2016).

    ``steps`` counts generator steps, each preceded by ``n_critic`` discriminator steps.
    The latent size and the number of classes are read from ``G.config``.
    """

    steps: int = 1000
    batch_size: int = 64
    lr: float = 2e-4  # Adam, both players (DCGAN: 1e-3 was too high)
    lr_D: float | None = None  # the discriminator's own rate (None: lr)
    betas: tuple[float, float] = (0.5, 0.999)  # DCGAN: β1 = 0.9 oscillated
    loss: str = "bce"  # or "wgan-gp"
    saturating: bool = False  # the minimax generator loss (notebook 01's experiment)
    n_critic: int = 1  # discriminator steps per generator step (WGAN-GP: 5)
    gp_weight: float = 10.0  # λ of the gradient penalty

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.loss not in LOSSES:
            raise ValueError(f"loss={self.loss!r}; use one of {LOSSES}")
        if self.n_critic < 1:
            raise ValueError(f"n_critic must be >= 1, got {self.n_critic}")

    @classmethod
    def tiny(cls) -> GANTrainConfig:
        """Seconds on a CPU: tests and smoke mode."""
        return cls(steps=5, batch_size=16)


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


def fixed_noise(z: torch.Tensor, y: torch.Tensor | None = None, *, every: int) -> Snapshots:
    """A :class:`~.core.Snapshots` callback: ``G(z, y)`` (on G's device, G in eval mode,
    kept on the CPU) before the first step and every ``every`` steps."""

    def draw(models: dict[str, nn.Module]) -> torch.Tensor:
        G = models["G"]
        device = model_device(G)
        return G(z.to(device), None if y is None else y.to(device))

    return Snapshots(draw, every=every)


def _latent(G: nn.Module) -> tuple[int, int]:
    config = getattr(G, "config", None)
    if config is None or not hasattr(config, "latent_dim"):
        raise ValueError(f"{type(G).__name__} has no config.latent_dim: the loop reads nz there")
    return int(config.latent_dim), int(getattr(config, "n_classes", 0))


def train_gan(
    G: nn.Module,
    D: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    cfg: GANTrainConfig | None = None,
    *,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
    optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer] | None = None,
) -> History:
    """Train ``G`` and ``D`` in place by alternating :func:`update_D` and :func:`update_G`,
    on the device G is on (D must be there too).

    Args:
        G, D: the players, already on their device (image models get ``channels_last``
            memory on CUDA). ``G.config`` gives ``latent_dim`` and ``n_classes``.
        x: (N, ...) training data (images in [-1, 1] for the DCGAN); moved to G's device
            once and sampled there, a fresh permutation each epoch.
        y: (N,) labels, for a conditional pair (``G.config.n_classes > 0``); fakes get
            uniformly drawn labels.
        cfg: steps, batch size, loss, optimiser settings, the seed (noise and batch order
            come from a ``torch.Generator`` on the device) and the budget ``max_seconds``.
        callbacks: ``ProgressBar``, :func:`fixed_noise` snapshots, ``Checkpoint`` (saves
            ``{"G": G, "D": D}``), ``Evaluate``, ``LambdaCallback``; off the clock.
        history: continue this history (training in several calls).
        optimizers: ``(opt_G, opt_D)``; default Adam(cfg.lr / cfg.lr_D, cfg.betas).

    Returns:
        The :class:`~.core.History`: ``loss_D``, ``loss_G``, ``D_real`` (D's mean output on
        real data) and ``D_fake`` (on fakes, in the D step), one value per generator step.
    """
    cfg = cfg or GANTrainConfig()
    device = model_device(G)
    if model_device(D) != device:
        raise ValueError(f"G is on {device} but D on {model_device(D)}: put both on one device")
    nz, n_classes = _latent(G)
    if (y is None) != (n_classes == 0):
        raise ValueError(
            f"G.config.n_classes is {n_classes}: pass labels y for a conditional pair "
            "(n_classes > 0) and none for an unconditional one"
        )
    is_image = x.ndim == 4
    fmt = torch.channels_last if (is_image and device.type == "cuda") else torch.preserve_format
    if fmt is torch.channels_last:
        G.to(memory_format=fmt)
        D.to(memory_format=fmt)
    x = x.to(device, memory_format=fmt) if is_image else x.to(device)
    y = None if y is None else y.to(device)
    opt_G, opt_D = optimizers or make_optimizers(G, D, cfg.lr, cfg.betas, cfg.lr_D)
    prec_G, prec_D = Precision(device), Precision(device)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    n, b = x.shape[0], cfg.batch_size
    order, pos = torch.randperm(n, generator=gen, device=device), 0

    def batch() -> tuple[torch.Tensor, torch.Tensor | None]:
        nonlocal order, pos
        if pos + b > n:
            order, pos = torch.randperm(n, generator=gen, device=device), 0
        idx = order[pos : pos + b]
        pos += b
        return x[idx], (None if y is None else y[idx])

    def noise() -> tuple[torch.Tensor, torch.Tensor | None]:
        z = torch.randn(b, nz, generator=gen, device=device)
        yf = None
        if n_classes:
            yf = torch.randint(0, n_classes, (b,), generator=gen, device=device)
        return z, yf

    def step(i: int) -> dict[str, float]:
        for _ in range(cfg.n_critic):
            xb, yb = batch()
            z, yf = noise()
            d = update_D(
                G,
                D,
                opt_D,
                xb,
                z,
                y_real=yb,
                y_fake=yf,
                loss=cfg.loss,
                gp_weight=cfg.gp_weight,
                precision=prec_D,
            )
        z, yf = noise()
        g = update_G(
            G, D, opt_G, z, y_fake=yf, loss=cfg.loss, saturating=cfg.saturating, precision=prec_G
        )
        return {
            "loss_D": d["loss_D"],
            "loss_G": g["loss_G"],
            "D_real": d["D_real"],
            "D_fake": d["D_fake"],
        }

    return run_loop(step, cfg, models={"G": G, "D": D}, callbacks=callbacks, history=history)


def train_discriminator(
    D: nn.Module,
    G: nn.Module,
    x: torch.Tensor,
    cfg: TrainConfig,
    *,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train D alone (Adam(cfg.lr)) against a frozen G: the inner maximisation of the game,
    on D's device.

    Used to check that D approaches D* = p_data / (p_data + p_g). Returns the history
    (``hist["loss_D"]``).
    """
    device = model_device(D)
    nz, _ = _latent(G)
    precision = Precision(device)
    opt = torch.optim.Adam(D.parameters(), lr=cfg.lr)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    x = x.to(device)
    b = cfg.batch_size

    def step(i: int) -> dict[str, float]:
        idx = torch.randint(0, x.shape[0], (b,), generator=gen, device=device)
        z = torch.randn(b, nz, generator=gen, device=device)
        with torch.no_grad(), precision.autocast():
            fake = G(z)
        with precision.autocast():
            loss = discriminator_loss(D(x[idx]).float(), D(fake).float())
        precision.step(loss, opt)
        return {"loss_D": loss.item()}

    hist = run_loop(step, cfg, models={"D": D}, callbacks=callbacks)
    D.eval()
    return hist


# ----------------------------------------------------------------------------- reference


def train_reference_dcgan(
    G: nn.Module,
    D: nn.Module,
    x: torch.Tensor,
    cfg: TrainConfig,
    *,
    beta1: float = 0.5,
    num_workers: int = 0,
    callbacks: Sequence[Callback] = (),
) -> History:
    """The PyTorch DCGAN tutorial's training step, for comparisons at equal time, on the
    device G is on (so both sides of a comparison run on the same device).

    Follows the tutorial: a standard ``DataLoader`` over CPU tensors (shuffled, batch
    ``cfg.batch_size``; the tutorial's 128), each batch moved to the device as it comes,
    ``nn.BCELoss`` on a discriminator that ends in ``Sigmoid``, real and fake batches
    back-propagated separately, Adam(cfg.lr, β=(beta1, 0.999)), the non-saturating
    generator loss with real labels, fp32 throughout (``BCELoss`` refuses autocast). Stops
    at ``cfg.steps`` or ``cfg.max_seconds``; the clock is the one of every course loop.

    Returns:
        The history with ``loss_D``, ``loss_G``, ``D_real``, ``D_fake``.

    References: Inkawhich, "DCGAN Tutorial", pytorch.org/tutorials (beginner/dcgan_faces).
    """
    from torch.utils.data import DataLoader, TensorDataset

    device = model_device(G)
    torch.manual_seed(cfg.seed)
    loader = DataLoader(
        TensorDataset(x.cpu()), batch_size=cfg.batch_size, shuffle=True, num_workers=num_workers
    )
    criterion = nn.BCELoss()
    opt_D = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(beta1, 0.999))
    opt_G = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(beta1, 0.999))
    batches = _endless(loader)

    def step(i: int) -> dict[str, float]:
        real = next(batches)[0].to(device)
        b = real.shape[0]
        D.zero_grad()
        out = D(real).view(-1)
        err_real = criterion(out, torch.full((b,), 1.0, device=device))
        err_real.backward()
        d_x = out.mean().item()
        fake = G(torch.randn(b, G.nz, 1, 1, device=device))
        out = D(fake.detach()).view(-1)
        err_fake = criterion(out, torch.full((b,), 0.0, device=device))
        err_fake.backward()
        d_g_z1 = out.mean().item()
        opt_D.step()
        G.zero_grad()
        out = D(fake).view(-1)
        err_G = criterion(out, torch.full((b,), 1.0, device=device))
        err_G.backward()
        opt_G.step()
        loss_D = (err_real + err_fake).item()
        return {"loss_D": loss_D, "loss_G": err_G.item(), "D_real": d_x, "D_fake": d_g_z1}

    return run_loop(step, cfg, models={"G": G, "D": D}, callbacks=callbacks)


def _endless(loader) -> Iterator:
    while True:
        yield from loader


# ----------------------------------------------------------------------------- 2-D ring


RING_VARIANTS = ("bce", "wgan-gp", "bce-sn")


def ring_config(variant: str, steps: int, seed: int = 0, batch_size: int = 256) -> GANTrainConfig:
    """The ring experiment's optimiser settings, by variant.

    * ``"bce"``, the vanilla GAN (non-saturating loss): Adam(1e-3, (0.5, 0.999)).
    * ``"bce-sn"``: the same loss and optimiser, spectral normalisation in D
      (Miyato et al. 2018 keep the ordinary GAN loss).
    * ``"wgan-gp"``: Gulrajani et al.'s toy settings (their ``gan_toy.py``): n_critic = 5,
      λ = 0.1 ("smaller lambda seems to help for toy tasks"), Adam(1e-4, (0.5, 0.9)).
    """
    common = {"steps": steps, "batch_size": batch_size, "seed": seed}
    if variant in ("bce", "bce-sn"):
        return GANTrainConfig(lr=1e-3, betas=(0.5, 0.999), **common)
    if variant == "wgan-gp":
        return GANTrainConfig(
            loss="wgan-gp", lr=1e-4, betas=(0.5, 0.9), n_critic=5, gp_weight=0.1, **common
        )
    raise ValueError(f"variant={variant!r}; use one of {RING_VARIANTS}")


def train_ring_gan(
    variant: str,
    seed: int,
    steps: int,
    *,
    sigma: float = 0.05,
    hidden: int = 128,
    d_layers: int = 1,
    batch_size: int = 256,
    eval_every: int = 250,
    n_eval: int = 2000,
    progress: bool = False,
) -> dict:
    """Train an MLP GAN (on the CPU) on the 8-Gaussian ring and track mode coverage
    during training (an ``Evaluate`` callback on fixed noise, off the clock).

    The generator has 3 hidden layers of ``hidden`` units on 2-D noise; the discriminator
    ``d_layers`` hidden layers (one, as in Metz et al. 2017, by default), with spectral
    normalisation for ``variant="bce-sn"``. Settings of each variant: :func:`ring_config`.

    Returns:
        ``G``, ``history``, ``coverage`` (list of (step, modes covered, high-quality share,
        mode-histogram JSD)) and ``samples`` (n_eval, 2) from the final generator (fixed
        evaluation noise).
    """
    from ..metrics.image import ring_centers, ring_scores, sample_ring
    from ..models.gan import MLPDiscriminator, MLPGANConfig, MLPGenerator

    torch.manual_seed(seed)
    config = MLPGANConfig(data_dim=2, latent_dim=2, hidden=hidden, n_layers=3)
    d_config = replace(config, n_layers=d_layers, spectral_norm=variant == "bce-sn")
    G, D = MLPGenerator(config), MLPDiscriminator(d_config)
    x = sample_ring(20_000, sigma=sigma, seed=seed)
    z_eval = torch.randn(n_eval, 2, generator=torch.Generator().manual_seed(10_000 + seed))
    centers = ring_centers()

    def coverage(models: dict[str, nn.Module]) -> dict[str, float]:
        r = ring_scores(models["G"](z_eval), centers, sigma)
        return {"modes_covered": r.modes_covered, "high_quality": r.high_quality, "jsd": r.mode_jsd}

    callbacks: list[Callback] = [Evaluate(coverage, every=eval_every, at_end=False)]
    if progress:
        callbacks.append(ProgressBar(f"ring {variant} seed {seed}"))
    cfg = ring_config(variant, steps, seed=seed, batch_size=batch_size)
    hist = train_gan(G, D, x, cfg=cfg, callbacks=callbacks)
    G.eval()
    with torch.no_grad():
        samples = G(z_eval)
    cov = [
        (int(e["step"]), int(e["modes_covered"]), e["high_quality"], e["jsd"]) for e in hist.evals
    ]
    return {"G": G, "history": hist, "coverage": cov, "samples": samples}
