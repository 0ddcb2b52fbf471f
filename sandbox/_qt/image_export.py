"""Pictures of the app's views for File ▸ Export ▸ Image: a PNG at a scale factor, or an SVG.

Each view is painted by Qt itself (``QWidget.render`` into a painter), so a PNG at scale 2 is
drawn at twice the resolution, not enlarged, and an SVG comes from Qt's ``QSvgGenerator``
(pyqtgraph's own SVG exporter has an open bug, pyqtgraph#3485).  The bytes are made in memory
and written atomically (:func:`sandbox.session.exports.network.write_bytes`).
"""

from __future__ import annotations

import os
from typing import Callable

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QSize
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from ..session.exports.network import ExportError, write_bytes

#: Scale factors File ▸ Export ▸ Image offers for PNG.
PNG_SCALES = (1, 2, 4)
#: The largest side of an exported image, in pixels (a 4× window is ~10,000 wide at most).
MAX_SIDE = 16_384

#: Paints a picture of ``width`` × ``height`` logical pixels onto the painter.
Painting = Callable[[QPainter, float, float], None]


def widget_painting(widget: QWidget) -> tuple[QSize, Painting]:
    """The size of ``widget`` and a painting of it as it is on screen (children included)."""

    def paint(painter: QPainter, width: float, height: float) -> None:
        size = widget.size()
        painter.scale(width / max(1, size.width()), height / max(1, size.height()))
        # QWidget's own render (a graphics view overrides it to draw its scene only): the
        # widget as it is on screen, children included, through the painter's scale.
        QWidget.render(widget, painter, QPoint())

    return widget.size(), paint


def png_image(size: QSize, paint: Painting, scale: float = 1.0) -> QImage:
    """The painting at ``scale`` times its size (at most :data:`MAX_SIDE` pixels a side)."""
    scale = min(float(scale), MAX_SIDE / max(1, size.width(), size.height()))
    image = QImage(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    try:
        paint(painter, image.width(), image.height())
    finally:
        painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ExportError("the image could not be encoded as PNG")
    buffer.close()
    return bytes(data.data())


def svg_bytes(size: QSize, paint: Painting, title: str) -> bytes:
    """The painting as an SVG document of ``size`` (in pixels)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setResolution(96)  # a pixel of the view is a CSS pixel (1/96 inch)
    generator.setTitle(title)
    generator.setDescription("Exported from Backprop Sandbox")
    painter = QPainter(generator)
    try:
        paint(painter, size.width(), size.height())
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def write_image(path: str | os.PathLike[str], size: QSize, paint: Painting, title: str, scale: float = 1.0) -> None:
    """Write the painting to ``path``: an SVG if its name ends in ``.svg``, else a PNG at
    ``scale``.  Raises :class:`~sandbox.session.exports.network.ExportError` naming the path."""
    if os.fspath(path).lower().endswith(".svg"):
        data = svg_bytes(size, paint, title)
    else:
        try:
            data = png_bytes(png_image(size, paint, scale))
        except ExportError as exc:
            raise ExportError(f"{os.fspath(path)}: {exc}") from None
    write_bytes(path, data)
