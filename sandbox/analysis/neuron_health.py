"""Dead and saturated neurons, from the snapshot's forward and backward pass over the training set.

* **Dead**: activation exactly 0 *and* δ = ∂J/∂z exactly 0 on every training example.  A ReLU
  whose z is negative everywhere outputs 0 and passes back no gradient, so nothing can revive
  it: gradient descent never changes its incoming weights again.  (Exact zeros: a neuron that is
  merely small is not dead.)
* **Saturated**: a sigmoid or tanh neuron whose output is pinned near a limit of its range on
  most examples: |a| > 1 − :data:`SATURATION_MARGIN` for tanh, a < margin or a > 1 − margin
  for sigmoid, on more than :data:`SATURATED_SHARE` of the training examples.  There f′(z) is
  below ~0.02 (sigmoid 0.0099, tanh 0.0199), so δ shrinks by that factor on its way through: the
  neuron barely learns and starves the layers below it.

Both are checked for hidden neurons only.  An output sigmoid near 0 or 1 is a confident
prediction, which training aims for (and with cross-entropy its δ = a − y does not vanish);
outputs have no neurons below them to starve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot

Array = np.ndarray

#: How close to a limit of its range an output counts as pinned (tanh: |a| > 0.99).
SATURATION_MARGIN = 0.01
#: The share of training examples on which a pinned output makes the neuron saturated.
SATURATED_SHARE = 0.9
#: The activations that saturate, and the limits of their output.
SATURATING = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


@dataclass(frozen=True)
class NeuronHealth:
    """Per activation layer (index 0 = inputs, always empty; L = output, always empty): one
    entry per neuron.

    Attributes
    ----------
    dead
        Bool arrays: zero activation and zero δ on every training example.
    saturated
        Bool arrays: a saturating activation pinned near a limit on more than
        ``SATURATED_SHARE`` of the examples.
    pinned_share
        Float arrays: the share of examples on which the output is pinned (NaN for activations
        that do not saturate).
    """

    dead: tuple[Array, ...]
    saturated: tuple[Array, ...]
    pinned_share: tuple[Array, ...]

    def count(self) -> tuple[int, int]:
        """(dead, saturated) neurons in the whole network."""
        return int(sum(d.sum() for d in self.dead)), int(sum(s.sum() for s in self.saturated))

    def describe(self, layer: int, j: int) -> str | None:
        """"dead: …" or "saturated: …" for neuron ``j`` of activation layer ``layer``, or None."""
        if self.dead[layer][j]:
            return "dead: zero activation and zero δ on every training example"
        if self.saturated[layer][j]:
            share = float(self.pinned_share[layer][j])
            return f"saturated: output pinned near its limits on {100 * share:.0f} % of examples"
        return None


def pinned(values: Array, activation: str, margin: float = SATURATION_MARGIN) -> Array:
    """Where ``values`` (outputs of ``activation``) lie within ``margin`` of a limit of its range."""
    lo, hi = SATURATING[activation]
    return (values < lo + margin) | (values > hi - margin)


def neuron_health(snapshot: "Snapshot") -> NeuronHealth:
    """Dead and saturated hidden neurons of ``snapshot`` over its whole training set."""
    passes = snapshot.train_pass
    activations = passes.forward.activations
    grads = passes.backward.grad_pre_activations
    n_layers = len(activations)  # the inputs, the hidden layers, the output
    dead, saturated, share = [], [], []
    for l in range(n_layers):
        width = activations[l].shape[1]
        hidden = 0 < l < n_layers - 1
        if not hidden or activations[l].shape[0] == 0:
            dead.append(np.zeros(width, dtype=bool))
            saturated.append(np.zeros(width, dtype=bool))
            share.append(np.full(width, np.nan))
            continue
        a, g = activations[l], grads[l - 1]
        dead.append(~(a != 0).any(axis=0) & ~(g != 0).any(axis=0))
        name = snapshot.activation_names[l - 1]
        if name in SATURATING:
            s = pinned(a, name).mean(axis=0)
            share.append(s)
            saturated.append(s > SATURATED_SHARE)
        else:
            share.append(np.full(width, np.nan))
            saturated.append(np.zeros(width, dtype=bool))
    return NeuronHealth(tuple(dead), tuple(saturated), tuple(share))
