"""The blame ranking: weights *and* biases by |∂J/∂p| or by the |Δp| of the last update, and
each layer's share of the gradient.

Parameters are ranked together, in one flat order: layer by layer, each layer's weights
(row ``i``, then column ``j``) before its biases.  Ties keep that order; a NaN magnitude is
listed after every number, ±inf counts as the largest.

A layer's share of the gradient is its part of the squared norm of the whole gradient::

    share_l = (‖∂J/∂W_l‖² + ‖∂J/∂b_l‖²) / Σ_k (‖∂J/∂W_k‖² + ‖∂J/∂b_k‖²)

so the shares of all layers add to 1 (a share of the norm ‖∇J‖ itself would not add up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..session.naming import BiasRef, ParamRef, WeightRef

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot

Array = np.ndarray

#: What a ranking ranks by: the training-set gradient, or the last applied update.
RANK_BY = ("gradient", "update")


@dataclass(frozen=True)
class RankedParameter:
    """One row of a ranking.

    Attributes
    ----------
    ref
        The weight or bias.
    amount
        What it is ranked by, signed: ∂J/∂p (training set) or the last Δp.
    value
        The parameter's current value p.
    """

    ref: ParamRef
    amount: float
    value: float

    @property
    def sign(self) -> int:
        """+1, −1, or 0 (zero or NaN)."""
        return 1 if self.amount > 0 else -1 if self.amount < 0 else 0


def _flat(weights: Sequence[Array], biases: Sequence[Array]) -> Array:
    parts = []
    for w, b in zip(weights, biases):
        parts.append(np.asarray(w, dtype=np.float64).ravel())
        parts.append(np.asarray(b, dtype=np.float64).ravel())
    return np.concatenate(parts) if parts else np.zeros(0)


def _ref_at(flat: int, shapes: Sequence[tuple[int, int]]) -> ParamRef:
    for layer, (rows, cols) in enumerate(shapes):
        if flat < rows * cols:
            i, j = divmod(flat, cols)
            return WeightRef(layer, i, j)
        flat -= rows * cols
        if flat < cols:
            return BiasRef(layer, flat)
        flat -= cols
    raise IndexError("flat index past the last parameter")


def top_parameters(snapshot: "Snapshot", k: int = 8, by: str = "gradient") -> list[RankedParameter]:
    """The ``k`` weights and biases with the largest |∂J/∂p| (``by="gradient"``, the training
    set's gradient ``snapshot.grad_weights``/``grad_biases``) or the largest |Δp| of the last
    applied update (``by="update"``, ``snapshot.last_update``; [] before the first update).
    Largest first; ties and NaN as in the module docstring.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be an integer >= 0, got {k!r}")
    if by not in RANK_BY:
        raise ValueError(f"by must be one of {RANK_BY}, got {by!r}")
    if by == "gradient":
        amounts = (snapshot.grad_weights, snapshot.grad_biases)
    elif snapshot.last_update is None:
        return []
    else:
        amounts = snapshot.last_update
    flat = _flat(*amounts)
    if k == 0 or flat.size == 0:
        return []
    values = _flat(snapshot.weights, snapshot.biases)
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(flat)
    key = np.where(np.isnan(magnitude), -1.0, magnitude)  # NaN below every |x| ≥ 0
    order = np.argsort(-key, kind="stable")[: int(k)]  # stable: ties in flat order
    shapes = [w.shape for w in snapshot.weights]
    return [RankedParameter(_ref_at(int(f), shapes), float(flat[f]), float(values[f])) for f in order.tolist()]


def layer_gradient_shares(snapshot: "Snapshot") -> tuple[tuple[float, ...], float]:
    """Each weight layer's share of ‖∇J‖² (weights and biases; see the module), and ‖∇J‖.

    Returns
    -------
    (shares, norm)
        ``shares[l]`` for weight layer l (``W_l``, ``b_l``), adding to 1; all 0 when the whole
        gradient is 0, all NaN when it is not finite.  ``norm`` = ‖∇J‖ over every parameter.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        squares = np.array([float(np.sum(np.square(gw, dtype=np.float64)) + np.sum(np.square(gb, dtype=np.float64)))
                            for gw, gb in zip(snapshot.grad_weights, snapshot.grad_biases)])
        total = float(squares.sum())
    if not np.isfinite(total):
        return tuple(float("nan") for _ in squares), float("inf") if not np.isnan(total) else float("nan")
    if total == 0.0:
        return tuple(0.0 for _ in squares), 0.0
    return tuple(float(s / total) for s in squares), float(np.sqrt(total))
