"""The inspector's building blocks: captions, number labels, titles, columns and rules."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from ..theme import Theme
from .value_editor import mono_font


class LabelFactory:
    """Mixin for the inspector: makes its labels and keeps the themed ones to recolour.

    The class using it sets ``self._muted`` and ``self._separators`` to empty lists first.
    """

    _muted: list[QLabel]
    _separators: list[QFrame]

    def _caption(self, text: str = "", bold: bool = False, wrap: bool = False) -> QLabel:
        label = QLabel(text)
        if bold:
            font = label.font()
            font.setBold(True)
            label.setFont(font)
        label.setWordWrap(wrap)
        self._muted.append(label)
        return label

    @staticmethod
    def _number_label(big: bool = False) -> QLabel:
        label = QLabel("—")
        font = mono_font()
        if big:
            font.setPointSizeF(font.pointSizeF() * 1.25)
            font.setBold(True)
        label.setFont(font)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    @staticmethod
    def _title_label() -> QLabel:
        label = QLabel()
        font = label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        label.setFont(font)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    @staticmethod
    def _column() -> tuple[QWidget, QVBoxLayout]:
        widget = QWidget()
        layout = QVBoxLayout(widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        return widget, layout

    def _separator(self) -> QFrame:
        # A plain 1-px rule in the theme's grid colour (Fusion's sunken line glares in dark).
        line = QFrame()
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Plain)
        line.setLineWidth(1)
        self._separators.append(line)
        return line

    def _recolour(self, theme: Theme) -> None:
        for label in self._muted:
            palette = label.palette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(theme.muted))
            label.setPalette(palette)
        for line in self._separators:
            palette = line.palette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(theme.grid))
            line.setPalette(palette)
