"""Typed references to a weight, a bias or a neuron, and the one way the app names them.

Every index here is 0-based, as the arrays are; every name a person reads is 1-based:

* :class:`WeightRef` ``(layer, i, j)`` is ``W_layer[i, j]``, the weight *from* unit ``i`` of
  activation layer ``layer`` *to* unit ``j`` of activation layer ``layer + 1``.  Its name is
  ``w[layer+1][i+1,j+1]``: ``w[3][1,2]`` is the third weight matrix's weight from unit 1 below
  to unit 2 above.
* :class:`BiasRef` ``(layer, j)`` is ``b_layer[j]``, the bias of unit ``j`` of activation layer
  ``layer + 1``; its name is ``b[layer+1][j+1]``.
* :class:`NeuronRef` ``(layer, j)`` is unit ``j`` of activation layer ``layer`` (0 = the input
  features, the last = the output layer).

The order of the fields is always *from* before *to* (``i`` before ``j``), in every module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True, order=True)
class WeightRef:
    """``W_layer[i, j]``: from unit ``i`` of activation layer ``layer`` to unit ``j`` above."""

    layer: int
    i: int
    j: int

    @property
    def name(self) -> str:
        return f"w[{self.layer + 1}][{self.i + 1},{self.j + 1}]"

    @property
    def source(self) -> "NeuronRef":
        """The neuron the weight reads from."""
        return NeuronRef(self.layer, self.i)

    @property
    def target(self) -> "NeuronRef":
        """The neuron the weight feeds."""
        return NeuronRef(self.layer + 1, self.j)


@dataclass(frozen=True, order=True)
class BiasRef:
    """``b_layer[j]``: the bias of unit ``j`` of activation layer ``layer + 1``."""

    layer: int
    j: int

    @property
    def name(self) -> str:
        return f"b[{self.layer + 1}][{self.j + 1}]"

    @property
    def neuron(self) -> "NeuronRef":
        return NeuronRef(self.layer + 1, self.j)


@dataclass(frozen=True, order=True)
class NeuronRef:
    """Unit ``j`` of activation layer ``layer`` (0 = the input features)."""

    layer: int
    j: int

    @property
    def bias(self) -> BiasRef | None:
        """The neuron's bias (None for an input feature, which has none)."""
        return None if self.layer == 0 else BiasRef(self.layer - 1, self.j)


#: A trainable parameter.
ParamRef = Union[WeightRef, BiasRef]
#: Anything a view can select or hover.
Ref = Union[WeightRef, BiasRef, NeuronRef]


def param_name(ref: ParamRef) -> str:
    """The 1-based name of a parameter: ``w[3][1,2]`` or ``b[2][4]``."""
    return ref.name


def weight_layer_label(layer: int) -> str:
    """``"W1"`` for weight layer 0 (the inputs → the first layer), 1-based like every name."""
    return f"W{layer + 1}"


def bias_layer_label(layer: int) -> str:
    """``"b1"`` for the biases of weight layer 0 (those of the first layer above the inputs)."""
    return f"b{layer + 1}"
