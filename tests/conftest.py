"""Shared test configuration.

Qt tests run offscreen: the platform is set here, before anything imports Qt, so the suite
needs no display.  (CI's separate smoke test launches the real app under Xvfb instead.)  A
QT_QPA_PLATFORM already in the environment wins: CI runs the layout sweep
(test_layout_stability.py) again with ``QT_QPA_PLATFORM=xcb`` under xvfb-run.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep the app's settings (recent files, theme, window layout) out of the user's real ones.
import tempfile as _tempfile

os.environ["XDG_CONFIG_HOME"] = _tempfile.mkdtemp(prefix="backprop-sandbox-test-config-")
# Autosaves too (each test gets a fresh folder of its own below; this one covers environments
# copied when a test module is imported, before any fixture runs).
os.environ["BACKPROP_SANDBOX_AUTOSAVE_DIR"] = _tempfile.mkdtemp(prefix="backprop-sandbox-test-autosave-")
# One BLAS thread, as the app itself uses (see sandbox.cli); keeps timings on two cores sane.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest


@pytest.fixture(autouse=True)
def autosave_dir(tmp_path_factory, monkeypatch):
    """Every test autosaves into a fresh folder of its own (never the user's state folder, and
    never one where another test's leftovers would be offered for recovery)."""
    folder = tmp_path_factory.mktemp("autosave")
    monkeypatch.setenv("BACKPROP_SANDBOX_AUTOSAVE_DIR", str(folder))
    return folder


@pytest.fixture
def make_controller(qtbot):
    """Factory: ``make_controller(run)`` → a SessionController whose worker is stopped at teardown."""
    from sandbox._qt.controller import SessionController

    made = []

    def make(run=None, **kw):
        from qt_helpers import small_run

        controller = SessionController(run if run is not None else small_run(), **kw)
        made.append(controller)
        return controller

    yield make
    for controller in made:
        assert controller.shutdown(), "the worker thread did not stop"


@pytest.fixture
def themes(qapp):
    """A light theme manager for view tests."""
    from sandbox._qt.theme import ThemeManager

    return ThemeManager(qapp, "light")


@pytest.fixture
def window(qtbot):
    """The main window on the default session's configuration, 1280×800, shown and active, with
    a first snapshot drawn; closed without the unsaved-changes question, its worker stopped."""
    from qt_helpers import small_run, wait_for_snapshot

    from sandbox._qt.app import make_application
    from sandbox._qt.main_window import MainWindow
    from sandbox._qt.theme import ThemeManager

    app = make_application()
    win = MainWindow(small_run(), None, ThemeManager(app, "light"), persist_settings=False)
    # pytest-qt closes registered widgets before fixture teardown: never ask to save then.
    qtbot.addWidget(win, before_close_func=lambda w: setattr(w, "skip_unsaved_prompt", True))
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    wait_for_snapshot(qtbot, win.controller)
    yield win
    win.skip_unsaved_prompt = True
    win.close()
    assert not win.controller._worker.thread_running()


@pytest.fixture
def make_canvas(qtbot, make_controller, themes):
    """``make_canvas(run, size)`` → (canvas, controller), shown and drawn from a first snapshot."""
    from qt_helpers import small_run, wait_for_snapshot

    from sandbox._qt.canvas import NetworkCanvas

    def make(run=None, size=(700, 480)):
        controller = make_controller(run if run is not None else small_run())
        canvas = NetworkCanvas(controller, themes)
        qtbot.addWidget(canvas)
        canvas.resize(*size)
        canvas.show()
        qtbot.waitExposed(canvas)
        wait_for_snapshot(qtbot, controller)
        qtbot.waitUntil(lambda: canvas._layout is not None)
        return canvas, controller

    return make
