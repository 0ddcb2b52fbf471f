"""The CSV import dialog: a preview of the first rows, the target column and the task chosen
before the data replaces the session; a bad choice is explained in the dialog, which stays open."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from qt_helpers import wait_for_snapshot
from sandbox.session.csv_import import preview_csv

pytestmark = pytest.mark.gui


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def _csv(tmp_path):
    rows = "\n".join(f"{i * 0.1:.2f},{'ab'[i % 2]},{(i % 7) * 0.5:.2f},{i * 0.3:.1f}" for i in range(30))
    return _write(tmp_path / "shop.csv", "height,kind,width,price\n" + rows + "\n")


def test_the_preview_reads_the_header_and_the_first_rows(tmp_path):
    header, rows = preview_csv(_csv(tmp_path), rows=5)
    assert header == ["height", "kind", "width", "price"]
    assert rows[0] == ["0.00", "a", "0.00", "0.0"] and len(rows) == 5


def test_the_import_dialog_previews_and_imports_the_chosen_target(qtbot, window, tmp_path, monkeypatch):
    path = _csv(tmp_path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (path, ""))
    window.import_action.trigger()
    dialog = window.controls.csv_dialog
    qtbot.waitExposed(dialog)
    assert dialog.table.rowCount() == dialog.PREVIEW_ROWS and dialog.table.columnCount() == 4
    assert dialog.table.item(1, 1).text() == "b"
    assert dialog.target_combo.currentText() == "price", "the last column, as the command line assumes"
    dialog.target_combo.setCurrentText("kind")
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    snap = wait_for_snapshot(qtbot, window.controller, lambda s: s.data_spec.source == "csv")
    assert snap.dataset.target_name == "kind" and snap.dataset.class_names == ("a", "b")
    assert snap.dataset.input_names == ("height", "width", "price")
    assert not dialog.isVisible()


def test_a_target_that_cannot_be_used_is_explained_and_the_dialog_stays(qtbot, window, tmp_path):
    dialog = window.controls.import_csv_with_dialog(_csv(tmp_path))
    qtbot.waitExposed(dialog)
    dialog.target_combo.setCurrentText("height")  # then "kind" is an input column of text
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.error_label.isVisible)
    assert "kind" in dialog.error_label.text() and dialog.isVisible()
    assert window.controller.snapshot.data_spec.source != "csv"
    dialog.task_combo.setCurrentIndex(2)  # regression, and a numeric target: still "kind" is text
    dialog.target_combo.setCurrentText("kind")
    assert not dialog.error_label.isVisible(), "a new choice clears the old message"
    dialog.reject()
