"""The compiled engine in the app: kernels prepared in the background at launch, a training
command that arrives meanwhile waits for them (the status bar says so) and never falls back to
numpy, and Help ▸ About says which path runs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from PySide6.QtCore import Qt

from qt_helpers import small_run
from sandbox._qt.main_window.window import about_text
from sandbox._qt.worker import READY_NOTE, TrainingWorker
from sandbox.engine import compiled
from sandbox.session import commands as cmd

pytestmark = pytest.mark.gui


def test_a_step_asked_for_while_the_kernels_are_prepared_waits_for_them(qtbot, monkeypatch):
    if not compiled.available():
        pytest.skip(compiled.reason())
    ready = threading.Event()
    real_load = compiled.load

    def slow_load():
        ready.wait(30)
        return real_load()

    # As start_loading() leaves things on a first launch: a loader thread still at work.
    loader = threading.Thread(target=ready.wait, args=(30,), daemon=True)
    loader.start()
    monkeypatch.setattr(compiled, "_loader", loader)
    monkeypatch.setattr(compiled, "load", slow_load)

    notes: list[str] = []
    run = small_run()
    worker = TrainingWorker(run)
    worker.noted.connect(notes.append, Qt.ConnectionType.DirectConnection)
    worker.start()
    try:
        qtbot.waitUntil(lambda: compiled.PREPARING_NOTE in notes, timeout=5000)
        worker.submit(cmd.Step())
        assert worker.take() is None and run.step_count == 0  # waiting, not training on numpy
        ready.set()
        qtbot.waitUntil(lambda: READY_NOTE in notes, timeout=10_000)
        qtbot.waitUntil(lambda: run.step_count == 1, timeout=10_000)
    finally:
        ready.set()
        assert worker.stop()
    assert run.step_path == "compiled"
    twin = small_run()
    assert twin.step()
    assert run.flat.tobytes() == twin.flat.tobytes()  # the same step a headless run takes
    assert notes.index(compiled.PREPARING_NOTE) < notes.index(READY_NOTE)


def test_quitting_while_the_kernels_are_prepared_ends_the_worker_at_once(qtbot, monkeypatch):
    if compiled.disabled_by_env():
        pytest.skip(compiled.reason())  # then nothing is ever prepared
    monkeypatch.setattr(compiled, "_deferred", False)
    compiled_loaded = compiled._kernels
    monkeypatch.setattr(compiled, "_kernels", None)  # as on a launch: nothing loaded yet
    compiled.defer_loading()
    assert compiled.is_loading()
    monkeypatch.setattr(compiled, "_kernels", compiled_loaded)
    notes: list[str] = []
    worker = TrainingWorker(small_run())
    worker.noted.connect(notes.append, Qt.ConnectionType.DirectConnection)
    worker.start()
    qtbot.waitUntil(lambda: compiled.PREPARING_NOTE in notes, timeout=5000)
    start = time.perf_counter()
    assert worker.stop(timeout_ms=5000)
    assert time.perf_counter() - start < 2.0
    assert worker.take() is None  # no snapshot was made (it would have needed the kernels)


def test_about_names_the_training_path_and_the_fallback(monkeypatch):
    assert "Training engine: compiled" in about_text("1.0", "compiled (numba 0.68)")
    monkeypatch.setenv(compiled.NO_COMPILE_ENV, "1")
    text = about_text("1.0", compiled.describe())
    assert "numpy fallback" in text and compiled.NO_COMPILE_ENV in text


def test_the_app_starts_and_trains_with_the_compiler_switched_off(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BACKPROP_SANDBOX_SMOKE_SECONDS="1.5",
               BACKPROP_SANDBOX_NO_COMPILE="1", HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "sandbox"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    trained = [line for line in out.stdout.splitlines() if line.startswith("smoke: trained")]
    assert trained and int(trained[-1].split()[2]) > 0
