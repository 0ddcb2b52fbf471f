"""The training worker: owns the run, trains in its own thread, publishes snapshots.

The GUI thread never trains.  It puts :class:`Command` objects on a queue; the worker applies
them between two steps (so an edit is never lost and pause takes effect within one step), and
publishes an immutable :class:`~sandbox.session.snapshot.Snapshot` at most ``max_fps`` times a
second.  Only one snapshot waits at a time: if the GUI has not taken the last one, the worker
replaces it rather than queueing more, so a slow frame never builds a backlog.

Everything here runs in the worker thread except :meth:`TrainingWorker.submit` and
:meth:`TrainingWorker.take`, which the GUI calls and which only touch the queue and the
lock-protected snapshot slot.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from ..session import TrainingRun
from ..session.config import DataSpec, NetworkSpec
from ..session.datasets import Dataset
from ..session.session_file import SessionFileError, load, save
from ..session.snapshot import HistoryCursor, Snapshot, make_snapshot


@dataclass(frozen=True)
class Command:
    """One request from the GUI.

    ``kind`` names the action; ``args`` holds its parameters; ``generation`` is the GUI's
    generation counter after issuing it (commands that change what the GUI shows bump it).
    """

    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    generation: int = 0


#: Commands that change the run's state (and so mark the session as modified).
_MODIFYING = {"step", "step_epoch", "step_phase", "edit_weight", "edit_bias", "set_hyper",
              "reset", "new_seed", "reconfigure", "set_description"}


class TrainingWorker(QObject):
    """Trains a :class:`TrainingRun` in a worker thread.

    Signals
    -------
    snapshotReady
        A new snapshot waits in the slot; call :meth:`take`.
    commandFailed(str, str)
        A command was refused (title, message); the run is unchanged.
    sessionLoaded(str), sessionSaved(str)
        A load or save finished (path).
    crashed(str)
        An unexpected exception in the worker (traceback).  Training pauses; the worker lives on.
    finished
        The loop has ended (after a quit command).
    """

    snapshotReady = Signal()
    commandFailed = Signal(str, str)
    sessionLoaded = Signal(str)
    sessionSaved = Signal(str)
    crashed = Signal(str)
    finished = Signal()

    #: Heatmap grid points per axis: coarser while playing (built up to 60 times a second),
    #: finer when paused or stepping.
    GRID_PLAYING = 64
    GRID_STILL = 100

    def __init__(self, run: TrainingRun, max_fps: float = 60.0) -> None:
        super().__init__()
        self._run = run
        self._queue: queue.Queue[Command] = queue.Queue()
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
        # Sharing the interpreter with the GUI thread (see _frame_interval and _yield_until).
        self._gui_frame_cost = 0.005  # GUI-thread CPU seconds per frame, reported by the GUI
        self._snapshot_cost = 0.002  # seconds this thread spends building one snapshot
        self._yield_until = 0.0
        self._command_waiting = False

    # ---------------------------------------------------------------- called from the GUI

    def submit(self, command: Command) -> None:
        """Queue a command (any thread)."""
        self._queue.put(command)
        self._command_waiting = True

    def report_frame_cost(self, seconds: float) -> None:
        """The GUI thread's CPU time per frame (any thread; a float store is atomic)."""
        self._gui_frame_cost = min(max(seconds, 0.0), 0.2)

    def take(self) -> Snapshot | None:
        """The newest snapshot, or None; the next snapshot's history starts after it."""
        with self._lock:
            snap, self._slot = self._slot, None
            if snap is not None:
                self._cursor = self._cursor.after(snap)
            return snap

    # ------------------------------------------------------------------- the worker loop

    @Slot()
    def run(self) -> None:
        """The loop: apply commands, train, publish.  Returns after a ``quit`` command."""
        np.seterr(all="ignore")  # overflow is handled by the run's non-finite guard
        while True:
            try:
                for command in self._next_commands():
                    if command.kind == "quit":
                        self.finished.emit()
                        return
                    self._apply(command)
                if self._playing:
                    self._train_slice()
                self._maybe_publish()
            except Exception:  # noqa: BLE001 - a bug must not kill training or the app
                self._playing = False
                self._needs_snapshot = True
                self.crashed.emit(traceback.format_exc())

    def _next_commands(self) -> list[Command]:
        """Every queued command; waits when there is nothing else to do."""
        commands: list[Command] = []
        if not self._playing and not self._needs_snapshot:
            commands.append(self._queue.get())  # idle: sleep until the GUI asks for something
        elif self._playing:
            # Leave the interpreter to the GUI while it draws the snapshot just published (the
            # two threads share one GIL: drawing uncontended is far cheaper than interleaved),
            # and wait for the next paced step at slow speeds.  Commands cut either wait short.
            now = time.perf_counter()
            wait = self._yield_until - now
            if self._speed is not None:
                wait = max(wait, min(self._rate.next_step_at - now, self._min_interval))
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
        while True:
            if not run.step():
                self._playing = False
                break
            steps += 1
            # A flag read per step (not the queue's lock) keeps pause within one step cheaply;
            # the clock is read every 8 steps.
            if self._command_waiting or (steps & 7 == 0 and clock() >= deadline):
                break
        self._rate.stepped(steps, None)

    def _maybe_publish(self) -> None:
        if not self._needs_snapshot:
            return
        now = time.perf_counter()
        if self._playing and now - self._last_publish < self._frame_interval():
            return
        with self._lock:
            cursor = self._cursor
        snap = make_snapshot(
            self._run,
            generation=self._generation,
            run_id=self._run_id,
            cursor=cursor,
            playing=self._playing,
            steps_per_second=self._rate.per_second(self._speed) if self._playing else 0.0,
            modified=self._modified,
            grid_resolution=self.GRID_PLAYING if self._playing else self.GRID_STILL,
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
        self._last_publish = now
        self._needs_snapshot = False
        if self._playing:
            self._yield_until = done + min(0.05, 1.25 * self._gui_frame_cost)
        if not waiting:
            self.snapshotReady.emit()

    def _frame_interval(self) -> float:
        """Seconds between snapshots while playing: at most ``max_fps`` a second, and rarer
        when drawing them would take the GUI more than 12 % of the time or building them this
        thread more than 6 % (so training keeps most of the interpreter), but never fewer
        than 10 a second (so the window always looks live)."""
        return min(0.1, max(self._min_interval, self._gui_frame_cost / 0.12, self._snapshot_cost / 0.06))

    # ------------------------------------------------------------------------- commands

    def _apply(self, command: Command) -> None:
        self._generation = max(self._generation, command.generation)
        self._needs_snapshot = True
        handler = getattr(self, f"_cmd_{command.kind}", None)
        if handler is None:
            raise ValueError(f"unknown worker command {command.kind!r}")
        try:
            handler(**command.args)
        except (ValueError, SessionFileError) as exc:
            self.commandFailed.emit(_TITLES.get(command.kind, "Not applied"), str(exc))
            return
        if command.kind in _MODIFYING:
            self._modified = True

    def _cmd_play(self) -> None:
        if self._run.divergence is not None:
            self._run.divergence = None  # the user chose to carry on from the last finite state
        self._playing = True
        self._rate.reset()

    def _cmd_pause(self) -> None:
        self._playing = False

    def _cmd_toggle(self) -> None:
        self._cmd_pause() if self._playing else self._cmd_play()

    def _cmd_set_speed(self, steps_per_second: float | None) -> None:
        self._speed = None if steps_per_second is None or not math.isfinite(steps_per_second) else float(steps_per_second)
        self._rate.reset()

    def _cmd_step(self, count: int = 1) -> None:
        self._playing = False
        self._run.divergence = None
        self._run.train(count)

    def _cmd_step_epoch(self) -> None:
        self._playing = False
        self._run.divergence = None
        self._run.step_epoch()

    def _cmd_step_phase(self) -> None:
        self._playing = False
        run = self._run
        run.divergence = None
        {"idle": run.forward, "forward": run.backward, "backward": run.update}[run.phase]()

    def _cmd_edit_weight(self, layer: int, i: int, j: int, value: float) -> None:
        self._run.set_weight(layer, i, j, value)

    def _cmd_edit_bias(self, layer: int, j: int, value: float) -> None:
        self._run.set_bias(layer, j, value)

    def _cmd_set_hyper(self, **changes: Any) -> None:
        self._run.set_hyperparameters(**changes)

    def _cmd_reset(self) -> None:
        self._playing = False
        self._run.reset()

    def _cmd_new_seed(self, seed: int | None = None) -> None:
        self._playing = False
        self._run.new_seed(seed)

    def _cmd_set_description(self, text: str) -> None:
        self._run.description = text

    def _cmd_reconfigure(
        self,
        data: DataSpec | Dataset | None = None,
        features: tuple[str, ...] | None = None,
        network: NetworkSpec | None = None,
    ) -> None:
        """A new network on new data, features or architecture; keeps hyperparameters."""
        old = self._run
        if data is None:
            dataset, spec = old.dataset, old.data_spec
            new = TrainingRun(dataset, spec, features or old.features, network or old.network_spec,
                              old.hyper, old.seed)
        else:
            new = TrainingRun.create(data, features=None, network=network or old.network_spec,
                                     hyper=old.hyper, seed=old.seed)
            keep = features or old.features
            if new.dataset.input_names == old.dataset.input_names and keep != new.features:
                new = TrainingRun(new.dataset, new.data_spec, keep, new.network_spec, old.hyper, old.seed)
        # An example's description is about its data; on new data it would mislead.
        if data is None:
            new.description = old.description
        elif isinstance(data, Dataset):
            new.description = f"Imported from {data.name}."
        new.evaluate_each_epoch = old.evaluate_each_epoch
        self._replace(new)

    def _cmd_new_session(self, run: TrainingRun) -> None:
        self._replace(run)
        self._modified = False

    def _cmd_load(self, path: str) -> None:
        run = load(path)
        self._replace(run)
        self._modified = False
        self.sessionLoaded.emit(path)

    def _cmd_save(self, path: str) -> None:
        save(self._run, path)
        self._modified = False
        self.sessionSaved.emit(path)

    def _replace(self, run: TrainingRun) -> None:
        self._playing = False
        self._run = run
        self._run_id += 1
        with self._lock:
            self._cursor = HistoryCursor()
            self._slot = None


_TITLES = {
    "load": "Could not open the session",
    "save": "Could not save the session",
    "reconfigure": "Could not apply the change",
    "set_hyper": "Could not change the setting",
    "edit_weight": "Could not set the weight",
    "edit_bias": "Could not set the bias",
}


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
