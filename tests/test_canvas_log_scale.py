"""Log-scale connection widths and glow: the encoding (Qt-free, hand-picked values) and the View
menu's checkable action, stored in the view state, driving the canvas."""

from __future__ import annotations

import numpy as np
import pytest
from qt_helpers import wait_for_snapshot

from sandbox._qt.canvas import encoding as enc
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun

pytestmark = pytest.mark.gui  # the encoding lives in the canvas package, which imports Qt


def test_log_fraction_spreads_six_decades_below_the_largest_value():
    mag = np.array([2.0, 2e-3, 2e-6, 2e-9, 0.0, 2e-1])
    np.testing.assert_allclose(enc.log_fraction(mag, 2.0), [1.0, 0.5, 0.0, 0.0, 0.0, 5 / 6])
    assert enc.log_fraction(np.zeros(3), 0.0).tolist() == [0.0, 0.0, 0.0]


def test_log_mode_levels_and_signs_of_hand_picked_values():
    values = np.array([1.0, -1e-3, 1e-5, -1e-7, 0.0, 0.5, np.inf])
    linear = enc.encode_connections(values)
    log = enc.encode_connections(values, log=True)
    assert log.sign.tolist() == linear.sign.tolist() == [1, -1, 1, -1, 0, 1, 0]
    # ⌊10 · (log10|v| + 6) / 6⌋: 1 → 10 (capped 9), 1e-3 → 5, 1e-5 → 1.67 → 1, 1e-7 → 0;
    # 0.5 → 10·(5.699/6) = 9.498 → 9.
    assert log.level.tolist()[:6] == [9, 5, 1, 0, 0, 9]
    assert linear.level.tolist()[:6] == [9, 0, 0, 0, 0, 5]
    assert log.top == linear.top == 1.0 and log.broken.tolist() == linear.broken.tolist()


def deep_sigmoid_run() -> TrainingRun:
    return TrainingRun.create(
        DataSpec("circle", n_points=200, seed=3),
        network=NetworkSpec((6, 6, 6, 6, 6), ("sigmoid",) * 5),
        hyper=Hyperparameters(optimizer="sgd", learning_rate=0.1, batch_size=10), seed=5)


def test_the_view_menu_action_switches_the_canvas_to_log_widths_and_glow(qtbot, window):
    controller = window.controller
    controller.new_session(deep_sigmoid_run())
    wait_for_snapshot(qtbot, controller, lambda s: len(s.layer_sizes) == 7)
    canvas = window.canvas
    canvas.set_view_mode("gradients")
    qtbot.waitUntil(lambda: canvas._layout is not None and "∂J/∂w" in canvas.legend_text())  # noqa: SLF001
    snap = controller.snapshot
    grads = np.concatenate([g.ravel() for g in snap.grad_weights])
    linear_widths = canvas._frame.conn_width.copy()  # noqa: SLF001
    linear_halos = len(canvas._frame.halos)  # noqa: SLF001

    action = window.log_scale_action
    assert action.isCheckable() and not action.isChecked() and action.text() == "&Log-scale widths and glow"
    view_menu = [m for m in window.menuBar().actions() if m.text() == "&View"][0].menu()
    assert action in view_menu.actions()
    action.trigger()  # as the menu does
    assert controller.view_state.log_scale is True
    qtbot.waitUntil(lambda: "over 6 decades" in canvas.legend_text())
    log_widths = canvas._frame.conn_width  # noqa: SLF001

    # The widths follow the levels of the engine's gradients on the log scale.
    styles = canvas._palette.connection_styles(canvas._layout.max_width)  # noqa: SLF001
    levels = enc.encode_connections(grads, log=True).level
    signs = np.sign(grads)
    expected = np.where(signs > 0, styles[1][0][levels], styles[-1][0][levels])
    np.testing.assert_allclose(log_widths, expected)
    # The first layer's gradients vanish: on a linear scale its lines are all the thinnest;
    # on the log scale they are wider, and more neurons glow.
    first = snap.grad_weights[0].size
    assert np.all(linear_widths[:first] == linear_widths.min())
    assert log_widths[:first].mean() > linear_widths[:first].mean()
    assert len(canvas._frame.halos) > linear_halos  # noqa: SLF001

    # The view state is the one truth: set elsewhere, the action and canvas follow.
    controller.view_state.log_scale = False
    assert not action.isChecked()
    qtbot.waitUntil(lambda: "over 6 decades" not in canvas.legend_text())
    np.testing.assert_allclose(canvas._frame.conn_width, linear_widths)  # noqa: SLF001
