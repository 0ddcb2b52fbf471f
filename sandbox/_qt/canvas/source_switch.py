"""The canvas header's data-source row: "Show: Training set | Last batch | Example #k" and
the focused example in one line (inputs, target, prediction, loss).

It is a row of its own under the view switch: the first row is full at 1024 px already, and a
row whose content never changes its height cannot start a layout loop.

Bound to ``view_state.data_source`` both ways (model → buttons inside ``QSignalBlocker``, so a
model update never echoes back).  "Example" needs a focused example and "Last batch" a batch
pass with its backward pass; without them the button is disabled.  Choosing Training set or
Last batch keeps the focused example (the output view still rings it), so Example returns to
it.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget
from superqt import QElidingLabel

from ...analysis.example_focus import ExampleSummary, example_summary
from ...formatting import format_number
from ...session.snapshot import Snapshot
from ...viewstate import DataSource
from ..controller import SessionController
from ..theme import Theme, segment_style

SOURCES = (DataSource.TRAINING_SET, DataSource.LAST_BATCH, DataSource.EXAMPLE)
LABELS = {DataSource.TRAINING_SET: "Training set", DataSource.LAST_BATCH: "Last batch",
          DataSource.EXAMPLE: "Example"}
TIPS = {
    DataSource.TRAINING_SET: "Show the average over the whole training set (Esc)",
    DataSource.LAST_BATCH: "Show the last mini-batch's gradients and δ",
    DataSource.EXAMPLE: "Show the focused example alone: its activations, δ and aᵢ·δⱼ "
                        "(click a point in the output view, or press ] [ L)",
}


class DataSourceSwitch(QWidget):
    """Three segmented buttons bound to ``controller.view_state.data_source``.

    Attributes
    ----------
    buttons
        {DataSource: QToolButton}.
    """

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._state = controller.view_state
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.buttons: dict[DataSource, QToolButton] = {}
        for k, source in enumerate(SOURCES):
            button = QToolButton(self)
            button.setText(LABELS[source])
            button.setCheckable(True)
            button.setToolTip(TIPS[source])
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep Space and → for the window
            button.setObjectName(f"src_{'first' if k == 0 else 'last' if k == len(SOURCES) - 1 else 'mid'}")
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            self._group.addButton(button, k)
            self.buttons[source] = button
            row.addWidget(button)
        self._group.idClicked.connect(self._on_group_id_clicked)

        events = self._state.events
        callbacks = ((events.data_source, self._on_view_state_changed),
                     (events.focused_example, self._on_view_state_changed))
        for signal, callback in callbacks:
            signal.connect(callback)

        def disconnect(*_: object) -> None:
            for signal, callback in callbacks:
                signal.disconnect(callback, missing_ok=True)

        self.destroyed.connect(disconnect)
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        self._show()

    # ----------------------------------------------------------------------- handlers

    def _on_group_id_clicked(self, index: int) -> None:
        self._state.data_source = SOURCES[index]

    def _on_view_state_changed(self, *_: object) -> None:
        self._show()

    def _on_controller_snapshot_changed(self, _snap: Snapshot) -> None:
        self._show()

    def _show(self) -> None:
        """Buttons from the model: enabled ones, the example's number, the checked one."""
        snap = self._controller.snapshot
        row = self._state.focused_example
        has_example = snap is not None and row is not None and 0 <= row < snap.train_pass.n_rows
        batch = snap.batch_pass if snap is not None else None
        has_batch = batch is not None and batch.backward is not None
        example = self.buttons[DataSource.EXAMPLE]
        text = f"Example #{int(snap.dataset.train_indices[row])}" if has_example else LABELS[DataSource.EXAMPLE]
        blockers = [QSignalBlocker(self._group)] + [QSignalBlocker(b) for b in self.buttons.values()]
        if example.text() != text:
            example.setText(text)
        example.setEnabled(has_example)
        self.buttons[DataSource.LAST_BATCH].setEnabled(has_batch)
        shown = self._state.data_source
        if (shown is DataSource.EXAMPLE and not has_example) or (shown is DataSource.LAST_BATCH and not has_batch):
            shown = DataSource.TRAINING_SET  # what the views fall back to
        self.buttons[DataSource(shown)].setChecked(True)
        del blockers

    def set_theme(self, theme: Theme) -> None:
        for button in self.buttons.values():
            button.setStyleSheet(segment_style(theme, button.objectName().split("_")[1], 8))
        # Room for the longest number it will show, so the header keeps its width as k changes.
        example = self.buttons[DataSource.EXAMPLE]
        example.setMinimumWidth(example.fontMetrics().horizontalAdvance("Example #00000") + 18)


def summary_text(snap: Snapshot, s: ExampleSummary) -> str:
    """One line about the focused example: its inputs, target, prediction and loss."""
    inputs = ", ".join(f"{name} = {format_number(v)}" for name, v in s.inputs)
    ds = snap.dataset
    if ds.is_classification:
        target = f"class {s.target_name}"
        names = ds.class_names
        k = int(s.predicted)
        label = names[k] if k < len(names) else str(k)
        if len(s.prediction) == 1:
            predicted = f"P(class {names[1] if len(names) > 1 else 1}) = {format_number(float(s.prediction[0]))} → {label}"
        else:
            predicted = f"class {label} (p = {format_number(float(s.prediction[k]))})"
    else:
        target = f"{s.target_name} = {format_number(s.target)}"
        predicted = format_number(s.predicted)
    return f"{inputs} · target {target} · predicted {predicted} · loss ℓ = {format_number(s.loss)}"


class SourceBar(QWidget):
    """The row under the canvas's view switch: the data-source switch and the focused example.

    Attributes
    ----------
    switch
        The :class:`DataSourceSwitch`.
    example_label
        The focused example in one line ("" when none is focused).
    """

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvasSourceBar")
        self._controller = controller
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 1, 8, 3)
        row.setSpacing(8)
        self._show_label = QLabel("Show", self)
        row.addWidget(self._show_label)
        self.switch = DataSourceSwitch(controller, self)
        row.addWidget(self.switch)
        self.example_label = QElidingLabel("", self)
        self.example_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.example_label.setMinimumWidth(20)
        row.addWidget(self.example_label, 1)
        events = controller.view_state.events
        events.focused_example.connect(self._on_view_state_focused_example)
        self.destroyed.connect(lambda *_: events.focused_example.disconnect(
            self._on_view_state_focused_example, missing_ok=True))
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        self._show()

    def _on_view_state_focused_example(self, *_: object) -> None:
        self._show()

    def _on_controller_snapshot_changed(self, _snap: Snapshot) -> None:
        self._show()

    def _show(self) -> None:
        snap = self._controller.snapshot
        row = self._controller.view_state.focused_example
        if snap is None or row is None or not 0 <= row < snap.train_pass.n_rows:
            text = "click a point in the output view (or press ] [ L) to follow one example"
        else:
            text = summary_text(snap, example_summary(snap, row))
        if text != self.example_label.text():
            self.example_label.setText(text)
            self.example_label.setToolTip(text)

    def set_theme(self, theme: Theme) -> None:
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(self.backgroundRole(), QColor(theme.base))
        self.setPalette(pal)
        self._show_label.setStyleSheet(f"QLabel {{ color: {theme.muted}; }}")
        self.example_label.setStyleSheet(f"QLabel {{ color: {theme.muted}; }}")
        self.switch.set_theme(theme)
