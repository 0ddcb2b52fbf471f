"""The controls' Network group: hidden layers (rows of − N + activation), output, loss, init."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEvent, QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...engine import HIDDEN_ACTIVATIONS, INITIALIZERS
from ...session.config import MAX_ACTIVATIONS, NetworkSpec, check_size, default_output
from ...session.datasets import MAX_POINTS
from ...session.datasets import CLASSIFICATION
from .value_inputs import BUTTON_SIZE, MAX_UI_LAYERS, MAX_UI_NEURONS, RESETS, is_editing, loss_choices, output_choices


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

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        # The widths follow the font (classroom mode enlarges it), so "Layer 1" is never cut.
        if event.type() == QEvent.Type.FontChange:  # the row's font is new; its labels' may not be yet
            self.name_label.setFixedWidth(_layer_name_width(self))
            self.size_label.setFixedWidth(_size_label_width(self))
        super().changeEvent(event)

    def set_state(self, size: int, activation: str, can_grow: bool = True) -> None:
        """Show the layer's size and activation (from the spec); ``can_grow`` is False when one
        neuron more would make a network larger than the app serves."""
        self.size_label.setText(str(size))
        self.size_label.setToolTip(f"{size} neuron{'s' if size != 1 else ''} in layer {self.index + 1}")
        self.minus_button.setEnabled(size > 1)
        self.plus_button.setEnabled(size < MAX_UI_NEURONS and can_grow)
        if not is_editing(self.activation_combo):
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



class NetworkSection:
    """Mixin for :class:`ControlsPanel`: builds, sends and syncs the architecture."""

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


    def _fits(self, hidden_sizes: tuple[int, ...]) -> bool:
        """True if ``hidden_sizes`` on the current inputs, outputs and data is within the
        app's limits (``check_size``): the controls never offer a network the run refuses."""
        if self._size_context is None:
            return True
        n_inputs, n_outputs, n_examples = self._size_context
        try:
            check_size((n_inputs, *hidden_sizes, n_outputs), n_examples)
        except ValueError:
            return False
        return True

    def _sync_size_context(self, n_inputs: int, n_outputs: int, n_examples: int) -> None:
        """The inputs, outputs and data the network is sized against changed: re-offer."""
        context = (n_inputs, n_outputs, n_examples)
        if context == self._size_context:
            return
        self._size_context = context
        if self._network_spec is not None:
            self._sync_network_widgets(self._network_spec)
            # The data's size is bounded by the network's too (every z, a, δ per example).
            neurons = sum(self._network_spec.hidden_sizes) + n_outputs
            self.points_spin.setMaximum(max(2, min(MAX_POINTS, MAX_ACTIVATIONS // max(neurons, 1))))

    def _send_network(self, spec: NetworkSpec) -> None:
        self._network_spec = spec
        self._sync_network_widgets(spec)
        self._controller.reconfigure(network=spec)

    def _on_add_layer_button_clicked(self) -> None:
        spec = self._network_spec
        if spec is None or len(spec.hidden_sizes) >= MAX_UI_LAYERS:
            return
        size = spec.hidden_sizes[-1] if spec.hidden_sizes else 4
        if not self._fits(spec.hidden_sizes + (size,)):
            return
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
            if change > 0 and not self._fits(tuple(sizes)):
                return
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


    def _sync_network_widgets(self, spec: NetworkSpec) -> None:
        task, n_classes = self._task or (CLASSIFICATION, 2)
        try:
            shown = spec.resolved(task, n_classes)  # None output/loss → what the model will pick
        except ValueError:
            shown = spec
        n_hidden = len(shown.hidden_sizes)
        if n_hidden != len(self.layer_rows):
            self._rebuild_layer_rows(n_hidden)
        sizes = shown.hidden_sizes
        for k, (row, size, activation) in enumerate(zip(self.layer_rows, sizes, shown.hidden_activations)):
            row.set_state(size, activation, self._fits(sizes[:k] + (size + 1,) + sizes[k + 1:]))
        self._no_hidden_label.setVisible(n_hidden == 0)
        self._layer_header.setVisible(n_hidden > 0)
        self.add_layer_button.setEnabled(
            n_hidden < MAX_UI_LAYERS and self._fits(sizes + (sizes[-1] if sizes else 4,)))
        self.remove_layer_button.setEnabled(n_hidden > 0)

        default_act, _ = default_output(task, n_classes)
        self._fill_combo(self.output_combo, output_choices(task), default_act, shown.output_activation)
        losses = loss_choices(task, shown.output_activation or default_act)
        self._fill_combo(self.loss_combo, losses, losses[0], shown.loss)
        if not is_editing(self.init_combo):
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
