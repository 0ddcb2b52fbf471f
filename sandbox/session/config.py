"""The configuration of a training run, as small frozen value objects.

A run's configuration is split by what changing it costs:

* :class:`DataSpec`, the input features and :class:`NetworkSpec` decide the shape of the
  network, so changing them starts a fresh network;
* :class:`Hyperparameters` change between two steps without touching the weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..engine import HIDDEN_ACTIVATIONS, INITIALIZERS, OPTIMIZERS, Network
from .datasets import CLASSIFICATION, GENERATORS, REGRESSION, check_generator_params

CSV_SOURCE = "csv"
MAX_BATCH_SIZE = 100_000

# The largest network the app serves interactively, in one place (README, "Limits").  Every
# snapshot runs the training set, the test set and the heatmap grid through the network and
# keeps every z, a and δ of every training row; the canvas draws every connection and a
# thumbnail per neuron.  Measured on the 2-core development machine: 2-64-64-64-1 on 2,000
# points builds a snapshot in ~60 ms; 16 layers of 64 (62,000 parameters) take ~300 ms and
# stall the window for as long; 1500 × 1500 or 64 × 64 take 30 s for the first one.
#: Neurons in one hidden layer (the GUI's + button stops here).
MAX_LAYER_WIDTH = 64
#: Hidden layers.
MAX_HIDDEN_LAYERS = 16
#: Weights and biases together: twice the benchmark's 2-64-64-64-1 (8,577).
MAX_PARAMETERS = 20_000
#: Examples (training and test) × neurons (hidden and output): what one snapshot's passes hold
#: (z, a and δ: 3 doubles each, so at most ~48 MB).  2-64-64-64-1 on 2,000 points uses 386,000.
MAX_ACTIVATIONS = 2_000_000


@dataclass(frozen=True)
class DataSpec:
    """Where the data comes from: a built-in generator and its parameters, or a CSV import.

    ``noise`` is in [0, 1]; ``train_fraction`` in (0, 1].  For CSV data the examples are
    stored with the session and ``source`` is ``"csv"``.
    """

    source: str = "circle"
    n_points: int = 500
    noise: float = 0.0
    train_fraction: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.source != CSV_SOURCE and self.source not in GENERATORS:
            raise ValueError(
                f"unknown dataset {self.source!r}; expected one of: {', '.join(GENERATORS)}, csv"
            )
        check_generator_params(self.n_points, self.noise, self.train_fraction, self.seed)


@dataclass(frozen=True)
class NetworkSpec:
    """The architecture between the input features and the output layer.

    ``output_activation`` and ``loss`` left as None are chosen to fit the problem (see
    :func:`default_output`).
    """

    hidden_sizes: tuple[int, ...] = (4, 2)
    hidden_activations: tuple[str, ...] = ("tanh", "tanh")
    output_activation: str | None = None
    loss: str | None = None
    init: str = "xavier"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_sizes", tuple(int(n) for n in self.hidden_sizes))
        object.__setattr__(self, "hidden_activations", tuple(self.hidden_activations))
        if len(self.hidden_sizes) > MAX_HIDDEN_LAYERS:
            raise ValueError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(self.hidden_sizes)}")
        if len(self.hidden_activations) != len(self.hidden_sizes):
            raise ValueError(
                f"{len(self.hidden_sizes)} hidden layers need {len(self.hidden_sizes)} "
                f"activations, got {len(self.hidden_activations)}"
            )
        for i, n in enumerate(self.hidden_sizes):
            if not 1 <= n <= MAX_LAYER_WIDTH:
                raise ValueError(f"hidden layer {i + 1} must have 1 … {MAX_LAYER_WIDTH} neurons, got {n}")
        for i, name in enumerate(self.hidden_activations):
            if name not in HIDDEN_ACTIVATIONS:
                raise ValueError(
                    f"hidden layer {i + 1}: activation {name!r} is not one of "
                    f"{', '.join(HIDDEN_ACTIVATIONS)}"
                )
        if self.init not in INITIALIZERS:
            raise ValueError(f"unknown initialisation {self.init!r}; expected one of: {', '.join(INITIALIZERS)}")

    def resolved(self, task: str, n_classes: int) -> "NetworkSpec":
        """This spec with the output activation and loss filled in and checked for the task."""
        default_act, default_loss = default_output(task, n_classes)
        act = self.output_activation or default_act
        loss = self.loss or (default_loss if act == default_act else _loss_for(act))
        spec = replace(self, output_activation=act, loss=loss)
        Network(spec.hidden_activations + (act,), loss)  # raises on bad names or pairs
        if task == REGRESSION and (loss != "mse" or act == "softmax"):
            raise ValueError("regression targets need the mse loss and a non-softmax output")
        return spec


def parameter_count(layer_sizes: tuple[int, ...]) -> int:
    """Weights and biases of a network with ``layer_sizes`` (inputs first, outputs last)."""
    return sum((a + 1) * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))


def check_size(layer_sizes: tuple[int, ...], n_examples: int) -> None:
    """Raise ValueError, in one sentence that says what to make smaller, if a network of
    ``layer_sizes`` on ``n_examples`` examples is larger than the app serves interactively."""
    n_params = parameter_count(layer_sizes)
    if n_params > MAX_PARAMETERS:
        raise ValueError(
            f"the network would have {n_params:,} weights and biases; the app serves at most "
            f"{MAX_PARAMETERS:,} interactively (use fewer or narrower layers)")
    neurons = sum(layer_sizes[1:])
    if n_examples * neurons > MAX_ACTIVATIONS:
        most = max(2, MAX_ACTIVATIONS // max(neurons, 1))
        raise ValueError(
            f"{n_examples:,} examples × {neurons:,} neurons is more than the app serves "
            f"interactively ({MAX_ACTIVATIONS:,}); this network allows at most {most:,} examples "
            f"(use fewer examples or a smaller network)")


def _loss_for(output_activation: str) -> str:
    return {"sigmoid": "bce", "softmax": "cross_entropy"}.get(output_activation, "mse")


def default_output(task: str, n_classes: int) -> tuple[str, str]:
    """Output activation and loss that fit the problem.

    sigmoid + bce for two classes, softmax + cross_entropy for three or more, linear + mse for
    regression.
    """
    if task == CLASSIFICATION:
        return ("sigmoid", "bce") if n_classes <= 2 else ("softmax", "cross_entropy")
    return ("linear", "mse")


OPTIMIZER_FIELDS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("momentum",),
    "rmsprop": ("rho", "eps"),
    "adam": ("beta1", "beta2", "eps"),
}


@dataclass(frozen=True)
class Hyperparameters:
    """What may change between two steps without resetting the weights.

    ``batch_size`` is clipped to the training set when a batch is drawn, so "all" is any
    number at least that large.
    """

    optimizer: str = "sgd"
    learning_rate: float = 0.03
    batch_size: int = 10
    l1: float = 0.0
    l2: float = 0.0
    momentum: float = 0.9
    rho: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; expected one of: {', '.join(OPTIMIZERS)}")
        _check_range("learning rate", self.learning_rate, 0.0, 1e6, low_open=True)
        if not isinstance(self.batch_size, int) or isinstance(self.batch_size, bool) or not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch size must be an integer in 1 … {MAX_BATCH_SIZE}, got {self.batch_size!r}")
        _check_range("L1 rate", self.l1, 0.0, 1e3)
        _check_range("L2 rate", self.l2, 0.0, 1e3)
        for name in ("momentum", "rho", "beta1", "beta2"):
            _check_range(name, getattr(self, name), 0.0, 1.0, high_open=True)
        _check_range("eps", self.eps, 0.0, 1.0, low_open=True, high_open=True)

    def optimizer_hyper(self) -> dict[str, float]:
        """The optimizer's own hyperparameters, in the engine's naming."""
        if self.optimizer == "momentum":
            return {"beta": self.momentum}
        return {name: getattr(self, name) for name in OPTIMIZER_FIELDS[self.optimizer]}


def _check_range(
    name: str, value: float, low: float, high: float, low_open: bool = False, high_open: bool = False
) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lo}{low:g}, {high:g}{hi}, got {value!r}")
