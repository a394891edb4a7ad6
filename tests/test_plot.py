import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from aigc_course.plot import image_grid, plot_curves, show_images


def test_image_grid_places_images():
    x = torch.zeros(5, 1, 4, 4)
    x[3] = 1.0
    grid = image_grid(x, nrow=3, padding=1, pad_value=0.5)
    assert grid.shape == (2 * 5 + 1, 3 * 5 + 1)
    assert grid[6:10, 1:5].min() == 1.0  # image 3 is row 1, column 0
    assert grid[0, 0] == 0.5
    rgb = image_grid(torch.rand(2, 3, 4, 4), nrow=2)
    assert rgb.shape[-1] == 3


@pytest.mark.parametrize("bad", [torch.zeros(2, 2, 4, 4), torch.zeros(0, 1, 4, 4), torch.zeros(4)])
def test_image_grid_rejects_bad_shapes(bad):
    with pytest.raises(ValueError):
        image_grid(bad)


def test_show_images_and_curves_return_axes():
    ax = show_images(torch.rand(6, 28, 28), nrow=3, title="digits")
    assert ax.get_title() == "digits" and len(ax.images) == 1
    ax = plot_curves({"loss": np.linspace(2, 1, 50), "empty": []}, smooth=5, logy=True)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss"]
    assert ax.get_yscale() == "log"
    t = np.linspace(0.0, 9.8, 50)  # a clock: the curve is drawn against it
    ax = plot_curves({"loss": np.linspace(2, 1, 50)}, x={"loss": t}, smooth=5)
    assert np.allclose(ax.lines[1].get_xdata(), t[4:]) and ax.lines[0].get_xdata()[-1] == 9.8
    with pytest.raises(ValueError, match="x values"):
        plot_curves({"loss": [1.0, 2.0]}, x={"loss": [0.0]})
    plt.close("all")
