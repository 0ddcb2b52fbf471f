"""The GUI-side controller: owns the worker thread, forwards commands, filters snapshots.

Views take the controller in their ``__init__`` and subscribe to its signals (napari's
model → view pattern); they send user actions back through its methods.  The controller is the
only GUI object that talks to the worker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from ..session import TrainingRun
from ..session.snapshot import Snapshot
from .worker import Command, TrainingWorker


@dataclass(frozen=True)
class Selection:
    """What the inspector shows.

    ``kind`` is ``"weight"`` (``layer, i, j``: W_layer[i, j], from unit i of activation layer
    ``layer`` to unit j of layer ``layer + 1``) or ``"neuron"`` (``layer`` counts activation
    layers, 0 = input features; ``j`` is the unit).
    """

    kind: str
    layer: int
    j: int
    i: int = -1


class SessionController(QObject):
    """Commands in, snapshots out.

    Signals
    -------
    snapshotChanged(Snapshot)
        A snapshot that reflects every command sent so far; views redraw from it.
    snapshotTaken(Snapshot)
        Every snapshot taken from the worker, current or not (its history rows always count).
    selectionChanged(object)
        The selected weight or neuron (a :class:`Selection`) or None.
    commandFailed(str, str), sessionLoaded(str), sessionSaved(str), workerCrashed(str)
        Forwarded from the worker.
    """

    snapshotChanged = Signal(object)
    snapshotTaken = Signal(object)
    selectionChanged = Signal(object)
    commandFailed = Signal(str, str)
    sessionLoaded = Signal(str)
    sessionSaved = Signal(str)
    workerCrashed = Signal(str)

    def __init__(self, run: TrainingRun, parent: QObject | None = None, max_fps: float = 60.0) -> None:
        super().__init__(parent)
        self._generation = 0
        self._snapshot: Snapshot | None = None
        self._selection: Selection | None = None
        # The worker has no parent: an object with a parent cannot move to another thread.
        self._thread = QThread()
        self._thread.setObjectName("training-worker")
        self._worker = TrainingWorker(run, max_fps=max_fps)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        # Direct: the GUI thread may be blocked in wait() when the worker finishes.
        self._worker.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._worker.snapshotReady.connect(self._on_worker_snapshot_ready)
        self._worker.commandFailed.connect(self.commandFailed)
        self._worker.sessionLoaded.connect(self.sessionLoaded)
        self._worker.sessionSaved.connect(self.sessionSaved)
        self._worker.crashed.connect(self.workerCrashed)
        self._running = True
        self._frame_cpu: float | None = None
        self._frame_cost = 0.005
        self._thread.start()

    # ------------------------------------------------------------------------- state

    @property
    def snapshot(self) -> Snapshot | None:
        """The newest current snapshot (None until the worker publishes the first)."""
        return self._snapshot

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def selection(self) -> Selection | None:
        return self._selection

    def select(self, selection: Selection | None) -> None:
        if selection != self._selection:
            self._selection = selection
            self.selectionChanged.emit(selection)

    @Slot()
    def _on_worker_snapshot_ready(self) -> None:
        snap = self._worker.take()
        if snap is None:
            return
        self._measure_frame_cost()
        self.snapshotTaken.emit(snap)
        if snap.generation < self._generation:
            return  # made before our latest command: it would undo that command on screen
        if self._snapshot is not None and snap.run_id != self._snapshot.run_id:
            self.select(None)
        self._snapshot = snap
        self.snapshotChanged.emit(snap)

    def _measure_frame_cost(self) -> None:
        """Tell the worker how much GUI-thread CPU a frame costs (handlers, painting, the rest),
        measured between consecutive snapshots, so it can pace snapshots to leave training
        most of the shared interpreter."""
        now = time.thread_time()
        if self._frame_cpu is not None:
            self._frame_cost += 0.3 * (min(now - self._frame_cpu, 0.2) - self._frame_cost)
            self._worker.report_frame_cost(self._frame_cost)
        self._frame_cpu = now

    # ---------------------------------------------------------------------- commands

    def _send(self, kind: str, changes_state: bool = True, **args: Any) -> None:
        if changes_state:
            self._generation += 1
        self._worker.submit(Command(kind, args, self._generation))

    def play(self) -> None:
        self._send("play", changes_state=False)

    def pause(self) -> None:
        self._send("pause", changes_state=False)

    def toggle_play(self) -> None:
        self._send("toggle", changes_state=False)

    def set_speed(self, steps_per_second: float | None) -> None:
        self._send("set_speed", changes_state=False, steps_per_second=steps_per_second)

    def step(self, count: int = 1) -> None:
        self._send("step", count=count)

    def step_epoch(self) -> None:
        self._send("step_epoch")

    def step_phase(self) -> None:
        self._send("step_phase")

    def reset(self) -> None:
        self._send("reset")

    def new_seed(self, seed: int | None = None) -> None:
        self._send("new_seed", seed=seed)

    def edit_weight(self, layer: int, i: int, j: int, value: float) -> None:
        self._send("edit_weight", layer=layer, i=i, j=j, value=float(value))

    def edit_bias(self, layer: int, j: int, value: float) -> None:
        self._send("edit_bias", layer=layer, j=j, value=float(value))

    def set_hyperparameters(self, **changes: Any) -> None:
        self._send("set_hyper", **changes)

    def reconfigure(self, **changes: Any) -> None:
        """New data (``data=DataSpec|Dataset``), ``features=`` or ``network=NetworkSpec``."""
        self._send("reconfigure", **changes)

    def new_session(self, run: TrainingRun) -> None:
        self._send("new_session", run=run)

    def load(self, path: str) -> None:
        self._send("load", path=str(path))

    def save(self, path: str) -> None:
        self._send("save", changes_state=False, path=str(path))

    def set_description(self, text: str) -> None:
        self._send("set_description", text=text)

    # ---------------------------------------------------------------------- shutdown

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the worker and wait for its thread; True if it ended in time."""
        if not self._running:
            return True
        self._running = False
        self._worker.submit(Command("quit"))
        ended = self._thread.wait(timeout_ms)
        return bool(ended)
