"""Copy and regurgitation checks: a copied sample is found, an unrelated one is not."""

import numpy as np
import pytest
import torch

from aigc_course.business import memorisation as mem


def _images(n, seed):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


def test_copy_check_finds_copies_and_not_new_images():
    train, test = _images(200, 0), _images(100, 1)
    copies = train[:10] + 0.001  # near-copies of the first ten training images
    new = (_images(30, 2) > 0.5).float()  # binary images: far from every uniform one
    check = mem.copy_check(torch.cat([copies, new]), train, test)
    assert check.nearest[:10].tolist() == list(range(10))
    assert check.n_close == 10  # the copies, and none of the new images
    share, lo, hi = check.share_close()
    assert share == pytest.approx(10 / 40) and lo < share < hi
    dists = [c[2] for c in check.closest(4)]
    assert dists == sorted(dists)
    assert all(c[0] < 10 for c in check.closest(4))
    only_copies = mem.copy_check(copies, train, test).medians()
    assert only_copies["generated"][0] < 0.01 < only_copies["test"][1]


def test_copy_check_on_new_images_is_near_the_quantile():
    train = _images(300, 0)
    check = mem.copy_check(_images(1000, 3), train, _images(1000, 4), quantile=0.1)
    share, lo, hi = check.share_close()
    assert abs(share - 0.1) < 0.05, (share, lo, hi)  # same distribution as the test images


def test_copy_check_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        mem.copy_check(_images(3, 0), _images(5, 1), torch.rand(4, 1, 9, 9))
    with pytest.raises(ValueError, match="quantile"):
        mem.copy_check(_images(3, 0), _images(5, 1), _images(4, 2), quantile=1.5)


def test_median_interval_covers_the_median():
    x = np.arange(101.0)
    med, lo, hi = mem.median_interval(x)
    assert med == 50 and lo < 50 < hi and hi - lo < 30


TRAIN = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat"


def test_longest_verbatim():
    sample = "xx" + TRAIN[10:40] + "yy"
    assert mem.longest_verbatim(sample, TRAIN) == (30, 2)
    assert mem.longest_verbatim("", TRAIN) == (0, 0)
    assert mem.longest_verbatim("QZ", TRAIN) == (0, 0)
    assert mem.longest_verbatim("a dog", "god") == (1, 2)  # single characters only


def test_regurgitation_finds_a_copied_passage_only():
    index = mem.NgramIndex(TRAIN, n=20)
    copied = "Once, " + TRAIN[5:30] + " and more."  # a 25-character training passage
    unrelated = "an entirely different sentence about tea, with no overlap at all"
    short = "zz" + TRAIN[0:19] + "zz"  # 19 characters: below n
    r = mem.regurgitation([copied, unrelated, short], index)
    assert r.has_passage.tolist() == [True, False, False]
    assert r.longest[0] >= 25 and r.longest[1] < 20 and r.longest[2] == 19
    assert r.share()[0] == pytest.approx(1 / 3)
    assert ((r.longest >= index.n) == r.has_passage).all()


def test_regurgitation_rejects_bad_input():
    with pytest.raises(ValueError):
        mem.NgramIndex(TRAIN, n=0)
    with pytest.raises(ValueError, match="no texts"):
        mem.regurgitation([], mem.NgramIndex(TRAIN))


def test_longest_verbatim_agrees_with_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(30):
        text = "".join(rng.choice(list("abc"), 40))
        sample = "".join(rng.choice(list("abcd"), 15))
        brute = max(
            (
                j - i
                for i in range(len(sample))
                for j in range(i + 1, len(sample) + 1)
                if sample[i:j] in text
            ),
            default=0,
        )
        length, start = mem.longest_verbatim(sample, text)
        assert length == brute and sample[start : start + length] in text
