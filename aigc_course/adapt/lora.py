"""LoRA: low-rank adapters on a frozen pretrained model (Hu et al. 2021).

A pretrained weight ``W`` stays frozen; the adapted layer computes

    y = base(x) + (alpha / r) * x @ A.T @ B.T          A: (r, in), B: (out, r)

with ``B`` initialised to zero, so the adapted model starts *equal* to the base model, and
only ``A`` and ``B`` are trained: ``r * (in + out)`` numbers per layer instead of
``in * out``. After training the update can be **merged** into the weight
(``W + (alpha / r) * B @ A``) and the layer costs nothing extra at inference.

The parameter names and layouts follow ``peft`` (``lora_A`` (r, in), ``lora_B`` (out, r),
A Kaiming-uniform, B zeros), so an adapter trained here loads into ``peft``'s
``LoraConfig`` on the ported ``GPT2LMHeadModel`` (:func:`to_peft_state_dict`). GPT-2's
``Conv1D`` stores its weight as (in, out), the transpose of ``nn.Linear``'s (out, in):
merging into it adds ``(B @ A).T`` — what ``peft`` calls ``fan_in_fan_out=True``.

Example::

    model, meta = load_pretrained("char_transformer")
    apply_lora(model, r=8, alpha=16, targets=("c_attn",))   # freezes the rest
    trainable, total = count_parameters(model)
    ...  # train with fit_lm / fit_sft: only lora_A, lora_B have requires_grad
    merge_lora(model)                                       # plain layers again
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..models.transformer_lm import Conv1D

#: the projections of the course's GPT (and GPT-2) that LoRA can adapt
TARGETS = ("c_attn", "c_proj", "c_fc")


@dataclass(frozen=True)
class LoRAConfig:
    """Which layers get adapters, their rank ``r``, scale ``alpha`` and dropout."""

    r: int = 8
    alpha: float = 16.0
    targets: tuple[str, ...] = ("c_attn",)
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.r, int) or self.r <= 0:
            raise ValueError(f"LoRA rank r must be a positive integer, got {self.r!r}")
        if self.alpha <= 0:
            raise ValueError(f"LoRA alpha must be positive, got {self.alpha!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"LoRA dropout must be in [0, 1), got {self.dropout!r}")
        unknown = sorted(set(self.targets) - set(TARGETS))
        if not self.targets or unknown:
            raise ValueError(
                f"LoRA targets must be a non-empty subset of {TARGETS}, got {self.targets!r}"
            )
        object.__setattr__(self, "targets", tuple(self.targets))

    @property
    def scaling(self) -> float:
        return self.alpha / self.r

    def to_dict(self) -> dict:
        return {**asdict(self), "targets": list(self.targets)}

    @classmethod
    def from_dict(cls, d: dict) -> LoRAConfig:
        return cls(**{**d, "targets": tuple(d["targets"])})


def _in_out(layer: nn.Module) -> tuple[int, int]:
    if isinstance(layer, nn.Linear):
        return layer.in_features, layer.out_features
    if isinstance(layer, Conv1D):
        return layer.weight.shape[0], layer.weight.shape[1]
    raise TypeError(f"LoRA wraps nn.Linear or Conv1D layers, not {type(layer).__name__}")


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` or GPT-2 ``Conv1D`` plus a trainable low-rank update."""

    def __init__(self, base: nn.Module, r: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        LoRAConfig(r=r, alpha=alpha, dropout=dropout)  # validates
        n_in, n_out = _in_out(base)
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.r, self.alpha, self.scaling = r, alpha, alpha / r
        w = next(base.parameters())
        self.lora_A = nn.Parameter(torch.empty(r, n_in, device=w.device, dtype=w.dtype))
        self.lora_B = nn.Parameter(torch.zeros(n_out, r, device=w.device, dtype=w.dtype))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # nn.Linear's init, as peft
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def delta_weight(self) -> torch.Tensor:
        """The update in the base layer's own layout: (out, in) for Linear, (in, out) for
        Conv1D (``fan_in_fan_out``)."""
        delta = self.scaling * (self.lora_B @ self.lora_A)  # (out, in)
        return delta.T if isinstance(self.base, Conv1D) else delta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = self.dropout(x) @ self.lora_A.T @ self.lora_B.T  # (..., out)
        return self.base(x) + self.scaling * update

    @torch.no_grad()
    def merged(self) -> nn.Module:
        """The base layer with the update added to its weight (trainable again)."""
        self.base.weight += self.delta_weight()
        for p in self.base.parameters():
            p.requires_grad_(True)
        return self.base


def lora_layers(model: nn.Module) -> dict[str, LoRALinear]:
    """The model's LoRA layers by module name."""
    return {n: m for n, m in model.named_modules() if isinstance(m, LoRALinear)}


def apply_lora(model: nn.Module, config: LoRAConfig | None = None, **kw) -> nn.Module:
    """Freeze ``model`` and wrap every layer named in ``config.targets`` in place.

    Args:
        model: the course's GPT (or any module whose targets are Linear/Conv1D layers).
        config: a :class:`LoRAConfig`, or its fields as keywords (``r=8, alpha=16``).

    Returns:
        ``model`` itself, with ``model.lora_config`` set.

    Raises:
        ValueError: a bad config, a model that already has adapters, or no target layer.
    """
    config = config if config is not None else LoRAConfig(**kw)
    if lora_layers(model):
        raise ValueError("model already has LoRA layers: merge_lora(model) first")
    for p in model.parameters():
        p.requires_grad_(False)
    hits = [
        (parent, child_name)
        for parent in model.modules()
        for child_name, child in parent.named_children()
        if child_name in config.targets and isinstance(child, (nn.Linear, Conv1D))
    ]
    if not hits:
        raise ValueError(f"no layer named any of {config.targets} in {type(model).__name__}")
    for parent, child_name in hits:
        base = getattr(parent, child_name)
        setattr(parent, child_name, LoRALinear(base, config.r, config.alpha, config.dropout))
    model.lora_config = config
    return model


def merge_lora(model: nn.Module) -> nn.Module:
    """Fold every adapter into its base weight, in place; all parameters trainable again."""
    for name, layer in lora_layers(model).items():
        parent_name, _, child_name = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child_name, layer.merged())
    for p in model.parameters():
        p.requires_grad_(True)
    if hasattr(model, "lora_config"):
        del model.lora_config
    return model


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameters, tied weights counted once."""
    params = {id(p): p for p in model.parameters()}.values()
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def lora_parameter_count(shapes: Sequence[tuple[int, int]], r: int) -> int:
    """LoRA's trainable numbers for layers of the given (in, out) shapes: r·(in + out) each."""
    return sum(r * (n_in + n_out) for n_in, n_out in shapes)


