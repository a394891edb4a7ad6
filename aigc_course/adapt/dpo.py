"""Direct preference optimisation (DPO; Rafailov et al. 2023).

Given a prompt ``x`` and two responses, ``y_w`` preferred to ``y_l``, DPO trains the policy
``π`` against a frozen reference ``π_ref`` (the model before preference tuning) with

    L = -log σ( β · [ (log π(y_w|x) - log π_ref(y_w|x)) - (log π(y_l|x) - log π_ref(y_l|x)) ] )

the loss of a Bradley-Terry preference model whose reward is the implicit
``r(x, y) = β · log π(y|x) / π_ref(y|x)``. It is the closed-form solution of RLHF's
KL-regularised reward maximisation (reward model + PPO; Ouyang et al. 2022) rewritten as a
classification loss on the preference pairs: no reward model, no sampling during
training. ``β`` sets how far the policy may move from the reference.

Log-probabilities of a response are sums over its tokens only (the prompt is masked with
``IGNORE``, as in :mod:`.sft`). :func:`dpo_loss` is tested against ``trl``'s loss on the
same numbers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..device import Precision, model_device
from ..tokenizer import CharTokenizer
from ..training.core import Callback, History, TrainConfig, run_loop
from .sft import IGNORE, Example, sft_batch


def sequence_logprobs(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(B,) sum over positions with ``y != IGNORE`` of log p(y_t | x_≤t) under ``model``."""
    logits, _ = model(x)
    logp = torch.log_softmax(logits.float(), dim=-1)
    keep = y != IGNORE
    picked = logp.gather(-1, y.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * keep).sum(dim=1)


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The DPO loss (mean over pairs) and the implicit rewards of both responses.

    Args:
        policy_chosen, policy_rejected, ref_chosen, ref_rejected: (B,) sequence
            log-probabilities of the preferred and rejected responses.
        beta: the strength of the KL regularisation (> 0).

    Returns:
        ``(loss, chosen_rewards, rejected_rewards)``, rewards = β·(log π − log π_ref).
    """
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    shapes = {t.shape for t in (policy_chosen, policy_rejected, ref_chosen, ref_rejected)}
    if len(shapes) != 1:
        raise ValueError(f"the four log-probability tensors must have one shape, got {shapes}")
    chosen = beta * (policy_chosen - ref_chosen)
    rejected = beta * (policy_rejected - ref_rejected)
    loss = -F.logsigmoid(chosen - rejected).mean()
    return loss, chosen.detach(), rejected.detach()


@dataclass(frozen=True)
class PreferencePair:
    """A prompt, the preferred response and the rejected one."""

    instruction: str
    chosen: str
    rejected: str
    key: str = ""

    def examples(self) -> tuple[Example, Example]:
        return (
            Example("copy", self.instruction, self.chosen, self.key),
            Example("copy", self.instruction, self.rejected, self.key),
        )


def make_pair(chosen: Example, rejected: Example) -> PreferencePair:
    """A pair from two answers to the same instruction.

    Raises:
        ValueError: the instructions differ (a preference compares answers to one prompt),
            or the two responses are identical.
    """
    if chosen.instruction != rejected.instruction:
        raise ValueError(
            "a preference pair needs one prompt: got "
            f"{chosen.instruction[:40]!r} and {rejected.instruction[:40]!r}"
        )
    if chosen.response == rejected.response:
        raise ValueError("chosen and rejected responses are identical: nothing to prefer")
    return PreferencePair(chosen.instruction, chosen.response, rejected.response, chosen.key)


def contradict(product, description: str, rng: random.Random) -> str:
    """``description`` with one attribute word replaced by a wrong value of its slot
    (colour, material or a feature): a contradicted attribute the faithfulness checker
    flags. The catalog's lexicon is the whole world, so the replacement is always a
    word the checker knows."""
    import re

    from ..business import catalog

    slots = [
        (product.colour, [c for c in catalog.COLOURS if c != product.colour]),
        (product.material, [m for m in catalog.MATERIALS if m != product.material]),
    ]
    slots += [
        (f, [g for g in catalog.FEATURES if g not in product.features]) for f in product.features
    ]
    rng.shuffle(slots)
    for word, alternatives in slots:
        pattern = re.compile(rf"(?<![A-Za-z]){re.escape(word)}(?![a-z])", re.IGNORECASE)
        match = pattern.search(description)
        if match:
            new = rng.choice(alternatives)
            new = new.capitalize() if match.group(0)[0].isupper() else new
            return description[: match.start()] + new + description[match.end() :]
    raise ValueError(f"no attribute word of {product.prompt()!r} in {description!r}")


# -- training -------------------------------------------------------------------------


@dataclass(frozen=True)
class DPOTrainConfig(TrainConfig):
    """DPO's settings: β, and AdamW on the trainable parameters (an adapter, usually)."""

    steps: int = 200
    batch_size: int = 16
    lr: float = 1e-3
    beta: float = 0.1
    grad_clip: float = 1.0


def pair_batch(
    tok: CharTokenizer, pairs: Sequence[PreferencePair]
) -> tuple[torch.Tensor, torch.Tensor]:
    """One padded batch holding every chosen response, then every rejected one."""
    chosen = [p.examples()[0] for p in pairs]
    rejected = [p.examples()[1] for p in pairs]
    return sft_batch(tok, chosen + rejected, mask_prompt=True)


def fit_dpo(
    policy: torch.nn.Module,
    reference: torch.nn.Module,
    tok: CharTokenizer,
    pairs: Sequence[PreferencePair],
    cfg: DPOTrainConfig,
    *,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train ``policy``'s trainable parameters with :func:`dpo_loss` on ``pairs``.

    ``reference`` is frozen (evaluated without gradients, in eval mode); both run on the
    policy's device. Records per step: ``loss``, ``reward_margin`` (mean chosen − rejected
    reward) and ``reward_accuracy`` (share of pairs whose chosen reward is higher).
    """
    if not pairs:
        raise ValueError("fit_dpo needs at least one preference pair")
    device = model_device(policy)
    reference = reference.to(device).eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    params = [p for p in policy.parameters() if p.requires_grad]
    if not params:
        raise ValueError("policy has no trainable parameters (apply_lora or unfreeze it)")
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    precision = Precision(device)
    rng = random.Random(cfg.seed)
    n = len(pairs)

    def step(i: int) -> dict[str, float]:
        batch = [pairs[rng.randrange(n)] for _ in range(cfg.batch_size)]
        x, y = (t.to(device) for t in pair_batch(tok, batch))
        with torch.no_grad():
            ref = sequence_logprobs(reference, x, y)
        with precision.autocast():
            pol = sequence_logprobs(policy, x, y)
        b = len(batch)
        loss, rc, rr = dpo_loss(pol[:b], pol[b:], ref[:b], ref[b:], cfg.beta)
        precision.step(loss, opt, grad_clip=cfg.grad_clip)
        return {
            "loss": loss.item(),
            "reward_margin": (rc - rr).mean().item(),
            "reward_accuracy": (rc > rr).float().mean().item(),
        }

    hist = run_loop(step, cfg, models={"policy": policy}, callbacks=callbacks)
    policy.eval()
    return hist
