"""View ▸ Histograms…: a non-modal window with one histogram per layer of the weights, the
gradients ∂J/∂W or the activations, refreshed from the snapshots while it is open.

The bins and counts come from :mod:`sandbox.analysis.histograms`; this window only draws them
(pyqtgraph bar graphs), at most every :data:`REFRESH_MS` while training runs, and not at all
while it is closed or minimised.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..analysis.histograms import KINDS, Histogram, layer_histograms
from ..formatting import format_number
from ..session.snapshot import Snapshot
from .controller import SessionController
from .names import layer_name, weight_layer_label
from .theme import Theme, ThemeManager

#: At most this often (ms) while training.
REFRESH_MS = 200
#: Plots per row.
COLUMNS = 4
KIND_LABELS = {"weights": "Weights w", "gradients": "Gradients ∂J/∂w", "activations": "Activations a"}


class HistogramsWindow(QWidget):
    """Per-layer histograms of one kind at a time (buttons at the top choose the kind).

    Attributes
    ----------
    kind_buttons
        ``{"weights": …, "gradients": …, "activations": …}``, checkable.
    plots
        One PlotWidget per layer of the kind shown.
    """

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Histograms — Backprop Sandbox")
        self._controller = controller
        self._themes = themes
        self._kind = "weights"
        self._dirty = True
        self.histograms: list[Histogram] = []
        self.plots: list[pg.PlotWidget] = []
        self._bars: list[pg.BarGraphItem] = []
        self._titles: list[QLabel] = []

        top = QHBoxLayout()
        self._group = QButtonGroup(self)
        self.kind_buttons: dict[str, QPushButton] = {}
        for k, kind in enumerate(KINDS):
            button = QPushButton(KIND_LABELS[kind])
            button.setCheckable(True)
            self._group.addButton(button, k)
            self.kind_buttons[kind] = button
            top.addWidget(button)
        self.kind_buttons["weights"].setChecked(True)
        top.addStretch(1)
        self.caption = QLabel()
        top.addWidget(self.caption)
        self._grid = QGridLayout()
        self._grid.setSpacing(6)
        outer = QVBoxLayout(self)
        outer.addLayout(top)
        outer.addLayout(self._grid, 1)
        self.resize(900, 520)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._group.idClicked.connect(self._on_group_id_clicked)
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)

    @property
    def kind(self) -> str:
        return self._kind

    def set_kind(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        self.kind_buttons[kind].setChecked(True)
        self._kind = kind
        self.refresh()

    # ----------------------------------------------------------------------- handlers

    def _on_group_id_clicked(self, index: int) -> None:
        self.set_kind(KINDS[index])

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        self._dirty = True
        if self.isVisible() and not self.isMinimized() and not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._rebuild_plots(len(self.plots))
        self.refresh()

    # ------------------------------------------------------------------------ drawing

    def refresh(self) -> None:
        """Recompute from the current snapshot and redraw (only while shown)."""
        snap = self._controller.snapshot
        if snap is None or not self.isVisible():
            return
        self._dirty = False
        self.histograms = layer_histograms(snap, self._kind)
        if len(self.histograms) != len(self.plots):
            self._rebuild_plots(len(self.histograms))
        for hist, plot, bars, title in zip(self.histograms, self.plots, self._bars, self._titles):
            bars.setOpts(x0=hist.edges[:-1], x1=hist.edges[1:], height=hist.counts.astype(float))
            plot.getPlotItem().getViewBox().setRange(
                xRange=(float(hist.edges[0]), float(hist.edges[-1])),
                yRange=(0.0, max(1.0, float(hist.counts.max()) * 1.05)), padding=0.02)
            title.setText(self._title(snap, hist))
        n = snap.train_pass.n_rows
        source = {"weights": "current weights", "gradients": f"∂J/∂w over the training set ({n} examples)",
                  "activations": f"every training example's output ({n} examples)"}[self._kind]
        self.caption.setText(f"step {snap.step:,} · {source}")

    def _title(self, snap: Snapshot, hist: Histogram) -> str:
        if self._kind == "activations":
            name = layer_name(snap, hist.layer)
            text = f"{name[0].upper()}{name[1:]} · {snap.activation_names[hist.layer - 1]}"
        else:
            l = hist.layer
            text = f"{weight_layer_label(l)}: {layer_name(snap, l)} → {layer_name(snap, l + 1)}"
        if hist.nonfinite:
            text += f" · {hist.nonfinite} not finite"
        lo, hi = hist.edges[0], hist.edges[-1]
        return f"{text}<br><span style='font-size:small'>{format_number(lo)} … {format_number(hi)}</span>"

    def _rebuild_plots(self, n: int) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        theme = self._themes.theme
        self.plots, self._bars, self._titles = [], [], []
        tick_font = QFont(self.font())
        tick_font.setPointSizeF(max(7.0, tick_font.pointSizeF() - 1.5))
        for k in range(n):
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(0)
            title = QLabel()
            title.setTextFormat(Qt.TextFormat.RichText)
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            plot = pg.PlotWidget()
            plot.setMinimumSize(160, 110)
            plot.setBackground(theme.base)
            item = plot.getPlotItem()
            item.setMenuEnabled(False)
            item.hideButtons()
            item.getViewBox().setMouseEnabled(x=False, y=False)
            for name in ("left", "bottom"):
                axis = item.getAxis(name)
                axis.setStyle(tickFont=tick_font, tickLength=-3)
                axis.setPen(pg.mkPen(theme.muted))
                axis.setTextPen(pg.mkPen(theme.text))
                axis.enableAutoSIPrefix(False)
            bars = pg.BarGraphItem(x0=np.zeros(1), x1=np.ones(1), height=np.zeros(1),
                                   brush=theme.qcolor("positive", 200), pen=pg.mkPen(theme.base, width=0.5))
            item.addItem(bars)
            box.addWidget(title)
            box.addWidget(plot, 1)
            self._grid.addWidget(cell, k // COLUMNS, k % COLUMNS)
            self.plots.append(plot)
            self._bars.append(bars)
            self._titles.append(title)
