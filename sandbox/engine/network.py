"""The fully connected network: forward pass, backward pass and the public gradient function.

Notation (layer l = 0 … L−1 maps n_l units to n_{l+1} units)::

    a_0 = X                                   (batch, n_0)
    z_{l+1} = a_l W_l + b_l                   W_l: (n_l, n_{l+1}),  b_l: (n_{l+1},)
    a_{l+1} = f_l(z_{l+1})
    J = (1/n) Σ_i ℓ_i + l1 Σ_l Σ|W_l| + (l2/2) Σ_l Σ W_l²

Backpropagation carries the error signal δ = ∂ℓ_i/∂z per example::

    δ_L       = ∂ℓ/∂z_L                         (from the loss, see ``losses.py``)
    δ_l       = f'_{l}(z_l) ⊙ (δ_{l+1} W_lᵀ)      (chain rule through layer l)
    ∂J/∂W_l   = a_lᵀ δ_{l+1} / n + l1·sign(W_l) + l2·W_l
    ∂J/∂b_l   = Σ_i δ_{l+1,i} / n

The network object holds no parameters, only the architecture (activations and loss), so one
validated ``Network`` can evaluate any set of weights: the training step, a hand-edited copy,
or a 100×100 grid for the heatmaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .activations import Activation, get_activation
from .losses import Loss, get_loss

Array = np.ndarray


@dataclass(frozen=True)
class ForwardPass:
    """Everything the forward pass computed.

    Attributes
    ----------
    pre_activations
        ``z_1 … z_L``, each (batch, n_{l+1}).
    activations
        ``a_0 … a_L``; ``a_0`` is the input batch, ``a_L`` the network's output.
    """

    pre_activations: list[Array]
    activations: list[Array]

    @property
    def output(self) -> Array:
        return self.activations[-1]

    @property
    def batch_size(self) -> int:
        return len(self.activations[0])


@dataclass(frozen=True)
class BackwardPass:
    """The objective and its gradients for one batch.

    Attributes
    ----------
    objective
        J: the mean data loss plus the regularisation penalty.
    data_loss
        (1/n) Σ_i ℓ_i alone, comparable between train and test sets.
    grad_weights, grad_biases
        ∂J/∂W_l and ∂J/∂b_l, shaped like the parameters.
    grad_pre_activations
        ∂J/∂z_{l+1} = δ_{l+1} / n for every layer, each (batch, n_{l+1}).
    """

    objective: float
    data_loss: float
    grad_weights: list[Array]
    grad_biases: list[Array]
    grad_pre_activations: list[Array]

    @property
    def deltas(self) -> list[Array]:
        """Per-example error signals δ_{l+1} = ∂ℓ_i/∂z_{l+1}, each (batch, n_{l+1}).

        ``∂J/∂W_l = a_lᵀ δ_{l+1} / n`` (+ regularisation) term by term.
        """
        n = len(self.grad_pre_activations[-1])
        return [g * n for g in self.grad_pre_activations]


class Network:
    """A validated architecture: one activation per layer and a loss.

    Parameters
    ----------
    activations
        Names, one per layer (hidden layers then the output layer).
    loss
        ``"mse"``, ``"bce"`` (sigmoid output) or ``"cross_entropy"`` (softmax output).

    Raises
    ------
    ValueError
        For unknown names, an output-only activation in a hidden layer, or a loss paired with
        the wrong output activation.
    """

    def __init__(self, activations: Sequence[str], loss: str) -> None:
        if isinstance(activations, str) or len(activations) == 0:
            raise ValueError("activations must be a non-empty list with one name per layer")
        acts = [get_activation(name) for name in activations]
        for index, act in enumerate(acts[:-1]):
            if act.output_only:
                raise ValueError(
                    f"{act.name} is allowed in the last layer only, but layer {index} uses it"
                )
        loss_fn = get_loss(loss)
        if loss_fn.requires_activation and acts[-1].name != loss_fn.requires_activation:
            raise ValueError(
                f"loss {loss_fn.name!r} needs a {loss_fn.requires_activation} last layer, "
                f"but the last activation is {acts[-1].name!r}"
            )
        self.activations: tuple[Activation, ...] = tuple(acts)
        self.loss: Loss = loss_fn
        self._ones_cache: dict[int, Array] = {}

    @property
    def depth(self) -> int:
        return len(self.activations)

    def _ones(self, n: int) -> Array:
        """A cached, read-only vector of n ones (for summing a batch with BLAS)."""
        ones = self._ones_cache.get(n)
        if ones is None:
            ones = np.ones(n)
            ones.setflags(write=False)
            if len(self._ones_cache) > 8:
                self._ones_cache.clear()
            self._ones_cache[n] = ones
        return ones

    def forward(self, weights: Sequence[Array], biases: Sequence[Array], X: Array) -> ForwardPass:
        """Run the network on a batch, keeping every z and a for backprop and for display."""
        a = X
        zs: list[Array] = []
        acts: list[Array] = [X]
        for W, b, act in zip(weights, biases, self.activations):
            z = a @ W
            z += b
            a = act.forward(z)
            zs.append(z)
            acts.append(a)
        return ForwardPass(zs, acts)

    def backward(
        self,
        weights: Sequence[Array],
        fwd: ForwardPass,
        y: Array,
        l1: float = 0.0,
        l2: float = 0.0,
    ) -> BackwardPass:
        """Backpropagate the loss of ``fwd`` against targets ``y`` (see the module docstring)."""
        n = fwd.batch_size
        zs, acts = fwd.pre_activations, fwd.activations
        data_loss, delta = self.loss.evaluate(zs[-1], acts[-1], y, self.activations[-1])
        grad_z = delta * (1.0 / n)  # ∂J/∂z_L = δ_L / n
        depth = len(weights)
        grad_w: list[Array] = [None] * depth  # type: ignore[list-item]
        grad_b: list[Array] = [None] * depth  # type: ignore[list-item]
        grad_zs: list[Array] = [None] * depth  # type: ignore[list-item]
        ones = self._ones(n)
        for layer in range(depth - 1, -1, -1):
            grad_zs[layer] = grad_z
            grad_w[layer] = acts[layer].T @ grad_z  # ∂J/∂W_l = a_lᵀ (δ_{l+1}/n)
            # ∂J/∂b_l = Σ_i δ_{l+1,i}/n; as a matrix-vector product it runs in BLAS, about
            # twice as fast as sum(axis=0) on a (256, 64) batch.
            grad_b[layer] = ones @ grad_z
            if layer:
                # ∂J/∂z_l = f'(z_l) ⊙ (∂J/∂z_{l+1} W_lᵀ)
                W = weights[layer]
                # With one output unit the product is an outer product, which broadcasting
                # computes exactly (no sums involved) and much faster than BLAS does.
                grad_a = grad_z * W.T if W.shape[1] == 1 else grad_z @ W.T
                grad_z = self.activations[layer - 1].backprop(zs[layer - 1], acts[layer], grad_a)
        objective = data_loss
        if l1:
            # d/dW l1|W| = l1·sign(W), with sign(0) = 0
            objective += l1 * sum(float(np.abs(W).sum()) for W in weights)
            grad_w = [g + l1 * np.sign(W) for g, W in zip(grad_w, weights)]
        if l2:
            # d/dW (l2/2) W² = l2·W
            objective += 0.5 * l2 * sum(float(np.vdot(W, W)) for W in weights)
            grad_w = [g + l2 * W for g, W in zip(grad_w, weights)]
        return BackwardPass(objective, data_loss, grad_w, grad_b, grad_zs)

    def predict(self, weights: Sequence[Array], biases: Sequence[Array], X: Array) -> Array:
        """The network's output only, without keeping intermediate layers."""
        a = X
        for W, b, act in zip(weights, biases, self.activations):
            z = a @ W
            z += b
            a = act.forward(z)
        return a


