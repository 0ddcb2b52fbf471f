"""The real TrainingWorker in its thread: crash handling, acknowledgement pacing, queries, edits.

Every test stops its worker (the ``start_worker`` fixture does it at teardown).  Waits are
``qtbot.waitUntil`` only (see ``received``), never fixed sleeps.
"""

from __future__ import annotations

import statistics
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

import sandbox._qt.worker as worker_module
from qt_helpers import small_run
from sandbox._qt.worker import ACK_TIMEOUT, TrainingWorker
from sandbox.session import commands as cmd
from sandbox.session.commands import ParameterEdited
from sandbox.session.naming import WeightRef

pytestmark = pytest.mark.gui


@pytest.fixture
def start_worker(qtbot):
    """Factory: ``start_worker(run=None, configure=None)`` → a started TrainingWorker; every
    worker made is stopped at teardown.  ``configure(worker)`` runs before the thread starts
    (to connect signals with a direct connection before the first snapshot)."""
    made: list[TrainingWorker] = []

    def start(run=None, configure=None):
        worker = TrainingWorker(run if run is not None else small_run())
        made.append(worker)
        if configure is not None:
            configure(worker)
        worker.start()
        return worker

    yield start
    for worker in made:
        assert worker.stop(), "the worker thread did not stop"
        assert not worker.thread_running()


class Taker:
    """Takes every snapshot the worker publishes (in the worker's thread, as it emits)."""

    def __init__(self, worker: TrainingWorker, acknowledge: bool = False) -> None:
        self.worker = worker
        self.acknowledge = acknowledge
        self.lock = threading.Lock()
        self.snapshots = []
        self.times: list[float] = []
        worker.snapshotReady.connect(self.on_ready, Qt.ConnectionType.DirectConnection)

    def on_ready(self) -> None:
        now = time.perf_counter()
        snap = self.worker.take()
        with self.lock:
            self.times.append(now)
            if snap is not None:
                self.snapshots.append(snap)
        if self.acknowledge:
            self.worker.acknowledge()

    @classmethod
    def start(cls, start_worker, acknowledge: bool = False, run=None, configure=None):
        """A started worker and a Taker connected before its first snapshot."""
        made = []

        def setup(worker):
            made.append(cls(worker, acknowledge))
            if configure is not None:
                configure(worker)

        worker = start_worker(run, configure=setup)
        return worker, made[0]

    def count(self) -> int:
        with self.lock:
            return len(self.snapshots)

    def last(self):
        with self.lock:
            return self.snapshots[-1] if self.snapshots else None


def received(signal) -> list[tuple]:
    """The arguments of every emission of a worker signal, in order.

    Collected in the emitting (worker) thread: ``qtbot.waitSignal`` on a signal of an object in
    another thread can run its quit-the-loop callback there, before the wait has started its
    event loop, and then waits forever.  ``list.append`` is atomic, so waitUntil can poll it.
    """
    got: list[tuple] = []
    signal.connect(lambda *args: got.append(args), Qt.ConnectionType.DirectConnection)
    return got


# ------------------------------------------------------------------------- (a) crashes


def test_after_a_crash_the_worker_reports_once_and_waits_for_the_next_command(qtbot, start_worker, monkeypatch):
    original = worker_module.make_snapshot
    calls = []

    def failing_make_snapshot(*args, **kwargs):
        calls.append(threading.get_ident())
        raise RuntimeError("snapshot failed")

    monkeypatch.setattr(worker_module, "make_snapshot", failing_make_snapshot)
    crashes: list[str] = []
    lock = threading.Lock()

    def on_crash(text: str) -> None:
        with lock:
            crashes.append(text)

    worker, taker = Taker.start(
        start_worker, configure=lambda w: w.crashed.connect(on_crash, Qt.ConnectionType.DirectConnection))

    # The first snapshot fails: one crash report, with the traceback.
    qtbot.waitUntil(lambda: len(crashes) >= 1, timeout=5000)
    assert "RuntimeError: snapshot failed" in crashes[0]
    assert len(calls) == 1

    # It is not rebuilt in a loop: the next attempt (and crash) comes only with a command.
    worker.submit(cmd.Pause())
    qtbot.waitUntil(lambda: len(crashes) >= 2, timeout=5000)
    assert len(crashes) == 2
    assert len(calls) == 2
    assert taker.count() == 0

    # The worker lives on: with snapshots working again, a step is published.
    monkeypatch.setattr(worker_module, "make_snapshot", original)
    worker.submit(cmd.Step())
    qtbot.waitUntil(lambda: taker.count() >= 1, timeout=5000)
    snap = taker.last()
    assert snap.step == 1 and not snap.playing
    assert len(crashes) == 2


