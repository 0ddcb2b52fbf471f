"""Where the app keeps recent files, theme and window layout (the QSettings factory)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from ..settings import ORGANIZATION, SETTINGS_APPLICATION


def settings() -> QSettings:
    """Where the app keeps recent files, theme and window layout."""
    return QSettings(ORGANIZATION, SETTINGS_APPLICATION)
