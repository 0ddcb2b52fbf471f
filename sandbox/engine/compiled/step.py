"""A network's compiled training step: the codes its kernel needs and one call per step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..activations import ACTIVATIONS
from ..losses import LOSSES
from ..optimizers import OPTIMIZERS, STATE_BUFFERS, OptimizerState

Array = np.ndarray

#: What ``info[0]`` names (None: nothing went non-finite), as ``session.state.QUANTITIES``.
QUANTITY = (None, "loss", "gradient", "optimizer_state", "weights")

_NO_BUFFER = np.zeros(0)
_NO_BUFFER.setflags(write=False)


@dataclass(frozen=True)
class StepResult:
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
        self._cfg: dict[str, Array] = {}
        self.size = sum(int(a) * int(b) + int(b) for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))

    def _config(self, optimizer: str) -> Array:
        cfg = self._cfg.get(optimizer)
        if cfg is None:
            cfg = np.array(self._head + [OPTIMIZERS.index(optimizer)] + self._tail, dtype=np.int64)
            cfg.setflags(write=False)
            self._cfg[optimizer] = cfg
        return cfg

    def __call__(self, X: Array, Y: Array, rows: Array, flat: Array, optimizer: str,
                 hyper: dict[str, float], lr: float, l1: float, l2: float,
                 state: OptimizerState) -> StepResult:
        """Propose one step on the batch ``X[rows]``, ``Y[rows]`` from ``flat`` and ``state``.

        Neither ``flat`` nor ``state`` is modified; the arrays of the result are new.
        """
        names = STATE_BUFFERS[optimizer]
        buffers = state.buffers
        buf0 = buffers[names[0]][0] if names else _NO_BUFFER
        buf1 = buffers[names[1]][0] if len(names) > 1 else _NO_BUFFER
        t = state.t
        if optimizer == "adam":
            t += 1
            # As propose folds them: −η/(1 − β₁ᵗ) and √(1 − β₂ᵗ).
            hp = (-lr / (1.0 - hyper["beta1"] ** t), l1, l2, hyper["beta1"], hyper["beta2"], hyper["eps"],
                  float(np.sqrt(1.0 - hyper["beta2"] ** t)))
        elif optimizer == "rmsprop":
            t += 1
            hp = (lr, l1, l2, hyper["rho"], hyper["eps"], 0.0, 0.0)
        elif optimizer == "momentum":
            t += 1
            hp = (lr, l1, l2, hyper["beta"], 0.0, 0.0, 0.0)
        else:
            hp = (lr, l1, l2, 0.0, 0.0, 0.0, 0.0)
        hp_array = np.array(hp)
        hp_array.setflags(write=False)
        size = self.size
        new_flat = np.empty(size)
        delta = np.empty(size)
        new_buf0 = np.empty(size) if names else np.empty(0)
        new_buf1 = np.empty(size) if len(names) > 1 else np.empty(0)
        depth = self.depth
        stats = np.empty(2 + 2 * depth)
        info = np.empty(3, dtype=np.int64)
        self._kernel(X, Y, rows, flat, buf0, buf1, self._config(optimizer), hp_array,
                     new_flat, delta, new_buf0, new_buf1, stats, info)
        status = int(info[0])
        if optimizer == "sgd":
            new_state = state
        else:
            kept = {names[0]: [new_buf0]}
            if len(names) > 1:
                kept[names[1]] = [new_buf1]
            new_state = OptimizerState(kept, t)
        values = stats.tolist()
        return StepResult(
            QUANTITY[status],
            None if status <= 1 else int(info[1]),
            names[int(info[2])] if status == 3 else None,
            values[0], values[1],
            values[2 : 2 + depth], values[2 + depth :],
            new_flat, delta, new_state,
        )