def test_a_crash_while_playing_pauses_training(qtbot, start_worker, monkeypatch):
    worker, taker = Taker.start(start_worker)
    worker.submit(cmd.Step())
    qtbot.waitUntil(lambda: taker.count() >= 1 and taker.last().step == 1, timeout=5000)

    def failing_make_snapshot(*args, **kwargs):
        raise RuntimeError("snapshot failed while playing")

    monkeypatch.setattr(worker_module, "make_snapshot", failing_make_snapshot)
    crashes = received(worker.crashed)
    worker.submit(cmd.Play())
    qtbot.waitUntil(lambda: len(crashes) >= 1, timeout=5000)
    assert "snapshot failed while playing" in crashes[0][0]
    monkeypatch.undo()
    # Paused by the crash: the next snapshot (asked for by a harmless command) is not playing.
    before = taker.count()
    worker.submit(cmd.SetSpeed(None))
    qtbot.waitUntil(lambda: taker.count() > before, timeout=5000)
    assert not taker.last().playing


# -------------------------------------------------------------------------- (b) pacing


def _playing_intervals(taker: Taker) -> list[float]:
    """Seconds between consecutive publications whose first snapshot was made while playing."""
    with taker.lock:
        pairs = list(zip(taker.snapshots, taker.times))
    return [t2 - t1 for (s1, t1), (_s2, t2) in zip(pairs, pairs[1:]) if s1.playing]


def test_unacknowledged_snapshots_are_paced_by_the_ack_timeout(qtbot, start_worker):
    worker, taker = Taker.start(start_worker, acknowledge=False)
    worker.submit(cmd.Play())
    qtbot.waitUntil(lambda: len(_playing_intervals(taker)) >= 4, timeout=10_000)
    worker.submit(cmd.Pause())
    intervals = _playing_intervals(taker)[:4]
    assert min(intervals) >= ACK_TIMEOUT * 0.8, intervals
    assert all(s.step > 0 for s in taker.snapshots[1:])  # it kept training meanwhile


def test_acknowledged_snapshots_come_sooner_than_the_ack_timeout(qtbot, start_worker):
    """The contrast to the test above: it is the acknowledgement that lets the next one out."""
    worker, taker = Taker.start(start_worker, acknowledge=True)
    worker.submit(cmd.Play())
    qtbot.waitUntil(lambda: len(_playing_intervals(taker)) >= 8, timeout=10_000)
    worker.submit(cmd.Pause())
    intervals = _playing_intervals(taker)[:8]
    assert statistics.median(intervals) < ACK_TIMEOUT * 0.8, intervals


# ------------------------------------------------------------------- (c) EvaluateLoss


def test_evaluate_loss_emits_the_value_and_changes_nothing(qtbot, start_worker):
    worker, taker = Taker.start(start_worker)
    qtbot.waitUntil(lambda: taker.count() >= 1, timeout=5000)
    before = taker.last()

    ref = WeightRef(0, 1, 2)
    query = cmd.EvaluateLoss(ref, 0.5, request=7)
    results = received(worker.resultReady)
    worker.submit(query)
    qtbot.waitUntil(lambda: len(results) >= 1, timeout=5000)
    command, value = results[0]
    assert command == query and command.request == 7
    twin = small_run()
    twin.set_weight(ref.layer, ref.i, ref.j, 0.5)
    assert value == twin.inspect().backward.objective
    assert value != before.objective

    # A later snapshot (asked for by a harmless command) shows the run as it was.
    worker.submit(cmd.Pause())
    qtbot.waitUntil(lambda: taker.count() >= 2, timeout=5000)
    after = taker.last()
    assert after.version == before.version
    assert after.step == before.step
    assert after.objective == before.objective
    for a, b in zip(after.weights + after.biases, before.weights + before.biases):
        assert a.tobytes() == b.tobytes()


