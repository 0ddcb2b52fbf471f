"""At a 1280×800 main window no text in the controls panel is clipped; views hide what a task lacks."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QComboBox, QLabel, QStyle, QStyleOptionComboBox

from qt_helpers import wait_for_snapshot

pytestmark = pytest.mark.gui


def _text_room(combo: QComboBox) -> int:
    """Width of the combo's text field (the box minus frame and arrow)."""
    opt = QStyleOptionComboBox()
    combo.initStyleOption(opt)
    rect = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxEditField, combo)
    return rect.width()


def test_every_dataset_name_fits_the_dataset_combo(qtbot, window):
    combo = window.controls.dataset_combo
    qtbot.waitUntil(lambda: combo.width() > 0)
    metrics = combo.fontMetrics()
    for k in range(combo.count()):
        text = combo.itemText(k)
        if text:
            assert metrics.horizontalAdvance(text) <= _text_room(combo), text


def test_no_label_in_the_controls_is_clipped(qtbot, window):
    panel = window.controls
    qtbot.waitUntil(lambda: panel.width() > 0)
    for label in panel.findChildren(QLabel):
        if not label.isVisibleTo(panel) or not label.text():
            continue
        room = label.contentsRect()
        if label.wordWrap():
            assert label.heightForWidth(room.width()) <= room.height() + 1, label.text()
        else:
            assert label.fontMetrics().horizontalAdvance(label.text()) <= room.width(), label.text()


@pytest.mark.parametrize("source, classification", [("circle", True), ("multigauss", False), ("plane", False)])
def test_discretize_only_for_classification(qtbot, window, source, classification):
    c = window.controller
    combo = window.controls.dataset_combo
    combo.setCurrentIndex(combo.findData(source))
    wait_for_snapshot(qtbot, c, lambda s: s.data_spec.source == source)
    qtbot.waitUntil(lambda: window.output_view.mode.startswith("classification" if classification else "regression"))
    assert window.output_view.discretize_checkbox.isVisibleTo(window) == classification


def test_no_button_text_in_the_controls_is_clipped(qtbot, window):
    from PySide6.QtWidgets import QPushButton

    panel = window.controls
    qtbot.waitUntil(lambda: panel.width() > 0)
    for button in panel.findChildren(QPushButton):
        if button.isVisibleTo(panel):
            # Fusion's push-button margins: about 6 px of bevel and padding on each side.
            assert button.fontMetrics().horizontalAdvance(button.text()) + 12 <= button.width(), button.text()
