"""One way to load every committed checkpoint: ``load_pretrained(name, device=None)``.

A checkpoint's JSON sidecar records its ``family`` and ``config``, so the name alone is
enough to build the right class and fill it (the idea of diffusers' ``from_pretrained``)::

    G, meta = load_pretrained("dcgan_mnist")            # a DCGenerator, in eval mode
    lm, meta = load_pretrained("char_lstm", device)     # meta["tokenizer"] rebuilt too
    curves, meta = load_pretrained("dcgan_mnist_history")  # a record: its tensors

The families are listed in :data:`FAMILIES`, in this one file; a new model family adds one
line there and one builder here. Every load verifies the weights against the hash in the
sidecar (:func:`aigc_course.checkpoint.load_checkpoint`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .checkpoint import CheckpointError, load_checkpoint, pretrained_path
from .config import pretrained_dir

Builder = Callable[[dict[str, torch.Tensor], dict[str, Any]], Any]


def _config(meta: dict[str, Any], cls: type) -> Any:
    from_dict = getattr(cls, "from_dict", None)
    return from_dict(meta["config"]) if from_dict is not None else cls(**meta["config"])


def _fill(model: torch.nn.Module, state: dict[str, torch.Tensor], name: str) -> torch.nn.Module:
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise CheckpointError(
            f"checkpoint {name!r} does not fit {type(model).__name__} built from its own "
            f"config: {str(err).splitlines()[0]}; remake it with its recipe"
        ) from err
    return model


def _build_gpt(state: dict, meta: dict) -> torch.nn.Module:
    from .models.transformer_lm import GPT, GPTConfig

    state.setdefault("lm_head.weight", state["transformer.wte.weight"])  # tied, saved once
    return _fill(GPT(_config(meta, GPTConfig)), state, meta["name"])


def _build_lstm(state: dict, meta: dict) -> torch.nn.Module:
    from .models.rnn_lm import CharLSTM, LSTMConfig

    return _fill(CharLSTM(_config(meta, LSTMConfig)), state, meta["name"])


def _build_dcgan_generator(state: dict, meta: dict) -> torch.nn.Module:
    from .models.gan import DCGANConfig, DCGenerator

    return _fill(DCGenerator(_config(meta, DCGANConfig)), state, meta["name"])


def _build_mnist_classifier(state: dict, meta: dict) -> torch.nn.Module:
    from .models.classifier import ClassifierConfig, MNISTClassifier

    return _fill(MNISTClassifier(_config(meta, ClassifierConfig)), state, meta["name"])


def _build_vae(state: dict, meta: dict) -> torch.nn.Module:
    from .models.vae import VAE, VAEConfig

    return _fill(VAE(_config(meta, VAEConfig)), state, meta["name"])


def _build_bernoulli_mixture(state: dict, meta: dict) -> torch.nn.Module:
    from .models.bernoulli_mixture import BernoulliMixture, MixtureConfig

    return _fill(BernoulliMixture(_config(meta, MixtureConfig)), state, meta["name"])


def _build_unet(state: dict, meta: dict) -> torch.nn.Module:
    from .models.unet import UNet, UNetConfig

    return _fill(UNet(_config(meta, UNetConfig)), state, meta["name"])


def _build_lora(state: dict, meta: dict) -> torch.nn.Module:
    from .adapt.lora import build_adapted

    try:
        return build_adapted(state, meta)
    except ValueError as err:
        raise CheckpointError(
            f"adapter {meta['name']!r}: {err}; remake it with its recipe"
        ) from err


def _record(state: dict, meta: dict) -> dict[str, torch.Tensor]:
    return state


#: family (recorded in each sidecar) → how to build it from (state, meta).
#: ``record`` is a checkpoint of plain tensors (curves, samples) rather than a model.
FAMILIES: dict[str, Builder] = {
    "transformer": _build_gpt,
    "lstm": _build_lstm,
    "dcgan_generator": _build_dcgan_generator,
    "mnist_classifier": _build_mnist_classifier,
    "vae": _build_vae,
    "bernoulli_mixture": _build_bernoulli_mixture,
    "unet": _build_unet,
    "lora": _build_lora,  # an adapter: its base checkpoint is named in the sidecar
    "record": _record,
}


def available() -> list[str]:
    """The names of the committed checkpoints and records."""
    return sorted(
        p.stem for p in pretrained_dir().glob("*.json") if not p.stem.endswith(".tokenizer")
    )


def load_pretrained(
    name: str | Path, device: torch.device | str | None = None
) -> tuple[Any, dict[str, Any]]:
    """Load a committed checkpoint by name (or any checkpoint by path) from its sidecar.

    Args:
        name: a committed checkpoint's name (``aigc-course recipes --list`` shows what makes
            each) or the path stem of a checkpoint saved with a ``family`` in its meta.
        device: where to put it; None: :func:`aigc_course.device.get_device` (``AIGC_DEVICE``,
            else CUDA, MPS, CPU).

    Returns:
        ``(model, meta)``: the model in eval mode on ``device`` (fp32, whatever dtype it was
        stored in), or for a ``record`` the dict of its tensors; ``meta`` is the sidecar,
        plus ``meta["tokenizer"]`` for a language model saved with one. A JSON-only record
        (no weights file) returns ``(None, meta)``.

    Raises:
        CheckpointError: unknown name, missing or torn files, an unknown family, or weights
            that do not fit the recorded config; the message names the remedy.
    """
    from .device import get_device

    device = get_device() if device is None else torch.device(device)
    path = Path(name) if isinstance(name, Path) or "/" in str(name) else pretrained_path(name)
    label = str(name)
    weights, sidecar = (
        path.with_name(path.name + ".safetensors"),
        path.with_name(path.name + ".json"),
    )
    if not sidecar.is_file():
        known = ", ".join(available())
        raise CheckpointError(f"no checkpoint named {label!r}; committed ones: {known}")
    if not weights.is_file():  # a JSON-only record, e.g. a benchmark table
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if meta.get("family", "record") != "record":
            raise CheckpointError(f"{weights} is missing; remake {label!r} with its recipe")
        return None, meta
    state, meta = load_checkpoint(path, device="cpu")
    family = meta.get("family")
    if family not in FAMILIES:
        raise CheckpointError(
            f"{sidecar} records family {family!r}; known families: {', '.join(FAMILIES)}"
        )
    meta["name"] = label
    if family == "record":
        return {k: v.to(device) for k, v in state.items()}, meta
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    model = FAMILIES[family](state, meta).to(device).eval()
    tok_file = path.with_name(path.name + ".tokenizer.json")
    if "tokenizer" in meta or tok_file.is_file():
        meta["tokenizer"] = _tokenizer(meta, tok_file)
    return model, meta


def _tokenizer(meta: dict[str, Any], tok_file: Path) -> Any:
    from .tokenizer import CharTokenizer

    spec = meta.get("tokenizer")
    if not isinstance(spec, dict):
        spec = json.loads(tok_file.read_text(encoding="utf-8"))
    return CharTokenizer.from_dict(spec)
