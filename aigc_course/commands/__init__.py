"""Model commands for ``aigc-course sample`` and ``aigc-course evaluate``.

Each chapter adds one module here (``vae.py``, ``text.py``, …) that defines
``COMMANDS: list[ModelCommand]``; the CLI discovers them, so adding a model touches no
other file. Keep these modules light at import: import torch models inside the
functions, so ``aigc-course --help`` stays fast.

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
from collections.abc import Callable
from dataclasses import dataclass

from .._registry import add_unique, package_modules

Handler = Callable[[argparse.Namespace], int | None]
AddArgs = Callable[[argparse.ArgumentParser], None]


class CommandError(RuntimeError):
    """A request the command cannot serve; the message is shown to the user as is."""


@dataclass(frozen=True)
class ModelCommand:
    """One model's ``sample`` and/or ``evaluate`` sub-commands."""

    name: str
    help: str
    add_sample_args: AddArgs | None = None
    sample: Handler | None = None
    add_evaluate_args: AddArgs | None = None
    evaluate: Handler | None = None


def discover() -> dict[str, ModelCommand]:
    """All model commands, by name, from the modules of this package."""
    found: dict[str, ModelCommand] = {}
    for module in package_modules(__name__, __path__):
        for cmd in getattr(module, "COMMANDS", []):
            add_unique(found, cmd.name, cmd, "model command")
    return found
