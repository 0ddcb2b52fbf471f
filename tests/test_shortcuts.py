"""The window's shortcuts (Space, →, Alt+→) work again once a value box's edit has ended."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from qt_helpers import wait_for_snapshot
from sandbox.session.naming import WeightRef

pytestmark = pytest.mark.gui


def _press_space_and_expect_play(qtbot, window) -> None:
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, Qt.Key.Key_Space)
    wait_for_snapshot(qtbot, window.controller, lambda s: s.playing)
    window.controller.pause()
    wait_for_snapshot(qtbot, window.controller, lambda s: not s.playing)


def _type(qtbot, widget, text: str) -> None:
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)
    widget.selectAll()
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_space_plays_after_typing_a_weight(qtbot, window):
    window.controller.select(WeightRef(0, 1, 2))
    qtbot.waitUntil(lambda: window.inspector.current_page() == "weight")
    _type(qtbot, window.inspector.value_spin, "0.5")
    wait_for_snapshot(qtbot, window.controller, lambda s: s.weights[0][1, 2] == 0.5)
    _press_space_and_expect_play(qtbot, window)


def test_right_and_alt_right_step_after_typing_a_bias(qtbot, window):
    from sandbox.session.naming import NeuronRef

    window.controller.select(NeuronRef(1, 0))
    qtbot.waitUntil(lambda: window.inspector.current_page() == "neuron")
    _type(qtbot, window.inspector.bias_spin, "0.25")
    wait_for_snapshot(qtbot, window.controller, lambda s: s.biases[0][0] == 0.25)
    start = window.controller.snapshot.step
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Right)
    wait_for_snapshot(qtbot, window.controller, lambda s: s.step == start + 1)
    phase = window.controller.snapshot.phase
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    wait_for_snapshot(qtbot, window.controller, lambda s: s.phase != phase)


@pytest.mark.parametrize("name", ["noise_spin", "batch_spin"])
def test_space_plays_after_typing_in_a_controls_spin_box(qtbot, window, name):
    spin = getattr(window.controls, name)
    _type(qtbot, spin, "5")
    qtbot.waitUntil(lambda: not spin.hasFocus())
    _press_space_and_expect_play(qtbot, window)


def test_space_plays_after_typing_a_learning_rate(qtbot, window):
    combo = window.controls.learning_rate_combo
    _type(qtbot, combo.lineEdit(), "0.02")
    wait_for_snapshot(qtbot, window.controller, lambda s: s.hyper.learning_rate == 0.02)
    _press_space_and_expect_play(qtbot, window)


def test_space_plays_after_inspecting_the_most_blamed_weight(qtbot, window):
    window.controller.select(None)
    button = window.inspector._most_blamed_button
    qtbot.waitUntil(button.isVisible)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.inspector.current_page() == "weight")
    _press_space_and_expect_play(qtbot, window)
