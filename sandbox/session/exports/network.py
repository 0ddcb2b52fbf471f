"""What an export needs to know about a network: its inputs, features, layers and parameters."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..datasets import Dataset
from ..features import Feature, enabled_features
from ..naming import bias_layer_label, weight_layer_label
from ..session_file import SessionFileError, atomic_write

Array = np.ndarray


class ExportError(ValueError):
    """An export could not be made or written; the message starts with the file's path."""


@dataclass(frozen=True)
class ExportedNetwork:
    """A trained network as the exports describe it.

    Attributes
    ----------
    dataset
        The data the network was trained on (its raw input columns, task and classes).
    features
        The enabled input features, in the network's input order.
    activations
        One activation name per weight layer (hidden layers, then the output layer).
    loss
        The loss name (``mse``, ``bce``, ``cross_entropy``).
    weights, biases
        ``weights[l]`` (n_l, n_{l+1}) and ``biases[l]`` (n_{l+1},), float64, as the app holds them.
    step
        The training step the parameters belong to.
    """

    dataset: Dataset
    features: tuple[Feature, ...]
    activations: tuple[str, ...]
    loss: str
    weights: tuple[Array, ...]
    biases: tuple[Array, ...]
    step: int

    @classmethod
    def of(cls, source) -> "ExportedNetwork":
        """The network of a :class:`~sandbox.session.run.TrainingRun` or of a
        :class:`~sandbox.session.snapshot.Snapshot` (the state the app shows)."""
        step = source.step_count if hasattr(source, "step_count") else source.step
        dataset = source.dataset
        return cls(
            dataset=dataset,
            features=enabled_features(dataset.input_names, source.features),
            activations=tuple(source.activation_names),
            loss=source.network_spec.loss,
            weights=tuple(np.asarray(W, dtype=np.float64) for W in source.weights),
            biases=tuple(np.asarray(b, dtype=np.float64) for b in source.biases),
            step=int(step),
        )

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.dataset.input_names

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (self.weights[0].shape[0],) + tuple(W.shape[1] for W in self.weights)

    def parameters(self) -> dict[str, Array]:
        """``{"W1": W_0, "b1": b_0, "W2": …}``: every parameter under the app's layer names."""
        out: dict[str, Array] = {}
        for layer, (W, b) in enumerate(zip(self.weights, self.biases)):
            out[weight_layer_label(layer)] = W
            out[bias_layer_label(layer)] = b
        return out

    def check_finite(self, path: str) -> None:
        """Refuse parameters no file can hold exactly (never the case for a run the guard kept)."""
        for name, arr in self.parameters().items():
            if not all(math.isfinite(v) for v in arr.ravel().tolist()):
                raise ExportError(f"{path}: {name} holds a value that is not a finite number; nothing exported")


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, or raise :class:`ExportError` naming it."""
    try:
        atomic_write(path, data)
    except SessionFileError as exc:
        raise ExportError(str(exc)) from None
    except (OSError, ValueError, TypeError) as exc:  # a NUL byte in the name, say
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ExportError(f"{os.fspath(path)}: could not save ({why})") from None
