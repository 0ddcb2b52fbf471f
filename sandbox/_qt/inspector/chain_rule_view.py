"""The inspector's "Chain rule" tab: where the selected weight's or neuron's blame comes from.

For a weight w from neuron i (layer l) to neuron j (layer l+1) it shows, with the numbers in:

* ∂J/∂w = (1/n) Σ a_i·δ_j + l1·sign(w) + l2·w (or one example's own a_i·δ_j);
* δ_j = f′(z_j)·Σ_k w_jk·δ_k as a table, one row per downstream neuron k (w_jk, δ_k, the
  product, its share of the sum), with f′(z_j) and whether j is saturated or dead; at the
  output, δ from the loss instead (a − y and its kin);
* the weights into j, which δ_j blames (∂J/∂w = mean a·δ_j for each).

A neuron shows the same for itself.  **Walking the blame**: a row of the δ table selects that
downstream neuron; a row of the incoming weights selects that weight (upstream).  The trail is
a breadcrumb; a crumb, the Back button or Alt+← (the window's action, see
:meth:`ChainRuleView.back`) return along it.  A selection made anywhere else starts a new trail.

The numbers follow the view state's data source: averaged over the training set, over the
last mini-batch, or at the focused example alone.  Nothing is computed here (see
:mod:`sandbox.analysis.chain_rule` and :mod:`sandbox.analysis.output_delta`).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QScrollArea,
                               QSizePolicy, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ...analysis import weight_gradient_terms
from ...analysis.chain_rule import chain_rule, example_product, neuron_condition
from ...analysis.output_delta import output_delta
from ...formatting import format_number, format_percent
from ...session.naming import BiasRef, NeuronRef, Ref, WeightRef
from ...session.snapshot import Snapshot
from ...viewstate import DataSource
from ..controller import SessionController
from ..names import short_unit_name, unit_name
from ..theme import Theme, ThemeManager
from . import chain_rule_text as text
from .value_editor import mono_font

#: While training, the tab redraws at most this often (s); paused, at once.
PLAYING_INTERVAL = 0.2


class ChainRuleView(QWidget):
    """The chain rule for the controller's selection (see the module).

    Attributes
    ----------
    trail
        The walk so far, oldest first; the last is the selection.
    formula_label
        The gradient and δ formulas, rich text.
    delta_table
        δ_j's downstream rows: to neuron, w_jk, δ_k, w_jk·δ_k, share.
    incoming_table
        The weights into the neuron: from, w, a, their blame.
    """

    #: A refresh finished (the benchmark waits for it).
    refreshed = Signal()

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._themes = themes
        self.trail: list[Ref] = []
        self._walking = False  # the selection change is our own step along the trail
        self._dirty = True
        self._last_refresh = 0.0
        self._delta_rows: list[NeuronRef] = []
        self._incoming_rows: list[WeightRef] = []
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self.refresh)

        self.breadcrumb = QLabel()
        self.breadcrumb.setTextFormat(Qt.TextFormat.RichText)
        self.breadcrumb.linkActivated.connect(self._on_breadcrumb_link_activated)
        self.back_button = QPushButton("← Back")
        self.back_button.setToolTip("Return upstream along the walk (Alt+←)")
        self.back_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.back_button.clicked.connect(self.back)
        self.source_label = QLabel()
        head = QHBoxLayout()
        head.addWidget(self.back_button)
        head.addWidget(self.breadcrumb, 1)
        head.addWidget(self.source_label)

        self.formula_label = QLabel()
        self.formula_label.setTextFormat(Qt.TextFormat.RichText)
        self.formula_label.setWordWrap(True)
        self.formula_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        formula_scroll = QScrollArea()
        formula_scroll.setWidgetResizable(True)
        formula_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        formula_scroll.setWidget(self.formula_label)

        self.delta_caption = QLabel()
        self.delta_table = self._table(("to k", "wⱼₖ", "δₖ", "wⱼₖ·δₖ", "share"))
        self.delta_table.cellClicked.connect(self._on_delta_table_cell_clicked)
        self.incoming_caption = QLabel()
        self.incoming_table = self._table(("weight", "w", "a", "blame"))
        self.incoming_table.cellClicked.connect(self._on_incoming_table_cell_clicked)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(formula_scroll)
        self._delta_pane = self._titled(self.delta_caption, self.delta_table)
        splitter.addWidget(self._delta_pane)
        splitter.addWidget(self._titled(self.incoming_caption, self.incoming_table))
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setStretchFactor(2, 0)
        # Each table gets the width its columns need and the formulas the rest, until the
        # user moves the splitter.
        self._user_sized = False
        self._fitted: tuple[int, list[int]] | None = None
        splitter.splitterMoved.connect(self._on_splitter_moved)
        self.empty_label = QLabel("Select a weight or a neuron on the canvas to see where its blame comes from.")
        self.empty_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(3)
        layout.addLayout(head)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.empty_label)
        self._body = splitter

        vs = controller.view_state
        vs.events.selection.connect(self._on_view_state_selection)
        vs.events.data_source.connect(self._on_view_state_changed)
        vs.events.focused_example.connect(self._on_view_state_changed)
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._on_view_state_selection(vs.selection)

    # ------------------------------------------------------------------------ building

    @staticmethod
    def _table(headers: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(list(headers))
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space and → stay the window's
        table.setFont(mono_font())
        header = table.horizontalHeader()
        # Sized once per fill (resizeColumnsToContents): ResizeToContents would measure every
        # column again on every setText, about 0.5 ms a cell.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 4)
        return table

    @staticmethod
    def _titled(caption: QLabel, table: QTableWidget) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        caption.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(caption)
        lay.addWidget(table, 1)
        return box

    # ------------------------------------------------------------------------ walking

    def back(self) -> bool:
        """One step upstream along the trail; False if there is nowhere to go back to."""
        if len(self.trail) < 2:
            return False
        self.trail.pop()
        self._go(self.trail[-1])
        return True

    def _walk_to(self, ref: Ref) -> None:
        self.trail.append(ref)
        self._go(ref)

    def _go(self, ref: Ref) -> None:
        self._walking = True
        try:
            self._controller.select(ref)
        finally:
            self._walking = False
        self.refresh()

    def _on_breadcrumb_link_activated(self, link: str) -> None:
        k = int(link)
        if 0 <= k < len(self.trail) - 1:
            del self.trail[k + 1:]
            self._go(self.trail[-1])

    def _on_delta_table_cell_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._delta_rows):
            self._walk_to(self._delta_rows[row])

    def _on_incoming_table_cell_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._incoming_rows):
            self._walk_to(self._incoming_rows[row])

    # ------------------------------------------------------------------------ signals

    def _on_view_state_selection(self, new: Ref | None, _old: Ref | None = None) -> None:
        if not self._walking:
            self.trail = [] if new is None else [new]
        self.refresh()

    def _on_view_state_changed(self, *_args) -> None:
        self.refresh()

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        if not self.isVisible():
            self._dirty = True
            return
        wait = self._last_refresh + PLAYING_INTERVAL - time.monotonic()
        if snap.playing and wait > 0:
            if not self._later.isActive():
                self._later.start(int(wait * 1000) + 1)
            return
        self.refresh()

    def _on_themes_theme_changed(self, _theme: Theme) -> None:
        self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    # ------------------------------------------------------------------------ drawing

    def _source(self, snap: Snapshot) -> tuple[int | None, bool, str]:
        """(example row or None, batch?, what the numbers are over) from the view state."""
        vs = self._controller.view_state
        n_train = len(snap.dataset.train_indices)
        if vs.data_source == DataSource.EXAMPLE and vs.focused_example is not None and 0 <= vs.focused_example < n_train:
            return vs.focused_example, False, f"at example #{vs.focused_example + 1} alone"
        if vs.data_source == DataSource.LAST_BATCH and snap.batch_pass is not None and snap.batch_pass.backward is not None:
            return None, True, f"averaged over the last mini-batch (n = {snap.batch_pass.n_rows:,})"
        return None, False, f"averaged over the training set (n = {n_train:,})"

    def refresh(self) -> None:
        """Redraw from the current snapshot and view state (skipped while hidden)."""
        self._later.stop()
        if not self.isVisible():
            self._dirty = True
            return
        self._dirty = False
        self._last_refresh = time.monotonic()
        snap = self._controller.snapshot
        sel = self._controller.view_state.selection
        neuron = self._neuron_of(sel)
        shown = snap is not None and neuron is not None and self._valid(snap, neuron)
        self._body.setVisible(shown)
        self.empty_label.setVisible(not shown)
        self.back_button.setEnabled(len(self.trail) > 1)
        self._draw_breadcrumb()
        if not shown:
            self.source_label.setText("")
            self._delta_rows, self._incoming_rows = [], []
            self.refreshed.emit()
            return
        example, batch, where = self._source(snap)
        self.source_label.setText(where)
        theme = self._themes.theme
        parts = []
        if isinstance(sel, WeightRef):
            terms = weight_gradient_terms(snap, sel, batch=batch)
            if example is None:
                parts.append(text.weight_formula(sel, terms))
            else:
                parts.append(text.example_formula(sel, example_product(snap, sel, example), terms.total))
        parts.append(self._draw_delta(snap, neuron, example, batch, theme))
        self._draw_incoming(snap, neuron, sel, example, batch, theme)
        self.formula_label.setText("<br><br>".join(parts).replace("{muted}", theme.muted))
        self._fit_tables()
        self.refreshed.emit()

    def _on_splitter_moved(self, *_args) -> None:
        self._user_sized = True

    def _fit_tables(self) -> None:
        if self._user_sized:
            return
        total = self._body.width()
        wanted = []
        for table in (self.delta_table, self.incoming_table):
            # columns + the vertical scroll bar + the frame (nothing for a hidden pane)
            wanted.append(table.horizontalHeader().length() + table.verticalScrollBar().sizeHint().width()
                          + 2 * table.frameWidth() + 2 if table.rowCount() else 0)
        if not self._delta_pane.isVisibleTo(self):
            wanted[0] = 0
        last = self._fitted
        if last is not None and last[0] == total and all(abs(a - b) <= 12 for a, b in zip(last[1], wanted)):
            return  # a few pixels either way: not worth a relayout of the splitter
        self._fitted = (total, wanted)
        formulas = max(total // 3, total - sum(wanted))
        rest = total - formulas
        scale = rest / sum(wanted) if sum(wanted) else 0.0
        sizes = [formulas, int(wanted[0] * scale), rest - int(wanted[0] * scale)]
        if sizes != self._body.sizes():
            self._body.setSizes(sizes)

    def _draw_delta(self, snap: Snapshot, neuron: NeuronRef, example: int | None, batch: bool, theme: Theme) -> str:
        depth = len(snap.layer_sizes) - 1
        unit = unit_name(snap, neuron.layer, neuron.j)
        table = self.delta_table
        # Inputs and outputs have no downstream rows: their δ needs no table.
        self._delta_pane.setVisible(0 < neuron.layer < depth)
        if neuron.layer == 0:
            self._fill(table, [])
            self._delta_rows = []
            return f"<b>{text.escape(unit)}</b> is an input: its value a is data, so it has no δ."
        if neuron.layer == depth:
            out = output_delta(snap, neuron, example, batch=batch)
            self._fill(table, [])
            self._delta_rows = []
            return text.output_delta_formula(out, unit)
        rule = chain_rule(snap, neuron, example, batch=batch)
        condition = neuron_condition(snap, neuron, example, batch=batch)
        rows = []
        for row in rule.rows:
            k = row.weight_ref.target
            rows.append((
                (short_unit_name(snap, k.layer, k.j), None),
                (text.num(row.weight), None),
                (text.num(row.delta), None),
                (text.num(row.product), theme.positive if row.product > 0 else theme.negative if row.product < 0 else None),
                (format_percent(row.share, 0) if row.share == row.share else "–", None),
            ))
        self._fill(table, rows)
        self._delta_rows = [row.weight_ref.target for row in rule.rows]
        self.delta_caption.setText(
            f"Σ<sub>k</sub> w<sub>jk</sub>·δ<sub>k</sub> = {text.num(rule.weighted_sum)} "
            "(a row walks downstream)")
        return text.hidden_delta_formula(rule, snap.activation_names[neuron.layer - 1], condition, unit)

    def _draw_incoming(self, snap: Snapshot, neuron: NeuronRef, sel: Ref | None, example: int | None,
                       batch: bool, theme: Theme) -> None:
        table = self.incoming_table
        if neuron.layer == 0:
            self._fill(table, [])
            self._incoming_rows = []
            self.incoming_caption.setText("")
            return
        layer = neuron.layer - 1
        refs = [WeightRef(layer, i, neuron.j) for i in range(snap.layer_sizes[layer])]
        rows = []
        chosen = -1
        for ref in refs:
            if example is None:
                blame = weight_gradient_terms(snap, ref, batch=batch).total
                a = float(snap.neurons.mean_activation[layer][ref.i]) if not batch else None
            else:
                term = example_product(snap, ref, example)
                blame, a = term.product, term.activation
            if ref == sel:
                chosen = len(rows)
            rows.append((
                (ref.name, None),
                (text.num(float(snap.weights[layer][ref.i, ref.j])), None),
                (format_number(a) if a is not None else "–", None),
                (text.num(blame), theme.positive if blame > 0 else theme.negative if blame < 0 else None),
            ))
        self._fill(table, rows)
        if chosen >= 0:
            table.selectRow(chosen)
        self._incoming_rows = refs
        what = "a·δ<sub>j</sub> here" if example is not None else "∂J/∂w"
        self.incoming_caption.setText(f"Weights into it, blamed by δ<sub>j</sub> ({what}; a row goes upstream)")

    @staticmethod
    def _fill(table: QTableWidget, rows: list[tuple[tuple[str, str | None], ...]]) -> None:
        table.setUpdatesEnabled(False)
        table.clearSelection()
        table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, (value, color) in enumerate(cells):
                item = table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                                          if c else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
                    table.setItem(r, c, item)
                item.setText(value)
                item.setData(Qt.ItemDataRole.ForegroundRole, QColor(color) if color else None)
        table.resizeColumnsToContents()
        table.setUpdatesEnabled(True)

    def _draw_breadcrumb(self) -> None:
        names = [self._ref_name(ref) for ref in self.trail]
        crumbs = [f"<a href='{k}'>{text.escape(name)}</a>" for k, name in enumerate(names[:-1])]
        if names:
            crumbs.append(f"<b>{text.escape(names[-1])}</b>")
        self.breadcrumb.setText(" › ".join(crumbs) if crumbs else "")

    def _ref_name(self, ref: Ref) -> str:
        snap = self._controller.snapshot
        if isinstance(ref, (WeightRef, BiasRef)):
            return ref.name
        if snap is None:
            return f"neuron {ref.j + 1}"
        return unit_name(snap, ref.layer, ref.j)

    @staticmethod
    def _neuron_of(sel: Ref | None) -> NeuronRef | None:
        """The neuron whose δ the tab explains: a weight's target, a bias's neuron, a neuron."""
        if isinstance(sel, WeightRef):
            return sel.target
        if isinstance(sel, BiasRef):
            return sel.neuron
        return sel

    @staticmethod
    def _valid(snap: Snapshot, neuron: NeuronRef) -> bool:
        sizes = snap.layer_sizes
        return 0 <= neuron.layer < len(sizes) and 0 <= neuron.j < sizes[neuron.layer]
