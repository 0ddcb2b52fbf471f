"""The non-finite guard's questions about a proposed step: is everything it would commit
finite, and if not, what went non-finite first.

A step commits new parameters, a new optimizer state and its update.  The update is finite
exactly when the new parameters are (the old ones are finite), so the parameters and the
optimizer buffers are what must be checked.  The cause is named in the order the values follow
from each other: the gradient, then the optimizer state built from it, then the parameters.
"""

from __future__ import annotations

import numpy as np

from ..engine import BackwardPass, OptimizerState, ParameterLayout
from ..engine.optimizers import STATE_BUFFERS
from .config import Hyperparameters
from .scoring import first_nonfinite_layer
from .state import Divergence

Array = np.ndarray


def finite_buffers(state: OptimizerState) -> bool:
    """Whether every optimizer buffer is finite (checked element-wise, not through a sum of
    squares: a squared-gradient buffer may hold finite values near the largest double)."""
    return all(bool(np.isfinite(array).all()) for arrays in state.buffers.values() for array in arrays)


def first_nonfinite(step: int, hyper: Hyperparameters, layout: ParameterLayout, back: BackwardPass,
                    new_state: OptimizerState, new_flat: Array) -> Divergence | None:
    """Why a proposed step must be refused, or None when everything is finite.

    Parameters
    ----------
    step
        The number the step would have.
    hyper
        The hyperparameters in force (the optimizer, whose buffers are searched, and the rate).
    layout
        How flat parameter vectors (and buffers) split into layers.
    back
        The step's backward pass (its gradients).
    new_state, new_flat
        The optimizer state and parameters the step would commit.
    """
    rate = hyper.learning_rate
    bad = first_nonfinite_layer(back.grad_weights, back.grad_biases, reverse=True)
    if bad is not None:
        return Divergence(step, "gradient", bad, rate)
    for name in STATE_BUFFERS[hyper.optimizer]:
        bad = first_nonfinite_layer(*layout.unpack(new_state.buffers[name][0]))
        if bad is not None:
            return Divergence(step, "optimizer_state", bad, rate, buffer=name)
    bad = first_nonfinite_layer(*layout.unpack(new_flat))
    return None if bad is None else Divergence(step, "weights", bad, rate)
