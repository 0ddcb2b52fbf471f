"""The chain rule at one hidden neuron: where its δ comes from.

For hidden unit j of activation layer l (1 ≤ l < L), with f the layer's activation and
``w_jk = W_l[j, k]`` its weight to unit k of layer l+1, per example r::

    δ_{l,rj} = f′(z_{l,rj}) · Σ_k w_jk · δ_{l+1,rk}

:func:`chain_rule` tabulates, per downstream unit k, ``w_jk``, ``δ_k``, the product
``w_jk·δ_k`` and its share of the sum ``Σ_k w_jk·δ_k``, either at one example r or averaged
over the pass's n rows.  Averaged, the table uses the mean δ_k (so its product column is the
mean of the products, ``w_jk · mean_r δ_{l+1,rk}``), and the mean δ_j is *not* in general
``mean f′ × Σ``; each row therefore also carries its exact contribution to the mean δ_j::

    c_k = w_jk · (1/n) Σ_r f′(z_{l,rj}) δ_{l+1,rk},     Σ_k c_k = mean_r δ_{l,rj}

(at one example, c_k = f′·w_jk·δ_k and the two readings agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..engine import get_activation
from ..session.naming import NeuronRef, WeightRef
from ._select import check_layer, select_passes
from .neuron_health import SATURATED_SHARE, SATURATING, pinned

if TYPE_CHECKING:
    from ..session.snapshot import Snapshot


@dataclass(frozen=True)
class ChainRuleRow:
    """One downstream unit k of the neuron.

    Attributes
    ----------
    weight_ref
        ``WeightRef(l, j, k)``; ``weight_ref.target`` is the unit k.
    weight
        w_jk.
    delta
        δ_k at the example, or its mean over the rows.
    product
        w_jk · delta.
    share
        product / Σ_k products (NaN when the sum is 0); shares add up to 1 and may be negative
        or exceed 1 when the products' signs differ.
    abs_share
        |product| / Σ_k |products| (NaN when all are 0): the row's part of the total push.
    contribution
        The row's exact part of δ_j: f′·product at an example; averaged,
        w_jk · (1/n) Σ_r f′(z_rj) δ_rk.
    """

    weight_ref: WeightRef
    weight: float
    delta: float
    product: float
    share: float
    abs_share: float
    contribution: float


@dataclass(frozen=True)
class ChainRule:
    """δ_j = f′(z_j) · Σ_k w_jk δ_k for one hidden neuron, row by row.

    Attributes
    ----------
    neuron
        The neuron j (its layer l is hidden).
    example
        The row r of the pass, or None for the average over all ``n_rows`` rows.
    derivative
        f′(z_j) at the example, or its mean.
    weighted_sum
        Σ_k w_jk·δ_k (of the mean δ_k when averaged).
    delta
        The engine's δ_j at the example, or its mean; equals Σ_k contribution (and, at an
        example, derivative · weighted_sum) up to rounding.
    rows
        One :class:`ChainRuleRow` per downstream unit k, in order of k.
    """

    neuron: NeuronRef
    example: int | None
    n_rows: int
    derivative: float
    weighted_sum: float
    delta: float
    rows: tuple[ChainRuleRow, ...]


def chain_rule(
    snapshot: "Snapshot", neuron: NeuronRef, example: int | None = None, *, batch: bool = False
) -> ChainRule:
    """The chain-rule table of hidden neuron ``neuron`` (see the module).

    Parameters
    ----------
    snapshot
        The snapshot to read.
    neuron
        A hidden neuron: ``1 ≤ neuron.layer < L``.  Output neurons get δ from the loss and
        inputs have none, so both raise ValueError.
    example
        A row of the pass (0 … n_rows − 1: for the training set, the row of
        ``TrainingRun.X_train``; for the batch, the position in ``batch_pass.rows``), or None
        to average over all rows.
    batch
        False: the training-set pass; True: the mini-batch pass.
    """
    passes = select_passes(snapshot, batch)
    back = passes.backward
    depth = len(passes.weights)
    layer = check_layer(neuron.layer, 1, depth - 1, "a hidden neuron's layer")
    z = passes.forward.pre_activations[layer - 1]
    if not 0 <= neuron.j < z.shape[1]:
        raise ValueError(f"layer {layer} has {z.shape[1]} neurons, got j = {neuron.j}")
    n = passes.n_rows
    if example is not None and (
        isinstance(example, bool) or not isinstance(example, (int, np.integer)) or not 0 <= example < n
    ):
        raise ValueError(f"example must be a row in 0 … {n - 1}, got {example!r}")
    j = neuron.j
    act = get_activation(snapshot.activation_names[layer - 1])
    w = passes.weights[layer][j, :]  # w_jk for every k
    grad_down = back.grad_pre_activations[layer]  # type: ignore[union-attr]  # δ_{l+1} / n
    grad_here = back.grad_pre_activations[layer - 1][:, j]  # type: ignore[union-attr]  # δ_{l,j} / n
    with np.errstate(all="ignore"):
        if example is None:
            fprime = act.derivative(z[:, j], passes.forward.activations[layer][:, j])
            derivative = float(fprime.mean())
            delta_down = grad_down.sum(axis=0)  # mean_r δ_{l+1,rk}
            contribution = w * (fprime @ grad_down)  # w_jk · mean_r f′_r δ_rk
            delta = float(grad_here.sum())
        else:
            r = int(example)
            fprime_r = act.derivative(z[r : r + 1, j], passes.forward.activations[layer][r : r + 1, j])
            derivative = float(fprime_r[0])
            delta_down = grad_down[r] * n
            contribution = derivative * (w * delta_down)
            delta = float(grad_here[r] * n)
        product = w * delta_down
        total = float(product.sum())
        abs_total = float(np.abs(product).sum())
        share = product / total if total != 0 else np.full(len(w), np.nan)
        abs_share = np.abs(product) / abs_total if abs_total != 0 else np.full(len(w), np.nan)
    rows = tuple(
        ChainRuleRow(
            weight_ref=WeightRef(layer, j, k),
            weight=float(w[k]),
            delta=float(delta_down[k]),
            product=float(product[k]),
            share=float(share[k]),
            abs_share=float(abs_share[k]),
            contribution=float(contribution[k]),
        )
        for k in range(len(w))
    )
    return ChainRule(neuron, None if example is None else int(example), n, derivative, total, delta, rows)


# ---------------------------------------------------------------- one example's term of ∂J/∂w


@dataclass(frozen=True)
class ExampleProduct:
    """One example's term a_i·δ_j of the data term (1/n) Σ_r a_{ri}·δ_{rj} of ∂J/∂w."""

    example: int
    activation: float
    delta: float
    product: float


