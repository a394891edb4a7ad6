"""aigc-course: tested reference implementations for a course on generative AI.

The notebooks import this package; everything they teach from scratch is checked
against it, and everything here is tested against independent references.

Importing the package is light (no torch): the names below are imported on first use,
so the command line starts fast.
"""

from __future__ import annotations

from ._lazy import lazy_getattr

__version__ = "0.1.0"

_EXPORTS = {
    "autocast": "device",
    "by_mode": "config",
    "get_device": "device",
    "get_mode": "config",
    "is_offline": "config",
    "load_checkpoint": "checkpoint",
    "load_pretrained": "loading",
    "model_device": "device",
    "pretrained_path": "checkpoint",
    "run_dir": "config",
    "save_checkpoint": "checkpoint",
    "seed_everything": "device",
    "setup": "env",
}

__all__ = ["__version__", *_EXPORTS]


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted(__all__)
