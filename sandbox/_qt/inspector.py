"""The inspector: one weight or neuron, its value, its blame ∂J/∂w and the step it will take.

It lives in a dock under the network canvas, so it is laid out in columns (wide and short).
It follows the controller's selection and redraws from every current snapshot; edits go back
through ``controller.edit_weight`` / ``controller.edit_bias``.

For a weight W_l[i, j] (from unit i of layer l to unit j of layer l+1) it shows

    ∂J/∂w = (1/n) Σ_n a_i·δ_j  +  l1·sign(w)  +  l2·w

on the full training set (the "blame"), where the data term is read off as the gradient minus
the two regularisation terms, and the update Δw the optimizer would apply next (computed on
the next mini-batch, so it may disagree with the full-set gradient).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QLocale, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QPalette, QValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import QSignalThrottler

from ..session.snapshot import Snapshot
from ..session.naming import BiasRef, NeuronRef, Ref, WeightRef
from .controller import SessionController
from .names import layer_name, short_unit_name, unit_name, weight_name
from .theme import Theme, ThemeManager

HINT = (
    "Click a connection or a neuron on the canvas to inspect it. "
    "∂J/∂w says how much the loss J changes per unit change of w; "
    "its sign says which way gradient descent will push w."
)

#: What the optimizer's next update means, per optimizer ({lr}, {batch} filled in).
OPTIMIZER_EXPLANATIONS: dict[str, str] = {
    "sgd": "sgd: Δw = −η·∂J/∂w on the next mini-batch ({batch}), η = {lr}.",
    "momentum": "momentum: v ← β·v + ∂J/∂w on the next mini-batch ({batch}); Δw = −η·v, η = {lr}. "
    "Past gradients keep pushing.",
    "rmsprop": "rmsprop: Δw = −η·g / (√s + ε), s a running mean of g² (g on the next mini-batch, "
    "{batch}), η = {lr}. Steps are divided by the recent gradient size.",
    "adam": "adam: Δw = −η·m / (√v + ε), m and v bias-corrected running means of g and g² (g on "
    "the next mini-batch, {batch}), η = {lr}. Steps are about η in size.",
}

#: The weight and bias slider's integer range; the middle is the value it was centred on.
SLIDER_STEPS = 1000
SLIDER_MID = SLIDER_STEPS // 2
#: Live edits while dragging a slider are sent at most this often (ms): ~30 Hz.
DRAG_INTERVAL_MS = 33


def format_number(x: float) -> str:
    """How the inspector shows every number: sign, six significant digits, a real minus."""
    x = float(x) + 0.0  # + 0.0 turns −0.0 into 0.0: no "−0" for l1·sign(w) with l1 = 0
    if math.isnan(x):
        return "nan"
    return f"{x:+.6g}".replace("-", "\u2212")


def _batch_text(snapshot: Snapshot) -> str:
    n_train = len(snapshot.dataset.train_indices)
    batch = min(snapshot.hyper.batch_size, n_train)
    return "the whole training set" if batch >= n_train else f"{batch} examples"


def _mono_font() -> QFont:
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


class _NumberSpinBox(QDoubleSpinBox):
    """A spin box for any real parameter.

    Up to 8 decimals for ordinary values, scientific notation beyond a million (a diverged
    weight can be 1e133: it must show as that, not as a clamped limit), and typed input in
    either form.
    """

    LIMIT = 1e300

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The C locale: "." always, no group separators, so what we show is what we parse.
        locale = QLocale.c()
        locale.setNumberOptions(QLocale.NumberOption.OmitGroupSeparator)
        self.setLocale(locale)
        self.setDecimals(8)
        self.setRange(-self.LIMIT, self.LIMIT)
        self.setSingleStep(0.01)
        # Typing must not send every keystroke: the value commits on Enter or focus loss.
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.setFont(_mono_font())
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        if abs(value) >= 1e6:
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

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            # Escape abandons what was typed: show the current value again and let go.
            self.setValue(self.value())
            self.lineEdit().setText(self.textFromValue(self.value()))
            self.clearFocus()
            return
        super().keyPressEvent(event)


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
        self.spin = _NumberSpinBox()
        self.spin.setMinimumWidth(120)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setSingleStep(5)
        self.slider.setPageStep(50)
        self.slider.setValue(SLIDER_MID)
        self.low_label = QLabel()
        self.high_label = QLabel()
        self.high_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        small = _mono_font()
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
        self._centre = value
        self._half = max(1.0, 2.0 * abs(value)) if math.isfinite(value) else 1.0
        with QSignalBlocker(self.slider):
            self.slider.setValue(SLIDER_MID)
        self.low_label.setText(format_number(self._centre - self._half))
        self.high_label.setText(format_number(self._centre + self._half))

    def slider_value(self, position: int) -> float:
        """The parameter value at slider position ``position``."""
        return self._centre + (position - SLIDER_MID) / SLIDER_MID * self._half

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
        if not self._commit_spin() and not self.spin.hasFocus():
            # Focus left without a change: catch up with what training did meanwhile.
            self.set_value(self._value)

    def _commit_spin(self) -> bool:
        value = self.spin.value()
        if value == self._shown:
            return False
        self._shown = value
        self._recentre(value)
        self.valueEdited.emit(value)
        return True


class Inspector(QWidget):
    """Details of the selected weight or neuron, editable.

    Parameters
    ----------
    controller
        The session controller: the inspector follows its ``selectionChanged`` and
        ``snapshotChanged`` and sends ``edit_weight`` / ``edit_bias`` / ``select``.
    themes
        Recolours captions on ``themeChanged``.

    Attributes
    ----------
    value_spin, value_slider
        The selected weight's editors.
    grad_label, update_label, rank_label
        ∂J/∂w, the next Δw and the rank by |∂J/∂w| of the selected weight.
    bias_spin, bias_slider
        The selected neuron's bias editors.
    incoming_table
        The selected neuron's incoming weights (outgoing for an input node): from, w, ∂J/∂w.
    """

    def __init__(
        self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._themes = themes
        self._selection: Ref | None = controller.selection
        self._muted: list[QLabel] = []
        self._separators: list[QFrame] = []
        self._table_rows: list[Ref] = []
        self._dirty = True  # a snapshot arrived while hidden

        self._stack = QStackedWidget()
        self._pages: dict[str, int] = {}
        self._pages["none"] = self._stack.addWidget(self._build_none_page())
        self._pages["weight"] = self._stack.addWidget(self._build_weight_page())
        self._pages["neuron"] = self._stack.addWidget(self._build_neuron_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self._stack)

        controller.selectionChanged.connect(self._on_controller_selection_changed)
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._on_themes_theme_changed(themes.theme)
        self._refresh(force=True)

    # ----------------------------------------------------------------------- public

    def current_page(self) -> str:
        """``"none"``, ``"weight"`` or ``"neuron"``."""
        index = self._stack.currentIndex()
        return next(name for name, i in self._pages.items() if i == index)

    # ------------------------------------------------------------------ construction

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
        font = _mono_font()
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

    def _build_none_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        title = self._title_label()
        title.setText("Nothing selected")
        self._hint_label = QLabel(HINT)
        self._hint_label.setWordWrap(True)
        self._hint_label.setMaximumWidth(720)
        self._most_blamed_button = QPushButton("Inspect the most-blamed weight")
        self._most_blamed_button.setToolTip("Select the weight with the largest |∂J/∂w| right now")
        self._most_blamed_button.clicked.connect(self._on_most_blamed_button_clicked)
        self._most_blamed_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        layout.addWidget(title)
        layout.addWidget(self._hint_label)
        layout.addWidget(self._most_blamed_button)
        layout.addStretch(1)
        return page

    def _build_weight_page(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        head = QHBoxLayout()
        self._weight_title = self._title_label()
        self._weight_route = QLabel()
        self._weight_route.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self._weight_title)
        head.addWidget(self._weight_route, 1)
        outer.addLayout(head)

        columns = QHBoxLayout()
        columns.setSpacing(10)

        # Column 1: the value, editable.
        col, lay = self._column()
        lay.addWidget(self._caption("Value w", bold=True))
        self._weight_editor = ValueEditor()
        self._weight_editor.valueEdited.connect(self._on_weight_editor_value_edited)
        self.value_spin = self._weight_editor.spin
        self.value_slider = self._weight_editor.slider
        self._weight_editor.spin.setToolTip("Type a value and press Enter; the next step starts from it.")
        self._weight_editor.slider.setToolTip("Drag to change w live; the slider re-centres on release.")
        lay.addWidget(self._weight_editor)
        lay.addStretch(1)
        col.setMinimumWidth(150)
        col.setMaximumWidth(300)
        columns.addWidget(col, 3)
        columns.addWidget(self._separator())

        # Column 2: the blame, and where it comes from.
        col, lay = self._column()
        self._grad_caption = self._caption("∂J/∂w on the training set", bold=True)
        lay.addWidget(self._grad_caption)
        self.grad_label = self._number_label(big=True)
        lay.addWidget(self.grad_label)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        self._term_labels: dict[str, QLabel] = {}
        terms = (
            ("data", "data  (1/n)Σ aᵢ·δⱼ", "The loss on the data: each example's input aᵢ to this "
             "connection times the error signal δⱼ of the neuron it feeds, averaged."),
            ("l1", "L1  l1·sign(w)", "The L1 penalty's pull towards 0 (constant size)."),
            ("l2", "L2  l2·w", "The L2 penalty's pull towards 0 (proportional to w)."),
        )
        for row, (key, text, tip) in enumerate(terms):
            name = self._caption(text)
            name.setToolTip(tip)
            value = self._number_label()
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._term_labels[key] = value
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
        rank_name = self._caption("rank by |∂J/∂w|")
        rank_name.setToolTip("Where this weight stands among all weights by the size of its blame.")
        self.rank_label = self._number_label()
        self.rank_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(rank_name, len(terms), 0)
        grid.addWidget(self.rank_label, len(terms), 1)
        grid.setColumnStretch(0, 1)
        lay.addLayout(grid)
        lay.addStretch(1)
        col.setMinimumWidth(190)
        col.setMaximumWidth(340)  # keep each number near its name on wide screens
        columns.addWidget(col, 4)
        columns.addWidget(self._separator())

        # Column 3: what the optimizer will do next.
        col, lay = self._column()
        lay.addWidget(self._caption("Next step Δw", bold=True))
        self.update_label = self._number_label(big=True)
        self.update_label.setToolTip("The change the next training step would add to w.")
        lay.addWidget(self.update_label)
        self._update_explanation = self._caption(wrap=True)
        lay.addWidget(self._update_explanation)
        after = QHBoxLayout()
        after.addWidget(self._caption("w after it"))
        self._after_label = self._number_label()
        after.addWidget(self._after_label, 1, Qt.AlignmentFlag.AlignRight)
        lay.addLayout(after)
        lay.addStretch(1)
        col.setMinimumWidth(170)
        col.setMaximumWidth(420)
        columns.addWidget(col, 4)
        columns.addStretch(0)

        outer.addLayout(columns, 1)
        self._weight_reading = QLabel()
        self._weight_reading.setWordWrap(True)
        outer.addWidget(self._weight_reading)
        return page

    def _build_neuron_page(self) -> QWidget:
        page = QWidget()
        outer = QHBoxLayout(page)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)

        left = QVBoxLayout()
        left.setSpacing(4)
        self._neuron_title = self._title_label()
        left.addWidget(self._neuron_title)
        columns = QHBoxLayout()
        columns.setSpacing(10)

        # The bias, editable (hidden for input nodes, which have none).
        self._bias_column, lay = self._column()
        lay.addWidget(self._caption("Bias b", bold=True))
        self._bias_editor = ValueEditor()
        self._bias_editor.valueEdited.connect(self._on_bias_editor_value_edited)
        self.bias_spin = self._bias_editor.spin
        self.bias_slider = self._bias_editor.slider
        self._bias_editor.spin.setToolTip("Type a bias and press Enter; the next step starts from it.")
        self._bias_editor.slider.setToolTip("Drag to change b live; the slider re-centres on release.")
        lay.addWidget(self._bias_editor)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        name = self._caption("∂J/∂b")
        name.setToolTip("How much the loss changes per unit change of the bias (training set).")
        self.bias_grad_label = self._number_label()
        self.bias_grad_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(name, 0, 0)
        grid.addWidget(self.bias_grad_label, 0, 1)
        name = self._caption("next Δb")
        self.bias_update_label = self._number_label()
        self.bias_update_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(name, 1, 0)
        grid.addWidget(self.bias_update_label, 1, 1)
        grid.setColumnStretch(0, 1)
        lay.addLayout(grid)
        lay.addStretch(1)
        self._bias_column.setMinimumWidth(150)
        self._bias_column.setMaximumWidth(300)
        columns.addWidget(self._bias_column, 3)

        # What the neuron does on the training set.
        col, lay = self._column()
        lay.addWidget(self._caption("On the training set", bold=True))
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        self._stat_names: list[QLabel] = []
        self._stat_values: list[QLabel] = []
        for row in range(3):
            name = self._caption()
            value = self._number_label()
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self._stat_names.append(name)
            self._stat_values.append(value)
        grid.setColumnStretch(0, 1)
        lay.addLayout(grid)
        self._neuron_note = self._caption(wrap=True)
        lay.addWidget(self._neuron_note)
        lay.addStretch(1)
        col.setMinimumWidth(170)
        col.setMaximumWidth(340)
        columns.addWidget(col, 4)
        left.addLayout(columns, 1)
        self._neuron_reading = QLabel()
        self._neuron_reading.setWordWrap(True)
        left.addWidget(self._neuron_reading)
        outer.addLayout(left, 7)
        outer.addWidget(self._separator())

        # The weights into the neuron (out of it, for an input node): click one to inspect it.
        right = QVBoxLayout()
        right.setSpacing(2)
        self._table_caption = self._caption(bold=True)
        self._table_caption.setToolTip("Click a row to inspect that weight.")
        # The caption must not widen the page (the dock can be narrow): it is clipped instead.
        self._table_caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        right.addWidget(self._table_caption)
        table = QTableWidget(0, 3)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().setVisible(False)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setCornerButtonEnabled(False)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fixed number columns: widths that follow the texts would jitter while training plays.
        number_width = QFontMetrics(_mono_font()).horizontalAdvance("+0.000123457") + 14
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, number_width)
        header.setHighlightSections(False)
        row_height = table.fontMetrics().height() + 4
        table.verticalHeader().setDefaultSectionSize(row_height)
        table.verticalHeader().setMinimumSectionSize(row_height)
        table.setToolTip("Click a row to inspect that weight.")
        table.cellClicked.connect(self._on_incoming_table_cell_clicked)
        self.incoming_table = table
        right.addWidget(table, 1)
        outer.addLayout(right, 6)
        return page

    # ------------------------------------------------------------------------ signals

    def _on_controller_selection_changed(self, selection: Ref | None) -> None:
        self._weight_editor.cancel()
        self._bias_editor.cancel()
        self._selection = selection
        self._refresh(force=True)

    def _on_controller_snapshot_changed(self, _snapshot: Snapshot) -> None:
        if not self.isVisible():
            self._dirty = True  # a hidden dock costs nothing; catch up when shown
            return
        self._refresh(force=False)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._dirty:
            self._refresh(force=False)

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        for label in self._muted:
            palette = label.palette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(theme.muted))
            label.setPalette(palette)
        for line in self._separators:
            palette = line.palette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(theme.grid))
            line.setPalette(palette)

    def _on_weight_editor_value_edited(self, value: float) -> None:
        sel = self._selection
        if sel is not None and isinstance(sel, WeightRef):
            self._controller.edit_weight(sel, value)

    def _on_bias_editor_value_edited(self, value: float) -> None:
        sel = self._selection
        if sel is not None and isinstance(sel, NeuronRef) and sel.layer >= 1:
            self._controller.edit_bias(BiasRef(sel.layer - 1, sel.j), value)

    def _on_incoming_table_cell_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._table_rows):
            self._controller.select(self._table_rows[row])

    def _on_most_blamed_button_clicked(self) -> None:
        snap = self._controller.snapshot
        if snap is None or not snap.grad_weights:
            return
        best = max(range(len(snap.grad_weights)), key=lambda l: float(np.abs(snap.grad_weights[l]).max()))
        i, j = np.unravel_index(int(np.argmax(np.abs(snap.grad_weights[best]))), snap.grad_weights[best].shape)
        self._controller.select(WeightRef(best, int(i), int(j)))

    # ------------------------------------------------------------------------ refresh

    def _show_page(self, name: str) -> None:
        self._stack.setCurrentIndex(self._pages[name])

    def _refresh(self, force: bool) -> None:
        self._dirty = False
        snap = self._controller.snapshot
        sel = self._selection
        if sel is None or not self._valid(snap, sel):
            self._show_page("none")
            self._most_blamed_button.setEnabled(snap is not None and bool(snap.grad_weights))
            return
        if isinstance(sel, WeightRef):
            self._show_page("weight")
            if snap is not None:
                self._refresh_weight(snap, sel, force)
        else:
            self._show_page("neuron")
            if snap is not None:
                self._refresh_neuron(snap, sel, force)

    @staticmethod
    def _valid(snap: Snapshot | None, sel: Ref) -> bool:
        """Whether ``sel`` names a parameter of this snapshot's network (None: not known yet)."""
        if snap is None:
            return isinstance(sel, (WeightRef, NeuronRef))
        sizes = snap.layer_sizes
        if isinstance(sel, WeightRef):
            return 0 <= sel.layer < len(sizes) - 1 and 0 <= sel.i < sizes[sel.layer] and 0 <= sel.j < sizes[sel.layer + 1]
        if isinstance(sel, NeuronRef):
            return 0 <= sel.layer < len(sizes) and 0 <= sel.j < sizes[sel.layer]
        return False

    @staticmethod
    def _rank(snap: Snapshot, value: float) -> tuple[int, int]:
        """(rank, count): 1 + the number of weights with a larger |∂J/∂w|; ties share a rank.

        One pass of comparisons (no sort): microseconds even for tens of thousands of weights.
        """
        magnitude = abs(value)
        larger = sum(int(np.count_nonzero(np.abs(g) > magnitude)) for g in snap.grad_weights)
        return larger + 1, sum(g.size for g in snap.grad_weights)

    def _refresh_weight(self, snap: Snapshot, sel: Ref, force: bool) -> None:
        layer, i, j = sel.layer, sel.i, sel.j
        w = float(snap.weights[layer][i, j])
        grad = float(snap.grad_weights[layer][i, j])
        l1_term = snap.hyper.l1 * float(np.sign(w))
        l2_term = snap.hyper.l2 * w
        data_term = grad - l1_term - l2_term
        step = float(snap.next_update[0][layer][i, j])

        if force:
            self._weight_title.setText(f"Weight {weight_name(layer, i, j)}")
            self._weight_route.setText(
                f"from {unit_name(snap, layer, i)}  →  {unit_name(snap, layer + 1, j)}"
            )
        self._weight_editor.set_value(w, force=force)
        n_train = len(snap.dataset.train_indices)
        self._grad_caption.setText(f"∂J/∂w on the training set (n = {n_train})")
        self.grad_label.setText(format_number(grad))
        self._term_labels["data"].setText(format_number(data_term))
        self._term_labels["l1"].setText(format_number(l1_term))
        self._term_labels["l2"].setText(format_number(l2_term))
        if math.isfinite(grad):
            rank, count = self._rank(snap, grad)
            self.rank_label.setText(f"#{rank} of {count}")
        else:
            self.rank_label.setText("–")
        self.update_label.setText(format_number(step))
        self._after_label.setText(format_number(w + step))
        self._update_explanation.setText(
            OPTIMIZER_EXPLANATIONS[snap.hyper.optimizer].format(
                lr=f"{snap.hyper.learning_rate:g}", batch=_batch_text(snap)
            )
        )
        self._weight_reading.setText(self._weight_sentence(grad, step))

    @staticmethod
    def _weight_sentence(grad: float, step: float) -> str:
        if not math.isfinite(grad):
            return "The gradient is not finite: training has diverged here."
        if grad > 0:
            text = "Increasing w would increase the loss; gradient descent will decrease it."
            expected = -1
        elif grad < 0:
            text = "Increasing w would decrease the loss; gradient descent will increase it."
            expected = 1
        else:
            return "The loss is flat in w right now: gradient descent has no reason to move it."
        if step and np.sign(step) != expected:
            way = "increase" if step > 0 else "decrease"
            text += f" (The next mini-batch or the optimizer's memory disagrees: the next step will {way} it.)"
        return text

    def _refresh_neuron(self, snap: Snapshot, sel: Ref, force: bool) -> None:
        layer, j = sel.layer, sel.j
        neurons = snap.neurons
        mean_a = float(neurons.mean_activation[layer][j])
        if layer == 0:
            if force:
                self._neuron_title.setText(f"Input feature {snap.feature_labels[j]}")
                self._bias_column.setVisible(False)
                self._table_caption.setText(f"Outgoing weights, to {layer_name(snap, 1)}")
                self.incoming_table.setHorizontalHeaderLabels(["to", "w", "∂J/∂w"])
                self._stat_names[0].setText("feature")
                self._stat_names[1].setText("mean value")
                self._stat_names[2].setText("")
                self._neuron_note.setText(
                    "An input node has no bias and no activation: it passes the feature on. "
                    "Its influence is in its outgoing weights."
                )
                self._neuron_reading.setText("")
            self._stat_values[0].setText(snap.feature_labels[j])
            self._stat_values[1].setText(format_number(mean_a))
            self._stat_values[2].setText("")
            rows = [WeightRef(0, j, k) for k in range(snap.layer_sizes[1])]
            self._fill_table(snap, rows, lambda s: short_unit_name(snap, 1, s.j), force)
            return

        bias = float(snap.biases[layer - 1][j])
        grad_b = float(snap.grad_biases[layer - 1][j])
        step_b = float(snap.next_update[1][layer - 1][j])
        delta = neurons.mean_delta[layer]
        mean_delta = float(delta[j]) if delta is not None else float("nan")
        if force:
            activation = snap.activation_names[layer - 1]
            self._neuron_title.setText(f"{unit_name(snap, layer, j).capitalize()}  ·  {activation}")
            self._bias_column.setVisible(True)
            self._table_caption.setText(f"Incoming weights, from {layer_name(snap, layer - 1)}")
            self.incoming_table.setHorizontalHeaderLabels(["from", "w", "∂J/∂w"])
            self._stat_names[0].setText("activation")
            self._stat_names[1].setText("mean activation a")
            self._stat_names[2].setText("mean δ = ∂ℓ/∂z")
            self._neuron_note.setText("∂J/∂b equals the mean δ: biases are not regularised.")
        self._stat_values[0].setText(snap.activation_names[layer - 1])
        self._stat_values[1].setText(format_number(mean_a))
        self._stat_values[2].setText(format_number(mean_delta))
        self._bias_editor.set_value(bias, force=force)
        self.bias_grad_label.setText(format_number(grad_b))
        self.bias_update_label.setText(format_number(step_b))
        if not math.isfinite(grad_b):
            reading = "The gradient is not finite: training has diverged here."
        elif grad_b > 0:
            reading = "Raising b (and so z) would increase the loss; gradient descent will lower b."
        elif grad_b < 0:
            reading = "Raising b (and so z) would decrease the loss; gradient descent will raise b."
        else:
            reading = "The loss is flat in b right now."
        self._neuron_reading.setText(reading)
        rows = [WeightRef(layer - 1, i, j) for i in range(snap.layer_sizes[layer - 1])]
        self._fill_table(snap, rows, lambda s: short_unit_name(snap, layer - 1, s.i), force)

    def _fill_table(self, snap: Snapshot, rows: list[Ref], name_of, force: bool) -> None:
        """Rows of (name, w, ∂J/∂w); items are reused and only changed texts are set."""
        table = self.incoming_table
        mono = _mono_font()
        if force or rows != self._table_rows:
            self._table_rows = rows
            table.clearSelection()
            table.setRowCount(len(rows))
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            for r, sel in enumerate(rows):
                table.setItem(r, 0, QTableWidgetItem(name_of(sel)))
                for c in (1, 2):
                    item = QTableWidgetItem()
                    item.setFont(mono)
                    item.setTextAlignment(align)
                    table.setItem(r, c, item)
        for r, sel in enumerate(rows):
            for c, arrays in ((1, snap.weights), (2, snap.grad_weights)):
                text = format_number(arrays[sel.layer][sel.i, sel.j])
                item = table.item(r, c)
                if item.text() != text:
                    item.setText(text)
