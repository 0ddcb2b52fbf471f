"""A network's compiled training step: the codes its kernel needs and one call per step."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from ..activations import ACTIVATIONS
from ..losses import LOSSES
from ..optimizers import OPTIMIZERS, STATE_BUFFERS, OptimizerState

Array = np.ndarray

#: What ``info[0]`` names (None: nothing went non-finite), as ``session.state.QUANTITIES``.
QUANTITY = (None, "loss", "gradient", "optimizer_state", "weights")

_NO_BUFFER = np.zeros(0)
_NO_BUFFER.setflags(write=False)
_NO_OUTPUT = np.zeros(0)  # an output the kernel never writes (the optimizer has no such buffer)


class StepResult(NamedTuple):
    """One proposed step, not committed.

    Attributes
    ----------
    quantity, layer, buffer
        What went non-finite first (the guard's order), or None for all three when the step may
        be committed.
    objective, data_loss
        J and the mean data loss on the batch.
    grad_norms, update_ratios
        ‖∂J/∂W_l‖ and ‖ΔW_l‖/‖W_l‖ per layer (meaningful only when committable).
    new_flat, delta, new_state
        The parameters, update and optimizer state the step would commit.
    """

    quantity: str | None
    layer: int | None
    buffer: str | None
    objective: float
    data_loss: float
    grad_norms: list[float]
    update_ratios: list[float]
    new_flat: Array
    delta: Array
    new_state: OptimizerState


class StepSettings(NamedTuple):
    """The kernel's view of the training settings (made once per change of them)."""

    optimizer: str
    buffers: tuple[str, ...]
    cfg: Array
    hp: Array
    beta1: float
    beta2: float


class CompiledStep:
    """The step kernel bound to one architecture.

    Parameters
    ----------
    kernels
        The loaded kernels module (``compiled.load()``).
    layer_sizes
        ``(n_0, …, n_L)``.
    activations, loss
        Names, as the numpy ``Network`` takes them.
    """

    def __init__(self, kernels, layer_sizes: Sequence[int], activations: Sequence[str], loss: str) -> None:
        self._kernel = kernels.train_step
        act_codes = list(ACTIVATIONS)
        depth = len(layer_sizes) - 1
        self.depth = depth
        self._head = [depth, list(LOSSES).index(loss)]
        self._tail = [int(n) for n in layer_sizes] + [act_codes.index(a) for a in activations]
        self.size = sum(int(a) * int(b) + int(b) for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))

    def settings(self, optimizer: str, hyper: dict[str, float], lr: float, l1: float, l2: float) -> StepSettings:
        """The settings in the kernel's form; pass them to every call while they hold."""
        cfg = np.array(self._head + [OPTIMIZERS.index(optimizer)] + self._tail, dtype=np.int64)
        own = {"momentum": ("beta",), "rmsprop": ("rho", "eps"), "adam": ("beta1", "beta2", "eps")}.get(optimizer, ())
        values = [float(hyper[name]) for name in own]
        hp = np.array([lr, l1, l2, *values] + [0.0] * (4 - len(values)), dtype=np.float64)
        for array in (cfg, hp):
            array.setflags(write=False)
        return StepSettings(optimizer, STATE_BUFFERS[optimizer], cfg, hp,
                            float(hyper.get("beta1", 0.0)), float(hyper.get("beta2", 0.0)))

    def __call__(self, X: Array, Y: Array, rows: Array, flat: Array, state: OptimizerState,
                 settings: StepSettings) -> StepResult:
        """Propose one step on the batch ``X[rows]``, ``Y[rows]`` from ``flat`` and ``state``.

        Neither ``flat`` nor ``state`` is modified; the arrays of the result are new.
        """
        if rows.dtype != np.int64 or not rows.flags.c_contiguous:
            rows = np.ascontiguousarray(rows, dtype=np.int64)  # the kernel's one signature
        names = settings.buffers
        size = self.size
        hp = settings.hp
        t = state.t
        if names:
            t += 1
            buf0 = state.buffers[names[0]][0]
            new_buf0 = np.empty(size)
            if len(names) > 1:
                buf1 = state.buffers[names[1]][0]
                new_buf1 = np.empty(size)
                # Adam: as propose folds them, −η/(1 − β₁ᵗ) in place of η and √(1 − β₂ᵗ).
                hp = hp.copy()
                hp[0] = -hp[0] / (1.0 - settings.beta1**t)
                hp[6] = np.sqrt(1.0 - settings.beta2**t)
            else:
                buf1, new_buf1 = _NO_BUFFER, _NO_OUTPUT
        else:
            buf0 = buf1 = _NO_BUFFER
            new_buf0 = new_buf1 = _NO_OUTPUT
        new_flat = np.empty(size)
        delta = np.empty(size)
        depth = self.depth
        stats = np.empty(2 + 2 * depth)
        info = np.empty(3, dtype=np.int64)
        self._kernel(X, Y, rows, flat, buf0, buf1, settings.cfg, hp,
                     new_flat, delta, new_buf0, new_buf1, stats, info)
        status, layer, buffer = info.tolist()
        if not names:
            new_state = state
        elif len(names) > 1:
            new_state = OptimizerState({names[0]: [new_buf0], names[1]: [new_buf1]}, t)
        else:
            new_state = OptimizerState({names[0]: [new_buf0]}, t)
        values = stats.tolist()
        return StepResult(
            QUANTITY[status],
            None if status <= 1 else layer,
            names[buffer] if status == 3 else None,
            values[0], values[1],
            values[2 : 2 + depth], values[2 + depth :],
            new_flat, delta, new_state,
        )
