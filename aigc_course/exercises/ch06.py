"""Exercises of notebook 06 (Hugging Face transformers): solutions and judges."""

from __future__ import annotations

import torch

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


EXERCISES = [
    Exercise(
        "06.longest_token", "derive", judge=_longest_token_judge, solution=_longest_token_solution
    ),
    Exercise(
        "06.continuation", "implement", judge=_continuation_judge, solution=_continuation_solution
    ),
]
