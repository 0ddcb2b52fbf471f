"""A labelled vertical line at one step of a plot: where the loss began to rise before a
divergence (the loss plot and the gradient-health plot both mark it)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from .theme import Theme

#: The label the divergence mark carries.
RISE_LABEL = "loss began to rise"


class StepMark:
    """A dashed vertical line with a label, hidden until :meth:`set_step` places it.

    The line stays after the stop is lifted (it explains the history drawn), and goes when the
    history no longer reaches its step (a reset or another run): see :meth:`follow`.
    """

    def __init__(self, plot: pg.PlotItem, label: str = RISE_LABEL) -> None:
        self.step: int | None = None
        self.line = pg.InfiniteLine(angle=90, movable=False, label=label,
                                    labelOpts={"position": 0.92, "anchors": [(0, 0.5), (0, 0.5)]})
        self.line.setZValue(15)
        self.line.setVisible(False)
        plot.addItem(self.line, ignoreBounds=True)

    def set_step(self, step: int | None) -> None:
        self.step = step
        if step is not None:
            self.line.setPos(step)
        self.line.setVisible(step is not None)

    def follow(self, last_step: float | None) -> None:
        """Drop the mark once the history (ending at ``last_step``, None if empty) no longer
        reaches it."""
        if self.step is not None and (last_step is None or last_step < self.step):
            self.set_step(None)

    def apply_theme(self, theme: Theme) -> None:
        self.line.setPen(pg.mkPen(theme.negative, width=1.5, style=Qt.PenStyle.DashLine))
        self.line.label.setColor(theme.negative)


#: The label of the line at the step the history scrubber shows.
SHOWN_LABEL = "shown"


class ShownStepMark(StepMark):
    """A solid line at the step shown while scrubbed back (the view state's time cursor);
    hidden at the live end."""

    def __init__(self, plot: pg.PlotItem, label: str = SHOWN_LABEL) -> None:
        super().__init__(plot, label)
        self.line.setZValue(16)
        self.line.label.setPosition(0.08)

    def follow(self, last_step: float | None) -> None:  # the cursor is set, never dropped
        pass

    def apply_theme(self, theme: Theme) -> None:
        self.line.setPen(pg.mkPen(theme.selection, width=2))
        self.line.label.setColor(theme.selection)
