"""Every neuron's output over the input plane (or line): what the heatmaps are drawn from.

For 2-D data the network is evaluated on a ``resolution × resolution`` grid spanning the data's
extent; for 1-D data on ``resolution`` points along x.  Data with more inputs has no plane to
draw, so it gets no grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .datasets import DOMAIN

Array = np.ndarray


@dataclass(frozen=True)
class Grid:
    """The network evaluated over the input space.

    Attributes
    ----------
    extent
        (x_min, x_max, y_min, y_max) for 2-D data; (x_min, x_max, 0, 0) for 1-D.
    resolution
        Points per axis.
    activations
        ``a_0 … a_L`` on the grid, each (points, n_l); ``a_0`` holds the input features.
        For 2-D, point ``k`` is row ``k // resolution`` (x2, bottom to top) and column
        ``k % resolution`` (x1, left to right).
    """

    extent: tuple[float, float, float, float]
    resolution: int
    activations: list[Array]

    @property
    def is_2d(self) -> bool:
        return self.extent[2] != self.extent[3]

    def image(self, layer: int, unit: int) -> Array:
        """One neuron's output as a (resolution, resolution) image, row 0 at the bottom."""
        return self.activations[layer][:, unit].reshape(self.resolution, self.resolution)


def data_extent(inputs: Array, generated: bool) -> tuple[float, float, float, float]:
    """The square Playground draws for generated data; the padded data bounds otherwise."""
    if generated:
        return (-DOMAIN, DOMAIN, -DOMAIN, DOMAIN) if inputs.shape[1] == 2 else (-DOMAIN, DOMAIN, 0.0, 0.0)
    lo, hi = inputs.min(axis=0), inputs.max(axis=0)
    pad = np.maximum((hi - lo) * 0.1, 1e-3)
    lo, hi = lo - pad, hi + pad
    if inputs.shape[1] == 2:
        return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    return (float(lo[0]), float(hi[0]), 0.0, 0.0)


def grid_inputs(extent: tuple[float, float, float, float], resolution: int, n_inputs: int) -> Array:
    """Raw input points of the grid, (resolution² or resolution, n_inputs)."""
    xs = np.linspace(extent[0], extent[1], resolution)
    if n_inputs == 1:
        return xs[:, None]
    ys = np.linspace(extent[2], extent[3], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def evaluate_grid(run, resolution: int = 100) -> Grid | None:
    """Every neuron's output over the input plane for ``run``'s current weights.

    Returns None for data with more than two raw inputs.
    """
    ds = run.dataset
    if ds.n_inputs > 2:
        return None
    fwd = run.network.forward(run.weights, run.biases, run.grid_features(resolution))
    return Grid(run.grid_extent, resolution, fwd.activations)
