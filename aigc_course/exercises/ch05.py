"""Exercises of notebook 05 (text generation): solutions and judges."""

from __future__ import annotations

import math

import torch

from ..sampling import top_k_filter
from . import Exercise


def _units_solution(**_: object):
    def bpc_to_perplexity(bpc):
        return 2.0**bpc  # per-character perplexity: 2 to the bits per character

    def nats_to_bpc(nats):
        return nats / math.log(2)  # 1 bit = log 2 nats

    return bpc_to_perplexity, nats_to_bpc


def _units_judge(attempt, vocab_size: int = 65, **_: object) -> None:
    bpc_to_perplexity, nats_to_bpc = attempt
    for nats, bpc in (
        (math.log(2), 1.0),
        (1.0, 1 / math.log(2)),
        (0.0, 0.0),
        (2.5, 2.5 / math.log(2)),
    ):
        got = float(nats_to_bpc(nats))
        assert abs(got - bpc) < 1e-9, (
            f"nats_to_bpc({nats:.4f}) = {got:.4f}, expected {bpc:.4f}: a bit is log 2 ≈ 0.693 "
            "nats, so divide by log(2) (natural log)"
        )
    for bpc, ppl in ((0.0, 1.0), (1.0, 2.0), (1.5, 2**1.5), (math.log2(vocab_size), vocab_size)):
        got = float(bpc_to_perplexity(bpc))
        assert abs(got - ppl) < 1e-9 * max(1.0, ppl), (
            f"bpc_to_perplexity({bpc:.4f}) = {got:.4f}, expected {ppl:.4f}: perplexity is 2 to "
            "the bits (a uniform model over V characters has log2 V bits and perplexity V)"
        )


def _top_k_solution(**_: object):
    def my_top_k(logits, k):
        kth = logits.topk(k, dim=-1).values[:, -1:]  # (B, 1) the k-th largest of each row
        return logits.masked_fill(logits < kth, float("-inf"))  # ties at the k-th all kept

    return my_top_k


def _top_k_cases():
    gen = torch.Generator().manual_seed(0)
    rows = torch.randn(4, 30, generator=gen)
    ties = torch.tensor([[3.0, 1.0, 3.0, 2.0, 2.0, 0.0], [0.0, 0.0, 0.0, 5.0, 5.0, -1.0]])
    yield rows, (1, 5, 29, 30)
    yield ties, (1, 2, 3, 4)
    yield torch.randn(1, 7, generator=gen), (1, 6)


def _top_k_judge(attempt, **_: object) -> None:
    for logits, ks in _top_k_cases():
        for k in ks:
            got = attempt(logits.clone(), k)
            want = top_k_filter(logits, k)
            assert isinstance(got, torch.Tensor) and got.shape == want.shape, (
                f"my_top_k(logits of shape {tuple(logits.shape)}, k={k}) should return a tensor "
                f"of the same shape, got {getattr(got, 'shape', type(got).__name__)}"
            )
            kept, want_kept = torch.isfinite(got), torch.isfinite(want)
            if not torch.equal(kept, want_kept):
                row = int((kept != want_kept).any(1).nonzero()[0])
                raise AssertionError(
                    f"k={k}, row {logits[row].tolist()}: you keep {int(kept[row].sum())} logits, "
                    f"the package keeps {int(want_kept[row].sum())}. Take the k-th largest value "
                    "of each row (topk along dim=-1) and drop only what is strictly below it: "
                    "ties at the k-th value all survive"
                )
            assert torch.equal(got[kept], logits[kept]), (
                f"k={k}: the logits you keep must be unchanged (set the others to -inf, "
                "do not rescale or renormalise)"
            )


def _leaky_solution(**_: object):
    def leaky_attention(q, k, v):
        att = q @ k.transpose(-2, -1) / q.size(-1) ** 0.5  # no mask: every query sees every key
        return att.softmax(-1) @ v

    # Changing keys and values of positions 7..9 moves every output: without the mask the
    # past attends to the future, so positions 0..6 change as well as 7..9.
    return leaky_attention, list(range(10))


