"""The CSV import dialog: a preview of the first rows, and a choice of the target column and of
classification or regression, before the data replaces the session.

The file is read whole, and checked, only when the user presses Import
(:func:`sandbox.session.csv_import.load_csv`); a problem is shown in the dialog, which stays
open so another column can be chosen.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from ..session.csv_import import load_csv, preview_csv
from ..session.datasets import CLASSIFICATION, REGRESSION, Dataset

#: The task choices: (shown text, value given to load_csv).
TASKS = (("Decide from the target's values", None), ("Classification", CLASSIFICATION),
         ("Regression", REGRESSION))


class CsvImportDialog(QDialog):
    """Shows the first rows of ``path`` and asks for the target column and the task.

    Raises
    ------
    CsvError
        From the constructor, if the file cannot be previewed at all (unreadable, not text).

    Attributes
    ----------
    dataset
        The data read when the user pressed Import (None before, or after a failure).
    """

    PREVIEW_ROWS = 8

    def __init__(self, path: str, train_fraction: float, seed: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Import {Path(path).name}")
        self._path, self._train_fraction, self._seed = path, train_fraction, seed
        self.dataset: Dataset | None = None
        header, rows = preview_csv(path, self.PREVIEW_ROWS)
        self.table = QTableWidget(len(rows), len(header), self)
        self.table.setHorizontalHeaderLabels(header)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row[: len(header)]):
                item = QTableWidgetItem(cell)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(200)
        self.target_combo = QComboBox(self)
        self.target_combo.addItems(header)
        if header:
            self.target_combo.setCurrentIndex(len(header) - 1)  # the last column, as load_csv assumes
        self.target_combo.setToolTip("The column the network learns to predict; every other column is an input")
        self.task_combo = QComboBox(self)
        for text, value in TASKS:
            self.task_combo.addItem(text, value)
        self.task_combo.setToolTip("Classes (any text, or a few whole numbers) or a number to predict")
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.hide()
        form = QFormLayout()
        form.addRow("Target column", self.target_combo)
        form.addRow("Task", self.task_combo)
        shown = QLabel(f"The first {len(rows)} rows of {Path(path).name}:" if rows else
                       f"{Path(path).name} has a header but no data rows yet in its first part.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.import_button = buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._on_import)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(shown)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.target_combo.currentIndexChanged.connect(self._on_target_changed)
        self._on_target_changed(self.target_combo.currentIndex())
        self.resize(640, 420)

    def _on_target_changed(self, index: int) -> None:
        # The target column stands out in the preview.
        self.table.clearSelection()
        if index >= 0:
            self.table.selectColumn(index)
        self.error_label.hide()

    def _on_import(self) -> None:
        try:
            self.dataset = load_csv(self._path, target=self.target_combo.currentText() or None,
                                    train_fraction=self._train_fraction, seed=self._seed,
                                    task=self.task_combo.currentData())
        except ValueError as exc:  # CsvError, and a bad split setting: say why, stay open
            self.dataset = None
            self.error_label.setText(str(exc))
            self.error_label.setStyleSheet("color: #c62828;")
            self.error_label.show()
            return
        self.accept()
