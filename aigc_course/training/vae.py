"""Training and evaluating VAEs on binarised MNIST, in nats per image.

Protocol (what every figure of the VAE chapter means):

* **Binarisation.** Training images are binarised afresh at every step,
  ``x ~ Bernoulli(intensity)`` (*dynamic* binarisation, a free data augmentation); the
  test set is binarised **once**, with a fixed seed (:data:`TEST_BINARIZATION_SEED`), so
  every model is scored on the same 0/1 images.
* **Units.** The loss is the negative ELBO of one image in nats: the Bernoulli negative
  log-likelihood *summed* over the 784 pixels plus the KL *summed* over latent
  dimensions, averaged over the images of a batch. A mean over pixels (``reduction=
  "mean"``) would silently weight the KL 784 times more than the ELBO does.
* **Likelihood.** ``log p(x)`` is estimated with the importance-weighted bound
  ``L_k = E[log (1/k) sum_i p(x, z_i) / q(z_i|x)]`` (Burda et al. 2015), which grows with k
  towards ``log p(x)``; ``L_1`` is the ELBO. Decoding ``z = mu`` gives neither.

References:
    Kingma & Welling 2014; Burda, Grosse & Salakhutdinov 2015, "Importance Weighted
    Autoencoders", Eq. (8) and Sec. 5 (binarisation, k = 5000 evaluation); Higgins et al.
    2017 (beta-VAE).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..device import Precision, model_device
from ..models.vae import VAE
from ..theory.elbo import diag_gaussian_log_prob, gaussian_kl_standard
from .core import Callback, Evaluate, History, LoopState, TrainConfig, resident, run_loop

TEST_BINARIZATION_SEED = 1234
PROTOCOL = (
    "dynamic binarisation in training (x ~ Bernoulli(intensity) each step); test set "
    f"binarised once (seed {TEST_BINARIZATION_SEED}); nats per image, summed over 784 pixels "
    "and the latent dimensions"
)


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Dynamic binarisation: each pixel is 1 with probability equal to its intensity.

    Args:
        x: images with values in [0, 1].
        generator: on ``x``'s device, for reproducible draws.
    """
    return torch.bernoulli(x, generator=generator)


def fixed_binarization(x: torch.Tensor, seed: int = TEST_BINARIZATION_SEED) -> torch.Tensor:
    """The one fixed binarisation of a test set (drawn on the CPU, so identical on any
    device), returned on ``x``'s device."""
    g = torch.Generator().manual_seed(seed)
    return torch.bernoulli(x.detach().float().cpu(), generator=g).to(x.device)


class ELBOTerms(NamedTuple):
    """The loss and its parts, each averaged over the images of a batch (nats per image).

    Attributes:
        loss: recon + beta * kl, the quantity to minimise (negative ELBO when beta = 1).
        recon: -E_q[log p(x|z)], summed over pixels (the distortion).
        kl: KL(q(z|x) ‖ p(z)), summed over latent dimensions (the rate).
    """

    loss: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor


