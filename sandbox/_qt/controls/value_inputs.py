"""The controls' value inputs and shared settings: rate combos, the batch spin box, presets."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRegularExpression, QSignalBlocker, Signal
from PySide6.QtGui import QRegularExpressionValidator, QValidator
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QSpinBox,
    QWidget,
)

from ...engine import ACTIVATIONS
from ...session.config import MAX_HIDDEN_LAYERS, MAX_LAYER_WIDTH
from ...session.datasets import REGRESSION
from ..input_refusal import clear_refusal, refusal, show_refusal

LEARNING_RATES = ("0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10")
REGULARIZATION_RATES = ("0", "0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1")
#: Limits of the +/− buttons: the app's own (sandbox/session/config.py), so the controls never
#: offer a network the run would refuse.
MAX_UI_LAYERS = MAX_HIDDEN_LAYERS
MAX_UI_NEURONS = MAX_LAYER_WIDTH
BUTTON_SIZE = 20  # the layer rows' − and + buttons
MAX_SEED = 2**31 - 1  # QSpinBox is 32-bit
#: Data spin boxes send after this pause (ms): holding an arrow key must not rebuild the run 30×/s.
DATA_DEBOUNCE_MS = 200

RESETS = "Changing this starts a fresh network (new initial weights)."
KEEPS = "Takes effect from the next step; the network keeps its weights."


def format_rate(value: float) -> str:
    """A rate as Playground shows it: positional, no exponent, no trailing zeros (1e-05 → 0.00001)."""
    return np.format_float_positional(float(value), trim="-")


def output_choices(task: str) -> tuple[str, ...]:
    """Output activations that can fit the task (regression cannot use softmax)."""
    return tuple(a for a in ACTIVATIONS if not (task == REGRESSION and a == "softmax"))


def loss_choices(task: str, output_activation: str) -> tuple[str, ...]:
    """Losses valid after ``output_activation``: bce needs sigmoid, cross_entropy softmax."""
    if task == REGRESSION:
        return ("mse",)
    return {"sigmoid": ("bce", "mse"), "softmax": ("cross_entropy", "mse")}.get(output_activation, ("mse",))


def is_editing(widget: QWidget) -> bool:
    """True while ``widget`` (or its line edit) holds the keyboard focus."""
    focus = QApplication.focusWidget()
    return focus is not None and (focus is widget or widget.isAncestorOf(focus))


class BatchSpinBox(QSpinBox):
    """Batch size 1 … n_train, where the maximum reads "all" (the whole training set)."""

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt override)
        return "all" if value == self.maximum() else str(value)

    def valueFromText(self, text: str) -> int:  # noqa: N802
        text = text.strip().lower()
        if text.startswith("a"):
            return self.maximum()
        try:
            return int(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        lowered = text.strip().lower()
        if lowered and "all".startswith(lowered):
            state = QValidator.State.Acceptable if lowered == "all" else QValidator.State.Intermediate
            return state, text, pos
        return super().validate(text, pos)


class RateCombo(QComboBox):
    """An editable combo of preset rates that also accepts any typed number in range.

    Signals
    -------
    valueCommitted(float)
        The user picked a preset or typed a valid number and pressed Enter (or left the field).
    """

    valueCommitted = Signal(float)

    def __init__(
        self, presets: tuple[str, ...], what: str, low: float, high: float, low_open: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._what, self._low, self._high, self._low_open = what, low, high, low_open
        self._value: float | None = None
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.addItems(list(presets))
        # No inline completion: typing "0.0" and Enter must mean 0.0, not the preset 0.00001.
        self.setCompleter(None)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(7)
        # An optional sign, digits, one point, an optional exponent: letters cannot be typed.
        # The sign is allowed so that "-1" stays "-1" and is refused visibly: without it the
        # validator dropped the "-" and "-1" became 1.
        pattern = QRegularExpression(r"[-+]?[0-9]*\.?[0-9]*([eE][-+]?[0-9]*)?")
        self.lineEdit().setValidator(QRegularExpressionValidator(pattern, self))
        self.lineEdit().editingFinished.connect(self._on_line_edit_editing_finished)
        self.lineEdit().textEdited.connect(self._on_line_edit_text_edited)
        release_focus_on_enter(self.lineEdit())
        self.activated.connect(self._on_self_activated)

    def value(self) -> float | None:
        return self._value

    def refusal(self) -> str:
        """Why the typed text was refused ("" unless the field shows refused text)."""
        return refusal(self)

    def set_value(self, value: float) -> None:
        """Show ``value`` (from a snapshot) unless the user is typing here or the field shows
        refused text (which stays until the user types again or picks a preset)."""
        self._value = float(value)
        if not is_editing(self) and not self.refusal():
            with QSignalBlocker(self):
                self.setEditText(format_rate(value))

    def _on_self_activated(self, _index: int) -> None:
        self._commit()

    def _on_line_edit_editing_finished(self) -> None:
        self._commit()

    def _on_line_edit_text_edited(self, _text: str) -> None:
        clear_refusal(self)  # typing again: the old reason no longer applies

    def _commit(self) -> None:
        text = self.currentText().strip()
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        too_low = value <= self._low if self._low_open else value < self._low
        if not math.isfinite(value) or too_low or value > self._high:
            # Refused visibly: the typed text stays, framed, with the reason and what holds.
            bound = ">" if self._low_open else "≥"
            kept = f" The {self._what} stays {format_rate(self._value)}." if self._value is not None else ""
            show_refusal(self, f"“{text}” refused: the {self._what} must be a number {bound} "
                               f"{self._low:g} and ≤ {self._high:g}.{kept}")
            return
        clear_refusal(self)
        with QSignalBlocker(self):
            self.setEditText(format_rate(value))
        if value != self._value:
            self._value = value
            self.valueCommitted.emit(value)


def release_focus_on_enter(widget: QWidget) -> None:
    """Enter in ``widget`` (a spin box or line edit) ends the edit and lets go of the keyboard,
    so the window's shortcuts (Space, →, Alt+→) work again; focus loss ends it too."""
    def release() -> None:
        if widget.hasFocus():
            widget.clearFocus()
    widget.editingFinished.connect(release)
