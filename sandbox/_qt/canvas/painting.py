"""Painting the network: column headers, labels, connections, nodes, and the marks of the
selected and the hovered weight or neuron.

One graphics item (:class:`NetworkItem`) paints the whole network — far cheaper than an item
per node or connection.  Its painter draws a :class:`~.frame.Frame` on a
:class:`~.layout.Layout`; drawing the connections is a handful of ``drawLines`` calls that read
the segment arrays straight from numpy memory (opaque pens with flat caps: Qt's fast path for
wide antialiased lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPaintEngine, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget
from shiboken6 import wrapInstance

from ...session.naming import NeuronRef, Ref, WeightRef
from ..theme import Theme
from .frame import Frame, blend
from .layout import Layout

ALIGN = {"left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
         "right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter}


@dataclass
class Scene:
    """What the painter needs besides the frame: the layout, its static paths, and the marks."""

    layout: Layout
    border_path: QPainterPath  # every node's outline
    bias_tracks: QPainterPath  # a faint line under each biased node
    selection: Ref | None = None
    hover: Ref | None = None


def layout_paths(lay: Layout) -> tuple[QPainterPath, QPainterPath]:
    """The node outlines and the bias tracks under the hidden and output nodes."""
    border, tracks = QPainterPath(), QPainterPath()
    node = lay.node
    for k in range(len(lay.node_x)):
        border.addRect(QRectF(lay.node_x[k] + 0.5, lay.node_y[k] + 0.5, node - 1, node - 1))
        if k >= lay.offsets[1]:
            tracks.moveTo(lay.node_x[k], lay.node_y[k] + node + 3.5)
            tracks.lineTo(lay.node_x[k] + node, lay.node_y[k] + node + 3.5)
    return border, tracks


class NetworkItem(QGraphicsItem):
    """An item that paints the whole network (or its marks) through ``paint_callback(painter)``.

    The canvas uses two: the network itself, with ``cached=True`` (Qt keeps it as a pixmap in
    device pixels and paints it again only when the frame changes), and above it the marks of
    the selection and the hover, which change on every pointer move.  A hover over a wide
    network then costs a pixmap blit and two marks, not every connection again.
    """

    def __init__(self, paint_callback: Callable[[QPainter], None], cached: bool = False) -> None:
        super().__init__()
        self._paint_callback = paint_callback
        self._rect = QRectF()
        if cached:
            self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = rect

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        self._paint_callback(painter)


def paint_network(p: QPainter, scene: Scene, fr: Frame, theme: Theme, font: QFont) -> None:
    lay = scene.layout
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    paint_text(p, lay, fr, theme, font)

    # Gradient halos lie under the connections, so lines still reach their nodes.
    p.setPen(Qt.PenStyle.NoPen)
    for rect, color in fr.halos:
        p.setBrush(color)
        p.drawRoundedRect(rect, 4, 4)

    p.setBrush(Qt.BrushStyle.NoBrush)
    for pen, lines in fr.conn_lines:
        p.setPen(pen)
        # drawLines(const QLineF *, int) reads the segments straight from the numpy buffer.
        p.drawLines(wrapInstance(lines.ctypes.data, QLineF), len(lines))
    paint_nodes(p, scene, fr, theme)
    paint_health_marks(p, fr, theme, font)
    paint_example_points(p, fr, theme)


def paint_marks(p: QPainter, scene: Scene, fr: Frame, theme: Theme) -> None:
    """The selection's and the hover's marks, drawn over the network."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    paint_connection_marks(p, scene, fr, theme)
    paint_node_marks(p, scene, theme)


