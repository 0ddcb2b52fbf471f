"""Weight initialisation schemes, seeded so that Reset reproduces the same network exactly.

==========  ========================================================================
xavier      Glorot uniform: W ~ U(−r, r), r = √(6 / (fan_in + fan_out))
he          He normal: W ~ N(0, 2 / fan_in), suited to relu-like layers
uniform     W ~ U(−0.5, 0.5), as TensorFlow Playground does
zeros       W = 0: every hidden unit stays identical (a lesson in symmetry breaking)
==========  ========================================================================

Biases start at zero in every scheme.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

Array = np.ndarray

INITIALIZERS: tuple[str, ...] = ("xavier", "he", "uniform", "zeros")


def initialize(
    scheme: str, layer_sizes: Sequence[int], seed: int
) -> tuple[list[Array], list[Array]]:
    """Weights and biases for ``layer_sizes = [n_0, n_1, …, n_L]``.

    The same scheme, sizes and seed always give bit-identical arrays.
    """
    if scheme not in INITIALIZERS:
        raise ValueError(
            f"unknown initialisation {scheme!r}; expected one of: {', '.join(INITIALIZERS)}"
        )
    rng = np.random.default_rng(seed)
    weights: list[Array] = []
    biases: list[Array] = []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        shape = (fan_in, fan_out)
        if scheme == "xavier":
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-limit, limit, size=shape)
        elif scheme == "he":
            W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
        elif scheme == "uniform":
            W = rng.uniform(-0.5, 0.5, size=shape)
        else:
            W = np.zeros(shape)
        weights.append(W)
        biases.append(np.zeros(fan_out))
    return weights, biases
