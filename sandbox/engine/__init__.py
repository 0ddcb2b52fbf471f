"""The numpy engine: activations, losses, forward and backward passes, optimizers, initialisers.

Pure numpy in float64; nothing here imports Qt.  The public contract is
:func:`loss_and_gradients`; :class:`Network` exposes every layer's z, a and error signal δ
for the app to explain a gradient term by term.  This numpy code is the readable reference;
:mod:`sandbox.engine.compiled` runs the same training step as numba kernels for speed (and
imports numba only when first used).
"""

from .activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, get_activation
from .initializers import INITIALIZERS, initialize
from .losses import LOSSES, get_loss
from .network import (
    BackwardPass,
    ForwardPass,
    Network,
    ParameterLayout,
    loss_and_gradients,
    validate_parameters,
)
from .optimizers import OPTIMIZER_DEFAULTS, OPTIMIZERS, OptimizerState, initial_state, propose

__all__ = [
    "ACTIVATIONS",
    "HIDDEN_ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "OPTIMIZERS",
    "OPTIMIZER_DEFAULTS",
    "BackwardPass",
    "ForwardPass",
    "Network",
    "OptimizerState",
    "ParameterLayout",
    "get_activation",
    "get_loss",
    "initial_state",
    "initialize",
    "loss_and_gradients",
    "propose",
    "validate_parameters",
]