def _leaky_judge(attempt, causal_attention=None, **_: object) -> None:
    leaky_attention, moved_positions = attempt
    gen = torch.Generator().manual_seed(1)
    q, k, v = torch.randn(3, 2, 2, 10, 8, generator=gen).unbind(0)
    ref = (q @ k.transpose(-2, -1) / 8**0.5).softmax(-1) @ v
    got = leaky_attention(q, k, v)
    torch.testing.assert_close(
        got, ref, msg="leaky_attention should be causal_attention without the masked_fill line"
    )
    assert moved_positions is not None, "now fill in moved_positions: run the leakage test"
    moved = sorted(int(p) for p in moved_positions)
    kb, vb = k.clone(), v.clone()
    kb[..., 7:, :] += 1.0  # change keys and values of positions 7..9
    vb[..., 7:, :] += 1.0
    shift = ((q @ kb.transpose(-2, -1) / 8**0.5).softmax(-1) @ vb - ref).abs().amax((0, 1, 3))
    truth = (shift > 1e-6).nonzero().flatten().tolist()
    assert moved == truth, (
        f"moved_positions = {moved}: change keys and values of positions 7..9 and compare "
        "the outputs of every position; without the mask, which queries can see keys 7..9?"
    )
    if causal_attention is not None:
        still = (causal_attention(q, kb, vb) - causal_attention(q, k, v)).abs().amax((0, 1, 3))
        assert (still[:7] < 1e-6).all(), "causal_attention (with the mask) should leave 0..6 alone"


def _kv_step_solution(**_: object):
    def kv_step(q, k, v, cache):
        if cache is not None:  # append the new position's key and value to the cache
            k = torch.cat([cache[0], k], dim=2)  # (B, nh, T_past + 1, hd)
            v = torch.cat([cache[1], v], dim=2)
        att = q @ k.transpose(-2, -1) / q.size(-1) ** 0.5  # (B, nh, 1, T): no mask needed,
        y = att.softmax(-1) @ v  # the one new query may see every key so far
        return y, (k, v)

    return kv_step


def _kv_step_judge(attempt, **_: object) -> None:
    gen = torch.Generator().manual_seed(3)
    B, nh, T, hd = 2, 3, 6, 4
    q, k, v = torch.randn(3, B, nh, T, hd, generator=gen).unbind(0)
    full = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    cache = None
    for t in range(T):
        out = attempt(q[:, :, t : t + 1], k[:, :, t : t + 1], v[:, :, t : t + 1], cache)
        assert isinstance(out, tuple) and len(out) == 2, (
            "kv_step should return (y, cache): the output of the new position and the "
            "cache (k, v) to pass to the next step"
        )
        y, cache = out
        assert tuple(y.shape) == (B, nh, 1, hd), (
            f"step {t}: y has shape {tuple(y.shape)}, expected (B, nh, 1, hd) = "
            f"{(B, nh, 1, hd)}: one new query gives one output row"
        )
        ck = cache[0]
        assert tuple(ck.shape) == (B, nh, t + 1, hd), (
            f"step {t}: the cached keys have shape {tuple(ck.shape)}, expected "
            f"{(B, nh, t + 1, hd)}: concatenate along the time dimension (dim=2) and keep "
            "every position so far"
        )
        want = full[:, :, t : t + 1]
        if not torch.allclose(y, want, atol=1e-5):
            alone = v[:, :, t : t + 1]  # attending to the new key only gives its value
            first = v[:, :, :1]
            if t > 0 and torch.allclose(y, alone, atol=1e-5):
                raise AssertionError(
                    f"step {t}: y equals the new value alone: append the new key and value "
                    "to the cache *before* attending, so the query sees every position"
                )
            if t > 0 and torch.allclose(y, first, atol=1e-5):
                raise AssertionError(
                    f"step {t}: y equals the value of position 0: a lower-triangular mask "
                    "of shape (1, T) hides every key but the first. The one new query is the "
                    "last position and may see every cached key: no mask is needed"
                )
            unscaled = (q[:, :, t : t + 1] @ k[:, :, : t + 1].transpose(-2, -1)).softmax(-1)
            if torch.allclose(y, unscaled @ v[:, :, : t + 1], atol=1e-5):
                raise AssertionError(
                    f"step {t}: the scores are not scaled: divide q kᵀ by √head_dim"
                )
            raise AssertionError(
                f"step {t}: y differs from full causal attention by "
                f"{(y - want).abs().max():.2e}: softmax(q kᵀ / √d) over all cached keys, "
                "times the cached values"
            )


EXERCISES = [
    Exercise("05.units", "implement", judge=_units_judge, solution=_units_solution),
    Exercise("05.top_k", "implement", judge=_top_k_judge, solution=_top_k_solution),
    Exercise("05.causal_leak", "predict", judge=_leaky_judge, solution=_leaky_solution),
    Exercise("05.kv_step", "implement", judge=_kv_step_judge, solution=_kv_step_solution),
]
