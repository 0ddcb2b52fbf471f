"""The inspector's "What if" tab: change the selected weight by Δw and see what J does.

Three columns, for the short dock under the canvas:

* the what-if field: a typed Δw, the predicted ΔJ = ∂J/∂w·Δw at once (from the snapshot), an
  "Apply" that makes the edit and then shows the actual ΔJ beside the prediction with their
  ratio (the edit's loss-plot marker states both), and the gradient check: the central finite
  difference beside the analytic ∂J/∂w and their relative error;
* J along the selected parameter, all else fixed, with the tangent at the current value and the
  place the next optimizer step will put it ("the gradient is the slope");
* J over two parameters (the pinned one and the selection): a heatmap with the −∇J arrow and
  the path the two took over the snapshots received.

The view does no maths of its own: the prediction comes from :mod:`sandbox.analysis.what_if`,
J at other values and the finite difference from the worker, as query commands
(:class:`~sandbox.session.commands.LossAlong`, ``GradientCheck``, ``LossSurface``) answered
through ``resultReady``.  Those are sent on every current snapshot while paused, at most
:data:`REFRESH_MS` apart while training, never while a previous batch of them is unanswered,
and not at all while the tab is hidden (it catches up when shown).
"""

from __future__ import annotations

import itertools
import time
from collections import deque

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ...analysis import what_if as wi
from ...formatting import format_number
from ...session import commands as cmd
from ...session.commands import ParameterEdited
from ...session.loss_probes import GradientCheckResult, LossCurve, LossSurfaceResult
from ...session.naming import BiasRef, NeuronRef, ParamRef, WeightRef
from ...session.snapshot import Snapshot
from ..controller import SessionController
from ..theme import Theme, ThemeManager
from .labels import LabelFactory
from .loss_along_plot import LossAlongPlot
from .loss_surface_plot import LossSurfacePlot
from .value_editor import NumberSpinBox

#: While training, the what-if queries go out at most this often (ms): ~3 a second; and no
#: sooner than THROTTLE × the last batch's round trip, so they hold up at most ~20 % of training.
REFRESH_MS = 300
THROTTLE = 4.0
#: The loss over two parameters costs ~20 times more: while training, at most once a second.
SURFACE_REFRESH_S = 1.0
DIGITS = 6
#: A batch unanswered this long (s) is taken as lost (a refused query answers nothing).
LOST_AFTER = 10.0
#: Parameters of recent snapshots kept for the two-parameter path: at most this many snapshots,
#: and at most TRAIL_FLOATS numbers in all (a big network keeps fewer).
TRAIL_SNAPSHOTS = 300
TRAIL_FLOATS = 2_000_000
#: Request ids of this view's queries (distinct from other views' small numbers).
_requests = itertools.count(3_000_000)


