"""Recorded recipes that make the committed pretrained checkpoints.

Each chapter adds one module here that defines ``RECIPES: dict[str, Callable[[], Path]]``:
checkpoint name → a function that trains from scratch in ``full`` mode and writes
``aigc_course/pretrained/<name>.safetensors`` and its JSON sidecar (recording the
command that made it). ``make checkpoints`` runs them all::

    python -m aigc_course.recipes --list
    python -m aigc_course.recipes vae_mnist
    python -m aigc_course.recipes --all
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

Recipe = Callable[[], Path]


def discover() -> dict[str, Recipe]:
    """Every recipe, by checkpoint name, from the modules of this package."""
    found: dict[str, Recipe] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, fn in getattr(module, "RECIPES", {}).items():
            if name in found:
                raise RuntimeError(f"recipe {name!r} is defined twice")
            found[name] = fn
    return found
