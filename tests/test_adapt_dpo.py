"""DPO: the loss against trl's DPOTrainer, its gradient, preference pairs, contradicted
descriptions and a tiny training run."""

from __future__ import annotations

import copy
import math
import random
import warnings

import pytest
import torch

from aigc_course.adapt.dpo import (
    DPOTrainConfig,
    PreferencePair,
    contradict,
    dpo_loss,
    fit_dpo,
    make_pair,
    pair_batch,
    sequence_logprobs,
)
from aigc_course.adapt.lora import apply_lora
from aigc_course.adapt.sft import IGNORE, Example, render_chat
from aigc_course.business.catalog import make_catalog
from aigc_course.business.catalog import tokenizer as catalog_tokenizer
from aigc_course.business.faithfulness import check_item
from aigc_course.models.transformer_lm import GPT, GPTConfig

PAIRS = [
    PreferencePair("mug", "A red mug.", "Blue mug!"),
    PreferencePair("cup", "ok", "no way"),
    PreferencePair("oak", "An oak lamp.", "A lamp"),
]  # each fits the tiny models' 32 positions


@pytest.fixture(scope="module")
def tok():
    return catalog_tokenizer()


def tiny_gpt(vocab: int, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab, block_size=32, n_layer=2, n_head=2, n_embd=16, dropout=0.0))


@pytest.fixture(scope="module")
def models(tok):
    reference = tiny_gpt(tok.vocab_size).eval()
    policy = copy.deepcopy(reference)
    with torch.no_grad():  # a policy that has moved away from the reference
        g = torch.Generator().manual_seed(1)
        for p in policy.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g))
    return policy, reference


# -- sequence log-probabilities and the loss ---------------------------------------------


def test_pair_batch_holds_chosen_then_rejected_and_logprobs_sum_the_response(tok, models):
    policy, _ = models
    x, y = pair_batch(tok, PAIRS)
    assert x.shape[0] == y.shape[0] == 2 * len(PAIRS)
    got = sequence_logprobs(policy, x, y)
    rows = [(p, "chosen") for p in PAIRS] + [(p, "rejected") for p in PAIRS]
    for i, (pair, which) in enumerate(rows):
        text, mask = render_chat(
            [
                {"role": "user", "content": pair.instruction},
                {"role": "assistant", "content": getattr(pair, which)},
            ]
        )
        ids = torch.tensor([tok.encode(text)])
        with torch.no_grad():
            logp = torch.log_softmax(policy(ids[:, :-1])[0][0], dim=-1)
        by_hand = sum(logp[t, ids[0, t + 1]].item() for t in range(len(text) - 1) if mask[t + 1])
        assert got[i].item() == pytest.approx(by_hand, rel=1e-5, abs=1e-4), (i, which)
    assert (y[:, 0] == IGNORE).all()  # the prompt is never scored


def test_loss_is_log_two_when_the_policy_is_the_reference(tok, models):
    _, reference = models
    x, y = pair_batch(tok, PAIRS)
    logp = sequence_logprobs(reference, x, y)
    n = len(PAIRS)
    loss, chosen, rejected = dpo_loss(logp[:n], logp[n:], logp[:n], logp[n:], beta=0.5)
    assert loss.item() == pytest.approx(math.log(2), abs=1e-7)
    assert torch.equal(chosen, torch.zeros(n)) and torch.equal(rejected, torch.zeros(n))


def test_loss_and_rewards_by_hand():
    pc, pr = torch.tensor([-3.0, -10.0]), torch.tensor([-5.0, -8.0])
    rc, rr = torch.tensor([-4.0, -9.0]), torch.tensor([-4.0, -9.0])
    beta = 0.2
    loss, chosen, rejected = dpo_loss(pc, pr, rc, rr, beta)
    assert torch.allclose(chosen, torch.tensor([0.2, -0.2]))
    assert torch.allclose(rejected, torch.tensor([-0.2, 0.2]))
    margins = [0.2 * (1 - (-1)), 0.2 * (-1 - 1)]  # β·(Δchosen − Δrejected)
    expected = sum(math.log1p(math.exp(-m)) for m in margins) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("beta", [0.05, 0.1, 0.5, 2.0])
