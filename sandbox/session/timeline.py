"""A run's past: checkpoints and the edits between them, and the exact state at any step.

Steps are deterministic: given a :class:`~sandbox.session.state.RunState`, the next step is
always the same.  So the state at step ``s`` is rebuilt exactly from the newest checkpoint at or
before ``s`` by replaying the steps in between, applying the edits made on the way at the step
counts they were made at.

"The state at step ``s``" means the state after ``s`` steps and after every edit made before step
``s + 1``, with no half-run step pending (a hand-stepped forward or backward phase is transient:
the next update or edit ends it).  A checkpoint is taken right after its step, before the edits
made at that step count, so replay applies those edits first.
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from typing import TYPE_CHECKING

from . import commands as cmd
from .checkpoints import Checkpoints
from .history import History
from .state import RunState

if TYPE_CHECKING:  # pragma: no cover
    from .run import TrainingRun

#: The edits a timeline replays: the ones that change a run's state without replacing the run.
REPLAYED = (cmd.EditWeight, cmd.EditBias, cmd.SetHyperparameters)


class Timeline:
    """Where a run has been: enough to rebuild its state at any step since ``first_step``.

    Parameters
    ----------
    start
        The state the timeline starts from (step 0 of a fresh run, or a loaded run's state).
    """

    def __init__(self, start: RunState, checkpoints: Checkpoints | None = None) -> None:
        self.checkpoints = checkpoints if checkpoints is not None else Checkpoints()
        if len(self.checkpoints) == 0:
            self.checkpoints.add(start)
        self.first_step = self.checkpoints.steps[0]
        #: (step count, command) of every replayed edit, in the order applied.
        self._edit_steps: list[int] = []
        self._edits: list[cmd.Command] = []

    def attach(self, run: "TrainingRun") -> None:
        """Take checkpoints of ``run`` as it steps from now on."""
        run.step_hook = self.after_step

    def after_step(self, run: "TrainingRun") -> None:
        """Called by the run after every applied step (keep it cheap: every step calls it)."""
        if self.checkpoints.due(run.step_count):
            self.checkpoints.add(run.capture())

    def record(self, step: int, command: cmd.Command) -> None:
        """An edit applied at step count ``step``.  Only :data:`REPLAYED` kinds are kept; a
        what-if edit's predicted change only shaped its marker, so it is dropped."""
        if not isinstance(command, REPLAYED):
            return
        if isinstance(command, (cmd.EditWeight, cmd.EditBias)) and command.predicted_change is not None:
            command = replace(command, predicted_change=None)
        self._edit_steps.append(int(step))
        self._edits.append(command)

    def edits_between(self, first: int, last: int) -> list[tuple[int, cmd.Command]]:
        """The recorded edits made at step counts ``first`` … ``last``, in order."""
        lo = bisect.bisect_left(self._edit_steps, first)
        hi = bisect.bisect_right(self._edit_steps, last)
        return list(zip(self._edit_steps[lo:hi], self._edits[lo:hi]))

    def state_at(self, step: int, replayer: "TrainingRun") -> RunState:
        """The run's state at ``step`` (see the module docstring), rebuilt on ``replayer``.

        Parameters
        ----------
        step
            A step in ``first_step`` … the run's newest step.
        replayer
            A run with the same configuration, used as scratch (its history is scratch too;
            it must not have this timeline attached).

        Raises
        ------
        ValueError
            If ``step`` is before the timeline starts.
        """
        base = self.checkpoints.at_or_before(step)
        if base is None:
            raise ValueError(f"step {step} is before step {self.first_step}, where this run's history of states starts")
        replayer.evaluate_each_epoch = False  # evaluations shape only the (scratch) history
        replayer.history = History.empty(len(replayer.layer_sizes) - 1)
        replayer.restore(base)
        pending = self.edits_between(base.step, step)
        k = 0
        while True:
            while k < len(pending) and pending[k][0] == replayer.step_count:
                cmd.apply(replayer, pending[k][1])
                k += 1
            if replayer.step_count >= step:
                break
            if not replayer.step():  # cannot happen for a step the run really took
                raise ValueError(f"replaying step {replayer.step_count + 1} was refused by the guard")
        return replayer.capture()

    def truncated(self, step: int) -> "Timeline":
        """This timeline up to ``step`` (for a run branched there): checkpoints at or before it
        (shared; they are immutable) and the edits made up to and at it."""
        copy = Timeline.__new__(Timeline)
        copy.checkpoints = self.checkpoints.truncated(step)
        copy.first_step = self.first_step
        k = bisect.bisect_right(self._edit_steps, step)
        copy._edit_steps = self._edit_steps[:k]
        copy._edits = self._edits[:k]
        return copy
