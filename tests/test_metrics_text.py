"""Text metrics: the paired block bootstrap that says whether one model's bits/char is
clearly below another's on the same text; sliding-window scoring against brute force."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from aigc_course.metrics.text import paired_block_bootstrap, score_positions, sequence_nll
from aigc_course.models.rnn_lm import CharLSTM, LSTMConfig
from aigc_course.models.transformer_lm import GPT, GPTConfig


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


# -- sequence_nll / score_positions over several windows, against brute force ----------


def _history_start(t: int, context: int) -> int:
    """Where the history of prediction t (of ids[t + 1]) starts: windows of ``context``
    tokens start every ``context - context // 2`` tokens, and a position is scored in the
    first window that holds it (written out here, not taken from sliding_windows)."""
    stride = context - context // 2
    return max(0, math.ceil((t - context + 1) / stride)) * stride


def _brute_force(model, ids, context, fn):
    """One forward per position, on exactly that position's window of history."""
    out = []
    for t in range(len(ids) - 1):
        s = _history_start(t, context)
        assert t - s + 1 <= context and (t < context or t - s + 1 >= context // 2)
        logits, _ = model(ids[None, s : t + 1])
        out.append(fn(logits[:, -1:].float(), ids[None, t + 1 : t + 2])[0, 0])
    return torch.stack(out)


def _models():
    torch.manual_seed(0)
    return [GPT(GPTConfig.tiny(11)).eval(), CharLSTM(LSTMConfig.tiny(11)).eval()]


@pytest.mark.parametrize("context", [6, 7, 16])
@pytest.mark.parametrize("which", [0, 1])
def test_sequence_nll_over_several_windows_matches_brute_force(context, which):
    model = _models()[which]
    ids = torch.randint(11, (61,), generator=torch.Generator().manual_seed(context))
    nll = sequence_nll(model, ids, context=context, batch_size=2)  # several batches too
    ref = _brute_force(
        model, ids, context, lambda lg, y: F.cross_entropy(lg.transpose(1, 2), y, reduction="none")
    )
    assert nll.shape == (60,)
    torch.testing.assert_close(nll, ref, atol=1e-5, rtol=1e-5)
    if which == 1:  # the LSTM could read it all: the windows really cut its history
        full, _ = model(ids[None, :-1])
        full_nll = F.cross_entropy(full[0], ids[1:], reduction="none")
        assert not torch.allclose(nll, full_nll, atol=1e-4)


def test_score_positions_applies_any_function():
    model = _models()[0]
    ids = torch.randint(11, (40,), generator=torch.Generator().manual_seed(1))

    def entropy(logits, _targets):
        logp = logits.log_softmax(-1)
        return -(logp.exp() * logp).sum(-1)

    def hit(logits, targets):
        return (logits.argmax(-1) == targets).float()

    for fn in (entropy, hit):
        got = score_positions(model, ids, fn, context=8, batch_size=3)
        torch.testing.assert_close(got, _brute_force(model, ids, 8, fn), atol=1e-5, rtol=1e-5)


def test_verbatim_overlap_marks_exactly_the_copied_characters():
    from aigc_course.metrics.text import verbatim_overlap

    reference = "the quick brown fox jumps over the lazy dog"
    text = "XXthe quick brownYYYYlazy dogZ"
    mask = verbatim_overlap(text, reference, min_len=8)
    # "the quick brown" (15 chars) and "lazy dog" (8 chars) occur in the reference
    expected = [False] * 2 + [True] * 15 + [False] * 4 + [True] * 8 + [False]
    assert mask.tolist() == expected
    assert not verbatim_overlap(text, reference, min_len=16).any()  # no 16-char match
    assert verbatim_overlap(reference, reference, min_len=32).all()
    brute = [  # the definition, by brute force
        any(text[i : i + 8] in reference for i in range(max(0, c - 7), min(c, len(text) - 8) + 1))
        for c in range(len(text))
    ]
    assert mask.tolist() == brute
