"""Model commands for ``aigc-course sample`` and ``aigc-course evaluate``.

Each chapter adds one module here (``vae.py``, ``text.py``, …) that defines
``COMMANDS: list[ModelCommand]`` and names it in :data:`MODULES` (an explicit list: no
import-time discovery). Keep these modules light at import: import torch and the models
inside the handlers, so ``aigc-course --help`` stays fast (a test checks that importing
the command line imports no torch). Models are loaded with
:func:`aigc_course.loading.load_pretrained`.

Example (``aigc_course/commands/vae.py``)::

    def _sample_args(p):
        p.add_argument("--n", type=int, default=64)

    def _sample(args) -> None:
        from ..models.vae import ...
        ...

    COMMANDS = [ModelCommand("vae", "VAE on MNIST", add_sample_args=_sample_args, sample=_sample)]

A handler raises :class:`CommandError` (or ``ConfigError``, ``DataError``,
``CheckpointError``) for a bad request; the CLI prints its message on one line and
exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import CommandError

Handler = Callable[[argparse.Namespace], int | None]
AddArgs = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class ModelCommand:
    """One model's ``sample`` and/or ``evaluate`` sub-commands."""

    name: str
    help: str
    add_sample_args: AddArgs | None = None
    sample: Handler | None = None
    add_evaluate_args: AddArgs | None = None
    evaluate: Handler | None = None


#: The modules that contribute model commands, in the order ``aigc-course list`` shows them.
MODULES = ("gan", "vae", "diffusion", "text", "music")


def image_output(path: str) -> Path:
    """The ``--out`` of an image ``sample`` command: a ``.npz`` or ``.png`` path."""
    out = Path(path)
    if out.suffix.lower() not in (".npz", ".png"):
        raise CommandError(f"--out must end in .npz or .png, got {out.name!r}")
    return out


def save_samples(out: Path, images, labels=None) -> None:
    """Write image samples (N, 1, 28, 28) in [0, 1] to ``out``: a ``.npz`` with ``images``
    (float32) and, when given, ``labels`` (int64, the requested digits), or a ``.png``
    grid of 16 a row. The folder is created if needed."""
    import numpy as np

    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npz":
        arrays = {"images": images.numpy().astype(np.float32)}
        if labels is not None:
            arrays["labels"] = labels.numpy().astype(np.int64)
        np.savez_compressed(out, **arrays)
    else:
        from ..plot import save_image_grid

        save_image_grid(images, out, nrow=min(16, len(images)))


def discover() -> dict[str, ModelCommand]:
    """All model commands, by name, from :data:`MODULES`."""
    found: dict[str, ModelCommand] = {}
    for module_name in MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        for cmd in module.COMMANDS:
            if cmd.name in found:
                raise RuntimeError(f"model command {cmd.name!r} is defined twice")
            found[cmd.name] = cmd
    return found


__all__ = ["MODULES", "CommandError", "ModelCommand", "discover", "image_output", "save_samples"]
