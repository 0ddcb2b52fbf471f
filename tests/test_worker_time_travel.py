"""The real worker thread with its workspace: scrubbed snapshots, Play from the live end, pausing
for undo, and the history a snapshot carries after the live run is replaced."""

from __future__ import annotations

import numpy as np
import pytest

from qt_helpers import small_run, wait_for_snapshot, worker_barrier
from sandbox.session import NetworkSpec
from sandbox.session import commands as cmd
from sandbox.session.naming import WeightRef

pytestmark = pytest.mark.gui


def _trained(qtbot, controller, steps: int):
    controller.send(cmd.Step(steps))
    return wait_for_snapshot(qtbot, controller, lambda s: s.step == steps and not s.playing)


def test_a_scrubbed_snapshot_shows_that_steps_exact_state_and_the_live_history(qtbot, make_controller):
    controller = make_controller(small_run())
    _trained(qtbot, controller, 300)
    controller.send(cmd.Scrub(120))
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.workspace.shown_step == 120)
    reference = small_run()
    reference.train(120)
    assert snap.step == 120 and snap.workspace.live_step == 300 and snap.workspace.scrubbed
    for shown, expected in zip(snap.weights, reference.weights):
        assert np.array_equal(shown, expected)
    assert snap.objective == reference.inspect().backward.objective
    assert controller.history.steps.n == 300, "the loss plot keeps the whole run"
    controller.send(cmd.ReturnToLive())
    live = wait_for_snapshot(qtbot, controller, lambda s: not s.workspace.scrubbed)
    assert live.step == 300


def test_play_while_scrubbed_goes_on_from_the_live_end(qtbot, make_controller):
    controller = make_controller(small_run())
    _trained(qtbot, controller, 100)
    controller.send(cmd.Scrub(30))
    wait_for_snapshot(qtbot, controller, lambda s: s.workspace.shown_step == 30)
    controller.set_speed(500.0)
    controller.play()
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.playing and s.step > 100)
    assert not snap.workspace.scrubbed
    controller.pause()


def test_undo_while_playing_pauses_and_undoes(qtbot, make_controller):
    controller = make_controller(small_run())
    ref = WeightRef(0, 0, 0)
    before = float(wait_for_snapshot(qtbot, controller).weights[0][0, 0])
    controller.send(cmd.EditWeight(ref, 0.9))
    wait_for_snapshot(qtbot, controller, lambda s: s.workspace.undo_text == "set w[1][1,1] to 0.9")
    controller.set_speed(200.0)
    controller.play()
    wait_for_snapshot(qtbot, controller, lambda s: s.playing)
    controller.send(cmd.Undo())
    snap = wait_for_snapshot(qtbot, controller, lambda s: not s.playing and s.workspace.undo_text == "")
    assert snap.workspace.redo_text == "set w[1][1,1] to 0.9"
    # Undo sets the value back as it was before the edit (training since moved the others).
    assert float(snap.weights[0][0, 0]) == before


def test_reset_keeps_the_layout_and_sends_the_new_runs_history_whole(qtbot, make_controller):
    controller = make_controller(small_run())
    first = _trained(qtbot, controller, 200)
    controller.send(cmd.Reset())
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.step == 0)
    assert snap.run_id == first.run_id, "same network: the views keep their layout (and selection)"
    worker_barrier(qtbot, controller)
    assert controller.history.steps.n == 0
    (earlier,) = controller.snapshot.workspace.runs.earlier
    assert earlier.curves.steps[-1, 0] == 200 and earlier.legend == "Run 1 · until reset at step 200"


def test_undoing_an_architecture_change_restores_the_old_run_and_its_history(qtbot, make_controller):
    controller = make_controller(small_run())
    first = _trained(qtbot, controller, 150)
    controller.send(cmd.Reconfigure(network=NetworkSpec((3,), ("relu",))))
    changed = wait_for_snapshot(qtbot, controller, lambda s: s.layer_sizes == (2, 3, 1))
    assert changed.run_id != first.run_id
    controller.send(cmd.Undo())
    back = wait_for_snapshot(qtbot, controller, lambda s: s.layer_sizes == (2, 4, 2, 1))
    assert back.step == 150
    for a, b in zip(back.weights, first.weights):
        assert np.array_equal(a, b)
    worker_barrier(qtbot, controller)
    assert controller.history.steps.n == 150
