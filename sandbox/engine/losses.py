"""Loss functions: the per-example loss ℓ_i and its gradient with respect to the output logits.

Each loss returns the *mean* loss over the batch, ``(1/n) Σ_i ℓ_i``, and the per-example error
signal at the output layer, ``δ_i = ∂ℓ_i/∂z_i`` (not divided by n).  Working from the logits z
rather than the activations a is what keeps bce and cross-entropy finite for every finite input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .activations import Activation

Array = np.ndarray


def _mse(z: Array, a: Array, y: Array, act: Activation) -> tuple[float, Array]:
    """ℓ = ½ Σ_k (a_k − y_k)²;  ∂ℓ/∂a = a − y, then back through the output activation."""
    diff = a - y
    loss = 0.5 * float(np.vdot(diff, diff)) / len(a)
    return loss, act.backprop(z, a, diff)


def _bce(z: Array, a: Array, y: Array, act: Activation) -> tuple[float, Array]:
    """Binary cross-entropy on a sigmoid output, from the logits.

    ℓ = −Σ_k [y log σ(z) + (1 − y) log(1 − σ(z))] = Σ_k [log(1 + e^z) − z·y]
    ∂ℓ/∂z = σ(z) − y = a − y
    """
    # Subtract per element before summing so large logits do not cancel across the batch.
    loss = float((np.logaddexp(0.0, z) - z * y).sum()) / len(z)
    return loss, a - y


def _cross_entropy(z: Array, a: Array, y: Array, act: Activation) -> tuple[float, Array]:
    """Categorical cross-entropy on a softmax output, with log-sum-exp.

    log a_k = z_k − logsumexp(z), so ℓ = −Σ_k y_k log a_k = Σ_k y_k (lse(z) − z_k)
    ∂ℓ/∂z_k = a_k Σ_j y_j − y_k   (= a_k − y_k when y sums to 1)
    """
    zmax = z.max(axis=1, keepdims=True)
    lse = zmax + np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
    y_sum = y.sum(axis=1, keepdims=True)
    # Subtract per element before summing (as in bce): summing lse and y·z over the batch first
    # would round a small loss to the precision of the largest logit in the batch.
    loss = float((y * (lse - z)).sum()) / len(z)
    return loss, a * y_sum - y


def _mse_rows(z: Array, a: Array, y: Array) -> Array:
    """ℓ_r = ½ Σ_k (a_rk − y_rk)², one per row."""
    diff = a - y
    return 0.5 * np.einsum("rk,rk->r", diff, diff)


def _bce_rows(z: Array, a: Array, y: Array) -> Array:
    """ℓ_r = Σ_k [log(1 + e^z_rk) − z_rk·y_rk], one per row (as :func:`_bce`)."""
    return (np.logaddexp(0.0, z) - z * y).sum(axis=1)


def _cross_entropy_rows(z: Array, a: Array, y: Array) -> Array:
    """ℓ_r = Σ_k y_rk (lse(z_r) − z_rk), one per row (as :func:`_cross_entropy`)."""
    zmax = z.max(axis=1, keepdims=True)
    lse = zmax + np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
    return (y * (lse - z)).sum(axis=1)


@dataclass(frozen=True)
class Loss:
    """A loss function.

    Attributes
    ----------
    name
        The name used in session files and the UI.
    evaluate
        ``(mean_loss, δ_out) = evaluate(z_out, a_out, y, output_activation)``.
    requires_activation
        The output activation this loss is defined for, or None for any.
    per_example
        ``ℓ = per_example(z_out, a_out, y)``: each row's loss ℓ_r, (n,); ``evaluate``'s mean
        loss is their mean (up to rounding).  For views that follow one example.
    """

    name: str
    evaluate: Callable[[Array, Array, Array, Activation], tuple[float, Array]]
    requires_activation: str | None = None
    per_example: Callable[[Array, Array, Array], Array] | None = None


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", _mse, per_example=_mse_rows),
        Loss("bce", _bce, requires_activation="sigmoid", per_example=_bce_rows),
        Loss("cross_entropy", _cross_entropy, requires_activation="softmax", per_example=_cross_entropy_rows),
    )
}


def get_loss(name: str) -> Loss:
    """Look up a loss by name, raising ValueError that lists the valid names."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; expected one of: {', '.join(LOSSES)}") from None
