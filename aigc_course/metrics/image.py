"""Image-generation metrics measured with the course's own MNIST classifier, and the
mode-coverage metrics of the 8-Gaussian ring.

* **Classifier FID**: the Fréchet distance between Gaussians fitted to classifier
  features of real and generated images, ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½)
  (Heusel et al. 2017, Eq. 6, with the course classifier in place of Inception-v3; the
  values are *not* comparable with published MNIST or ImageNet FIDs).
* **Confident share**: the share of samples whose top class probability is ≥ 0.9.
* **Class entropy**: the entropy (bits) of the histogram of predicted classes; log2(10)
  ≈ 3.32 bits when every digit is generated equally often, lower under mode collapse.
* **Conditional accuracy**: the share of samples classified as the requested digit.
* **Precision and recall** on the same features (Kynkäänniemi et al. 2019): the share of
  samples that fall inside the k-NN balls of the real features (quality), and the share of
  real images that fall inside the k-NN balls of the samples (coverage). FID folds both
  into one number; these two keep them apart.
* **Nearest neighbours** in pixel space: the memorisation check (a sample beside its
  closest training image).

:func:`evaluate_generator` is the protocol every committed generator is scored with
(1,000 samples, noise seed 0, against the test split, with the committed classifier).
The classifier itself is trained by :func:`aigc_course.training.classifier.fit_classifier`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import model_device

CONFIDENCE = 0.9


# ----------------------------------------------------------------------------- Fréchet


def _sqrtm_psd(a: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix via its eigendecomposition."""
    w, v = torch.linalg.eigh(a)
    return (v * w.clamp(min=0).sqrt()) @ v.T


def frechet_distance(
    mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor
) -> float:
    """Fréchet (2-Wasserstein) distance² between N(mu1, sigma1) and N(mu2, sigma2).

    tr((Σ₁Σ₂)^½) is computed as tr((Σ₁^½ Σ₂ Σ₁^½)^½), a symmetric PSD matrix, so only
    symmetric eigendecompositions are needed (stable, no complex parts), in float64.

    References: Dowson & Landau 1982; Heusel et al. 2017, Eq. 6.
    """
    mu1, mu2 = mu1.double().flatten(), mu2.double().flatten()
    s1, s2 = sigma1.double(), sigma2.double()
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.numel(),) * 2:
        raise ValueError("means must be (d,) and covariances (d, d) with the same d")
    r1 = _sqrtm_psd(s1)
    covmean_trace = torch.linalg.eigvalsh(r1 @ s2 @ r1).clamp(min=0).sqrt().sum()
    d2 = ((mu1 - mu2) ** 2).sum() + torch.trace(s1) + torch.trace(s2) - 2 * covmean_trace
    return max(float(d2), 0.0)  # ≥ 0 in exact arithmetic; rounding can give -1e-7


def gaussian_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean (d,), covariance (d, d)) of (N, d) features, in float64, unbiased (N − 1)."""
    f = features.double()
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be (N >= 2, d), got {tuple(f.shape)}")
    mu = f.mean(0)
    c = f - mu
    return mu, c.T @ c / (f.shape[0] - 1)


# ----------------------------------------------------------------------------- classifier


@torch.no_grad()
def classify(
    classifier: nn.Module, images: torch.Tensor, batch_size: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """(features (N, d), probabilities (N, 10)) for images (N, 1, 28, 28) in [0, 1]."""
    if images.min() < -1e-4 or images.max() > 1 + 1e-4:
        raise ValueError("the classifier reads images in [0, 1]; rescale tanh outputs first")
    was = classifier.training
    classifier.eval()
    device = model_device(classifier)
    feats, probs = [], []
    for i in range(0, len(images), batch_size):
        f = classifier.features(images[i : i + batch_size].to(device).float())
        feats.append(f.cpu())
        probs.append(F.softmax(classifier.head(f), dim=1).cpu())
    classifier.train(was)
    return torch.cat(feats), torch.cat(probs)


def accuracy(classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of images classified as their label."""
    _, p = classify(classifier, images)
    return float((p.argmax(1) == labels.cpu()).float().mean())


