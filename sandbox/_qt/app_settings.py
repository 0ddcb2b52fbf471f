"""Where the app keeps recent files, theme and window layout (the QSettings factory)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from ..settings import ORGANIZATION, SETTINGS_APPLICATION


def settings() -> QSettings:
    """Where the app keeps recent files, theme and window layout."""
    return QSettings(ORGANIZATION, SETTINGS_APPLICATION)


def documents_dir() -> str:
    """Where a save or export dialog starts when no folder was used yet: the user's documents."""
    try:
        from platformdirs import user_documents_dir

        return user_documents_dir()
    except Exception:  # noqa: BLE001 - any failure falls back to home
        from pathlib import Path

        return str(Path.home())


#: Whether the canvas animates a phase stepped by hand (View ▸ Animate phase steps).
ANIMATE_PHASES_KEY = "canvas/animate_phase_steps"


def animate_phase_steps() -> bool:
    """The user's choice of View ▸ Animate phase steps (on unless switched off)."""
    return bool(settings().value(ANIMATE_PHASES_KEY, True, type=bool))


def set_animate_phase_steps(on: bool) -> None:
    settings().setValue(ANIMATE_PHASES_KEY, bool(on))
