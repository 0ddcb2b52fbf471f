"""Trained parameters as a NumPy ``.npz`` archive and as JSON.

The ``.npz`` holds one float64 array per parameter layer, named as the app names them: ``W1``
(inputs → first layer, shape (n_0, n_1)), ``b1`` (n_1,), ``W2``, ``b2`` …, read back with
``np.load(path)`` (no pickle).  The JSON file holds the same arrays as nested lists, written
with ``repr`` so every float reads back to the same bits, and the architecture around them::

    {"format": "backprop-sandbox-weights", "version": 1, "step": …, "dataset": …, "task": …,
     "inputs": [raw input column names], "features": [{"key", "label", "formula"} …],
     "layer_sizes": […], "activations": [one per weight layer], "loss": …,
     "classes": [class names, classification only], "parameters": {"W1": [[…]], "b1": […], …}}
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import numpy as np

from ..json_text import dumps
from .network import ExportedNetwork, ExportError, write_bytes

FORMAT = "backprop-sandbox-weights"
VERSION = 1


def write_npz(network: ExportedNetwork, path: str | os.PathLike[str]) -> None:
    """Write the parameters to ``path`` as an uncompressed ``.npz`` (see the module docstring)."""
    network.check_finite(os.fspath(path))
    buffer = io.BytesIO()
    np.savez(buffer, **network.parameters())
    write_bytes(path, buffer.getvalue())


def weights_document(network: ExportedNetwork) -> dict[str, Any]:
    """The JSON document of the parameters and the architecture (see the module docstring)."""
    ds = network.dataset
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "step": network.step,
        "dataset": ds.name,
        "task": ds.task,
        "inputs": list(network.input_names),
        "features": [{"key": f.key, "label": f.label, "formula": f.formula()} for f in network.features],
        "layer_sizes": list(network.layer_sizes),
        "activations": list(network.activations),
        "loss": network.loss,
    }
    if ds.is_classification:
        doc["classes"] = list(ds.class_names)
    # tolist() gives Python floats, which json_text writes with repr: bit-exact.
    doc["parameters"] = {name: arr.tolist() for name, arr in network.parameters().items()}
    return doc


def weights_json(network: ExportedNetwork) -> str:
    """The JSON text of :func:`weights_document`."""
    return dumps(weights_document(network))


def write_weights_json(network: ExportedNetwork, path: str | os.PathLike[str]) -> None:
    """Write the JSON document to ``path``."""
    network.check_finite(os.fspath(path))
    write_bytes(path, weights_json(network).encode("utf-8"))


def read_weights_json(text: str) -> dict[str, np.ndarray]:
    """The parameters of an exported JSON document, as float64 arrays by name (for checks and
    for readers in other programs: any JSON parser reads the file)."""
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ExportError("not a Backprop Sandbox weights file")
    return {name: np.asarray(values, dtype=np.float64) for name, values in doc["parameters"].items()}