def class_entropy(probs: torch.Tensor, n_classes: int = 10) -> float:
    """Entropy in bits of the histogram of predicted classes (argmax of each row)."""
    hist = torch.bincount(probs.argmax(1), minlength=n_classes).double()
    q = hist / hist.sum()
    q = q[q > 0]
    return float(-(q * q.log2()).sum())


@dataclass(frozen=True)
class ImageScores:
    """Classifier-based scores of a set of images against a real reference set."""

    fid: float  # classifier FID (lower is better; 0 for identical statistics)
    confident: float  # share with top class probability >= 0.9
    entropy: float  # bits, of the predicted-class histogram (max log2(10) = 3.32)
    n: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def score_images(
    classifier: nn.Module,
    images: torch.Tensor,
    reference: tuple[torch.Tensor, torch.Tensor],
) -> ImageScores:
    """Score images (N, 1, 28, 28) in [0, 1] against reference stats ``(mu, sigma)``
    (from :func:`reference_stats`)."""
    feats, probs = classify(classifier, images)
    mu, sigma = gaussian_stats(feats)
    return ImageScores(
        fid=frechet_distance(mu, sigma, *reference),
        confident=float((probs.max(1).values >= CONFIDENCE).float().mean()),
        entropy=class_entropy(probs),
        n=len(images),
    )


def reference_stats(classifier: nn.Module, images: torch.Tensor):
    """Feature mean and covariance of real images: the FID's reference point."""
    return gaussian_stats(classify(classifier, images)[0])


def conditional_accuracy(classifier: nn.Module, images: torch.Tensor, requested: torch.Tensor):
    """Share of generated images that the classifier assigns to the requested class."""
    return accuracy(classifier, images, requested)