def negative_elbo_per_image(
    recon_logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image reconstruction term and KL, both (B,) in nats.

    Args:
        recon_logits: (B, 1, 28, 28) decoder logits at one z ~ q(z|x).
        x: (B, 1, 28, 28) binary targets.
        mu, logvar: (B, d) encoder outputs.
    """
    bce = F.binary_cross_entropy_with_logits(recon_logits.float(), x, reduction="none")
    return bce.flatten(1).sum(1), gaussian_kl_standard(mu.float(), logvar.float())


def negative_elbo(
    recon_logits: torch.Tensor,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
) -> ELBOTerms:
    """The VAE loss: negative ELBO per image in nats (with an optional KL weight beta).

    ``-ELBO(x) = -E_q[log p(x|z)] + KL(q(z|x) ‖ p(z))``, the expectation estimated with
    the one reparameterised sample behind ``recon_logits``, the KL in closed form.

    References: Kingma & Welling 2014, Eq. (10); Higgins et al. 2017, Eq. (4) for beta.
    """
    recon, kl = negative_elbo_per_image(recon_logits, x, mu, logvar)
    recon, kl = recon.mean(), kl.mean()
    return ELBOTerms(recon + beta * kl, recon, kl)


@torch.no_grad()
def evaluate_elbo(
    model: VAE, x: torch.Tensor, batch_size: int = 500, seed: int = 0
) -> dict[str, float]:
    """Test ELBO in nats per image (one reparameterised sample per image, KL exact).

    Args:
        model: the VAE (put in eval mode for the call); it computes on its own device.
        x: (N, 1, 28, 28) *binary* images (use :func:`fixed_binarization` for a test set),
            moved to the model's device.

    Returns:
        ``{"elbo", "recon", "kl"}``: mean ELBO (negative: higher is better), mean
        reconstruction NLL and mean KL, all nats per image.
    """
    device = model_device(model)
    x = x.to(device)
    was_training = model.training
    model.eval()
    g = torch.Generator(device=device).manual_seed(seed)
    recon_sum = kl_sum = 0.0
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        out = model(xb, generator=g)
        recon, kl = negative_elbo_per_image(out.recon_logits, xb, out.mu, out.logvar)
        recon_sum += recon.sum().item()
        kl_sum += kl.sum().item()
    model.train(was_training)
    n = len(x)
    return {"elbo": -(recon_sum + kl_sum) / n, "recon": recon_sum / n, "kl": kl_sum / n}


def gaussian_kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, e^logvar) ‖ N(0, 1)) of each latent dimension: (B, d) -> (B, d) nats."""
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar)


@torch.no_grad()
def active_units(model: VAE, x: torch.Tensor, threshold: float = 0.01) -> int:
    """Latent dimensions whose encoder mean varies with the input:
    ``Var_x E_q[z_j] > threshold`` over the images ``x`` (Burda et al. 2015, §5.2)."""
    mu = model.encode(x.to(model_device(model)))[0].float()
    return int((mu.var(0) > threshold).sum())


