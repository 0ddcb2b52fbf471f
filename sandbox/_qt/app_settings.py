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


#: View ▸ Classroom Mode: whether it is on, what it hides, and which docks it hid (shown again
#: when it is left, also after a restart in classroom mode).
CLASSROOM_KEY = "classroom/enabled"
CLASSROOM_HIDDEN_KEY = "classroom/hidden"
CLASSROOM_HID_DOCKS_KEY = "classroom/hid_docks"


def _names(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = settings().value(key, list(default))
    if value is None:  # an empty list is stored as nothing at all
        return ()
    if isinstance(value, str):  # QSettings gives a one-item list back as a string
        value = [value] if value else []
    if not isinstance(value, (list, tuple)):
        return default
    return tuple(str(v) for v in value)


def classroom_enabled() -> bool:
    return bool(settings().value(CLASSROOM_KEY, False, type=bool))


def classroom_hidden(default: tuple[str, ...]) -> tuple[str, ...]:
    return _names(CLASSROOM_HIDDEN_KEY, default)


def classroom_hid_docks() -> tuple[str, ...]:
    return _names(CLASSROOM_HID_DOCKS_KEY, ())


def set_classroom(enabled: bool, hidden: tuple[str, ...], hid_docks: tuple[str, ...]) -> None:
    s = settings()
    s.setValue(CLASSROOM_KEY, bool(enabled))
    s.setValue(CLASSROOM_HIDDEN_KEY, list(hidden))
    s.setValue(CLASSROOM_HID_DOCKS_KEY, list(hid_docks))
