"""Starting the desktop app: the QApplication, the theme, the main window, and Ctrl+C."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from typing import Callable

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ..errors import UserError
from ..resources import icon_path
from ..settings import APPLICATION, ORGANIZATION
from .app_settings import settings

__all__ = ["APPLICATION", "ORGANIZATION", "make_application", "run_app", "settings", "start_window"]


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), with names, icon and pyqtgraph's global options."""
    import pyqtgraph as pg

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    icon = icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
    # A diverging run hands the views values that overflow float32 on their way to the screen;
    # they are drawn as saturated or neutral colours, so numpy's warnings would only be noise.
    import numpy as np

    np.seterr(over="ignore", invalid="ignore", divide="ignore")
    return app  # type: ignore[return-value]


#: Libraries Qt's xcb platform plugin loads (Debian package in brackets), for the message when
#: one is missing.  The probe itself loads the plugin, so it finds any missing library.
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def check_platform(environ: dict[str, str] | None = None, plugin: str | None = None) -> None:
    """Raise UserError, in one line, when Qt could not open a window here.

    Without this, Qt aborts the process (status 134) with "could not load the Qt platform
    plugin".  On Linux, the xcb platform (Qt's default there) needs a display (DISPLAY, or
    WAYLAND_DISPLAY for Wayland) and its system libraries; other platforms are left to Qt.
    """
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return
    platform = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if platform not in ("", "xcb"):
        return  # offscreen, wayland, vnc …: Qt reports its own problems
    if not env.get("DISPLAY") and not (platform == "" and env.get("WAYLAND_DISPLAY")):
        raise UserError(
            "no display to open the window on: DISPLAY"
            + (" is not set" if platform == "xcb" else " and WAYLAND_DISPLAY are not set")
            + " (run it in a desktop session; train, info and screenshot work without one)"
        )
    if platform == "" and env.get("WAYLAND_DISPLAY"):
        return  # Qt may choose Wayland, which needs none of the xcb libraries
    missing = _xcb_plugin_problem(plugin)
    if missing:
        raise UserError(missing)


def _xcb_plugin_problem(plugin: str | None = None) -> str | None:
    """Why Qt's xcb platform plugin cannot load (a missing system library), or None.

    The plugin is loaded in a child process, so a failure cannot disturb this one.
    """
    import subprocess
    from pathlib import Path

    if plugin is None:
        from PySide6.QtCore import QLibraryInfo

        plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
        candidate = Path(plugins) / "platforms" / "libqxcb.so"
        if not candidate.is_file():
            return None  # a Qt built differently: let it report for itself
        plugin = str(candidate)
    code = "import ctypes, sys\ntry:\n    ctypes.CDLL(sys.argv[1])\nexcept OSError as e:\n    print(e)\n"
    try:
        probe = subprocess.run([sys.executable, "-c", code, plugin], capture_output=True, text=True,
                               timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None  # cannot probe: let Qt try
    reason = " ".join(probe.stdout.split())
    if probe.returncode != 0 or not reason:
        return None
    library = next((lib for lib in XCB_PACKAGES if lib in reason), None)
    hint = f"install {XCB_PACKAGES[library]}" if library else "install the system libraries"
    return (f"Qt's xcb platform plugin cannot load ({reason}): {hint}; "
            "the README lists the libraries Qt needs")


#: Milliseconds after the window is shown before the kernels start compiling in the background.
COMPILE_DELAY_MS = 250


def run_app(path: str | None) -> int:
    """Open the main window on ``path`` (or the default session) and run the event loop."""
    from ..engine import compiled

    # The kernels compile (or load from the cache) in the background once the window is shown:
    # compiling meanwhile would hold the interpreter the window is built with.  The worker
    # waits for them before its first snapshot or step (with a note in the status bar).
    compiled.defer_loading()
    from ..resources import default_run
    from ..session.loading import is_csv, open_workspace
    from .theme import ThemeManager

    check_platform()
    try:
        run = open_workspace(path) if path else default_run()  # a session file keeps its earlier runs
    except ValueError as exc:  # a bad session or CSV file
        # Reported like every command-line user error, before any window appears.
        raise UserError(str(exc)) from None
    app = make_application()
    themes = ThemeManager(app, str(settings().value("theme", "system")))
    # A CSV file starts an untitled session: Save asks where to put it.
    window = start_window(run, None if path and is_csv(path) else path, themes)
    window.show()
    from PySide6.QtCore import QTimer

    # Once the window has had time to paint (when it starts changes no result: a step waits
    # for the kernels whenever they come).
    QTimer.singleShot(COMPILE_DELAY_MS, compiled.start_loading)
    uninstall = install_interrupt_handler(window)
    _install_automation(window)
    try:
        return app.exec()
    finally:
        uninstall()


def start_window(run, path: str | None, themes, **options):
    """The main window on ``run`` (from ``path``), or on what a killed app autosaved.

    Before the window exists (so before anything trains), a killed app's autosave is offered
    (:mod:`sandbox._qt.recovery_dialog`).  Recovered, it replaces ``run``: the window opens on
    it under its original file (or untitled), marked unsaved, and keeps its autosave slot.
    ``options`` go to :class:`~sandbox._qt.main_window.MainWindow`.
    """
    from .main_window import MainWindow
    from .recovery_dialog import offer_recovery, recovered_name

    recovered = offer_recovery()
    if recovered is None:
        return MainWindow(run, path, themes, **options)
    window = MainWindow(recovered.run, recovered.slot.original_path, themes, **options)
    window.autosave.adopt(recovered.slot, recovered.lock)
    window.show_recovered(recovered_name(recovered.slot))
    return window


def install_interrupt_handler(window) -> Callable[[], None]:
    """Make Ctrl+C in the terminal (SIGINT) quit the app cleanly; returns the undo.

    Ctrl+C calls ``window.interrupt()``: the window closes as File ▸ Quit does, except that
    it does not ask about unsaved changes (the terminal asked to stop, and nobody may be at
    the window to answer), and a save that is running still finishes first.

    Python runs a signal handler only when the main thread next runs Python code, and a
    paused app runs none while Qt's event loop sleeps.  So the signal also writes a byte to a
    socket (``signal.set_wakeup_fd``) that a QSocketNotifier watches: the event loop wakes,
    the notifier's slot runs Python code, and the handler runs with it.  Nothing polls: a
    paused app stays asleep until a signal arrives.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals can only be handled in the main thread
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    try:
        previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except (ValueError, OSError):  # not possible here: leave Ctrl+C as it is
        reader.close()
        writer.close()
        return lambda: None
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def drain() -> None:
        # Running this Python code is what lets the interpreter call the handler below.
        try:
            while reader.recv(256):
                pass
        except OSError:  # BlockingIOError: drained
            pass

    def on_interrupt(_signum: int, _frame: object) -> None:
        QTimer.singleShot(0, window.interrupt)

    notifier.activated.connect(drain)
    previous_handler = signal.signal(signal.SIGINT, on_interrupt)

    def uninstall() -> None:
        signal.signal(signal.SIGINT, previous_handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        notifier.deleteLater()
        reader.close()
        writer.close()

    return uninstall


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
