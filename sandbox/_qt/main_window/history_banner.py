"""The strip above the canvas while the history scrubber shows an earlier step.

It says which step is shown and makes the two ways on obvious: Play (or "Back to live") goes
back to the live end and trains on from there; "Continue from here" makes the shown step the
live end and keeps the later steps as an earlier run.  An edit made while scrubbed back
continues from here first, and the strip says so.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ...session.snapshot import Snapshot
from ..controller import SessionController
from ..theme import Theme, ThemeManager
from .banner import Banner, _rgba


def history_text(shown: int, live: int) -> str:
    return (f"Showing step {shown:,} of {live:,}: the run exactly as it was then. "
            f"Play goes back to the live end (step {live:,}) and trains on from there. "
            f"Continue from here trains on from step {shown:,} instead, keeping steps "
            f"{shown + 1:,}–{live:,} as an earlier run; an edit made now does the same first.")


class HistoryBanner(Banner):
    """Shown while scrubbed back; hidden at the live end."""

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyBanner")
        self._controller = controller
        self._themes = themes
        self._shown: tuple[int, int] | None = None
        self.close_button.hide()  # it goes when the live end is shown, not by dismissing
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        ws = snap.workspace
        shown = None if ws is None or ws.shown_step is None else (ws.shown_step, ws.live_step)
        if shown == self._shown:
            return
        self._shown = shown
        if shown is None:
            self.hide()
            return
        step, live = shown
        self.show_message(history_text(step, live), [
            (f"Continue from step {step:,}", self._controller.continue_from_here),
            ("Back to live", self._controller.return_to_live),
        ], self._style(self._themes.theme))
        self.buttons[0].setToolTip("Train on from this step; the later steps stay in the loss plot "
                                   "as an earlier run (Runs menu)")
        self.buttons[1].setToolTip(f"Show the live end again (step {live:,})")

    def _style(self, theme: Theme) -> str:
        return (f"background: {_rgba(theme.selection, 0.12)}; border: 1px solid {theme.selection}; "
                "border-radius: 4px;")

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        if self.isVisible():
            self.setStyleSheet(f"QFrame#historyBanner {{ {self._style(theme)} }}")
