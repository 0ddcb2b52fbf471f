"""The inspector's neuron page: the bias (editable), ∂J/∂b, means over the training set and
the neuron's incoming weights (outgoing for an input node)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...analysis.example_focus import example_neuron
from ...formatting import format_number
from ...session.naming import BiasRef, NeuronRef, WeightRef
from ...session.snapshot import Snapshot
from ..names import layer_name, short_unit_name, unit_name
from .explanations import bias_sentence
from .labels import LabelFactory
from .value_editor import ValueEditor, mono_font
from .weight_page import DIGITS


class NeuronPage(LabelFactory):
    """Mixin for the inspector: builds and refreshes the page of one neuron."""

    def _build_neuron_page(self) -> QWidget:
        page = QWidget()
        outer = QHBoxLayout(page)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)

        left = QVBoxLayout()
        left.setSpacing(4)
        self._neuron_title = self._title_label()
        left.addWidget(self._neuron_title)
        columns = QHBoxLayout()
        columns.setSpacing(10)

        # The bias, editable (hidden for input nodes, which have none).
        self._bias_column, lay = self._column()
        lay.addWidget(self._caption("Bias b", bold=True))
        self._bias_editor = ValueEditor()
        self._bias_editor.valueEdited.connect(self._on_bias_editor_value_edited)
        self.bias_spin = self._bias_editor.spin
        self.bias_slider = self._bias_editor.slider
        self._bias_editor.spin.setToolTip("Type a bias and press Enter; the next step starts from it.")
        self._bias_editor.slider.setToolTip("Drag to change b live; the slider re-centres on release.")
        lay.addWidget(self._bias_editor)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        name = self._caption("∂J/∂b")
        name.setToolTip("How much the loss changes per unit change of the bias (training set).")
        self.bias_grad_label = self._number_label()
        self.bias_grad_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(name, 0, 0)
        grid.addWidget(self.bias_grad_label, 0, 1)
        name = self._caption("next Δb")
        self.bias_update_label = self._number_label()
        self.bias_update_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(name, 1, 0)
        grid.addWidget(self.bias_update_label, 1, 1)
        grid.setColumnStretch(0, 1)
        lay.addLayout(grid)
        lay.addStretch(1)
        self._bias_column.setMinimumWidth(150)
        self._bias_column.setMaximumWidth(300)
        columns.addWidget(self._bias_column, 3)

        # What the neuron does on the training set.
        col, lay = self._column()
        lay.addWidget(self._caption("On the training set", bold=True))
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        self._stat_names: list[QLabel] = []
        self._stat_values: list[QLabel] = []
        for row in range(3):
            name = self._caption()
            value = self._number_label()
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self._stat_names.append(name)
            self._stat_values.append(value)
        # The focused example's a and δ (shown only while one is followed).
        self._example_names: list[QLabel] = []
        self.example_values: list[QLabel] = []
        for row in range(3, 5):
            name = self._caption()
            value = self._number_label()
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self._example_names.append(name)
            self.example_values.append(value)
        grid.setColumnStretch(0, 1)
        lay.addLayout(grid)
        self._neuron_note = self._caption(wrap=True)
        lay.addWidget(self._neuron_note)
        lay.addStretch(1)
        col.setMinimumWidth(170)
        col.setMaximumWidth(340)
        columns.addWidget(col, 4)
        left.addLayout(columns, 1)
        self._neuron_reading = QLabel()
        self._neuron_reading.setWordWrap(True)
        left.addWidget(self._neuron_reading)
        outer.addLayout(left, 7)
        outer.addWidget(self._separator())

        # The weights into the neuron (out of it, for an input node): click one to inspect it.
        right = QVBoxLayout()
        right.setSpacing(2)
        self._table_caption = self._caption(bold=True)
        self._table_caption.setToolTip("Click a row to inspect that weight.")
        # The caption must not widen the page (the dock can be narrow): it is clipped instead.
        self._table_caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        right.addWidget(self._table_caption)
        table = QTableWidget(0, 3)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().setVisible(False)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setCornerButtonEnabled(False)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fixed number columns: widths that follow the texts would jitter while training plays.
        number_width = QFontMetrics(mono_font()).horizontalAdvance("+0.000123457") + 14
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, number_width)
        header.setHighlightSections(False)
        row_height = table.fontMetrics().height() + 4
        table.verticalHeader().setDefaultSectionSize(row_height)
        table.verticalHeader().setMinimumSectionSize(row_height)
        table.setToolTip("Click a row to inspect that weight.")
        table.cellClicked.connect(self._on_incoming_table_cell_clicked)
        self.incoming_table = table
        right.addWidget(table, 1)
        outer.addLayout(right, 6)
        return page

    # ------------------------------------------------------------------------ signals

    def _on_bias_editor_value_edited(self, value: float) -> None:
        sel = self._selection
        if sel is not None and isinstance(sel, NeuronRef) and sel.layer >= 1:
            self._controller.edit_bias(BiasRef(sel.layer - 1, sel.j), value)

    def _on_incoming_table_cell_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._table_rows):
            self._controller.select(self._table_rows[row])


    def _refresh_neuron(self, snap: Snapshot, sel: NeuronRef, force: bool) -> None:
        layer, j = sel.layer, sel.j
        neurons = snap.neurons
        mean_a = float(neurons.mean_activation[layer][j])
        if layer == 0:
            if force:
                self._neuron_title.setText(f"Input feature {snap.feature_labels[j]}")
                self._bias_column.setVisible(False)
                self._table_caption.setText(f"Outgoing weights, to {layer_name(snap, 1)}")
                self.incoming_table.setHorizontalHeaderLabels(["to", "w", "∂J/∂w"])
                self._stat_names[0].setText("feature")
                self._stat_names[1].setText("mean value")
                self._stat_names[2].setText("")
                self._neuron_note.setText(
                    "An input node has no bias and no activation: it passes the feature on. "
                    "Its influence is in its outgoing weights."
                )
                self._neuron_reading.setText("")
            self._stat_values[0].setText(snap.feature_labels[j])
            self._stat_values[1].setText(format_number(mean_a, DIGITS, signed=True))
            self._stat_values[2].setText("")
            rows = [WeightRef(0, j, k) for k in range(snap.layer_sizes[1])]
            self._fill_table(snap, rows, lambda s: short_unit_name(snap, 1, s.j), force)
            self._refresh_neuron_example(snap, sel)
            return

        bias = float(snap.biases[layer - 1][j])
        grad_b = float(snap.grad_biases[layer - 1][j])
        step_b = float(snap.next_update[1][layer - 1][j])
        delta = neurons.mean_delta[layer]
        mean_delta = float(delta[j]) if delta is not None else float("nan")
        if force:
            activation = snap.activation_names[layer - 1]
            self._neuron_title.setText(f"{unit_name(snap, layer, j).capitalize()}  ·  {activation}")
            self._bias_column.setVisible(True)
            self._table_caption.setText(f"Incoming weights, from {layer_name(snap, layer - 1)}")
            self.incoming_table.setHorizontalHeaderLabels(["from", "w", "∂J/∂w"])
            self._stat_names[0].setText("activation")
            self._stat_names[1].setText("mean activation a")
            self._stat_names[2].setText("mean δ = ∂ℓ/∂z")
            self._neuron_note.setText("∂J/∂b equals the mean δ: biases are not regularised.")
        self._stat_values[0].setText(snap.activation_names[layer - 1])
        self._stat_values[1].setText(format_number(mean_a, DIGITS, signed=True))
        self._stat_values[2].setText(format_number(mean_delta, DIGITS, signed=True))
        self._bias_editor.set_value(bias, force=force)
        self.bias_grad_label.setText(format_number(grad_b, DIGITS, signed=True))
        self.bias_update_label.setText(format_number(step_b, DIGITS, signed=True))
        self._neuron_reading.setText(bias_sentence(grad_b))
        rows = [WeightRef(layer - 1, i, j) for i in range(snap.layer_sizes[layer - 1])]
        self._fill_table(snap, rows, lambda s: short_unit_name(snap, layer - 1, s.i), force)
        self._refresh_neuron_example(snap, sel)

    def _refresh_neuron_example(self, snap: Snapshot, sel: NeuronRef) -> None:
        """The focused example's a and δ beside the means (hidden when none is followed)."""
        row = self._controller.view_state.focused_example
        shown = row is not None and 0 <= row < snap.train_pass.n_rows
        a, delta = example_neuron(snap, sel, row) if shown else (None, None)
        index = int(snap.dataset.train_indices[row]) if shown else 0
        texts = ((f"example #{index}  a", a), (f"example #{index}  δ", delta))
        for (name, value), name_label, value_label in zip(texts, self._example_names, self.example_values):
            visible = shown and value is not None
            name_label.setVisible(visible)
            value_label.setVisible(visible)
            if visible:
                name_label.setText(name)
                value_label.setText(format_number(value, DIGITS, signed=True))

    def _fill_table(self, snap: Snapshot, rows: list[WeightRef], name_of, force: bool) -> None:
        """Rows of (name, w, ∂J/∂w); items are reused and only changed texts are set."""
        table = self.incoming_table
        mono = mono_font()
        if force or rows != self._table_rows:
            self._table_rows = rows
            table.clearSelection()
            table.setRowCount(len(rows))
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            for r, sel in enumerate(rows):
                table.setItem(r, 0, QTableWidgetItem(name_of(sel)))
                for c in (1, 2):
                    item = QTableWidgetItem()
                    item.setFont(mono)
                    item.setTextAlignment(align)
                    table.setItem(r, c, item)
        for r, sel in enumerate(rows):
            for c, arrays in ((1, snap.weights), (2, snap.grad_weights)):
                text = format_number(arrays[sel.layer][sel.i, sel.j], DIGITS, signed=True)
                item = table.item(r, c)
                if item.text() != text:
                    item.setText(text)