@torch.no_grad()
def iwae_log_likelihood(
    model: VAE,
    x: torch.Tensor,
    k: int,
    *,
    batch_size: int = 100,
    max_rows: int = 20_000,
    seed: int = 0,
    progress: bool = False,
) -> torch.Tensor:
    """Importance-weighted estimates of log p(x), one per image, in nats.

    ``L_k(x) = log (1/k) sum_{i<=k} p(x|z_i) p(z_i) / q(z_i|x)``, z_i ~ q(z|x). Its
    expectation is a lower bound on log p(x) that increases with k (Burda et al. 2015,
    Theorem 1); k = 1 is the ELBO. The k samples are drawn in chunks so that at most
    ``max_rows`` decoder rows are in memory at once (about 60 MB of logits at 20,000).

    Args:
        model: the VAE; it computes on its own device.
        x: (N, 1, 28, 28) binary images, moved to the model's device.
        k: number of importance samples (>= 1).
        batch_size: images per batch.
        max_rows: images × samples decoded at once.
        seed: seeds the samples (on the model's device).

    Returns:
        (N,) float64 log-likelihood estimates on the model's device; ``-mean`` is the
        IWAE NLL in nats.

    References: Burda, Grosse & Salakhutdinov 2015, Eq. (8); Rezende et al. 2014, Sec. 4.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    device = model_device(model)
    x = x.to(device)
    was_training = model.training
    model.eval()
    g = torch.Generator(device=device).manual_seed(seed)
    chunk = max(1, min(k, max_rows // batch_size))
    out = []
    batches = range(0, len(x), batch_size)
    for i in tqdm(batches, disable=not progress, desc=f"IWAE k={k}", leave=False):
        xb = x[i : i + batch_size]  # (B, 1, 28, 28)
        mu, logvar = model.encode(xb)  # (B, d)
        log_w = []
        for s in range(0, k, chunk):
            c = min(chunk, k - s)
            eps = torch.randn((c, *mu.shape), generator=g, device=device, dtype=mu.dtype)
            z = mu + (0.5 * logvar).exp() * eps  # (c, B, d)
            logits = model.decode(z).float()  # (c, B, 1, 28, 28)
            log_px_z = (
                -F.binary_cross_entropy_with_logits(logits, xb.expand_as(logits), reduction="none")
                .flatten(2)
                .sum(-1)
            )  # (c, B)
            log_pz = diag_gaussian_log_prob(z, torch.zeros_like(mu), torch.zeros_like(logvar))
            log_qz = diag_gaussian_log_prob(z, mu, logvar)
            log_w.append((log_px_z + log_pz - log_qz).double())
        log_w = torch.cat(log_w)  # (k, B)
        out.append(torch.logsumexp(log_w, dim=0) - math.log(k))
    model.train(was_training)
    return torch.cat(out)


@dataclass(frozen=True)
class VAETrainConfig(TrainConfig):
    """How a VAE is trained (``steps``, ``batch_size``, ``lr``, ``seed`` and the time
    budget ``max_seconds`` come from :class:`~aigc_course.training.core.TrainConfig`).

    Attributes:
        beta: KL weight (1 = the ELBO; beta != 1 is the beta-VAE objective).
        kl_warmup_steps: the KL weight rises linearly from 0 to beta over these steps
            (Bowman et al. 2016; Sønderby et al. 2016). 0 = no warm-up.
        free_bits: nats per latent dimension that the KL is not penalised below: the
            loss uses ``max(free_bits, KL_j)`` for each dimension j's batch-mean KL
            (Kingma et al. 2016, Eq. (15)). 0 = the plain ELBO. The recorded ``kl`` is
            always the true KL.
        cosine: decay the learning rate to ``lr * min_lr_ratio`` on a cosine over the run
            (over ``max_seconds`` of training time too, whichever comes first).
        min_lr_ratio: final learning-rate factor of the cosine schedule.
        weight_decay: AdamW decoupled weight decay (0 = plain Adam).

    ``seed`` seeds the batch order, the binarisation and the noise eps (not the
    initialisation: seed the model's construction). Use :func:`steps_per_epoch` to
    count steps in passes over the data.
    """

    steps: int = 1000
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    kl_warmup_steps: int = 0
    free_bits: float = 0.0
    cosine: bool = False
    min_lr_ratio: float = 0.05
    weight_decay: float = 0.0

    @classmethod
    def tiny(cls) -> VAETrainConfig:
        """A few steps: tests and smoke mode."""
        return cls(steps=4, batch_size=32)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Steps in one pass over ``n`` images (the last batch may be smaller)."""
    return math.ceil(n / batch_size)


def epoch_means(values: Sequence[float], n: int, batch_size: int) -> list[float]:
    """Per-step values (``hist["loss"]``) averaged over the images of each pass over
    ``n`` images (the last, smaller batch of a pass weighs what its images weigh)."""
    per_epoch = steps_per_epoch(n, batch_size)
    sizes = [batch_size] * (per_epoch - 1) + [n - batch_size * (per_epoch - 1)]
    means = []
    for start in range(0, len(values), per_epoch):
        chunk = values[start : start + per_epoch]
        weights = sizes[: len(chunk)]
        means.append(sum(v * w for v, w in zip(chunk, weights, strict=True)) / sum(weights))
    return means


def val_elbo(x_val: torch.Tensor, every: int, name: str = "val_elbo") -> Evaluate:
    """An :class:`~aigc_course.training.core.Evaluate` callback: the test ELBO of
    *binary* images ``x_val`` (nats per image) every ``every`` steps and at the end, off
    the clock (``hist.eval_curve("val_elbo")``)."""
    return Evaluate(lambda models: {name: evaluate_elbo(models["model"], x_val)["elbo"]}, every)


class _TrainingTime(Callback):
    """Keeps the loop's training seconds where the step can read them (the cosine
    schedule follows the time budget)."""

    seconds = 0.0

    def on_step(self, state: LoopState) -> None:
        self.seconds = state.clock.seconds


def fit_vae(
    model: VAE,
    x: torch.Tensor,
    cfg: VAETrainConfig,
    *,
    callbacks: Sequence[Callback] = (),
    history: History | None = None,
) -> History:
    """Train ``model`` in place on (N, 1, 28, 28) intensities in [0, 1], on the device it
    is on.

    Each step binarises its batch afresh (dynamic binarisation), draws one
    reparameterised z per image and takes an Adam step on the negative ELBO per image.
    Batches follow a fresh permutation every pass over the data. The forward pass runs
    under the course's precision policy (:class:`aigc_course.device.Precision`: bf16
    autocast on GPUs that have it, fp16 with a gradient scaler on older ones, fp32 on
    CPU and MPS).

    Args:
        model: the VAE, already on its device (the loop does not move it).
        x: training images (intensities, not binarised); moved to the model's device once.
        cfg: the :class:`VAETrainConfig` (``max_seconds`` stops it early).
        callbacks: progress bar, test ELBO (:func:`val_elbo`), checkpoints; off the clock.
        history: continue this history.

    Returns:
        The :class:`~aigc_course.training.core.History`: per step ``loss`` (recon + beta·KL
        with the warm-up weight), ``recon``, ``kl`` (nats per image), ``hist.seconds``.
    """
    device = model_device(model)
    precision = Precision(device)
    (x,) = resident(x, device=device)
    opt_cls = torch.optim.AdamW if cfg.weight_decay else torch.optim.Adam
    opt = opt_cls(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    g = torch.Generator(device=device).manual_seed(cfg.seed)
    n = len(x)
    clock = _TrainingTime()
    order, pos = None, n

    def step(i: int) -> dict[str, float]:
        nonlocal order, pos
        if pos >= n:  # a new pass over the data
            order, pos = torch.randperm(n, generator=g, device=device), 0
        if cfg.cosine:
            frac = i / max(cfg.steps, 1)
            if cfg.max_seconds:
                frac = max(frac, clock.seconds / cfg.max_seconds)
            factor = cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (
                1 + math.cos(math.pi * min(frac, 1.0))
            )
            for group in opt.param_groups:
                group["lr"] = cfg.lr * factor
        warm = min(1.0, (i + 1) / cfg.kl_warmup_steps) if cfg.kl_warmup_steps else 1.0
        xb = binarize(x[order[pos : pos + cfg.batch_size]], g)
        pos += cfg.batch_size
        with precision.autocast():
            out = model(xb, generator=g)
        terms = negative_elbo(out.recon_logits, xb, out.mu, out.logvar, beta=cfg.beta * warm)
        loss = terms.loss
        if cfg.free_bits:
            kl_dims = gaussian_kl_per_dim(out.mu.float(), out.logvar.float()).mean(0)  # (d,)
            kl_floor = kl_dims.clamp(min=cfg.free_bits).sum()
            loss = terms.recon + cfg.beta * warm * kl_floor
        precision.step(loss, opt)
        values = torch.stack([t.detach() for t in terms]).tolist()
        return dict(zip(("loss", "recon", "kl"), values, strict=True))

    hist = run_loop(
        step, cfg, models={"model": model}, callbacks=[clock, *callbacks], history=history
    )
    model.eval()
    return hist


def evaluate(
    model: VAE,
    x_test_bin: torch.Tensor,
    k: int = 1000,
    *,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, float]:
    """Test ELBO and IWAE(k) in nats per image, plus the NLL bound -IWAE.

    Args:
        x_test_bin: the fixed binarisation of the test set.
        k: importance samples for the IWAE estimate.
    """
    elbo = evaluate_elbo(model, x_test_bin, seed=seed)
    ll = iwae_log_likelihood(model, x_test_bin, k, seed=seed, progress=progress)
    return {
        "test_elbo": elbo["elbo"],
        "test_recon": elbo["recon"],
        "test_kl": elbo["kl"],
        f"test_iwae_k{k}": ll.mean().item(),
        "test_nll_iwae": -ll.mean().item(),
        "k": k,
        "n_test": len(x_test_bin),
    }
