"""The GUI-side controller: owns the view state, sends typed commands, filters snapshots.

Views take the controller in their ``__init__``, subscribe to its signals and to its
:class:`~sandbox.viewstate.ViewState` (napari's model → view pattern), and send user actions
back through :meth:`SessionController.send` (or the small helpers below, which build the
typed command).  The controller is the only GUI object that talks to the worker.

The worker is a parameter: anything with the :class:`~sandbox._qt.worker.TrainingWorker`
interface (``submit``, ``take``, ``acknowledge``, ``stop`` and its signals), so controller
tests run with a fake worker and no thread.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..session import TrainingRun
from ..session import commands as cmd
from ..session.history_mirror import HistoryMirror
from ..session.naming import BiasRef, Ref, WeightRef
from ..session.snapshot import Snapshot
from ..session.workspace import Workspace
from ..analysis.example_focus import largest_loss_row
from ..viewstate import DataSource, ViewMode, ViewState
from .worker import TrainingWorker


class Worker(Protocol):
    """What the controller needs of a worker (TrainingWorker, or a fake in tests)."""

    def submit(self, command: cmd.Command, generation: int = 0) -> None: ...
    def take(self) -> Snapshot | None: ...
    def acknowledge(self) -> None: ...
    def stop(self, timeout_ms: int = 10_000) -> bool: ...


class SessionController(QObject):
    """Commands in, snapshots out, and the view state.

    Parameters
    ----------
    worker
        The worker that owns the run, already started; or a :class:`TrainingRun` (or a
        :class:`~sandbox.session.workspace.Workspace` around one), for which a threaded
        :class:`TrainingWorker` is made and started.

    Signals
    -------
    snapshotChanged(Snapshot)
        A snapshot that reflects every command sent so far; views redraw from it.
    snapshotTaken(Snapshot)
        Every snapshot taken from the worker, current or not (its history rows always count:
        they are in ``history`` when this is emitted).
    selectionChanged(object)
        The selected weight, bias or neuron (a typed ref) or None (mirrors the view state).
    editApplied(object)
        The worker applied an edit (an :class:`~sandbox.session.commands.EditEvent`).
    resultReady(object, object)
        A query's answer: (command, value).
    commandFailed(str, str), sessionLoaded(str), sessionSaved(str), workerCrashed(str), noted(str)
        Forwarded from the worker (``noted``: a status-bar note, "Undid: set w[1][1,2] to 0.5").
    saveFinished(int, str, bool, str)
        A save ended: the request id :meth:`save` returned, path, success, message.
    """

    snapshotChanged = Signal(object)
    snapshotTaken = Signal(object)
    selectionChanged = Signal(object)
    editApplied = Signal(object)
    resultReady = Signal(object, object)
    commandFailed = Signal(str, str)
    sessionLoaded = Signal(str)
    sessionSaved = Signal(str)
    saveFinished = Signal(int, str, bool, str)
    workerCrashed = Signal(str)
    noted = Signal(str)

    def __init__(self, worker: Worker | TrainingRun, parent: QObject | None = None, max_fps: float = 60.0) -> None:
        super().__init__(parent)
        start = isinstance(worker, (TrainingRun, Workspace))
        if start:
            worker = TrainingWorker(worker, max_fps=max_fps)
        self._worker = worker
        self._generation = 0
        self._save_requests = 0
        self._snapshot: Snapshot | None = None
        self.view_state = ViewState()
        #: The GUI's one copy of the run's history (every column), shared by the views.
        self.history = HistoryMirror()
        #: What the last snapshot taken changed in ``history`` ("steps", "evaluations", "markers").
        self.history_changes: set[str] = set()
        self.view_state.events.selection.connect(self._on_view_state_selection)
        worker.snapshotReady.connect(self._on_worker_snapshot_ready)
        worker.commandFailed.connect(self.commandFailed)
        worker.editApplied.connect(self.editApplied)
        worker.resultReady.connect(self.resultReady)
        worker.sessionLoaded.connect(self.sessionLoaded)
        worker.sessionSaved.connect(self.sessionSaved)
        worker.saveFinished.connect(self.saveFinished)
        worker.crashed.connect(self.workerCrashed)
        worker.noted.connect(self.noted)
        self._running = True
        # Start only once connected: a snapshotReady emitted before would be lost, and the worker
        # signals again only after its slot was taken, so no snapshot would ever arrive.
        if start:
            worker.start()
        else:
            # An already started worker may have published before we connected.
            QTimer.singleShot(0, self._on_worker_snapshot_ready)

    # ------------------------------------------------------------------------- state

    @property
    def snapshot(self) -> Snapshot | None:
        """The newest current snapshot (None until the worker publishes the first)."""
        return self._snapshot

    @property
    def worker(self) -> Worker:
        """The worker the commands go to."""
        return self._worker

    @property
    def running(self) -> bool:
        """True until :meth:`shutdown`."""
        return self._running

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def selection(self) -> Ref | None:
        return self.view_state.selection

    def select(self, selection: Ref | None) -> None:
        """Select a weight, bias or neuron (or nothing)."""
        self.view_state.selection = selection

    def _on_view_state_selection(self, new: Ref | None, old: Ref | None = None) -> None:
        self.selectionChanged.emit(new)

    @Slot()
    def _on_worker_snapshot_ready(self) -> None:
        snap = self._worker.take()
        if snap is None:
            return
        try:
            self.receive(snap)
        finally:
            # Acknowledge once the event loop has also handled the paints this frame posted.
            QTimer.singleShot(0, self._worker.acknowledge)

    def receive(self, snap: Snapshot) -> None:
        """Take in a snapshot: its history rows always count; it becomes the current snapshot
        unless it was made before the latest view-changing command (it would undo that command
        on screen).  The benchmark replays snapshots through here."""
        self.history_changes = self.history.apply(snap)
        self.snapshotTaken.emit(snap)
        if snap.generation < self._generation:
            return  # made before our latest command: stale
        if self._snapshot is not None and snap.run_id != self._snapshot.run_id:
            self.view_state.clear_run_references()
        focus = self.view_state.focused_example
        if focus is not None and focus >= snap.train_pass.n_rows:
            self.focus_example(None)  # the data changed size: that row is another example or gone
        self._snapshot = snap
        # The time cursor follows what the worker shows (a scrub the views asked for is in it).
        self.view_state.time_cursor = None if snap.workspace is None else snap.workspace.shown_step
        self.snapshotChanged.emit(snap)

    # ---------------------------------------------------------------------- commands

    def send(self, command: cmd.Command) -> None:
        """Send a typed command to the worker; commands that change what the views show bump
        the generation, so older snapshots are dropped."""
        if command.changes_view:
            self._generation += 1
        self._worker.submit(command, self._generation)

    def play(self) -> None:
        self.send(cmd.Play())

    def pause(self) -> None:
        self.send(cmd.Pause())

    def toggle_play(self) -> None:
        self.send(cmd.TogglePlay())

    def set_speed(self, steps_per_second: float | None) -> None:
        self.send(cmd.SetSpeed(steps_per_second))

    def step(self, count: int = 1) -> None:
        self.send(cmd.Step(count))

    def step_epoch(self) -> None:
        self.send(cmd.StepEpoch())

    def step_phase(self) -> None:
        self.send(cmd.StepPhase())

    def reset(self) -> None:
        self.send(cmd.Reset())

    def new_seed(self, seed: int | None = None) -> None:
        self.send(cmd.NewSeed(seed))

    def edit_weight(self, ref: WeightRef, value: float, predicted_change: float | None = None) -> None:
        """Set a weight; ``predicted_change`` (the what-if ΔJ) goes into the edit's marker."""
        self.send(cmd.EditWeight(ref, float(value), predicted_change))

    def edit_bias(self, ref: BiasRef, value: float, predicted_change: float | None = None) -> None:
        self.send(cmd.EditBias(ref, float(value), predicted_change))

    def set_hyperparameters(self, **changes: Any) -> None:
        self.send(cmd.SetHyperparameters.of(**changes))

    def reconfigure(self, **changes: Any) -> None:
        """New data (``data=DataSpec|Dataset``), ``features=`` or ``network=NetworkSpec``."""
        if changes.get("features") is not None:
            changes["features"] = tuple(changes["features"])
        self.send(cmd.Reconfigure(**changes))

    def new_session(self, run: TrainingRun) -> None:
        self.send(cmd.NewSession(run))

    def load(self, path: str) -> None:
        self.send(cmd.Load(str(path)))

    def save(self, path: str) -> int:
        """Ask the worker to save to ``path``; returns the request id its saveFinished carries."""
        self._save_requests += 1
        self.send(cmd.Save(str(path), self._save_requests))
        return self._save_requests

    def set_description(self, text: str) -> None:
        self.send(cmd.SetDescription(text))

    def evaluate_loss(self, ref: WeightRef | BiasRef, value: float, request: int = 0) -> None:
        """Ask for J with one parameter set to ``value``; the answer comes as ``resultReady``."""
        self.send(cmd.EvaluateLoss(ref, float(value), request))

    # ------------------------------------------------------------- time travel, undo

    def scrub(self, step: int) -> None:
        """Show the run as it was at ``step`` (its newest step or later: the live end)."""
        self.send(cmd.Scrub(int(step)))

    def return_to_live(self) -> None:
        self.send(cmd.ReturnToLive())

    def continue_from_here(self) -> None:
        """Make the shown step the live end; the abandoned future becomes an earlier run."""
        self.send(cmd.ContinueFromHere())

    def undo(self) -> None:
        self.send(cmd.Undo())

    def redo(self) -> None:
        self.send(cmd.Redo())

    def set_run_visible(self, run_id: int, visible: bool) -> None:
        self.send(cmd.SetRunVisible(int(run_id), bool(visible)))

    def clear_earlier_runs(self) -> None:
        self.send(cmd.ClearEarlierRuns())

    def switch_to_run(self, run_id: int) -> None:
        self.send(cmd.SwitchToRun(int(run_id)))

    def set_view_mode(self, mode: ViewMode | str) -> None:
        self.view_state.view_mode = ViewMode(mode)

    # ------------------------------------------------------------------ example focus

    def focus_example(self, row: int | None) -> None:
        """Follow training row ``row`` (the views show that one example), or stop following
        (None: back to the training-set average)."""
        vs = self.view_state
        if row is None:
            vs.focused_example = None
            if vs.data_source is DataSource.EXAMPLE:
                vs.data_source = DataSource.TRAINING_SET
            return
        # The source first: a view told of the new row then already knows it shows an example.
        vs.data_source = DataSource.EXAMPLE
        vs.focused_example = int(row)

    def step_focus(self, delta: int) -> None:
        """Focus the next (``delta`` = 1) or previous (−1) training example, wrapping around;
        with none focused, the first or the last."""
        snap = self._snapshot
        n = snap.train_pass.n_rows if snap is not None else 0
        if n == 0:
            return
        row = self.view_state.focused_example
        if row is None:
            self.focus_example(0 if delta > 0 else n - 1)
        else:
            self.focus_example((row + delta) % n)

    def focus_largest_loss(self) -> None:
        """Focus the training example with the largest loss right now."""
        if self._snapshot is not None:
            row = largest_loss_row(self._snapshot)
            if row is not None:
                self.focus_example(row)

    # ---------------------------------------------------------------------- shutdown

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the worker and wait for its thread; True if it ended in time."""
        if not self._running:
            return True
        self._running = False
        return self._worker.stop(timeout_ms)
