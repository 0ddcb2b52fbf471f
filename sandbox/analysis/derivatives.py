"""f′(z): the slope of each neuron's activation at each example.

For activation layer ``l`` ≥ 1 with activation f, ``f′(z_{l,rj})`` per example r and unit j,
from :meth:`sandbox.engine.activations.Activation.derivative`, which uses ``a = f(z)`` where
that is cheaper (σ′ = a(1 − a), tanh′ = 1 − a²).  It is the factor the chain rule multiplies
by at the neuron: ``δ_l = f′(z_l) ⊙ (δ_{l+1} W_lᵀ)``.  For a softmax layer, whose derivative
is a Jacobian, this is its diagonal ``∂a_k/∂z_k = a_k(1 − a_k)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..engine import get_activation
from ._select import check_layer, select_passes

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot

Array = np.ndarray


def activation_derivatives(snapshot: "Snapshot", layer: int, *, batch: bool = False) -> Array:
    """f′(z) of activation layer ``layer`` (1 … L), per example and neuron.

    Parameters
    ----------
    snapshot
        The snapshot to read.
    layer
        The activation layer (as in :class:`~sandbox.session.naming.NeuronRef`; the inputs,
        layer 0, have no activation).
    batch
        False: over the training set; True: over the mini-batch pass (its forward suffices).

    Returns
    -------
    Array
        A new read-only (rows, n_layer) float64 array.
    """
    passes = select_passes(snapshot, batch, need_backward=False)
    depth = len(passes.forward.pre_activations)
    layer = check_layer(layer, 1, depth)
    act = get_activation(snapshot.activation_names[layer - 1])
    with np.errstate(all="ignore"):
        out = act.derivative(passes.forward.pre_activations[layer - 1], passes.forward.activations[layer])
    out.setflags(write=False)
    return out
