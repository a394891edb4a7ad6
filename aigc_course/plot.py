"""Plot helpers: tensors in, axes out. Library code never calls ``plt.show()``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes


def image_grid(
    images: torch.Tensor, nrow: int = 8, padding: int = 2, pad_value: float = 1.0
) -> np.ndarray:
    """Tile images into one array with torchvision's ``make_grid``.

    Args:
        images: (N, C, H, W) or (N, H, W) with C in {1, 3}, values in [0, 1].
        nrow: images per row.
        padding: pixels between images.
        pad_value: colour of the padding, in [0, 1].

    Returns:
        (rows·(H+p)+p, ncol·(W+p)+p) for one channel, else the same with a last axis of 3;
        a float numpy array in [0, 1].
    """
    from torchvision.utils import make_grid

    x = torch.as_tensor(images).detach().float().cpu()
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"images must be (N, C, H, W) with C in (1, 3), got {tuple(x.shape)}")
    if len(x) == 0:
        raise ValueError("images is empty")
    c = x.shape[1]
    grid = make_grid(x, nrow=min(nrow, len(x)), padding=padding, pad_value=pad_value)
    out = grid.clamp(0, 1).numpy()  # torchvision repeats one channel to three
    return out[0] if c == 1 else np.transpose(out, (1, 2, 0))


def save_image_grid(images: torch.Tensor, path: str | Path, nrow: int = 8) -> Path:
    """Write images as one PNG grid (ink dark on white for one channel), atomically.

    The command line's one PNG writer.

    Args:
        images: (N, 1|3, H, W) or (N, H, W) in [0, 1].
        path: a ``.png`` file.
        nrow: images per row.
    """
    from ._io import atomic_write

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path} must end in .png")
    grid = image_grid(images, nrow=nrow, pad_value=0.0)
    if grid.ndim == 2:
        grid = 1.0 - grid  # gray_r: ink dark on white
    atomic_write(path, lambda tmp: plt.imsave(tmp, grid, cmap="gray", vmin=0, vmax=1, format="png"))
    return path


def show_images(
    images: torch.Tensor,
    nrow: int = 8,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "gray_r",
) -> Axes:
    """Draw an image grid on ``ax`` (a new figure if None) and return the axes.

    Args:
        images: (N, 1|3, H, W) or (N, H, W) in [0, 1]. Rescale [-1, 1] images first
            (``(x + 1) / 2``).
        nrow: images per row.
        ax: where to draw.
        title: optional title.
        cmap: colour map for one-channel images (``gray_r``: ink dark on white).
    """
    grid = image_grid(images, nrow=nrow, pad_value=0.0 if cmap == "gray_r" else 1.0)
    if ax is None:
        rows = grid.shape[0] / grid.shape[1]
        _, ax = plt.subplots(figsize=(6, max(1.0, 6 * rows)))
    ax.imshow(grid, cmap=cmap if grid.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def plot_curves(
    curves: Mapping[str, Sequence[float] | torch.Tensor],
    ax: Axes | None = None,
    *,
    xlabel: str = "step",
    ylabel: str = "value",
    title: str | None = None,
    smooth: int = 1,
    logy: bool = False,
    x: Mapping[str, Sequence[float]] | None = None,
) -> Axes:
    """Plot named training curves on one axes and return it.

    Args:
        curves: name → values (one per step). Empty curves are skipped.
        x: name → the x value of every step (for example the training clock); default
            the step index.
        smooth: moving-average window (1 = raw); the raw curve is drawn faintly behind.
        logy: logarithmic y axis.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in curves.items():
        y = np.asarray(torch.as_tensor(values, dtype=torch.float64).cpu())
        if y.size == 0:
            continue
        xs = np.arange(y.size) if x is None else np.asarray(x[name], dtype=float)
        if xs.shape != y.shape:
            raise ValueError(f"{name}: {xs.size} x values for {y.size} points")
        if smooth > 1 and y.size >= smooth:
            (line,) = ax.plot(xs, y, alpha=0.25)
            ys = _smooth(y, smooth)
            ax.plot(xs[smooth - 1 :], ys, color=line.get_color(), label=name)
        else:
            ax.plot(xs, y, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if curves:
        ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return ax
