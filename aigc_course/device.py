"""Device choice, mixed precision and seeding.

Nothing here runs at import: the device is chosen when a notebook or a training loop
asks for it, and passed explicitly from there on.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import numpy as np
import torch

from .config import ConfigError


def get_device(override: str | None = None) -> torch.device:
    """The device to compute on: ``override``, else ``AIGC_DEVICE``, else cuda → mps → cpu.

    Raises:
        ConfigError: if the requested device is malformed or not available here.
    """
    name = (override or os.environ.get("AIGC_DEVICE", "")).strip().lower()
    if not name:
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise ConfigError(
            f"AIGC_DEVICE={name!r} is not a device name; use cpu, cuda, cuda:N or mps"
        ) from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} was requested but CUDA is not available here")
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"device {name!r} was requested but only {torch.cuda.device_count()} "
                "CUDA device(s) exist"
            )
    if device.type == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ConfigError(f"device {name!r} was requested but MPS is not available here")
    if device.type not in {"cpu", "cuda", "mps"}:
        raise ConfigError(f"device {name!r} is not supported; use cpu, cuda, cuda:N or mps")
    return device


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype the course uses on ``device``, or None for plain fp32.

    bf16 on CUDA where supported (no GradScaler needed), fp16 on older CUDA GPUs (then
    the training loop must use a GradScaler, see :func:`needs_grad_scaler`), and
    nothing on CPU or MPS: fp32 is the honest default there.
    """
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return None


def needs_grad_scaler(device: torch.device) -> bool:
    """True only where autocast runs in fp16 (bf16 has fp32's exponent range)."""
    return amp_dtype(device) == torch.float16


@contextlib.contextmanager
def autocast(device: torch.device, enabled: bool = True) -> Iterator[None]:
    """Mixed precision for the forward pass on ``device`` (a no-op where it does not help).

    Example:
        >>> with autocast(device):
        ...     logits, loss = model(x, y)
    """
    dtype = amp_dtype(device)
    if not enabled or dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices). Returns None, so a notebook cell that
    ends with it prints nothing (``torch.manual_seed`` returns a Generator whose repr
    holds a memory address)."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds legacy global-state users too
    torch.manual_seed(seed)


def describe_precision(device: torch.device) -> str:
    """A short human description, e.g. ``float32`` or ``float32 weights, bfloat16 autocast``."""
    dtype = amp_dtype(device)
    if dtype is None:
        return "float32"
    return f"float32 weights, {str(dtype).removeprefix('torch.')} autocast"
