"""Per-layer histograms of weights, gradients and activations, from one snapshot.

* ``"weights"``: the entries of each weight matrix W_l.
* ``"gradients"``: the entries of ∂J/∂W_l over the whole training set (the snapshot's blame).
* ``"activations"``: every training example's output of each hidden and output layer.

Bins are equal-width over the finite values' range, except for activations of a bounded
function (sigmoid, tanh, softmax, sine), which use the function's whole output range: a
saturated layer then shows as spikes at the ends, and a healthy one as a hump in between.
Values that are not finite (a diverged run) are counted apart, never binned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot

Array = np.ndarray

KINDS = ("weights", "gradients", "activations")
DEFAULT_BINS = 30
_MAX = float(np.finfo(np.float64).max)
#: Output ranges of bounded activations (histogram ranges).
BOUNDED = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0), "sine": (-1.0, 1.0)}


@dataclass(frozen=True)
class Histogram:
    """One layer's histogram.

    Attributes
    ----------
    layer
        Weight layer index (weights, gradients) or activation layer index ≥ 1 (activations).
    edges, counts
        ``bins + 1`` bin edges and ``bins`` counts (the last bin includes its right edge).
    nonfinite
        How many values were NaN or infinite (left out of the counts).
    """

    layer: int
    edges: Array
    counts: Array
    nonfinite: int

    @property
    def total(self) -> int:
        return int(self.counts.sum()) + self.nonfinite


def histogram(values: Array, layer: int, bins: int = DEFAULT_BINS,
              value_range: tuple[float, float] | None = None) -> Histogram:
    """Histogram of ``values`` in ``bins`` equal bins over ``value_range`` (default: the finite
    values' min … max; a single value v gets v ± max(|v|, 1)/2)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    finite = v[np.isfinite(v)]
    if value_range is not None:
        lo, hi = map(float, value_range)
    elif len(finite):
        lo, hi = float(finite.min()), float(finite.max())
    else:
        lo = hi = 0.0
    if hi <= lo:
        half = max(abs(lo), 1.0) / 2
        lo, hi = max(lo - half, -_MAX), min(hi + half, _MAX)
    # Halved, then doubled: hi − lo may overflow for values near the largest double.
    edges = 2.0 * np.linspace(lo / 2, hi / 2, bins + 1)
    edges[0], edges[-1] = lo, hi
    with np.errstate(over="ignore", invalid="ignore"):
        counts, _ = np.histogram(np.clip(finite, lo, hi), bins=edges)
    return Histogram(layer, edges, counts, int(len(v) - len(finite)))


def layer_histograms(snapshot: "Snapshot", kind: str, bins: int = DEFAULT_BINS) -> list[Histogram]:
    """One histogram per layer of ``kind`` ("weights", "gradients" or "activations")."""
    if kind == "weights":
        return [histogram(w, l, bins) for l, w in enumerate(snapshot.weights)]
    if kind == "gradients":
        return [histogram(g, l, bins) for l, g in enumerate(snapshot.grad_weights)]
    if kind == "activations":
        acts = snapshot.train_pass.forward.activations
        out = []
        for l in range(1, len(acts)):
            bounded = BOUNDED.get(snapshot.activation_names[l - 1])
            with np.errstate(invalid="ignore"):
                out.append(histogram(acts[l], l, bins, bounded))
        return out
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
