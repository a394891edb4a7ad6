import math

import numpy as np
import pytest
import torch

from aigc_course.business.labelling import (
    Run,
    balanced_labels,
    equivalent_labels,
    few_labels,
    labels_saved,
    learning_curve,
)


def test_few_labels_is_stratified_and_seeded():
    y = torch.arange(10).repeat(20)
    x = torch.arange(200.0).view(200, 1, 1, 1)
    xa, ya = few_labels(x, y, 3, seed=1)
    xb, _ = few_labels(x, y, 3, seed=1)
    assert torch.bincount(ya).tolist() == [3] * 10 and torch.equal(xa, xb)
    assert not torch.equal(xa, few_labels(x, y, 3, seed=2)[0])
    assert all(y[int(v)] == lab for v, lab in zip(xa.flatten(), ya, strict=True))
    with pytest.raises(ValueError, match="fewer than 21"):
        few_labels(x, y, 21, seed=0)
    assert balanced_labels(2, 3).tolist() == [0, 0, 1, 1, 2, 2]


def test_equivalent_labels_interpolates_in_log_space():
    per = np.array([5, 20, 80])
    acc = np.array([0.5, 0.7, 0.9])
    assert equivalent_labels(per, acc, 0.7) == pytest.approx(20)
    assert equivalent_labels(per, acc, 0.6) == pytest.approx(10)  # geometric midpoint
    assert math.isinf(equivalent_labels(per, acc, 0.95))
    assert math.isnan(equivalent_labels(per, acc, 0.4))


def test_labels_saved_from_runs():
    runs = [Run("real only", p, s, a) for p, a in ((5, 0.5), (20, 0.7), (80, 0.9)) for s in (0, 1)]
    runs += [Run("synthetic", 5, s, 0.7) for s in (0, 1)]
    runs += [Run("synthetic", 20, s, 0.6) for s in (0, 1)]
    per, mean, std = learning_curve(runs, "real only")
    assert per.tolist() == [5, 20, 80] and mean.tolist() == [0.5, 0.7, 0.9] and std.max() == 0
    saved = dict(labels_saved(runs, "synthetic"))
    assert saved[5] == pytest.approx(10 * (20 - 5))  # synthetic at 5 matches real at 20
    assert saved[20] == pytest.approx(10 * (10 - 20))  # it hurt at 20: negative
    with pytest.raises(ValueError):
        learning_curve(runs, "nothing")


def test_fit_classifier_learns_a_separable_problem():
    from aigc_course.business.labelling import fit_classifier, test_accuracy

    g = torch.Generator().manual_seed(0)
    y = torch.arange(10).repeat(8)
    protos = torch.rand(10, 1, 28, 28, generator=g)
    x = (protos[y] + 0.3 * torch.randn(80, 1, 28, 28, generator=g)).clamp(0, 1)
    untrained = fit_classifier(x, y, steps=0, seed=0)
    model = fit_classifier(x, y, steps=60, seed=0)
    assert test_accuracy(untrained, x, y) < 0.4 and test_accuracy(model, x, y) == 1.0
    again = fit_classifier(x, y, steps=60, seed=0)
    torch.testing.assert_close(model[1].weight, again[1].weight)


def test_fit_classifier_is_full_batch_adamw():
    """The training-contract loop gives what a hand-written full-batch AdamW loop gives."""
    import torch.nn.functional as F
    from torch import nn

    from aigc_course.business.labelling import fit_classifier

    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(40, 1, 28, 28, generator=g), torch.arange(10).repeat(4)
    model = fit_classifier(x, y, steps=15, seed=3, hidden=16)
    torch.manual_seed(3)
    ref = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))
    opt = torch.optim.AdamW(ref.parameters(), lr=3e-3, weight_decay=1e-2)
    for _ in range(15):
        loss = F.cross_entropy(ref(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.testing.assert_close(model(x), ref(x), rtol=1e-6, atol=1e-6)
    assert not model.training


def test_paired_labels_saved_prices_each_seed_on_its_own_curve():
    from aigc_course.business.labelling import paired_labels_saved

    runs = []
    for seed, shift in ((0, 0.0), (1, 0.1)):  # seed 1's curve is 0.1 higher everywhere
        runs += [Run("real only", 1, seed, 0.5 + shift), Run("real only", 4, seed, 0.7 + shift)]
        runs += [Run("gen", 1, seed, 0.6 + shift)]  # halfway up each seed's own curve (log)
    saved = paired_labels_saved(runs, "gen")
    assert list(saved) == [1]
    # halfway between log 1 and log 4 is 2 labels per class: 1 saved, times 10 classes
    np.testing.assert_allclose(saved[1], [10.0, 10.0])
    # pooled over seeds, the means would mix the two curves; pairing keeps the spread 0
    assert np.ptp(saved[1]) == 0
    runs.append(Run("gen", 4, 0, 0.95))  # above seed 0's curve: not priceable
    runs.append(Run("gen", 4, 1, 0.75))  # below seed 1's 4-label point
    saved = paired_labels_saved(runs, "gen")
    assert math.isinf(saved[4][0]) and saved[4][1] < 0


def test_augment_shifts_and_rotates_but_keeps_the_digit():
    from aigc_course.business.labelling import augment

    x = torch.zeros(2, 1, 28, 28)
    x[:, :, 10:18, 12:16] = 1.0  # a bar
    out = augment(x, copies=3, seed=0)
    assert out.shape == (6, 1, 28, 28) and 0 <= out.min() and out.max() <= 1
    assert torch.equal(out, augment(x, copies=3, seed=0))  # seeded
    assert not torch.allclose(out[0], x[0], atol=1e-3)  # moved
    # small moves keep most of the ink
    assert (out.sum((1, 2, 3)) / x[0].sum()).min() > 0.7
    ident = augment(x, copies=1, seed=0, max_shift=0.0, max_degrees=0.0)
    torch.testing.assert_close(ident, x, atol=1e-5, rtol=0)
    with pytest.raises(ValueError):
        augment(x, copies=0, seed=0)
