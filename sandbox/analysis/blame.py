"""Blame (∂J/∂w) of the weights in a snapshot: its split into data and penalty terms, its rank.

Qt-free and pure: views call these and only format the results.

The engine's objective is ``J = (1/n) Σ ℓ_i + l1 Σ|W| + (l2/2) Σ W²`` (sandbox.engine.network),
so for one weight ``∂J/∂w = (1/n) Σ a_i·δ_j + l1·sign(w) + l2·w`` with sign(0) = 0.

Ranking is by |∂J/∂w| over all weights of all layers.  Ties are broken by position: the weight
that comes first in (layer, i, j) order ranks higher, so every weight has its own rank and
``most_blamed(s, k)[r - 1]`` is the weight of rank r.  Non-finite gradients rank last.
"""

from __future__ import annotations

import numpy as np

from ..session.naming import WeightRef
from ..session.snapshot import Snapshot


def gradient_terms(snapshot: Snapshot, ref: WeightRef) -> tuple[float, float, float, float]:
    """``(data, l1, l2, total)`` for weight ``ref``: total = data + l1 + l2 = ∂J/∂w.

    ``l1 = l1·sign(w)``, ``l2 = l2·w``.  Snapshots carry the full-set gradient, not per-example
    activations and error signals, so the data term ``(1/n) Σ a_i·δ_j`` is the total minus the
    two penalty terms (exact up to rounding).
    """
    w = float(snapshot.weights[ref.layer][ref.i, ref.j])
    total = float(snapshot.grad_weights[ref.layer][ref.i, ref.j])
    l1_term = float(snapshot.hyper.l1) * float(np.sign(w))
    l2_term = float(snapshot.hyper.l2) * w
    return total - l1_term - l2_term, l1_term, l2_term, total


def _magnitudes(snapshot: Snapshot) -> np.ndarray:
    """|∂J/∂w| of every weight, flattened in (layer, i, j) order; non-finite → −inf (last)."""
    if not snapshot.grad_weights:
        return np.zeros(0)
    flat = np.abs(np.concatenate([np.asarray(g, dtype=float).ravel() for g in snapshot.grad_weights]))
    flat[~np.isfinite(flat)] = -np.inf
    return flat


def _flat_index(snapshot: Snapshot, ref: WeightRef) -> int:
    offset = sum(int(g.size) for g in snapshot.grad_weights[: ref.layer])
    return offset + int(np.ravel_multi_index((ref.i, ref.j), snapshot.grad_weights[ref.layer].shape))


def weight_count(snapshot: Snapshot) -> int:
    """How many weights the network has (the largest rank)."""
    return sum(int(g.size) for g in snapshot.grad_weights)


def rank(snapshot: Snapshot, ref: WeightRef) -> int:
    """1 for the weight with the largest |∂J/∂w|, up to :func:`weight_count`.

    1 + the number of weights with a larger |∂J/∂w| + the number with an equal one that come
    earlier in (layer, i, j) order.  One pass of comparisons, no sort.
    """
    mags = _magnitudes(snapshot)
    k = _flat_index(snapshot, ref)
    m = mags[k]
    return 1 + int(np.count_nonzero(mags > m)) + int(np.count_nonzero(mags[:k] == m))


def most_blamed(snapshot: Snapshot, k: int = 1) -> list[WeightRef]:
    """The ``k`` weights with the largest |∂J/∂w|, rank 1 first (ties as in :func:`rank`)."""
    mags = _magnitudes(snapshot)
    if k <= 0 or mags.size == 0:
        return []
    order = np.argsort(-mags, kind="stable")[:k]  # stable: equal magnitudes keep (layer, i, j) order
    bounds = np.cumsum([0] + [int(g.size) for g in snapshot.grad_weights])
    out = []
    for flat in order:
        layer = int(np.searchsorted(bounds, flat, side="right") - 1)
        i, j = np.unravel_index(int(flat - bounds[layer]), snapshot.grad_weights[layer].shape)
        out.append(WeightRef(layer, int(i), int(j)))
    return out
