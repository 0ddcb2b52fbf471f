"""What-if maths from a snapshot: the first-order prediction ΔJ ≈ ∂J/∂w·Δw, and the ranges,
tangent and arrow the what-if plots draw.

The prediction is the first term of Taylor's expansion of J around the current value w::

    J(w + Δw) = J(w) + ∂J/∂w·Δw + ½ ∂²J/∂w²·Δw² + …

so its error shrinks like Δw² as Δw shrinks, and ``actual / predicted`` → 1.  The gradient is
the snapshot's, of the full objective J on the training set (penalty included), the same J
whose change an edit's marker reports.

Nothing here evaluates the network: J at other values comes from the worker
(:mod:`sandbox.session.loss_probes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..session.naming import BiasRef, NeuronRef, ParamRef, Ref, WeightRef

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot

#: Points along the weight in the loss-along plot, and per axis of the two-weight heatmap.
CURVE_POINTS = 81
SURFACE_POINTS = 21
#: Work one what-if query may cost the worker, in multiply-adds and activations (examples ×
#: (weights + neurons) × values; ~2–4 ns each): ~0.1 s paused, less while training.
BUDGET_PAUSED = 40_000_000
BUDGET_PLAYING = 10_000_000


@dataclass(frozen=True)
class Prediction:
    """The first-order prediction of an edit w → w + Δw.

    Attributes
    ----------
    value, gradient, objective
        w, ∂J/∂w and J in the snapshot.
    delta
        Δw.
    predicted_change
        ∂J/∂w · Δw.
    """

    value: float
    gradient: float
    objective: float
    delta: float
    predicted_change: float

    @property
    def new_value(self) -> float:
        return self.value + self.delta


def parameter_of(selection: Ref | None) -> ParamRef | None:
    """The parameter a selection stands for: a weight itself, a neuron's bias (None for an
    input, which has none, and for no selection)."""
    if isinstance(selection, (WeightRef, BiasRef)):
        return selection
    if isinstance(selection, NeuronRef):
        return selection.bias
    return None


def in_network(snapshot: "Snapshot", ref: ParamRef) -> bool:
    """Whether ``ref`` is a parameter of the snapshot's network."""
    sizes = snapshot.layer_sizes
    if not 0 <= ref.layer < len(sizes) - 1:
        return False
    if isinstance(ref, WeightRef):
        return 0 <= ref.i < sizes[ref.layer] and 0 <= ref.j < sizes[ref.layer + 1]
    return 0 <= ref.j < sizes[ref.layer + 1]


def value_of(snapshot: "Snapshot", ref: ParamRef) -> float:
    if isinstance(ref, WeightRef):
        return float(snapshot.weights[ref.layer][ref.i, ref.j])
    return float(snapshot.biases[ref.layer][ref.j])


def gradient_of(snapshot: "Snapshot", ref: ParamRef) -> float:
    """∂J/∂ref on the training set (penalty included)."""
    if isinstance(ref, WeightRef):
        return float(snapshot.grad_weights[ref.layer][ref.i, ref.j])
    return float(snapshot.grad_biases[ref.layer][ref.j])


def next_step_of(snapshot: "Snapshot", ref: ParamRef) -> float:
    """The Δ the optimizer's next step will add (computed on the next mini-batch)."""
    dW, db = snapshot.next_update
    if isinstance(ref, WeightRef):
        return float(dW[ref.layer][ref.i, ref.j])
    return float(db[ref.layer][ref.j])


def predict(snapshot: "Snapshot", ref: ParamRef, delta: float) -> Prediction:
    """ΔJ ≈ ∂J/∂w · Δw for the edit w → w + Δw."""
    g = gradient_of(snapshot, ref)
    return Prediction(value_of(snapshot, ref), g, float(snapshot.objective), float(delta), g * float(delta))


def ratio(actual: float | None, predicted: float | None) -> float | None:
    """actual / predicted, or None when it has no meaning (no prediction, or a zero one)."""
    if actual is None or predicted is None or predicted == 0 or not math.isfinite(predicted):
        return None
    return actual / predicted


def half_width(value: float, next_delta: float = 0.0) -> float:
    """How far either side of w the plots reach: at least 1 (weights start around ±1), far
    enough to show |w| itself (so 0 is in view) and three times the next step (so its landing
    place is), rounded up to 1, 2 or 5 × 10^k so the range does not jitter while training."""
    need = max(1.0, abs(value), 3.0 * abs(next_delta))
    if not math.isfinite(need):
        return 1.0
    exponent = math.floor(math.log10(need))
    for mantissa in (1.0, 2.0, 5.0, 10.0):
        nice = mantissa * 10.0 ** exponent
        if nice >= need:
            return nice
    return need


def offsets(width: float, points: int) -> tuple[float, ...]:
    """``points`` evenly spaced offsets over [−width, width] (0 among them for odd counts)."""
    return tuple(float(x) for x in np.linspace(-width, width, points))


def tangent(values: np.ndarray, value: float, objective: float, gradient: float) -> np.ndarray:
    """The tangent line J(w) + ∂J/∂w·(v − w) at ``values``."""
    return objective + gradient * (np.asarray(values, dtype=np.float64) - value)


def descent_arrow(point: tuple[float, float], gradient: tuple[float, float],
                  extent: tuple[float, float]) -> tuple[float, float] | None:
    """Where the −∇J arrow from ``point`` ends: along −(∂J/∂w_a, ∂J/∂w_b) in the parameters'
    own units, as long as a quarter of the view (``extent`` is each axis' half-width).

    None when the gradient is zero or not finite (there is no direction to draw).
    """
    ga, gb = gradient
    ea, eb = extent
    if not (ea > 0 and eb > 0):
        return None
    screen = math.hypot(ga / ea, gb / eb)  # the gradient's length in half-widths
    if not (math.isfinite(screen) and screen > 0):
        return None
    t = 0.5 / screen
    return point[0] - t * ga, point[1] - t * gb


def affordable_points(snapshot: "Snapshot", wanted: int, minimum: int, per_axis: bool = False) -> int:
    """How many values a query may ask for on this network and data: ``wanted`` if the worker
    can evaluate them within the budget (one value costs a forward pass: n_train × (weights +
    neurons)), else fewer, never below ``minimum``; odd, so the current value sits in the
    middle.  ``per_axis``: the count for each axis of a square grid."""
    sizes = snapshot.layer_sizes
    per_row = sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + sum(sizes[1:])
    cost = max(1, len(snapshot.dataset.train_indices) * per_row)
    budget = BUDGET_PLAYING if snapshot.playing else BUDGET_PAUSED
    variants = budget // cost
    count = math.isqrt(variants) if per_axis else variants
    count = max(minimum, min(wanted, count))
    return count if count % 2 else count - 1 if count > minimum else count + 1