def blur(images: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """Gaussian blur (a reference point on the metric's scale: digit-shaped but smudged)."""
    radius = max(1, int(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    x = F.conv2d(images, k.view(1, 1, 1, -1), padding=(0, radius))
    return F.conv2d(x, k.view(1, 1, -1, 1), padding=(radius, 0))


# ----------------------------------------------------------------------------- precision, recall


def _kth_neighbour_radius(features: torch.Tensor, k: int, batch_size: int = 1024) -> torch.Tensor:
    """(N,) distance of each row to its k-th nearest *other* row."""
    f = features.double()
    out = []
    for i in range(0, len(f), batch_size):
        d = torch.cdist(f[i : i + batch_size], f)  # (b, N); the row itself is at distance 0
        out.append(d.kthvalue(k + 1, dim=1).values)  # k + 1: skip the point itself
    return torch.cat(out)


def _inside_any_ball(
    points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, batch_size: int = 1024
) -> torch.Tensor:
    """(P,) bool: the point lies within radius of at least one centre."""
    p, c = points.double(), centres.double()
    out = []
    for i in range(0, len(p), batch_size):
        d = torch.cdist(p[i : i + batch_size], c)  # (b, C)
        out.append((d <= radii[None, :]).any(dim=1))
    return torch.cat(out)


@dataclass(frozen=True)
class PrecisionRecall:
    """Improved precision and recall of generated features against real ones."""

    precision: float  # share of samples inside the real manifold (quality)
    recall: float  # share of real images inside the generated manifold (coverage)
    k: int


def precision_recall(
    real_features: torch.Tensor, fake_features: torch.Tensor, k: int = 3
) -> PrecisionRecall:
    """Improved precision and recall (Kynkäänniemi et al. 2019, Eqs. 1–2).

    Each set's manifold is the union of balls around its points, of radius the distance to
    the point's k-th nearest neighbour in the same set. Precision is the share of fake
    features inside the real manifold; recall the share of real features inside the fake
    manifold.

    Args:
        real_features: (N, d) features of real images (e.g. :func:`classify`'s features).
        fake_features: (M, d) features of generated images.
        k: neighbourhood size (the paper uses 3).

    References: Kynkäänniemi, Karras, Laine, Lehtinen, Aila 2019, "Improved Precision and
    Recall Metric for Assessing Generative Models", NeurIPS, §2.
    """
    if real_features.ndim != 2 or fake_features.ndim != 2:
        raise ValueError("features must be (N, d) matrices")
    if min(len(real_features), len(fake_features)) <= k:
        raise ValueError(f"each set needs more than k={k} points")
    r_real = _kth_neighbour_radius(real_features, k)
    r_fake = _kth_neighbour_radius(fake_features, k)
    precision = _inside_any_ball(fake_features, real_features, r_real).double().mean()
    recall = _inside_any_ball(real_features, fake_features, r_fake).double().mean()
    return PrecisionRecall(float(precision), float(recall), k)


def nearest_neighbours(
    queries: torch.Tensor, references: torch.Tensor, batch_size: int = 512
) -> tuple[torch.Tensor, torch.Tensor]:
    """Closest reference of each query in pixel (Euclidean) space: the memorisation check.

    Args:
        queries: (Q, ...) images, e.g. generated samples in [0, 1].
        references: (R, ...) images of the same shape, e.g. the training digits.

    Returns:
        (distances (Q,), indices (Q,) into ``references``), on CPU.
    """
    q = queries.detach().flatten(1).double().cpu()
    r = references.detach().flatten(1).double().cpu()
    dists, idx = [], []
    for i in range(0, len(q), batch_size):
        d, j = torch.cdist(q[i : i + batch_size], r).min(dim=1)
        dists.append(d)
        idx.append(j)
    return torch.cat(dists), torch.cat(idx)


# ----------------------------------------------------------------------------- protocol

EVAL_N = 1000  # samples scored per generator
EVAL_SEED = 0  # their noise seed: same seed, same images, comparable numbers
EVAL_CLASSIFIER = "mnist_classifier"  # the committed instrument the numbers are measured with


def eval_labels(n: int = EVAL_N, n_classes: int = 10) -> torch.Tensor:
    """Balanced requested labels for conditional evaluation: 0, 1, …, 9, 0, 1, …"""
    return torch.arange(n) % n_classes


def evaluate_generator(
    G: nn.Module, classifier: nn.Module, x_test: torch.Tensor, *, n: int = EVAL_N
) -> dict:
    """The course's protocol for a DCGAN generator: ``n`` samples with noise seed
    :data:`EVAL_SEED` (balanced labels for a conditional one), scored with ``classifier``
    against the real ``x_test`` images (in [0, 1]).

    Each model computes on its own device. Returns the classifier FID, the confident
    share, the class entropy, ``n`` and, for a conditional generator, the conditional
    accuracy.
    """
    from ..models.gan import sample_images

    labels = eval_labels(n) if G.config.n_classes else None
    images = sample_images(G, n, labels=labels, seed=EVAL_SEED)
    out: dict[str, float] = score_images(
        classifier, images, reference_stats(classifier, x_test)
    ).as_dict()
    if labels is not None:
        out["conditional_accuracy"] = conditional_accuracy(classifier, images, labels)
    return out


# ----------------------------------------------------------------------------- 2-D ring


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """(n_modes, 2) centres evenly spaced on a circle."""
    angle = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    return (radius * torch.stack([angle.cos(), angle.sin()], dim=1)).float()


def sample_ring(
    n: int, n_modes: int = 8, radius: float = 2.0, sigma: float = 0.05, seed: int = 0
) -> torch.Tensor:
    """(n, 2) samples of the ring mixture (equal weights, isotropic σ)."""
    g = torch.Generator().manual_seed(seed)
    k = torch.randint(0, n_modes, (n,), generator=g)
    return ring_centers(n_modes, radius)[k] + sigma * torch.randn(n, 2, generator=g)


@dataclass(frozen=True)
class RingScores:
    """Mode coverage of 2-D samples against the ring's centres."""

    modes_covered: int  # modes holding at least ``min_share`` of the samples (within 3σ)
    high_quality: float  # share of samples within 3σ of some mode
    counts: tuple[int, ...]  # high-quality samples per mode
    mode_jsd: float = 0.0  # JSD (nats) of the mode histogram (+ an off-mode bin) to uniform


def ring_scores(
    samples: torch.Tensor,
    centers: torch.Tensor,
    sigma: float,
    *,
    min_share: float = 0.01,
) -> RingScores:
    """Mode coverage: a sample is high quality if it lies within 3σ of a centre; a mode is
    covered if at least ``min_share`` of all samples are high-quality samples of it.

    ``mode_jsd`` (:func:`mode_histogram_jsd`) also sees an uneven share between the
    modes, which the count of covered modes does not.

    References: the protocol of Srivastava et al. 2017 (VEEGAN) and Metz et al. 2017
    (unrolled GANs), with a share threshold stated explicitly.
    """
    d = torch.cdist(samples.double(), centers.double())  # (N, K)
    dmin, k = d.min(dim=1)
    good = dmin <= 3 * sigma
    counts = torch.bincount(k[good], minlength=len(centers))
    covered = int((counts >= max(1, math.ceil(min_share * len(samples)))).sum())
    return RingScores(
        covered,
        float(good.double().mean()),
        tuple(int(c) for c in counts),
        mode_histogram_jsd(counts.tolist(), len(samples)),
    )


def mode_histogram_jsd(counts: list[int], n: int) -> float:
    """JSD (nats, in [0, log 2]) between the histogram of samples over the modes, with one
    extra bin for samples near no mode (``n − sum(counts)``), and the data's histogram
    (uniform over the modes, nothing off-mode). 0 for a perfect sampler; a generator that
    keeps one of 8 modes scores 0.50, one with no sample on any mode log 2 = 0.69."""
    k = len(counts)
    p = torch.tensor([*counts, n - sum(counts)], dtype=torch.float64) / n
    q = torch.tensor([1.0 / k] * k + [0.0], dtype=torch.float64)
    m = (p + q) / 2

    def kl(a: torch.Tensor) -> float:
        nz = a > 0
        return float((a[nz] * (a[nz] / m[nz]).log()).sum())

    return 0.5 * kl(p) + 0.5 * kl(q)


def as_numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()


def chance_purity(
    labels: torch.Tensor, weights: torch.Tensor, draws: int = 200, seed: int = 0
) -> float:
    """Purity of a clustering that ignores the data: the chance level of cluster purity.

    Each item is put in one of ``len(weights)`` clusters at random with probabilities
    ``weights``; purity is the share of items whose label is the majority label of their
    cluster. It is not 1 / n_classes: every cluster has a majority, and small clusters
    have lucky ones (30 clusters of 1,000 balanced digits give about 0.19).

    Args:
        labels: (N,) int64 class labels (any device; counted on the CPU).
        weights: (K,) non-negative cluster probabilities (normalised here).
        draws: random assignments averaged.
        seed: seeds the assignments.

    Returns:
        The mean purity over ``draws`` assignments, in (0, 1].
    """
    y = labels.detach().cpu().long()
    w = weights.detach().cpu().double()
    if y.ndim != 1 or y.numel() == 0 or w.ndim != 1 or (w < 0).any() or w.sum() <= 0:
        raise ValueError("need (N,) labels and (K,) non-negative weights with a positive sum")
    g = torch.Generator().manual_seed(seed)
    n_classes = int(y.max()) + 1
    total = 0.0
    for _ in range(draws):
        assign = torch.multinomial(w, y.numel(), replacement=True, generator=g)
        counts = torch.zeros(w.numel(), n_classes, dtype=torch.long)
        counts.index_put_((assign, y), torch.ones_like(y), accumulate=True)  # (K, classes)
        total += counts.max(1).values.sum().item() / y.numel()
    return total / draws
