"""Scoring a run: targets as the network sees them, accuracy, evaluations, and the numbers a
step records (finite norms, history-safe values, the layer that went non-finite)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .datasets import Dataset

Array = np.ndarray

#: The largest double: history keeps overflowed values at ±this.
FLOAT_MAX = float(np.finfo(np.float64).max)


@dataclass(frozen=True)
class Evaluation:
    """Losses and accuracies over the full training and test sets.

    Losses are data losses (no regularisation penalty) so train and test compare directly.
    Accuracies are None for regression; test values are None when there is no test set.
    """

    train_loss: float
    test_loss: float | None
    train_accuracy: float | None
    test_accuracy: float | None



def recordable(value: float | None) -> float:
    """A value as history keeps it, so a session file stores it exactly.

    Session files hold finite numbers, with ``null`` for "no value": so "no value" and NaN
    become the one canonical NaN, and an overflowed loss is kept as ±the largest double.
    """
    if value is None or math.isnan(value):
        return math.nan
    return max(-FLOAT_MAX, min(FLOAT_MAX, value))


def finite_norm(g: Array) -> float:
    """‖g‖₂ = √(Σ g²), finite for every finite g.

    The plain sum of squares overflows once entries pass ~1e154; then the norm is computed as
    m·√(Σ (g/m)²) with m = max|g|, and capped at the largest double.  History rows (and so
    session files, which hold finite numbers only) then never record inf for a committed step.
    """
    squares = np.vdot(g, g)
    if math.isfinite(squares):
        return math.sqrt(squares)
    scale = float(np.abs(g).max())
    if not math.isfinite(scale):
        return math.inf
    scaled = g / scale
    return min(scale * math.sqrt(np.vdot(scaled, scaled)), FLOAT_MAX)


def first_nonfinite_layer(weights: Sequence[Array], biases: Sequence[Array], reverse: bool = False) -> int | None:
    order = range(len(weights) - 1, -1, -1) if reverse else range(len(weights))
    for layer in order:
        if not (np.isfinite(weights[layer]).all() and np.isfinite(biases[layer]).all()):
            return layer
    return None


def encode_targets(dataset: Dataset, output_activation: str) -> Array:
    """Targets as the network's output should be: (n, 1) or one-hot (n, k), float64.

    Two classes use one output (0/1) unless the output is softmax; three or more classes, or a
    softmax output, use one-hot rows.
    """
    t = dataset.targets
    if not dataset.is_classification:
        return t.reshape(-1, 1).astype(np.float64)
    k = dataset.n_classes
    if k == 2 and output_activation != "softmax":
        return t.reshape(-1, 1).astype(np.float64)
    onehot = np.zeros((len(t), k))
    onehot[np.arange(len(t)), t.astype(np.int64)] = 1.0
    return onehot


def accuracy(output: Array, Y: Array) -> float:
    """Share of rows whose predicted class matches: threshold 0.5 for one output, else argmax."""
    if len(output) == 0:
        return float("nan")
    if output.shape[1] == 1:
        return float(np.mean((output[:, 0] > 0.5) == (Y[:, 0] > 0.5)))
    return float(np.mean(output.argmax(axis=1) == Y.argmax(axis=1)))


def update_ratios(flat: Array, delta: Array, weight_slices: Sequence[slice]) -> list[float]:
    """‖ΔW_l‖ / ‖W_l‖ per layer: how far one step moved each weight matrix, relative to its size.

    Parameters
    ----------
    flat
        The parameters the update was applied to (before the step).
    delta
        The update Δ added to ``flat``.
    weight_slices
        Where each layer's weights lie in ``flat`` (the layout's W_0, W_1, … segments).

    A ratio near 1e-3 is the usual healthy size; far above it a step overshoots, far below the
    layer barely learns.  NaN where ‖W_l‖ = 0 (the ratio is undefined, e.g. zero initialisation);
    capped at the largest double so history stays finite.  Two ``vdot`` calls a layer, as for
    the gradient norms: about a microsecond a layer per step.
    """
    out = []
    for segment in weight_slices:
        d, w = delta[segment], flat[segment]
        moved, size = float(np.vdot(d, d)), float(np.vdot(w, w))
        if 0.0 < size < math.inf and moved < math.inf:
            out.append(math.sqrt(moved / size))
        else:
            # A sum of squares overflowed or underflowed (or the weights are zero).
            ratio = _scaled_ratio(d, w)
            out.append(math.nan if math.isnan(ratio) else min(ratio, FLOAT_MAX))
    return out


def _scaled_ratio(delta: Array, weights: Array) -> float:
    """‖delta‖ / ‖weights‖ without overflow or underflow: each vector scaled by its largest
    entry first.  NaN when ``weights`` is zero."""
    w_scale = float(np.abs(weights).max())
    if w_scale == 0:
        return math.nan
    d_scale = float(np.abs(delta).max())
    if d_scale == 0:
        return 0.0
    d, w = delta / d_scale, weights / w_scale
    with np.errstate(over="ignore"):
        return float(np.float64(d_scale) / w_scale * (math.sqrt(np.vdot(d, d)) / math.sqrt(np.vdot(w, w))))
