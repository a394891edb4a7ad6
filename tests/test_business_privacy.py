"""Canaries planted in training text and their exposure (business.privacy)."""

from __future__ import annotations

import math

import pytest
import torch

from aigc_course.business import catalog, privacy
from aigc_course.metrics.text import sequence_nll
from aigc_course.models.transformer_lm import GPT, GPTConfig

TOK = catalog.tokenizer()


def _tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(TOK.vocab_size, block_size=48, n_layer=1, n_head=2, n_embd=16)).eval()


class Parrot(torch.nn.Module):
    """A fake LM that puts almost all probability on one fixed next character per
    position of a target string (so it has 'memorised' it)."""

    block_size = 64

    def __init__(self, text: str) -> None:
        super().__init__()
        self.target = TOK.encode(text)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        logits = torch.zeros(B, T, TOK.vocab_size)
        for t in range(T):
            if t + 1 < len(self.target):
                logits[:, t, self.target[t + 1]] = 20.0
        return logits, None


def test_canaries_are_seeded_and_planted_the_right_number_of_times():
    cs = privacy.make_canaries([0, 2, 5], seed=0)
    assert cs == privacy.make_canaries([0, 2, 5], seed=0)
    assert len({c.secret for c in cs}) == 3 and all(len(c.secret) == 6 for c in cs)
    text = "".join(f"line {i}\n" for i in range(50))
    planted = privacy.plant_canaries(text, cs, seed=0)
    for c in cs:
        assert planted.count(c.line()) == c.repeats
    assert planted.count("\n") == 50 + 7
    # removing the canary lines gives back the original text, in its order
    lines = {c.line() for c in cs}
    kept = "".join(x for x in planted.splitlines(keepends=True) if x not in lines)
    assert kept == text
    assert planted != text + "".join(c.line() * c.repeats for c in cs)  # not all at the end
    assert privacy.plant_canaries(text, cs, seed=0) == planted
    assert privacy.plant_canaries(text, cs, seed=1) != planted


def test_fifty_canaries_have_distinct_names_and_secrets():
    cs = privacy.make_canaries([1] * len(privacy.NAMES), seed=0)
    assert len({c.prefix for c in cs}) == len({c.secret for c in cs}) == len(privacy.NAMES)
    assert cs[:3] == privacy.make_canaries([1, 1, 1], seed=0)  # a prefix of the same draw
    with pytest.raises(ValueError, match="at most"):
        privacy.make_canaries([1] * (len(privacy.NAMES) + 1))
    # two-digit secrets: 100 possible, so a repeated draw has to be redrawn
    small = privacy.make_canaries([0] * 40, n_digits=2, seed=0)
    assert len({c.secret for c in small}) == 40


def test_expected_rank_and_extraction_with_a_guess_budget():
    assert privacy.expected_rank(0.0) == 1e6  # nothing learnt: the whole space
    assert privacy.expected_rank(math.log2(1e6)) == pytest.approx(1.0)
    assert privacy.expected_rank(10.0, n_digits=4) == pytest.approx(1e4 / 1024)
    # with G guesses a secret is extracted when e >= log2(|R| / G)
    edge = math.log2(1e6 / 1000)
    assert privacy.extracted([edge - 0.01, edge + 0.01, 19.9, 1.4], 1000) == 2
    assert privacy.extracted([edge + 0.01], 10) == 0
    assert privacy.extracted([19.9, 17.0, 16.0], 10) == 2  # log2(1e5) ≈ 16.6
    with pytest.raises(ValueError, match="guesses"):
        privacy.extracted([1.0], 0)


def test_by_repeats_groups_exposures():
    rows = [{"repeats": 4, "exposure": 2.0}, {"repeats": 0, "exposure": 1.0}]
    rows.append({"repeats": 4, "exposure": 3.0})
    got = privacy.by_repeats(rows)
    assert list(got) == [0, 4] and got[4].tolist() == [2.0, 3.0] and got[0].tolist() == [1.0]


def test_secret_bits_agree_with_sequence_nll():
    model = _tiny_gpt()
    prefix, secrets = "Ada's door code is ", ["123456", "999999"]
    bits = privacy.secret_bits(model, TOK, prefix, secrets)
    for s, b in zip(secrets, bits, strict=True):
        ids = TOK.encode_tensor("\n" + prefix + s)
        nll = sequence_nll(model, ids, context=48)  # independent reference
        assert b == pytest.approx(nll[-6:].sum().item() / math.log(2), rel=1e-4)
    with pytest.raises(ValueError):
        privacy.secret_bits(model, TOK, prefix, ["1", "22"])


def test_exposure_is_high_for_a_memorised_secret_and_low_otherwise():
    canary = privacy.Canary("Ada's door code is ", "314159", repeats=1)
    memorised = privacy.exposure(
        Parrot("\n" + canary.prefix + canary.secret), TOK, canary, n_candidates=300
    )
    assert memorised.exposure > 15
    assert memorised.rank_exposure == pytest.approx(math.log2(300), abs=0.1)
    assert memorised.max_exposure == pytest.approx(6 * math.log2(10))
    # a random model: the canary is a typical secret; averaged over canaries ≈ log2(e)
    model = _tiny_gpt(1)
    values = [
        privacy.exposure(model, TOK, c, n_candidates=300).rank_exposure
        for c in privacy.make_canaries([1] * 10, seed=3)
    ]
    assert sum(values) / len(values) < 4


@pytest.mark.gpu
def test_secret_bits_and_exposure_follow_the_model_to_cuda():
    model = _tiny_gpt()
    canary = privacy.make_canaries([1], seed=0)[0]
    secrets = ["123456", "999999", canary.secret]
    cpu_bits = privacy.secret_bits(model, TOK, canary.prefix, secrets)
    cpu_exp = privacy.exposure(model, TOK, canary, n_candidates=200)
    model.to("cuda")
    gpu_bits = privacy.secret_bits(model, TOK, canary.prefix, secrets)
    gpu_exp = privacy.exposure(model, TOK, canary, n_candidates=200)
    assert gpu_bits == pytest.approx(cpu_bits, rel=1e-3)
    assert gpu_exp.canary_bits == pytest.approx(cpu_exp.canary_bits, rel=1e-3)
    assert gpu_exp.rank_exposure == pytest.approx(cpu_exp.rank_exposure, abs=0.1)
