"""Exercises of notebook 06 (Hugging Face transformers): solutions and judges."""

from __future__ import annotations

import torch

from ..sampling import top_p_filter
from . import Exercise

SENTENCE = "The return value of the function"


def _longest_token_solution(bpe, **_: object):
    vocab = bpe.get_vocab()  # token string -> id; byte-level strings, so decode each id
    longest = max((bpe.decode([i]) for i in vocab.values()), key=len)
    n_sentence_tokens = len(bpe.encode(SENTENCE).ids)  # fewer tokens than characters
    return longest, n_sentence_tokens


def _longest_token_judge(attempt, bpe, **_: object) -> None:
    longest, n_sentence_tokens = attempt
    vocab = bpe.get_vocab()
    decoded = {bpe.decode([i]) for i in vocab.values()}
    best = max(len(t) for t in decoded)
    if longest is not None:
        assert isinstance(longest, str), f"longest_token should be a string, not {longest!r}"
        if longest not in decoded and longest in vocab:
            raise AssertionError(
                f"{longest!r} is the token's byte-level name in the vocabulary (Ġ stands for a "
                "space); decode its id with bpe.decode([id]) to get its text"
            )
        assert longest in decoded, f"{longest!r} is not the text of any token of `bpe`"
        assert len(longest) == best, (
            f"{longest!r} has {len(longest)} characters but some token has {best}: compare "
            "the decoded texts of all tokens by len (not the vocabulary strings, not max() of "
            "the strings, which is alphabetical)"
        )
    if n_sentence_tokens is not None:
        want = len(bpe.encode(SENTENCE).ids)
        assert int(n_sentence_tokens) == want, (
            f"n_sentence_tokens = {n_sentence_tokens}: count the ids of "
            f"bpe.encode({SENTENCE!r}) (not its {len(SENTENCE)} characters, not words)"
        )
    assert longest is not None and n_sentence_tokens is not None, "fill in both answers"


def _continuation_solution(**_: object):
    def continuation(out, inputs):
        return out[0, inputs["input_ids"].shape[1] :]  # drop the prompt, keep row 0 as 1-D

    return continuation


def _continuation_judge(attempt, gpt2=None, inputs=None, hf_tok=None, **_: object) -> None:
    gen = torch.Generator().manual_seed(0)
    for n_prompt, n_new in ((3, 5), (7, 2), (1, 9)):
        ids = torch.randint(0, 100, (1, n_prompt), generator=gen)
        out = torch.cat([ids, torch.randint(100, 200, (1, n_new), generator=gen)], 1)
        fake = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        got = attempt(out, fake)
        assert isinstance(got, torch.Tensor) and got.dim() == 1, (
            f"continuation should return a 1-D tensor (row 0 of `out`), got "
            f"{getattr(got, 'shape', type(got).__name__)}"
        )
        assert torch.equal(got, out[0, n_prompt:]), (
            f"with a {n_prompt}-token prompt and {n_new} new tokens you returned {got.tolist()}, "
            f"expected {out[0, n_prompt:].tolist()}: generate() returns the prompt followed by "
            "the new tokens; slice from the prompt's length, taken from inputs['input_ids']"
        )
    if gpt2 is not None and inputs is not None:
        pad = hf_tok.eos_token_id if hf_tok is not None else None
        out5 = gpt2.generate(**inputs, max_new_tokens=5, do_sample=False, pad_token_id=pad)
        got = attempt(out5, inputs)
        assert got.shape == (5,), f"on the notebook's prompt: shape {tuple(got.shape)}, not (5,)"


def _top_p_solution(**_: object):
    def my_top_p(logits, p):
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        probs = sorted_logits.softmax(-1)
        before = probs.cumsum(-1) - probs  # the mass of the tokens ranked above each one
        drop_sorted = before >= p  # keep a token while the mass above it is still below p
        drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
        return logits.masked_fill(drop, float("-inf"))

    return my_top_p


def _top_p_cases():
    gen = torch.Generator().manual_seed(0)
    yield torch.randn(4, 20, generator=gen) * 2, (0.1, 0.5, 0.9, 0.99)
    yield torch.tensor([[4.0, 1.0, 0.5, 0.0, -1.0], [0.0, 3.0, 2.9, -2.0, 1.0]]), (0.3, 0.8)
    yield torch.randn(1, 50, generator=gen) * 0.3, (0.5,)  # flat: many tokens kept


