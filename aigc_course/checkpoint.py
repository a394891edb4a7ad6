"""Checkpoints: ``safetensors`` weights plus a JSON sidecar, written atomically.

A checkpoint ``NAME`` is two files, ``NAME.safetensors`` (tensors only: never pickle,
so loading one cannot run code) and ``NAME.json`` (what made it: config, data source,
mode, seed, metrics, package and torch versions, and the sha256 of the weights file).
Both are written to temporary files and renamed into place, the weights first. An
interrupted save leaves either the old pair, or new weights beside the old sidecar,
whose recorded hash then no longer matches: :func:`load_checkpoint` verifies the hash, so
a torn or hand-edited pair is an error that names the file, never silently wrong weights.

The committed pretrained checkpoints live in ``aigc_course/pretrained/`` and are read by
:func:`aigc_course.loading.load_pretrained`; only the recipes write there.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ._io import atomic_write
from .config import pretrained_dir
from .errors import CheckpointError

__all__ = ["CheckpointError", "load_checkpoint", "save_checkpoint"]

SIDECAR_VERSION = 2  # 2: the sidecar records weights_sha256, verified on load


def _paths(path: str | Path) -> tuple[Path, Path]:
    """(weights, sidecar) for ``path`` given with or without a suffix."""
    p = Path(path)
    if p.suffix in {".safetensors", ".json"}:
        p = p.with_suffix("")
    return p.with_name(p.name + ".safetensors"), p.with_name(p.name + ".json")


def save_record(path: str | Path, record: Mapping[str, Any]) -> Path:
    """Write a JSON-only record (family ``record``, no weights: a benchmark table, a
    recipe's measurements) atomically; :func:`aigc_course.loading.load_pretrained`
    returns it as ``(None, meta)``.

    Args:
        path: the path stem (``.json`` is added) or the ``.json`` path itself.
        record: JSON-able fields (tensors, paths and tuples are converted).

    Returns:
        The ``.json`` path.
    """
    _, sidecar = _paths(path)
    text = json.dumps(_jsonable({"family": "record", **record}), indent=2, sort_keys=True)
    atomic_write(sidecar, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
    return sidecar


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    digest: dict[str, str] = {}

    def write_weights(tmp: str) -> None:
        save_file(tensors, tmp)
        digest["sha256"] = file_sha256(tmp)

    atomic_write(weights, write_weights)
    record["weights_sha256"] = digest["sha256"]
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    atomic_write(sidecar, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return weights


def load_checkpoint(
    path: str | Path, device: torch.device | str = "cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load ``(state_dict, meta)``, after checking the weights against the sidecar's hash.

    Args:
        path: the path stem (or either file's path).
        device: where to put the tensors (a model's loader passes the model's device).

    Raises:
        CheckpointError: either file is missing or unreadable, or the weights are not the
            ones the sidecar describes (a torn save, a hand edit, a git conflict); the
            message names the file and the remedy.
    """
    weights, sidecar = _paths(path)
    for p in (weights, sidecar):
        if not p.is_file():
            raise CheckpointError(
                f"checkpoint file {p} is missing; remake it with its recipe "
                "(`aigc-course recipes --list`) or restore it from git"
            )
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{sidecar} is not valid JSON ({err}); restore it from git") from err
    expected = meta.get("weights_sha256")
    if expected is None:
        raise CheckpointError(
            f"{sidecar} records no weights_sha256 (sidecar_version "
            f"{meta.get('sidecar_version')}, need {SIDECAR_VERSION}); remake the checkpoint "
            "with its recipe"
        )
    actual = file_sha256(weights)
    if actual != expected:
        raise CheckpointError(
            f"{weights} does not match its sidecar (sha256 {actual[:12]}…, sidecar says "
            f"{expected[:12]}…): an interrupted save or an edited file; restore both files "
            "from git or remake them with the recipe"
        )
    try:
        state = load_file(str(weights), device=str(device))
    except Exception as err:  # safetensors raises its own error types
        raise CheckpointError(f"{weights} cannot be read ({err}); restore it from git") from err
    return state, meta


def checkpoint_exists(path: str | Path) -> bool:
    """True if both files of the checkpoint are present."""
    return all(p.is_file() for p in _paths(path))
