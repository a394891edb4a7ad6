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
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..device import autocast
from ..models.vae import VAE
from ..theory.elbo import diag_gaussian_log_prob, gaussian_kl_standard

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
        model: the VAE (put in eval mode for the call).
        x: (N, 1, 28, 28) *binary* images (use :func:`fixed_binarization` for a test set).

    Returns:
        ``{"elbo", "recon", "kl"}``: mean ELBO (negative: higher is better), mean
        reconstruction NLL and mean KL, all nats per image.
    """
    was_training = model.training
    model.eval()
    g = torch.Generator(device=x.device).manual_seed(seed)
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
        model: the VAE.
        x: (N, 1, 28, 28) binary images.
        k: number of importance samples (>= 1).
        batch_size: images per batch.
        max_rows: images × samples decoded at once.
        seed: seeds the samples (on ``x``'s device).

    Returns:
        (N,) float64 log-likelihood estimates; ``-mean`` is the IWAE NLL in nats.

    References: Burda, Grosse & Salakhutdinov 2015, Eq. (8); Rezende et al. 2014, Sec. 4.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    was_training = model.training
    model.eval()
    g = torch.Generator(device=x.device).manual_seed(seed)
    chunk = max(1, min(k, max_rows // batch_size))
    out = []
    batches = range(0, len(x), batch_size)
    for i in tqdm(batches, disable=not progress, desc=f"IWAE k={k}", leave=False):
        xb = x[i : i + batch_size]  # (B, 1, 28, 28)
        mu, logvar = model.encode(xb)  # (B, d)
        log_w = []
        for s in range(0, k, chunk):
            c = min(chunk, k - s)
            eps = torch.randn((c, *mu.shape), generator=g, device=x.device, dtype=mu.dtype)
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
class TrainConfig:
    """How a VAE is trained.

    Attributes:
        epochs: passes over the training set (an upper bound when ``time_budget_s`` is set).
        batch_size: images per step.
        lr: Adam learning rate.
        beta: KL weight (1 = the ELBO; beta != 1 is the beta-VAE objective).
        kl_warmup_epochs: the KL weight rises linearly from 0 to beta over these epochs
            (Bowman et al. 2016; Sønderby et al. 2016). 0 = no warm-up.
        cosine: decay the learning rate to ``lr * min_lr_ratio`` on a cosine over the run.
        min_lr_ratio: final learning-rate factor of the cosine schedule.
        weight_decay: AdamW decoupled weight decay (0 = plain Adam).
        time_budget_s: stop after this many seconds of training (equal-time
            comparisons); the cosine schedule then follows elapsed time.
        clock: what ``time_budget_s`` counts: ``"wall"`` seconds, or ``"cpu"`` seconds
            of this process (fair on a shared, busy machine: other users' load does not
            eat the budget).
        seed: seeds initialisation-independent randomness (batches, binarisation, eps).
    """

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    kl_warmup_epochs: int = 0
    cosine: bool = False
    min_lr_ratio: float = 0.05
    weight_decay: float = 0.0
    time_budget_s: float | None = None
    clock: str = "wall"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.clock not in ("wall", "cpu"):
            raise ValueError(f"clock={self.clock!r}; use 'wall' or 'cpu'")

    @classmethod
    def tiny(cls) -> TrainConfig:
        """A few steps: tests and smoke mode."""
        return cls(epochs=2, batch_size=32)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    """What :func:`fit` did: per-epoch history (nats per image), epochs, steps, and the
    training time in wall-clock seconds and in CPU seconds of this process."""

    history: dict[str, list[float]] = field(default_factory=dict)
    epochs: int = 0
    steps: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def fit(
    model: VAE,
    x_train: torch.Tensor,
    config: TrainConfig,
    device: torch.device | str = "cpu",
    *,
    x_val: torch.Tensor | None = None,
    callback: Callable[[int, dict[str, float]], None] | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train ``model`` in place on (N, 1, 28, 28) intensities in [0, 1].

    Each step binarises its batch afresh (dynamic binarisation), draws one
    reparameterised z per image and takes an Adam step on the negative ELBO per image.
    The data stay resident on ``device``; the forward pass runs under
    :func:`aigc_course.device.autocast` (bf16 on CUDA, fp32 elsewhere).

    Args:
        model: the VAE, already on ``device``.
        x_train: training images (intensities, not binarised).
        config: the :class:`TrainConfig`.
        device: where to train.
        x_val: optional *binary* images scored with :func:`evaluate_elbo` after each epoch
            (history key ``val_elbo``).
        callback: called as ``callback(epoch, record)`` after each epoch.
        progress: show a tqdm bar over epochs.

    Returns:
        A :class:`TrainResult`; history keys ``loss``, ``recon``, ``kl`` (train, per
        epoch), ``val_elbo`` (if ``x_val``), ``seconds`` and ``cpu_seconds`` (elapsed
        at epoch end; ``x_val`` scoring is counted in both).
    """
    device = torch.device(device)
    x_train = x_train.to(device)
    opt_cls = torch.optim.AdamW if config.weight_decay else torch.optim.Adam
    opt = opt_cls(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    g = torch.Generator(device=device).manual_seed(config.seed)
    n = len(x_train)
    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    result = TrainResult(
        history={"loss": [], "recon": [], "kl": [], "seconds": [], "cpu_seconds": []}
    )
    if x_val is not None:
        result.history["val_elbo"] = []
    model.train()
    start, cpu_start = time.perf_counter(), time.process_time()

    def budget_clock() -> float:
        if config.clock == "cpu":
            return time.process_time() - cpu_start
        return time.perf_counter() - start

    step = 0
    for epoch in tqdm(range(config.epochs), disable=not progress, desc="VAE", leave=False):
        perm = torch.randperm(n, generator=g, device=device)
        sums = torch.zeros(3, device=device)
        for i in range(0, n, config.batch_size):
            frac = step / total_steps
            if config.time_budget_s:
                frac = max(frac, budget_clock() / config.time_budget_s)
            if config.cosine:
                factor = config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (
                    1 + math.cos(math.pi * min(frac, 1.0))
                )
                for group in opt.param_groups:
                    group["lr"] = config.lr * factor
            warm = 1.0
            if config.kl_warmup_epochs:
                warm = min(1.0, (step + 1) / (config.kl_warmup_epochs * steps_per_epoch))
            xb = binarize(x_train[perm[i : i + config.batch_size]], g)
            with autocast(device):
                out = model(xb, generator=g)
            terms = negative_elbo(out.recon_logits, xb, out.mu, out.logvar, beta=config.beta * warm)
            opt.zero_grad(set_to_none=True)
            terms.loss.backward()
            opt.step()
            step += 1
            sums += torch.stack([t.detach() for t in terms]) * len(xb)
        record = dict(zip(("loss", "recon", "kl"), (sums / n).tolist(), strict=True))
        record["seconds"] = time.perf_counter() - start
        record["cpu_seconds"] = time.process_time() - cpu_start
        if x_val is not None:
            record["val_elbo"] = evaluate_elbo(model, x_val)["elbo"]
        for key, value in record.items():
            result.history[key].append(value)
        result.epochs, result.steps = epoch + 1, step
        if callback is not None:
            callback(epoch, record)
        if config.time_budget_s and budget_clock() >= config.time_budget_s:
            break
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu_start
    return result


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
