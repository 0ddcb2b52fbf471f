"""Per-neuron means over a set of examples: mean activation, mean δ and mean |δ| per layer.

For activation layer ``l`` (0 = the input features) and unit ``j``, over the ``n`` rows of a
pass::

    mean a_j   = (1/n) Σ_r a_{l,rj}
    mean δ_j   = (1/n) Σ_r δ_{l,rj}   = Σ_r ∂J/∂z_{l,rj}      (= ∂J/∂b_{l−1,j}: biases are
                                                               not regularised)
    mean |δ_j| = (1/n) Σ_r |δ_{l,rj}| = Σ_r |∂J/∂z_{l,rj}|

where ``δ = ∂ℓ_r/∂z`` is the per-example error signal and the engine stores
``∂J/∂z = δ / n``.  Summing the stored ``∂J/∂z`` gives the means without materialising δ, so
no (rows × units) temporary beyond one |·| per layer is made.  The input layer has no δ.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from ..engine import BackwardPass, ForwardPass
from .state import readonly

Array = np.ndarray


@dataclass(frozen=True)
class NeuronStats:
    """Per-layer, per-neuron means over the training set (index 0 = input features).

    Attributes
    ----------
    mean_activation
        ``mean_activation[l][j]`` = mean a of unit j of activation layer l, for l = 0 … L.
    mean_delta, mean_abs_delta
        Mean δ and mean |δ| of unit j of layer l; ``None`` at l = 0 (inputs have no δ).
    """

    mean_activation: list[Array]
    mean_delta: list[Array | None]
    mean_abs_delta: list[Array | None]


def neuron_means(forward: ForwardPass, backward: BackwardPass) -> NeuronStats:
    """Mean a, mean δ and mean |δ| per neuron of a forward and backward pass (see the module).

    Parameters
    ----------
    forward, backward
        The passes over the same rows (``Network.forward`` / ``Network.backward``).

    Returns
    -------
    NeuronStats
        New read-only arrays, one per layer (``None`` for the input layer's δ).
    """
    means = [readonly(a.mean(axis=0)) for a in forward.activations]
    mean_delta: list[Array | None] = [None]
    mean_abs: list[Array | None] = [None]
    for grad_z in backward.grad_pre_activations:
        mean_delta.append(readonly(grad_z.sum(axis=0)))
        mean_abs.append(readonly(np.abs(grad_z).sum(axis=0)))
    return NeuronStats(means, mean_delta, mean_abs)
