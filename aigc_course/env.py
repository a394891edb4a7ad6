"""The setup cell of every notebook: mode, device, versions, data, expected runtime.

Example (first code cell of a notebook):
    >>> from aigc_course import setup
    >>> session = setup("02_dcgan_mnist", data=["mnist"],
    ...                 runtime={"smoke": "40 s", "workshop": "3 min", "full": "10 min"})
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch

from .config import MODES, get_mode, is_offline
from .device import describe_precision, get_device, seed_everything

PACKAGES = (
    "torch",
    "torchvision",
    "transformers",
    "tokenizers",
    "safetensors",
    "mlxtend",
    "diffusers",
    "peft",
    "trl",
    "ipywidgets",
    "matplotlib",
    "jieba",
    "music21",
)


@dataclass(frozen=True)
class Session:
    """What the setup cell decided; notebooks read budgets and the device from it."""

    notebook: str
    mode: str
    device: torch.device
    precision: str
    seed: int
    offline: bool
    data_sources: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def package_versions() -> dict[str, str | None]:
    """Installed version of each package the course uses (None if missing)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def check_environment() -> list[str]:
    """Problems a learner should fix, each with its remedy (empty list: all fine)."""
    problems = []
    for name, version in package_versions().items():
        if version is None:
            problems.append(f"package {name} is missing: run `make lab` (or pip install -e .)")
            continue
        try:
            importlib.import_module(name)
        except Exception as err:  # a broken install (e.g. torchvision built for another torch)
            problems.append(f"package {name} {version} is installed but fails to import: {err}")
    return problems


def describe_data(names: Sequence[str], try_download: bool = True) -> dict[str, str]:
    """Which source each requested dataset (``mnist``, a corpus name) will come from.

    With ``try_download=False`` nothing is fetched: MNIST is described from the cache.
    """
    from .data.mnist import SOURCE_NOTES, resolve_source
    from .data.text import load_corpus

    out = {}
    for name in names:
        if name == "mnist":
            src = resolve_source("auto", try_download=try_download)
            out["mnist"] = f"{src} ({SOURCE_NOTES[src]})"
            if src != "mnist" and not try_download:
                out["mnist"] += "; `aigc-course prefetch` fetches the full MNIST"
        elif name == "chorales":
            from .data.chorales import describe_corpus

            out[name] = describe_corpus()
        else:
            out[name] = load_corpus(name).summary
    return out


def banner(session: Session, runtime: Mapping[str, str] | None = None) -> str:
    """The banner text for ``session``."""
    versions = package_versions()
    shown = ", ".join(f"{k} {v}" for k, v in versions.items() if v and k in PACKAGES[:4])
    lines = [
        f"aigc-course · {session.notebook}",
        f"  mode      {session.mode}  (AIGC_MODE; one of {', '.join(MODES)})",
        f"  device    {session.device}  ·  precision {session.precision}",
        f"  versions  python {platform.python_version()}, {shown}",
        f"  network   {'off (AIGC_OFFLINE=1)' if session.offline else 'allowed'}",
    ]
    for name, desc in session.data_sources.items():
        lines.append(f"  data      {name}: {desc}")
    if runtime and session.mode in runtime:
        lines.append(f"  expected  {runtime[session.mode]} in {session.mode} mode on a 2-core CPU")
    for p in session.problems:
        lines.append(f"  PROBLEM   {p}")
    return "\n".join(lines)


def setup(
    notebook: str,
    *,
    data: Sequence[str] = (),
    runtime: Mapping[str, str] | None = None,
    seed: int = 0,
    device: str | None = None,
    verbose: bool = True,
    try_download: bool = True,
) -> Session:
    """Read the mode and device, seed everything, check the environment, print the banner.

    Args:
        notebook: the notebook's name, shown in the banner.
        data: datasets the notebook uses (``"mnist"``, ``"pydoc"``, …): their sources are
            resolved and shown.
        runtime: expected runtime per mode, e.g. ``{"smoke": "20 s", "workshop": "2 min",
            "full": "10 min"}``.
        seed: the global seed.
        device: overrides ``AIGC_DEVICE``.
        verbose: print the banner.
        try_download: let the data description fetch MNIST when online (the notebooks);
            ``aigc-course info`` passes False and never downloads.
    """
    session = Session(
        notebook=notebook,
        mode=get_mode(),
        device=(dev := get_device(device)),
        precision=describe_precision(dev),
        seed=seed,
        offline=is_offline(),
        data_sources=describe_data(data, try_download=try_download),
        problems=tuple(check_environment()),
    )
    seed_everything(seed)
    if verbose:
        print(banner(session, runtime))
    return session
