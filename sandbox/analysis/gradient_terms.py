"""The terms of a gradient: the data's blame and the regularisers' pull.

With ``J = (1/n) Σ_r ℓ_r + l1 Σ|W| + (l2/2) Σ W²`` (the engine's convention, see
:mod:`sandbox.engine.network`), the gradient of one weight ``w = W_l[i, j]`` splits into::

    ∂J/∂w = (1/n) Σ_r a_{l,ri} δ_{l+1,rj}   +   l1·sign(w)   +   l2·w
            └────────── data term ─────────┘   └── L1 ──┘      └ L2 ┘

where ``a_l`` are the activations feeding the weight, ``δ_{l+1} = ∂ℓ_r/∂z_{l+1}`` the error
signals of the unit it feeds, and sign(0) = 0.  The data term is computed from the stored
passes (``Σ_r a_{l,ri} · (∂J/∂z_{l+1})_{rj}``, as the engine stores ``∂J/∂z = δ/n``), not as
the total minus the penalties, so the three terms add up to the engine's ∂J/∂w up to rounding.

Biases are not regularised: ``∂J/∂b_l[j] = (1/n) Σ_r δ_{l+1,rj}``, the data term alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..session.naming import BiasRef, WeightRef
from ._select import check_layer, select_passes

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot


@dataclass(frozen=True)
class WeightGradientTerms:
    """∂J/∂w of one weight, term by term.

    Attributes
    ----------
    data
        (1/n) Σ_r a_i·δ_j over the pass's n rows.
    l1
        l1·sign(w).
    l2
        l2·w.
    total
        The engine's ∂J/∂w (``grad_weights[layer][i, j]``); equals data + l1 + l2 up to
        rounding (~1e-16 relative).
    weight
        w, the weight the pass ran with.
    n_rows
        n.
    """

    data: float
    l1: float
    l2: float
    total: float
    weight: float
    n_rows: int


@dataclass(frozen=True)
class BiasGradientTerms:
    """∂J/∂b of one bias: the data term (1/n) Σ_r δ_j alone (biases are not regularised).

    ``total`` is the engine's ``grad_biases[layer][j]``; it equals ``data`` up to rounding.
    """

    data: float
    total: float
    n_rows: int


def weight_gradient_terms(snapshot: "Snapshot", ref: WeightRef, *, batch: bool = False) -> WeightGradientTerms:
    """Split ∂J/∂w of weight ``ref`` into its data, L1 and L2 terms (see the module).

    Parameters
    ----------
    snapshot
        The snapshot to read.
    ref
        The weight ``W_layer[i, j]``.
    batch
        False: on the training set (``snapshot.train_pass``, the gradient the app shows).
        True: on the mini-batch (``snapshot.batch_pass``), with the weights and l1, l2 that pass
        ran with.

    Raises
    ------
    ValueError
        For a reference outside the network, or ``batch`` without a backward batch pass.
    """
    passes = select_passes(snapshot, batch)
    layer = check_layer(ref.layer, 0, len(passes.weights) - 1)
    W = passes.weights[layer]
    if not (0 <= ref.i < W.shape[0] and 0 <= ref.j < W.shape[1]):
        raise ValueError(f"{ref.name} is outside layer {layer}'s weights of shape {W.shape}")
    a = passes.forward.activations[layer][:, ref.i]
    grad_z = passes.backward.grad_pre_activations[layer][:, ref.j]  # type: ignore[union-attr]
    w = float(W[ref.i, ref.j])
    with np.errstate(all="ignore"):
        data = float(np.dot(a, grad_z))  # Σ_r a_ri · δ_rj / n
    return WeightGradientTerms(
        data=data,
        l1=passes.l1 * float(np.sign(w)) if passes.l1 else 0.0,
        l2=passes.l2 * w if passes.l2 else 0.0,
        total=float(passes.backward.grad_weights[layer][ref.i, ref.j]),  # type: ignore[union-attr]
        weight=w,
        n_rows=passes.n_rows,
    )


def bias_gradient_terms(snapshot: "Snapshot", ref: BiasRef, *, batch: bool = False) -> BiasGradientTerms:
    """∂J/∂b of bias ``ref`` = (1/n) Σ_r δ_{layer+1, rj}; ``batch`` as in
    :func:`weight_gradient_terms`."""
    passes = select_passes(snapshot, batch)
    layer = check_layer(ref.layer, 0, len(passes.weights) - 1)
    grads = passes.backward.grad_biases[layer]  # type: ignore[union-attr]
    if not 0 <= ref.j < len(grads):
        raise ValueError(f"{ref.name} is outside layer {layer}'s {len(grads)} biases")
    with np.errstate(all="ignore"):
        data = float(passes.backward.grad_pre_activations[layer][:, ref.j].sum())  # type: ignore[union-attr]
    return BiasGradientTerms(data=data, total=float(grads[ref.j]), n_rows=passes.n_rows)
