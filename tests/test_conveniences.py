"""Small conventions: drop a file on the window to open it, Help ▸ Keyboard Shortcuts lists every
key, View ▸ Reset Layout puts the panels back."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication

from qt_helpers import small_run, wait_for_snapshot
from sandbox.session.session_file import save

pytestmark = pytest.mark.gui


def _drag(window, path) -> tuple[QDragEnterEvent, QDropEvent]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPoint(window.width() // 2, window.height() // 2)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    drop = QDropEvent(pos.toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    return enter, drop, mime


def test_dropping_a_session_file_on_the_window_opens_it(qtbot, window, tmp_path):
    run = small_run(seed=5)
    run.train(37)
    path = tmp_path / "dropped.json"
    save(run, path)
    enter, drop, _mime = _drag(window, path)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.controller.sessionLoaded, timeout=5000):
        QApplication.sendEvent(window, drop)
    snap = wait_for_snapshot(qtbot, window.controller, lambda s: s.step == 37)
    assert snap.seed == 5
    qtbot.waitUntil(lambda: "dropped.json" in window.windowTitle())


def test_a_file_the_app_cannot_open_is_refused_at_the_door(qtbot, window, tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG")
    enter, drop, _mime = _drag(window, path)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_the_shortcuts_dialog_lists_every_key_the_window_has(qtbot, window):
    dialog = window.show_shortcuts()
    qtbot.waitExposed(dialog)
    listed = " | ".join(dialog.keys())
    expected = set()
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            if not key.isEmpty():
                expected.add(key.toString(QKeySequence.SequenceFormat.NativeText))
    assert {"Space", "Ctrl+Z", "Ctrl+Shift+Z", "Right", "Alt+Right", "Ctrl+S"} <= expected
    for key in expected:
        assert key in listed, f"{key} is missing from Help ▸ Keyboard Shortcuts"
    dialog.close()


def test_reset_layout_puts_the_panels_back(qtbot, window):
    window.inspector_dock.hide()
    window.controls_dock.setFloating(True)
    window.reset_layout_action.trigger()
    qtbot.waitUntil(lambda: window.inspector_dock.isVisible() and not window.controls_dock.isFloating())
    assert window.blame_dock.isVisible() or window.tabifiedDockWidgets(window.controls_dock)
    assert window.dockWidgetArea(window.inspector_dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert window.dockWidgetArea(window.controls_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
