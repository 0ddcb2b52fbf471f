"""Checkpoints of a run's state for scrubbing back through it: dense recently, sparser further back.

The scheme
----------
A checkpoint is the run's :class:`~sandbox.session.state.RunState` right after a step whose
number is a multiple of the *base spacing* ``b`` (16 steps to start with); step 0, the start,
is always kept.  How many are kept depends on age, the number of steps between a checkpoint
and the newest step: with ``K`` checkpoints per level (64),

* the newest ``K·b`` steps keep a checkpoint every ``b`` steps (level 0),
* the ``2·K·b`` steps before them every ``2b`` (level 1),
* the ``4·K·b`` before those every ``4b`` (level 2), and so on:

a checkpoint at age ``a`` is kept while its step is a multiple of ``b·2^L`` with
``L = ⌊log₂(1 + a / (K·b))⌋``.  As a checkpoint ages, ``L`` only grows, so checkpoints are only
ever dropped, never needed again, and every level holds about ``K`` of them: a run of ``N`` steps
keeps about ``K·log₂(1 + N / (K·b))`` (640 for a million steps).  Reaching step ``s`` replays
at most ``b·2^L − 1`` steps from the checkpoint before it: at most 1,023 steps anywhere in a
100,000-step run, and ``b − 1`` in its newest thousand.

A byte budget caps memory whatever the network's size (48 MB by default; the arrays that
checkpoints share, such as one epoch's permutation, count once).  When the checkpoints outgrow
it, the base spacing doubles, which halves them.  The default session's checkpoints take about
2.5 MB for a million steps (672 checkpoints, measured); a 2-16×8-1 network with Adam reaches
the budget near a million steps.
"""

from __future__ import annotations

import bisect

import numpy as np

from .state import RunState

DEFAULT_BASE_SPACING = 16
DEFAULT_PER_LEVEL = 64
DEFAULT_BUDGET_BYTES = 48 * 1024 * 1024
#: Bytes a RunState costs besides its arrays (the objects, the generator state), measured roughly.
STATE_OVERHEAD_BYTES = 1500


class Checkpoints:
    """Run states at some of a run's steps, thinned with age (see the module docstring).

    Parameters
    ----------
    base_spacing
        ``b``: the newest checkpoints are this many steps apart (a power of two).
    per_level
        ``K``: checkpoints kept per level of spacing.
    budget_bytes
        Memory the checkpoints may take; the spacing doubles when they outgrow it.
    """

    def __init__(self, base_spacing: int = DEFAULT_BASE_SPACING, per_level: int = DEFAULT_PER_LEVEL,
                 budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        if base_spacing < 1 or base_spacing & (base_spacing - 1):
            raise ValueError(f"the base spacing must be a power of two, got {base_spacing}")
        self.base_spacing = base_spacing
        self.per_level = max(1, int(per_level))
        self.budget_bytes = budget_bytes
        self._steps: list[int] = []
        self._states: list[RunState] = []
        self._since_thinning = 0
        self._nbytes: int | None = 0

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def steps(self) -> tuple[int, ...]:
        return tuple(self._steps)

    @property
    def newest(self) -> int:
        """The step of the newest checkpoint (-1 when there is none)."""
        return self._steps[-1] if self._steps else -1

    def due(self, step: int) -> bool:
        """Whether a checkpoint is wanted right after ``step`` (cheap: the run asks every step)."""
        return step % self.base_spacing == 0 and step > self.newest

    def add(self, state: RunState) -> None:
        """Keep ``state`` (newer than every checkpoint so far), then thin the older ones.

        Thinning runs once every ``K`` additions (about the cost of one addition each time),
        so up to ``K`` checkpoints beyond the scheme may wait to be dropped.
        """
        if self._steps and state.step <= self._steps[-1]:
            raise ValueError(f"checkpoint at step {state.step} is not newer than step {self._steps[-1]}")
        self._steps.append(state.step)
        self._states.append(state)
        self._nbytes = None
        self._since_thinning += 1
        if self._since_thinning >= self.per_level:
            self.thin()

    def at_or_before(self, step: int) -> RunState | None:
        """The newest checkpoint at or before ``step``, or None."""
        k = bisect.bisect_right(self._steps, step)
        return self._states[k - 1] if k else None

    def truncated(self, step: int) -> "Checkpoints":
        """A copy holding the checkpoints at or before ``step`` (the states are shared: they are
        immutable)."""
        copy = Checkpoints(self.base_spacing, self.per_level, self.budget_bytes)
        k = bisect.bisect_right(self._steps, step)
        copy._steps = self._steps[:k]
        copy._states = self._states[:k]
        copy._nbytes = None
        return copy

    def thin(self) -> None:
        """Drop the checkpoints the scheme no longer keeps; double the spacing while over budget."""
        self._since_thinning = 0
        self._drop_unkept()
        while self.nbytes() > self.budget_bytes and len(self._steps) > 2:
            self.base_spacing *= 2
            self._drop_unkept()

    def _drop_unkept(self) -> None:
        if not self._steps:
            return
        newest = self._steps[-1]
        span = self.per_level * self.base_spacing
        keep = [k for k, step in enumerate(self._steps)
                if step == 0 or k == len(self._steps) - 1
                or step % (self.base_spacing << _level(newest - step, span)) == 0]
        if len(keep) != len(self._steps):
            self._steps = [self._steps[k] for k in keep]
            self._states = [self._states[k] for k in keep]
            self._nbytes = None

    def nbytes(self) -> int:
        """Memory the checkpoints hold: their arrays (each counted once) and their overhead."""
        if self._nbytes is None:
            seen: set[int] = set()
            total = 0
            for state in self._states:
                total += STATE_OVERHEAD_BYTES
                for array in _arrays(state):
                    base = array if array.base is None else array.base
                    if id(base) not in seen:
                        seen.add(id(base))
                        total += base.nbytes
            self._nbytes = total
        return self._nbytes


def _level(age: int, span: int) -> int:
    """L = ⌊log₂(1 + age / span)⌋, exactly, in integers."""
    return (1 + age // span).bit_length() - 1


def _arrays(state: RunState):
    yield state.parameters
    yield state.permutation
    if state.last_update is not None:
        yield state.last_update
    for arrays in state.optimizer_state.buffers.values():
        yield from (a for a in arrays if isinstance(a, np.ndarray))
