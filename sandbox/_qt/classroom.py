"""Classroom mode (View ▸ Classroom Mode): fewer controls and larger text, for a projector.

As TensorFlow Playground's ``hide`` options do, it hides the controls a demonstration does not
need; the teacher chooses which in View ▸ Classroom Mode Hides (the controls' sections, the
inspector, the blame ranking, the lessons panel, the toolbar's speed box).  It also enlarges
the application font by :data:`FONT_SCALE`.  Leaving it puts back exactly the font that was set
and shows again what it hid.  Whether it is on and what it hides are remembered in the settings
(:mod:`sandbox._qt.app_settings`); the docks it hid are remembered too, so a window that starts
in classroom mode (its saved layout has them hidden) still shows them when it is left.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import QApplication, QGroupBox, QWidget

from .app_settings import classroom_enabled, classroom_hid_docks, classroom_hidden, set_classroom

#: How much larger the text gets.
FONT_SCALE = 1.35
#: What classroom mode can hide: key → menu text.
HIDEABLE = {
    "data": "Controls: &Data",
    "features": "Controls: &Features",
    "network": "Controls: &Network",
    "training": "Controls: &Training",
    "inspector": "&Inspector",
    "blame": "&Blame ranking",
    "lessons": "&Lessons panel",
    "speed": "Toolbar &speed box",
}
#: The controls panel's sections, by their group titles.
SECTIONS = {"data": "Data", "features": "Features", "network": "Network", "training": "Training"}
#: What it hides until the teacher chooses otherwise.
DEFAULT_HIDDEN = ("inspector", "blame", "speed")


def scaled(font: QFont, scale: float) -> QFont:
    """A copy of ``font`` ``scale`` times as large (in points, or pixels if it has no point size)."""
    big = QFont(font)
    if font.pointSizeF() > 0:
        big.setPointSizeF(font.pointSizeF() * scale)
    else:
        big.setPixelSize(max(1, round(font.pixelSize() * scale)))
    return big


def _set_app_font(app: QApplication, font: QFont) -> None:
    """Set the application font so that every widget follows it.  With an application style
    sheet (the theme's tooltips) Qt keeps the widgets' old fonts until the sheet is applied
    again, so it is."""
    app.setFont(font)
    sheet = app.styleSheet()
    if sheet:
        app.setStyleSheet(sheet)


class ClassroomMode(QObject):
    """Classroom mode of a MainWindow: :meth:`set_enabled`, :meth:`set_hidden`.

    Signals
    -------
    enabledChanged(bool)
    """

    enabledChanged = Signal(bool)

    def __init__(self, window) -> None:
        super().__init__(window)
        self._window = window
        self.enabled = False
        self.hidden: set[str] = {key for key in classroom_hidden(DEFAULT_HIDDEN) if key in HIDEABLE}
        #: The app font before classroom mode enlarged it (None while off).
        self._font_before: QFont | None = None
        #: Docks that classroom mode hid (they were visible), by object name.
        self._hid_docks: set[str] = set()
        #: The plots' axes it enlarged, with their tick and label fonts before.
        self._axes_before: list[tuple[pg.AxisItem, QFont | None, QFont]] = []

    # ------------------------------------------------------------------------ the targets

    def _docks(self) -> dict:
        w = self._window
        return {"inspector": w.inspector_dock, "blame": w.blame_dock, "lessons": w.lessons_dock}

    def _sections(self) -> dict[str, QWidget]:
        titles = {group.title(): group for group in self._window.controls.findChildren(QGroupBox)
                  if group.parent() is self._window.controls._content}
        return {key: titles[title] for key, title in SECTIONS.items() if title in titles}

    def _speed_action(self) -> QAction | None:
        bar = self._window.training_bar
        for action in bar.actions():
            if bar.widgetForAction(action) is bar.speed_combo:
                return action
        return None

    # ------------------------------------------------------------------------- switching

    def set_enabled(self, on: bool, remember: bool = True) -> None:
        """Enter or leave classroom mode (``remember``: store the choice in the settings)."""
        on = bool(on)
        if on == self.enabled:
            return
        app = QApplication.instance()
        if on:
            self._font_before = QFont(app.font())
            _set_app_font(app, scaled(self._font_before, FONT_SCALE))
            self._enlarge_axes()
            self.enabled = True
            self._apply()
            self._widen_controls()
        else:
            self.enabled = False
            self._apply()
            if self._font_before is not None:
                _set_app_font(app, self._font_before)
            self._font_before = None
            self._restore_axes()
            self._restore_controls()
        if remember:
            self._remember()
        self.enabledChanged.emit(self.enabled)

    def set_hidden(self, key: str, hide: bool) -> None:
        """Choose whether classroom mode hides ``key`` (one of :data:`HIDEABLE`); applies at once
        while it is on."""
        if key not in HIDEABLE:
            raise ValueError(f"classroom mode cannot hide {key!r}")
        if hide:
            self.hidden.add(key)
        else:
            self.hidden.discard(key)
        if self.enabled:
            self._apply()
        self._remember()

    def _apply(self) -> None:
        """Hide what is chosen while on; show again what classroom mode hid."""
        for key, dock in self._docks().items():
            name = dock.objectName()
            if self.enabled and key in self.hidden:
                if dock.toggleViewAction().isChecked() or name in self._hid_docks:
                    self._hid_docks.add(name)
                    dock.hide()
            elif name in self._hid_docks:
                self._hid_docks.discard(name)
                dock.show()
        for key, section in self._sections().items():
            section.setVisible(not (self.enabled and key in self.hidden))
        speed = self._speed_action()
        if speed is not None:
            speed.setVisible(not (self.enabled and "speed" in self.hidden))

    def _widen_controls(self) -> None:
        """The controls dock grows with the font, so its labels and boxes are not cut off
        (at most 40 % of the window)."""
        dock = self._window.controls_dock
        self._controls_width = dock.width()
        wanted = min(int(self._controls_width * FONT_SCALE), int(self._window.width() * 0.4))
        self._window.resizeDocks([dock], [wanted], Qt.Orientation.Horizontal)

    def _restore_controls(self) -> None:
        width = getattr(self, "_controls_width", None)
        if width:
            self._window.resizeDocks([self._window.controls_dock], [width], Qt.Orientation.Horizontal)
        self._controls_width = None

    def _enlarge_axes(self) -> None:
        """The plots set their tick fonts once, from the font they were made with: scale them."""
        self._axes_before = []
        for view in self._window.findChildren(pg.GraphicsView):
            for item in view.items():
                if isinstance(item, pg.AxisItem):
                    tick = item.style.get("tickFont")
                    label = QFont(item.label.font())
                    self._axes_before.append((item, None if tick is None else QFont(tick), label))
                    item.setStyle(tickFont=scaled(tick if tick is not None else item.font(), FONT_SCALE))
                    item.label.setFont(scaled(label, FONT_SCALE))

    def _restore_axes(self) -> None:
        for axis, tick, label in self._axes_before:
            axis.setStyle(tickFont=tick)
            axis.label.setFont(label)
        self._axes_before = []

    def _remember(self) -> None:
        set_classroom(self.enabled, tuple(sorted(self.hidden)), tuple(sorted(self._hid_docks)))

    def restore_from_settings(self) -> None:
        """Start in classroom mode if it was on when the app last closed."""
        if classroom_enabled():
            self._hid_docks = set(classroom_hid_docks())
            self.set_enabled(True)


def build_classroom_menu(window, view_menu) -> None:
    """Add View ▸ Classroom Mode and View ▸ Classroom Mode Hides to ``window`` (a MainWindow),
    which keeps ``classroom``, ``classroom_action`` and ``classroom_hide_actions``."""
    window.classroom = classroom = ClassroomMode(window)
    act = view_menu.addAction("Classroom &Mode")
    act.setCheckable(True)
    act.setToolTip(f"Hide the chosen controls and make the text {FONT_SCALE:g}× larger, for a projector")
    act.toggled.connect(classroom.set_enabled)
    classroom.enabledChanged.connect(act.setChecked)
    window.classroom_action = act
    menu = view_menu.addMenu("Classroom Mode &Hides")
    window.classroom_hide_actions = {}
    for key, text in HIDEABLE.items():
        item = menu.addAction(text)
        item.setCheckable(True)
        item.setChecked(key in classroom.hidden)
        item.toggled.connect(lambda on, k=key: classroom.set_hidden(k, on))
        window.classroom_hide_actions[key] = item
    if window.persist_settings:
        # After the window has restored its saved layout (the end of its __init__).
        QTimer.singleShot(0, classroom.restore_from_settings)