@pytest.mark.parametrize("delta", [-3.0, 0.0, 1.5])
def test_gradient_is_the_closed_form(beta, delta):
    """∂L/∂log π(y_w) = −β·σ(−βΔ) and ∂L/∂log π(y_l) = +β·σ(−βΔ), Δ the log-ratio
    margin: the gradient raises the chosen response and lowers the rejected one."""
    pc = torch.tensor([-4.0 + delta], requires_grad=True)
    pr = torch.tensor([-4.0], requires_grad=True)
    ref = torch.tensor([-4.0])
    loss, _, _ = dpo_loss(pc, pr, ref, ref, beta)
    loss.backward()
    weight = beta * torch.sigmoid(torch.tensor(-beta * delta)).item()
    assert pc.grad.item() == pytest.approx(-weight, rel=1e-5)
    assert pr.grad.item() == pytest.approx(weight, rel=1e-5)
    assert pc.grad.item() < 0 < pr.grad.item()  # descent raises chosen, lowers rejected


def test_larger_beta_pushes_harder_at_equal_margins():
    grads = []
    for beta in (0.05, 0.1, 0.5, 1.0):
        pc = torch.tensor([-4.0], requires_grad=True)
        ref = torch.tensor([-4.0])
        dpo_loss(pc, ref, ref, ref, beta)[0].backward()
        grads.append(-pc.grad.item())
    assert grads == pytest.approx([b / 2 for b in (0.05, 0.1, 0.5, 1.0)])  # σ(0) = 1/2
    assert grads == sorted(grads)


def test_a_gradient_step_on_a_model_raises_chosen_and_lowers_rejected(tok, models):
    policy, reference = models
    policy = copy.deepcopy(policy)
    x, y = pair_batch(tok, PAIRS)
    n = len(PAIRS)
    with torch.no_grad():
        ref = sequence_logprobs(reference, x, y)
        before = sequence_logprobs(policy, x, y)
    opt = torch.optim.SGD(policy.parameters(), lr=1e-3)
    pol = sequence_logprobs(policy, x, y)
    dpo_loss(pol[:n], pol[n:], ref[:n], ref[n:], beta=0.5)[0].backward()
    opt.step()
    with torch.no_grad():
        after = sequence_logprobs(policy, x, y)
    margin = lambda lp: (lp[:n] - ref[:n]) - (lp[n:] - ref[n:])
    assert (margin(after) > margin(before)).all()


def test_bad_input_is_refused_on_one_line():
    a = torch.zeros(3)
    for beta in (0.0, -0.1):
        with pytest.raises(ValueError, match="beta must be positive") as err:
            dpo_loss(a, a, a, a, beta)
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="must have one shape") as err:
        dpo_loss(a, torch.zeros(2), a, a, 0.1)
    assert "\n" not in str(err.value)
    chosen = Example("copy", "Write copy: mug", "A mug.")
    with pytest.raises(ValueError, match="needs one prompt") as err:
        make_pair(chosen, Example("copy", "Write copy: cup", "A cup."))
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="identical"):
        make_pair(chosen, Example("copy", "Write copy: mug", "A mug."))
    pair = make_pair(chosen, Example("copy", "Write copy: mug", "A jug.", "k"))
    assert pair == PreferencePair("Write copy: mug", "A mug.", "A jug.", "")
    assert pair.examples()[1].response == "A jug."


# -- trl ----------------------------------------------------------------------------------


