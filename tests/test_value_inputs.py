"""Typed values in the GUI are taken, or refused visibly: never silently changed or reverted.

The learning-rate (and L1/L2) fields once dropped the "-" of "-1" and sent 1; the inspector's
value box reverted 1e308 without a word; the slider of a weight near the largest double asked the
engine for inf.  Every test drives the real widgets (keyClicks, Enter) against a real worker.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from qt_helpers import show_view, small_run, wait_for_snapshot, worker_barrier
from sandbox._qt.controls import ControlsPanel
from sandbox._qt.inspector import Inspector
from sandbox._qt.inspector.value_editor import SLIDER_STEPS, ValueEditor
from sandbox._qt.theme import ThemeManager
from sandbox.session.naming import WeightRef
from sandbox.session.scoring import FLOAT_MAX

pytestmark = pytest.mark.gui

WEIGHT = WeightRef(0, 1, 2)


@pytest.fixture
def panel(qtbot, qapp, make_controller):
    controller = make_controller(small_run())
    themes = ThemeManager(qapp, "light")
    panel = ControlsPanel(controller, themes)
    show_view(qtbot, controller, panel, 260, 800)
    panel.test_controller = controller
    yield panel
    themes.setParent(None)


@pytest.fixture
def inspector(qtbot, qapp, make_controller):
    controller = make_controller(small_run())
    themes = ThemeManager(qapp, "light")
    inspector = Inspector(controller, themes)
    show_view(qtbot, controller, inspector, 700, 220)
    controller.select(WEIGHT)
    qtbot.waitUntil(lambda: inspector.current_page() == "weight")
    inspector.test_controller = controller
    yield inspector
    themes.setParent(None)


def _type(qtbot, widget, text: str) -> None:
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


# ------------------------------------------------------------------ rates in the controls

#: (field, text typed, words the refusal must say): a sign, zero, above the limit, overflow.
REFUSED_RATES = [
    ("learning_rate_combo", "-1", "> 0"),
    ("learning_rate_combo", "-0.5", "> 0"),
    ("learning_rate_combo", "0", "> 0"),
    ("learning_rate_combo", "2e6", "≤ 1e+06"),
    ("learning_rate_combo", "1e309", "≤ 1e+06"),
    ("l1_combo", "-1", "≥ 0"),
    ("l2_combo", "-0.01", "≥ 0"),
    ("l2_combo", "5000", "≤ 1000"),
]
FIELD_HYPER = {"learning_rate_combo": "learning_rate", "l1_combo": "l1", "l2_combo": "l2"}


@pytest.mark.parametrize("field, text, bound", REFUSED_RATES)
def test_an_out_of_range_rate_is_refused_visibly_and_kept_as_typed(qtbot, panel, field, text, bound):
    controller = panel.test_controller
    combo = getattr(panel, field)
    name = FIELD_HYPER[field]
    before = getattr(controller.snapshot.hyper, name)
    generation = controller.generation
    _type(qtbot, combo.lineEdit(), text)
    # The typed text stays (not "1" for "-1", not the old value), framed, with the reason.
    assert combo.currentText() == text
    assert combo.property("refused") is True
    assert text in combo.refusal() and bound in combo.refusal()
    assert combo.toolTip() == combo.refusal()
    # Nothing was sent; snapshots that arrive later do not overwrite the refused text either.
    worker_barrier(qtbot, controller)
    controller.step(1)
    wait_for_snapshot(qtbot, controller, lambda s: s.step == 1)
    assert controller.generation == generation + 1  # the step only
    assert getattr(controller.snapshot.hyper, name) == before
    assert combo.currentText() == text

    # A valid value clears the refusal and is sent.
    _type(qtbot, combo.lineEdit(), "0.003")
    wait_for_snapshot(qtbot, controller, lambda s: getattr(s.hyper, name) == 0.003)
    assert combo.refusal() == "" and not combo.property("refused")
    assert "refused" not in combo.toolTip()


def test_typing_again_clears_a_refusal(qtbot, panel):
    combo = panel.learning_rate_combo
    _type(qtbot, combo.lineEdit(), "-1")
    assert combo.refusal()
    combo.lineEdit().setFocus()
    qtbot.keyClick(combo.lineEdit(), Qt.Key.Key_Backspace)
    assert combo.refusal() == "" and combo.styleSheet() == ""


# ------------------------------------------------------------------ the inspector's value box

@pytest.mark.parametrize("text, value", [
    ("1e308", 1e308), ("-1e308", -1e308), ("1.7976931348623157e308", FLOAT_MAX), ("-2.5e300", -2.5e300),
    # tiny values and digits past the 8th must not be rounded away (a silent change too)
    ("1e-9", 1e-9), ("-3.25e-200", -3.25e-200), ("0.123456789012345", 0.123456789012345),
])
def test_any_finite_double_typed_in_the_inspector_reaches_the_engine(qtbot, inspector, text, value):
    controller = inspector.test_controller
    _type(qtbot, inspector.value_spin, text)
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][1, 2] == value)
    assert inspector.value_spin.value() == value
    assert float(inspector.value_spin.text()) == pytest.approx(value, rel=1e-5)  # not shown as 0
    assert inspector.value_spin.refusal() == ""
    assert "inf" not in inspector.value_slider.parent().high_label.text()


@pytest.mark.parametrize("text", ["1e309", "-1e400", "1e", "-", "1e+"])
def test_text_that_is_no_finite_double_is_refused_visibly(qtbot, inspector, text):
    controller = inspector.test_controller
    spin = inspector.value_spin
    before = float(controller.snapshot.weights[0][1, 2])
    generation = controller.generation
    _type(qtbot, spin, text)
    assert spin.lineEdit().text() == text  # not silently put back
    assert spin.property("refused") is True and text in spin.refusal()
    worker_barrier(qtbot, controller)
    assert controller.generation == generation
    assert float(controller.snapshot.weights[0][1, 2]) == before
    # Escape puts the value back and clears the frame.
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Escape)
    assert spin.refusal() == "" and spin.value() == pytest.approx(before, abs=1e-8)


# -------------------------------------------------------------------------------- the slider

@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_the_slider_maps_every_position_of_any_value_to_a_finite_double(qapp, centre):
    editor = ValueEditor()
    editor.set_value(centre, force=True)
    values = [editor.slider_value(p) for p in range(0, SLIDER_STEPS + 1, 25)]
    assert all(math.isfinite(v) for v in values)
    assert values == sorted(values)  # the mapping stays monotone where it saturates
    assert editor.slider_value(SLIDER_STEPS // 2) == centre
    for label in (editor.low_label, editor.high_label):
        assert "inf" not in label.text() and "nan" not in label.text()


@pytest.mark.parametrize("value", [FLOAT_MAX, -FLOAT_MAX, 1e308, -9e307])
def test_dragging_the_slider_of_a_huge_weight_sends_finite_edits_without_a_dialog(qtbot, window, value):
    controller = window.controller
    controller.edit_weight(WEIGHT, value)
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][1, 2] == value)
    controller.select(WEIGHT)
    inspector = window.inspector
    qtbot.waitUntil(lambda: inspector.current_page() == "weight")
    slider = inspector.value_slider
    for key, direction in ((Qt.Key.Key_End, +1), (Qt.Key.Key_Home, -1)):
        slider.setFocus()
        qtbot.keyClick(slider, key)  # the handle to one end: an edit is sent at once
        worker_barrier(qtbot, controller)
        got = float(controller.snapshot.weights[0][1, 2])
        assert math.isfinite(got) and (got - value) * direction >= 0
        assert window.last_message_box is None  # no "got inf"
        value = got
