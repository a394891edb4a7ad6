import math

import numpy as np
import pytest
import torch
from scipy import linalg

from aigc_course.metrics import image as mi
from aigc_course.models.classifier import ClassifierConfig, MNISTClassifier


def _fid_scipy(mu1, s1, mu2, s2):
    """The usual reference implementation (pytorch-fid style) with scipy.linalg.sqrtm."""
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.parametrize("d", [2, 16])
def test_frechet_distance_against_scipy_sqrtm(d):
    rng = np.random.default_rng(d)
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    s1, s2 = a @ a.T + 0.1 * np.eye(d), b @ b.T + 0.1 * np.eye(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    ours = mi.frechet_distance(*(torch.from_numpy(v) for v in (mu1, s1, mu2, s2)))
    assert ours == pytest.approx(_fid_scipy(mu1, s1, mu2, s2), rel=1e-7)


def test_frechet_distance_special_cases():
    mu, s = torch.zeros(3), torch.eye(3)
    assert mi.frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-10)
    # equal covariances: only the mean term remains
    assert mi.frechet_distance(mu, s, mu + 2, s) == pytest.approx(12.0)
    # 1-D: (σ1 − σ2)²
    assert mi.frechet_distance(
        torch.zeros(1), torch.tensor([[4.0]]), torch.zeros(1), torch.tensor([[1.0]])
    ) == pytest.approx(1.0)


def test_gaussian_stats_match_numpy():
    f = torch.randn(50, 4, dtype=torch.float64)
    mu, cov = mi.gaussian_stats(f)
    np.testing.assert_allclose(cov.numpy(), np.cov(f.numpy(), rowvar=False), rtol=1e-12)
    np.testing.assert_allclose(mu.numpy(), f.mean(0).numpy())


def test_class_entropy():
    uniform = torch.eye(10).repeat(5, 1)
    assert mi.class_entropy(uniform) == pytest.approx(math.log2(10))
    assert mi.class_entropy(torch.eye(10)[[3] * 20]) == pytest.approx(0.0)


def test_score_images_and_range_check():
    torch.manual_seed(0)
    clf = MNISTClassifier(ClassifierConfig.tiny())
    real = torch.rand(40, 1, 28, 28)
    ref = mi.reference_stats(clf, real)
    same = mi.score_images(clf, real, ref)
    other = mi.score_images(clf, torch.rand(40, 1, 28, 28) * 0.2, ref)
    assert same.fid == pytest.approx(0.0, abs=1e-8) and other.fid > 0.0
    assert 0 <= same.confident <= 1 and 0 <= same.entropy <= math.log2(10) + 1e-9
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mi.score_images(clf, real * 2 - 1, ref)


def test_blur_keeps_mass_and_smooths():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 14, 14] = 1.0
    y = mi.blur(x, sigma=1.5)
    assert y.shape == x.shape and y.sum().item() == pytest.approx(1.0, abs=1e-5)
    assert y.max() < 0.1


def test_ring_scores():
    centers = mi.ring_centers(8, 2.0)
    assert torch.linalg.norm(centers, dim=1).allclose(torch.full((8,), 2.0))
    s = mi.ring_scores(mi.sample_ring(4000, sigma=0.05, seed=1), centers, 0.05)
    assert s.modes_covered == 8 and s.high_quality > 0.98
    collapsed = centers[2] + 0.01 * torch.randn(500, 2)
    s = mi.ring_scores(collapsed, centers, 0.05)
    assert s.modes_covered == 1 and s.counts[2] == 500
    s = mi.ring_scores(torch.zeros(100, 2), centers, 0.05)  # the centre: no mode at all
    assert s.modes_covered == 0 and s.high_quality == 0.0


