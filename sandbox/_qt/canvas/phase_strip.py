""""forward → backward → update": the chips above the canvas that say which phase just ran."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ...session.snapshot import Snapshot
from ..theme import Theme

#: The phases of one training step, in order (the strip's chips).
STEP_PHASES = ("forward", "backward", "update")


def just_ran_phase(snapshot: Snapshot | None) -> str:
    """Which phase of the current step ran last: "forward", "backward", "update" or ""."""
    if snapshot is None:
        return ""
    return snapshot.last_phase or ""


def phase_states(ran: str) -> tuple[str, ...]:
    """Each chip's state after ``ran`` ran: "ran", "done" (earlier this step), "next" or ""."""
    if ran == "update":
        return ("done", "done", "ran")
    if ran in STEP_PHASES:
        k = STEP_PHASES.index(ran)
        return tuple("done" if i < k else "ran" if i == k else "next" if i == k + 1 else ""
                     for i in range(len(STEP_PHASES)))
    return ("next", "", "")


class PhaseStrip(QWidget):
    """"forward → backward → update": which phase of the current step ran last.

    Each chip has a state: ``"ran"`` (the phase that just ran, strongly highlighted),
    ``"done"`` (ran earlier in this step), ``"next"`` (runs on the next phase step) or ``""``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self._chips: list[QLabel] = []
        self._arrows: list[QLabel] = []
        for k, name in enumerate(STEP_PHASES):
            if k:
                arrow = QLabel("→")
                self._arrows.append(arrow)
                layout.addWidget(arrow)
            chip = QLabel(name)
            chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
            chip.setObjectName(f"phase_{name}")
            self._chips.append(chip)
            layout.addWidget(chip)
        self._states: tuple[str, ...] = ("",) * len(STEP_PHASES)
        self._theme: Theme | None = None
        self.setToolTip("Which phase of the current training step ran last (Step phase runs the next one)")

    def states(self) -> tuple[str, ...]:
        return self._states

    def text(self) -> str:
        return " → ".join(STEP_PHASES)

    def highlighted(self) -> str:
        """The phase that just ran, or ""."""
        return next((p for p, s in zip(STEP_PHASES, self._states) if s == "ran"), "")

    def set_phase(self, ran: str) -> None:
        """Show that ``ran`` ("forward", "backward", "update" or "") just ran."""
        states = phase_states(ran)
        if states != self._states:
            self._states = states
            self._restyle()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def _restyle(self) -> None:
        t = self._theme
        if t is None:
            return
        accent = QColor(t.accent)
        soft = f"rgba({accent.red()},{accent.green()},{accent.blue()},60)"
        base = "border-radius: 3px; padding: 1px 6px;"
        styles = {
            "ran": f"{base} background: {t.accent}; color: {'#101014' if t.dark else '#ffffff'}; font-weight: bold;"
                   f" border: 1px solid {t.accent};",
            "done": f"{base} background: {soft}; color: {t.text}; border: 1px solid transparent;",
            "next": f"{base} color: {t.accent}; border: 1px dashed {t.accent};",
            "": f"{base} color: {t.muted}; border: 1px solid transparent;",
        }
        for chip, state in zip(self._chips, self._states):
            chip.setStyleSheet(f"QLabel {{ {styles[state]} }}")
        for arrow in self._arrows:
            arrow.setStyleSheet(f"QLabel {{ color: {t.muted}; }}")
