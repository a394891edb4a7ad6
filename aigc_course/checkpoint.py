"""Checkpoints: ``safetensors`` weights plus a JSON sidecar, written atomically.

A checkpoint ``NAME`` is two files, ``NAME.safetensors`` (tensors only: never pickle,
so loading one cannot run code) and ``NAME.json`` (what made it: config, data source,
mode, seed, metrics, package and torch versions). Both are written to temporary files
and renamed into place, the weights first, so an interrupted save never leaves a pair
that looks complete.

The committed pretrained checkpoints live in ``aigc_course/pretrained/``;
:func:`load_or_train` is the pattern notebooks use: load the checkpoint if it is there
and matches the asked-for config, else train and save.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ._io import atomic_write
from .config import pretrained_dir

SIDECAR_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete, or does not fit the model asked for."""


def _paths(path: str | Path) -> tuple[Path, Path]:
    """(weights, sidecar) for ``path`` given with or without a suffix."""
    p = Path(path)
    if p.suffix in {".safetensors", ".json"}:
        p = p.with_suffix("")
    return p.with_name(p.name + ".safetensors"), p.with_name(p.name + ".json")


def pretrained_path(name: str) -> Path:
    """The path stem of a committed checkpoint, e.g. ``pretrained_path("vae_mnist")``."""
    return pretrained_dir() / name


def _jsonable(value: Any) -> Any:
    """Turn tensors, paths and tuples into JSON; refuse anything else unknown."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"checkpoint metadata value {value!r} ({type(value).__name__}) is not JSON")


def save_checkpoint(
    path: str | Path,
    state_dict: Mapping[str, torch.Tensor],
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Save weights and metadata atomically.

    Args:
        path: the path stem (``.safetensors`` and ``.json`` are added).
        state_dict: tensors to save (moved to CPU and made contiguous; shared storage
            such as tied weights is cloned, as safetensors requires).
        meta: JSON-able metadata. Recommended keys: ``config``, ``data_source``,
            ``mode``, ``seed``, ``metrics``, ``recipe`` (the command that made it).

    Returns:
        The ``.safetensors`` path.
    """
    from . import __version__

    weights, sidecar = _paths(path)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    record = {
        "format": "aigc-course checkpoint",
        "sidecar_version": SIDECAR_VERSION,
        "package_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **_jsonable(dict(meta or {})),
    }
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    atomic_write(weights, lambda tmp: save_file(tensors, tmp))
    atomic_write(sidecar, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return weights


def load_checkpoint(
    path: str | Path, device: torch.device | str = "cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load ``(state_dict, meta)``.

    Raises:
        CheckpointError: either file is missing or unreadable (the message names it).
    """
    weights, sidecar = _paths(path)
    for p in (weights, sidecar):
        if not p.is_file():
            raise CheckpointError(
                f"checkpoint file {p} is missing; train it with the recipe in the notebook "
                "or `make checkpoints`"
            )
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{sidecar} is not valid JSON ({err}); restore it from git") from err
    try:
        state = load_file(str(weights), device=str(device))
    except Exception as err:  # safetensors raises its own error types
        raise CheckpointError(f"{weights} cannot be read ({err}); restore it from git") from err
    return state, meta


def checkpoint_exists(path: str | Path) -> bool:
    """True if both files of the checkpoint are present."""
    return all(p.is_file() for p in _paths(path))


@dataclass
class LoadOrTrain:
    """What :func:`load_or_train` did."""

    model: torch.nn.Module
    meta: dict[str, Any]
    loaded: bool  # True: weights came from the checkpoint; False: trained just now

    @property
    def status(self) -> str:
        verb = "loaded" if self.loaded else "trained"
        src = self.meta.get("data_source", "?")
        return f"{verb} ({self.meta.get('mode', '?')} mode, data: {src})"


def load_or_train(
    path: str | Path,
    model: torch.nn.Module,
    train: Callable[[torch.nn.Module], Mapping[str, Any]],
    *,
    config: Mapping[str, Any] | None = None,
    retrain: bool = False,
    save: bool = True,
    device: torch.device | str = "cpu",
) -> LoadOrTrain:
    """Load the checkpoint at ``path`` into ``model`` if present, else train and save.

    Args:
        path: checkpoint path stem.
        model: a freshly built model whose architecture matches the checkpoint.
        train: called as ``train(model)`` when there is nothing to load; trains in place
            and returns the metadata to save (``metrics``, ``data_source``, ``seed``…).
        config: the model config; a checkpoint made with another config is an error,
            not a silent mismatch.
        retrain: train even if a checkpoint exists (``full`` mode does this).
        save: write the checkpoint after training.
        device: where to load the weights.

    Raises:
        CheckpointError: the checkpoint's config differs from ``config``, or its tensors
            do not fit ``model``.
    """
    cfg = _jsonable(dict(config)) if config is not None else None
    if checkpoint_exists(path) and not retrain:
        state, meta = load_checkpoint(path, device=device)
        if cfg is not None and meta.get("config") != cfg:
            raise CheckpointError(
                f"{_paths(path)[0]} was made with config {meta.get('config')}, not {cfg}; "
                "build the model with the checkpoint's config or pass retrain=True"
            )
        try:
            model.load_state_dict(state)
        except RuntimeError as err:
            raise CheckpointError(f"{_paths(path)[0]} does not fit this model: {err}") from err
        return LoadOrTrain(model, meta, loaded=True)
    meta = dict(train(model))
    if cfg is not None:
        meta["config"] = cfg
    if save:
        save_checkpoint(path, model.state_dict(), meta)
    return LoadOrTrain(model, _jsonable(meta), loaded=False)
