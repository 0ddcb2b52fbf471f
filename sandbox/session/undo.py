"""The undo stack: every edit, with the name the Edit menu shows ("Undo set w[2][1,3] to 0.5").

An entry is undone in one of two ways:

* a parameter or settings edit by applying its inverse to the live run *now* (the edit's
  :meth:`~sandbox.session.commands.EditEvent.inverse`): the parameter, or the setting, goes
  back to what it was before the edit; what training has done since to the other parameters
  stays (training steps are not undo entries: the history scrubber goes back in time);
* a change that replaced the live run (a change of data, features or architecture, a reset, a
  new seed, "Continue from here", a switch of runs) by bringing the replaced run back as it
  was: its exact weights, optimizer state and history.

Redo applies the edit again (its new value), or swaps the runs back.  This module keeps the
entries; :class:`~sandbox.session.workspace.Workspace` applies them.  Qt-free, so the same
stack serves the app and the tests (``QUndoStack`` would tie it to Qt for no gain here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..formatting import format_number
from . import commands as cmd

#: Entries kept; the oldest go first (a run-replacing entry holds a whole run).
UNDO_LIMIT = 100


@dataclass(frozen=True)
class RunSwap:
    """The live run was replaced: ``before`` by ``after`` (workspace branches).
    ``after_was_earlier`` is True when ``after`` was an earlier run until then (a switch)."""

    before: Any
    after: Any
    after_was_earlier: bool = False


@dataclass(frozen=True)
class UndoEntry:
    """One undoable edit: ``event`` (a parameter or settings edit) or ``swap``."""

    text: str
    event: cmd.EditEvent | None = None
    swap: RunSwap | None = None


def edit_text(event: cmd.EditEvent) -> str:
    """The Edit menu's name for an edit: "set w[2][1,3] to 0.5", "set learning rate to 0.003"."""
    if isinstance(event, cmd.ParameterEdited):
        return f"set {event.ref.name} to {format_number(event.new)}"
    if isinstance(event, cmd.HyperparametersChanged):
        changed = event.changed
        if len(changed) == 1:
            name = changed[0]
            value = getattr(event.new, name)
            shown = format_number(value) if isinstance(value, float) else str(value)
            return f"set {name.replace('_', ' ')} to {shown}"
        return "change " + ", ".join(name.replace("_", " ") for name in changed)
    if isinstance(event, cmd.Reconfigured):
        return "change " + (event.describe() if event.describe() != "rebuilt the network" else "the network")
    if isinstance(event, cmd.DescriptionChanged):
        return "change the description"
    return "edit"


class UndoStack:
    """Entries below ``index`` can be undone, those from it on redone."""

    def __init__(self, limit: int = UNDO_LIMIT) -> None:
        self.limit = limit
        self._entries: list[UndoEntry] = []
        self._index = 0

    def __len__(self) -> int:
        return len(self._entries)

    def push(self, entry: UndoEntry) -> None:
        """Add an entry (dropping everything that could be redone)."""
        del self._entries[self._index:]
        self._entries.append(entry)
        if len(self._entries) > self.limit:
            del self._entries[: len(self._entries) - self.limit]
        self._index = len(self._entries)

    def replace_top(self, entry: UndoEntry) -> None:
        """Replace the newest entry (a slider drag folds into one entry)."""
        if self._index == 0 or self._index != len(self._entries):
            self.push(entry)
            return
        self._entries[self._index - 1] = entry

    @property
    def top(self) -> UndoEntry | None:
        """The entry undo would take, or None."""
        return self._entries[self._index - 1] if self._index else None

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._entries)

    @property
    def undo_text(self) -> str:
        return self._entries[self._index - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self._entries[self._index].text if self.can_redo else ""

    def take_undo(self) -> UndoEntry:
        if not self.can_undo:
            raise ValueError("there is nothing to undo")
        self._index -= 1
        return self._entries[self._index]

    def take_redo(self) -> UndoEntry:
        if not self.can_redo:
            raise ValueError("there is nothing to redo")
        self._index += 1
        return self._entries[self._index - 1]

    def give_back_undo(self) -> None:
        """Undo the bookkeeping of ``take_undo`` (applying the entry failed)."""
        self._index += 1

    def give_back_redo(self) -> None:
        self._index -= 1

    def clear(self) -> None:
        self._entries.clear()
        self._index = 0
