"""Plug-in discovery: the modules of a package each contribute named entries."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from types import ModuleType


def package_modules(package: str, path: Iterable[str]) -> Iterator[ModuleType]:
    """Import and yield the public modules of ``package`` (``path`` is its ``__path__``),
    in name order, so discovery is deterministic."""
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{package}.{info.name}")


def add_unique(found: dict, name: str, value: object, what: str) -> None:
    """``found[name] = value``, refusing a name two modules both define."""
    if name in found:
        raise RuntimeError(f"{what} {name!r} is defined twice")
    found[name] = value
