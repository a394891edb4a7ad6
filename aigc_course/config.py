"""Run modes and environment switches, read in one place.

Every budget in the course (epochs, subset sizes, model presets) is chosen with
:func:`by_mode`, so one environment variable moves a notebook between a CI smoke test,
a classroom run and a full reproduction:

``AIGC_MODE``
    ``smoke`` (CI: tiny data, a few steps, every code path), ``workshop`` (default:
    short real training, then the committed pretrained checkpoint), ``full`` (train
    from scratch to the quality targets; how the checkpoints are made).
``AIGC_DEVICE``
    Overrides the device choice (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
``AIGC_OFFLINE``
    ``1`` forbids every network access (no download is even attempted).
``AIGC_DATA_DIR``
    Where downloaded data are cached (default: ``datasets/cache`` in a source
    checkout, else ``~/.cache/aigc-course``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

MODES: tuple[str, ...] = ("smoke", "workshop", "full")
DEFAULT_MODE = "workshop"
T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class ConfigError(ValueError):
    """An environment variable or option has a value the course cannot use."""


def get_mode() -> str:
    """The run mode from ``AIGC_MODE`` (default ``workshop``).

    Raises:
        ConfigError: if the variable holds anything but ``smoke``, ``workshop`` or ``full``.
    """
    raw = os.environ.get("AIGC_MODE", "")
    mode = raw.strip().lower() or DEFAULT_MODE
    if mode not in MODES:
        raise ConfigError(
            f"AIGC_MODE={raw!r} is not a run mode; use one of {', '.join(MODES)} "
            f"(or unset it for {DEFAULT_MODE!r})"
        )
    return mode


def by_mode(*, smoke: T, workshop: T, full: T, mode: str | None = None) -> T:
    """Pick the value for the current run mode.

    Example:
        >>> epochs = by_mode(smoke=1, workshop=3, full=30)

    Args:
        smoke, workshop, full: the value for each mode (all three are required, so a
            notebook states its budget for every mode in one line).
        mode: a mode to use instead of ``AIGC_MODE`` (checked like it).
    """
    if mode is None:
        mode = get_mode()
    elif mode not in MODES:
        raise ConfigError(f"mode={mode!r} is not a run mode; use one of {', '.join(MODES)}")
    return {"smoke": smoke, "workshop": workshop, "full": full}[mode]


def _flag(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a yes/no value; use 1 or 0")


def is_offline() -> bool:
    """True when ``AIGC_OFFLINE`` forbids network access (``1``/``true``/``yes``/``on``)."""
    return _flag("AIGC_OFFLINE")


def hub_skip_reason(model: str) -> str | None:
    """Why an opt-in cell that downloads ``model`` from the Hugging Face hub must skip, or
    None when it may run: only with ``AIGC_HUB=1`` set and ``AIGC_OFFLINE`` unset, so a
    classroom offline (and CI) never touches the network."""
    if not _flag("AIGC_HUB"):
        return f"skipped: set AIGC_HUB=1 to download {model} from the Hugging Face hub"
    if is_offline():
        return "skipped: AIGC_OFFLINE=1 forbids network access"
    return None


def repo_root() -> Path | None:
    """The source checkout this package runs from, or None for an installed package."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "datasets").is_dir() else None


def data_dir() -> Path:
    """The data cache: ``AIGC_DATA_DIR``, else ``datasets/cache`` in a checkout, else
    ``~/.cache/aigc-course``. Created on first use."""
    env = os.environ.get("AIGC_DATA_DIR", "").strip()
    if env:
        path = Path(env).expanduser()
    elif (root := repo_root()) is not None:
        path = root / "datasets" / "cache"
    else:
        path = Path.home() / ".cache" / "aigc-course"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pretrained_dir() -> Path:
    """Where the committed pretrained checkpoints live (inside the package)."""
    return Path(__file__).resolve().parent / "pretrained"


def run_dir(name: str | None = None) -> Path:
    """Where notebooks and commands write what they make (checkpoints of live runs,
    samples): ``AIGC_RUN_DIR``, else ``runs/`` in a checkout (git-ignored), else
    ``~/.cache/aigc-course/runs``. Only recipes write :func:`pretrained_dir`.

    Args:
        name: a sub-folder for one run (created too), e.g. ``run_dir("02_dcgan")``.
    """
    env = os.environ.get("AIGC_RUN_DIR", "").strip()
    if env:
        path = Path(env).expanduser()
    elif (root := repo_root()) is not None:
        path = root / "runs"
    else:
        path = Path.home() / ".cache" / "aigc-course" / "runs"
    if name is not None:
        path = path / name
    path.mkdir(parents=True, exist_ok=True)
    return path
