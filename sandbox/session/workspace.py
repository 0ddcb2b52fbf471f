"""The session as the worker owns it: the live run, its past, the earlier runs, and undo.

:class:`Workspace` wraps the live :class:`~sandbox.session.run.TrainingRun` with

* its :class:`~sandbox.session.timeline.Timeline` (checkpoints and edits), so any earlier step
  can be shown exactly (:class:`~sandbox.session.commands.Scrub`) and made the live run again
  (:class:`~sandbox.session.commands.ContinueFromHere`, which keeps the abandoned future as an
  earlier run);
* the earlier runs (see :mod:`sandbox.session.runs`): runs that ended by a branch, a reset, a
  new seed, or a change of data, features or architecture; their curves stay for comparison,
  and while they keep their state they can be switched back to;
* the undo stack (see :mod:`sandbox.session.undo`).

Rules a user sees:

* While scrubbed back, nothing changes until asked: Play and the step commands return to the
  live end and go on from there; an edit branches first (as "Continue from here"), then applies.
* Undo and redo return to the live end first (the worker pauses training first).
* Queries (what-if, the loss at a value) are about the shown state.

Qt-free: the worker thread calls :meth:`apply` between steps; tests drive it directly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from . import commands as cmd
from .commands import Outcome
from .runs import MAX_EARLIER_RUNS, EarlierRun, RunCatalog, RunCurves, RunInfo, RunSettings, legend_text
from .timeline import Timeline
from .undo import RunSwap, UndoEntry, UndoStack, edit_text

#: Versions given to scrubbed-back states: negative, so never one a live run has had.
_scrub_versions = itertools.count(-2, -1)
_revisions = itertools.count(1)


@dataclass(frozen=True)
class WorkspaceView:
    """The workspace in a snapshot: which step is shown, the scrubber's range, the Edit menu's
    texts ("" when there is nothing to undo or redo) and the runs."""

    shown_step: int | None
    live_step: int
    first_step: int
    undo_text: str
    redo_text: str
    runs: RunCatalog

    @property
    def scrubbed(self) -> bool:
        return self.shown_step is not None


@dataclass(eq=False)
class Branch:
    """One run of the session: the run (None for an earlier run loaded from a file, which has
    only its curves), its timeline, who it is and whether its curves are shown."""

    run: object | None
    timeline: Timeline | None
    info: RunInfo
    visible: bool = True
    #: The curves of a run without state (loaded); otherwise read from ``run.history``.
    saved_curves: RunCurves | None = None
    saved_settings: RunSettings | None = None
    _curves_cache: tuple[int, int, RunCurves] | None = field(default=None, repr=False)

    @property
    def settings(self) -> RunSettings:
        if self.run is None:
            assert self.saved_settings is not None
            return self.saved_settings
        return RunSettings.of(self.run)

    def curves(self) -> RunCurves:
        if self.run is None:
            return self.saved_curves or RunCurves.empty()
        history = self.run.history
        key = (history.steps.revision, len(history.steps))
        if self._curves_cache is None or self._curves_cache[:2] != key:
            self._curves_cache = (*key, RunCurves.of(history))
        return self._curves_cache[2]


class Workspace:
    """The live run with its past, the earlier runs and the undo stack.

    Parameters
    ----------
    run
        The live run.
    origin
        What started it ("start", "loaded" …), for its legend.
    earlier
        Earlier runs (curves only) a session file kept.
    """

    def __init__(self, run, origin: str = "start", earlier: tuple[Branch, ...] = (),
                 live_info: RunInfo | None = None) -> None:
        ids = [b.info.run_id for b in earlier] + ([live_info.run_id] if live_info else [])
        self._next_id = max(ids, default=0) + 1
        info = live_info or RunInfo(self._take_id(), origin)
        self.live = self._branch(run, info)
        self.earlier: list[Branch] = list(earlier)
        self.undo = UndoStack()
        #: The step shown while scrubbed back, or None at the live end.
        self.shown_step: int | None = None
        self._replayer = None  # scratch run for replays: a fork of the live run …
        self._replayer_of = None  # … this one
        self._shown = None  # (step, run) of the last scrubbed state built
        self._catalog: tuple | None = None  # (key, RunCatalog) of the last catalog built
        self.revision = next(_revisions)
        #: A note for the status bar from the last command ("" when none).
        self.note = ""

    # ------------------------------------------------------------------------ the runs

    @property
    def run(self):
        """The live run."""
        return self.live.run

    @property
    def first_step(self) -> int:
        """The earliest step the scrubber reaches."""
        return self.live.timeline.first_step

    def shown_run(self):
        """The run the views show: the live run, or a scratch run in the scrubbed-to state
        (with the live run's history, which it must not change)."""
        if self.shown_step is None:
            return self.live.run
        if self._shown is not None and self._shown[0] == self.shown_step:
            return self._shown[1]
        replayer = self._scratch()
        self.live.timeline.state_at(self.shown_step, replayer)
        replayer.history = self.live.run.history  # shown, never written: the replay is done
        replayer.version = next(_scrub_versions)
        self._shown = (self.shown_step, replayer)
        return replayer

    def state_at(self, step: int):
        """The live run's exact state at ``step`` (a :class:`RunState`)."""
        if step >= self.live.run.step_count:
            return self.live.run.capture()
        return self.live.timeline.state_at(step, self._scratch())

    def _scratch(self):
        if self._replayer_of is not self.live.run:
            self._replayer, self._replayer_of = self.live.run.fork(), self.live.run
        self._shown = None
        return self._replayer

    def view(self) -> "WorkspaceView":
        """What a snapshot carries about the workspace."""
        return WorkspaceView(
            shown_step=self.shown_step,
            live_step=self.live.run.step_count,
            first_step=self.first_step,
            undo_text=self.undo.undo_text,
            redo_text=self.undo.redo_text,
            runs=self.catalog(),
        )

    def catalog(self) -> RunCatalog:
        """The runs for a snapshot (built anew only when something changed)."""
        cached = self._catalog
        live_settings = self.live.settings
        key = (self.revision, live_settings, tuple((b.info.run_id, len(b.run.history.steps) if b.run else 0)
                                                  for b in self.earlier))
        if cached is not None and cached[0] == key:
            return cached[1]
        earlier = tuple(
            EarlierRun(b.info, b.settings, b.curves(), b.visible, b.run is not None,
                       legend_text(b.info, b.settings, live_settings))
            for b in self.earlier)
        catalog = RunCatalog(next(_revisions), self.live.info, live_settings, earlier)
        self._catalog = (key, catalog)
        return catalog

    def _take_id(self) -> int:
        run_id = self._next_id
        self._next_id += 1
        return run_id

    def _branch(self, run, info: RunInfo, timeline: Timeline | None = None) -> Branch:
        timeline = timeline or Timeline(run.capture())
        timeline.attach(run)
        return Branch(run, timeline, info)

    def _changed(self) -> None:
        self.revision = next(_revisions)

    # ------------------------------------------------------------------------ applying

    def apply(self, command: cmd.Command) -> Outcome:
        """Apply a command about the session (what ``commands.apply`` takes, and the time-travel
        commands).  Returns the outcome; its ``run`` is the live run after it.

        Raises
        ------
        ValueError
            If the command is refused; nothing changed then.
        """
        self.note = ""
        if isinstance(command, cmd.Scrub):
            self._scrub(int(command.step))
        elif isinstance(command, cmd.ReturnToLive):
            self._return_to_live()
        elif isinstance(command, cmd.ContinueFromHere):
            if self.shown_step is None:
                raise ValueError("the run is already at its live end")
            self._continue_from_here()
        elif isinstance(command, cmd.Undo):
            self._return_to_live()
            self._undo()
        elif isinstance(command, cmd.Redo):
            self._return_to_live()
            self._redo()
        elif isinstance(command, cmd.SetRunVisible):
            self._earlier(command.run_id).visible = bool(command.visible)
            self._changed()
        elif isinstance(command, cmd.ClearEarlierRuns):
            self.earlier.clear()
            self._changed()
        elif isinstance(command, cmd.SwitchToRun):
            self._switch_to(command.run_id)
        elif isinstance(command, (cmd.Step, cmd.StepEpoch, cmd.StepPhase)):
            self._return_to_live()
            return cmd.apply(self.live.run, command)
        elif isinstance(command, (cmd.Reset, cmd.NewSeed)):
            self._return_to_live()
            self._restart(command)
        elif isinstance(command, cmd.Reconfigure):
            self._return_to_live()
            outcome = cmd.apply(self.live.run, command)
            self._replace_live(outcome.run, RunInfo(self._take_id(), outcome.event.describe()),
                               edit_text(outcome.event))
            return Outcome(self.live.run, outcome.event)
        elif isinstance(command, (cmd.EditWeight, cmd.EditBias, cmd.SetHyperparameters, cmd.SetDescription)):
            if self.shown_step is not None:
                self._continue_from_here()
            return self._edit(command)
        else:
            return cmd.apply(self.shown_run(), command)  # a query, about the shown state
        return Outcome(self.live.run)

    # ------------------------------------------------------------------ scrubbing, branching

    def _scrub(self, step: int) -> None:
        live = self.live.run.step_count
        if step >= live:
            self._return_to_live()
            return
        step = max(step, self.first_step)
        if step != self.shown_step:
            self.shown_step = step

    def return_to_live(self) -> None:
        """Show the live end (Play and the step commands do this first)."""
        self._return_to_live()

    def _return_to_live(self) -> None:
        if self.shown_step is not None:
            self.shown_step = None
            self._shown = None

    def _continue_from_here(self) -> None:
        """The shown step becomes the live run; the old live run is kept as an earlier run."""
        step = self.shown_step
        assert step is not None
        old = self.live
        state = self.state_at(step)
        run = old.run.fork()
        run.history = old.run.history.until(step)
        run.restore(state)
        info = RunInfo(self._take_id(), f"branched from {old.info.label} at step {step:,}",
                       parent=old.info.run_id, branched_at=step)
        self._return_to_live()
        if not old.info.ended:
            old.info = replace(old.info, ended=f"future from step {step:,} (to {old.run.step_count:,})")
        self._replace_live(run, info, f"continue from step {step:,}", timeline=old.timeline.truncated(step))

    def _restart(self, command: cmd.Command) -> None:
        run = self.live.run.fork()
        cmd.apply(run, command)  # a new seed is checked before anything changes
        if isinstance(command, cmd.NewSeed):
            origin = text = f"new seed {run.seed}"
        else:
            origin = text = "reset"
        self._replace_live(run, RunInfo(self._take_id(), origin), text)

    def _replace_live(self, run, info: RunInfo, text: str, timeline: Timeline | None = None) -> None:
        """Make ``run`` the live run; the old one becomes the newest earlier run."""
        before = self.live
        self._end(before, text)
        after = self._branch(run, info, timeline)
        self._swap_in(before, after, after_was_earlier=False)
        self.undo.push(UndoEntry(text, swap=RunSwap(before, after, False)))

    @staticmethod
    def _end(branch: Branch, text: str) -> None:
        """Say what ended ``branch`` (unless something already did: a branch's future says so)."""
        if not branch.info.ended:
            branch.info = replace(branch.info, ended=f"until {text} at step {branch.run.step_count:,}")

    def _switch_to(self, run_id: int) -> None:
        target = self._earlier(run_id)
        if target.run is None:
            raise ValueError(f"{target.info.label} was loaded from a file with its curves only; "
                             "it has no weights to continue from")
        self._return_to_live()
        before = self.live
        before.info = replace(before.info, ended=f"until the switch to {target.info.label} at step "
                                                 f"{before.run.step_count:,}")
        target.info = replace(target.info, ended="")
        self._swap_in(before, target, after_was_earlier=True)
        self.undo.push(UndoEntry(f"switch to {target.info.label}", swap=RunSwap(before, target, True)))

    def _swap_in(self, before: Branch, after: Branch, after_was_earlier: bool) -> None:
        if after_was_earlier and after in self.earlier:
            self.earlier.remove(after)
        if before not in self.earlier:
            self.earlier.append(before)
        if len(self.earlier) > MAX_EARLIER_RUNS:
            dropped = self.earlier.pop(0)
            self.note = f"{dropped.info.label}'s curves were dropped: at most {MAX_EARLIER_RUNS} earlier runs are kept."
        after.timeline.attach(after.run)
        before.run.step_hook = None
        self.live = after
        self._shown = None
        self._changed()

    def _swap_out(self, swap: RunSwap) -> None:
        """Undo a swap: ``swap.before`` is live again."""
        before, after = swap.before, swap.after
        if before in self.earlier:
            self.earlier.remove(before)
        if swap.after_was_earlier:
            self.earlier.append(after)
        after.run.step_hook = None
        before.timeline.attach(before.run)
        before.info = replace(before.info, ended="")  # live again: whatever ends it next says so
        self.live = before
        self._shown = None
        self._changed()

    def _earlier(self, run_id: int) -> Branch:
        for branch in self.earlier:
            if branch.info.run_id == run_id:
                return branch
        raise ValueError(f"there is no earlier run {run_id}")

    # ------------------------------------------------------------------------- edits, undo

    def _edit(self, command: cmd.Command, undoable: bool = True) -> Outcome:
        run = self.live.run
        step = run.step_count
        outcome = cmd.apply(run, command)
        event = outcome.event
        if event is None:
            return outcome
        self.live.timeline.record(step, command)
        if (self.live.info.parent is not None and not self.live.info.first_change
                and not isinstance(event, cmd.DescriptionChanged)):
            self.live.info = replace(self.live.info, first_change=_change_text(event))
            self._changed()
        if undoable:
            entry = UndoEntry(edit_text(event), event=event)
            top = self.undo.top
            if (isinstance(event, cmd.ParameterEdited) and top is not None
                    and isinstance(top.event, cmd.ParameterEdited) and top.event.ref == event.ref
                    and top.event.step == event.step and top.event.old == event.old
                    and not self.undo.can_redo):
                self.undo.replace_top(entry)  # the same burst (a slider drag)
            else:
                self.undo.push(entry)
        return outcome

    def _undo(self) -> None:
        entry = self.undo.take_undo()
        try:
            if entry.swap is not None:
                self._swap_out(entry.swap)
            else:
                self._edit(entry.event.inverse(), undoable=False)
        except ValueError:
            self.undo.give_back_undo()
            raise
        self.note = f"Undid: {entry.text}"

    def _redo(self) -> None:
        entry = self.undo.take_redo()
        try:
            if entry.swap is not None:
                self._end(entry.swap.before, entry.text)  # live again since the undo: ended anew
                if entry.swap.after_was_earlier:
                    entry.swap.after.info = replace(entry.swap.after.info, ended="")
                self._swap_in(entry.swap.before, entry.swap.after, entry.swap.after_was_earlier)
            else:
                self._edit(_forward(entry.event), undoable=False)
        except ValueError:
            self.undo.give_back_redo()
            raise
        self.note = f"Redid: {entry.text}"


def _forward(event: cmd.EditEvent) -> cmd.Command:
    """The command that makes ``event``'s change again."""
    if isinstance(event, cmd.ParameterEdited):
        kind = cmd.EditWeight if hasattr(event.ref, "i") else cmd.EditBias
        return kind(event.ref, event.new)
    if isinstance(event, cmd.HyperparametersChanged):
        return cmd.SetHyperparameters.of(**{name: getattr(event.new, name) for name in event.changed})
    if isinstance(event, cmd.DescriptionChanged):
        return cmd.SetDescription(event.new)
    raise ValueError(f"cannot redo {type(event).__name__}")


def _change_text(event: cmd.EditEvent) -> str:
    """What an edit changed, for a run's legend: "learning rate 0.03 → 0.003 at step 500"."""
    if isinstance(event, cmd.HyperparametersChanged):
        what = event.describe().replace("_", " ")
    else:
        what = event.describe().split(";")[0]
    return f"{what} at step {event.step:,}"

