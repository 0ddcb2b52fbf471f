"""The controls panel: data, input features, architecture and training settings.

In the spirit of TensorFlow Playground's left column.  Every widget is synced from the
current snapshot (signals blocked, widgets the user is editing left alone) and sends changes
through the controller:

* data, features and network → ``controller.reconfigure(...)``, which starts a fresh network;
* training settings → ``controller.set_hyperparameters(...)``, which keeps the weights.

The panel keeps a local copy of the configuration it last sent or saw, so quick successive
clicks (two "+" in a row before a snapshot arrives) build on each other instead of on a stale
snapshot.  A snapshot that disagrees with that copy (a command was rejected) wins.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QRegularExpression, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QPalette, QRegularExpressionValidator, QValidator
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import QSignalDebouncer

from ..engine import ACTIVATIONS, HIDDEN_ACTIVATIONS, INITIALIZERS, OPTIMIZERS
from ..session.config import CSV_SOURCE, MAX_BATCH_SIZE, DataSpec, NetworkSpec, default_output
from ..session.csv_import import load_csv
from ..session.datasets import CLASSIFICATION, GENERATORS, MAX_POINTS, REGRESSION, Dataset, split_mask
from ..session.features import available_features
from ..session.snapshot import Snapshot
from .controller import SessionController
from .theme import Theme, ThemeManager

LEARNING_RATES = ("0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10")
REGULARIZATION_RATES = ("0", "0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1")
#: Limits of the +/− buttons: the canvas stays readable, the engine allows far more.
MAX_UI_LAYERS = 16
MAX_UI_NEURONS = 64
BUTTON_SIZE = 20  # the layer rows' − and + buttons
MAX_SEED = 2**31 - 1  # QSpinBox is 32-bit
#: Data spin boxes send after this pause (ms): holding an arrow key must not rebuild the run 30×/s.
DATA_DEBOUNCE_MS = 200

RESETS = "Changing this starts a fresh network (new initial weights)."
KEEPS = "Takes effect from the next step; the network keeps its weights."


def format_rate(value: float) -> str:
    """A rate as Playground shows it: positional, no exponent, no trailing zeros (1e-05 → 0.00001)."""
    return np.format_float_positional(float(value), trim="-")


def output_choices(task: str) -> tuple[str, ...]:
    """Output activations that can fit the task (regression cannot use softmax)."""
    return tuple(a for a in ACTIVATIONS if not (task == REGRESSION and a == "softmax"))


def loss_choices(task: str, output_activation: str) -> tuple[str, ...]:
    """Losses valid after ``output_activation``: bce needs sigmoid, cross_entropy softmax."""
    if task == REGRESSION:
        return ("mse",)
    return {"sigmoid": ("bce", "mse"), "softmax": ("cross_entropy", "mse")}.get(output_activation, ("mse",))


def _is_editing(widget: QWidget) -> bool:
    """True while ``widget`` (or its line edit) holds the keyboard focus."""
    focus = QApplication.focusWidget()
    return focus is not None and (focus is widget or widget.isAncestorOf(focus))


class _BatchSpinBox(QSpinBox):
    """Batch size 1 … n_train, where the maximum reads "all" (the whole training set)."""

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt override)
        return "all" if value == self.maximum() else str(value)

    def valueFromText(self, text: str) -> int:  # noqa: N802
        text = text.strip().lower()
        if text.startswith("a"):
            return self.maximum()
        try:
            return int(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        lowered = text.strip().lower()
        if lowered and "all".startswith(lowered):
            state = QValidator.State.Acceptable if lowered == "all" else QValidator.State.Intermediate
            return state, text, pos
        return super().validate(text, pos)


class RateCombo(QComboBox):
    """An editable combo of preset rates that also accepts any typed number in range.

    Signals
    -------
    valueCommitted(float)
        The user picked a preset or typed a valid number and pressed Enter (or left the field).
    """

    valueCommitted = Signal(float)

    def __init__(
        self, presets: tuple[str, ...], what: str, low: float, high: float, low_open: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._what, self._low, self._high, self._low_open = what, low, high, low_open
        self._value: float | None = None
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.addItems(list(presets))
        # No inline completion: typing "0.0" and Enter must mean 0.0, not the preset 0.00001.
        self.setCompleter(None)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(7)
        # Digits, one point, an optional exponent: letters cannot be typed at all.
        pattern = QRegularExpression(r"[0-9]*\.?[0-9]*([eE][-+]?[0-9]*)?")
        self.lineEdit().setValidator(QRegularExpressionValidator(pattern, self))
        self.lineEdit().editingFinished.connect(self._on_line_edit_editing_finished)
        self.activated.connect(self._on_self_activated)

    def value(self) -> float | None:
        return self._value

    def set_value(self, value: float) -> None:
        """Show ``value`` (from a snapshot) unless the user is typing here."""
        self._value = float(value)
        if not _is_editing(self):
            with QSignalBlocker(self):
                self.setEditText(format_rate(value))

    def _on_self_activated(self, _index: int) -> None:
        self._commit()

    def _on_line_edit_editing_finished(self) -> None:
        self._commit()

    def _commit(self) -> None:
        text = self.currentText().strip()
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        too_low = value <= self._low if self._low_open else value < self._low
        if not math.isfinite(value) or too_low or value > self._high:
            bound = ">" if self._low_open else "≥"
            QToolTip.showText(
                self.mapToGlobal(self.rect().bottomLeft()),
                f"The {self._what} must be a number {bound} {self._low:g} and ≤ {self._high:g}.",
                self,
            )
            if self._value is not None:
                with QSignalBlocker(self):
                    self.setEditText(format_rate(self._value))
            return
        with QSignalBlocker(self):
            self.setEditText(format_rate(value))
        if value != self._value:
            self._value = value
            self.valueCommitted.emit(value)


def _layer_name_width(widget: QWidget) -> int:
    return widget.fontMetrics().horizontalAdvance(f"Layer {MAX_UI_LAYERS}") + 2


def _size_label_width(widget: QWidget) -> int:
    return widget.fontMetrics().horizontalAdvance(str(MAX_UI_NEURONS)) + 6


class LayerRow(QWidget):
    """One hidden layer: ``Layer k  [−] N [+]  [activation]`` (a header row names the columns)."""

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.name_label = QLabel(f"Layer {index + 1}")
        self.name_label.setFixedWidth(_layer_name_width(self.name_label))
        self.minus_button = QToolButton()
        self.minus_button.setText("\u2212")
        self.minus_button.setToolTip(f"One neuron fewer in layer {index + 1}. {RESETS}")
        self.plus_button = QToolButton()
        self.plus_button.setText("+")
        self.plus_button.setToolTip(f"One neuron more in layer {index + 1}. {RESETS}")
        for button in (self.minus_button, self.plus_button):
            button.setFixedSize(BUTTON_SIZE, BUTTON_SIZE)
        self.size_label = QLabel()
        self.size_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.size_label.setFixedWidth(_size_label_width(self.size_label))
        self.activation_combo = QComboBox()
        self.activation_combo.addItems(list(HIDDEN_ACTIVATIONS))
        self.activation_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.activation_combo.setMinimumContentsLength(4)
        self.activation_combo.setToolTip(f"Activation of layer {index + 1}. {RESETS}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.name_label)
        layout.addWidget(self.minus_button)
        layout.addWidget(self.size_label)
        layout.addWidget(self.plus_button)
        layout.addWidget(self.activation_combo, 1)

    def set_state(self, size: int, activation: str) -> None:
        """Show the layer's size and activation (from the spec)."""
        self.size_label.setText(str(size))
        self.size_label.setToolTip(f"{size} neuron{'s' if size != 1 else ''} in layer {self.index + 1}")
        self.minus_button.setEnabled(size > 1)
        self.plus_button.setEnabled(size < MAX_UI_NEURONS)
        if not _is_editing(self.activation_combo):
            with QSignalBlocker(self.activation_combo):
                self.activation_combo.setCurrentText(activation)


