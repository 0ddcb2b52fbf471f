"""The network canvas widget: the view switch, the phase strip and the scrolling network.

Model → view: the canvas draws the controller's snapshots and its
:class:`~sandbox.viewstate.ViewState` (selection, hover, view mode), subscribing to their
events.  View → model: clicks set ``view_state.selection``, pointer moves set
``view_state.hover`` (hover and click use the one hit test, so the highlighted connection is the
one a click picks), the mode buttons set ``view_state.view_mode``.  Updates from the model
change the buttons inside ``QSignalBlocker``, so they never echo back as an edit.

Drawing is built for 60 snapshots a second on networks of ~2000 connections: geometry
(:mod:`.layout`) is computed only when the architecture or the widget size changes; per
snapshot, :mod:`.frame` buckets the connections and builds one heatmap atlas, and
:mod:`.painting` draws them with a handful of calls.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import (
    QButtonGroup,
    QGraphicsItem,
    QGraphicsScene,
    QHBoxLayout,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)
from superqt import QElidingLabel

from ...analysis.example_focus import SourceValues, source_values
from ...session.naming import NeuronRef, Ref, WeightRef
from ...session.snapshot import Snapshot
from ...viewstate import ViewMode
from ..controller import SessionController
from ..theme import Theme, ThemeManager, segment_style
from . import frame as frames
from .graphics_view import CanvasView
from .hit_testing import clearest_point, hit_test
from .layout import Layout, TextMetrics, compute_layout, header_texts, layout_for_area
from .painting import NetworkItem, Scene, layout_paths, paint_marks, paint_network
from .phase_animation import PhaseOverlay, caption_label, shown_example
from .phase_strip import PhaseStrip, just_ran_phase
from .source_switch import SourceBar
from .tooltips import hover_rows, plain_text, tooltip_html

VIEW_MODES = tuple(m.value for m in ViewMode)  # "weights", "gradients", "updates"
MODE_TIPS = {
    "weights": "Connections show the weights w",
    "gradients": "Connections show the blame ∂J/∂w; neurons glow with their mean |δ|",
    "updates": "Connections show the change Δw the last step applied",
}


class NetworkCanvas(QWidget):
    """The network: nodes with their heatmaps, connections coloured by w, ∂J/∂w or Δw.

    Parameters
    ----------
    controller
        The session controller: snapshots in; its view state (selection, hover, view mode)
        both ways.
    themes
        The theme manager; the canvas recolours on ``themeChanged``.

    Signals
    -------
    viewModeChanged(str)
        "weights", "gradients" or "updates" (follows ``view_state.view_mode``).
    """

    viewModeChanged = Signal(str)

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._view_state = controller.view_state
        self._themes = themes
        self._theme: Theme = themes.theme
        self._palette = frames.Palette.of(self._theme)
        self._snapshot: Snapshot | None = None
        self._layout: Layout | None = None
        self._scene_parts: Scene | None = None
        self._layout_key: tuple | None = None
        self._frame = frames.Frame()
        self._hover_text = ""
        self._hover_global = QPoint()
        self._exporting = False
        self._relayouting = False
        self._input_scale: tuple[object, np.ndarray | None] = (None, None)
        self._focus_redraw_pending = False
        self._frame_for: tuple[object, object] = (None, None)  # (snapshot, layout) of the frame
        #: Python time of the last snapshot handler, ms (for benchmarks).
        self.frame_ms = 0.0

        #: The stepped phase's animation, the values it leaves on the neurons, and its caption.
        self.phase_overlay = PhaseOverlay(self)
        self._build_widgets()
        self.phase_overlay.changed.connect(self._item.update)
        self.phase_overlay.captionChanged.connect(self._on_phase_overlay_caption_changed)
        self._apply_theme(self._theme)
        self._show_view_mode(self._view_state.view_mode)

        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        events = self._view_state.events
        callbacks = ((events.selection, self._on_view_state_selection),
                     (events.hover, self._on_view_state_hover),
                     (events.view_mode, self._on_view_state_view_mode),
                     (events.focused_example, self._on_view_state_focus),
                     (events.data_source, self._on_view_state_focus),
                     (events.log_scale, self._on_view_state_log_scale))
        for signal, callback in callbacks:
            signal.connect(callback)

        def disconnect(*_: object) -> None:  # the view state may outlive this widget
            for signal, callback in callbacks:
                signal.disconnect(callback, missing_ok=True)

        self.destroyed.connect(disconnect)
        if controller.snapshot is not None:
            self._on_controller_snapshot_changed(controller.snapshot)

    # ------------------------------------------------------------------------ widgets

    def _build_widgets(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        bar = QWidget(self)
        bar.setObjectName("canvasBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 5, 8, 3)
        row.setSpacing(8)
        segments = QHBoxLayout()
        segments.setSpacing(0)
        self._mode_group = QButtonGroup(self)
        self._mode_group.setExclusive(True)
        self.mode_buttons: dict[str, QToolButton] = {}
        for k, mode in enumerate(VIEW_MODES):
            button = QToolButton(bar)
            button.setText(mode.capitalize())
            button.setCheckable(True)
            button.setToolTip(MODE_TIPS[mode])
            button.setObjectName(f"seg_{'first' if k == 0 else 'last' if k == len(VIEW_MODES) - 1 else 'mid'}")
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            self._mode_group.addButton(button, k)
            self.mode_buttons[mode] = button
            segments.addWidget(button)
        self._mode_group.idClicked.connect(self._on_mode_group_id_clicked)
        row.addLayout(segments)

        self._caption = QElidingLabel("", bar)
        self._caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._caption.setMinimumWidth(20)
        row.addWidget(self._caption, 1)

        self.phase_strip = PhaseStrip(bar)
        row.addWidget(self.phase_strip)
        outer.addWidget(bar)
        #: Show: Training set | Last batch | Example #k, and the focused example.
        self.source_bar = SourceBar(self._controller, self)
        self.source_switch = self.source_bar.switch
        outer.addWidget(self.source_bar)

        self._scene = QGraphicsScene(self)
        self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self._item = NetworkItem(self._paint, cached=True)
        self._scene.addItem(self._item)
        self._marks = NetworkItem(self._paint_marks)
        self._marks.setZValue(1)
        self._scene.addItem(self._marks)
        self.view = CanvasView(self._scene, self)
        outer.addWidget(self.view, 1)
        self.phase_caption = caption_label(self)  # what the stepped phase did
        outer.addWidget(self.phase_caption)
        self.view.pointerMoved.connect(self._on_view_pointer_moved)
        self.view.pointerPressed.connect(self._on_view_pointer_pressed)
        self.view.pointerLeft.connect(self._on_view_pointer_left)
        self.view.resized.connect(self._on_view_resized)
        self._bar = bar

    def sizeHint(self) -> QSize:
        return QSize(700, 480)

    def minimumSizeHint(self) -> QSize:
        return QSize(320, 220)

    # ------------------------------------------------------------------------ public API

    @property
    def view_mode(self) -> str:
        """"weights", "gradients" or "updates": what the connections show (the view state's)."""
        return ViewMode(self._view_state.view_mode).value

    def set_view_mode(self, mode: str) -> None:
        if mode not in VIEW_MODES:
            raise ValueError(f"view mode must be one of {VIEW_MODES}, got {mode!r}")
        self._view_state.view_mode = ViewMode(mode)

    def node_rect(self, layer: int, unit: int) -> QRectF:
        """Node ``unit`` of activation layer ``layer`` in canvas-widget coordinates.

        Scrolls the view first if the node is outside the visible part.
        """
        lay = self._require_layout()
        k = lay.node_index(layer, unit)
        if k is None:
            raise IndexError(f"no node ({layer}, {unit})")
        rect = QRectF(*lay.node_rect(k))
        self.view.ensureVisible(rect, 4, 4)
        return self._scene_to_widget_rect(rect)

    def node_center(self, layer: int, unit: int) -> QPoint:
        return self.node_rect(layer, unit).center().toPoint()

    def connection_point(self, layer: int, i: int, j: int) -> QPoint:
        """A point on the connection W_layer[i, j] in canvas-widget coordinates.

        Picked 30–55 % along the curve, where it is farthest from every other connection, so
        hovering or clicking there hits this connection.  Scrolls the view if needed.
        """
        x, y = self._connection_scene_point(layer, i, j)
        self.view.ensureVisible(QRectF(x - 2, y - 2, 4, 4), 20, 20)
        return self._scene_to_widget(QPointF(x, y))

    def hover_text(self) -> str:
        """The hover tooltip's current text (plain), or "" when nothing is hovered."""
        return self._hover_text

    def legend_text(self) -> str:
        """The legend line under the network (what line width means; marked neurons)."""
        return self._frame.legend

    def health_marks(self) -> dict[NeuronRef, str]:
        """The neurons tagged "dead" or "saturated" in the current frame."""
        health = self._frame.health
        if health is None:
            return {}
        marks = {}
        for l, (dead, saturated) in enumerate(zip(health.dead, health.saturated)):
            for j in np.flatnonzero(dead | saturated):
                marks[NeuronRef(l, int(j))] = "dead" if dead[j] else "saturated"
        return marks

    def caption_text(self) -> str:
        """The caption beside the view switch (what the connections show)."""
        return self._caption.text()

    def export_size(self) -> QSize:
        """The size of the whole network's picture (not only the visible part), in pixels."""
        lay = self._layout
        w, h = (lay.width, lay.height) if lay is not None else (400.0, 300.0)
        return QSize(max(1, int(w)), max(1, int(h)))

    def paint_for_export(self, painter: QPainter, width: float, height: float) -> None:
        """Paint the whole network onto ``painter`` (an image's or an SVG generator's), filling
        the rectangle (0, 0, width, height)."""
        lay = self._layout
        w, h = (lay.width, lay.height) if lay is not None else (400.0, 300.0)
        painter.fillRect(QRectF(0, 0, width, height), QColor(self._theme.base))
        self._exporting = True  # the pointer's highlight is not part of the picture
        # Uncached while exporting: Qt keys its device cache by the paint device's address, and
        # a new image at the address of an earlier one would get that image's stale pixmap.
        self._item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        try:
            painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
            self._scene.render(painter, QRectF(0, 0, width, height), QRectF(0, 0, w, h))
        finally:
            self._exporting = False
            self._item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def image_for_export(self, scale: float = 1.0) -> QImage:
        """The whole network (not only the visible part) rendered to an image."""
        lay = self._layout
        w, h = (lay.width, lay.height) if lay is not None else (400.0, 300.0)
        image = QImage(max(1, int(w * scale)), max(1, int(h * scale)), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QColor(self._theme.base))
        painter = QPainter(image)
        try:
            self.paint_for_export(painter, image.width(), image.height())
        finally:
            painter.end()
        return image

    # ------------------------------------------------------------------------ handlers

    def _on_controller_snapshot_changed(self, snapshot: Snapshot) -> None:
        start = time.perf_counter()
        before, old_frame = self._snapshot, self._frame
        self._snapshot = snapshot
        if self._layout_key_for(snapshot) != self._layout_key:
            self._view_state.hover = None
            self._set_hover_text("")
            self._layout = None  # _redraw lays the network out again
        self._redraw()
        self.phase_overlay.on_snapshot(before, snapshot, old_frame, shown_example(self._view_state))
        self.frame_ms = 1e3 * (time.perf_counter() - start)

    def _on_phase_overlay_caption_changed(self, caption: str, detail: str) -> None:
        self.phase_caption.setText(caption)
        self.phase_caption.setToolTip(detail)

    def phase_caption_text(self) -> str:
        """The line under the network: what the stepped phase did (or a hint)."""
        return self.phase_caption.text()

    def _on_view_state_selection(self, new: Ref | None, old: Ref | None = None) -> None:
        self._marks.update()

    def _on_view_state_hover(self, new: Ref | None, old: Ref | None = None) -> None:
        self._marks.update()
        if new is None:
            self._set_hover_text("")

    def _on_view_state_focus(self, *_: object) -> None:
        # A stepped phase's values follow the example at once.
        self.phase_overlay.set_example(shown_example(self._view_state))
        # Focusing sets the data source and the example: one redraw for both, once the
        # event loop is back (a benchmark's clock includes it).
        if not self._focus_redraw_pending:
            self._focus_redraw_pending = True
            QTimer.singleShot(0, self._redraw_for_focus)

    def _redraw_for_focus(self) -> None:
        self._focus_redraw_pending = False
        snap, lay = self._snapshot, self._layout
        if snap is None or lay is None or self._frame_for[0] is not snap or self._frame_for[1] is not lay:
            self._redraw()
            return
        # Same snapshot and layout: only what depends on the focus is built again.
        self._frame = frames.refocus_frame(self._frame, snap, lay, self.view_mode, self._palette,
                                           self._source_values(snap), self._focused_row(snap),
                                           log_scale=self._view_state.log_scale)
        self._update_items()
        self._update_bar()

    def _on_view_state_view_mode(self, new: ViewMode, old: ViewMode | None = None) -> None:
        self._show_view_mode(new)
        self._redraw()
        self.viewModeChanged.emit(ViewMode(new).value)

    def _on_view_state_log_scale(self, new: bool, old: bool | None = None) -> None:
        self._redraw()

    def _show_view_mode(self, mode: ViewMode) -> None:
        """Check ``mode``'s button without any button or group signal (no echo as an edit)."""
        button = self.mode_buttons[ViewMode(mode).value]
        blockers = [QSignalBlocker(self._mode_group)] + [QSignalBlocker(b) for b in self.mode_buttons.values()]
        button.setChecked(True)
        del blockers

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._apply_theme(theme)
        self._redraw()

    def _on_mode_group_id_clicked(self, index: int) -> None:
        self._view_state.view_mode = ViewMode(VIEW_MODES[index])

    def _on_view_resized(self) -> None:
        self._relayout()

    def _on_view_pointer_moved(self, scene_pos: QPointF, global_pos: QPoint) -> None:
        self._hover_global = global_pos
        self._view_state.hover = self.hit(scene_pos)
        self._refresh_hover()

    def _on_view_pointer_left(self) -> None:
        self._view_state.hover = None
        self._set_hover_text("")

    def _on_view_pointer_pressed(self, scene_pos: QPointF) -> None:
        self._view_state.selection = self.hit(scene_pos)

    def leaveEvent(self, event: QEvent) -> None:
        self._on_view_pointer_left()
        super().leaveEvent(event)


    # ------------------------------------------------------------------------ theme

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._palette = frames.Palette.of(theme)
        self.view.setBackgroundBrush(QColor(theme.base))
        self._bar.setAutoFillBackground(True)
        pal = self._bar.palette()
        pal.setColor(self._bar.backgroundRole(), QColor(theme.base))
        self._bar.setPalette(pal)
        self._caption.setStyleSheet(f"QLabel {{ color: {theme.muted}; }}")
        self.phase_caption.setStyleSheet(f"QLabel {{ color: {theme.text}; background: {theme.base}; }}")
        self.phase_strip.set_theme(theme)
        self.source_bar.set_theme(theme)
        for button in self.mode_buttons.values():
            button.setStyleSheet(segment_style(theme, button.objectName().split("_")[1], 10))

    # ------------------------------------------------------------------------ layout

    @staticmethod
    def _layout_key_for(snapshot: Snapshot) -> tuple:
        grid = snapshot.grid
        mode = "plain" if grid is None else "image" if grid.is_2d else "curve"
        names = snapshot.dataset.class_names if snapshot.is_classification else ()
        return (snapshot.run_id, snapshot.layer_sizes, snapshot.activation_names, snapshot.feature_labels,
                mode, names)

    def _require_layout(self) -> Layout:
        if self._layout is None:
            raise RuntimeError("the canvas has no snapshot yet")
        return self._layout

    def _text_metrics(self) -> TextMetrics:
        font = self.font()
        bold = QFont(font)
        bold.setBold(True)
        fm, fmb = QFontMetricsF(font), QFontMetricsF(bold)
        return TextMetrics(line_height=fm.height(), width=fm.horizontalAdvance, bold_width=fmb.horizontalAdvance,
                           elide=lambda t, w: fm.elidedText(t, Qt.TextElideMode.ElideRight, w))

    def _compute_layout(self, snap: Snapshot, width: float, height: float) -> Layout:
        names = snap.dataset.class_names if snap.is_classification else ()
        return compute_layout(snap.layer_sizes, header_texts(snap.layer_sizes, snap.activation_names),
                              snap.feature_labels, names, width, height, self._text_metrics())

    def _relayout(self) -> None:
        snap = self._snapshot
        if snap is None or self._relayouting:
            return
        self._relayouting = True
        try:
            # Laid out for the view's whole area, never for its viewport: the viewport shrinks
            # and grows as the scroll bars come and go, and a layout that followed it could
            # show and hide them forever (see layout_for_area).
            area = self.view.maximumViewportSize()
            h_bar, v_bar = self.view.scroll_bar_extents()
            self._layout = layout_for_area(
                float(area.width()), float(area.height()), h_bar, v_bar,
                lambda w, h: self._compute_layout(snap, max(w, 100.0), max(h, 80.0)))
            rect = QRectF(0, 0, self._layout.width, self._layout.height)
            self._scene.setSceneRect(rect)
            self._item.set_rect(rect)
            self._marks.set_rect(rect)
            self._scene_parts = Scene(self._layout, *layout_paths(self._layout))
            self.phase_overlay.finish()  # its frame before was drawn on the old layout
            self._layout_key = self._layout_key_for(snap)
            self._build_frame()
            self._update_items()
        finally:
            self._relayouting = False

    # ------------------------------------------------------------------------ per frame

    def _redraw(self) -> None:
        if self._snapshot is None:
            return
        if self._layout is None:
            self._relayout()
        else:
            self._build_frame()
            self._update_items()
        self._update_bar()
        if self._view_state.hover is not None and self._hover_text:
            self._refresh_hover()

    def _build_frame(self) -> None:
        snap, lay = self._snapshot, self._layout
        if snap is None or lay is None:
            return
        scale = None
        if snap.grid is None:
            if self._input_scale[0] is not snap.dataset:  # cached: the dataset only changes with the run
                self._input_scale = (snap.dataset, frames.input_scale(snap))
            scale = self._input_scale[1]
        dpr = self.view.viewport().devicePixelRatioF()
        self._frame = frames.build_frame(snap, lay, self.view_mode, self._palette, dpr, scale,
                                         self._source_values(snap), self._focused_row(snap),
                                         log_scale=self._view_state.log_scale)
        self._frame_for = (snap, lay)

    def _focused_row(self, snap: Snapshot) -> int | None:
        row = self._view_state.focused_example
        return row if row is not None and 0 <= row < snap.train_pass.n_rows else None

    def _source_values(self, snap: Snapshot) -> SourceValues | None:
        """The Gradients view's values for the data source (None: the training set's)."""
        if self.view_mode != "gradients":
            return None
        return source_values(snap, self._view_state.data_source, self._focused_row(snap))

    def _update_items(self) -> None:
        """A new frame: the cached network and its marks both paint again."""
        self._item.update()
        self._marks.update()

    def _paint(self, p: QPainter) -> None:
        scene = self._scene_parts
        if self._layout is None or scene is None or scene.layout is not self._layout:
            return
        theme, font = self._theme, self.font()
        if self._exporting:
            paint_network(p, scene, self._frame, theme, font)
        else:
            self.phase_overlay.paint(p, scene, self._frame, theme, font,
                                     lambda painter, parts, fr: paint_network(painter, parts, fr, theme, font))

    def _paint_marks(self, p: QPainter) -> None:
        scene = self._scene_parts
        if self._layout is None or scene is None or scene.layout is not self._layout:
            return
        scene.selection = self._view_state.selection
        scene.hover = None if self._exporting else self._view_state.hover
        paint_marks(p, scene, self._frame, self._theme)

    def _update_bar(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        self.phase_strip.set_phase(just_ran_phase(snap))
        _, caption = frames.connection_values(snap, self.view_mode, self._source_values(snap))
        row = self._focused_row(snap)
        if row is not None and self.view_mode != "gradients":
            caption += f"; ◦ marks example #{int(snap.dataset.train_indices[row])}"
        if caption != self._caption.text():
            self._caption.setText(caption)
            self._caption.setToolTip(caption)

    # ------------------------------------------------------------------------ hit testing

    def hit(self, scene_pos: QPointF) -> NeuronRef | WeightRef | None:
        """What a click at scene point ``scene_pos`` selects (and hovering there highlights)."""
        return hit_test(self._layout, scene_pos.x(), scene_pos.y(), self._frame.conn_width)

    def _connection_scene_point(self, layer: int, i: int, j: int) -> tuple[float, float]:
        lay = self._require_layout()
        c = lay.connection_index(layer, i, j)
        if c is None:
            raise IndexError(f"no connection w[{layer}][{i}→{j}]")
        return clearest_point(lay, c)

    # ------------------------------------------------------------------------ tooltips

    def _refresh_hover(self) -> None:
        """Re-read the hovered target's values from the current snapshot and re-show the tooltip."""
        snap, target, lay = self._snapshot, self._view_state.hover, self._layout
        if snap is None or lay is None or not isinstance(target, (WeightRef, NeuronRef)):
            self._set_hover_text("")
            return
        valid = (lay.connection_index(target.layer, target.i, target.j) if isinstance(target, WeightRef)
                 else lay.node_index(target.layer, target.j))
        if valid is None:
            self._view_state.hover = None
            self._set_hover_text("")
            return
        title, rows = hover_rows(snap, target, self._frame.health)
        plain = plain_text(title, rows)
        if plain == self._hover_text:
            return
        self._hover_text = plain
        # A long display time: the tooltip stays up (and live) while the pointer rests.
        QToolTip.showText(self._hover_global, tooltip_html(title, rows), self.view.viewport(), QRect(), 120_000)

    def _set_hover_text(self, text: str) -> None:
        if not text and self._hover_text:
            QToolTip.hideText()
        self._hover_text = text

    # ------------------------------------------------------------------------ coordinates

    def _scene_to_widget(self, point: QPointF) -> QPoint:
        vp = self.view.mapFromScene(point)
        return self.view.viewport().mapTo(self, vp)

    def _scene_to_widget_rect(self, rect: QRectF) -> QRectF:
        top_left = self._scene_to_widget(rect.topLeft())
        return QRectF(QPointF(top_left), rect.size())
