"""Where an output neuron's δ comes from: the loss.

At the output layer L there is no downstream neuron; the error signal is the loss's own
derivative, ``δ_L = ∂ℓ/∂z_L``, per example.  With the engine's losses
(:mod:`sandbox.engine.losses`)::

    sigmoid + bce             δ = a − y                 (the σ′ cancels the log's derivative)
    softmax + cross-entropy   δ_k = a_k·Σ_m y_m − y_k   (= a_k − y_k for a one-hot target)
    linear + mse              δ = a − y                 (ℓ = ½ Σ_k (a_k − y_k)²)
    f + mse, f elementwise    δ = f′(z)·(a − y)
    softmax + mse             δ = J_softmax(z)ᵀ (a − y)  (a full Jacobian: every output mixes)

:func:`output_delta` reads a, y, f′(z) and δ off a snapshot's pass at one example, or averaged
over the pass's rows.  Averaged, ``delta`` is the mean of the per-example δ (so
``mean a − mean y`` in the ``a − y`` cases, but *not* ``mean f′ × mean (a − y)`` in general).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..engine import get_activation
from ..session.naming import NeuronRef
from ..session.scoring import encode_targets
from ._select import select_passes

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot

#: The formula of δ at the output, by (output activation, loss); see the module.
A_MINUS_Y = "a − y"
CROSS_ENTROPY = "a·Σy − y"
CHAIN = "f′(z)·(a − y)"
JACOBIAN = "J(z)ᵀ(a − y)"


@dataclass(frozen=True)
class OutputDelta:
    """δ of one output neuron, from the loss.

    Attributes
    ----------
    neuron
        The output neuron.
    example
        The row of the pass, or None for the average over its ``n_rows`` rows.
    loss, activation
        The loss and the output activation names.
    formula
        One of :data:`A_MINUS_Y`, :data:`CROSS_ENTROPY`, :data:`CHAIN`, :data:`JACOBIAN`.
    activation_value
        a at the example, or its mean.
    target
        y at the example, or its mean (the encoded target: 0/1 for a class, the value itself
        for regression).
    derivative
        f′(z) at the example or its mean (:data:`CHAIN` only, else None).
    delta
        The engine's δ = ∂ℓ/∂z at the example, or its mean.
    """

    neuron: NeuronRef
    example: int | None
    n_rows: int
    loss: str
    activation: str
    formula: str
    activation_value: float
    target: float
    derivative: float | None
    delta: float


def delta_formula(activation: str, loss: str) -> str:
    """The formula of the output δ for this pair (see the module)."""
    if loss in ("bce",) or (loss == "mse" and activation == "linear"):
        return A_MINUS_Y
    if loss == "cross_entropy":
        return CROSS_ENTROPY
    if activation == "softmax":
        return JACOBIAN
    return CHAIN


def pass_targets(snapshot: "Snapshot", batch: bool = False) -> np.ndarray:
    """The encoded targets y of the pass's rows, (rows, n_out): the training set in order, or
    the mini-batch's rows."""
    ds = snapshot.dataset
    Y = encode_targets(ds, snapshot.activation_names[-1])[ds.train_indices]
    if batch:
        rows = select_passes(snapshot, True).rows
        return Y[rows]
    return Y


def output_delta(
    snapshot: "Snapshot", neuron: NeuronRef, example: int | None = None, *, batch: bool = False
) -> OutputDelta:
    """δ of output neuron ``neuron`` from the loss (see the module).

    ``example`` and ``batch`` as in :func:`sandbox.analysis.chain_rule.chain_rule`.

    Raises
    ------
    ValueError
        For a neuron outside the output layer, or an example outside the pass.
    """
    passes = select_passes(snapshot, batch)
    depth = len(passes.weights)
    if neuron.layer != depth:
        raise ValueError(f"output neurons are in layer {depth}, got layer {neuron.layer}")
    z = passes.forward.pre_activations[-1]
    a = passes.forward.activations[-1]
    if not 0 <= neuron.j < a.shape[1]:
        raise ValueError(f"the output layer has {a.shape[1]} neurons, got j = {neuron.j}")
    n = passes.n_rows
    if example is not None and (
        isinstance(example, bool) or not isinstance(example, (int, np.integer)) or not 0 <= example < n
    ):
        raise ValueError(f"example must be a row in 0 … {n - 1}, got {example!r}")
    name = snapshot.activation_names[-1]
    formula = delta_formula(name, snapshot.network_spec.loss)
    y = pass_targets(snapshot, batch)[:, neuron.j]
    j = neuron.j
    delta = passes.backward.grad_pre_activations[-1][:, j] * n  # type: ignore[union-attr]
    rows = slice(None) if example is None else slice(int(example), int(example) + 1)
    with np.errstate(all="ignore"):
        derivative = None
        if formula == CHAIN:
            fprime = get_activation(name).derivative(z[rows, j], a[rows, j])
            derivative = float(np.mean(fprime))
        return OutputDelta(
            neuron=neuron,
            example=None if example is None else int(example),
            n_rows=n,
            loss=snapshot.network_spec.loss,
            activation=name,
            formula=formula,
            activation_value=float(np.mean(a[rows, j])),
            target=float(np.mean(y[rows])),
            derivative=derivative,
            delta=float(np.mean(delta[rows])),
        )