def example_product(snapshot: "Snapshot", ref: WeightRef, example: int, *, batch: bool = False) -> ExampleProduct:
    """a_i, δ_j and a_i·δ_j of weight ``ref`` at row ``example`` of the pass (see the module;
    ``batch`` as in :func:`chain_rule`).  Averaged over the rows, the products give the data
    term of :func:`~sandbox.analysis.gradient_terms.weight_gradient_terms`."""
    passes = select_passes(snapshot, batch)
    layer = check_layer(ref.layer, 0, len(passes.weights) - 1)
    n = passes.n_rows
    if isinstance(example, bool) or not isinstance(example, (int, np.integer)) or not 0 <= example < n:
        raise ValueError(f"example must be a row in 0 … {n - 1}, got {example!r}")
    a = float(passes.forward.activations[layer][example, ref.i])
    with np.errstate(all="ignore"):
        delta = float(passes.backward.grad_pre_activations[layer][example, ref.j] * n)  # type: ignore[union-attr]
        return ExampleProduct(int(example), a, delta, a * delta)


# ------------------------------------------------------------------ saturated or dead neurons

#: Activations whose slope is exactly 0 for z ≤ 0: a neuron can die.
CAN_DIE = ("relu",)


@dataclass(frozen=True)
class NeuronCondition:
    """Whether a hidden neuron passes blame back.

    Attributes
    ----------
    state
        ``"saturated"`` (a tanh or sigmoid output pinned near a limit, so f′ ≈ 0), ``"dead"``
        (f′ = 0 exactly: a ReLU whose input is ≤ 0), or ``"active"``.  Averaged over the rows:
        dead only if dead at every row; saturated if pinned at more than
        :data:`~sandbox.analysis.neuron_health.SATURATED_SHARE` of them, the canvas's rule
        (:func:`~sandbox.analysis.neuron_health.pinned` says what pinned is).
    fraction
        The share of rows where it is pinned (``counts == "saturated"``) or off, z ≤ 0
        (``counts == "dead"``): 0 or 1 at one example; 0 for activations that do neither.
    counts
        What ``fraction`` counts: ``"saturated"``, ``"dead"`` or ``""``.
    """

    state: str
    fraction: float
    counts: str = ""


def neuron_condition(
    snapshot: "Snapshot", neuron: NeuronRef, example: int | None = None, *, batch: bool = False
) -> NeuronCondition:
    """The condition of hidden (or output) neuron ``neuron`` (see :class:`NeuronCondition`)."""
    passes = select_passes(snapshot, batch, need_backward=False)
    layer = check_layer(neuron.layer, 1, len(passes.weights), "a neuron's layer")
    name = snapshot.activation_names[layer - 1]
    rows = slice(None) if example is None else slice(int(example), int(example) + 1)
    a = passes.forward.activations[layer][rows, neuron.j]
    if len(a) == 0:
        return NeuronCondition("active", 0.0)
    if name in SATURATING:
        share = float(np.mean(pinned(a, name)))
        return NeuronCondition("saturated" if share > SATURATED_SHARE else "active", share, "saturated")
    if name in CAN_DIE:
        zero = float(np.mean(passes.forward.pre_activations[layer - 1][rows, neuron.j] <= 0))
        return NeuronCondition("dead" if zero == 1.0 else "active", zero, "dead")
    return NeuronCondition("active", 0.0)
