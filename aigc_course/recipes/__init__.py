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

from collections.abc import Callable
from pathlib import Path

from .._registry import add_unique, package_modules

Recipe = Callable[[], Path]


def discover() -> dict[str, Recipe]:
    """Every recipe, by checkpoint name, from the modules of this package."""
    found: dict[str, Recipe] = {}
    for module in package_modules(__name__, __path__):
        for name, fn in getattr(module, "RECIPES", {}).items():
            add_unique(found, name, fn, "recipe")
    return found
