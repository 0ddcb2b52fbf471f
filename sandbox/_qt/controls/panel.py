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

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...session.config import DataSpec, NetworkSpec
from ...session.datasets import Dataset
from ...session.snapshot import Snapshot
from ..controller import SessionController
from ..theme import Theme, ThemeManager
from .value_inputs import is_editing, release_focus_on_enter
from .data_section import DataSection
from .network_section import LayerRow, NetworkSection
from .training_section import TrainingSection


class ControlsPanel(DataSection, NetworkSection, TrainingSection, QWidget):
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
        self._size_context: tuple[int, int, int] | None = None  # inputs, outputs, examples
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
        release_focus_on_enter(spin)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return spin

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
        self._sync_size_context(snap.layer_sizes[0], snap.layer_sizes[-1], len(ds))
        n_train = len(ds.train_indices)
        if snap.hyper != self._hyper or n_train != self._n_train:
            self._hyper, self._n_train = snap.hyper, n_train
            self._sync_training(snap)

    def _set_spin(self, spin: QSpinBox, value: int) -> None:
        if not is_editing(spin):
            with QSignalBlocker(spin):
                spin.setValue(value)
