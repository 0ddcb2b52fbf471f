"""The state of a training run as one immutable value.

:class:`RunState` is what :meth:`TrainingRun.capture <sandbox.session.run.TrainingRun.capture>`
returns and :meth:`TrainingRun.restore <sandbox.session.run.TrainingRun.restore>` puts back.
Session files store one (see ``session_file``), ``reset`` builds one, and checkpoints for time
travel can keep many: every array inside is read-only and the run never writes an array in
place, so a capture shares the run's arrays instead of copying them.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from ..engine import OptimizerState
from ..engine.optimizers import SQUARED_BUFFERS, STATE_BUFFER_MEANINGS, STATE_BUFFERS
from ..formatting import format_number
from .config import Hyperparameters

Array = np.ndarray

#: The three phases of a step, in order.  ``"idle"`` means no phase of the next step has run.
PHASES = ("idle", "forward", "backward")

#: What a divergence can name, in the order the guard looks (the first is the cause).
QUANTITIES = ("loss", "gradient", "optimizer_state", "weights")

#: Gradients above about √(largest double) overflow when squared.
SQUARE_OVERFLOW = 1e154

_SEED_LIMIT = 2**63
_COUNT_LIMIT = 2**62


@dataclass(frozen=True)
class Divergence:
    """Why the non-finite guard refused a step.

    Attributes
    ----------
    step
        The number the refused step would have had.
    quantity
        ``"loss"``, ``"gradient"``, ``"optimizer_state"`` or ``"weights"`` (the first of these,
        in this order, that went non-finite: the one the others follow from).
    layer
        Index of the layer whose values went non-finite (None for the loss).
    learning_rate
        The learning rate in force.
    buffer
        For ``"optimizer_state"``: the name of the optimizer's buffer that went non-finite
        (one of ``STATE_BUFFERS[optimizer]``); None otherwise.
    """

    step: int
    quantity: str
    layer: int | None
    learning_rate: float
    buffer: str | None = None

    def __post_init__(self) -> None:
        if self.quantity not in QUANTITIES:
            raise ValueError(f"divergence quantity must be one of {', '.join(QUANTITIES)}, got {self.quantity!r}")
        if (self.quantity == "optimizer_state") != (self.buffer is not None):
            raise ValueError("a divergence names an optimizer buffer exactly when the optimizer state went non-finite")
        if self.buffer is not None and self.buffer not in STATE_BUFFER_MEANINGS:
            raise ValueError(f"unknown optimizer buffer {self.buffer!r}")

    @property
    def message(self) -> str:
        where = "" if self.layer is None else f" in layer {self.layer + 1}"
        rate = f" with learning rate {self.learning_rate:g}"
        if self.quantity == "optimizer_state":
            assert self.buffer is not None
            why = (f" (gradients above about {format_number(SQUARE_OVERFLOW)} square to infinity)"
                   if self.buffer in SQUARED_BUFFERS else "")
            return (
                f"Training stopped at step {self.step}: the optimizer's "
                f"{STATE_BUFFER_MEANINGS[self.buffer]} overflowed{where}{why}{rate}. The last finite "
                "weights and optimizer state were kept; gradients this large usually come from "
                "inputs on a huge scale: rescale the inputs, or try a smaller learning rate."
            )
        what = {
            "loss": "the loss became non-finite",
            "gradient": f"the gradient became non-finite{where}",
            "weights": f"the update made the parameters non-finite{where}",
        }[self.quantity]
        return (
            f"Training stopped at step {self.step}: {what}{rate}. "
            "The last finite weights were kept; try a smaller learning rate."
        )


@dataclass(frozen=True)
class ShuffleRngState:
    """The state of the PCG64 generator that shuffles the training set each epoch.

    The four integers are exactly numpy's ``PCG64.state`` (the 128-bit state and increment,
    and the buffered half of a 64-bit draw), so a generator rebuilt from them continues the
    same stream bit for bit.

    Attributes
    ----------
    state, inc
        The 128-bit PCG state and stream increment.
    has_uint32, uinteger
        Whether a 32-bit half of the last 64-bit draw is buffered (0 or 1), and that half.
    """

    state: int
    inc: int
    has_uint32: int
    uinteger: int

    def __post_init__(self) -> None:
        for name, limit in (("state", 2**128), ("inc", 2**128), ("has_uint32", 2), ("uinteger", 2**32)):
            object.__setattr__(self, name, _int(getattr(self, name), f"shuffle_rng.{name}", limit))

    @classmethod
    def of(cls, generator: np.random.Generator) -> "ShuffleRngState":
        """The current state of ``generator``.

        Raises
        ------
        ValueError
            If the generator is not driven by PCG64.
        """
        raw = generator.bit_generator.state
        if raw.get("bit_generator") != "PCG64":
            raise ValueError(f"the shuffle generator must be PCG64, got {raw.get('bit_generator')!r}")
        return cls(int(raw["state"]["state"]), int(raw["state"]["inc"]), int(raw["has_uint32"]),
                   int(raw["uinteger"]))

    def generator(self) -> np.random.Generator:
        """A new generator in this state (each call returns an independent one)."""
        bit_generator = np.random.PCG64(0)  # any seed: the state is replaced next
        bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": self.state, "inc": self.inc},
            "has_uint32": self.has_uint32,
            "uinteger": self.uinteger,
        }
        return np.random.Generator(bit_generator)


@dataclass(frozen=True, eq=False, repr=False)
class RunState:
    """Everything that determines a training run's future, as one immutable value.

    A run's configuration (its data, features and network spec) is fixed when it is built;
    given that configuration, these fields decide every later step.  A step reads the
    parameters, the optimizer state and the hyperparameters, takes its batch from the
    permutation at the cursor, records its number from ``step``, and at the end of an epoch
    (``cursor`` reaching the training-set size) bumps ``epoch`` and draws the next permutation
    from the shuffle generator; ``reset`` and ``new_seed`` start again from ``seed``.  The
    phase says which passes of the next step have already run, ``last_update`` and
    ``divergence`` what the last step did.  Nothing else the run holds feeds into a step: the
    history is the log of the past (kept by the run, not here); the cached passes, the preview
    and the inspection are recomputed exactly from these fields; the edit-marker coalescing
    state, ``evaluate_each_epoch`` and the description only shape what is recorded and shown,
    never the parameters.

    Equality is bit for bit (``==`` compares every array's bytes).  Every array is read-only
    and owns its memory or views a read-only array, so the value cannot change; building one
    from writable arrays copies them.

    Attributes
    ----------
    seed
        The seed of the initial weights and of the first shuffle (what ``reset`` goes back to).
    hyper
        The hyperparameters in force, including the optimizer.
    layer_sizes
        Neurons per layer, inputs first: the layout ``parameters`` and the buffers follow.
    parameters
        Every weight and bias as one flat float64 vector, in ``ParameterLayout`` order.
    optimizer_state
        The optimizer's memory: ``t`` and one flat buffer per name in
        ``STATE_BUFFERS[hyper.optimizer]``, held in a read-only mapping of 1-tuples.
    shuffle_rng
        The generator that draws each epoch's permutation.
    permutation
        This epoch's order of the training examples (int64, read-only).
    cursor
        Position in ``permutation`` of the next batch's first example.
    step, epoch
        Steps applied and epochs completed.
    phase
        Which phases of the next step have run: ``"idle"``, ``"forward"`` or ``"backward"``.
        Only the phase is kept, not the passes: they are recomputed exactly from the
        parameters and the pending batch (see :attr:`batch_indices`).
    last_update
        The update Δp the last applied step added (flat), or None before the first step.
    divergence
        Why the guard refused the last attempted step, or None.
    """

    seed: int
    hyper: Hyperparameters
    layer_sizes: tuple[int, ...]
    parameters: Array
    optimizer_state: OptimizerState
    shuffle_rng: ShuffleRngState
    permutation: Array
    cursor: int
    step: int
    epoch: int
    phase: str = "idle"
    last_update: Array | None = None
    divergence: Divergence | None = None

    def __post_init__(self) -> None:
        """Check the value is consistent in itself (fit with a run is checked by ``restore``).

        Raises
        ------
        ValueError
            If a field has the wrong type, dtype, shape or range.
        """
        put = object.__setattr__
        put(self, "seed", _int(self.seed, "seed", _SEED_LIMIT))
        if not isinstance(self.hyper, Hyperparameters):
            raise ValueError(f"hyper must be Hyperparameters, got {type(self.hyper).__name__}")
        sizes = tuple(_int(n, "layer_sizes entry", _COUNT_LIMIT) for n in self.layer_sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"layer_sizes must list at least two positive sizes, got {self.layer_sizes!r}")
        put(self, "layer_sizes", sizes)
        n = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
        put(self, "parameters", _vector(self.parameters, "parameters", n, np.float64))
        put(self, "optimizer_state", _optimizer_state(self.optimizer_state, self.hyper.optimizer, n))
        if not isinstance(self.shuffle_rng, ShuffleRngState):
            raise ValueError(f"shuffle_rng must be a ShuffleRngState, got {type(self.shuffle_rng).__name__}")
        permutation = _vector(self.permutation, "permutation", None, np.int64)
        put(self, "permutation", permutation)
        if len(permutation) == 0:
            raise ValueError("permutation must not be empty")
        put(self, "cursor", _int(self.cursor, "cursor", len(permutation)))
        put(self, "step", _int(self.step, "step", _COUNT_LIMIT + 1))
        put(self, "epoch", _int(self.epoch, "epoch", _COUNT_LIMIT + 1))
        if self.phase not in PHASES:
            raise ValueError(f"phase must be one of {', '.join(PHASES)}, got {self.phase!r}")
        if self.last_update is not None:
            put(self, "last_update", _vector(self.last_update, "last_update", n, np.float64))
        if self.divergence is not None and not isinstance(self.divergence, Divergence):
            raise ValueError(f"divergence must be a Divergence or None, got {type(self.divergence).__name__}")

    @property
    def batch_indices(self) -> Array:
        """Indices (into the training set) of the batch the next step uses.

        The pending batch is always this slice of the permutation (a batch-size change drops
        any half-run step), so it is derived rather than stored.
        """
        return self.permutation[self.cursor : self.cursor + self.hyper.batch_size]

    def _arrays(self) -> tuple[Array | None, ...]:
        buffers = self.optimizer_state.buffers
        return (self.parameters, self.permutation, self.last_update,
                *(buffers[name][0] for name in sorted(buffers)))

    def _scalars(self) -> tuple:
        return (self.seed, self.hyper, self.layer_sizes, self.shuffle_rng, self.cursor, self.step,
                self.epoch, self.phase, self.divergence, self.optimizer_state.t,
                tuple(sorted(self.optimizer_state.buffers)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunState):
            return NotImplemented
        return self._scalars() == other._scalars() and all(
            _same_bits(a, b) for a, b in zip(self._arrays(), other._arrays())
        )

    def __repr__(self) -> str:
        return (
            f"RunState(step={self.step}, epoch={self.epoch}, cursor={self.cursor}, phase={self.phase!r}, "
            f"optimizer={self.hyper.optimizer!r}, layer_sizes={self.layer_sizes}, seed={self.seed})"
        )


def readonly(fresh: Array) -> Array:
    """Mark an array just made (that nothing else holds) read-only, in place, and return it:
    a RunState or snapshot then takes it without a copy."""
    fresh.setflags(write=False)
    return fresh


def frozen(array: Array) -> Array:
    """``array`` itself if it is immutable already, else a read-only copy.

    An array counts as immutable when it is read-only and so is the array whose memory it
    views (a read-only view of a writable array could still change underneath).
    """
    if not array.flags.writeable:
        base = array.base
        if base is None or (isinstance(base, np.ndarray) and not base.flags.writeable):
            return array
    copy = np.array(array, copy=True)
    copy.setflags(write=False)
    return copy


def _same_bits(a: Array | None, b: Array | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _int(value: object, name: str, limit: int) -> int:
    """``value`` as a Python int in 0 … limit − 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__}")
    if not 0 <= value < limit:
        raise ValueError(f"{name} must be in 0 … {limit - 1}, got {value}")
    return int(value)


