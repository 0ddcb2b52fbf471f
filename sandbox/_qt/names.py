"""How the app names units and weights, in one place so every view says the same thing.

Numbering is 1-based everywhere a person reads it; neurons are "hidden 2, neuron 1" or "output".
Parameters are named by their typed references (``WeightRef.name`` gives ``w[3][1,2]``, see
:mod:`sandbox.session.naming`), the one place parameter names are made.  (Code and session files
index from 0.)
"""

from __future__ import annotations

from ..session.naming import weight_layer_label
from ..session.snapshot import Snapshot

__all__ = ["layer_name", "short_unit_name", "unit_name", "weight_layer_label"]


def unit_name(snapshot: Snapshot, layer: int, j: int) -> str:
    """Display name of unit j of activation layer ``layer`` (0 = input features), 1-based."""
    n_layers = len(snapshot.layer_sizes) - 1
    if layer == 0:
        return f"{snapshot.feature_labels[j]} (input)"
    if layer < n_layers:
        return f"hidden {layer}, neuron {j + 1}"
    n_out = snapshot.layer_sizes[-1]
    if n_out == 1:
        return "output"
    names = snapshot.dataset.class_names
    if snapshot.dataset.is_classification and len(names) == n_out:
        return f"output {j + 1} (class {names[j]})"
    return f"output {j + 1}"


def short_unit_name(snapshot: Snapshot, layer: int, j: int) -> str:
    """Unit j within its layer (the layer is named elsewhere): a feature, "neuron 3", "output"."""
    if layer == 0:
        return snapshot.feature_labels[j]
    if layer < len(snapshot.layer_sizes) - 1:
        return f"neuron {j + 1}"
    return unit_name(snapshot, layer, j)


def layer_name(snapshot: Snapshot, layer: int) -> str:
    """``"the inputs"``, ``"hidden 2"`` or ``"the output layer"``."""
    if layer == 0:
        return "the inputs"
    if layer < len(snapshot.layer_sizes) - 1:
        return f"hidden {layer}"
    return "the output layer"
