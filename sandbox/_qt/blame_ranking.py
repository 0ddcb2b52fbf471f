"""The blame ranking: the most blamed weights and biases, the ones the last update moved most,
and each layer's share of the gradient.

A view of the controller's snapshots; the numbers come from
:mod:`sandbox.analysis.parameter_ranking`.  Clicking a row selects that parameter (a bias
selects its neuron, whose page in the inspector edits it and whose outline on the canvas takes in
the bias bar).  Live, but cheap: while training plays it refreshes at most
``MAX_REFRESH_HZ`` times a second, and not at all while hidden (a tab behind the controls);
the newest snapshot is drawn when it shows again.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QHeaderView, QLabel, QProgressBar, QSizePolicy,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..analysis.parameter_ranking import RankedParameter, layer_gradient_shares, top_parameters
from ..formatting import format_number, format_percent
from ..session.naming import BiasRef, Ref, WeightRef
from ..session.snapshot import Snapshot
from .controller import SessionController
from .theme import Theme, ThemeManager

#: Rows per list.
TOP_K = 8
#: Refreshes a second at most while training plays.
MAX_REFRESH_HZ = 5.0
MINUS = "\u2212"
ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def selection_for(ref: WeightRef | BiasRef) -> Ref:
    """What clicking a row selects: the weight, or the neuron a bias belongs to."""
    return ref.neuron if isinstance(ref, BiasRef) else ref


class RankingTable(QTableWidget):
    """One ranking: parameter, the ranked amount, its sign (+/− in the theme's colours), and
    the parameter's value."""

    def __init__(self, amount_header: str, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(["parameter", amount_header, "±", "value"])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        # Fixed height for TOP_K rows: refreshing never changes the dock's layout.
        height = header.sizeHint().height() + TOP_K * self.verticalHeader().defaultSectionSize() + 2 * self.frameWidth()
        self.setFixedHeight(height)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.refs: list[WeightRef | BiasRef] = []

    def show_rows(self, rows: list[RankedParameter], theme: Theme, symbol: str, empty: str) -> None:
        self.refs = [r.ref for r in rows]
        self.setRowCount(max(len(rows), 1 if empty else 0))
        if not rows and empty:
            self.setSpan(0, 0, 1, 4)
            item = QTableWidgetItem(empty)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setForeground(QBrush(QColor(theme.muted)))
            self.setItem(0, 0, item)
            return
        self.clearSpans()
        bold = QFont(self.font())
        bold.setBold(True)
        for row, r in enumerate(rows):
            name = r.ref.name
            sign = "+" if r.sign > 0 else MINUS if r.sign < 0 else "0"
            colour = theme.positive if r.sign > 0 else theme.negative if r.sign < 0 else theme.muted
            texts = (name, format_number(r.amount), sign, format_number(r.value))
            tip = (f"{name} = {format_number(r.value)}; {symbol} = {format_number(r.amount)}. "
                   "Click to select it.")
            for col, text in enumerate(texts):
                item = self.item(row, col)
                if item is None or item.flags() != ROW_FLAGS:
                    # Made once per cell: each change of an item makes the table measure its
                    # columns again, so a refresh only sets what changed.
                    item = QTableWidgetItem()
                    item.setFlags(ROW_FLAGS)
                    align = Qt.AlignmentFlag.AlignLeft if col == 0 else (
                        Qt.AlignmentFlag.AlignHCenter if col == 2 else Qt.AlignmentFlag.AlignRight)
                    item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
                    if col == 2:
                        item.setFont(bold)
                    self.setItem(row, col, item)
                if item.text() != text:
                    item.setText(text)
                if item.toolTip() != tip:
                    item.setToolTip(tip)
                colour_of = colour if col == 2 else theme.text if col != 3 else theme.muted
                if item.foreground().color() != QColor(colour_of):
                    item.setForeground(QBrush(QColor(colour_of)))

    def show_selection(self, selection: Ref | None) -> None:
        """Highlight the row of the selected parameter (no signals: not an edit)."""
        blocker = QSignalBlocker(self.selectionModel())
        row = next((k for k, ref in enumerate(self.refs) if selection_for(ref) == selection), None)
        if row is None:
            self.clearSelection()
        else:
            self.selectRow(row)
        del blocker


class BlameRanking(QWidget):
    """Top weights and biases by |∂J/∂p| and by the last |Δp|, and the layers' gradient shares.

    Parameters
    ----------
    controller
        Snapshots in; clicking a row sets its view state's selection.
    themes
        The theme manager (the sign colours follow it).
    """

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._themes = themes
        self._theme = themes.theme
        self._snapshot: Snapshot | None = None
        #: The snapshot the lists show.
        self.shown: Snapshot | None = None
        self._dirty = False
        self._last_refresh = 0.0
        #: How many times the lists were rebuilt (tests and benchmarks read it).
        self.refresh_count = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._refresh)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.gradient_title = self._title("Most blamed |∂J/∂p| (training set)")
        self.gradient_table = RankingTable("∂J/∂p")
        self.update_title = self._title("Moved most |Δp| (last update)")
        self.update_table = RankingTable("Δp")
        self.share_title = self._title("Share of ‖∇J‖² by layer (sums to 100%)")
        self._shares = QGridLayout()
        self._shares.setColumnStretch(1, 1)
        self._shares.setHorizontalSpacing(6)
        self._shares.setVerticalSpacing(2)
        self.share_rows: list[tuple[QLabel, QProgressBar, QLabel]] = []
        self.norm_label = QLabel()
        self.norm_label.setWordWrap(True)
        for widget in (self.gradient_title, self.gradient_table, self.update_title, self.update_table,
                       self.share_title):
            layout.addWidget(widget)
        layout.addLayout(self._shares)
        layout.addWidget(self.norm_label)
        layout.addStretch(1)

        for table in (self.gradient_table, self.update_table):
            table.cellClicked.connect(lambda row, _col, t=table: self._on_table_cell_clicked(t, row))
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        events = controller.view_state.events
        events.selection.connect(self._on_view_state_selection)
        self.destroyed.connect(lambda *_: events.selection.disconnect(self._on_view_state_selection, missing_ok=True))
        self._restyle()
        if controller.snapshot is not None:
            self._on_controller_snapshot_changed(controller.snapshot)

    def _title(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        return label

    # ------------------------------------------------------------------------ public API

    def rows(self, which: str = "gradient") -> list[tuple[str, str, str, str]]:
        """The texts of each row of the "gradient" or "update" list (for tests)."""
        table = self.gradient_table if which == "gradient" else self.update_table
        return [tuple(table.item(r, c).text() for c in range(4)) for r in range(len(table.refs))]

    def shares(self) -> list[tuple[str, str]]:
        """(layer, percentage text) per layer row."""
        return [(label.text(), percent.text()) for label, _bar, percent in self.share_rows]

    # ------------------------------------------------------------------------ handlers

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        self._snapshot = snap
        if self._hidden():
            self._dirty = True  # drawn when shown (paintEvent)
            return
        if not snap.playing:
            self._timer.stop()
            self._refresh()
            return
        wait = self._last_refresh + 1.0 / MAX_REFRESH_HZ - time.monotonic()
        if wait <= 0:
            self._timer.stop()
            self._refresh()
        elif not self._timer.isActive():
            self._timer.start(max(1, int(1000 * wait)))

    def _on_table_cell_clicked(self, table: RankingTable, row: int) -> None:
        if 0 <= row < len(table.refs):
            self._controller.select(selection_for(table.refs[row]))

    def _on_view_state_selection(self, new: Ref | None, old: Ref | None = None) -> None:
        for table in (self.gradient_table, self.update_table):
            table.show_selection(new)

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()
        if self._snapshot is not None:
            self._refresh()

    def _hidden(self) -> bool:
        # A dock in a tab behind another stays "visible" to Qt; only its region says it is not.
        return not self.isVisible() or self.visibleRegion().isEmpty()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        # Painted: shown again (its tab raised, the dock opened).  Catch up after this paint.
        super().paintEvent(event)
        if self._dirty and self._snapshot is not None and not self._timer.isActive():
            self._timer.start(0)

    # ------------------------------------------------------------------------ drawing

    def _restyle(self) -> None:
        t = self._theme
        self.norm_label.setStyleSheet(f"QLabel {{ color: {t.muted}; }}")
        for _label, bar, _percent in self.share_rows:
            self._style_bar(bar)

    def _style_bar(self, bar: QProgressBar) -> None:
        t = self._theme
        bar.setStyleSheet(f"QProgressBar {{ border: 1px solid {t.grid}; border-radius: 2px; background: {t.base};"
                          f" color: {t.text}; text-align: center; }}"
                          f"QProgressBar::chunk {{ background: {t.accent}; }}")

    def _refresh(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        self._dirty = False
        self.shown = snap
        self._last_refresh = time.monotonic()
        self.refresh_count += 1
        theme = self._theme
        self.gradient_table.show_rows(top_parameters(snap, TOP_K, "gradient"), theme, "∂J/∂p", "")
        self.update_table.show_rows(top_parameters(snap, TOP_K, "update"), theme, "Δp",
                                    "no update yet: step or play")
        selection = self._controller.view_state.selection
        for table in (self.gradient_table, self.update_table):
            table.show_selection(selection)
        self._show_shares(snap)

    def _show_shares(self, snap: Snapshot) -> None:
        shares, norm = layer_gradient_shares(snap)
        while len(self.share_rows) > len(shares):
            for widget in self.share_rows.pop():
                self._shares.removeWidget(widget)
                widget.deleteLater()
        while len(self.share_rows) < len(shares):
            k = len(self.share_rows)
            label, bar = QLabel(f"w[{k + 1}], b[{k + 1}]"), QProgressBar()
            label.setToolTip(f"Weight layer {k + 1}'s part of ‖∇J‖², its weights w[{k + 1}] and biases b[{k + 1}]")
            bar.setRange(0, 1000)
            bar.setTextVisible(False)
            bar.setFixedHeight(max(8, label.sizeHint().height() - 6))
            self._style_bar(bar)
            percent = QLabel()
            percent.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            # Wide enough for "100.0%": a new figure never changes the layout.
            percent.setMinimumWidth(percent.fontMetrics().horizontalAdvance("100.0%") + 2)
            self._shares.addWidget(label, k, 0)
            self._shares.addWidget(bar, k, 1)
            self._shares.addWidget(percent, k, 2)
            self.share_rows.append((label, bar, percent))
        for (_label, bar, percent), share in zip(self.share_rows, shares):
            finite = share == share
            bar.setValue(int(round(1000 * share)) if finite else 0)
            percent.setText(format_percent(share))
        count = sum(w.size + b.size for w, b in zip(snap.weights, snap.biases))
        self.norm_label.setText(f"‖∇J‖ = {format_number(norm)} over all {count} weights and biases.")
