"""Phase stepping, shown: the canvas overlay that animates a phase the user just stepped, the
values it leaves on the neurons, and the caption line that says what the phase did.

What each phase did comes from :mod:`sandbox.analysis.phase_steps` (a
:class:`~sandbox.analysis.phase_steps.PhaseStep`); this module only draws it:

* **forward**: a wave runs left to right; each column lights up as it passes and its neurons
  show their activation a.
* **backward**: the wave runs right to left; behind it the connections are already drawn by
  ∂J/∂w (the new frame), ahead of it still by w (the frame before), and the neurons show δ.
* **update**: the connections fade from ∂J/∂w to the Δw each one changed by, and the weights
  that changed most carry their Δw.

The animation takes ``DURATION_MS`` (under a second), runs only when a phase was stepped by hand
(never while playing), repaints only the canvas's one item (no layout), and ends at once when
another snapshot arrives, so it never holds training back.  It can be switched off
(:attr:`PhaseOverlay.enabled`); the values and the caption stay either way.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
from PySide6.QtCore import QEasingCurve, QObject, QRectF, Qt, QVariantAnimation, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget
from superqt import QElidingLabel

from ...analysis.phase_steps import PhaseStep, describe_phase, stepped_phase
from ...formatting import format_number
from ...session.naming import NeuronRef, WeightRef
from ...session.snapshot import Snapshot
from ...viewstate import DataSource, ViewState
from ..theme import Theme
from .frame import Frame, blend
from .hit_testing import clearest_point
from .layout import Layout
from .painting import Scene

#: The whole animation, ms (the brief: under a second).
DURATION_MS = 800
#: The caption when no phase has been stepped.
HINT = "Alt+→ steps one phase (forward, backward, update); this line then says what it did."

PaintNetwork = Callable[[QPainter, Scene, Frame], None]


def caption_label(parent: QWidget) -> QElidingLabel:
    """The line under the network.  Fixed height and always there (a hint when nothing was
    stepped), so new text never lays the canvas out again."""
    label = QElidingLabel(HINT, parent)
    label.setObjectName("phaseCaption")
    label.setContentsMargins(8, 2, 8, 3)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    label.setFixedHeight(label.fontMetrics().height() + 6)
    label.setToolTip(HINT)
    return label


def shown_example(view_state: ViewState) -> int | None:
    """The example whose values the neurons show: the focused one when the views show one
    example, else None (the batch mean)."""
    if view_state.data_source == DataSource.EXAMPLE:
        return view_state.focused_example
    return None


def wave_position(progress: float, left: float, right: float, phase: str) -> float:
    """The x of the wave front at ``progress`` (0 … 1): left → right for forward, right → left
    for backward (it starts a little outside, so the first column lights after a moment)."""
    t = min(1.0, max(0.0, progress))
    if phase == "backward":
        return right - t * (right - left)
    return left + t * (right - left)


def column_spans(lay: Layout) -> list[tuple[float, float, float, float]]:
    """(left, top, right, bottom) of each activation layer's nodes, scene coordinates."""
    spans = []
    for layer in range(len(lay.sizes)):
        a, b = int(lay.offsets[layer]), int(lay.offsets[layer + 1])
        if a == b:
            spans.append((0.0, 0.0, 0.0, 0.0))
            continue
        x0, y0 = float(lay.node_x[a:b].min()), float(lay.node_y[a:b].min())
        x1, y1 = float(lay.node_x[a:b].max()) + lay.node, float(lay.node_y[a:b].max()) + lay.node
        spans.append((x0, y0, x1, y1))
    return spans


def reached(phase: str, front: float, x: float) -> bool:
    """Whether the wave front at ``front`` has passed point ``x``."""
    return x >= front if phase == "backward" else x <= front


def _describe(snap: Snapshot, phase: str, example: int | None) -> PhaseStep:
    try:
        return describe_phase(snap, phase, example)
    except ValueError:  # a focus that is not an example of this run: show the batch mean
        return describe_phase(snap, phase, None)


