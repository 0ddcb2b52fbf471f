"""Small conventions a desktop app is expected to have: open a file by dropping it on the window,
Help ▸ Keyboard Shortcuts, and View ▸ Reset Layout.

The shortcuts dialog is built from the window's own actions, so it lists every shortcut there
is (and cannot list one that is not): each action with a key, by menu, plus the keys that are
not actions (the slider's and the canvas's own).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QMenu, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

#: File types a drop opens (a session, or CSV data to train on).
DROPPABLE = (".json", ".csv", ".tsv", ".txt")

#: Keys that are not actions of the window: (keys, what they do).
OTHER_KEYS = (
    ("← → Home End PgUp PgDn", "History slider, when it has the focus: move through the run's steps"),
    ("Click the loss plot", "Show the run as it was at that step"),
    ("Esc", "While editing a value: cancel the edit"),
    ("Enter", "While editing a value: apply it"),
)


def dropped_path(mime: QMimeData) -> str | None:
    """The one local file a drag carries, if it is a kind the app opens; else None."""
    if not mime.hasUrls():
        return None
    urls: list[QUrl] = [u for u in mime.urls() if u.isLocalFile()]
    if len(urls) != 1:
        return None
    path = urls[0].toLocalFile()
    return path if Path(path).suffix.lower() in DROPPABLE else None


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(where, keys, what) for every action of ``window`` with a shortcut, then the other keys."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def add(action: QAction, where: str) -> None:
        if id(action) in seen or action.isSeparator():
            return
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        if not keys:
            return
        seen.add(id(action))
        rows.append((where, ", ".join(keys), action.text().replace("&", "")))

    def walk(menu: QMenu, where: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{where} ▸ {action.menu().title().replace('&', '')}")
            else:
                add(action, where)

    for action in window.menuBar().actions():
        if action.menu() is not None:
            walk(action.menu(), action.menu().title().replace("&", ""))
    for action in window.findChildren(QAction):
        add(action, "Window")
    rows.extend(("Window", keys, what) for keys, what in OTHER_KEYS)
    return rows


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard Shortcuts: a table of every key, where it lives and what it does."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Does", "Menu"])
        for r, (where, keys, what) in enumerate(rows):
            for c, text in enumerate((keys, what, where)):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, c, item)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 520)

    def keys(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())]