def _as_float_array(value: object, what: str) -> Array:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a numeric array: {exc}") from None
    return arr


def validate_parameters(
    weights: Sequence[Array], biases: Sequence[Array], n_inputs: int | None = None
) -> tuple[list[Array], list[Array]]:
    """Check that weights and biases chain into a network; return them as float64 arrays.

    Raises ValueError naming the first layer whose shapes do not fit.
    """
    if len(weights) != len(biases):
        raise ValueError(f"got {len(weights)} weight matrices but {len(biases)} bias vectors")
    Ws = [_as_float_array(W, f"weights[{i}]") for i, W in enumerate(weights)]
    bs = [_as_float_array(b, f"biases[{i}]") for i, b in enumerate(biases)]
    fan_in = n_inputs
    for i, (W, b) in enumerate(zip(Ws, bs)):
        if W.ndim != 2:
            raise ValueError(f"weights[{i}] must be 2-D (n_in, n_out), got shape {W.shape}")
        if b.shape != (W.shape[1],):
            raise ValueError(
                f"biases[{i}] must have shape ({W.shape[1]},) to match weights[{i}] "
                f"of shape {W.shape}, got {b.shape}"
            )
        if fan_in is not None and W.shape[0] != fan_in:
            where = "X has" if i == 0 else f"layer {i - 1} outputs"
            raise ValueError(
                f"weights[{i}] has shape {W.shape} but {where} {fan_in} columns; "
                f"expected ({fan_in}, n_out)"
            )
        fan_in = W.shape[1]
    return Ws, bs