def _top_p_judge(attempt, **_: object) -> None:
    for logits, ps in _top_p_cases():
        for p in ps:
            got = attempt(logits.clone(), p)
            want = top_p_filter(logits, p)
            assert isinstance(got, torch.Tensor) and got.shape == logits.shape, (
                f"my_top_p should return a tensor of shape {tuple(logits.shape)}, got "
                f"{getattr(got, 'shape', type(got).__name__)}"
            )
            kept, want_kept = torch.isfinite(got), torch.isfinite(want)
            if torch.equal(kept, want_kept):
                assert torch.equal(got[kept], logits[kept]), (
                    f"p={p}: the logits you keep must be unchanged (set the others to -inf)"
                )
                continue
            row = int((kept != want_kept).any(1).nonzero()[0])
            n, m = int(kept[row].sum()), int(want_kept[row].sum())
            if n == m - 1:
                hint = (
                    "keep the token whose probability *crosses* p too: keep a token while "
                    "the mass of the tokens ranked above it is below p (cumsum - probs < p), "
                    "not while the cumulative sum including it is"
                )
            elif n == 0 or not kept[row, logits[row].argmax()]:
                hint = "the most probable token must always survive (sort in descending order)"
            else:
                hint = (
                    "sort the probabilities in descending order, take their running sum, and "
                    "map the decision back to vocabulary order (scatter with the sort indices)"
                )
            raise AssertionError(f"p={p}, row {row}: you keep {n} tokens, the nucleus {m}: {hint}")


def _left_pad_solution(**_: object):
    def left_pad(seqs, pad_id):
        width = max(len(s) for s in seqs)
        input_ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
        attention_mask = torch.zeros(len(seqs), width, dtype=torch.long)
        for i, s in enumerate(seqs):
            if len(s):  # the prompt ends at the last column, where generation continues
                input_ids[i, width - len(s) :] = torch.as_tensor(s)
                attention_mask[i, width - len(s) :] = 1
        return input_ids, attention_mask

    return left_pad


def _left_pad_judge(attempt, gpt2=None, **_: object) -> None:
    seqs = [[5, 6, 7], [8], [9, 10, 11, 12, 13]]
    out = attempt(seqs, 0)
    assert isinstance(out, tuple) and len(out) == 2, "left_pad returns (input_ids, attention_mask)"
    ids, mask = (torch.as_tensor(t) for t in out)
    assert tuple(ids.shape) == (3, 5) and tuple(mask.shape) == (3, 5), (
        f"shapes {tuple(ids.shape)} and {tuple(mask.shape)}: expected (3, 5), one row per "
        "prompt, as wide as the longest"
    )
    if ids[1, 0].item() == 8:
        raise AssertionError(
            "row 1 starts with its token and ends with padding: that is right padding. A "
            "decoder-only model continues from the *last* column, so the prompt must end "
            "there: put the padding on the left"
        )
    assert ids[1].tolist() == [0, 0, 0, 0, 8] and ids[0].tolist() == [0, 0, 5, 6, 7], (
        f"input_ids {ids.tolist()}: each prompt right-aligned, pad_id on its left"
    )
    if mask[1].tolist() == [1, 1, 1, 1, 0]:
        raise AssertionError("attention_mask is inverted: 1 on real tokens, 0 on padding")
    assert mask.tolist() == [[0, 0, 1, 1, 1], [0, 0, 0, 0, 1], [1, 1, 1, 1, 1]], (
        f"attention_mask {mask.tolist()}: 1 where a real token is, 0 on the padding"
    )
    if gpt2 is not None:  # the point of it: a batch gives what each prompt gives alone
        kw = dict(max_new_tokens=4, do_sample=False, pad_token_id=0)
        batch = gpt2.generate(input_ids=ids, attention_mask=mask, **kw)[:, 5:]
        for i, s in enumerate(seqs):
            one = torch.tensor([s])
            alone = gpt2.generate(input_ids=one, attention_mask=torch.ones_like(one), **kw)
            assert torch.equal(batch[i], alone[0, len(s) :]), (
                f"prompt {i}: the batched continuation differs from the prompt alone"
            )


EXERCISES = [
    Exercise(
        "06.longest_token", "derive", judge=_longest_token_judge, solution=_longest_token_solution
    ),
    Exercise(
        "06.continuation", "implement", judge=_continuation_judge, solution=_continuation_solution
    ),
    Exercise("06.top_p", "implement", judge=_top_p_judge, solution=_top_p_solution),
    Exercise("06.left_pad", "implement", judge=_left_pad_judge, solution=_left_pad_solution),
]
