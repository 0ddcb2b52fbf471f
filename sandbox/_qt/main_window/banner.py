"""The message strip above the canvas, and the advice it gives after a divergence."""

from __future__ import annotations

import itertools

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...analysis.divergence import DivergenceExplanation, explain_divergence
from ...formatting import format_number
from ...session import commands as cmd
from ...session.history import update_ratio_columns
from ...session.snapshot import Snapshot
from ..controller import SessionController
from ..names import weight_layer_label
from ..theme import ThemeManager

#: Above this the kept weights rarely recover: resetting them is offered first.
HUGE_WEIGHT = 1e6


class Banner(QFrame):
    """A message strip with action buttons under it, shown above the canvas."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 6, 6, 6)
        outer.setSpacing(4)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.label)
        self._layout = QHBoxLayout()
        self._layout.setSpacing(6)
        outer.addLayout(self._layout)
        self._buttons: list[QPushButton] = []
        self._layout.addStretch(1)
        self.close_button = QPushButton("Dismiss", self)
        self.close_button.clicked.connect(self.hide)
        self._layout.addWidget(self.close_button)
        self.hide()

    def show_message(self, text: str, actions: list[tuple[str, object]] = (), style: str = "") -> None:
        for button in self._buttons:
            button.deleteLater()
        self._buttons = []
        self.label.setText(text)
        for k, (label, slot) in enumerate(actions):
            button = QPushButton(label, self)
            button.clicked.connect(slot)
            self._layout.insertWidget(k, button)
            self._buttons.append(button)
        self.setStyleSheet(f"QFrame#{self.objectName()} {{ {style} }}")
        self.show()

    @property
    def buttons(self) -> list[QPushButton]:
        return list(self._buttons)


class DivergenceAdvice(QObject):
    """Explains a divergence in the banner and offers a lower learning rate, once the worker
    has checked that the rate trains a few steps without diverging again
    (:class:`~sandbox.session.commands.SuggestLearningRate`).

    Signals
    -------
    applied(str)
        A suggestion was taken; the status-bar text saying what happened.
    """

    applied = Signal(str)

    _requests = itertools.count(1)

    def __init__(self, controller: SessionController, banner: Banner, themes: ThemeManager) -> None:
        super().__init__(banner)
        self._controller = controller
        self._banner = banner
        self._themes = themes
        self._pending: dict[int, bool] = {}  # request → from_reset
        self._rates: dict[bool, float | None] = {}
        self._snapshot: Snapshot | None = None
        #: What the history says about the last divergence shown (None before one, or when
        #: the first step already diverged).
        self.explanation: DivergenceExplanation | None = None
        controller.resultReady.connect(self._on_controller_result_ready)

    def show(self, snap: Snapshot) -> None:
        """A new divergence: explain it, and ask the worker for checked learning rates."""
        self._snapshot = snap
        steps = self._controller.history.steps  # the rows up to this snapshot, applied already
        self.explanation = explain_divergence(
            steps.steps, steps.column("loss"), [steps.column(c) for c in update_ratio_columns(snap.n_layers)])
        self._rates = {}
        self._pending = {}
        for from_reset in (False, True):
            request = next(self._requests)
            self._pending[request] = from_reset
            self._controller.send(cmd.SuggestLearningRate(from_reset, request))
        self._render()

    def restyle(self) -> None:
        if self._snapshot is not None and self._banner.isVisible():
            self._render()

    def _on_controller_result_ready(self, command: object, value: object) -> None:
        if not isinstance(command, cmd.SuggestLearningRate) or command.request not in self._pending:
            return
        from_reset = self._pending.pop(command.request)
        self._rates[from_reset] = value  # type: ignore[assignment]
        self._render()

    def _render(self) -> None:
        snap = self._snapshot
        if snap is None or snap.divergence is None:
            return
        text = snap.divergence.message + explanation_text(self.explanation)
        largest = max((float(np.abs(w).max()) for w in snap.weights if w.size), default=0.0)
        huge = largest > HUGE_WEIGHT
        if huge:
            text += (f" The kept weights are huge (|w| up to {format_number(largest)}); resetting them "
                     "is probably needed.")
        actions: list[tuple[str, object]] = []
        if self._pending:
            text += " Checking which lower learning rate trains without diverging…"
        else:
            keep, reset = self._rates.get(False), self._rates.get(True)
            lower_only = (keep is not None and
                          (f"Lower learning rate to {format_number(keep)}", lambda: self._apply(keep, reset=False)))
            lower_reset = (reset is not None and
                           (f"Lower to {format_number(reset)} and reset weights", lambda: self._apply(reset, reset=True)))
            ordered = [lower_reset, lower_only] if huge or keep is None else [lower_only, lower_reset]
            actions = [a for a in ordered if a]
            if not actions:
                text += " No lower learning rate trains from here without diverging; check the data and the network."
            elif keep is None:
                text += " Continuing from the kept weights diverges even at a much lower rate."
        theme = self._themes.theme
        self._banner.show_message(
            text, actions,
            style=f"background: {_rgba(theme.negative, 0.18)}; border: 1px solid {theme.negative}; "
                  "border-radius: 4px;",
        )

    def _apply(self, value: float, reset: bool) -> None:
        self._controller.set_hyperparameters(learning_rate=value)
        if reset:
            self._controller.reset()
        self._banner.hide()
        self._snapshot = None
        done = "and the weights reset" if reset else "(the weights are the last finite ones)"
        self.applied.emit(f"Learning rate set to {format_number(value)} {done}. Press Space to continue.")


def explanation_text(e: DivergenceExplanation | None) -> str:
    """The banner's sentences on when the loss began to rise and which layer overshot ("" with
    no history to explain from)."""
    if e is None:
        return ""
    if e.rise_step == e.last_step:
        text = f" The mini-batch loss rose at step {e.rise_step:,} ({format_number(e.last_loss)})."
    else:
        text = (f" The mini-batch loss began to rise steadily at step {e.rise_step:,} "
                f"({format_number(e.rise_loss)}; {format_number(e.last_loss)} by step {e.last_step:,}).")
    if e.layer is not None:
        text += (f" The update that overshot most was layer {e.layer + 1}'s ({weight_layer_label(e.layer)}) "
                 f"at step {e.ratio_step:,}: ‖ΔW‖/‖W‖ = {format_number(e.ratio)}, where healthy steps "
                 "are near 0.001")
        if e.first_above_one is not None:
            text += f"; its steps outgrew the weights themselves (ratio above 1) from step {e.first_above_one:,}"
        text += "."
    return text


def _rgba(hex_color: str, alpha: float) -> str:
    """A style-sheet colour with transparency (8-digit hex would read as #AARRGGBB)."""
    c = QColor(hex_color)
    return f"rgba({c.red()}, {c.green()}, {c.blue()}, {alpha})"