def loss_and_gradients(
    weights: Sequence[Array],
    biases: Sequence[Array],
    activations: Sequence[str],
    loss: str,
    X: Array,
    y: Array,
    *,
    l1: float = 0.0,
    l2: float = 0.0,
) -> tuple[float, list[Array], list[Array]]:
    """The objective J and its exact gradients for a fully connected network.

    Parameters
    ----------
    weights
        ``weights[l]`` of shape (n_l, n_{l+1}).
    biases
        ``biases[l]`` of shape (n_{l+1},).
    activations
        One name per layer: linear, relu, leaky_relu, elu, tanh, sigmoid, softplus, swish,
        sine, or softmax (last layer only).
    loss
        ``mse``, ``bce`` (needs a sigmoid last layer) or ``cross_entropy`` (needs softmax).
    X, y
        Inputs (batch, n_0) and targets (batch, n_L).
    l1, l2
        Regularisation rates: J = (1/n) Σ ℓ_i + l1 Σ|W| + (l2/2) Σ W².  Biases are not
        regularised.

    Returns
    -------
    (J, grad_weights, grad_biases)
        J as a float; ∂J/∂W_l and ∂J/∂b_l shaped like the parameters, float64.

    Raises
    ------
    ValueError
        Mismatched shapes, unknown names, or a loss paired with the wrong last activation.
    """
    if len(activations) != len(weights):
        raise ValueError(
            f"got {len(weights)} weight matrices but {len(activations)} activations; "
            "give one activation per layer"
        )
    net = Network(activations, loss)
    Xa = _as_float_array(X, "X")
    ya = _as_float_array(y, "y")
    if Xa.ndim != 2:
        raise ValueError(f"X must be 2-D (batch, n_inputs), got shape {Xa.shape}")
    if len(Xa) == 0:
        raise ValueError("X has no rows")
    Ws, bs = validate_parameters(weights, biases, n_inputs=Xa.shape[1])
    expected_y = (Xa.shape[0], Ws[-1].shape[1])
    if ya.shape != expected_y:
        raise ValueError(f"y must have shape {expected_y} (batch, outputs), got {ya.shape}")
    for name, value in (("l1", l1), ("l2", l2)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    fwd = net.forward(Ws, bs, Xa)
    back = net.backward(Ws, fwd, ya, float(l1), float(l2))
    return back.objective, back.grad_weights, back.grad_biases


class ParameterLayout:
    """Packs ``[W_0, b_0, W_1, b_1, …]`` into one flat float64 vector and back.

    The optimizer updates the flat vector with a handful of whole-vector operations instead of
    a few per layer, which matters for small networks where numpy's per-call cost dominates.
    Unpacking returns views, so it costs no copy.
    """

    def __init__(self, layer_sizes: Sequence[int]) -> None:
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        shapes: list[tuple[int, ...]] = []
        for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            shapes += [(fan_in, fan_out), (fan_out,)]
        self.shapes = tuple(shapes)
        offsets = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
        self.size = int(offsets[-1])
        self._slices = [
            (slice(int(a), int(b)), shape) for a, b, shape in zip(offsets[:-1], offsets[1:], shapes)
        ]

    def pack(self, weights: Sequence[Array], biases: Sequence[Array]) -> Array:
        """One flat vector holding every parameter, in the order W_0, b_0, W_1, b_1, …"""
        parts = [p.reshape(-1) for pair in zip(weights, biases) for p in pair]
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, flat: Array) -> tuple[list[Array], list[Array]]:
        """Views of ``flat`` as (weights, biases)."""
        views = [flat[s] if len(shape) == 1 else flat[s].reshape(shape) for s, shape in self._slices]
        return views[0::2], views[1::2]
