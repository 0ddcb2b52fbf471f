"""The controls' Training group: optimizer, learning rate, batch size, L1 and L2 rates."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
)

from ...engine import OPTIMIZERS
from ...session.config import MAX_BATCH_SIZE
from ...session.snapshot import Snapshot
from .value_inputs import KEEPS, LEARNING_RATES, REGULARIZATION_RATES, BatchSpinBox, RateCombo, is_editing, release_focus_on_enter


class TrainingSection:
    """Mixin for :class:`ControlsPanel`: builds, sends and syncs the hyperparameters."""

    def _build_training_group(self) -> QGroupBox:
        group, layout = self._group("Training")
        form = self._form()
        self.optimizer_combo = QComboBox()
        self.optimizer_combo.addItems(list(OPTIMIZERS))
        self.optimizer_combo.setToolTip(f"How gradients become updates. {KEEPS}")
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer_combo_current_index_changed)
        form.addRow("Optimizer", self.optimizer_combo)
        self.learning_rate_combo = RateCombo(LEARNING_RATES, "learning rate", 0.0, 1e6, low_open=True)
        self.learning_rate_combo.setToolTip(f"η: the step size; pick a preset or type a number. {KEEPS}")
        self.learning_rate_combo.valueCommitted.connect(self._on_learning_rate_combo_value_committed)
        form.addRow("Learning rate", self.learning_rate_combo)
        self.batch_spin = BatchSpinBox()
        self.batch_spin.setRange(1, 1)
        self.batch_spin.setKeyboardTracking(False)
        release_focus_on_enter(self.batch_spin)
        self.batch_spin.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.batch_spin.setToolTip(f"Examples per step; \"all\" uses the whole training set. {KEEPS}")
        self.batch_spin.valueChanged.connect(self._on_batch_spin_value_changed)
        form.addRow("Batch size", self.batch_spin)
        self.l1_combo = RateCombo(REGULARIZATION_RATES, "L1 rate", 0.0, 1e3, low_open=False)
        self.l1_combo.setToolTip(f"L1 penalty l1·Σ|w|: pulls every weight towards 0 by a constant. {KEEPS}")
        self.l1_combo.valueCommitted.connect(self._on_l1_combo_value_committed)
        form.addRow("L1 rate", self.l1_combo)
        self.l2_combo = RateCombo(REGULARIZATION_RATES, "L2 rate", 0.0, 1e3, low_open=False)
        self.l2_combo.setToolTip(f"L2 penalty (l2/2)·Σw²: pulls weights towards 0 in proportion. {KEEPS}")
        self.l2_combo.valueCommitted.connect(self._on_l2_combo_value_committed)
        form.addRow("L2 rate", self.l2_combo)
        for combo in (self.optimizer_combo,):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        layout.addLayout(form)
        layout.addWidget(self._note("These settings keep the weights: change them while training runs."))
        return group

    # -------------------------------------------------------------- training events

    def _send_hyper(self, **changes: object) -> None:
        hyper = self._hyper
        if hyper is not None and all(getattr(hyper, k) == v for k, v in changes.items()):
            return
        if hyper is not None:
            try:
                self._hyper = replace(hyper, **changes)
            except ValueError:
                pass  # the worker rejects it too, and the main window shows why
        self._controller.set_hyperparameters(**changes)

    def _on_optimizer_combo_current_index_changed(self, _index: int) -> None:
        self._send_hyper(optimizer=self.optimizer_combo.currentText())

    def _on_learning_rate_combo_value_committed(self, value: float) -> None:
        self._send_hyper(learning_rate=value)

    def _on_l1_combo_value_committed(self, value: float) -> None:
        self._send_hyper(l1=value)

    def _on_l2_combo_value_committed(self, value: float) -> None:
        self._send_hyper(l2=value)

    def _on_batch_spin_value_changed(self, value: int) -> None:
        # "all" is sent as the largest batch allowed, so it stays "all" when the data grows.
        self._send_hyper(batch_size=MAX_BATCH_SIZE if value >= self.batch_spin.maximum() else int(value))

    def _sync_training(self, snap: Snapshot) -> None:
        hyper = snap.hyper
        if not is_editing(self.optimizer_combo):
            with QSignalBlocker(self.optimizer_combo):
                self.optimizer_combo.setCurrentText(hyper.optimizer)
        self.learning_rate_combo.set_value(hyper.learning_rate)
        self.l1_combo.set_value(hyper.l1)
        self.l2_combo.set_value(hyper.l2)
        n_train = max(1, self._n_train)
        with QSignalBlocker(self.batch_spin):
            self.batch_spin.setMaximum(n_train)
        self._set_spin(self.batch_spin, min(hyper.batch_size, n_train))
