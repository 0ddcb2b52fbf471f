"""The window's keys for following one example: ] next, [ previous, L largest loss, Esc back
to the training-set average; also the View menu's "Example" submenu.

They are window shortcuts (like Space and →): a line edit that has the keyboard focus still
gets its own typing, because Qt offers it printable keys first.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

#: (attribute, text, key, tip); the keys are listed in the Help text too.
EXAMPLE_KEYS = (
    ("next_example_action", "&Next example", "]", "Follow the next training example"),
    ("previous_example_action", "&Previous example", "[", "Follow the previous training example"),
    ("largest_loss_action", "&Largest loss", "L", "Follow the training example with the largest loss"),
    ("clear_example_action", "&Back to the training set", "Esc",
     "Stop following an example: the views show the training-set average"),
)


def build_example_menu(window, view_menu) -> None:
    """Add the example actions to ``window`` (a MainWindow) and a submenu of ``view_menu``."""
    c = window.controller
    slots = {
        "next_example_action": lambda: c.step_focus(1),
        "previous_example_action": lambda: c.step_focus(-1),
        "largest_loss_action": c.focus_largest_loss,
        "clear_example_action": lambda: c.focus_example(None),
    }
    menu = view_menu.addMenu("&Example")
    for name, text, key, tip in EXAMPLE_KEYS:
        act = QAction(text, window)
        act.setShortcut(QKeySequence(key))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        native = QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
        act.setToolTip(f"{tip} ({native})")
        act.setStatusTip(f"{tip} ({native})")
        act.triggered.connect(lambda _=False, slot=slots[name]: slot())
        menu.addAction(act)
        window.addAction(act)  # a shortcut of the window even when the menu bar is hidden
        setattr(window, name, act)
