"""Time travel in the main window: the history scrubber, clicking the loss plot, the banner's two
ways on, earlier runs in the loss plot and the Runs menu, and Edit ▸ Undo / Redo with their keys.

The numbers are checked against a headless run trained to the same step (the engine is
deterministic), never against the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from qt_helpers import small_run, wait_for_snapshot
from sandbox.session import NetworkSpec
from sandbox.session import commands as cmd
from sandbox.session.naming import WeightRef

pytestmark = pytest.mark.gui


def _trained(qtbot, window, steps: int):
    window.controller.send(cmd.Step(steps))
    return wait_for_snapshot(qtbot, window.controller, lambda s: s.step == steps and not s.playing)


def _reference(steps: int):
    run = small_run()
    run.train(steps)
    return run


def _shown(qtbot, window, predicate):
    return wait_for_snapshot(qtbot, window.controller, lambda s: s.workspace is not None and bool(predicate(s.workspace)))


def test_the_scrubber_shows_an_earlier_step_exactly_and_the_banner_says_so(qtbot, window):
    _trained(qtbot, window, 200)
    scrubber = window.history_scrubber
    qtbot.waitUntil(lambda: scrubber.slider.maximum() == 200)
    assert not window.history_banner.isVisible()
    scrubber.slider.setFocus()
    qtbot.keyClick(scrubber.slider, Qt.Key.Key_Home)  # the slider's own key: to its first step
    snap = _shown(qtbot, window, lambda ws: ws.shown_step == 0)
    reference = small_run()
    assert snap.step == 0
    for shown, expected in zip(snap.weights, reference.weights):
        assert np.array_equal(shown, expected)
    for _ in range(3):
        qtbot.keyClick(scrubber.slider, Qt.Key.Key_PageUp)
    step = scrubber.slider.value()
    assert 0 < step < 200
    snap = _shown(qtbot, window, lambda ws: ws.shown_step == step)
    reference = _reference(step)
    for shown, expected in zip(snap.weights, reference.weights):
        assert np.array_equal(shown, expected)
    assert window.history_banner.isVisible()
    assert f"Showing step {step:,} of 200" in window.history_banner.label.text()
    assert scrubber.label.text() == f"{step:,} / 200"
    assert window.loss_plot.shown_step() == step and window.gradient_health.shown_step() == step
    assert window.training_bar.isVisible()
    back = next(b for b in window.history_banner.buttons if b.text() == "Back to live")
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    snap = _shown(qtbot, window, lambda ws: ws.shown_step is None)
    assert snap.step == 200
    qtbot.waitUntil(lambda: not window.history_banner.isVisible())
    assert window.loss_plot.shown_step() is None and scrubber.label.text() == "live · 200"


def test_clicking_the_loss_plot_shows_that_step(qtbot, window):
    _trained(qtbot, window, 300)
    window.plot_tabs.setCurrentWidget(window.loss_plot)
    plot = window.loss_plot
    qtbot.waitUntil(lambda: len(plot.series("batch")[0]) == 300)
    vb = plot.plot_widget.getPlotItem().getViewBox()
    y = float(np.mean(vb.viewRange()[1]))
    scene = vb.mapViewToScene(pg_point(120.0, y))
    pos = plot.plot_widget.mapFromScene(scene)
    expected = plot.step_at(120.0)
    assert expected is not None and abs(expected - 120) <= 3
    qtbot.mouseClick(plot.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
    snap = _shown(qtbot, window, lambda ws: ws.shown_step is not None)
    assert abs(snap.workspace.shown_step - 120) <= 3
    reference = _reference(snap.workspace.shown_step)
    assert np.array_equal(snap.weights[0], reference.weights[0])
    qtbot.waitUntil(lambda: window.history_scrubber.slider.value() == snap.workspace.shown_step)


def pg_point(x: float, y: float):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_continue_from_here_keeps_the_future_as_a_dimmed_earlier_run(qtbot, window):
    _trained(qtbot, window, 200)
    window.controller.scrub(80)
    _shown(qtbot, window, lambda ws: ws.shown_step == 80)
    qtbot.waitUntil(window.history_banner.isVisible)
    go = window.history_banner.buttons[0]
    assert go.text() == "Continue from step 80"
    qtbot.mouseClick(go, Qt.MouseButton.LeftButton)
    snap = _shown(qtbot, window, lambda ws: ws.shown_step is None and ws.runs.earlier)
    assert snap.step == 80 and snap.workspace.live_step == 80
    plot = window.loss_plot
    qtbot.waitUntil(lambda: len(plot.overlays.drawn) == 1)
    (steps, _losses), = plot.overlays.drawn.values()
    assert steps[-1] >= 190, "the abandoned future is drawn whole"
    assert plot.runs_label.isVisible() and "Run 1" in plot.runs_label.text()
    assert snap.workspace.runs.live.branched_at == 80
    # Training on from the branch point: the same as a run that stopped at step 80 and went on.
    window.controller.send(cmd.Step(20))
    snap = _shown(qtbot, window, lambda ws: ws.live_step == 100)
    reference = _reference(100)
    for shown, expected in zip(snap.weights, reference.weights):
        assert np.array_equal(shown, expected)

    # The Runs menu hides and shows it, and clears it.
    window.runs_menu.aboutToShow.emit()
    (run_id, action), = window.run_actions.items()
    assert action.isChecked() and action.text().startswith("Show Run 1")
    action.toggle()
    qtbot.waitUntil(lambda: not plot.overlays.drawn)
    assert "<s>" in plot.runs_label.text()
    window.runs_menu.aboutToShow.emit()
    window.run_actions[run_id].toggle()
    qtbot.waitUntil(lambda: len(plot.overlays.drawn) == 1)
    clear = next(a for a in window.runs_menu.actions() if a.text() == "&Clear Earlier Runs")
    clear.trigger()
    qtbot.waitUntil(lambda: not plot.overlays.drawn and not plot.runs_label.isVisible())


def test_a_reset_run_stays_in_the_plot_and_can_be_switched_back_to(qtbot, window):
    _trained(qtbot, window, 150)
    window.controller.reset()
    _shown(qtbot, window, lambda ws: ws.live_step == 0 and len(ws.runs.earlier) == 1)
    window.runs_menu.aboutToShow.emit()
    switch = next(a for a in window.runs_menu.actions() if a.menu() is not None).menu()
    (target,) = switch.actions()
    assert target.isEnabled()
    target.trigger()
    snap = _shown(qtbot, window, lambda ws: ws.live_step == 150)
    reference = _reference(150)
    for shown, expected in zip(snap.weights, reference.weights):
        assert np.array_equal(shown, expected)


def test_ctrl_z_undoes_a_weight_edit_and_ctrl_shift_z_redoes_it(qtbot, window):
    controller = window.controller
    ref = WeightRef(0, 0, 0)
    before = float(controller.snapshot.weights[0][0, 0])
    controller.edit_weight(ref, 0.5)
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo set w[1][1,1] to 0.5")
    assert window.undo_action.isEnabled() and not window.redo_action.isEnabled()
    window.canvas.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    snap = wait_for_snapshot(qtbot, controller, lambda s: bool(s.workspace.redo_text))
    assert float(snap.weights[0][0, 0]) == before
    qtbot.waitUntil(lambda: window.redo_action.text() == "&Redo set w[1][1,1] to 0.5")
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Undid: set w[1][1,1]"))
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    snap = wait_for_snapshot(qtbot, controller, lambda s: bool(s.workspace.undo_text and not s.workspace.redo_text))
    assert float(snap.weights[0][0, 0]) == 0.5
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Redid:"))


def test_undo_from_the_edit_menu_while_playing_pauses_and_restores_the_network(qtbot, window):
    controller = window.controller
    _trained(qtbot, window, 50)
    before = controller.snapshot
    controller.reconfigure(network=NetworkSpec(hidden_sizes=(3,), hidden_activations=("relu",)))
    wait_for_snapshot(qtbot, controller, lambda s: len(s.weights) == 2)
    qtbot.waitUntil(lambda: window.undo_action.text().startswith("&Undo change"))
    controller.set_speed(300.0)
    controller.play()
    wait_for_snapshot(qtbot, controller, lambda s: s.playing)
    window.undo_action.trigger()
    snap = wait_for_snapshot(qtbot, controller, lambda s: not s.playing and len(s.weights) == len(before.weights))
    assert snap.step == 50
    for shown, expected in zip(snap.weights, before.weights):
        assert np.array_equal(shown, expected)
    assert window.redo_action.isEnabled()


def test_the_scrubber_is_off_until_there_is_a_past_to_go_back_to(qtbot, window):
    scrubber = window.history_scrubber
    assert not scrubber.slider.isEnabled() and "Nothing to go back to yet" in scrubber.slider.toolTip()
    _trained(qtbot, window, 5)
    qtbot.waitUntil(scrubber.slider.isEnabled)
    assert scrubber.slider.toolTip().startswith("Drag back")