class _LayerHeader(QWidget):
    """Column titles over the layer rows: neurons | activation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self.neurons_label = QLabel("neurons")
        self.neurons_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.neurons_label.setFixedWidth(2 * BUTTON_SIZE + 6 + _size_label_width(self))
        self.activation_label = QLabel("activation")
        layout.addSpacing(_layer_name_width(self) + 3)
        layout.addWidget(self.neurons_label)
        layout.addWidget(self.activation_label, 1)


class ControlsPanel(QWidget):
    """Data, features, network and training controls, in a vertically scrolling column.

    Parameters
    ----------
    controller
        Sends ``reconfigure`` (data, features, network) and ``set_hyperparameters``; every
        widget follows ``snapshotChanged``.
    themes
        Recolours the notes on ``themeChanged``.
    """

    def __init__(
        self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        # The configuration last sent or seen (see the module docstring).
        self._dataset: Dataset | None = None
        self._data_spec: DataSpec | None = None
        self._input_names: tuple[str, ...] | None = None
        self._features: tuple[str, ...] | None = None
        self._network_spec: NetworkSpec | None = None
        self._task: tuple[str, int] | None = None
        self._hyper = None
        self._n_train = -1
        self._notes: list[QLabel] = []
        self._theme = themes.theme
        self.feature_checkboxes: dict[str, QCheckBox] = {}
        self.layer_rows: list[LayerRow] = []

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(8)
        column.addWidget(self._build_data_group())
        column.addWidget(self._build_features_group())
        column.addWidget(self._build_network_group())
        column.addWidget(self._build_training_group())
        column.addStretch(1)
        self._content = content
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area = scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._on_themes_theme_changed(themes.theme)
        if controller.snapshot is not None:
            self._on_controller_snapshot_changed(controller.snapshot)

    # ------------------------------------------------------------------ construction

    def _note(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        label.setFont(font)
        self._notes.append(label)
        return label

    @staticmethod
    def _group(title: str) -> tuple[QGroupBox, QVBoxLayout]:
        group = QGroupBox(title)
        layout = QVBoxLayout(group)
        # Tighter than Fusion's default: the dock is only ~260 px wide.
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(4)
        return group, layout

    @staticmethod
    def _form() -> QFormLayout:
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(6)
        form.setVerticalSpacing(4)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return form

    @staticmethod
    def _spin(low: int, high: int, suffix: str = "") -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setSuffix(suffix)
        spin.setKeyboardTracking(False)  # commit on Enter / focus loss, not per keystroke
        spin.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return spin

    def _build_data_group(self) -> QGroupBox:
        group, layout = self._group("Data")
        form = self._form()

        combo = QComboBox()
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

    def _build_network_group(self) -> QGroupBox:
        group, layout = self._group("Network")
        self._layer_header = _LayerHeader()
        self._notes.extend([self._layer_header.neurons_label, self._layer_header.activation_label])
        layout.addWidget(self._layer_header)
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setSpacing(2)
        layout.addLayout(self._rows_layout)
        self._no_hidden_label = self._note("No hidden layers: the inputs feed the output directly.")
        layout.addWidget(self._no_hidden_label)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.add_layer_button = QPushButton("+ Add layer")
        self.add_layer_button.setToolTip(f"Add a hidden layer before the output. {RESETS}")
        self.add_layer_button.clicked.connect(self._on_add_layer_button_clicked)
        self.remove_layer_button = QPushButton("\u2212 Remove layer")
        self.remove_layer_button.setToolTip(f"Remove the last hidden layer. {RESETS}")
        self.remove_layer_button.clicked.connect(self._on_remove_layer_button_clicked)
        for button in (self.add_layer_button, self.remove_layer_button):
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button)
        layout.addLayout(buttons)

        form = self._form()
        self.output_combo = QComboBox()
        self.output_combo.setToolTip(f"Activation of the output layer. {RESETS}")
        self.output_combo.currentIndexChanged.connect(self._on_output_combo_current_index_changed)
        form.addRow("Output", self.output_combo)
        self.loss_combo = QComboBox()
        self.loss_combo.setToolTip(f"The loss J minimised (plus any L1/L2 penalty). {RESETS}")
        self.loss_combo.currentIndexChanged.connect(self._on_loss_combo_current_index_changed)
        form.addRow("Loss", self.loss_combo)
        self.init_combo = QComboBox()
        for name, tip in (
            ("xavier", "Glorot uniform: U(±√(6/(fan_in+fan_out)))"),
            ("he", "He normal: N(0, 2/fan_in), suited to relu-like layers"),
            ("uniform", "U(−0.5, 0.5), as TensorFlow Playground does"),
            ("zeros", "All weights 0: every hidden unit stays identical (symmetry is never broken)"),
        ):
            if name in INITIALIZERS:
                self.init_combo.addItem(name, name)
                self.init_combo.setItemData(self.init_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.init_combo.setToolTip(f"How the initial weights are drawn. {RESETS}")
        self.init_combo.currentIndexChanged.connect(self._on_init_combo_current_index_changed)
        form.addRow("Init", self.init_combo)
        for combo in (self.output_combo, self.loss_combo, self.init_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        layout.addLayout(form)
        return group

    def _build_training_group(self) -> QGroupBox:
        group, layout = self._group("Training")
        form = self._form()
        self.optimizer_combo = QComboBox()
        self.optimizer_combo.addItems(list(OPTIMIZERS))
        self.optimizer_combo.setToolTip(f"How gradients become updates. {KEEPS}")
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer_combo_current_index_changed)
        form.addRow("Optimizer", self.optimizer_combo)
        self.learning_rate_combo = RateCombo(LEARNING_RATES, "learning rate", 0.0, 1e6, low_open=True)
        self.learning_rate_combo.setToolTip(f"η: the step size; pick a preset or type a number. {KEEPS}")
        self.learning_rate_combo.valueCommitted.connect(self._on_learning_rate_combo_value_committed)
        form.addRow("Learning rate", self.learning_rate_combo)
        self.batch_spin = _BatchSpinBox()
        self.batch_spin.setRange(1, 1)
        self.batch_spin.setKeyboardTracking(False)
        self.batch_spin.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.batch_spin.setToolTip(f"Examples per step; \"all\" uses the whole training set. {KEEPS}")
        self.batch_spin.valueChanged.connect(self._on_batch_spin_value_changed)
        form.addRow("Batch size", self.batch_spin)
        self.l1_combo = RateCombo(REGULARIZATION_RATES, "L1 rate", 0.0, 1e3, low_open=False)
        self.l1_combo.setToolTip(f"L1 penalty l1·Σ|w|: pulls every weight towards 0 by a constant. {KEEPS}")
        self.l1_combo.valueCommitted.connect(self._on_l1_combo_value_committed)
        form.addRow("L1 rate", self.l1_combo)
        self.l2_combo = RateCombo(REGULARIZATION_RATES, "L2 rate", 0.0, 1e3, low_open=False)
        self.l2_combo.setToolTip(f"L2 penalty (l2/2)·Σw²: pulls weights towards 0 in proportion. {KEEPS}")
        self.l2_combo.valueCommitted.connect(self._on_l2_combo_value_committed)
        form.addRow("L2 rate", self.l2_combo)
        for combo in (self.optimizer_combo,):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        layout.addLayout(form)
        layout.addWidget(self._note("These settings keep the weights: change them while training runs."))
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
        self._controller.reconfigure(
            data=dataset, network=self._network_for_task(dataset.task, dataset.n_classes)
        )
        return True

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
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import a CSV file", "", "CSV files (*.csv *.tsv *.txt);;All files (*)"
        )
        if path:
            self.import_csv(path)

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

    def _send_network(self, spec: NetworkSpec) -> None:
        self._network_spec = spec
        self._sync_network_widgets(spec)
        self._controller.reconfigure(network=spec)

    def _on_add_layer_button_clicked(self) -> None:
        spec = self._network_spec
        if spec is None or len(spec.hidden_sizes) >= MAX_UI_LAYERS:
            return
        size = spec.hidden_sizes[-1] if spec.hidden_sizes else 4
        activation = spec.hidden_activations[-1] if spec.hidden_activations else "tanh"
        self._send_network(replace(
            spec, hidden_sizes=spec.hidden_sizes + (size,),
            hidden_activations=spec.hidden_activations + (activation,),
        ))

    def _on_remove_layer_button_clicked(self) -> None:
        spec = self._network_spec
        if spec is None or not spec.hidden_sizes:
            return
        self._send_network(replace(
            spec, hidden_sizes=spec.hidden_sizes[:-1], hidden_activations=spec.hidden_activations[:-1]
        ))

    def _on_layer_row_resized(self, index: int, change: int) -> None:
        spec = self._network_spec
        if spec is None or index >= len(spec.hidden_sizes):
            return
        size = min(MAX_UI_NEURONS, max(1, spec.hidden_sizes[index] + change))
        if size != spec.hidden_sizes[index]:
            sizes = list(spec.hidden_sizes)
            sizes[index] = size
            self._send_network(replace(spec, hidden_sizes=tuple(sizes)))

    def _on_layer_row_activation_changed(self, index: int, name: str) -> None:
        spec = self._network_spec
        if spec is None or index >= len(spec.hidden_activations) or spec.hidden_activations[index] == name:
            return
        activations = list(spec.hidden_activations)
        activations[index] = name
        self._send_network(replace(spec, hidden_activations=tuple(activations)))

    def _on_output_combo_current_index_changed(self, _index: int) -> None:
        spec = self._network_spec
        activation = self.output_combo.currentData()
        if spec is None or activation is None or activation == spec.output_activation:
            return
        # The loss follows the output: the task's default output gets its default loss back,
        # another output keeps the current loss while it still fits.
        task, n_classes = self._task or (CLASSIFICATION, 2)
        keep = activation != default_output(task, n_classes)[0] and spec.loss in loss_choices(task, activation)
        loss = spec.loss if keep else None  # None: the loss that fits the output
        self._send_network(replace(spec, output_activation=activation, loss=loss))

    def _on_loss_combo_current_index_changed(self, _index: int) -> None:
        spec = self._network_spec
        loss = self.loss_combo.currentData()
        if spec is None or loss is None or loss == spec.loss:
            return
        self._send_network(replace(spec, loss=loss))

    def _on_init_combo_current_index_changed(self, _index: int) -> None:
        spec = self._network_spec
        init = self.init_combo.currentData()
        if spec is None or init is None or init == spec.init:
            return
        self._send_network(replace(spec, init=init))

    # -------------------------------------------------------------- training events

    def _send_hyper(self, **changes: object) -> None:
        hyper = self._hyper
        if hyper is not None and all(getattr(hyper, k) == v for k, v in changes.items()):
            return
        if hyper is not None:
            try:
                self._hyper = replace(hyper, **changes)
            except ValueError:
                pass  # the worker rejects it too, and the main window shows why
        self._controller.set_hyperparameters(**changes)

    def _on_optimizer_combo_current_index_changed(self, _index: int) -> None:
        self._send_hyper(optimizer=self.optimizer_combo.currentText())

    def _on_learning_rate_combo_value_committed(self, value: float) -> None:
        self._send_hyper(learning_rate=value)

    def _on_l1_combo_value_committed(self, value: float) -> None:
        self._send_hyper(l1=value)

    def _on_l2_combo_value_committed(self, value: float) -> None:
        self._send_hyper(l2=value)

    def _on_batch_spin_value_changed(self, value: int) -> None:
        # "all" is sent as the largest batch allowed, so it stays "all" when the data grows.
        self._send_hyper(batch_size=MAX_BATCH_SIZE if value >= self.batch_spin.maximum() else int(value))

    # ----------------------------------------------------------------- theme & sync

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._theme = theme
        for label in self._notes:
            palette = label.palette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(theme.muted))
            label.setPalette(palette)
        for box in self.feature_checkboxes.values():
            self._style_checkbox(box)

    def _style_checkbox(self, box: QCheckBox) -> None:
        # Fusion fills an unchecked box with Base and derives its border from Window; in the
        # dark theme Base is darker than Window and the empty box nearly vanishes.
        palette = QApplication.palette()
        if self._theme.dark:
            palette.setColor(QPalette.ColorRole.Base, QColor(self._theme.grid))
        box.setPalette(palette)

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        """Sync only the groups whose part of the configuration changed (cheap while playing)."""
        ds = snap.dataset
        new_data = ds is not self._dataset
        if new_data or snap.data_spec != self._data_spec:
            self._dataset = ds
            self._sync_data(snap)
        if ds.input_names != self._input_names:
            self._rebuild_features(ds.input_names)
            self._features = None
        if snap.features != self._features:
            self._sync_features(snap.features)
        task = (ds.task, ds.n_classes)
        if snap.network_spec != self._network_spec or task != self._task:
            self._task = task
            self._network_spec = snap.network_spec
            self._sync_network_widgets(snap.network_spec)
        n_train = len(ds.train_indices)
        if snap.hyper != self._hyper or n_train != self._n_train:
            self._hyper, self._n_train = snap.hyper, n_train
            self._sync_training(snap)

    def _set_spin(self, spin: QSpinBox, value: int) -> None:
        if not _is_editing(spin):
            with QSignalBlocker(spin):
                spin.setValue(value)

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

    def _sync_network_widgets(self, spec: NetworkSpec) -> None:
        task, n_classes = self._task or (CLASSIFICATION, 2)
        try:
            shown = spec.resolved(task, n_classes)  # None output/loss → what the model will pick
        except ValueError:
            shown = spec
        n_hidden = len(shown.hidden_sizes)
        if n_hidden != len(self.layer_rows):
            self._rebuild_layer_rows(n_hidden)
        for row, size, activation in zip(self.layer_rows, shown.hidden_sizes, shown.hidden_activations):
            row.set_state(size, activation)
        self._no_hidden_label.setVisible(n_hidden == 0)
        self._layer_header.setVisible(n_hidden > 0)
        self.add_layer_button.setEnabled(n_hidden < MAX_UI_LAYERS)
        self.remove_layer_button.setEnabled(n_hidden > 0)

        default_act, _ = default_output(task, n_classes)
        self._fill_combo(self.output_combo, output_choices(task), default_act, shown.output_activation)
        losses = loss_choices(task, shown.output_activation or default_act)
        self._fill_combo(self.loss_combo, losses, losses[0], shown.loss)
        if not _is_editing(self.init_combo):
            with QSignalBlocker(self.init_combo):
                self.init_combo.setCurrentIndex(max(0, self.init_combo.findData(shown.init)))

    @staticmethod
    def _fill_combo(combo: QComboBox, choices: tuple[str, ...], default: str | None, current: str | None) -> None:
        """Put ``choices`` in ``combo`` (the one that fits the task marked), select ``current``."""
        with QSignalBlocker(combo):
            items = [(f"{c} (default)" if c == default else c, c) for c in choices]
            if [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())] != items:
                combo.clear()
                for text, data in items:
                    combo.addItem(text, data)
            index = combo.findData(current)
            if index < 0 and current is not None:
                combo.addItem(current, current)  # a loaded session may hold an unusual pair
                index = combo.count() - 1
            combo.setCurrentIndex(index)

    def _rebuild_layer_rows(self, count: int) -> None:
        while len(self.layer_rows) > count:
            row = self.layer_rows.pop()
            self._rows_layout.removeWidget(row)
            row.deleteLater()
        while len(self.layer_rows) < count:
            index = len(self.layer_rows)
            row = LayerRow(index)
            row.minus_button.clicked.connect(lambda _=False, k=index: self._on_layer_row_resized(k, -1))
            row.plus_button.clicked.connect(lambda _=False, k=index: self._on_layer_row_resized(k, +1))
            row.activation_combo.currentTextChanged.connect(
                lambda name, k=index: self._on_layer_row_activation_changed(k, name)
            )
            self._rows_layout.addWidget(row)
            self.layer_rows.append(row)

    def _sync_training(self, snap: Snapshot) -> None:
        hyper = snap.hyper
        if not _is_editing(self.optimizer_combo):
            with QSignalBlocker(self.optimizer_combo):
                self.optimizer_combo.setCurrentText(hyper.optimizer)
        self.learning_rate_combo.set_value(hyper.learning_rate)
        self.l1_combo.set_value(hyper.l1)
        self.l2_combo.set_value(hyper.l2)
        n_train = max(1, self._n_train)
        with QSignalBlocker(self.batch_spin):
            self.batch_spin.setMaximum(n_train)
        self._set_spin(self.batch_spin, min(hyper.batch_size, n_train))
