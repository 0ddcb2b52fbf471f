"""The SessionController with a fake worker: typed commands out, generations, snapshot filtering,
the view state, acknowledgements and shutdown.  No thread, no real worker."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject, QTimer, Signal

from qt_helpers import small_run
from sandbox._qt.controller import SessionController
from sandbox.session import commands as cmd
from sandbox.session.commands import ParameterEdited
from sandbox.session.naming import BiasRef, NeuronRef, WeightRef
from sandbox.session.snapshot import HistoryCursor, make_snapshot

pytestmark = pytest.mark.gui


class FakeWorker(QObject):
    """The worker interface, recording what the controller asks and serving pushed snapshots."""

    snapshotReady = Signal()
    commandFailed = Signal(str, str)
    editApplied = Signal(object)
    resultReady = Signal(object, object)
    sessionLoaded = Signal(str)
    sessionSaved = Signal(str)
    saveFinished = Signal(int, str, bool, str)
    crashed = Signal(str)
    noted = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[tuple[cmd.Command, int]] = []
        self.acknowledged = 0
        self.taken = 0
        self.stopped = 0
        self._slot = None

    def submit(self, command, generation=0):
        self.submitted.append((command, generation))

    def take(self):
        snap, self._slot = self._slot, None
        if snap is not None:
            self.taken += 1
        return snap

    def acknowledge(self):
        self.acknowledged += 1

    def stop(self, timeout_ms=10_000):
        self.stopped += 1
        return True

    def push(self, snapshot) -> None:
        """Publish ``snapshot`` as the worker does: fill the slot, then signal."""
        self._slot = snapshot
        self.snapshotReady.emit()


@pytest.fixture
def run():
    return small_run()


@pytest.fixture
def fake(qtbot):
    return FakeWorker()


@pytest.fixture
def controller(qtbot, fake):
    c = SessionController(fake)
    yield c
    c.shutdown()


def snapshot(run, generation=0, run_id=0):
    return make_snapshot(run, generation=generation, run_id=run_id, cursor=HistoryCursor(), grid_resolution=None)


class Recorder:
    def __init__(self, signal) -> None:
        self.calls: list[tuple] = []
        signal.connect(lambda *args: self.calls.append(args))


# ------------------------------------------------------------------------------ commands


def test_helpers_send_the_right_typed_commands(controller, fake):
    controller.play()
    controller.edit_weight(WeightRef(0, 1, 2), 0.5)
    controller.set_hyperparameters(learning_rate=0.1)
    assert fake.submitted == [
        (cmd.Play(), 0),
        (cmd.EditWeight(WeightRef(0, 1, 2), 0.5), 1),
        (cmd.SetHyperparameters((("learning_rate", 0.1),)), 2),
    ]
    assert controller.generation == 2


def test_more_helpers_send_the_right_typed_commands(controller, fake, run):
    controller.pause()
    controller.toggle_play()
    controller.set_speed(30)
    controller.step(5)
    controller.step_epoch()
    controller.step_phase()
    controller.reset()
    controller.new_seed(7)
    controller.edit_bias(BiasRef(1, 0), -2)
    controller.reconfigure(features=["x1", "x1_sq"])
    controller.set_description("notes")
    controller.evaluate_loss(WeightRef(0, 0, 1), 0.25, request=3)
    controller.load("in.json")
    request = controller.save("out.json")
    controller.new_session(run)
    commands = [c for c, _ in fake.submitted]
    assert commands == [
        cmd.Pause(), cmd.TogglePlay(), cmd.SetSpeed(30), cmd.Step(5), cmd.StepEpoch(), cmd.StepPhase(),
        cmd.Reset(), cmd.NewSeed(7), cmd.EditBias(BiasRef(1, 0), -2.0),
        cmd.Reconfigure(features=("x1", "x1_sq")), cmd.SetDescription("notes"),
        cmd.EvaluateLoss(WeightRef(0, 0, 1), 0.25, 3), cmd.Load("in.json"), cmd.Save("out.json", request),
        cmd.NewSession(run),
    ]
    assert commands[-1].run is run
    assert isinstance(commands[8].value, float)


def test_every_save_gets_its_own_request_id(controller, fake):
    ids = [controller.save(name) for name in ("a.json", "b.json", "a.json")]
    assert len(set(ids)) == 3 and all(i > 0 for i in ids)
    assert [c for c, _ in fake.submitted] == [cmd.Save(n, i) for n, i in zip(("a.json", "b.json", "a.json"), ids)]


def test_view_changing_commands_bump_the_generation_and_others_do_not(controller, fake):
    steady = [controller.play, controller.pause, controller.toggle_play, lambda: controller.set_speed(None),
              lambda: controller.save("x.json"),
              lambda: controller.evaluate_loss(WeightRef(0, 0, 0), 1.0)]
    changing = [lambda: controller.edit_weight(WeightRef(0, 1, 2), 0.5),
                lambda: controller.edit_bias(BiasRef(0, 1), 0.5),
                lambda: controller.set_hyperparameters(learning_rate=0.1),
                controller.step, controller.reset, controller.step_phase,
                lambda: controller.set_description("d"), lambda: controller.load("y.json")]
    for send in steady:
        before = controller.generation
        send()
        assert controller.generation == before
        assert fake.submitted[-1][1] == before
        assert not fake.submitted[-1][0].changes_view
    for send in changing:
        before = controller.generation
        send()
        assert controller.generation == before + 1
        assert fake.submitted[-1][1] == before + 1  # sent with the generation after it
        assert fake.submitted[-1][0].changes_view
    assert controller.generation == len(changing)


# ---------------------------------------------------------------------- snapshot filtering


def test_a_stale_snapshot_is_taken_but_not_shown(qtbot, controller, fake, run):
    changed, taken = Recorder(controller.snapshotChanged), Recorder(controller.snapshotTaken)
    controller.edit_weight(WeightRef(0, 1, 2), 0.5)  # generation 1
    stale = snapshot(run, generation=0)
    fake.push(stale)
    assert taken.calls == [(stale,)]
    assert changed.calls == []
    assert controller.snapshot is None

    current = snapshot(run, generation=1)
    fake.push(current)
    assert taken.calls == [(stale,), (current,)]
    assert changed.calls == [(current,)]
    assert controller.snapshot is current

    # A stale one arriving later does not replace the current one either.
    controller.set_hyperparameters(learning_rate=0.2)  # generation 2
    late = snapshot(run, generation=1)
    fake.push(late)
    assert changed.calls == [(current,)]
    assert controller.snapshot is current
    newer = snapshot(run, generation=3)  # a worker may be ahead (merged commands): current too
    fake.push(newer)
    assert changed.calls == [(current,), (newer,)]
    assert controller.snapshot is newer


def test_commands_that_do_not_change_the_view_keep_snapshots_current(qtbot, controller, fake, run):
    changed = Recorder(controller.snapshotChanged)
    controller.play()
    controller.set_speed(5)
    controller.save("s.json")
    snap = snapshot(run, generation=0)
    fake.push(snap)
    assert changed.calls == [(snap,)]


def test_an_empty_slot_is_ignored(qtbot, controller, fake):
    taken = Recorder(controller.snapshotTaken)
    fake.snapshotReady.emit()  # nothing in the slot
    assert taken.calls == []
    assert controller.snapshot is None


# ---------------------------------------------------------------------------- view state


def test_select_updates_the_view_state_and_emits(qtbot, controller):
    ref = WeightRef(0, 1, 2)
    with qtbot.waitSignal(controller.selectionChanged) as blocker:
        controller.select(ref)
    assert blocker.args == [ref]
    assert controller.view_state.selection == ref
    assert controller.selection == ref
    selections = Recorder(controller.selectionChanged)
    controller.select(ref)  # the same again: no echo
    assert selections.calls == []
    controller.select(None)
    assert selections.calls == [(None,)]
    assert controller.view_state.selection is None


def test_a_snapshot_of_a_new_run_clears_the_selection(qtbot, controller, fake, run):
    fake.push(snapshot(run, run_id=0))
    controller.select(NeuronRef(1, 2))
    controller.view_state.hover = WeightRef(1, 0, 0)
    controller.view_state.focused_example = 4
    fake.push(snapshot(run, run_id=0))  # the same run: kept
    assert controller.selection == NeuronRef(1, 2)

    selections = Recorder(controller.selectionChanged)
    fake.push(snapshot(run, run_id=1))
    assert controller.view_state.selection is None
    assert controller.view_state.hover is None
    assert controller.view_state.focused_example is None
    assert selections.calls == [(None,)]
    assert controller.snapshot.run_id == 1


def test_a_stale_snapshot_of_a_new_run_does_not_clear_the_selection(qtbot, controller, fake, run):
    fake.push(snapshot(run, run_id=0))
    controller.select(WeightRef(0, 0, 0))
    controller.step()  # generation 1
    fake.push(snapshot(run, generation=0, run_id=1))
    assert controller.selection == WeightRef(0, 0, 0)


def test_view_mode(controller):
    modes = Recorder(controller.view_state.events.view_mode)
    controller.set_view_mode("gradients")
    assert controller.view_state.view_mode.value == "gradients"
    assert len(modes.calls) == 1


# -------------------------------------------------------------------- acknowledgements


def test_the_controller_acknowledges_each_snapshot_it_takes(qtbot, controller, fake, run):
    fake.push(snapshot(run))
    assert fake.taken == 1
    # Acknowledged from the event loop, once this frame's paints have been handled.
    qtbot.waitUntil(lambda: fake.acknowledged == 1)

    controller.edit_weight(WeightRef(0, 0, 0), 1.0)
    fake.push(snapshot(run, generation=0))  # stale: still taken, still acknowledged
    fake.push(snapshot(run, generation=1))
    fake.push(snapshot(run, generation=1))
    assert fake.taken == 4
    qtbot.waitUntil(lambda: fake.acknowledged == 4)

    fake.snapshotReady.emit()  # nothing taken: nothing to acknowledge
    # A zero-time timer queued now fires after any the controller queued before it.
    fired = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired))
    assert fake.acknowledged == 4


def test_a_view_that_raises_still_acknowledges(qtbot, controller, fake, run):
    def broken(_snap):
        raise RuntimeError("a view failed")

    controller.snapshotChanged.connect(broken)
    with qtbot.captureExceptions() as exceptions:
        fake.push(snapshot(run))
    qtbot.waitUntil(lambda: fake.acknowledged == 1)
    assert exceptions


# ------------------------------------------------------------------- forwarded signals


def test_worker_signals_are_forwarded(qtbot, controller, fake):
    event = ParameterEdited(3, WeightRef(0, 1, 2), 0.1, 0.5)
    with qtbot.waitSignal(controller.editApplied) as blocker:
        fake.editApplied.emit(event)
    assert blocker.args == [event]
    query = cmd.EvaluateLoss(WeightRef(0, 1, 2), 0.5, 2)
    with qtbot.waitSignal(controller.resultReady) as blocker:
        fake.resultReady.emit(query, 0.75)
    assert blocker.args == [query, 0.75]
    with qtbot.waitSignal(controller.commandFailed) as blocker:
        fake.commandFailed.emit("Could not set the weight", "bad")
    assert blocker.args == ["Could not set the weight", "bad"]
    with qtbot.waitSignal(controller.workerCrashed) as blocker:
        fake.crashed.emit("Traceback …")
    assert blocker.args == ["Traceback …"]
    with qtbot.waitSignal(controller.saveFinished) as blocker:
        fake.saveFinished.emit(3, "a.json", False, "disk full")
    assert blocker.args == [3, "a.json", False, "disk full"]
    with qtbot.waitSignal(controller.sessionLoaded) as blocker:
        fake.sessionLoaded.emit("b.json")
    assert blocker.args == ["b.json"]
    with qtbot.waitSignal(controller.sessionSaved) as blocker:
        fake.sessionSaved.emit("c.json")
    assert blocker.args == ["c.json"]


# ---------------------------------------------------------------------------- shutdown


def test_shutdown_stops_the_worker_once(controller, fake):
    assert controller.shutdown() is True
    assert fake.stopped == 1
    assert controller.shutdown() is True
    assert fake.stopped == 1
