"""The output view's part in following one example: click a point to focus it, a ring on the
focused example, and rings on the examples that drive the selected weight.

Model → view: the rings follow ``view_state.focused_example`` and ``view_state.selection``
and every snapshot.  View → model: a click on a training point (the nearest within
:data:`CLICK_RADIUS` px) calls ``controller.focus_example``; a click on empty space changes
nothing (Esc or the canvas's data-source switch goes back to the average).  The numbers (which
examples drive a weight, with which sign) come from :mod:`sandbox.analysis.example_focus`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt

from ..analysis.example_focus import top_examples
from ..session.naming import Ref, WeightRef
from ..session.snapshot import Snapshot
from .controller import SessionController
from .plot_values import drawable
from .theme import Theme, ThemeManager



class OutputView(Protocol):
    """What the rings need of the output view (which owns this; importing it would be a cycle)."""

    plot_widget: pg.PlotWidget
    destroyed: object

    def train_positions(self) -> np.ndarray: ...

#: px: how near a click must be to a point to focus it.
CLICK_RADIUS = 8.0
#: How many of the examples driving the selected weight are ringed.
DRIVERS = 8
FOCUS_SIZE = 18.0
DRIVER_SIZE = 14.0


class OutputFocus(QObject):
    """Focus ring, driver rings and click-to-focus for an :class:`OutputView`.

    Attributes
    ----------
    focus_item
        The focused example's ring (empty when none is focused).
    driver_items
        {+1: rings of the examples pushing ∂J/∂w up (a_i·δ_j > 0), −1: pushing it down}.
    drivers
        The ringed examples (:class:`~sandbox.analysis.example_focus.ExampleTerm`), largest
        |a_i·δ_j| first.
    """

    def __init__(self, view: OutputView, controller: SessionController, themes: ThemeManager) -> None:
        super().__init__(view)
        self._view = view
        self._controller = controller
        self._themes = themes
        self.drivers: tuple = ()
        plot = view.plot_widget.getPlotItem()
        self.focus_item = pg.ScatterPlotItem(symbol="o", size=FOCUS_SIZE, pxMode=True)
        self.focus_item.setZValue(30)
        self.driver_items = {1: pg.ScatterPlotItem(symbol="o", size=DRIVER_SIZE, pxMode=True),
                             -1: pg.ScatterPlotItem(symbol="s", size=DRIVER_SIZE, pxMode=True)}
        for item in (self.focus_item, *self.driver_items.values()):
            if item is not self.focus_item:
                item.setZValue(25)
            plot.addItem(item)
        self._apply_theme(themes.theme)

        view.plot_widget.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        events = controller.view_state.events
        callbacks = ((events.focused_example, self._on_view_state_changed),
                     (events.selection, self._on_view_state_changed),
                     (events.data_source, self._on_view_state_changed))
        for signal, callback in callbacks:
            signal.connect(callback)

        def disconnect(*_: object) -> None:  # the view state may outlive the view
            for signal, callback in callbacks:
                signal.disconnect(callback, missing_ok=True)

        view.destroyed.connect(disconnect)
        self.refresh()

    # ------------------------------------------------------------------------- public

    def point_scene_pos(self, row: int) -> QPointF:
        """Where training row ``row`` is drawn, in the plot's scene coordinates (for tests)."""
        x, y = self._view.train_positions()[row]
        return self._view.plot_widget.getPlotItem().getViewBox().mapViewToScene(QPointF(float(x), float(y)))

    def row_at(self, scene_pos: QPointF) -> int | None:
        """The training row drawn nearest scene point ``scene_pos``, within CLICK_RADIUS px."""
        xy = self._view.train_positions()
        if not len(xy):
            return None
        vb = self._view.plot_widget.getPlotItem().getViewBox()
        p = vb.mapSceneToView(scene_pos)
        sx, sy = vb.viewPixelSize()  # view units per pixel
        if not (sx > 0 and sy > 0):
            return None
        with np.errstate(all="ignore"):
            d2 = ((xy[:, 0] - p.x()) / sx) ** 2 + ((xy[:, 1] - p.y()) / sy) ** 2
        d2 = np.nan_to_num(d2, nan=np.inf)
        row = int(np.argmin(d2))
        return row if d2[row] <= CLICK_RADIUS ** 2 else None

    def refresh(self) -> None:
        """Place the rings for the current snapshot, focus and selection."""
        snap = self._controller.snapshot
        xy = self._view.train_positions()
        state = self._controller.view_state
        row = state.focused_example
        focus = np.zeros((0, 2))
        if snap is not None and row is not None and 0 <= row < len(xy):
            focus = drawable(xy[row:row + 1])
        self._set_if_changed(self.focus_item, focus)
        self.drivers = self._drivers(snap, state.selection, len(xy))
        for sign, item in self.driver_items.items():
            rows = [t.row for t in self.drivers if (t.term > 0) == (sign > 0) and t.term != 0]
            self._set_if_changed(item, drawable(xy[rows]) if rows else np.zeros((0, 2)))

    @staticmethod
    def _set_if_changed(item: pg.ScatterPlotItem, pos: np.ndarray) -> None:
        # An unchanged item is not set again: setData repaints the plot under its old and new
        # extent (for rings spread over the plot, nearly all of it, heatmap included).
        data = item.data
        if len(data) == len(pos) and np.array_equal(np.column_stack([data["x"], data["y"]]).reshape(-1, 2), pos):
            return
        item.setData(pos=pos)

    # ----------------------------------------------------------------------- handlers

    @staticmethod
    def _drivers(snap: Snapshot | None, sel: Ref | None, n_points: int) -> tuple:
        if snap is None or not isinstance(sel, WeightRef) or snap.train_pass.n_rows != n_points:
            return ()
        sizes = snap.layer_sizes
        if not (0 <= sel.layer < len(sizes) - 1 and sel.i < sizes[sel.layer] and sel.j < sizes[sel.layer + 1]):
            return ()
        return top_examples(snap, sel, DRIVERS)

    def _on_scene_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        row = self.row_at(event.scenePos())
        if row is not None:
            event.accept()
            self._controller.focus_example(row)

    def _on_controller_snapshot_changed(self, _snap: Snapshot) -> None:
        self.refresh()

    def _on_view_state_changed(self, *_: object) -> None:
        self.refresh()

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._apply_theme(theme)

    def _apply_theme(self, theme: Theme) -> None:
        self.focus_item.setPen(pg.mkPen(theme.selection, width=2.6))
        self.focus_item.setBrush(pg.mkBrush(None))
        self.driver_items[1].setPen(pg.mkPen(theme.positive, width=2.2))
        self.driver_items[-1].setPen(pg.mkPen(theme.negative, width=2.2))
        for item in self.driver_items.values():
            item.setBrush(pg.mkBrush(None))


__all__ = ["CLICK_RADIUS", "DRIVERS", "OutputFocus"]
