"""Activation functions and their derivatives.

Every activation maps pre-activations ``z`` to activations ``a = f(z)`` element-wise (softmax
row-wise).  Backpropagation needs ``δ_z = δ_a ⊙ f'(z)``; each activation supplies that product
as ``backprop(z, a, grad_a)`` so it can use whichever of ``z`` or ``a`` gives the cheapest
exact derivative (``tanh' = 1 − a²``, ``σ' = a(1 − a)``), and softmax can apply its full
Jacobian.  ``backprop`` may reuse ``grad_a``'s memory for its result.

Each activation also supplies the derivative itself as ``derivative(z, a)`` = f'(z), a new
array shaped like ``z``, for display (the chain-rule table).  For every element-wise activation
``backprop(z, a, g) == g * derivative(z, a)``.  Softmax's derivative is a Jacobian
``∂a_k/∂z_m = a_k(δ_km − a_m)`` per row; its ``derivative`` returns the diagonal
``∂a_k/∂z_k = a_k(1 − a_k)`` only, while its ``backprop`` applies the full Jacobian-vector
product.

All functions take and return float64 arrays and never modify ``z`` or ``a``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray

LEAKY_RELU_SLOPE = 0.01
ELU_ALPHA = 1.0


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^(−z)) = exp(−log(1 + e^(−z))), finite and accurate for every z."""
    # logaddexp(0, −z) = log(1 + e^(−z)) without overflow; one ufunc instead of a branch.
    return np.exp(-np.logaddexp(0.0, -z))


def softmax(z: Array) -> Array:
    """softmax(z)_k = e^(z_k) / Σ_j e^(z_j), row-wise, shifted by the row max for stability."""
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _linear_fwd(z: Array) -> Array:
    # The engine never writes into a pass's arrays, so a and z may share memory.
    return z


def _linear_back(z: Array, a: Array, grad_a: Array) -> Array:
    # d/dz z = 1
    return grad_a


def _linear_deriv(z: Array, a: Array) -> Array:
    # linear'(z) = 1
    return np.ones_like(z)


def _relu_fwd(z: Array) -> Array:
    return np.maximum(z, 0.0)


def _relu_back(z: Array, a: Array, grad_a: Array) -> Array:
    # relu'(z) = 1 if z > 0 else 0 (0 at z = 0 by convention)
    return np.multiply(grad_a, z > 0, out=grad_a)


def _relu_deriv(z: Array, a: Array) -> Array:
    # relu'(z) = 1 if z > 0 else 0 (0 at z = 0, as in backprop)
    return (z > 0).astype(np.float64)


def _leaky_relu_fwd(z: Array) -> Array:
    return np.where(z > 0, z, LEAKY_RELU_SLOPE * z)


def _leaky_relu_back(z: Array, a: Array, grad_a: Array) -> Array:
    # leaky_relu'(z) = 1 if z > 0 else 0.01
    return grad_a * np.where(z > 0, 1.0, LEAKY_RELU_SLOPE)


def _leaky_relu_deriv(z: Array, a: Array) -> Array:
    # leaky_relu'(z) = 1 if z > 0 else 0.01
    return np.where(z > 0, 1.0, LEAKY_RELU_SLOPE)


