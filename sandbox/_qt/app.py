"""Starting the desktop app: the QApplication, the theme, the main window."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ..resources import RESOURCES

ORGANIZATION = "BackpropSandbox"
APPLICATION = "Backprop Sandbox"


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), with names, icon and pyqtgraph's global options."""
    import pyqtgraph as pg

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    icon = RESOURCES / "icons" / "backprop-sandbox.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
    # A diverging run hands the views values that overflow float32 on their way to the screen;
    # they are drawn as saturated or neutral colours, so numpy's warnings would only be noise.
    import numpy as np

    np.seterr(over="ignore", invalid="ignore", divide="ignore")
    return app  # type: ignore[return-value]


def settings() -> QSettings:
    """Where the app keeps recent files, theme and window layout."""
    return QSettings(ORGANIZATION, "backprop-sandbox")


def run_app(path: str | None) -> int:
    """Open the main window on ``path`` (or the default session) and run the event loop."""
    from ..resources import default_run
    from ..session.loading import is_csv, open_path
    from .main_window import MainWindow
    from .theme import ThemeManager

    try:
        run = open_path(path) if path else default_run()
    except ValueError as exc:  # a bad session or CSV file
        # Reported like every command-line user error, before any window appears.
        from ..cli import UserError

        raise UserError(str(exc)) from None
    app = make_application()
    themes = ThemeManager(app, str(settings().value("theme", "system")))
    # A CSV file starts an untitled session: Save asks where to put it.
    window = MainWindow(run, None if path and is_csv(path) else path, themes)
    window.show()
    _install_automation(window)
    return app.exec()


def _install_automation(window) -> None:
    """Hooks for the benchmark's startup probe and CI's smoke test (environment variables)."""
    import time

    from PySide6.QtCore import QTimer

    if os.environ.get("BACKPROP_SANDBOX_STARTUP_PROBE"):
        # Report when the window is on screen, then quit.
        def probe() -> None:
            print(f"window-shown {time.time():.6f}", flush=True)
            window.close()

        QTimer.singleShot(0, probe)
    smoke = os.environ.get("BACKPROP_SANDBOX_SMOKE_SECONDS")
    if smoke:
        # Train for a while, then close mid-training without asking to save.
        def finish() -> None:
            snap = window.controller.snapshot
            print(f"smoke: trained {snap.step if snap else 0} steps", flush=True)
            window.skip_unsaved_prompt = True
            window.close()

        QTimer.singleShot(0, window.controller.play)
        QTimer.singleShot(int(float(smoke) * 1000), finish)