class PhaseOverlay(QObject):
    """The stepped phase's animation and values over the canvas.

    Signals
    -------
    changed()
        Something to repaint (an animation frame, values shown or gone).
    captionChanged(str, str)
        The caption line and its longer explanation.
    """

    changed = Signal()
    captionChanged = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: Animate stepped phases (the values and the caption are shown either way).
        self.enabled = True
        #: What the last stepped phase did, while the run is still where that phase left it.
        self.step: PhaseStep | None = None
        self._key: tuple | None = None
        self._snapshot: Snapshot | None = None
        self._old_frame: Frame | None = None
        self._animation = QVariantAnimation(self)
        self._animation.setStartValue(0.0)
        self._animation.setEndValue(1.0)
        self._animation.setDuration(DURATION_MS)
        self._animation.setEasingCurve(QEasingCurve.Type.InOutQuad)
        self._animation.valueChanged.connect(self._on_animation_value_changed)
        self._animation.finished.connect(self._on_animation_finished)
        #: Frames painted by the animation (tests and benchmarks read it).
        self.frames_painted = 0
        #: (NeuronRef, text) of the values the last paint put on the neurons.
        self.painted_values: list[tuple[NeuronRef, str]] = []
        #: (WeightRef, text) of the Δw labels the last paint put on connections.
        self.painted_moved: list[tuple[WeightRef, str]] = []

    # ------------------------------------------------------------------------ state

    @property
    def animating(self) -> bool:
        return self._animation.state() == QVariantAnimation.State.Running

    @property
    def progress(self) -> float:
        """0 … 1 while animating (or held by :meth:`pause_at`); 1 otherwise."""
        if self._animation.state() == QVariantAnimation.State.Stopped:
            return 1.0
        return float(self._animation.currentValue())

    def caption(self) -> tuple[str, str]:
        if self.step is None:
            return HINT, HINT
        return self.step.caption, self.step.detail

    @staticmethod
    def _key_of(snap: Snapshot) -> tuple:
        return (snap.run_id, snap.version, snap.phase, snap.last_phase, snap.step)

    def on_snapshot(self, before: Snapshot | None, snap: Snapshot, old_frame: Frame, example: int | None) -> None:
        """A new snapshot: end any animation; start one if it is a phase the user stepped."""
        if self.animating:
            self._animation.stop()  # never hold a newer snapshot back
            self.changed.emit()
        phase = stepped_phase(before, snap)
        self._snapshot = snap
        if phase is not None:
            self.step = _describe(snap, phase, example)
            self._key = self._key_of(snap)
            self.captionChanged.emit(*self.caption())
            if self.enabled:
                self._old_frame = old_frame
                self._animation.start()
            self.changed.emit()
        elif self.step is not None and self._key_of(snap) != self._key:
            self.clear()

    def set_enabled(self, on: bool) -> None:
        """Animate stepped phases or not; switching off ends a running animation at once."""
        self.enabled = bool(on)
        if not self.enabled:
            self.finish()

    def set_example(self, example: int | None) -> None:
        """The focused example changed: show its values (or the batch mean again)."""
        if self.step is not None and self._snapshot is not None:
            self.step = _describe(self._snapshot, self.step.phase, example)
            self.captionChanged.emit(*self.caption())
            self.changed.emit()

    def clear(self) -> None:
        self._animation.stop()
        self.step = None
        self._key = None
        self._old_frame = None
        self.captionChanged.emit(*self.caption())
        self.changed.emit()

    def finish(self) -> None:
        """Jump to the end of a running animation."""
        if self.animating:
            self._animation.stop()
            self._on_animation_finished()

    def pause_at(self, progress: float) -> None:
        """Hold the animation at ``progress`` (screenshots of a moment mid-animation)."""
        if self.animating:
            self._animation.pause()
            self._animation.setCurrentTime(int(progress * DURATION_MS))

    def _on_animation_value_changed(self, _value: object) -> None:
        self.changed.emit()

    def _on_animation_finished(self) -> None:
        self._old_frame = None
        self.changed.emit()

    # ------------------------------------------------------------------------ painting

    def paint(self, p: QPainter, scene: Scene, frame: Frame, theme: Theme, font: QFont,
              paint_network: PaintNetwork) -> None:
        """Paint the network (through ``paint_network``), with the phase's animation and values."""
        step, lay = self.step, scene.layout
        self.painted_values = []
        self.painted_moved = []
        active = self.animating or self._animation.state() == QVariantAnimation.State.Paused
        if step is None or not active or self._old_frame is None:
            paint_network(p, scene, frame)
            if step is not None:
                self._paint_values(p, lay, step, theme, font, None, 1.0)
                self._paint_moved(p, lay, step, theme, font, 1.0)
            return
        self.frames_painted += 1
        t = self.progress
        spans = column_spans(lay)
        left = min(s[0] for s in spans) - 0.5 * lay.node
        right = max(s[2] for s in spans) + 0.5 * lay.node
        if step.phase == "update":
            # The legend is the new frame's alone (two legends over each other are unreadable).
            paint_network(p, scene, dataclasses.replace(self._old_frame, legend=""))
            p.setOpacity(t)
            paint_network(p, scene, frame)
            p.setOpacity(1.0)
            front = None
        else:
            front = wave_position(t, left, right, step.phase)
            behind = QRectF(front, 0, lay.width - front, lay.height) if step.phase == "backward" \
                else QRectF(0, 0, front, lay.height)
            ahead = QRectF(0, 0, front, lay.height) if step.phase == "backward" \
                else QRectF(front, 0, lay.width - front, lay.height)
            p.save()
            p.setClipRect(behind)
            paint_network(p, scene, frame)
            p.restore()
            p.save()
            p.setClipRect(ahead)
            paint_network(p, scene, self._old_frame)
            p.restore()
            self._paint_columns(p, lay, spans, step.phase, front, theme)
        self._paint_values(p, lay, step, theme, font, front, t)
        self._paint_moved(p, lay, step, theme, font, t)

    def _paint_moved(self, p: QPainter, lay: Layout, step: PhaseStep, theme: Theme, font: QFont, t: float) -> None:
        """The update: "Δw +0.0042" on the connections that changed most (fading in)."""
        if not step.moved:
            return
        small = QFont(font)
        if font.pointSizeF() > 0:
            small.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
        fm = QFontMetricsF(small)
        p.setFont(small)
        p.setOpacity(min(1.0, max(0.0, t)))
        taken: list[QRectF] = []
        for r in step.moved:
            c = lay.connection_index(r.ref.layer, r.ref.i, r.ref.j)
            if c is None:
                continue
            x, y = clearest_point(lay, c)
            text = f"Δw {format_number(r.amount, 3, signed=True)}"
            w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
            rect = QRectF(x - 0.5 * w, y - h - 3, w, h)
            if any(rect.intersects(other) for other in taken):
                continue  # labels over each other are unreadable: the larger Δw keeps its place
            taken.append(rect)
            colour = QColor(theme.positive if r.amount > 0 else theme.negative)
            p.setPen(QPen(colour, 1.2))
            fill = QColor(theme.base)
            fill.setAlpha(235)
            p.setBrush(fill)
            p.drawRoundedRect(rect, 4, 4)
            p.setPen(QColor(theme.text))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            self.painted_moved.append((r.ref, text))
        p.setOpacity(1.0)
        p.setBrush(Qt.BrushStyle.NoBrush)

    def _paint_columns(self, p: QPainter, lay: Layout, spans, phase: str, front: float, theme: Theme) -> None:
        """The lit columns, the one the wave is at most strongly, and the wave front."""
        accent = QColor(theme.accent)
        pad = max(4.0, 0.25 * lay.node)
        for x0, y0, x1, y1 in spans:
            centre = 0.5 * (x0 + x1)
            if not reached(phase, front, centre):
                continue
            distance = abs(front - centre) / max(1.0, lay.node * 2.5)
            strength = max(0.0, 1.0 - distance)
            glow = QColor(accent)
            glow.setAlpha(int(40 + 80 * strength))
            p.setPen(QPen(glow, 2.0 + 2.0 * strength))
            fill = QColor(accent)
            fill.setAlpha(int(18 + 40 * strength))
            p.setBrush(fill)
            p.drawRoundedRect(QRectF(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad + 6), 6, 6)
        line = QColor(accent)
        line.setAlpha(170)
        p.setPen(QPen(line, 2.0, Qt.PenStyle.DashLine))
        top = min(s[1] for s in spans) - 2 * pad
        bottom = max(s[3] for s in spans) + 2 * pad
        p.drawLine(QRectF(front, top, 0, bottom - top).topLeft(), QRectF(front, top, 0, bottom - top).bottomLeft())
        p.setBrush(Qt.BrushStyle.NoBrush)

    def _paint_values(self, p: QPainter, lay: Layout, step: PhaseStep, theme: Theme, font: QFont,
                      front: float | None, t: float) -> None:
        """Each neuron's a or δ in a small chip on its lower edge (those the wave has reached)."""
        if step.values is None or lay.node < 18:
            return
        small = QFont(font)
        size = font.pointSizeF()
        if size > 0:
            small.setPointSizeF(max(6.5, min(size * 0.82, lay.node / 4.2)))
        fm = QFontMetricsF(small)
        p.setFont(small)
        chip_fill = blend(theme.base, theme.text, 0.92)
        chip_fill.setAlpha(225)
        for layer, values in enumerate(step.values):
            if values is None:
                continue
            for j, v in enumerate(np.asarray(values).ravel().tolist()):
                k = lay.node_index(layer, j)
                if k is None:
                    continue
                x, y, s, _ = lay.node_rect(k)
                if front is not None and not reached(step.phase, front, x + 0.5 * s):
                    continue
                text = format_number(v, 3)
                w = fm.horizontalAdvance(text) + 4
                h = fm.height()
                rect = QRectF(x + 0.5 * s - 0.5 * w, y + s - h - 1, w, h)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(chip_fill)
                p.drawRoundedRect(rect, 3, 3)
                p.setPen(QColor(theme.text))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
                self.painted_values.append((NeuronRef(layer, j), text))
        p.setBrush(Qt.BrushStyle.NoBrush)