def paint_text(p: QPainter, lay: Layout, fr: Frame, theme: Theme, font: QFont) -> None:
    bold = QFont(font)
    bold.setBold(True)
    fm = QFontMetricsF(font)
    fmb = QFontMetricsF(bold)
    for rect_t, a, b in lay.headers:
        rect = QRectF(*rect_t)
        p.setFont(bold)
        p.setPen(QColor(theme.text))
        top = QRectF(rect.x(), rect.y(), rect.width(), fm.height())
        p.drawText(top, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                   fmb.elidedText(a, Qt.TextElideMode.ElideRight, rect.width()))
        if b:
            p.setFont(font)
            p.setPen(QColor(theme.muted))
            p.drawText(top.translated(0, fm.height()), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                       fm.elidedText(b, Qt.TextElideMode.ElideRight, rect.width()))
    p.setFont(font)
    p.setPen(QColor(theme.text))
    for rect_t, text, align in lay.labels:
        p.drawText(QRectF(*rect_t), ALIGN[align], text)
    if fr.legend:
        p.setPen(QColor(theme.muted))
        p.drawText(QRectF(*lay.legend), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, fr.legend)


def connection_path(lay: Layout, c: int) -> QPainterPath:
    path = QPainterPath()
    path.moveTo(float(lay.conn_x[c, 0]), float(lay.conn_y[c, 0]))
    for s in range(1, lay.samples):
        path.lineTo(float(lay.conn_x[c, s]), float(lay.conn_y[c, s]))
    return path


def paint_connection_marks(p: QPainter, scene: Scene, fr: Frame, theme: Theme) -> None:
    """The selected connection (outlined in the selection colour) and the hovered one."""
    lay = scene.layout
    marks = []
    sel = scene.selection
    if isinstance(sel, WeightRef):
        c = lay.connection_index(sel.layer, sel.i, sel.j)
        if c is not None:
            marks.append((c, theme.qcolor("selection"), 4.0))
    hov = scene.hover
    if isinstance(hov, WeightRef):
        c = lay.connection_index(hov.layer, hov.i, hov.j)
        if c is not None and (not marks or marks[0][0] != c):
            marks.append((c, blend(theme.text, theme.base, 0.6), 2.5))
    for c, color, extra in marks:
        width = float(fr.conn_width[c]) if fr.conn_width is not None else 1.0
        path = connection_path(lay, c)
        pen = QPen(color, width + extra)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.drawPath(path)
        sign = int(fr.conn_color[c]) if fr.conn_color is not None else 0
        inner = QColor(theme.positive if sign > 0 else theme.negative if sign < 0 else theme.muted)
        p.setPen(QPen(inner, max(width, 1.0)))
        p.drawPath(path)


def paint_nodes(p: QPainter, scene: Scene, fr: Frame, theme: Theme) -> None:
    lay = scene.layout
    n = len(lay.node_x)
    if fr.node_image is not None:
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, fr.tile > 1)
        # An SVG (File ▸ Export ▸ Image) draws the whole image whatever the source rectangle,
        # so there each node gets its own tile copied out of the strip.
        whole_images_only = p.paintEngine() is not None and p.paintEngine().type() == QPaintEngine.Type.SVG
        for k in range(n):
            source = QRectF(0, k * fr.tile, fr.tile_width, fr.tile)
            if whole_images_only:
                p.drawImage(QRectF(*lay.node_rect(k)), fr.node_image.copy(source.toRect()))
            else:
                p.drawImage(QRectF(*lay.node_rect(k)), fr.node_image, source)
        if fr.tile == 1:
            if fr.zero_lines is not None:
                p.setPen(QPen(blend(theme.muted, theme.base, 0.7), 0.8, Qt.PenStyle.DashLine))
                p.drawPath(fr.zero_lines)
            p.setPen(QPen(QColor(theme.text), 1.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(fr.curves)
    elif fr.node_fill is not None:
        for k in range(min(n, len(fr.node_fill))):
            p.fillRect(QRectF(*lay.node_rect(k)), fr.node_fill[k])
    else:
        for k in range(n):
            p.fillRect(QRectF(*lay.node_rect(k)), QColor(theme.neutral))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor(theme.node_border), 1.0))
    p.drawPath(scene.border_path)
    p.setPen(QPen(theme.qcolor("grid"), 1.0))
    p.drawPath(scene.bias_tracks)
    p.setPen(Qt.PenStyle.NoPen)
    pos, neg = fr.bias_rects
    if pos:
        p.setBrush(QColor(theme.positive))
        p.drawRects(pos)
    if neg:
        p.setBrush(QColor(theme.negative))
        p.drawRects(neg)


