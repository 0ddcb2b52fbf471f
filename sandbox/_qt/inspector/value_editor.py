"""The inspector's value editor: a spin box for exact values and a slider for dragging."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QLocale, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QValidator
from PySide6.QtWidgets import QApplication, QDoubleSpinBox, QGridLayout, QLabel, QSlider, QWidget
from superqt.utils import QSignalThrottler

from ...formatting import format_number
from ...session.scoring import FLOAT_MAX
from ..input_refusal import clear_refusal, refusal, show_refusal

#: The weight and bias slider's integer range; the middle is the value it was centred on.
SLIDER_STEPS = 1000
SLIDER_MID = SLIDER_STEPS // 2
#: Live edits while dragging a slider are sent at most this often (ms): ~30 Hz.
DRAG_INTERVAL_MS = 33


def mono_font() -> QFont:
    """The system's fixed-pitch font: digits keep their places while values change."""
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


def _is_typing(spin: QDoubleSpinBox) -> bool:
    """True while the user has typed into ``spin`` and not committed it yet.

    A focused spin box whose text the user has not touched keeps following the snapshots
    (Qt keeps its cursor and selection), so a spin box that merely got the focus, e.g. the
    first one in the window, does not freeze; one with typed text is never overwritten.
    """
    focus = QApplication.focusWidget()
    focused = focus is not None and (focus is spin or spin.isAncestorOf(focus))
    return focused and spin.lineEdit().isModified()


class NumberSpinBox(QDoubleSpinBox):
    """A spin box for any real parameter.

    Up to 8 decimals for ordinary values, scientific notation beyond a million (a diverged
    weight can be 1e133: it must show as that, not as a clamped limit) and below 1e-4 (1e-9
    must not show as 0), and typed input in either form.  The value itself is kept to every
    digit a double has (Qt rounds a spin box's value to its ``decimals``; 323 is Qt's largest,
    so a typed 1e-9 stays 1e-9 instead of silently becoming 0).  Every finite double is accepted; text that is not one (``1e309``, ``1e``)
    is refused visibly on Enter (see :mod:`..input_refusal`), never silently put back.
    """

    #: Any finite double: 1e308 typed is a value like any other.
    LIMIT = FLOAT_MAX

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The C locale: "." always, no group separators, so what we show is what we parse.
        locale = QLocale.c()
        locale.setNumberOptions(QLocale.NumberOption.OmitGroupSeparator)
        self.setLocale(locale)
        self.setDecimals(323)  # Qt's largest: no rounding of what is typed (see the class)
        self.setRange(-self.LIMIT, self.LIMIT)
        self.setSingleStep(0.01)
        # Typing must not send every keystroke: the value commits on Enter or focus loss.
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.setFont(mono_font())
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        if abs(value) >= 1e6 or 0 < abs(value) < 1e-4:
            return f"{value:.6g}"
        text = f"{value:.8f}".rstrip("0")
        return text + "0" if text.endswith(".") else text

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt override)
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: N802 (Qt override)
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            # "", "-", "1e", "1e-" … on the way to a number.
            ok = all(c in "0123456789.eE+-" for c in stripped)
            state = QValidator.State.Intermediate if ok else QValidator.State.Invalid
            return state, text, pos
        if not math.isfinite(value) or abs(value) > self.LIMIT:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        # The default hint is the width of the widest value, 300 digits here.
        hint = super().sizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("-0.00000000000") + 40),
                     hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(120, super().minimumSizeHint().height())

    def refusal(self) -> str:
        """Why the typed text was refused ("" unless the box shows refused text)."""
        return refusal(self)

    def _refuse_typed_text(self) -> bool:
        """Refuse the typed text visibly if it is no finite double; True if it was refused."""
        text = self.lineEdit().text().strip()
        if self.validate(text, 0)[0] == QValidator.State.Acceptable:
            return False
        shown = text if len(text) <= 40 else text[:40] + "…"
        show_refusal(self, f"“{shown}” refused: type a finite number (|x| ≤ {FLOAT_MAX:.4g}); "
                           f"the value stays {self.textFromValue(self.value())}. Escape puts it back.")
        return True

    def event(self, event) -> bool:  # noqa: N802 (Qt override)
        # Escape is also the window's "back to the training set" key: while typing here it
        # abandons the typing instead (claimed before the window's shortcut sees it).
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            # Escape abandons what was typed: show the current value again and let go.
            clear_refusal(self)
            self.setValue(self.value())
            self.lineEdit().setText(self.textFromValue(self.value()))
            self.clearFocus()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._refuse_typed_text():
            # Qt would put the last value back without a word: keep the text, say why.
            return
        if event.text():
            clear_refusal(self)  # typing again: the old reason no longer applies
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802 (Qt override)
        # Leaving with text that is no number: Qt puts the last value back, so say so.
        self._refuse_typed_text()
        super().focusOutEvent(event)