def _vector(value: object, name: str, length: int | None, dtype: type) -> Array:
    """A read-only 1-D array of ``dtype`` (and ``length``), without copying an immutable one."""
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(value).__name__}")
    if value.dtype != dtype:
        raise ValueError(f"{name} must have dtype {np.dtype(dtype).name}, got {value.dtype.name}")
    if value.ndim != 1 or (length is not None and len(value) != length):
        wanted = "a 1-D array" if length is None else f"shape ({length},)"
        raise ValueError(f"{name} must have {wanted}, got shape {value.shape}")
    return frozen(value)


def _optimizer_state(state: object, optimizer: str, n: int) -> OptimizerState:
    """``state`` with read-only buffers in a read-only mapping, checked against ``optimizer``."""
    if not isinstance(state, OptimizerState):
        raise ValueError(f"optimizer_state must be an OptimizerState, got {type(state).__name__}")
    buffers: Mapping[str, Sequence[Array]] = state.buffers
    expected = STATE_BUFFERS[optimizer]
    if not isinstance(buffers, Mapping) or set(buffers) != set(expected):
        names = sorted(buffers) if isinstance(buffers, Mapping) else buffers
        raise ValueError(f"the {optimizer} optimizer keeps buffers {list(expected)}, got {names}")
    out = {}
    for name in expected:
        arrays = buffers[name]
        if not isinstance(arrays, (list, tuple)) or len(arrays) != 1:
            raise ValueError(f"optimizer buffer {name!r} must hold one flat array")
        out[name] = (_vector(arrays[0], f"optimizer buffer {name!r}", n, np.float64),)
    return OptimizerState(MappingProxyType(out), _int(state.t, "optimizer_state.t", _COUNT_LIMIT + 1))
