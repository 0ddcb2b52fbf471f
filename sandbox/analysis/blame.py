"""Blame: how weights rank by the size of their gradient |∂J/∂w|.

Ranks are *competition* ranks over every weight of every layer::

    rank(w) = 1 + #{ w' : |∂J/∂w'| > |∂J/∂w| }

so 1 is the most blamed weight, and weights with equal |∂J/∂w| share a rank (two tied for
first are both #1, and the next is #3).  :func:`most_blamed` lists weights in decreasing
|∂J/∂w|; ties are listed in :class:`~sandbox.session.naming.WeightRef` order
``(layer, i, j)``, so the list is deterministic.  A NaN gradient has no rank (None) and is
listed after every number; ±inf counts as the largest magnitude.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..session.naming import WeightRef
from ._select import check_layer, select_passes

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot

Array = np.ndarray


def _gradients(snapshot: "Snapshot", batch: bool) -> Sequence[Array]:
    return select_passes(snapshot, batch).backward.grad_weights  # type: ignore[union-attr]


def blame_rank(snapshot: "Snapshot", ref: WeightRef, *, batch: bool = False) -> tuple[int | None, int]:
    """``(rank, count)`` of weight ``ref`` by |∂J/∂w| among all ``count`` weights.

    Parameters
    ----------
    snapshot, ref
        The snapshot and the weight ``W_layer[i, j]``.
    batch
        False: the training-set gradient (``snapshot.grad_weights``); True: the mini-batch's.

    Returns
    -------
    (rank, count)
        rank = 1 + the number of weights with a strictly larger |∂J/∂w| (ties share a rank),
        None if the weight's gradient is NaN.  One pass of comparisons, no sort.
    """
    grads = _gradients(snapshot, batch)
    layer = check_layer(ref.layer, 0, len(grads) - 1)
    g = grads[layer]
    if not (0 <= ref.i < g.shape[0] and 0 <= ref.j < g.shape[1]):
        raise ValueError(f"{ref.name} is outside layer {layer}'s weights of shape {g.shape}")
    count = sum(int(x.size) for x in grads)
    magnitude = abs(float(g[ref.i, ref.j]))
    if magnitude != magnitude:  # NaN
        return None, count
    larger = sum(int(np.count_nonzero(np.abs(x) > magnitude)) for x in grads)
    return larger + 1, count


def most_blamed(snapshot: "Snapshot", k: int = 1, *, batch: bool = False) -> list[WeightRef]:
    """The ``k`` weights with the largest |∂J/∂w|, most blamed first (fewer if the network has
    fewer weights).  Ties in WeightRef order; NaN gradients last (see the module).

    ``batch`` as in :func:`blame_rank`.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be an integer >= 0, got {k!r}")
    grads = _gradients(snapshot, batch)
    if k == 0 or not grads:
        return []
    with np.errstate(invalid="ignore"):
        magnitude = np.concatenate([np.abs(g).ravel() for g in grads])
    key = np.where(np.isnan(magnitude), -1.0, magnitude)  # NaN below every |g| ≥ 0
    # A stable sort of −key keeps ties in flat order: layer, then row i, then column j.
    order = np.argsort(-key, kind="stable")[: int(k)]
    offsets = np.cumsum([0] + [g.size for g in grads])
    refs = []
    for flat in order.tolist():
        layer = int(np.searchsorted(offsets, flat, side="right")) - 1
        i, j = divmod(flat - int(offsets[layer]), grads[layer].shape[1])
        refs.append(WeightRef(layer, i, j))
    return refs
