"""When the app autosaves, and when it removes the autosave (the Qt side of
:mod:`sandbox.session.autosave`).

* **Every** ``interval_ms`` (30 s), if the newest snapshot says the session has unsaved
  changes and something happened since the last autosave, an ``Autosave`` command goes to the
  worker, which takes the image between two steps (~1.7 ms for a 100,000-step run) and hands
  it to the :class:`~sandbox.session.autosave.AutosaveWriter`, whose thread writes it.  The
  GUI thread never writes, and training pauses only for the image.  Measured with a
  100,000-step default run autosaving every second (offscreen, two shared cores): training's
  steps per second were the same during writes as between them; the writer shares the GIL
  (~260 ms of work per write), so a frame drawn during a write came up to ~110 ms late (one
  frame at the 10 fps that window drew at).  At one write per 30 s that is one late frame.
* **After a structural change** (another live run: new data, features, network, activations
  or initialisation, reset, new seed, continue from here, switching runs, and undoing or
  redoing those) an autosave follows ``delay_ms`` (1 s) later, debounced: the snapshot's
  ``run_id`` or its live run's number changed.
* **Removed** when a save succeeds, when the session becomes unmodified (New, Open), and when
  the window closes normally.  A killed app's autosave stays for the next start to offer
  (:mod:`sandbox._qt.recovery_dialog`).
* **A failed autosave** (disk full) says so once in the status bar (``noted``); the previous
  autosave stays as it was, and the next tick tries again.  No dialog: a dialog every 30 s
  would be worse than the problem.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..session import commands as cmd
from ..session.autosave import AutosaveWriter, Slot, SlotLock
from ..session.snapshot import Snapshot

#: Milliseconds between two autosaves of a session with unsaved changes.
AUTOSAVE_INTERVAL_MS = 30_000
#: Milliseconds from a structural change to its autosave (more changes restart the wait).
STRUCTURAL_DELAY_MS = 1_000


class AutosaveController(QObject):
    """Autosaves the controller's session while it has unsaved changes.

    Parameters
    ----------
    controller
        The :class:`~sandbox._qt.controller.SessionController`; its worker gets the writer as
        its autosave sink.
    origin
        Called (GUI thread) for where the session came from: ``(original path or None,
        display name)``; the autosave records it, the recovery offer shows it.
    interval_ms, delay_ms
        The autosave period and the structural-change delay (tests shorten them).
    directory
        The autosave folder (default: :func:`~sandbox.session.autosave.autosave_dir`).

    Signals
    -------
    written(bool, str)
        An autosave was written (True, "") or failed (False, why); from the writer's thread,
        delivered in the GUI thread.
    noted(str)
        A note for the status bar (a failed autosave, once until one succeeds again).
    """

    written = Signal(bool, str)
    noted = Signal(str)

    def __init__(self, controller, origin: Callable[[], tuple[str | None, str]], parent: QObject | None = None,
                 interval_ms: int = AUTOSAVE_INTERVAL_MS, delay_ms: int = STRUCTURAL_DELAY_MS,
                 directory=None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._origin = origin
        # The writer's thread emits; Qt queues the signal to this object's (the GUI) thread.
        self.writer = AutosaveWriter(directory, on_result=self.written.emit)
        controller.worker.set_autosave_sink(self.writer.submit)
        self._asked_for: Snapshot | None = None  # the snapshot the last autosave was asked at
        self._unsaved_seen = False  # a modified snapshot came since the autosave was removed
        self._failing = False  # a failure was noted; the next success clears it
        self._structure: tuple | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_ms))
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(int(delay_ms))
        self._soon.timeout.connect(self.autosave_now)
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        controller.saveFinished.connect(self._on_controller_save_finished)
        self.written.connect(self._on_written)

    # ---------------------------------------------------------------------- requests

    def autosave_now(self) -> bool:
        """Ask the worker for an autosave if the session has unsaved changes; True if asked."""
        snap = self._controller.snapshot
        if snap is None or not snap.modified or not self._controller.running:
            return False
        self._asked_for = snap
        self._unsaved_seen = True
        path, name = self._origin()
        self._controller.send(cmd.Autosave(path, name))
        return True

    def _on_timer_timeout(self) -> None:
        # A snapshot follows every command and every trained frame: the same snapshot as at
        # the last autosave means nothing changed since (unless that autosave failed).
        if self._controller.snapshot is self._asked_for and not self._failing:
            return
        self.autosave_now()

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        runs = getattr(snap.workspace, "runs", None)
        structure = (snap.run_id, runs.live.run_id if runs is not None else None)
        changed = self._structure is not None and structure != self._structure
        self._structure = structure
        if snap.modified:
            self._unsaved_seen = True
            if changed:
                self._soon.start()  # (re)starts the wait: a burst of changes autosaves once
        elif self._unsaved_seen:
            # A new or opened session, or a save made while paused: nothing is unsaved now.
            self.remove()

    def _on_controller_save_finished(self, _request: int, _path: str, ok: bool, _message: str) -> None:
        if ok:
            self.remove()

    def _on_written(self, ok: bool, message: str) -> None:
        if ok:
            self._failing = False
            return
        self._asked_for = None  # try again at the next tick
        if not self._failing:
            self._failing = True
            self.noted.emit(f"Autosave failed ({message}). Your changes are safe once you save them.")

    # ------------------------------------------------------------------- the slot

    def remove(self) -> None:
        """Delete this window's autosave (its work is saved, or there is none)."""
        self._soon.stop()
        self._unsaved_seen = False
        self._asked_for = None
        self.writer.remove()

    def adopt(self, slot: Slot, lock: SlotLock) -> None:
        """Continue a recovered slot as this window's own (``lock`` from
        :func:`~sandbox.session.autosave.claim`): its files stay until this window's first
        autosave replaces them, so a kill right after recovering loses nothing."""
        self.writer.adopt(slot.slot_id, lock)

    def shutdown(self, keep: bool = False) -> None:
        """The window closes: stop the timers, remove the autosave (unless ``keep``), and
        stop the writer (after it finished what it was writing)."""
        self._timer.stop()
        self._soon.stop()
        if not keep:
            self.writer.remove()
        self.writer.close()
