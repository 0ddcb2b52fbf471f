"""The history scrubber: a slider under the loss plot that shows any earlier step of the run.

Dragging it (or clicking the loss plot) sends :class:`~sandbox.session.commands.Scrub`; the
worker replays the run exactly to that step (see :mod:`sandbox.session.timeline`) and every
view shows it.  The slider's right end is the live end: dropping it there, or "Back to live",
shows the live run again.  While training, the slider sits at the live end and its range
grows.

Model → widget updates (a snapshot moves the slider) are made under a signal blocker, so they
never echo back as scrubs; a drag in progress is never moved under the user's hand.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton, QWidget

from ..session.snapshot import Snapshot
from .controller import SessionController

#: QSlider holds a C int.
_INT_MAX = 2**31 - 1


def position_text(shown: int | None, live: int) -> str:
    """The label beside the slider: "live · 5,000" or "1,234 / 5,000"."""
    if shown is None:
        return f"live · {live:,}"
    return f"{shown:,} / {live:,}"


class HistoryScrubber(QWidget):
    """A slider over the run's steps, a label saying which is shown, and a live-end button.

    Attributes
    ----------
    slider
        Its value is the shown step (the live end when at its maximum).
    label
        "live · 5,000" or "1,234 / 5,000" (the shown step of the live end's).
    live_button
        Back to the live end (enabled while scrubbed back).
    """

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._live_step = 0
        self._shown: int | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 4, 2)
        layout.setSpacing(6)
        title = QLabel("History")
        title.setToolTip("Drag to show the run as it was at any earlier step (or click the loss plot)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self._tip = ("Drag back to show any earlier step exactly: the network, the output and every "
                     "gradient as they were then. The right end is the live run.")
        self.slider.setToolTip(self._tip)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.label = QLabel(position_text(None, 0))
        # A fixed width, widened only when the step count gains a digit: the text changes every
        # frame, and a label in a layout asks the window to relayout on every text change.
        self._fit_label(0)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.label.setToolTip("The step shown / the live end's step")
        self.live_button = QToolButton()
        self.live_button.setText("Live")
        self.live_button.setToolTip("Back to the live end of the run")
        self.live_button.setEnabled(False)
        layout.addWidget(title)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.live_button)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.slider.sliderReleased.connect(self._on_slider_released)
        self.live_button.clicked.connect(controller.return_to_live)
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        if controller.snapshot is not None:
            self._on_controller_snapshot_changed(controller.snapshot)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(240, super().sizeHint().height())

    @property
    def shown_step(self) -> int | None:
        """The step shown, as the last snapshot said (None: the live end)."""
        return self._shown

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        ws = snap.workspace
        if ws is None:
            return
        self._live_step, self._shown = ws.live_step, ws.shown_step
        text = position_text(ws.shown_step, ws.live_step)
        self._fit_label(ws.live_step)
        if text != self.label.text():
            self.label.setText(text)
        self.live_button.setEnabled(ws.shown_step is not None)
        reachable = ws.live_step > ws.first_step
        if self.slider.isEnabled() != reachable:
            # Nothing to go back to yet: a new run, or a session opened at this step (a file
            # keeps the curves of its past, not the states to replay it from).
            self.slider.setEnabled(reachable)
            self.slider.setToolTip(self._tip if reachable else
                                   f"Nothing to go back to yet: this run's history starts at step {ws.first_step:,}. "
                                   "Train, then drag back to any step since.")
        if self.slider.isSliderDown():
            return  # never move the handle under the user's hand
        blocker = QSignalBlocker(self.slider)  # a model → widget update, not a scrub
        self.slider.setRange(min(ws.first_step, _INT_MAX), min(ws.live_step, _INT_MAX))
        self.slider.setValue(min(ws.live_step if ws.shown_step is None else ws.shown_step, _INT_MAX))
        del blocker

    def _fit_label(self, live: int) -> None:
        widest = position_text(int("8" * len(str(max(live, 1000)))), int("8" * len(str(max(live, 1000)))))
        width = self.label.fontMetrics().horizontalAdvance(widest) + 8
        if width > self.label.maximumWidth() or self.label.minimumWidth() != self.label.maximumWidth():
            self.label.setFixedWidth(width)

    def _on_slider_value_changed(self, value: int) -> None:
        # Every value while dragging: the worker only replays for the one it shows next.
        self._controller.scrub(int(value))

    def _on_slider_released(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self._controller.return_to_live()
