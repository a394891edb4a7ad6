"""The errors a user can meet, in one torch-free module (the CLI catches them all).

Each carries a one-line message that says what was wrong and how to fix it.
"""

from __future__ import annotations

from .config import ConfigError  # bad settings and arguments; defined beside the modes

__all__ = ["CheckpointError", "CommandError", "ConfigError"]


class CheckpointError(RuntimeError):
    """A checkpoint is missing, torn, incomplete, or does not fit the model asked for."""


class CommandError(RuntimeError):
    """A request the command line cannot serve; the message is shown to the user as is."""
