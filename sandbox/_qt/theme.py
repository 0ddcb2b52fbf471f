"""Light and dark themes, and the colours every view shares.

Signs are drawn with the Okabe–Ito blue/orange pair, which stays distinguishable under the
common colour-vision deficiencies: blue for positive values, orange for negative (as in
TensorFlow Playground).  Heatmaps use a diverging map from orange through a neutral colour to
blue; classes beyond two use the rest of the Okabe–Ito palette.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

VERMILLION = "#D55E00"
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


@dataclass(frozen=True)
class Theme:
    """Colours of one theme (hex strings)."""

    name: str
    dark: bool
    window: str
    base: str
    text: str
    muted: str
    grid: str
    neutral: str  # the middle of the diverging heatmap
    positive: str
    negative: str
    accent: str
    selection: str
    node_border: str
    point_edge: str
    field: str = "#ffffff"  # text fields, spin boxes, check boxes (the palette's Base)

    def qcolor(self, attr: str, alpha: int = 255) -> QColor:
        c = QColor(getattr(self, attr))
        c.setAlpha(alpha)
        return c


LIGHT = Theme(
    name="light", dark=False, window="#f4f4f6", base="#ffffff", text="#1e1e24", muted="#5f6170",
    grid="#d9dae0", neutral="#f7f7f7", positive="#0072B2", negative="#E69F00", accent="#3b6fd8",
    selection="#c2185b", node_border="#6b6e7d", point_edge="#ffffff",
)
DARK = Theme(
    name="dark", dark=True, window="#202127", base="#17181c", text="#e8e8ee", muted="#a3a6b4",
    grid="#3a3c46", neutral="#2b2c33", positive="#3fa7e8", negative="#f0a830", accent="#7aa2ff",
    selection="#ff5c9a", node_border="#8a8d9c", point_edge="#101014", field="#30323b",
)


def _rgb(hex_color: str) -> np.ndarray:
    c = QColor(hex_color)
    return np.array([c.red(), c.green(), c.blue()], dtype=np.float64)


def diverging_lut(theme: Theme, n: int = 256) -> np.ndarray:
    """(n, 4) uint8 RGBA: negative (orange) → neutral → positive (blue)."""
    t = np.linspace(-1.0, 1.0, n)[:, None]
    neg, mid, pos = _rgb(theme.negative), _rgb(theme.neutral), _rgb(theme.positive)
    rgb = np.where(t < 0, mid + (neg - mid) * (-t), mid + (pos - mid) * t)
    lut = np.empty((n, 4), dtype=np.uint8)
    lut[:, :3] = np.clip(np.round(rgb), 0, 255)
    lut[:, 3] = 255
    return lut


def class_color(k: int, n_classes: int, theme: Theme) -> str:
    """Colour of class k: orange/blue for two classes (0 = negative), Okabe–Ito beyond."""
    if n_classes <= 2:
        return theme.positive if k == 1 else theme.negative
    return OKABE_ITO[k % len(OKABE_ITO)]


def segment_style(theme: Theme, position: str, padding: int) -> str:
    """The style sheet of one button of a segmented control ("first", "mid" or "last"): joined
    borders, rounded ends, the checked one in the accent colour."""
    on_accent = "#101014" if theme.dark else "#ffffff"
    radius = {"first": "border-top-left-radius: 4px; border-bottom-left-radius: 4px;",
              "mid": "border-left: none;",
              "last": "border-top-right-radius: 4px; border-bottom-right-radius: 4px; border-left: none;"}[position]
    return (f"QToolButton {{ background: {theme.window}; color: {theme.text}; border: 1px solid {theme.grid};"
            f" padding: 2px {padding}px; {radius} }}"
            f"QToolButton:hover {{ background: {theme.grid}; }}"
            f"QToolButton:disabled {{ color: {theme.muted}; }}"
            f"QToolButton:checked {{ background: {theme.accent}; color: {on_accent}; border-color: {theme.accent}; }}")


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None:
        return hints.colorScheme() == Qt.ColorScheme.Dark
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def palette_for(theme: Theme) -> QPalette:
    pal = QPalette()
    role = QPalette.ColorRole
    group = QPalette.ColorGroup
    pal.setColor(role.Window, QColor(theme.window))
    pal.setColor(role.WindowText, QColor(theme.text))
    pal.setColor(role.Base, QColor(theme.field))
    pal.setColor(role.AlternateBase, QColor(theme.window))
    pal.setColor(role.ToolTipBase, QColor(theme.base))
    pal.setColor(role.ToolTipText, QColor(theme.text))
    pal.setColor(role.Text, QColor(theme.text))
    pal.setColor(role.Button, QColor(theme.window))
    pal.setColor(role.ButtonText, QColor(theme.text))
    pal.setColor(role.BrightText, QColor("#ff5555"))
    pal.setColor(role.Highlight, QColor(theme.accent))
    pal.setColor(role.HighlightedText, QColor("#ffffff"))
    pal.setColor(role.Link, QColor(theme.accent))
    pal.setColor(role.PlaceholderText, QColor(theme.muted))
    for r in (role.Text, role.WindowText, role.ButtonText):
        pal.setColor(group.Disabled, r, QColor(theme.muted))
    if theme.dark:
        # Fusion draws frames and check-box outlines from these; the defaults suit light themes.
        window = QColor(theme.window)
        pal.setColor(role.Light, window.lighter(160))
        pal.setColor(role.Midlight, window.lighter(130))
        pal.setColor(role.Mid, window.lighter(110))
        pal.setColor(role.Dark, window.darker(150))
        pal.setColor(role.Shadow, QColor("#000000"))
    return pal


class ThemeManager(QObject):
    """Applies a theme to the application; follows the system unless told otherwise.

    Signals
    -------
    themeChanged(Theme)
    """

    themeChanged = Signal(object)
    MODES = ("system", "light", "dark")

    def __init__(self, app: QApplication, mode: str = "system") -> None:
        super().__init__(app)
        self._app = app
        self._mode = mode if mode in self.MODES else "system"
        self._theme = LIGHT
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._on_system_scheme_changed)
        self._apply()

    @property
    def theme(self) -> Theme:
        return self._theme

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"theme must be one of {self.MODES}")
        self._mode = mode
        self._apply()

    def _on_system_scheme_changed(self, *_: object) -> None:
        if self._mode == "system":
            self._apply()

    def _apply(self) -> None:
        dark = system_prefers_dark() if self._mode == "system" else self._mode == "dark"
        self._theme = DARK if dark else LIGHT
        self._app.setStyle("Fusion")
        self._app.setPalette(palette_for(self._theme))
        # Tooltips: room around the text, and the theme's colours (Fusion ignores the palette's).
        t = self._theme
        self._app.setStyleSheet(
            f"QToolTip {{ padding: 4px 6px; color: {t.text}; background: {t.base}; border: 1px solid {t.grid}; }}"
        )
        self.themeChanged.emit(self._theme)
