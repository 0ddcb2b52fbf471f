"""The inspector's weight page: w (editable), ∂J/∂w split into its terms, its rank, the next Δw."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QWidget, QVBoxLayout

from ...analysis import blame_rank, weight_gradient_terms
from ...analysis.example_focus import example_activations, example_deltas
from ...formatting import format_number
from ...session.naming import WeightRef
from ...session.snapshot import Snapshot
from ..names import unit_name
from .explanations import OPTIMIZER_EXPLANATIONS, batch_text, weight_sentence
from .labels import LabelFactory
from .value_editor import ValueEditor

#: Significant digits of every number on the inspector (a typed value shows exactly).
DIGITS = 6


class WeightPage(LabelFactory):
    """Mixin for the inspector: builds and refreshes the page of one weight W_l[i, j].

    Every number comes from :mod:`sandbox.analysis` or the snapshot; nothing is computed here.
    """

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
        # The focused example's own term (shown only while one is followed).
        self._example_term_name = self._caption("example aᵢ·δⱼ")
        self.example_term_label = self._number_label()
        self.example_term_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self._example_term_name, len(terms) + 1, 0)
        grid.addWidget(self.example_term_label, len(terms) + 1, 1)
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


    def _on_weight_editor_value_edited(self, value: float) -> None:
        sel = self._selection
        if sel is not None and isinstance(sel, WeightRef):
            self._controller.edit_weight(sel, value)


    def _refresh_weight(self, snap: Snapshot, sel: WeightRef, force: bool) -> None:
        layer, i, j = sel.layer, sel.i, sel.j
        w = float(snap.weights[layer][i, j])
        terms = weight_gradient_terms(snap, sel)
        data_term, l1_term, l2_term, grad = terms.data, terms.l1, terms.l2, terms.total
        step = float(snap.next_update[0][layer][i, j])

        if force:
            self._weight_title.setText(f"Weight {sel.name}")
            self._weight_route.setText(
                f"from {unit_name(snap, layer, i)}  →  {unit_name(snap, layer + 1, j)}"
            )
        self._weight_editor.set_value(w, force=force)
        n_train = len(snap.dataset.train_indices)
        self._grad_caption.setText(f"∂J/∂w on the training set (n = {n_train})")
        self.grad_label.setText(format_number(grad, DIGITS, signed=True))
        self._term_labels["data"].setText(format_number(data_term, DIGITS, signed=True))
        self._term_labels["l1"].setText(format_number(l1_term, DIGITS, signed=True))
        self._term_labels["l2"].setText(format_number(l2_term, DIGITS, signed=True))
        rank, count = blame_rank(snap, sel)
        self.rank_label.setText(f"#{rank:,} of {count:,}" if rank is not None and math.isfinite(grad) else "–")
        self.update_label.setText(format_number(step, DIGITS, signed=True))
        self._after_label.setText(format_number(w + step, DIGITS, signed=True))
        self._update_explanation.setText(
            OPTIMIZER_EXPLANATIONS[snap.hyper.optimizer].format(
                lr=f"{snap.hyper.learning_rate:g}", batch=batch_text(snap)
            )
        )
        self._weight_reading.setText(weight_sentence(grad, step, snap.hyper.optimizer))
        self._refresh_weight_example(snap, sel)

    def _refresh_weight_example(self, snap: Snapshot, sel: WeightRef) -> None:
        """The focused example's a_i·δ_j beside the average (hidden when none is followed)."""
        row = self._controller.view_state.focused_example
        shown = row is not None and 0 <= row < snap.train_pass.n_rows
        self._example_term_name.setVisible(shown)
        self.example_term_label.setVisible(shown)
        if not shown:
            return
        a = float(example_activations(snap, row)[sel.layer][sel.i])
        delta = float(example_deltas(snap, row)[sel.layer][sel.j])
        index = int(snap.dataset.train_indices[row])
        self._example_term_name.setText(f"example #{index}  aᵢ·δⱼ")
        self.example_term_label.setText(format_number(a * delta, DIGITS, signed=True))
        tip = (f"Example #{index} alone: aᵢ = {format_number(a, DIGITS)} times δⱼ = {format_number(delta, DIGITS)}. "
               f"The {snap.train_pass.n_rows:,} examples' terms average to the data term; L1 and L2 "
               "belong to the average, not to any one example.")
        self._example_term_name.setToolTip(tip)
        self.example_term_label.setToolTip(tip)