def _elu_fwd(z: Array) -> Array:
    # expm1 on min(z, 0) keeps the unused branch from overflowing.
    return np.where(z > 0, z, ELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def _elu_back(z: Array, a: Array, grad_a: Array) -> Array:
    # elu'(z) = 1 if z > 0 else α·e^z = a + α
    return grad_a * np.where(z > 0, 1.0, a + ELU_ALPHA)


def _elu_deriv(z: Array, a: Array) -> Array:
    # elu'(z) = 1 if z > 0 else α·e^z = a + α
    return np.where(z > 0, 1.0, a + ELU_ALPHA)


def _tanh_fwd(z: Array) -> Array:
    return np.tanh(z)


def _tanh_back(z: Array, a: Array, grad_a: Array) -> Array:
    # tanh'(z) = 1 − tanh²(z) = 1 − a²
    derivative = a * a
    np.subtract(1.0, derivative, out=derivative)
    return np.multiply(grad_a, derivative, out=grad_a)


def _tanh_deriv(z: Array, a: Array) -> Array:
    # tanh'(z) = 1 − tanh²(z) = 1 − a²
    return 1.0 - a * a


def _sigmoid_back(z: Array, a: Array, grad_a: Array) -> Array:
    # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)
    return grad_a * (a * (1.0 - a))


def _sigmoid_deriv(z: Array, a: Array) -> Array:
    # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)
    return a * (1.0 - a)


def _softplus_fwd(z: Array) -> Array:
    # log(1 + e^z), finite for every finite z
    return np.logaddexp(0.0, z)


def _softplus_back(z: Array, a: Array, grad_a: Array) -> Array:
    # softplus'(z) = σ(z)
    return grad_a * sigmoid(z)


def _softplus_deriv(z: Array, a: Array) -> Array:
    # softplus'(z) = σ(z)
    return sigmoid(z)


def _swish_fwd(z: Array) -> Array:
    return z * sigmoid(z)


def _swish_back(z: Array, a: Array, grad_a: Array) -> Array:
    # swish(z) = z·σ(z);  swish'(z) = σ(z) + z·σ(z)(1 − σ(z)) = σ(z) + a(1 − σ(z))
    s = sigmoid(z)
    return grad_a * (s + a * (1.0 - s))


def _swish_deriv(z: Array, a: Array) -> Array:
    # swish'(z) = σ(z) + z·σ(z)(1 − σ(z)) = σ(z) + a(1 − σ(z))
    s = sigmoid(z)
    return s + a * (1.0 - s)


def _sine_fwd(z: Array) -> Array:
    return np.sin(z)


def _sine_back(z: Array, a: Array, grad_a: Array) -> Array:
    # sin'(z) = cos(z)
    return grad_a * np.cos(z)


def _sine_deriv(z: Array, a: Array) -> Array:
    # sin'(z) = cos(z)
    return np.cos(z)


def _softmax_back(z: Array, a: Array, grad_a: Array) -> Array:
    # The Jacobian is diag(a) − a aᵀ per row, so J·g = a ⊙ (g − (g·a)).
    return a * (grad_a - np.sum(grad_a * a, axis=-1, keepdims=True))


def _softmax_deriv(z: Array, a: Array) -> Array:
    # Only the Jacobian's diagonal, ∂a_k/∂z_k = a_k(1 − a_k); the off-diagonal terms
    # ∂a_k/∂z_m = −a_k a_m (k ≠ m) are not returned.  backprop uses the full Jacobian.
    return a * (1.0 - a)


@dataclass(frozen=True)
class Activation:
    """An activation function and the rule that backpropagates through it.

    Attributes
    ----------
    name
        The name used in session files and the UI.
    forward
        ``a = forward(z)``.
    backprop
        ``δ_z = backprop(z, a, δ_a)``: the chain rule through this activation.  It may
        overwrite ``δ_a`` (callers pass a temporary) but never ``z`` or ``a``.
    derivative
        ``f'(z) = derivative(z, a)`` with ``a = f(z)``, a new array shaped like ``z``.  For an
        element-wise activation ``backprop(z, a, g) == g * derivative(z, a)``; for softmax it
        is the Jacobian's diagonal ``a(1 − a)`` (backprop applies the full Jacobian).
    output_only
        True for activations that couple a row's units (softmax): last layer only.
    """

    name: str
    forward: Callable[[Array], Array]
    backprop: Callable[[Array, Array, Array], Array]
    derivative: Callable[[Array, Array], Array]
    output_only: bool = False


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", _linear_fwd, _linear_back, _linear_deriv),
        Activation("relu", _relu_fwd, _relu_back, _relu_deriv),
        Activation("leaky_relu", _leaky_relu_fwd, _leaky_relu_back, _leaky_relu_deriv),
        Activation("elu", _elu_fwd, _elu_back, _elu_deriv),
        Activation("tanh", _tanh_fwd, _tanh_back, _tanh_deriv),
        Activation("sigmoid", sigmoid, _sigmoid_back, _sigmoid_deriv),
        Activation("softplus", _softplus_fwd, _softplus_back, _softplus_deriv),
        Activation("swish", _swish_fwd, _swish_back, _swish_deriv),
        Activation("sine", _sine_fwd, _sine_back, _sine_deriv),
        Activation("softmax", softmax, _softmax_back, _softmax_deriv, output_only=True),
    )
}

#: Activations a hidden layer may use (softmax couples units, so it is output-only).
HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(n for n, a in ACTIVATIONS.items() if not a.output_only)


def get_activation(name: str) -> Activation:
    """Look up an activation by name, raising ValueError that lists the valid names."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name!r}; expected one of: {', '.join(ACTIVATIONS)}"
        ) from None