def test_evaluate_generator_protocol_is_reproducible():
    from aigc_course.models.gan import DCGANConfig, build_dcgan, sample_images

    torch.manual_seed(0)
    clf = MNISTClassifier(ClassifierConfig.tiny()).eval()
    G, _ = build_dcgan(DCGANConfig.tiny(n_classes=10), seed=0)
    x_test = torch.rand(50, 1, 28, 28)
    out = mi.evaluate_generator(G, clf, x_test, n=40)
    assert set(out) == {"fid", "confident", "entropy", "n", "conditional_accuracy"}
    assert out == mi.evaluate_generator(G, clf, x_test, n=40)
    labels = mi.eval_labels(40)
    assert labels.tolist() == [i % 10 for i in range(40)]
    images = sample_images(G, 40, labels=labels, seed=mi.EVAL_SEED)
    assert out["conditional_accuracy"] == mi.conditional_accuracy(clf, images, labels)
    G0, _ = build_dcgan(DCGANConfig.tiny(), seed=0)
    assert "conditional_accuracy" not in mi.evaluate_generator(G0, clf, x_test, n=40)


def _precision_recall_brute_force(real, fake, k):
    """Kynkäänniemi et al. 2019, Eqs. 1–2, with explicit Python loops."""
    real, fake = real.double().tolist(), fake.double().tolist()

    def dist(a, b):
        return math.sqrt(sum((u - v) ** 2 for u, v in zip(a, b, strict=True)))

    def radii(points):
        return [sorted(dist(p, q) for q in points)[k] for p in points]  # [0] is p itself

    def inside(point, centres, rad):
        return any(dist(point, c) <= r for c, r in zip(centres, rad, strict=True))

    r_real, r_fake = radii(real), radii(fake)
    precision = sum(inside(f, real, r_real) for f in fake) / len(fake)
    recall = sum(inside(r, fake, r_fake) for r in real) / len(real)
    return precision, recall


@pytest.mark.parametrize("k", [1, 3])
def test_precision_recall_against_a_brute_force_reference(k):
    g = torch.Generator().manual_seed(k)
    real = torch.randn(60, 4, generator=g)
    fake = 0.6 * torch.randn(50, 4, generator=g) + 0.8  # narrower and shifted
    ours = mi.precision_recall(real, fake, k=k)
    p, r = _precision_recall_brute_force(real, fake, k)
    assert ours.precision == pytest.approx(p) and ours.recall == pytest.approx(r)
    assert 0 < ours.precision < 1 and 0 < ours.recall < 1  # neither side trivial here


def test_precision_recall_separate_quality_from_coverage():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(400, 2, generator=g)
    collapsed = 0.1 * torch.randn(400, 2, generator=g)  # inside the data, one small region
    spread = 4.0 * torch.randn(400, 2, generator=g)  # covers the data, mostly off it
    pr_c, pr_s = mi.precision_recall(real, collapsed), mi.precision_recall(real, spread)
    assert pr_c.precision > 0.95 and pr_c.recall < 0.2
    assert pr_s.recall > 0.9 and pr_s.precision < 0.6
    same = mi.precision_recall(real, real)
    assert same.precision == 1.0 and same.recall == 1.0


def test_nearest_neighbours_finds_the_copied_image():
    g = torch.Generator().manual_seed(0)
    refs = torch.rand(300, 1, 28, 28, generator=g)
    queries = refs[[5, 17, 250]] + 0.01 * torch.randn(3, 1, 28, 28, generator=g)
    d, idx = mi.nearest_neighbours(queries, refs, batch_size=2)
    assert idx.tolist() == [5, 17, 250]
    brute = torch.stack([(refs - q).flatten(1).norm(dim=1).min() for q in queries])
    torch.testing.assert_close(d, brute.double())


def test_chance_purity_is_not_one_over_the_classes():
    from aigc_course.metrics.image import chance_purity

    labels = torch.arange(1000) % 10  # balanced, 10 classes
    # one cluster: purity is the largest class share, exactly
    assert chance_purity(labels, torch.ones(1), draws=3) == pytest.approx(0.1)
    # 30 equal clusters of ~33 digits: lucky majorities lift chance to about 0.19
    c30 = chance_purity(labels, torch.ones(30), draws=50)
    assert 0.17 < c30 < 0.22, c30
    assert c30 == chance_purity(labels, torch.ones(30), draws=50)  # seeded
    # as many clusters as items: nearly every item is alone, so purity tends to 1
    assert chance_purity(labels, torch.ones(100_000), draws=2) > 0.95
    with pytest.raises(ValueError):
        chance_purity(labels, -torch.ones(3))
