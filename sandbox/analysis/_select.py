"""Which pass of a snapshot an analysis reads: the training set's, or the mini-batch's."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..session.snapshot import Passes, Snapshot


def select_passes(snapshot: "Snapshot", batch: bool = False, need_backward: bool = True) -> "Passes":
    """``snapshot.train_pass``, or ``snapshot.batch_pass`` when ``batch`` is True.

    Raises
    ------
    ValueError
        If the batch pass is asked for but the snapshot has none, or it has no backward pass
        yet (phase "forward") and ``need_backward`` is True.
    """
    if not batch:
        return snapshot.train_pass
    passes = snapshot.batch_pass
    if passes is None:
        raise ValueError("this snapshot has no mini-batch pass (no step since the last change)")
    if need_backward and passes.backward is None:
        raise ValueError("the mini-batch's backward pass has not run yet")
    return passes


def check_layer(layer: object, lo: int, hi: int, what: str = "layer") -> int:
    if isinstance(layer, bool) or not hasattr(layer, "__index__") or not lo <= int(layer) <= hi:  # type: ignore[call-overload]
        raise ValueError(f"{what} must be in {lo} … {hi}, got {layer!r}")
    return int(layer)  # type: ignore[call-overload]
