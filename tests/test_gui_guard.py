"""The app's side of the guard and of opening files: what is not a regular file is refused at
once with a message (the worker never blocks on it), and a stop caused by the optimizer state
is explained in the banner."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from qt_helpers import wait_for_snapshot, worker_barrier

pytestmark = pytest.mark.gui


@pytest.fixture
def not_files(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    paths = {"named pipe": fifo, "folder": folder, "device": Path(os.devnull)}
    yield paths
    try:  # release the worker if it blocked on the pipe (without the fix), so teardown ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def test_opening_what_is_not_a_regular_file_is_refused_at_once(window, qtbot, not_files):
    c = window.controller
    step = c.snapshot.step
    for kind, path in not_files.items():
        window.last_message_box = None
        began = time.monotonic()
        window.open_path(str(path), confirmed=True)
        qtbot.waitUntil(lambda: window.last_message_box is not None, timeout=5000)
        assert time.monotonic() - began < 5
        box = window.last_message_box
        assert str(path) in box.text() and kind in box.text()
        box.close()
        assert window.path is None  # nothing changed: the same session is open
    # The worker is not stuck: it still trains.
    c.step()
    wait_for_snapshot(qtbot, c, lambda s: s.step == step + 1)


def test_the_banner_explains_an_optimizer_state_stop(qtbot, tmp_path):
    from sandbox._qt.app import make_application
    from sandbox._qt.main_window import MainWindow
    from sandbox._qt.theme import ThemeManager
    from sandbox.session.session_file import load

    app = make_application()
    from test_guard import huge_input_run

    win = MainWindow(huge_input_run("adam"), None, ThemeManager(app, "light"), persist_settings=False)
    qtbot.addWidget(win, before_close_func=lambda w: setattr(w, "skip_unsaved_prompt", True))
    win.resize(1280, 800)
    win.show()
    c = win.controller
    wait_for_snapshot(qtbot, c)
    c.play()
    snap = wait_for_snapshot(qtbot, c, lambda s: s.divergence is not None and not s.playing)
    assert snap.step == 0 and snap.divergence.buffer == "v"
    qtbot.waitUntil(win.banner.isVisible)
    # The checked offers arrive (none trains from here: the inputs, not the rate, are at fault).
    qtbot.waitUntil(lambda: "Checking" not in win.banner.label.text(), timeout=20_000)
    text = win.banner.label.text()
    assert text.startswith("Training stopped at step 1: the optimizer's squared-gradient average "
                           "overflowed in layer 1")
    assert "rescale the inputs" in text
    assert text.count("Training stopped") == 1 and ".." not in text
    # And the session saves (before the fix it never could again).
    path = tmp_path / "stopped.json"
    worker_barrier(qtbot, c)
    with qtbot.waitSignal(c.saveFinished, timeout=10_000) as saved:
        c.save(str(path))
    assert saved.args[-2] is True, saved.args  # (…, path, ok, message)
    assert load(path).divergence == snap.divergence
    win.skip_unsaved_prompt = True
    win.close()