# ----------------------------------------------------------------------- (d) editApplied


def test_edit_weight_emits_edit_applied_with_a_parameter_edited(qtbot, start_worker):
    worker, taker = Taker.start(start_worker)
    qtbot.waitUntil(lambda: taker.count() >= 1, timeout=5000)
    old = float(taker.last().weights[0][1, 2])

    ref = WeightRef(0, 1, 2)
    applied = received(worker.editApplied)
    worker.submit(cmd.EditWeight(ref, 0.5), generation=3)
    qtbot.waitUntil(lambda: len(applied) >= 1, timeout=5000)
    (event,) = applied[0]
    assert isinstance(event, ParameterEdited)
    assert (event.ref, event.old, event.new, event.step) == (ref, old, 0.5, 0)
    assert event.inverse() == cmd.EditWeight(ref, old)

    qtbot.waitUntil(lambda: taker.count() >= 2 and taker.last().generation == 3, timeout=5000)
    snap = taker.last()
    assert snap.weights[0][1, 2] == 0.5
    assert snap.modified
    assert [m.text for m in snap.markers] == [event.describe()]


def test_a_refused_edit_emits_command_failed_and_no_event(qtbot, start_worker):
    worker, taker = Taker.start(start_worker)
    qtbot.waitUntil(lambda: taker.count() >= 1, timeout=5000)
    before = taker.last()
    edits = []
    worker.editApplied.connect(edits.append)
    failed = received(worker.commandFailed)
    worker.submit(cmd.EditWeight(WeightRef(0, 9, 0), 0.5))
    qtbot.waitUntil(lambda: len(failed) >= 1, timeout=5000)
    assert failed[0][0] == cmd.EditWeight.failure_title
    worker.submit(cmd.Pause())
    qtbot.waitUntil(lambda: taker.count() >= 2, timeout=5000)
    assert edits == []
    assert np.array_equal(taker.last().weights[0], before.weights[0])
    assert taker.last().version == before.version


# ------------------------------------------------------ the controller's first snapshot


class SlowStartWorker(TrainingWorker):
    """A worker whose ``start`` returns only after the first snapshot was published (as when
    the GUI thread is descheduled right after starting the thread)."""

    def start(self) -> None:
        published = threading.Event()
        self.snapshotReady.connect(published.set, Qt.ConnectionType.DirectConnection)
        super().start()
        assert published.wait(10), "the worker published nothing"


def test_the_controller_gets_the_first_snapshot_even_if_it_was_published_at_once(qtbot, make_controller, monkeypatch):
    import sandbox._qt.controller as controller_module
    from qt_helpers import wait_for_snapshot

    monkeypatch.setattr(controller_module, "TrainingWorker", SlowStartWorker)
    controller = make_controller(small_run())
    snap = wait_for_snapshot(qtbot, controller)
    assert snap.step == 0


def test_a_controller_on_an_already_started_worker_takes_the_waiting_snapshot(qtbot, start_worker):
    from qt_helpers import wait_for_snapshot
    from sandbox._qt.controller import SessionController

    published = threading.Event()
    worker = start_worker(configure=lambda w: w.snapshotReady.connect(published.set, Qt.ConnectionType.DirectConnection))
    qtbot.waitUntil(published.is_set, timeout=5000)  # published before any controller exists
    controller = SessionController(worker)
    snap = wait_for_snapshot(qtbot, controller)
    assert snap.step == 0
    controller.step()
    wait_for_snapshot(qtbot, controller, lambda s: s.step == 1)
