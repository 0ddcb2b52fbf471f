"""The controls' Data and Features groups: the dataset, its split, CSV import, the input features."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np
from PySide6.QtCore import QRect, QSize, QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QStyle,
    QStyleOptionComboBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QToolTip,
    QWidget,
)
from superqt.utils import QSignalDebouncer

from ...session.config import CSV_SOURCE, DataSpec, NetworkSpec, default_output
from ...session.csv_import import load_csv
from ...session.datasets import CLASSIFICATION, GENERATORS, MAX_POINTS, Dataset, split_mask
from ...session.features import available_features
from ...session.snapshot import Snapshot
from ..csv_import_dialog import CsvImportDialog
from .value_inputs import DATA_DEBOUNCE_MS, MAX_SEED, RESETS


class DatasetCombo(QComboBox):
    """The dataset combo: never narrower than its longest name ("multigauss (regression)")."""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        hint = super().sizeHint()
        metrics = self.fontMetrics()
        widest = max((metrics.horizontalAdvance(self.itemText(k)) for k in range(self.count())), default=0)
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        opt.rect = QRect(0, 0, hint.width(), hint.height())
        room = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxEditField, self
        ).width()
        return QSize(hint.width() + max(0, widest - room) + 2, hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        # The whole name: the form puts the combo under its label when the dock is too narrow.
        return QSize(self.sizeHint().width(), super().minimumSizeHint().height())


class DataSection:
    """Mixin for :class:`ControlsPanel`: builds, sends and syncs the data and feature settings."""

    #: Asked before the Import CSV… button replaces the session (the main window sets it to its
    #: unsaved-changes question); False cancels.  None imports without asking.
    confirm_replace: Callable[[], bool] | None = None

    def _build_data_group(self) -> QGroupBox:
        group, layout = self._group("Data")
        form = self._form()
        # In a narrow dock the dataset combo goes under its label rather than clip its name.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)

        combo = DatasetCombo()
        combo.setToolTip(f"Which problem to learn. {RESETS}")
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        previous_task = None
        for name, gen in GENERATORS.items():
            if previous_task is not None and gen.task != previous_task:
                combo.insertSeparator(combo.count())
            previous_task = gen.task
            label = name if gen.task == CLASSIFICATION else f"{name} (regression)"
            combo.addItem(label, name)
            combo.setItemData(combo.count() - 1, gen.description, Qt.ItemDataRole.ToolTipRole)
        combo.currentIndexChanged.connect(self._on_dataset_combo_current_index_changed)
        self.dataset_combo = combo
        form.addRow("Dataset", combo)

        self.noise_spin = self._spin(0, 100, " %")
        self.noise_spin.setToolTip(f"How noisy the data is (Playground's 50 % is 100 % here). {RESETS}")
        form.addRow("Noise", self.noise_spin)
        self.train_percent_spin = self._spin(1, 100, " %")
        self.train_percent_spin.setToolTip(f"Share of the examples used for training; the rest test. {RESETS}")
        form.addRow("Train split", self.train_percent_spin)
        self.points_spin = self._spin(2, MAX_POINTS)
        self.points_spin.setGroupSeparatorShown(True)
        self.points_spin.setToolTip(f"Number of examples, training and test together. {RESETS}")
        form.addRow("Points", self.points_spin)
        self.data_seed_spin = self._spin(0, MAX_SEED)
        self.data_seed_spin.setToolTip(f"Seed of the points and of the train/test split. {RESETS}")
        form.addRow("Data seed", self.data_seed_spin)
        layout.addLayout(form)

        self._data_debouncer = QSignalDebouncer(parent=self)
        self._data_debouncer.setTimeout(DATA_DEBOUNCE_MS)
        self._data_debouncer.triggered.connect(self._on_data_debouncer_triggered)
        for spin in (self.noise_spin, self.train_percent_spin, self.points_spin, self.data_seed_spin):
            spin.valueChanged.connect(self._on_data_spin_value_changed)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setToolTip(
            f"New random points with the same settings (the next data seed). {RESETS}"
        )
        self.regenerate_button.clicked.connect(self._on_regenerate_button_clicked)
        self.import_button = QPushButton("Import CSV…")
        self.import_button.setToolTip(
            "Load examples from a CSV file: a header row, numeric inputs, the target in the last "
            f"column. {RESETS}"
        )
        self.import_button.clicked.connect(self._on_import_button_clicked)
        for button in (self.regenerate_button, self.import_button):
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        return group

    def _build_features_group(self) -> QGroupBox:
        group, layout = self._group("Features")
        group.setToolTip(f"The inputs the network sees, computed from the raw data. {RESETS}")
        self._features_grid = QGridLayout()
        self._features_grid.setHorizontalSpacing(8)
        self._features_grid.setVerticalSpacing(2)
        layout.addLayout(self._features_grid)
        return group

    # ----------------------------------------------------------------------- public

    def import_csv(self, path: str) -> bool:
        """Load ``path`` and switch the session to it; on a bad file show why and change nothing.

        Parsing runs in the GUI thread (at most 100,000 rows, well under a second) under a wait
        cursor.  Returns True if the new data was sent to the worker.
        """
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            dataset = load_csv(
                path,
                train_fraction=self.train_percent_spin.value() / 100.0,
                seed=self.data_seed_spin.value(),
            )
            error = None
        except ValueError as exc:  # CsvError, and a bad split setting
            dataset, error = None, str(exc)
        finally:
            QApplication.restoreOverrideCursor()
        if dataset is None:
            QMessageBox.warning(self, "Could not import the CSV file", error or "Unknown error")
            return False
        self._use_dataset(dataset)
        return True

    def import_csv_with_dialog(self, path: str) -> CsvImportDialog | None:
        """Show the import dialog for ``path`` (a preview, the target column, the task); the
        data replaces the session when the user presses Import.  Returns the dialog (window-
        modal, not blocking), or None if the file could not even be previewed (a message says
        why)."""
        try:
            dialog = CsvImportDialog(path, self.train_percent_spin.value() / 100.0, self.data_seed_spin.value(),
                                     self.window())
        except ValueError as exc:
            QMessageBox.warning(self, "Could not import the CSV file", str(exc))
            return None
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda: self._use_dataset(dialog.dataset))
        dialog.open()
        self.csv_dialog = dialog
        return dialog

    def _use_dataset(self, dataset) -> None:
        self._controller.reconfigure(
            data=dataset, network=self._network_for_task(dataset.task, dataset.n_classes)
        )

    # ------------------------------------------------------------------- data events

    def _on_dataset_combo_current_index_changed(self, _index: int) -> None:
        source = self.dataset_combo.currentData()
        if source is None or source == CSV_SOURCE:
            return  # a separator, or the imported data that is already loaded
        self._send_data(source)

    def _on_data_spin_value_changed(self, _value: int) -> None:
        self._data_debouncer.throttle()

    def _on_data_debouncer_triggered(self) -> None:
        source = self.dataset_combo.currentData()
        if source == CSV_SOURCE:
            self._resplit_csv()
        elif source is not None:
            self._send_data(source)

    def _on_regenerate_button_clicked(self) -> None:
        with QSignalBlocker(self.data_seed_spin):
            self.data_seed_spin.setValue((self.data_seed_spin.value() + 1) % (MAX_SEED + 1))
        self._data_debouncer.cancel()
        self._on_data_debouncer_triggered()

    def _on_import_button_clicked(self) -> None:
        # The window asks before the import replaces unsaved work (as File ▸ Import CSV… does).
        if self.confirm_replace is not None and not self.confirm_replace():
            return
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import a CSV file", "", "CSV files (*.csv *.tsv *.txt);;All files (*)"
        )
        if path:
            self.import_csv_with_dialog(path)

    def _send_data(self, source: str) -> None:
        spec = DataSpec(
            source=source,
            n_points=self.points_spin.value(),
            noise=self.noise_spin.value() / 100.0,
            train_fraction=self.train_percent_spin.value() / 100.0,
            seed=self.data_seed_spin.value(),
        )
        if spec == self._data_spec:
            return
        self._data_spec = spec
        gen = GENERATORS[source]
        self._controller.reconfigure(data=spec, network=self._network_for_task(gen.task, gen.n_classes))

    def _resplit_csv(self) -> None:
        """Imported data: a new train/test split with the current share and seed (as load_csv)."""
        ds = self._dataset
        if ds is None:
            return
        fraction = self.train_percent_spin.value() / 100.0
        is_train = split_mask(len(ds), fraction, np.random.default_rng(self.data_seed_spin.value()))
        if np.array_equal(is_train, ds.is_train):
            return
        dataset = Dataset(
            name=ds.name, task=ds.task, inputs=ds.inputs, targets=ds.targets, is_train=is_train,
            input_names=ds.input_names, class_names=ds.class_names, target_name=ds.target_name,
        )
        self._controller.reconfigure(data=dataset)

    def _network_for_task(self, task: str, n_classes: int) -> NetworkSpec | None:
        """The current architecture for new data: an output/loss that was the default for the
        old task (or does not fit the new one) becomes "fit the task" again."""
        spec = self._network_spec
        if spec is None:
            return None
        if self._task is not None and (spec.output_activation, spec.loss) == default_output(*self._task):
            return replace(spec, output_activation=None, loss=None)
        try:
            spec.resolved(task, n_classes)
        except ValueError:
            return replace(spec, output_activation=None, loss=None)
        return spec

    # --------------------------------------------------------------- feature events

    def _on_feature_checkbox_toggled(self, _checked: bool) -> None:
        keys = tuple(k for k, box in self.feature_checkboxes.items() if box.isChecked())
        if not keys:
            # The last feature cannot go: the network needs an input.
            box = self.sender()
            self._sync_features(self._features or ())
            if isinstance(box, QWidget):
                QToolTip.showText(
                    box.mapToGlobal(box.rect().bottomLeft()), "At least one input feature must stay on.", box
                )
            return
        if keys != self._features:
            self._features = keys
            self._controller.reconfigure(features=keys)

    # --------------------------------------------------------------- network events

    def _sync_data(self, snap: Snapshot) -> None:
        spec, ds = snap.data_spec, snap.dataset
        self._data_spec = spec
        is_csv = spec.source == CSV_SOURCE
        combo = self.dataset_combo
        with QSignalBlocker(combo):
            csv_index = combo.findData(CSV_SOURCE)
            if is_csv and csv_index < 0:
                combo.insertSeparator(combo.count())
                combo.addItem("Imported CSV", CSV_SOURCE)
                csv_index = combo.count() - 1
            elif not is_csv and csv_index >= 0:
                combo.removeItem(csv_index)
                combo.removeItem(csv_index - 1)  # its separator
                csv_index = -1
            if is_csv:
                combo.setItemText(csv_index, f"CSV: {ds.name}")
                kind = f"{ds.n_classes} classes" if ds.is_classification else "regression"
                combo.setItemData(
                    csv_index, f"Imported from {ds.name}: {len(ds)} rows, {ds.n_inputs} inputs, {kind}",
                    Qt.ItemDataRole.ToolTipRole,
                )
            combo.setCurrentIndex(csv_index if is_csv else combo.findData(spec.source))
        self._set_spin(self.noise_spin, int(round(spec.noise * 100)))
        self._set_spin(self.train_percent_spin, max(1, int(round(spec.train_fraction * 100))))
        self._set_spin(self.points_spin, len(ds) if is_csv else spec.n_points)
        if not is_csv:  # imported data's spec records seed 0; keep the seed the user split with
            self._set_spin(self.data_seed_spin, min(spec.seed, MAX_SEED))
        for widget in (self.noise_spin, self.points_spin):
            widget.setEnabled(not is_csv)
        self.regenerate_button.setToolTip(
            f"A new random train/test split (the next data seed). {RESETS}" if is_csv
            else f"New random points with the same settings (the next data seed). {RESETS}"
        )

    def _rebuild_features(self, input_names: tuple[str, ...]) -> None:
        self._input_names = input_names
        grid = self._features_grid
        for box in self.feature_checkboxes.values():
            grid.removeWidget(box)
            box.deleteLater()
        self.feature_checkboxes = {}
        offered = available_features(input_names)
        # Names can be long (CSV columns): elide to half the panel, full name in the tooltip.
        for k, feature in enumerate(offered):
            box = QCheckBox()
            metrics = box.fontMetrics()
            box.setText(metrics.elidedText(feature.label, Qt.TextElideMode.ElideRight, 88))
            box.setToolTip(f"Input feature {feature.label}. {RESETS}")
            box.toggled.connect(self._on_feature_checkbox_toggled)
            self._style_checkbox(box)
            self.feature_checkboxes[feature.key] = box
            grid.addWidget(box, k // 2, k % 2)

    def _sync_features(self, features: tuple[str, ...]) -> None:
        self._features = tuple(features)
        for key, box in self.feature_checkboxes.items():
            with QSignalBlocker(box):
                box.setChecked(key in features)
