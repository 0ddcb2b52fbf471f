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

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFrame, QLabel, QPushButton, QSizePolicy, QStackedWidget, QTabWidget, QVBoxLayout,
                               QWidget)

from ...analysis import most_blamed
from ...session.naming import NeuronRef, Ref, WeightRef
from ...session.snapshot import Snapshot
from ..controller import SessionController
from ..theme import Theme, ThemeManager
from .chain_rule_view import ChainRuleView
from .example_view import ExampleView
from .explanations import HINT
from .neuron_page import NeuronPage
from .weight_page import WeightPage
from .what_if import WhatIfView


class Inspector(WeightPage, NeuronPage, QWidget):
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
        self._dirty_force = True  # ... or the selection changed: refresh its editors too

        self._stack = QStackedWidget()
        self._pages: dict[str, int] = {}
        self._pages["none"] = self._stack.addWidget(self._build_none_page())
        self._pages["weight"] = self._stack.addWidget(self._build_weight_page())
        self._pages["neuron"] = self._stack.addWidget(self._build_neuron_page())
        summary = QWidget()
        summary_layout = QVBoxLayout(summary)
        summary_layout.setContentsMargins(8, 6, 8, 6)
        summary_layout.addWidget(self._stack)
        #: The inspector's tabs: the summary first; the explanations of the selection follow
        #: (each a widget of its own that follows the controller and skips work while hidden).
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(summary, "Value and gradient")
        self.chain_rule = ChainRuleView(controller, themes)
        self.tabs.addTab(self.chain_rule, "Chain rule")
        self.what_if = WhatIfView(controller, themes)
        self.tabs.addTab(self.what_if, "What if")
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

        controller.selectionChanged.connect(self._on_controller_selection_changed)
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        focus = controller.view_state.events.focused_example
        focus.connect(self._on_view_state_focused_example)
        self.destroyed.connect(lambda *_: focus.disconnect(self._on_view_state_focused_example, missing_ok=True))
        #: The focused example and the examples driving the selected weight.
        self.example_view = ExampleView(controller, themes)
        self.tabs.addTab(self.example_view, "Examples")
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._on_themes_theme_changed(themes.theme)
        self._refresh(force=True)

    # ----------------------------------------------------------------------- public

    def current_page(self) -> str:
        """``"none"``, ``"weight"`` or ``"neuron"``."""
        index = self._stack.currentIndex()
        return next(name for name, i in self._pages.items() if i == index)

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
        # A click must not take the keyboard focus: the page it hides would pass it on to the
        # weight page's value box, which would then swallow Space and → (the window shortcuts).
        self._most_blamed_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._most_blamed_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        layout.addWidget(title)
        layout.addWidget(self._hint_label)
        layout.addWidget(self._most_blamed_button)
        layout.addStretch(1)
        return page


    # ------------------------------------------------------------------------ signals

    def _on_controller_selection_changed(self, selection: Ref | None) -> None:
        self._weight_editor.cancel()
        self._bias_editor.cancel()
        self._selection = selection
        if not self._stack.isVisible():
            self._dirty = self._dirty_force = True
            return
        self._refresh(force=True)

    def _on_view_state_focused_example(self, *_: object) -> None:
        snap, sel = self._controller.snapshot, self._selection
        if not self.isVisible():
            self._dirty = True
        elif snap is not None and sel is not None and self._valid(snap, sel):
            # Only the example's numbers change with the focus.
            if isinstance(sel, WeightRef):
                self._refresh_weight_example(snap, sel)
            elif isinstance(sel, NeuronRef):
                self._refresh_neuron_example(snap, sel)

    def _on_controller_snapshot_changed(self, _snapshot: Snapshot) -> None:
        if not self._stack.isVisible():
            # A hidden dock (or another tab in front) costs nothing; catch up when shown.
            self._dirty = True
            return
        self._refresh(force=False)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._catch_up()

    def _on_tabs_current_changed(self, _index: int) -> None:
        self._catch_up()

    def _catch_up(self) -> None:
        if self._dirty and self._stack.isVisible():
            self._refresh(force=self._dirty_force)

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self._recolour(theme)

    def _on_most_blamed_button_clicked(self) -> None:
        snap = self._controller.snapshot
        best = most_blamed(snap, 1) if snap is not None else []
        if best:
            self._controller.select(best[0])


    def _show_page(self, name: str) -> None:
        self._stack.setCurrentIndex(self._pages[name])

    def _refresh(self, force: bool) -> None:
        self._dirty = self._dirty_force = False
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

