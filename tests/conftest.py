"""Shared test configuration.

Qt tests run offscreen: the platform is set here, before anything imports Qt, so the suite
needs no display.  (CI's separate smoke test launches the real app under Xvfb instead.)
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep the app's settings (recent files, theme, window layout) out of the user's real ones.
import tempfile as _tempfile

os.environ["XDG_CONFIG_HOME"] = _tempfile.mkdtemp(prefix="backprop-sandbox-test-config-")
# One BLAS thread, as the app itself uses (see sandbox.cli); keeps timings on two cores sane.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest


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
