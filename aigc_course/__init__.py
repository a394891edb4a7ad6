"""aigc-course: tested reference implementations for a course on generative AI.

The notebooks import this package; everything they teach from scratch is checked
against it, and everything here is tested against independent references.
"""

__version__ = "0.1.0"

from .checkpoint import load_checkpoint, load_or_train, pretrained_path, save_checkpoint
from .config import by_mode, get_mode, is_offline
from .device import autocast, get_device, seed_everything
from .env import setup

__all__ = [
    "__version__",
    "autocast",
    "by_mode",
    "get_device",
    "get_mode",
    "is_offline",
    "load_checkpoint",
    "load_or_train",
    "pretrained_path",
    "save_checkpoint",
    "seed_everything",
    "setup",
]
