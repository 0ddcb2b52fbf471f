"""The offer, at startup, to recover what a killed app autosaved.

Shown before the main window exists (so before training starts) when
:func:`~sandbox.session.autosave.find_recoverable` finds slots: "Backprop Sandbox did not
close normally. Recover circle.json, step 12,345, autosaved 2 Dec 14:02?" with **Recover**,
**Discard** and **Decide later** (Escape; the offer comes again at the next start).  With
several slots the newest is offered and the text says how many more wait; they are offered,
newest first, at later starts.

Recover loads the slot's session file the way the command line's file is loaded at startup
(:func:`~sandbox.session.loading.open_workspace`); the slot stays claimed (locked) for the new
window, which adopts it as its own autosave (:meth:`AutosaveController.adopt
<sandbox._qt.autosave.AutosaveController.adopt>`): it is deleted only once the recovered
session is saved or closed normally, so a kill right after recovering loses nothing.  A slot
that does not load gives the usual clear error, and is kept.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from ..session.autosave import UNKNOWN, Slot, SlotLock, claim, discard, find_recoverable
from ..session.loading import open_workspace
from ..session.run import TrainingRun


class Choice(enum.Enum):
    RECOVER = "recover"
    DISCARD = "discard"
    LATER = "later"


@dataclass
class Recovered:
    """A recovered session: its slot (still claimed by ``lock``) and the loaded run."""

    slot: Slot
    lock: SlotLock
    run: TrainingRun


def offer_text(slot: Slot) -> str:
    """"Recover circle.json, step 12,345, autosaved 2 Dec 14:02?" (local time)."""
    step = "step unknown" if slot.step is None else f"step {slot.step:,}"
    when = slot.saved_at.astimezone()
    return f"Recover {slot.name}, {step}, autosaved {when.day} {when:%b %H:%M}?"


class RecoveryDialog(QMessageBox):
    """Recover / Discard / Decide later for one slot (Escape decides later)."""

    def __init__(self, slot: Slot, more: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(QMessageBox.Icon.Question, "Recover unsaved work",
                         "Backprop Sandbox did not close normally.", QMessageBox.StandardButton.NoButton, parent)
        self.setObjectName("recoveryDialog")
        # File names are shown as they are: "<b>.json" is a legal name, not markup.
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.slot = slot
        info = offer_text(slot)
        if slot.original_path:
            info += f"\n\nIt came from {slot.original_path}; autosaves never write to that file."
        if more:
            info += (f"\n\n{more} more autosaved session{'s' if more > 1 else ''} "
                     f"{'wait' if more > 1 else 'waits'}; {'they are' if more > 1 else 'it is'} offered at the next start.")
        self.setInformativeText(info)
        self.recover_button = self.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        self.discard_button = self.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        self.later_button = self.addButton("Decide later", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.recover_button)
        self.setEscapeButton(self.later_button)

    def choice(self) -> Choice:
        """What the user chose (Decide later when the dialog was closed another way)."""
        clicked = self.clickedButton()
        if clicked is self.recover_button:
            return Choice.RECOVER
        if clicked is self.discard_button:
            return Choice.DISCARD
        return Choice.LATER


def offer_recovery(directory=None, parent: QWidget | None = None) -> Recovered | None:
    """Offer the newest recoverable autosave, if any, and do what the user chose.

    Returns the recovered session for the caller to open, or None (nothing to recover, Discard,
    Decide later, another app took the slot meanwhile, or it did not load).
    """
    slots = find_recoverable(directory)
    if not slots:
        return None
    slot = slots[0]
    dialog = RecoveryDialog(slot, len(slots) - 1, parent)
    dialog.exec()
    choice = dialog.choice()
    dialog.deleteLater()
    if choice is Choice.LATER:
        return None
    lock = claim(slot)
    if lock is None:
        return None  # another app started at the same moment and took it
    if choice is Choice.DISCARD:
        discard(slot, lock)
        return None
    try:
        run = open_workspace(slot.session_path)  # with its earlier runs' curves
    except ValueError as exc:  # SessionFileError: the message names the file and the problem
        lock.release()
        QMessageBox.warning(parent, "Could not recover the session",
                            f"{exc}\n\nThe autosave is kept in {Path(slot.session_path).parent}.")
        return None
    return Recovered(slot, lock, run)


def recovered_name(slot: Slot) -> str:
    """What the window calls a recovered session that has no file of its own."""
    return "Untitled" if slot.name == UNKNOWN else slot.name
