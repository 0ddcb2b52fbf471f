"""Classroom mode's larger font cuts no label short: the layer rows' fixed widths follow it, and
the controls dock widens with it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_the_layer_labels_fit_the_classroom_font(qtbot, window):
    from sandbox._qt.controls.network_section import LayerRow

    rows = window.controls.findChildren(LayerRow)
    assert rows
    width_before = window.controls_dock.width()
    window.classroom_action.trigger()
    try:
        qtbot.waitUntil(lambda: window.classroom.enabled)
        for row in rows:
            label = row.name_label
            qtbot.waitUntil(lambda label=label: label.width() >= label.fontMetrics().horizontalAdvance(label.text()))
        qtbot.waitUntil(lambda: window.controls_dock.width() > width_before)
    finally:
        window.classroom_action.trigger()
    qtbot.waitUntil(lambda: not window.classroom.enabled)
