"""File ▸ Open Playground Link… and File ▸ Copy Playground Link, in the main window."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from qt_helpers import wait_for_snapshot
from sandbox.session.playground import PLAYGROUND_URL, run_from_link
from test_playground import SPIRAL

pytestmark = pytest.mark.gui


def test_a_pasted_link_opens_as_an_untitled_session(qtbot, window):
    window.open_link_action.trigger()
    dialog = window.link_dialog
    qtbot.waitExposed(dialog)
    dialog.setTextValue(SPIRAL)
    with qtbot.waitSignal(window.controller.sessionLoaded, timeout=5000):
        dialog.accept()
    snap = wait_for_snapshot(qtbot, window.controller, lambda s: s.layer_sizes == (7, 8, 8, 5, 1))
    assert snap.hyper.l1 == 0.001 and snap.data_spec.source == "spiral"
    assert "Not matched from the Playground link" in window.description.text()
    qtbot.waitUntil(lambda: window.windowTitle().startswith("Playground link"))
    assert window._path is None, "Save asks where to put it: a link is not a file"


def test_a_pasted_text_that_is_no_link_is_refused_with_a_message(qtbot, window):
    window.open_link_action.trigger()
    dialog = window.link_dialog
    dialog.setTextValue("circle please")
    dialog.accept()
    qtbot.waitUntil(lambda: window.last_message_box is not None and window.last_message_box.isVisible())
    assert "not a Playground link" in window.last_message_box.text()


def test_copy_playground_link_puts_the_setup_on_the_clipboard(qtbot, window):
    window.controller.set_hyperparameters(learning_rate=0.1)
    wait_for_snapshot(qtbot, window.controller, lambda s: s.hyper.learning_rate == 0.1)
    window.copy_link_action.trigger()
    text = QApplication.clipboard().text()
    assert text.startswith(PLAYGROUND_URL + "#")
    run = run_from_link(text).run
    snap = window.controller.snapshot
    assert (run.hyper.learning_rate, run.network_spec.hidden_sizes, run.features) == \
           (0.1, snap.network_spec.hidden_sizes, snap.features)
    assert "Left out: the trained weights" in window.statusBar().currentMessage()