def paint_example_points(p: QPainter, fr: Frame, theme: Theme) -> None:
    """The focused example on every node: a ring in the selection colour (the output view's
    focus ring) over a halo of the background, so it reads on any heatmap colour."""
    points = fr.example_points
    if points is None:
        return
    # One ring stamped at every node: stroking ~150 antialiased circles (as one path or one by
    # one) cost 7–30 ms a frame, a stamped image ~1 ms.
    dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
    stamp = _ring_stamp(theme.base, theme.selection, dpr)
    half = RING_STAMP / 2
    for x, y in points:
        p.drawImage(QRectF(float(x) - half, float(y) - half, RING_STAMP, RING_STAMP), stamp)


RING_STAMP = 10.0  # px: the ring image's size (radius 3.2 + the halo's half width, rounded up)
_ring_stamps: dict[tuple[str, str, float], QImage] = {}


def _ring_stamp(halo: str, ring: str, dpr: float) -> QImage:
    """The example's ring (a ``ring``-coloured circle over a ``halo`` one), drawn once per
    colours and pixel ratio."""
    key = (halo, ring, round(dpr, 2))
    image = _ring_stamps.get(key)
    if image is None:
        size = max(1, int(round(RING_STAMP * dpr)))
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        q = QPainter(image)
        q.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        q.scale(size / RING_STAMP, size / RING_STAMP)
        q.setBrush(Qt.BrushStyle.NoBrush)
        centre = QPointF(RING_STAMP / 2, RING_STAMP / 2)
        for color, width in ((halo, 3.2), (ring, 1.6)):
            q.setPen(QPen(QColor(color), width))
            q.drawEllipse(centre, 3.2, 3.2)
        q.end()
        _ring_stamps[key] = image
    return image


#: The tag a marked neuron carries at its top right corner.
HEALTH_TAGS = {"dead": "dead", "saturated": "sat"}


def paint_health_marks(p: QPainter, fr: Frame, theme: Theme, font: QFont) -> None:
    """Dead neurons: a dashed outline; saturated ones: a dotted outline; each with a small tag
    ("dead", "sat") over its top right corner, so the mark reads without a legend."""
    if not fr.health_marks:
        return
    small = QFont(font)
    small.setPointSizeF(max(6.0, font.pointSizeF() - 2.5))
    fm = QFontMetricsF(small)
    p.setFont(small)
    for rect, kind in fr.health_marks:
        color = QColor(theme.text if kind == "saturated" else theme.muted)
        style = Qt.PenStyle.DotLine if kind == "saturated" else Qt.PenStyle.DashLine
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(color, 1.5, style))
        p.drawRect(rect.adjusted(-3.5, -3.5, 3.5, 3.5))
        tag = HEALTH_TAGS[kind]
        w, h = fm.horizontalAdvance(tag) + 6, fm.height() + 1
        box = QRectF(rect.right() + 4 - w, rect.top() - 4 - h / 2, w, h)
        p.setPen(QPen(color, 1.0))
        p.setBrush(QColor(theme.base))
        p.drawRoundedRect(box, 3, 3)
        p.setPen(QColor(theme.text))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, tag)
    p.setFont(font)


def paint_node_marks(p: QPainter, scene: Scene, theme: Theme) -> None:
    lay = scene.layout
    p.setBrush(Qt.BrushStyle.NoBrush)
    hov = scene.hover
    if isinstance(hov, NeuronRef):
        k = lay.node_index(hov.layer, hov.j)
        if k is not None:
            p.setPen(QPen(QColor(theme.text), 1.5))
            p.drawRect(QRectF(*lay.node_rect(k)).adjusted(-1, -1, 1, 1))
    sel = scene.selection
    if isinstance(sel, NeuronRef):
        k = lay.node_index(sel.layer, sel.j)
        if k is not None:
            p.setPen(QPen(QColor(theme.selection), 3.0))
            bottom = 7.5 if sel.layer > 0 else 2.5  # around the bias bar too (inputs have none)
            p.drawRect(QRectF(*lay.node_rect(k)).adjusted(-2.5, -2.5, 2.5, bottom))