class ValueEditor(QWidget):
    """A spin box for exact values and a slider around the current value for dragging.

    The slider spans ``centre ± max(1, 2|centre|)`` and re-centres on release (and whenever
    a snapshot brings a new value while it is not being dragged), so it can reach any value
    in a few drags.  Dragging sends edits live, throttled to about 30 Hz.

    Signals
    -------
    valueEdited(float)
        The user set a new value (spin box committed, or slider moved).
    """

    valueEdited = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spin = NumberSpinBox()
        self.spin.setMinimumWidth(120)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setSingleStep(5)
        self.slider.setPageStep(50)
        self.slider.setValue(SLIDER_MID)
        self.low_label = QLabel()
        self.high_label = QLabel()
        self.high_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        small = mono_font()
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.85))
        for label in (self.low_label, self.high_label):
            label.setFont(small)

        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(4)
        layout.setVerticalSpacing(2)
        layout.addWidget(self.spin, 0, 0, 1, 2)
        layout.addWidget(self.slider, 1, 0, 1, 2)
        layout.addWidget(self.low_label, 2, 0)
        layout.addWidget(self.high_label, 2, 1)

        self._value = 0.0  # the engine's value, as last synced
        self._shown = self.spin.value()  # what the spin box shows (rounded), to detect edits
        self._centre = 0.0
        self._half = 1.0
        self._dragging = False
        self._pending: float | None = None
        self._throttle = QSignalThrottler(parent=self)
        self._throttle.setTimeout(DRAG_INTERVAL_MS)
        self._throttle.triggered.connect(self._on_throttle_triggered)

        self.spin.valueChanged.connect(self._on_spin_value_changed)
        self.spin.editingFinished.connect(self._on_spin_editing_finished)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.slider.sliderPressed.connect(self._on_slider_pressed)
        self.slider.sliderReleased.connect(self._on_slider_released)
        self._recentre(0.0)

    # ------------------------------------------------------------------ from snapshots

    def set_value(self, value: float, force: bool = False) -> None:
        """Show the engine's value; widgets the user is working with are left alone unless
        ``force`` (a different parameter was selected)."""
        self._value = float(value)
        if force:
            clear_refusal(self.spin)  # another parameter: the refused text was for the last one
        if not force and self._dragging:
            return  # the spin box shows the dragged value; the slider is in the user's hand
        if force or not _is_typing(self.spin):
            with QSignalBlocker(self.spin):
                self.spin.setValue(self._value)
            self._shown = self.spin.value()
        self._recentre(self._value)

    def cancel(self) -> None:
        """Drop a throttled edit not sent yet (the selection is about to change)."""
        self._pending = None
        self._throttle.cancel()
        self._dragging = False

    # ----------------------------------------------------------------------- slider

    def _recentre(self, value: float) -> None:
        self._centre = value if math.isfinite(value) else 0.0
        # 2|w| overflows to inf for |w| > 9e307: the half-width stops at the largest double.
        self._half = min(max(1.0, 2.0 * abs(self._centre)), FLOAT_MAX)
        with QSignalBlocker(self.slider):
            self.slider.setValue(SLIDER_MID)
        self.low_label.setText(format_number(self.slider_value(0), 6, signed=True))
        self.high_label.setText(format_number(self.slider_value(SLIDER_STEPS), 6, signed=True))

    def slider_value(self, position: int) -> float:
        """The parameter value at slider position ``position``: always a finite double.

        ``centre ± half`` passes the largest double when |centre| > 6e307; the slider's end
        then saturates at ±the largest double instead of asking the engine for inf.
        """
        value = self._centre + (position - SLIDER_MID) / SLIDER_MID * self._half
        return min(max(value, -FLOAT_MAX), FLOAT_MAX)

    def _on_slider_value_changed(self, position: int) -> None:
        value = self.slider_value(position)
        if not _is_typing(self.spin):
            with QSignalBlocker(self.spin):
                self.spin.setValue(value)
            self._shown = self.spin.value()
        self._pending = value
        self._throttle.throttle()  # leading edge: the first move is sent at once

    def _on_slider_pressed(self) -> None:
        self._dragging = True

    def _on_slider_released(self) -> None:
        self._dragging = False
        self._throttle.flush()
        self._recentre(self.slider_value(self.slider.value()))

    def _on_throttle_triggered(self) -> None:
        if self._pending is not None:
            value, self._pending = self._pending, None
            self.valueEdited.emit(value)

    # -------------------------------------------------------------------------- spin

    def _on_spin_value_changed(self, _value: float) -> None:
        # With keyboard tracking off this fires on Enter, focus loss and the step arrows only.
        self._commit_spin()

    def _on_spin_editing_finished(self) -> None:
        committed = self._commit_spin()
        if self.spin.hasFocus():
            # Enter ends the edit: let go of the keyboard so the window's shortcuts (Space,
            # →, Alt+→) work again.  Losing the focus ends up here once more, unfocused.
            self.spin.clearFocus()
        elif not committed:
            # Focus left without a change: catch up with what training did meanwhile.
            self.set_value(self._value)

    def _commit_spin(self) -> bool:
        value = self.spin.value()
        clear_refusal(self.spin)
        if value == self._shown:
            return False
        self._shown = value
        self._value = value  # what the engine will hold once the edit is applied
        self._recentre(value)
        self.valueEdited.emit(value)
        return True
