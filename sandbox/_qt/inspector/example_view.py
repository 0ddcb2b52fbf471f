"""The inspector's "Examples" tab: the focused example, and the examples that drive the
selected weight.

Left: the focused example as the network sees it (each input with its name, the features the
network takes, the target, the prediction and the loss ℓ).  Right: for the selected weight, the
training examples with the largest |a_i·δ_j|, with sign and their share of the data term
(1/n) Σ a_i·δ_j; clicking one focuses it.  Every number comes from
:mod:`sandbox.analysis.example_focus`; the tab skips work while hidden and catches up when shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...analysis.example_focus import ExampleTerm, example_summary, top_examples
from ...formatting import format_number, format_percent
from ...session.naming import WeightRef
from ...session.snapshot import Snapshot
from ..controller import SessionController
from ..theme import Theme, ThemeManager
from .labels import LabelFactory
from .value_editor import mono_font

#: How many examples the table lists (the output view rings the first eight).
TOP_ROWS = 10
DIGITS = 6


class ExampleView(LabelFactory, QWidget):
    """The focused example and the examples driving the selected weight.

    Attributes
    ----------
    title_label
        "Example #k" or "No example followed".
    value_labels
        {"target", "prediction", "loss"}: the focused example's numbers.
    drivers_table
        Rows of (example, a_i·δ_j, share); clicking a row focuses that example.
    drivers
        The examples listed, largest |a_i·δ_j| first.
    """

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._themes = themes
        self._muted: list[QLabel] = []
        self._separators: list[QFrame] = []
        self._dirty = True
        self.drivers: tuple[ExampleTerm, ...] = ()
        self._input_rows: list[tuple[QLabel, QLabel]] = []

        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(10)

        # Left: the example.
        left = QVBoxLayout()
        left.setSpacing(3)
        head = QHBoxLayout()
        self.title_label = self._title_label()
        head.addWidget(self.title_label, 1)
        self.largest_button = QPushButton("Largest loss")
        self.largest_button.setToolTip("Follow the training example with the largest loss (L)")
        self.next_button = QPushButton("Next")
        self.next_button.setToolTip("Follow the next training example (] ; [ for the previous one)")
        for button in (self.largest_button, self.next_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep Space and → for the window
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            head.addWidget(button)
        self.largest_button.clicked.connect(self._on_largest_button_clicked)
        self.next_button.clicked.connect(self._on_next_button_clicked)
        left.addLayout(head)
        self._hint = self._caption(
            "Click a point in the output view, or press ] and [ to step through the training "
            "examples (L: the largest loss). Every view then shows that one example.", wrap=True)
        left.addWidget(self._hint)
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(10)
        self._grid.setVerticalSpacing(1)
        self.value_labels: dict[str, QLabel] = {}
        for row, (key, text, tip) in enumerate((
                ("target", "target", "What the example should give"),
                ("prediction", "prediction", "What the network gives for it now"),
                ("loss", "loss ℓ", "This example's loss; the training loss is the mean of them"))):
            name = self._caption(text)
            name.setToolTip(tip)
            value = self._number_label()
            self._grid.addWidget(name, row, 0)
            self._grid.addWidget(value, row, 1)
            self.value_labels[key] = value
        self._inputs_caption = self._caption("inputs", bold=True)
        self._grid.addWidget(self._inputs_caption, 0, 2)
        self._grid.setColumnStretch(3, 1)
        left.addLayout(self._grid)
        left.addStretch(1)
        outer.addLayout(left, 5)
        outer.addWidget(self._separator())

        # Right: the examples driving the selected weight.
        right = QVBoxLayout()
        right.setSpacing(2)
        self.drivers_caption = self._caption(bold=True)
        self.drivers_caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        right.addWidget(self.drivers_caption)
        table = QTableWidget(0, 3)
        table.setHorizontalHeaderLabels(["example", "aᵢ·δⱼ", "share"])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().setVisible(False)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        number_width = QFontMetrics(mono_font()).horizontalAdvance("+0.000123457") + 14
        for column, width in ((1, number_width), (2, number_width * 2 // 3)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, width)
        header.setHighlightSections(False)
        row_height = table.fontMetrics().height() + 4
        table.verticalHeader().setDefaultSectionSize(row_height)
        table.setToolTip("Positive aᵢ·δⱼ pushes ∂J/∂w up (gradient descent then lowers w); negative, "
                         "down. Share: of the sum of all examples' terms. Click a row to follow that example.")
        table.cellClicked.connect(self._on_drivers_table_cell_clicked)
        self.drivers_table = table
        right.addWidget(table, 1)
        outer.addLayout(right, 6)

        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        controller.selectionChanged.connect(self._on_controller_selection_changed)
        events = controller.view_state.events
        events.focused_example.connect(self._on_view_state_focused_example)
        self.destroyed.connect(lambda *_: events.focused_example.disconnect(
            self._on_view_state_focused_example, missing_ok=True))
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._on_themes_theme_changed(themes.theme)
        self.refresh()

    # ----------------------------------------------------------------------- handlers

    def _on_controller_snapshot_changed(self, _snap: Snapshot) -> None:
        self._refresh_if_visible()

    def _on_controller_selection_changed(self, _sel: object) -> None:
        self._refresh_if_visible()

    def _on_view_state_focused_example(self, *_: object) -> None:
        self._refresh_if_visible()

    def _on_largest_button_clicked(self) -> None:
        self._controller.focus_largest_loss()

    def _on_next_button_clicked(self) -> None:
        self._controller.step_focus(1)

    def _on_drivers_table_cell_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self.drivers):
            self._controller.focus_example(self.drivers[row].row)

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._recolour(theme)
        self._theme = theme
        self._dirty = True
        self._refresh_if_visible()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def _refresh_if_visible(self) -> None:
        if not self.isVisible():
            self._dirty = True  # a hidden tab costs nothing; catch up when shown
            return
        self.refresh()

    # ------------------------------------------------------------------------ content

    def refresh(self) -> None:
        """Show the current snapshot's focused example and the selected weight's drivers."""
        self._dirty = False
        snap = self._controller.snapshot
        self._refresh_example(snap)
        self._refresh_drivers(snap)

    def _refresh_example(self, snap: Snapshot | None) -> None:
        row = self._controller.view_state.focused_example
        shown = snap is not None and row is not None and 0 <= row < snap.train_pass.n_rows
        self._hint.setVisible(not shown)
        for key, label in self.value_labels.items():
            label.setVisible(shown)
            self._grid.itemAtPosition(list(self.value_labels).index(key), 0).widget().setVisible(shown)
        self._inputs_caption.setVisible(shown)
        if not shown:
            self.title_label.setText("No example followed")
            self._set_inputs([])
            return
        s = example_summary(snap, row)
        self.title_label.setText(f"Example #{s.index}  (training row {s.row + 1} of {snap.train_pass.n_rows:,})")
        ds = snap.dataset
        if ds.is_classification:
            self.value_labels["target"].setText(f"class {s.target_name}")
            names = ds.class_names
            k = int(s.predicted)
            label = names[k] if k < len(names) else str(k)
            if len(s.prediction) == 1:
                text = f"P = {format_number(float(s.prediction[0]), DIGITS)}  → class {label}"
            else:
                text = f"class {label}  (p = {format_number(float(s.prediction[k]), DIGITS)})"
            self.value_labels["prediction"].setText(text)
        else:
            self.value_labels["target"].setText(format_number(s.target, DIGITS, signed=True))
            self.value_labels["prediction"].setText(format_number(s.predicted, DIGITS, signed=True))
        self.value_labels["loss"].setText(format_number(s.loss, DIGITS))
        # The raw inputs, then the features the network takes when they differ.
        raw = {name for name, _ in s.inputs}
        rows = [(name, value) for name, value in s.inputs]
        rows += [(f"{name} (feature)", value) for name, value in s.features if name not in raw]
        self._set_inputs(rows)

    def _set_inputs(self, rows: list[tuple[str, float]]) -> None:
        """(name, value) rows in the grid's inputs column, labels reused."""
        while len(self._input_rows) < len(rows):
            k = len(self._input_rows)
            name, value = self._caption(), self._number_label()
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            name.setPalette(self._input_palette(name))
            self._grid.addWidget(name, k + 1, 2)
            self._grid.addWidget(value, k + 1, 3, Qt.AlignmentFlag.AlignLeft)
            self._input_rows.append((name, value))
        for k, (name_label, value_label) in enumerate(self._input_rows):
            visible = k < len(rows)
            name_label.setVisible(visible)
            value_label.setVisible(visible)
            if visible:
                name_label.setText(rows[k][0])
                value_label.setText(format_number(rows[k][1], DIGITS, signed=True))

    def _input_palette(self, label: QLabel):
        palette = label.palette()
        palette.setColor(label.foregroundRole(), QColor(self._theme.muted))
        return palette

    def _refresh_drivers(self, snap: Snapshot | None) -> None:
        sel = self._controller.selection
        table = self.drivers_table
        valid = snap is not None and isinstance(sel, WeightRef) and _weight_exists(snap, sel)
        if not valid:
            self.drivers = ()
            self.drivers_caption.setText("Select a weight to see which examples drive its gradient")
            table.setRowCount(0)
            return
        self.drivers = top_examples(snap, sel, TOP_ROWS)
        self.drivers_caption.setText(f"Examples driving ∂J/∂w of {sel.name}, largest |aᵢ·δⱼ| first")
        self.drivers_caption.setToolTip(
            f"Of the {snap.train_pass.n_rows:,} training examples: each one's aᵢ·δⱼ, whose average is "
            "the data term of ∂J/∂w. The output view rings the first eight: blue circles push the "
            "gradient up, orange squares down.")
        theme = self._theme
        if table.rowCount() != len(self.drivers):
            table.setRowCount(len(self.drivers))
        mono = mono_font()
        focused = self._controller.view_state.focused_example
        for r, term in enumerate(self.drivers):
            texts = (f"#{term.index}" + ("  (followed)" if term.row == focused else ""),
                     format_number(term.term, DIGITS, signed=True),
                     format_percent(term.share) if term.share is not None else "–")
            for c, text in enumerate(texts):
                item = table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    if c:
                        item.setFont(mono)
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    table.setItem(r, c, item)
                if item.text() != text:
                    item.setText(text)
            color = QColor(theme.positive if term.term > 0 else theme.negative if term.term < 0 else theme.muted)
            table.item(r, 1).setForeground(color)


def _weight_exists(snap: Snapshot, ref: WeightRef) -> bool:
    sizes = snap.layer_sizes
    return 0 <= ref.layer < len(sizes) - 1 and 0 <= ref.i < sizes[ref.layer] and 0 <= ref.j < sizes[ref.layer + 1]