def lora_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """Only the adapter weights (``...c_attn.lora_A``), detached copies: what is saved."""
    return {k: v.detach().clone() for k, v in model.state_dict().items() if ".lora_" in k}


def load_lora_state_dict(model: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    """Copy saved adapter weights into a model that has had :func:`apply_lora`.

    Raises:
        ValueError: a missing or unexpected adapter key, or a shape that does not fit.
    """
    own = lora_state_dict(model)
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or unexpected:
        raise ValueError(
            f"adapter does not fit this model (missing {missing[:2]}, unexpected "
            f"{unexpected[:2]}): apply_lora with the adapter's own config first"
        )
    bad = [k for k in own if own[k].shape != state[k].shape]
    if bad:
        raise ValueError(f"adapter shapes differ at {bad[:2]}: was it trained with another rank?")
    model.load_state_dict(state, strict=False)
    return model


def to_peft_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The adapter under ``peft``'s names for the ported ``GPT2LMHeadModel``:
    ``transformer.h.0.attn.c_attn.lora_A`` → ``base_model.model.transformer.h.0.attn.
    c_attn.lora_A.default.weight`` (load with ``set_peft_model_state_dict`` or
    ``load_state_dict(strict=False)`` on the ``PeftModel``)."""
    out = {}
    for k, v in lora_state_dict(model).items():
        stem, _, which = k.rpartition(".")
        out[f"base_model.model.{stem}.{which}.default.weight"] = v
    return out


def peft_config(config: LoRAConfig):
    """The ``peft.LoraConfig`` equal to ``config`` for a GPT-2 (``fan_in_fan_out=True``:
    GPT-2's Conv1D stores (in, out))."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.r,
        lora_alpha=config.alpha,
        target_modules=list(config.targets),
        lora_dropout=config.dropout,
        fan_in_fan_out=True,
        bias="none",
        task_type="CAUSAL_LM",
    )


# -- adapters as checkpoints ------------------------------------------------------------


def save_adapter(path, model: nn.Module, base: str, meta: dict | None = None):
    """Save only ``model``'s adapter (a few hundred kB) with the name of its base
    checkpoint; :func:`aigc_course.loading.load_pretrained` rebuilds base + adapter.

    Args:
        path: the path stem (``.safetensors`` and ``.json`` are added).
        model: a model with LoRA layers (``apply_lora``).
        base: the committed checkpoint (or path stem) the adapter was trained on; it may
            itself be an adapter, which is merged before this one is applied.
        meta: more sidecar fields (recipe, data, metrics, seed, mode).
    """
    from ..checkpoint import save_checkpoint

    config = getattr(model, "lora_config", None)
    if config is None or not lora_layers(model):
        raise ValueError("model has no LoRA layers: apply_lora(model, ...) before training")
    record = {"family": "lora", "base": str(base), "lora": config.to_dict(), **(meta or {})}
    return save_checkpoint(path, lora_state_dict(model), record)


def build_adapted(state: dict[str, torch.Tensor], meta: dict) -> nn.Module:
    """Loader family ``lora``: the base checkpoint (adapters below it merged), this
    adapter applied on top (unmerged, so it can be inspected, trained or merged)."""
    from ..loading import load_pretrained

    model, base_meta = load_pretrained(meta["base"], "cpu")
    if lora_layers(model):
        merge_lora(model)
    if "tokenizer" in base_meta and "tokenizer" not in meta:
        meta["tokenizer"] = base_meta["tokenizer"].to_dict()
    apply_lora(model, LoRAConfig.from_dict(meta["lora"]))
    return load_lora_state_dict(model, state)
