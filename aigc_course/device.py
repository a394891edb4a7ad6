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


def bf16_is_native(device: torch.device) -> bool:
    """True on CUDA GPUs with bf16 tensor cores (compute capability 8.0+: A100, RTX 30xx,
    H100…). ``torch.cuda.is_bf16_supported()`` also counts emulation, which makes bf16
    slow on a T4 or V100; those get fp16 with a gradient scaler instead."""
    if device.type != "cuda" or not torch.cuda.is_available():
        return False
    return torch.cuda.get_device_capability(device) >= (8, 0)


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype the course uses on ``device``, or None for plain fp32.

    The one precision policy: bf16 on CUDA GPUs that have it natively (no gradient
    scaler needed: bf16 has fp32's exponent range), fp16 on older CUDA GPUs (the loop
    must then scale the loss, see :class:`Precision`), and nothing on CPU or MPS: fp32
    is the honest default there.
    """
    if device.type == "cuda":
        return torch.bfloat16 if bf16_is_native(device) else torch.float16
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


def model_device(model: torch.nn.Module) -> torch.device:
    """The device a model lives on (its first parameter's, else its first buffer's, else
    the CPU). Helpers that take a model compute there: the device follows the model."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


class Precision:
    """The precision policy of one training run on ``device``: autocast for the forward
    pass and, where autocast is fp16, a gradient scaler for the backward pass.

    Every training loop of the course steps its optimizers through :meth:`step`, so the
    scaler exists in every loop, not only in one.

    Example:
        >>> precision = Precision(model_device(model))
        >>> with precision.autocast():
        ...     loss = model(x).loss
        >>> precision.step(loss, optimizer, grad_clip=1.0)
    """

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.dtype = amp_dtype(self.device)
        self.scaler = torch.amp.GradScaler("cuda") if self.dtype == torch.float16 else None

    def autocast(self) -> contextlib.AbstractContextManager[None]:
        """The forward-pass context (a no-op in fp32)."""
        return autocast(self.device)

    def step(
        self,
        loss: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        *,
        grad_clip: float | None = None,
    ) -> None:
        """Zero the optimizer's gradients, back-propagate ``loss`` (scaled in fp16),
        clip the gradient norm of the optimizer's parameters (unscaled first) and step."""
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            if grad_clip:
                torch.nn.utils.clip_grad_norm_(_params(optimizer), grad_clip)
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        if grad_clip:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(_params(optimizer), grad_clip)
        self.scaler.step(optimizer)
        self.scaler.update()

    def __repr__(self) -> str:
        return f"Precision({describe_precision(self.device)} on {self.device})"


def _params(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


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