class WhatIfView(LabelFactory, QWidget):
    """What-if experiments for the selected weight or bias.

    Parameters
    ----------
    controller
        Followed through ``view_state`` (selection, pinned), ``snapshotChanged``,
        ``resultReady`` and ``editApplied``; edits go through ``edit_weight`` / ``edit_bias``.
    themes
        Recolours captions and plots on ``themeChanged``.

    Attributes
    ----------
    delta_spin, apply_button
        The Δw field and "Apply".
    predicted_label, actual_label
        The predicted ΔJ (at once), and after Apply the actual ΔJ, the prediction and their ratio.
    check_label, check_result
        The gradient check (finite difference, analytic and relative error) and the worker's
        answer it shows (None until one arrives for the selection).
    pin_button
        Pins the selected parameter for the loss over two parameters (or unpins).
    along_plot, surface_plot
        The two plots.
    """

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._state = controller.view_state
        self._muted: list[QLabel] = []
        self._separators: list[QFrame] = []
        self._dirty = True
        self.check_result: GradientCheckResult | None = None
        self._awaiting: set[int] = set()  # requests of the batch in flight
        self._again = False  # something changed while a batch was in flight
        self._sent_at = 0.0
        self.round_trip = 0.0  # seconds from sending the last batch to its last answer
        self._surface_at = -1e9  # when the last surface query went out
        self._applied: tuple[ParamRef, float] | None = None  # (ref, value) of an Apply in flight
        #: (run_id, weights, biases) of recent current snapshots: references to their immutable
        #: arrays, so the path of any pair can be drawn the moment it is pinned.
        self._recent: deque[tuple[int, tuple, tuple]] = deque(maxlen=TRAIL_SNAPSHOTS)

        self._gate = QTimer(self)
        self._gate.setSingleShot(True)
        self._gate.setInterval(REFRESH_MS)
        self._gate.timeout.connect(self._on_gate_timeout)

        columns = QHBoxLayout(self)
        columns.setContentsMargins(8, 6, 8, 4)
        columns.setSpacing(10)
        columns.addWidget(self._build_field_column(), 0)
        columns.addWidget(self._separator())
        self.along_plot = LossAlongPlot()
        columns.addWidget(self.along_plot, 3)
        columns.addWidget(self._separator())
        self.surface_plot = LossSurfacePlot()
        # Its axes have equal scales, so a wide column would only add blank margins.
        self.surface_plot.setMaximumWidth(420)
        columns.addWidget(self.surface_plot, 2)

        self._state.events.selection.connect(self._on_view_state_selection)
        self._state.events.pinned.connect(self._on_view_state_pinned)
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        controller.resultReady.connect(self._on_controller_result_ready)
        controller.editApplied.connect(self._on_controller_edit_applied)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._on_themes_theme_changed(themes.theme)
        self._refresh(new_selection=True)

    def _build_field_column(self) -> QWidget:
        col, lay = self._column()
        self.title_label = self._title_label()
        lay.addWidget(self.title_label)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self._delta_caption = QLabel("\u0394w")
        self.delta_spin = NumberSpinBox()
        self.delta_spin.setKeyboardTracking(True)  # the prediction follows every keystroke
        self.delta_spin.setSingleStep(0.1)
        self.delta_spin.setValue(0.1)
        self.delta_spin.setToolTip("A change to add to the parameter. The prediction follows as you type.")
        self.delta_spin.setMinimumWidth(110)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Make the edit, then compare the actual change of J with the prediction")
        self.apply_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        grid.addWidget(self._delta_caption, 0, 0)
        grid.addWidget(self.delta_spin, 0, 1)
        grid.addWidget(self.apply_button, 0, 2)
        lay.addLayout(grid)
        self.predicted_label = QLabel()
        self.predicted_label.setToolTip("First order: J(w + \u0394w) \u2248 J(w) + \u2202J/\u2202w\u00b7\u0394w, "
                                        "J being the full objective on the training set")
        self.actual_label = self._caption(wrap=True)
        self.check_label = self._caption(wrap=True)
        self.check_label.setToolTip("The central difference (J(w + h) \u2212 J(w \u2212 h)) / 2h beside "
                                    "backpropagation's \u2202J/\u2202w; a relative error far above 1e\u22126 "
                                    "means a kink (ReLU, L1 at 0) within h, or a bug")
        self.predicted_label.setWordWrap(True)
        for label in (self.predicted_label, self.actual_label, self.check_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lay.addWidget(label)
        self.pin_button = QPushButton("Pin for the 2-D view")
        self.pin_button.setToolTip("Hold this parameter; then select another to see J over both")
        self.pin_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        lay.addWidget(self.pin_button)
        lay.addStretch(1)
        col.setMinimumWidth(250)
        col.setMaximumWidth(360)
        self.delta_spin.valueChanged.connect(self._on_delta_spin_value_changed)
        self.apply_button.clicked.connect(self._on_apply_button_clicked)
        self.pin_button.clicked.connect(self._on_pin_button_clicked)
        # Buttons must not take the keyboard focus from the window's shortcuts (Space, →).
        for button in (self.apply_button, self.pin_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return col

    # ----------------------------------------------------------------------- state

    def parameter(self) -> ParamRef | None:
        """The parameter the tab is about: the selected weight, or the selected neuron's bias."""
        snap = self._controller.snapshot
        ref = wi.parameter_of(self._state.selection)
        if ref is None or (snap is not None and not wi.in_network(snap, ref)):
            return None
        return ref

    def pair(self) -> tuple[ParamRef, ParamRef] | None:
        """(pinned, selected) for the loss over two parameters, or None."""
        snap = self._controller.snapshot
        pinned, ref = self._state.pinned, self.parameter()
        if pinned is None or ref is None or pinned == ref or snap is None or not wi.in_network(snap, pinned):
            return None
        return pinned, ref

    # ------------------------------------------------------------------------ signals

    def _on_view_state_selection(self, *_: object) -> None:
        self.actual_label.setText("")
        self._on_view_state_pinned()

    def _on_view_state_pinned(self, *_: object) -> None:
        if not self.isVisible():
            self._dirty = True
            return
        self._refresh(new_selection=True)

    def _on_controller_snapshot_changed(self, snapshot: Snapshot) -> None:
        self._remember(snapshot)  # a reference per snapshot, hidden or not: the path stays whole
        if not self.isVisible():
            self._dirty = True  # hidden: no queries, no drawing; catch up when shown
            return
        self._refresh(new_selection=False)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._dirty:
            self._refresh(new_selection=True)

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._recolour(theme)
        self.along_plot.apply_theme(theme)
        self.surface_plot.apply_theme(theme)

    def _on_delta_spin_value_changed(self, _value: float) -> None:
        self._show_prediction()

    def _on_apply_button_clicked(self) -> None:
        snap, ref = self._controller.snapshot, self.parameter()
        if snap is None or ref is None:
            return
        prediction = wi.predict(snap, ref, self.delta_spin.value())
        value = prediction.new_value
        self._applied = (ref, value)
        self.actual_label.setText("Applying\u2026")
        if isinstance(ref, WeightRef):
            self._controller.edit_weight(ref, value, prediction.predicted_change)
        else:
            self._controller.edit_bias(ref, value, prediction.predicted_change)

    def _on_controller_edit_applied(self, event: object) -> None:
        if (not isinstance(event, ParameterEdited) or event.predicted_change is None
                or self._applied is None or (event.ref, event.new) != self._applied):
            return
        self._applied = None
        r = wi.ratio(event.actual_change, event.predicted_change)
        self.actual_label.setText(
            f"Actual \u0394J {format_number(event.actual_change, DIGITS, signed=True)} vs predicted "
            f"{format_number(event.predicted_change, DIGITS, signed=True)}: ratio {format_number(r)}"
        )
        self.actual_label.setToolTip(
            f"{event.ref.name}: {format_number(event.old, DIGITS)} \u2192 {format_number(event.new, DIGITS)}. "
            "Actual: J after \u2212 J before, on the training set. The ratio tends to 1 as \u0394w shrinks.")

    def _on_pin_button_clicked(self) -> None:
        # One button: pins the selection, or releases what is pinned.
        self._state.pinned = None if self._state.pinned is not None else self.parameter()

    def _on_gate_timeout(self) -> None:
        self._send_queries()

    def _on_controller_result_ready(self, command: object, value: object) -> None:
        request = getattr(command, "request", None)
        if request not in self._awaiting:
            return
        self._awaiting.discard(request)
        if not self._awaiting:
            self.round_trip = time.monotonic() - self._sent_at
        if isinstance(value, LossCurve) and value.ref == self.parameter():
            self.along_plot.show_curve(value)
        elif isinstance(value, GradientCheckResult) and value.ref == self.parameter():
            self._show_check(value)
        elif isinstance(value, LossSurfaceResult) and value.refs == self.pair():
            self.surface_plot.show_surface(value)
        if not self._awaiting and self._again:
            self._again = False
            snap = self._controller.snapshot
            if snap is not None and snap.playing:
                self._schedule()
            else:
                self._send_queries()

    # ------------------------------------------------------------------------ drawing

    def _refresh(self, new_selection: bool) -> None:
        self._dirty = False
        snap = self._controller.snapshot
        ref = self.parameter()
        self._show_title(ref)
        enabled = ref is not None and snap is not None
        for widget in (self.delta_spin, self.apply_button):
            widget.setEnabled(enabled)
        self._show_pin(ref)
        if not enabled:
            self.predicted_label.setText("")
            self.check_label.setText("")
            self.along_plot.clear("")
            self._show_surface_hint()
            return
        if new_selection:
            self.check_result = None
            self.check_label.setText("Gradient check: \u2026")
            self.along_plot.clear("")
        self._show_prediction()
        self._follow_trail(snap, new_selection)
        if new_selection or not snap.playing:
            self._send_queries()
        else:
            self._schedule()

    def _show_title(self, ref: ParamRef | None) -> None:
        sel = self._state.selection
        if ref is not None:
            what = "weight" if isinstance(ref, WeightRef) else "bias"
            self.title_label.setText(f"What if the {what} {ref.name} changes?")
            self._delta_caption.setText("\u0394" + ref.name[0])
        elif isinstance(sel, NeuronRef) and sel.layer == 0:
            self.title_label.setText("An input has no bias: select a weight or a hidden neuron")
        else:
            self.title_label.setText("Select a weight or a neuron to try a change")

    def _show_pin(self, ref: ParamRef | None) -> None:
        pinned = self._state.pinned
        if pinned is not None:
            self.pin_button.setText(f"Unpin {pinned.name}")
            self.pin_button.setEnabled(True)
        else:
            self.pin_button.setText("Pin for the 2-D view")
            self.pin_button.setEnabled(ref is not None)

    def _show_prediction(self) -> None:
        snap, ref = self._controller.snapshot, self.parameter()
        if snap is None or ref is None:
            self.predicted_label.setText("")
            self.along_plot.show_what_if(None)
            return
        p = wi.predict(snap, ref, self.delta_spin.value())
        self.along_plot.show_what_if(p.new_value)
        name = ref.name[0]
        self.predicted_label.setText(
            f"Predicted \u0394J = \u2202J/\u2202{name}\u00b7\u0394{name} = "
            f"{format_number(p.gradient, DIGITS, signed=True)} \u00d7 {format_number(p.delta)} = "
            f"{format_number(p.predicted_change, DIGITS, signed=True)}"
        )

    def _show_check(self, check: GradientCheckResult) -> None:
        self.check_result = check
        self.check_label.setText(
            f"Gradient check (h = {format_number(check.h)}): finite difference "
            f"{format_number(check.numeric, DIGITS, signed=True)}, analytic "
            f"{format_number(check.analytic, DIGITS, signed=True)}; relative error "
            f"{format_number(check.relative_error, 2)}"
        )

    def _show_surface_hint(self) -> None:
        pinned, ref = self._state.pinned, self.parameter()
        if pinned is None:
            text = "Pin a parameter, then select another, to see J over both."
        elif ref is None or ref == pinned:
            text = f"{pinned.name} is pinned: select another weight or neuron to see J over both."
        else:
            text = ""
        self.surface_plot.clear(text)

    def _remember(self, snap: Snapshot) -> None:
        recent = self._recent
        if recent and recent[-1][0] == snap.run_id and recent[-1][1] is snap.weights:
            return
        size = sum(w.size + b.size for w, b in zip(snap.weights, snap.biases))
        keep = max(2, min(TRAIL_SNAPSHOTS, TRAIL_FLOATS // max(1, size)))
        if recent.maxlen != keep:
            self._recent = recent = deque(recent, maxlen=keep)
        recent.append((snap.run_id, snap.weights, snap.biases))

    def _follow_trail(self, snap: Snapshot, new_selection: bool) -> None:
        pair = self.pair()
        if pair is None:
            self._show_surface_hint()
            return
        points: list[tuple[float, float]] = []
        for run_id, weights, biases in self._recent:
            if run_id != snap.run_id:
                continue
            point = (_value(weights, biases, pair[0]), _value(weights, biases, pair[1]))
            if not points or points[-1] != point:
                points.append(point)
        self.surface_plot.set_trail(points)

    # ------------------------------------------------------------------------ queries

    def _schedule(self) -> None:
        """Send the queries when the gate opens (at most every REFRESH_MS while training)."""
        if not self._gate.isActive():
            self._gate.start(max(REFRESH_MS, round(1000 * THROTTLE * self.round_trip)))

    def _send_queries(self) -> None:
        snap, ref = self._controller.snapshot, self.parameter()
        if snap is None or ref is None or not self.isVisible():
            return
        if self._awaiting and time.monotonic() - self._sent_at < LOST_AFTER:
            self._again = True  # the answers in flight will be stale: ask again after them
            return
        width = wi.half_width(wi.value_of(snap, ref), wi.next_step_of(snap, ref))
        points = wi.affordable_points(snap, wi.CURVE_POINTS, 15)
        along = cmd.LossAlong(ref, wi.offsets(width, points), next(_requests))
        check = cmd.GradientCheck(ref, None, next(_requests))
        batch = [along, check]
        pair = self.pair()
        now = time.monotonic()
        if pair is not None and (not snap.playing or now - self._surface_at >= SURFACE_REFRESH_S):
            self._surface_at = now
            # One half-width for both axes: equal scales, so −∇J looks perpendicular to the contours.
            width2 = max(wi.half_width(wi.value_of(snap, r), wi.next_step_of(snap, r)) for r in pair)
            grid = wi.offsets(width2, wi.affordable_points(snap, wi.SURFACE_POINTS, 7, per_axis=True))
            batch.append(cmd.LossSurface(pair[0], pair[1], grid, grid, next(_requests)))
        self._awaiting = {c.request for c in batch}
        self._again = False
        self._sent_at = time.monotonic()
        for command in batch:
            self._controller.send(command)


def _value(weights: tuple, biases: tuple, ref: ParamRef) -> float:
    if isinstance(ref, WeightRef):
        return float(weights[ref.layer][ref.i, ref.j])
    return float(biases[ref.layer][ref.j])