def test_loss_and_gradient_equal_trls_dpo_trainer(tok, models, tmp_path):
    """A real ``trl.DPOTrainer`` (sigmoid loss, reference model given) on the ported
    policy and reference computes its loss on the same pairs, tokenised by trl through
    the chat template: the loss and every parameter's gradient equal the course's.
    trl defaults to ``bf16=True``, which runs the reference under autocast (log-probs off
    by ~1e-3 on a CPU); the comparison is made in float32."""
    datasets = pytest.importorskip("datasets")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="transformers.*")
        from trl import DPOConfig, DPOTrainer

        from aigc_course.adapt.sft import char_transformers_tokenizer
        from aigc_course.hf import to_gpt2

        policy, reference = models
        rows = [
            {
                "prompt": [{"role": "user", "content": p.instruction}],
                "chosen": [{"role": "assistant", "content": p.chosen}],
                "rejected": [{"role": "assistant", "content": p.rejected}],
            }
            for p in PAIRS
        ]
        processing = char_transformers_tokenizer(tok)
        processing.pad_token = "?"  # padding is masked: any character does
        beta = 0.3
        args = DPOConfig(
            output_dir=str(tmp_path / "trl"),
            beta=beta,
            loss_type=["sigmoid"],
            use_cpu=True,
            bf16=False,
            report_to="none",
            per_device_train_batch_size=len(PAIRS),
            precompute_ref_log_probs=False,
            save_strategy="no",
            disable_tqdm=True,
        )
        trainer = DPOTrainer(
            model=to_gpt2(policy),
            ref_model=to_gpt2(reference),
            args=args,
            train_dataset=datasets.Dataset.from_list(rows),
            processing_class=processing,
        )
        batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(PAIRS))])
        theirs = trainer.compute_loss(trainer.model, batch)
        theirs.backward()

    ours_model = copy.deepcopy(policy)
    x, y = pair_batch(tok, PAIRS)
    n = len(PAIRS)
    with torch.no_grad():
        ref = sequence_logprobs(reference, x, y)
    pol = sequence_logprobs(ours_model, x, y)
    ours, _, _ = dpo_loss(pol[:n], pol[n:], ref[:n], ref[n:], beta)
    ours.backward()
    assert abs(ours.item() - math.log(2)) > 1e-2  # the policy differs from the reference
    assert theirs.item() == pytest.approx(ours.item(), abs=1e-5)
    their_grads = dict(trainer.model.named_parameters())
    for name, p in ours_model.named_parameters():
        assert p.grad is not None and p.grad.abs().max() > 0, name
        torch.testing.assert_close(their_grads[name].grad, p.grad, atol=1e-5, rtol=1e-4)


# -- contradicted descriptions --------------------------------------------------------


def test_contradict_makes_faithful_descriptions_unsupported():
    items = make_catalog(400, seed=3)
    rng = random.Random(0)
    changed_slots = set()
    for it in items:
        assert check_item(it.product, it.description).faithful, it.description
        wrong = contradict(it.product, it.description, rng)
        report = check_item(it.product, wrong)
        assert report.unsupported and not report.faithful, (it.description, wrong)
        assert wrong != it.description and len(wrong.split()) == len(it.description.split())
        changed_slots |= {u.split("=")[0] for u in report.unsupported}
    assert changed_slots == {"colour", "material", "feature"}
    again = [contradict(it.product, it.description, random.Random(0)) for it in items[:20]]
    assert again == [contradict(it.product, it.description, random.Random(0)) for it in items[:20]]
    with pytest.raises(ValueError, match="no attribute word"):
        contradict(items[0].product, "Nothing to see here.", rng)


# -- training -----------------------------------------------------------------------------


def test_fit_dpo_raises_reward_accuracy(tok):
    reference = tiny_gpt(tok.vocab_size, seed=2).eval()
    policy = apply_lora(copy.deepcopy(reference), r=4, alpha=8.0, targets=("c_attn", "c_fc"))
    pairs = [
        PreferencePair("ab", "yes", "no"),
        PreferencePair("cd", "red", "blue"),
        PreferencePair("ef", "A cup.", "A mug."),
        PreferencePair("gh", "oak", "pine"),
    ]
    x, y = pair_batch(tok, pairs)
    n = len(pairs)

    def rewards(model):
        with torch.no_grad():
            pol, ref = sequence_logprobs(model, x, y), sequence_logprobs(reference, x, y)
        return pol[:n] - ref[:n], pol[n:] - ref[n:]

    chosen, rejected = rewards(policy)
    assert (chosen == rejected).all()  # LoRA starts equal to the reference: accuracy 0
    cfg = DPOTrainConfig(steps=30, batch_size=4, lr=1e-2, beta=0.5)
    hist = fit_dpo(policy, reference, tok, pairs, cfg)
    assert hist.steps == 30 and not policy.training
    assert hist["reward_accuracy"][0] == 0.0 and hist["loss"][0] == pytest.approx(math.log(2))
    assert sum(hist["reward_accuracy"][-5:]) / 5 > 0.5
    assert sum(hist["loss"][-5:]) / 5 < math.log(2)
    chosen, rejected = rewards(policy)
    assert (chosen > rejected).float().mean() > 0.5
    for p in reference.parameters():  # the reference did not move
        assert not p.requires_grad
    with pytest.raises(ValueError, match="at least one preference pair"):
        fit_dpo(policy, reference, tok, [], cfg)
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit_dpo(copy.deepcopy(reference), reference, tok, pairs, cfg)
