"""The training worker: owns the run, trains in its own thread, publishes snapshots.

The GUI thread never trains.  It puts typed commands (:mod:`sandbox.session.commands`) on a
queue; the worker applies them between two steps (so an edit is never lost and pause takes
effect within one step), and publishes an immutable
:class:`~sandbox.session.snapshot.Snapshot`.  Only one snapshot waits at a time: if the GUI has
not taken the last one, the worker replaces it rather than queueing more.

Pacing rests on the GUI's acknowledgement, not on estimates: after publishing a snapshot the
worker publishes no other until the GUI calls :meth:`TrainingWorker.acknowledge` (it has drawn
it) or :data:`ACK_TIMEOUT` passes.  While the GUI draws, the worker leaves the interpreter to it
(both threads share one GIL, and drawing uncontended is far cheaper than interleaved), and it
spaces snapshots so that drawing, as measured from publish to acknowledgement, takes at most
~12 % of the time, never fewer than 10 snapshots a second.

After an unexpected exception the worker reports it once (``crashed``), pauses, and stays idle
until the next command: a failing snapshot is not rebuilt in a loop.

Everything here runs in the worker thread except :meth:`submit`, :meth:`take` and
:meth:`acknowledge`, which the GUI calls and which only touch the queue, an event and the
lock-protected snapshot slot.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import traceback

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from ..engine import compiled
from ..session import TrainingRun
from ..session import commands as cmd
from ..session.loading import open_workspace
from ..session.save_image import image_of
from ..session.session_file import SessionFileError, save_image
from ..session.snapshot import HistoryCursor, Snapshot, make_snapshot
from ..session.workspace import Workspace

#: The status-bar note once the kernels that were being prepared are ready.
READY_NOTE = "The compiled engine is ready."

#: Seconds the worker waits for the GUI to acknowledge a snapshot before publishing again.
ACK_TIMEOUT = 0.25


class TrainingWorker(QObject):
    """Trains a :class:`TrainingRun` in a worker thread.

    Signals
    -------
    snapshotReady
        A new snapshot waits in the slot; call :meth:`take`.
    commandFailed(str, str)
        A command was refused (title, message); the run is unchanged.
    editApplied(object)
        An edit was applied; the :class:`~sandbox.session.commands.EditEvent`.
    resultReady(object, object)
        A query's answer: (command, value).
    sessionLoaded(str), sessionSaved(str)
        A load or save finished (path).
    saveFinished(int, str, bool, str)
        A save ended: its request id, path, success, error message ("" on success).  Every
        Save command gets exactly one, even when an unexpected error ends it.
    noted(str)
        A note for the status bar about what a command did ("Undid: set w[1][1,2] to 0.5").
    crashed(str)
        An unexpected exception in the worker (traceback).  Training pauses; the worker then
        waits for the next command.
    finished
        The loop has ended (after a quit command).
    """

    snapshotReady = Signal()
    commandFailed = Signal(str, str)
    editApplied = Signal(object)
    resultReady = Signal(object, object)
    sessionLoaded = Signal(str)
    sessionSaved = Signal(str)
    saveFinished = Signal(int, str, bool, str)
    crashed = Signal(str)
    noted = Signal(str)
    finished = Signal()

    #: Heatmap grid points per axis: coarser while playing, finer when paused or stepping.
    GRID_PLAYING = 64
    GRID_STILL = 100

    def __init__(self, run: TrainingRun | Workspace, max_fps: float = 60.0) -> None:
        super().__init__()
        self._workspace = run if isinstance(run, Workspace) else Workspace(run)
        self._queue: queue.Queue[cmd.Command] = queue.Queue()
        self._lock = threading.Lock()
        self._slot: Snapshot | None = None
        self._cursor = HistoryCursor()
        self._min_interval = 1.0 / max_fps
        self._playing = False
        self._speed: float | None = None  # steps per second; None = as fast as possible
        self._generation = 0
        self._run_id = 0
        self._modified = False
        self._needs_snapshot = True
        self._last_publish = 0.0
        self._rate = _RateMeter()
        self._acked = threading.Event()
        self._acked.set()
        self._draw_seconds = 0.005  # publish → acknowledgement, smoothed
        self._snapshot_cost = 0.002  # seconds this thread spends building one snapshot
        self._command_waiting = False
        self._needed_before = True
        self._thread: QThread | None = None
        self._autosave_sink = None
        #: Commands that arrived while the worker waited for the compiled kernels.
        self._held: list[tuple[cmd.Command, int]] = []

    # ---------------------------------------------------------------- called from the GUI

    def submit(self, command: cmd.Command, generation: int = 0) -> None:
        """Queue a command with the GUI's generation after issuing it (any thread)."""
        self._queue.put((command, generation))
        self._command_waiting = True

    def take(self) -> Snapshot | None:
        """The newest snapshot, or None; the next snapshot's history starts after it."""
        with self._lock:
            snap, self._slot = self._slot, None
            if snap is not None:
                self._cursor = self._cursor.after(snap)
            return snap

    def acknowledge(self) -> None:
        """The GUI has drawn the last snapshot it took (any thread)."""
        if not self._acked.is_set():
            drawn = time.perf_counter() - self._last_publish
            # A float store is atomic; the worker reads it when it paces the next snapshot.
            self._draw_seconds += 0.3 * (min(max(drawn, 0.0), ACK_TIMEOUT) - self._draw_seconds)
        self._acked.set()

    def set_autosave_sink(self, sink) -> None:
        """Where ``Autosave`` commands hand their image: ``sink(image, original_path, name)``,
        called in the worker thread (:meth:`AutosaveWriter.submit
        <sandbox.session.autosave.AutosaveWriter.submit>`); None drops them.  Set it before
        sending the first Autosave."""
        self._autosave_sink = sink

    # ---------------------------------------------------------- thread start and shutdown

    def start(self) -> None:
        """Run the loop in a new QThread (the worker has no parent, so it can move there)."""
        thread = QThread()
        thread.setObjectName("training-worker")
        self.moveToThread(thread)
        thread.started.connect(self.run)
        # Direct: the GUI thread may be blocked in wait() when the worker finishes.
        self.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread = thread
        thread.start()

    def thread_running(self) -> bool:
        """True while the worker's thread runs (False before ``start`` and after ``stop``)."""
        return self._thread is not None and self._thread.isRunning()

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Ask the loop to end and wait for its thread; True if it ended in time."""
        self.submit(cmd.Quit())
        if self._thread is None:
            return True
        return bool(self._thread.wait(timeout_ms))

    # ------------------------------------------------------------------- the worker loop

    @Slot()
    def run(self) -> None:
        """The loop: apply commands, train, publish.  Returns after a ``Quit`` command."""
        np.seterr(all="ignore")  # overflow is handled by the run's non-finite guard
        if not self._wait_for_kernels():
            self.finished.emit()
            return
        while True:
            try:
                for command, generation in self._next_commands():
                    if isinstance(command, cmd.Quit):
                        self.finished.emit()
                        return
                    self._apply(command, generation)
                if self._playing:
                    self._train_slice()
                self._maybe_publish()
            except Exception:  # noqa: BLE001 - a bug must not kill training or the app
                # Report once, then wait for the next command: rebuilding a failing snapshot
                # at once would fail again, thousands of times a second.
                self._playing = False
                self._needs_snapshot = False
                self.crashed.emit(traceback.format_exc())

    def _wait_for_kernels(self) -> bool:
        """While the compiled kernels are being prepared (the app's launch), wait for them before
        the first snapshot or step, holding the commands that arrive (a step waits, it does not
        train on numpy instead), with a note in the status bar.  False if a Quit came first."""
        if not compiled.is_loading():
            return True
        self.noted.emit(compiled.PREPARING_NOTE)
        while compiled.is_loading():
            try:
                command, generation = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if isinstance(command, cmd.Quit):
                return False
            self._held.append((command, generation))
        self.noted.emit(READY_NOTE if compiled.available() else f"Training on {compiled.reason()}.")
        return True

    def _next_commands(self) -> list[tuple[cmd.Command, int]]:
        """Every queued command (first any held while the kernels were prepared); waits when
        there is nothing else to do."""
        commands, self._held = self._held, []
        if not commands and not self._playing and not self._needs_snapshot:
            commands.append(self._queue.get())  # idle: sleep until the GUI asks for something
        elif self._playing:
            # Leave the interpreter to the GUI while it draws the snapshot just published (the
            # two threads share one GIL, and drawing uncontended is far cheaper than
            # interleaved): until it acknowledges, or for about as long as drawing took last
            # time, whichever comes first; then train on while it finishes.
            if not self._acked.is_set() and not self._command_waiting:
                self._acked.wait(max(0.0, self._last_publish + min(0.05, 1.25 * self._draw_seconds)
                                     - time.perf_counter()))
            if self._speed is not None:
                wait = min(self._rate.next_step_at - time.perf_counter(), self._min_interval)
                if wait > 0:
                    try:
                        commands.append(self._queue.get(timeout=wait))
                    except queue.Empty:
                        pass
        self._command_waiting = False  # cleared before draining: a later submit sets it again
        while True:
            try:
                commands.append(self._queue.get_nowait())
            except queue.Empty:
                return commands

    @property
    def _run(self) -> TrainingRun:
        """The live run."""
        return self._workspace.run

    def _train_slice(self) -> None:
        """Steps until a snapshot is due, a command arrives, or the guard stops training."""
        run = self._run
        deadline = self._last_publish + self._frame_interval()
        self._modified = True
        self._needs_snapshot = True
        if self._speed is not None:
            # Paced: one step when it is due, then back to waiting for the next.
            if time.perf_counter() >= self._rate.next_step_at:
                if not run.step():
                    self._playing = False
                self._rate.stepped(1, self._speed)
            return
        steps = 0
        clock = time.perf_counter
        latest = self._last_publish + ACK_TIMEOUT
        acked = self._acked.is_set
        while True:
            if not run.step():
                self._playing = False
                break
            steps += 1
            # A flag read per step (not the queue's lock) keeps pause within one step cheaply;
            # the clock is read every 8 steps.  A snapshot is due at the deadline once the GUI
            # has drawn the last one (or at the acknowledgement timeout).
            if self._command_waiting:
                break
            if steps & 7 == 0:
                now = clock()
                if now >= deadline and (acked() or now >= latest):
                    break
        self._rate.stepped(steps, None)

    def _maybe_publish(self) -> None:
        if not self._needs_snapshot:
            return
        now = time.perf_counter()
        if self._playing:
            if now - self._last_publish < self._frame_interval():
                return
            if not self._acked.is_set():
                # The GUI has not drawn the last one yet: no new snapshot until it has, or
                # until ACK_TIMEOUT (a GUI busy elsewhere then counts as slow to draw).
                if now - self._last_publish < ACK_TIMEOUT:
                    return
                self._draw_seconds += 0.3 * (ACK_TIMEOUT - self._draw_seconds)
        with self._lock:
            cursor = self._cursor
        workspace = self._workspace
        snap = make_snapshot(
            workspace.shown_run(),
            generation=self._generation,
            run_id=self._run_id,
            cursor=cursor,
            playing=self._playing,
            steps_per_second=self._rate.per_second(self._speed) if self._playing else 0.0,
            modified=self._modified,
            grid_resolution=self.GRID_PLAYING if self._playing else self.GRID_STILL,
            workspace=workspace.view(),
        )
        # Decide whether to signal at the moment the slot is filled: the GUI may have taken
        # the previous snapshot while this one was being built.  (If it did, this snapshot's
        # history rows start before what the GUI now holds; a SeriesDelta says where its rows
        # start, so applying them again is harmless.)
        with self._lock:
            waiting = self._slot is not None
            self._slot = snap
        done = time.perf_counter()
        self._snapshot_cost += 0.2 * ((done - now) - self._snapshot_cost)
        self._last_publish = done
        self._needs_snapshot = False
        if not waiting:
            self._acked.clear()
            self.snapshotReady.emit()

    def _frame_interval(self) -> float:
        """Seconds between snapshots while playing: at most ``max_fps`` a second, and rarer
        when drawing them (publish → acknowledgement) would take more than 12 % of the time or
        building them this thread more than 6 %, but never fewer than 10 a second."""
        return min(0.1, max(self._min_interval, self._draw_seconds / 0.12, self._snapshot_cost / 0.06))

    # ------------------------------------------------------------------------- commands

    def _apply(self, command: cmd.Command, generation: int) -> None:
        self._generation = max(self._generation, generation)
        # A query changes nothing on screen, but a command applied before it in the same batch
        # (a step, a pause, an edit) may: that snapshot must still go out.
        self._needed_before = self._needs_snapshot
        self._needs_snapshot = True
        try:
            self._dispatch(command)
        except (ValueError, SessionFileError) as exc:
            if isinstance(command, cmd.Save):
                self.saveFinished.emit(command.request, command.path, False, str(exc))
            self.commandFailed.emit(command.failure_title, str(exc))
            return
        except Exception:
            # The GUI may be waiting for this save's reply (to quit): it must get one.
            if isinstance(command, cmd.Save):
                self.saveFinished.emit(command.request, command.path, False, "an unexpected error")
            raise
        if command.modifies:
            self._modified = True

    def _dispatch(self, command: cmd.Command) -> None:
        run = self._run
        if isinstance(command, cmd.Play):
            self._workspace.return_to_live()  # Play goes on from the live end (see the banner)
            run.divergence = None  # the user chose to carry on from the last finite state
            self._playing = True
            self._rate.reset()
        elif isinstance(command, cmd.Pause):
            self._playing = False
        elif isinstance(command, cmd.TogglePlay):
            self._dispatch(cmd.Pause() if self._playing else cmd.Play())
        elif isinstance(command, cmd.SetSpeed):
            speed = command.steps_per_second
            self._speed = None if speed is None or not math.isfinite(speed) else float(speed)
            self._rate.reset()
        elif isinstance(command, cmd.Autosave):
            # Between two steps: image_of copies the live run's state and history (~1.7 ms for
            # a 100,000-step default run); the writer thread builds and writes the file.
            # Nothing on screen changes, and an unmodified session needs no autosave.
            self._needs_snapshot = self._needed_before
            if self._modified and self._autosave_sink is not None:
                self._autosave_sink(image_of(self._workspace), command.original_path, command.name)
        elif isinstance(command, cmd.MarkModified):
            pass  # _apply marks it (the command modifies)
        elif isinstance(command, cmd.NewSession):
            self._replace(command.run)
            self._modified = False
        elif isinstance(command, cmd.Load):
            # A CSV starts a fresh session, as on the command line; a session file keeps its runs.
            self._replace(open_workspace(command.path))
            self._modified = False
            self.sessionLoaded.emit(command.path)
        elif isinstance(command, cmd.Save):
            save_image(image_of(self._workspace), command.path)  # the live end, and the earlier runs
            self._modified = False
            self.saveFinished.emit(command.request, command.path, True, "")
            self.sessionSaved.emit(command.path)
        else:
            if isinstance(command, (cmd.Step, cmd.StepEpoch, cmd.StepPhase)):
                self._playing = False
                run.divergence = None
            elif isinstance(command, (cmd.Reset, cmd.NewSeed, cmd.Scrub, cmd.ContinueFromHere, cmd.Undo,
                                      cmd.Redo, cmd.SwitchToRun)):
                self._playing = False  # undo, scrubbing and switching runs pause first
            before = self._workspace.live
            outcome = self._workspace.apply(command)
            if self._workspace.live is not before:
                self._live_replaced(before.run)
            if outcome.event is not None:
                self.editApplied.emit(outcome.event)
            if self._workspace.note:
                self.noted.emit(self._workspace.note)
            if isinstance(command, (cmd.EvaluateLoss, cmd.SuggestLearningRate, *cmd.WHAT_IF_QUERIES)):
                # A query changes nothing on screen.  What the commands before it changed is
                # published first (when paused), so its answer arrives after their snapshot.
                self._needs_snapshot = self._needed_before
                if not self._playing:
                    self._maybe_publish()
                self.resultReady.emit(command, outcome.result)

    def _replace(self, session: TrainingRun | Workspace) -> None:
        """A new session (opened, or new): ``session``, or a fresh workspace around a run."""
        self._playing = False
        self._workspace = session if isinstance(session, Workspace) else Workspace(session)
        self._run_id += 1
        with self._lock:
            self._cursor = HistoryCursor()
            self._slot = None

    def _live_replaced(self, old: TrainingRun) -> None:
        """The workspace made another run live (a reset, a branch, an undo …): its history is
        sent whole; the views rebuild only when the network's layout differs."""
        new = self._run
        if (new.dataset is not old.dataset or new.layer_sizes != old.layer_sizes
                or new.features != old.features or new.network_spec != old.network_spec):
            self._run_id += 1
        with self._lock:
            self._cursor = HistoryCursor()
            self._slot = None


class _RateMeter:
    """Steps per second over the last half second, and pacing for a speed limit."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        now = time.perf_counter()
        self._window_start = now
        self._window_steps = 0
        self._rate = 0.0
        self.next_step_at = now

    def stepped(self, count: int, speed: float | None) -> None:
        now = time.perf_counter()
        self._window_steps += count
        elapsed = now - self._window_start
        if elapsed >= 0.5:
            self._rate = self._window_steps / elapsed
            self._window_start, self._window_steps = now, 0
        if speed is not None:
            self.next_step_at = max(self.next_step_at + count / speed, now - 0.1)

    def per_second(self, speed: float | None = None) -> float:
        """Measured steps per second (never above a speed limit: a short window right after
        a paced step would overstate it)."""
        rate = self._rate
        if rate == 0.0:
            elapsed = time.perf_counter() - self._window_start
            rate = self._window_steps / elapsed if elapsed > 0.05 else 0.0
        return rate if speed is None else min(rate, speed)
