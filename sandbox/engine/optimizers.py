"""Optimizers with explicit, saveable state.

An optimizer never changes parameters itself.  ``propose`` takes the gradients and the current
state and returns the update Δp for every parameter together with the *new* state; the caller
applies ``p + Δp`` and keeps the new state only if the result is finite.  That is what lets the
training run reject a divergent step and keep the last finite state, and lets the inspector
preview "the update the optimizer would apply next" without applying it.

Parameters are handled as one flat list ``[W_0, b_0, W_1, b_1, …]``.

Update rules (g = ∂J/∂p, η = learning rate):

========  =====================================================================================
sgd       Δp = −η g
momentum  v ← β v + g;             Δp = −η v                     (PyTorch's convention)
rmsprop   s ← ρ s + (1 − ρ) g²;     Δp = −η g / (√s + ε)
adam      m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²;   t ← t + 1
          Δp = −η m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
========  =====================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

Array = np.ndarray

#: Default hyperparameters of each optimizer (the learning rate is set separately).
OPTIMIZER_DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {},
    "momentum": {"beta": 0.9},
    "rmsprop": {"rho": 0.9, "eps": 1e-8},
    "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}

#: Names of the per-parameter state buffers each optimizer keeps.
STATE_BUFFERS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("velocity",),
    "rmsprop": ("mean_square",),
    "adam": ("m", "v"),
}

#: What each state buffer holds, in words (messages name a buffer by it).
STATE_BUFFER_MEANINGS: dict[str, str] = {
    "velocity": "velocity (the running sum of gradients)",
    "mean_square": "squared-gradient average",
    "m": "gradient average",
    "v": "squared-gradient average",
}

#: Buffers that hold squared gradients: they overflow once gradients pass ~1e154, while the
#: update (m / √v) and so the weights stay finite.
SQUARED_BUFFERS = frozenset({"mean_square", "v"})

OPTIMIZERS: tuple[str, ...] = tuple(OPTIMIZER_DEFAULTS)


@dataclass(frozen=True)
class OptimizerState:
    """The optimizer's memory between steps.

    Attributes
    ----------
    buffers
        Buffer name → one array per parameter, shaped like it (see ``STATE_BUFFERS``).
    t
        Number of updates applied (Adam's bias correction uses it).
    """

    buffers: dict[str, list[Array]] = field(default_factory=dict)
    t: int = 0


def check_optimizer(name: str, hyper: dict[str, float] | None = None) -> dict[str, float]:
    """Validate an optimizer name and hyperparameters; return the full hyperparameter set."""
    if name not in OPTIMIZER_DEFAULTS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of: {', '.join(OPTIMIZERS)}")
    merged = dict(OPTIMIZER_DEFAULTS[name])
    for key, value in (hyper or {}).items():
        if key not in merged:
            raise ValueError(f"optimizer {name!r} has no hyperparameter {key!r}")
        value = float(value)
        if key == "eps":
            if not (0.0 < value < 1.0):
                raise ValueError(f"{name} eps must be in (0, 1), got {value!r}")
        elif not (0.0 <= value < 1.0):
            raise ValueError(f"{name} {key} must be in [0, 1), got {value!r}")
        merged[key] = value
    return merged


def initial_state(name: str, params: Sequence[Array]) -> OptimizerState:
    """Zeroed state for ``params``."""
    return OptimizerState({buf: [np.zeros_like(p) for p in params] for buf in STATE_BUFFERS[name]})


def propose(
    name: str,
    hyper: dict[str, float],
    lr: float,
    grads: Sequence[Array],
    state: OptimizerState,
) -> tuple[list[Array], OptimizerState]:
    """The update Δp for every parameter and the optimizer state after it.

    Neither ``grads`` nor ``state`` is modified.
    """
    if name == "sgd":
        return [g * -lr for g in grads], state
    if name == "momentum":
        beta = hyper["beta"]
        velocity = [beta * v + g for v, g in zip(state.buffers["velocity"], grads)]
        return [v * -lr for v in velocity], OptimizerState({"velocity": velocity}, state.t + 1)
    if name == "rmsprop":
        rho, eps = hyper["rho"], hyper["eps"]
        mean_sq = [rho * s + (1.0 - rho) * (g * g) for s, g in zip(state.buffers["mean_square"], grads)]
        steps = [g * -lr / (np.sqrt(s) + eps) for g, s in zip(grads, mean_sq)]
        return steps, OptimizerState({"mean_square": mean_sq}, state.t + 1)
    if name == "adam":
        b1, b2, eps = hyper["beta1"], hyper["beta2"], hyper["eps"]
        t = state.t + 1
        m = [b1 * m_ + (1.0 - b1) * g for m_, g in zip(state.buffers["m"], grads)]
        v = [b2 * v_ + (1.0 - b2) * (g * g) for v_, g in zip(state.buffers["v"], grads)]
        # Fold both bias corrections into one scalar: η m̂/(√v̂+ε) with √v̂ = √v/√(1−β₂ᵗ).
        c1 = 1.0 - b1**t
        sqrt_c2 = np.sqrt(1.0 - b2**t)
        steps = [(-lr / c1) * m_ / (np.sqrt(v_) / sqrt_c2 + eps) for m_, v_ in zip(m, v)]
        return steps, OptimizerState({"m": m, "v": v}, t)
    raise ValueError(f"unknown optimizer {name!r}; expected one of: {', '.join(OPTIMIZERS)}")
