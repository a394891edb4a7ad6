"""Text metrics: the paired block bootstrap that says whether one model's bits/char is
clearly below another's on the same text."""

from __future__ import annotations

import pytest
import torch

from aigc_course.metrics.text import paired_block_bootstrap


def test_block_bootstrap_matches_the_normal_interval_on_independent_data():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(20_000, generator=g) + 0.05, torch.randn(20_000, generator=g)
    mean, lo, hi = paired_block_bootstrap(a, b, block=1, n_boot=4000)
    half = 1.96 * (a - b).std().item() / (20_000**0.5)  # closed form for i.i.d. data
    assert mean == pytest.approx((a - b).mean().item())
    assert hi - lo == pytest.approx(2 * half, rel=0.1)
    assert lo < mean < hi


def test_block_bootstrap_widens_for_correlated_data_and_covers():
    # losses that move together within passages of 200 characters: resampling single
    # characters would claim a precision the data does not have
    covered, ratio = 0, []
    for seed in range(100):
        g = torch.Generator().manual_seed(seed)
        passage = torch.randn(50, generator=g).repeat_interleave(200)
        diff = passage + 0.3 * torch.randn(10_000, generator=g)
        _, lo, hi = paired_block_bootstrap(diff, torch.zeros(10_000), block=1000, n_boot=500)
        _, lo1, hi1 = paired_block_bootstrap(diff, torch.zeros(10_000), block=1, n_boot=500)
        covered += lo < 0 < hi  # the true mean difference is 0
        ratio.append((hi - lo) / (hi1 - lo1))
    assert covered >= 85  # about 95 of 100 intervals cover the truth
    assert min(ratio) > 3  # the character-level interval is far too narrow


def test_block_bootstrap_rejects_bad_input():
    with pytest.raises(ValueError, match="smaller block"):
        paired_block_bootstrap(torch.zeros(100), torch.zeros(100), block=80)
    with pytest.raises(ValueError, match="equal length"):
        paired_block_bootstrap(torch.zeros(3000), torch.zeros(2000), block=100)
