"""Quitting and saving in the desktop app: a quit during a slow save waits for it, a save the
user chose is waited for by its own reply, Ctrl+C quits cleanly, Import CSV… asks first, and
File ▸ Open takes a CSV."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from qt_helpers import wait_for_snapshot, worker_barrier
from sandbox.session import atomic_write as aw
from sandbox.session import session_file
from sandbox.session.loading import open_path
from sandbox.session.session_file import load

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]
CSV_TEXT = "height,width,kind\n" + "\n".join(
    f"{h / 10},{w / 10},{'tall' if h > w else 'wide'}" for h in range(1, 9) for w in range(1, 9) if h != w) + "\n"


class SlowWrites:
    """Patches the session writer so that a save to a gated path blocks (in the worker
    thread) until the test releases it."""

    def __init__(self, monkeypatch) -> None:
        self.gates: dict[str, threading.Event] = {}
        self.entered: dict[str, threading.Event] = {}
        real = session_file.write_atomically

        def write(path, data):
            key = str(path)
            if key in self.gates:
                self.entered[key].set()
                self.gates[key].wait()
            real(path, data)

        monkeypatch.setattr(session_file, "write_atomically", write)

    def gate(self, path) -> threading.Event:
        self.entered[str(path)] = threading.Event()
        self.gates[str(path)] = gate = threading.Event()
        return gate

    def release_all(self) -> None:
        for gate in self.gates.values():
            gate.set()


@pytest.fixture
def slow_writes(monkeypatch):
    slow = SlowWrites(monkeypatch)
    yield slow
    slow.release_all()  # never leave the worker blocked (its thread must stop at teardown)


def _modified(qtbot, window, steps: int = 3):
    window.controller.step(steps)
    return wait_for_snapshot(qtbot, window.controller, lambda s: s.modified and s.step == steps)


# ----------------------------------------------------------------- quit during a slow save


@pytest.mark.parametrize("answer", ["Discard", "no question"])
def test_quitting_during_a_slow_save_waits_for_it_and_says_so(window, qtbot, tmp_path, monkeypatch,
                                                             slow_writes, answer):
    c = window.controller
    _modified(qtbot, window)
    path = tmp_path / "slow.json"
    gate = slow_writes.gate(path)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.save_action.trigger()  # the Save button: the save starts and runs in the worker
    qtbot.waitUntil(slow_writes.entered[str(path)].is_set)
    if answer == "Discard":
        monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.StandardButton.Discard)
    else:
        window.skip_unsaved_prompt = True

    assert not window.close()  # the close waits
    assert window.isVisible() and c._worker.thread_running()
    assert "closes when the save is done" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.saving_dialog is not None and window.saving_dialog.isVisible())
    assert "slow.json" in window.saving_dialog.labelText()
    assert not window.close()  # asking again changes nothing: still waiting, never aborting
    assert window.isVisible()

    gate.set()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert not c._worker.thread_running()  # stopped cleanly, not destroyed while running
    assert load(path).step_count == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slow.json"]  # no temporary file left


def test_a_save_that_fails_while_quitting_keeps_the_window_open(window, qtbot, tmp_path, monkeypatch,
                                                               slow_writes):
    c = window.controller
    _modified(qtbot, window)
    path = tmp_path / "gone" / "s.json"  # its folder is removed while the save waits
    path.parent.mkdir()
    gate = slow_writes.gate(path)
    window._save_to(str(path), wait=False)
    qtbot.waitUntil(slow_writes.entered[str(path)].is_set)
    path.parent.rmdir()
    window.skip_unsaved_prompt = True
    assert not window.close()
    gate.set()
    qtbot.waitUntil(lambda: window.last_message_box is not None and window.last_message_box.isVisible())
    assert "s.json" in window.last_message_box.text()
    worker_barrier(qtbot, c)
    assert window.isVisible() and c._worker.thread_running()
    assert window.saving_dialog is None or not window.saving_dialog.isVisible()
    window.last_message_box.close()


def test_the_save_chosen_in_the_question_is_waited_for_by_its_own_reply(window, qtbot, tmp_path, monkeypatch,
                                                                        slow_writes):
    """An earlier save's reply must not end the wait: here the earlier save succeeds and the
    chosen one is refused (a read-only file), so opening must not go on and drop the work."""
    c = window.controller
    before = _modified(qtbot, window)
    earlier, chosen = tmp_path / "earlier.json", tmp_path / "chosen.json"
    chosen.write_text("the user's read-only file")
    chosen.chmod(0o444)
    earlier_gate, chosen_gate = slow_writes.gate(earlier), slow_writes.gate(chosen)
    window._save_to(str(earlier), wait=False)
    qtbot.waitUntil(slow_writes.entered[str(earlier)].is_set)

    def release_chosen_after_the_earlier_reply(request, path, ok, message):
        if path == str(earlier):
            chosen_gate.set()  # the window has seen the earlier save's reply by now

    c.saveFinished.connect(release_chosen_after_the_earlier_reply)
    window._path = chosen  # Save goes to chosen.json without a dialog
    monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.StandardButton.Save)
    opened = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: opened.append(a) or ("", ""))
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, earlier_gate.set)  # runs inside the wait
    try:
        window.open_action.trigger()  # "Save changes?" → Save, and wait for that save
    finally:
        c.saveFinished.disconnect(release_chosen_after_the_earlier_reply)
        chosen.chmod(0o644)
    assert opened == []  # the chosen save failed: nothing was opened over the work
    qtbot.waitUntil(lambda: window.last_message_box is not None and window.last_message_box.isVisible())
    assert "read-only" in window.last_message_box.text()
    window.last_message_box.close()
    assert load(earlier).step_count == 3
    worker_barrier(qtbot, c)
    assert c.snapshot.run_id == before.run_id and c.snapshot.step == 3


def test_the_save_chosen_in_the_question_succeeding_lets_open_go_on(window, qtbot, tmp_path, monkeypatch):
    c = window.controller
    _modified(qtbot, window)
    chosen = tmp_path / "chosen.json"
    window._path = chosen
    monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.StandardButton.Save)
    opened = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: opened.append(a) or ("", ""))
    window.open_action.trigger()
    assert len(opened) == 1
    assert load(chosen).step_count == 3  # written before the open dialog came up
    assert not window.saves_running


# ------------------------------------------------------------------------------------ Ctrl+C


APP = textwrap.dedent(
    """
    import os, sys
    import sandbox._qt.app as app

    real = app._install_automation
    slow_path = os.environ.get("SLOW_SAVE_TO")

    def hook(window):
        real(window)
        from PySide6.QtCore import QTimer
        window.statusBar().messageChanged.connect(lambda text: text and print("status:", text, flush=True))
        if slow_path:
            from sandbox.session import session_file

            real_write = session_file.write_atomically

            def slow(path, data):
                print("writing", flush=True)
                sys.stdin.readline()  # in the worker thread, until the test says go on
                real_write(path, data)

            session_file.write_atomically = slow
            QTimer.singleShot(0, lambda: window._save_to(slow_path, wait=False))
        QTimer.singleShot(0, lambda: print("ready", flush=True))

    app._install_automation = hook
    from sandbox.cli import main

    sys.exit(main([]))
    """
)


def _start_app(tmp_path, **env):
    return subprocess.Popen(
        [sys.executable, "-c", APP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen",
                 XDG_CONFIG_HOME=str(tmp_path / "config"), **env),
    )


def _read_until(child, wanted: str) -> list[str]:
    lines = []
    while True:
        line = child.stdout.readline()
        assert line, f"the app ended before {wanted!r}: {lines} {child.stderr.read()}"
        lines.append(line.strip())
        if wanted in line:
            return lines


def _finish(child, timeout: float = 30) -> tuple[str, str]:
    try:
        return child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        pytest.fail(f"the app did not exit: {out} {err}")


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_ctrl_c_in_the_terminal_quits_the_app_cleanly(tmp_path):
    child = _start_app(tmp_path)
    _read_until(child, "ready")
    child.send_signal(signal.SIGINT)
    _out, err = _finish(child)
    assert child.returncode == 0, err
    assert "QThread: Destroyed" not in err and "Traceback" not in err and "KeyboardInterrupt" not in err


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_ctrl_c_during_a_slow_save_waits_for_the_save_then_exits_cleanly(tmp_path):
    path = tmp_path / "slow.json"
    child = _start_app(tmp_path, SLOW_SAVE_TO=str(path))
    _read_until(child, "writing")
    child.send_signal(signal.SIGINT)
    _read_until(child, "closes when the save is done")  # the window says it waits
    assert child.poll() is None
    child.stdin.write("go on\n")
    child.stdin.flush()
    _out, err = _finish(child)
    assert child.returncode == 0, err
    assert "QThread: Destroyed" not in err and "Traceback" not in err
    assert load(path).step_count == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config", "slow.json"]


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to this process")
def test_ctrl_c_wakes_an_event_loop_that_runs_no_python(qapp):
    """The handler must run although the sleeping event loop runs no Python code: the wakeup
    socket wakes it (without it, Python would run the handler only when something else ran)."""
    from types import SimpleNamespace

    from PySide6.QtCore import QEventLoop, QTimer

    from sandbox._qt.app import install_interrupt_handler

    loop = QEventLoop()
    interrupted = []
    window = SimpleNamespace(interrupt=lambda: (interrupted.append(True), loop.quit()))
    fallback = QTimer()
    fallback.setSingleShot(True)
    fallback.setInterval(10_000)
    fallback.timeout.connect(loop.quit)  # a C++ connection: no Python runs while waiting
    main = threading.main_thread().ident
    this = sys._getframe()

    def send_when_main_thread_sleeps_in_exec():
        # The main thread's innermost Python frame is this test at loop.exec() only while it
        # is inside the C++ event loop (it holds no GIL there, so this thread can look).
        while True:
            frame = sys._current_frames().get(main)
            if frame is this and frame.f_lineno == exec_line:
                break
            time.sleep(0.001)
        os.kill(os.getpid(), signal.SIGINT)

    uninstall = install_interrupt_handler(window)
    sender = threading.Thread(target=send_when_main_thread_sleeps_in_exec, daemon=True)
    try:
        fallback.start()
        exec_line = sys._getframe().f_lineno + 2
        sender.start()
        loop.exec()
    finally:
        uninstall()
    sender.join(5)
    assert interrupted == [True] and fallback.isActive()


def test_ctrl_c_while_the_question_is_open_cancels_it_and_quits(window, qtbot):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    _modified(qtbot, window)
    seen, stuck = [], []

    def ctrl_c():
        seen.append(QApplication.activeModalWidget())
        window.interrupt()

    def unstick():  # only if the question was left open: the test then fails, not hangs
        box = QApplication.activeModalWidget()
        if box is not None and window.isVisible():
            stuck.append(box)
            box.reject()

    QTimer.singleShot(0, ctrl_c)  # Ctrl+C arrives while the real question waits for an answer
    QTimer.singleShot(5000, unstick)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible())
    assert isinstance(seen[0], QMessageBox) and "Save the changes" in seen[0].text()
    assert stuck == []
    assert not window.controller._worker.thread_running()


def test_a_save_that_fails_unexpectedly_still_replies_so_quitting_does_not_hang(window, qtbot, tmp_path,
                                                                               monkeypatch):
    import sandbox._qt.worker as worker_module

    c = window.controller
    _modified(qtbot, window)

    def broken(image, path):
        raise RuntimeError("a bug in saving")

    monkeypatch.setattr(worker_module, "save_image", broken)
    replies = []
    c.saveFinished.connect(lambda *args: replies.append(args))
    window._save_to(str(tmp_path / "s.json"), wait=False)
    window.skip_unsaved_prompt = True
    assert not window.close()
    qtbot.waitUntil(lambda: len(replies) == 1)
    assert replies[0][2] is False
    qtbot.waitUntil(lambda: window.last_message_box is not None and window.last_message_box.isVisible())
    assert "a bug in saving" in window.last_message_box.detailedText()
    assert window.isVisible() and not window.saves_running  # the quit is off; the app lives on
    window.last_message_box.close()


# -------------------------------------------------------------------- Import CSV asks first


@pytest.mark.parametrize("via", ["menu", "controls button"])
def test_import_csv_asks_before_replacing_unsaved_work(window, qtbot, tmp_path, monkeypatch, via):
    c = window.controller
    before = _modified(qtbot, window)
    csv = tmp_path / "data.csv"
    csv.write_text(CSV_TEXT)
    asked, chosen = [], []
    answer = [QMessageBox.StandardButton.Cancel]
    monkeypatch.setattr(QMessageBox, "exec", lambda self: asked.append(self.text()) or answer[0])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: chosen.append(a) or (str(csv), ""))
    trigger = window.import_action.trigger if via == "menu" else window.controls.import_button.click
    trigger()
    assert len(asked) == 1 and "Save the changes" in asked[0]
    assert chosen == []  # cancelled: no file dialog, nothing replaced
    worker_barrier(qtbot, c)
    assert c.snapshot.run_id == before.run_id and c.snapshot.step == 3

    answer[0] = QMessageBox.StandardButton.Discard
    trigger()
    assert len(asked) == 2 and len(chosen) == 1
    dialog = window.controls.csv_dialog  # the preview and the target column, then Import
    qtbot.waitExposed(dialog)
    dialog.import_button.click()
    snap = wait_for_snapshot(qtbot, c, lambda s: s.data_spec.source == "csv")
    assert snap.dataset.name == "data.csv"


# ------------------------------------------------------------------------ Open accepts CSVs


def test_file_open_accepts_a_csv_and_opens_it_as_the_command_line_does(window, qtbot, tmp_path, monkeypatch):
    c = window.controller
    csv = tmp_path / "data.csv"
    csv.write_text(CSV_TEXT)
    filters = []

    def choose(_parent, _title, _start, file_filter, *rest, **kw):
        filters.append(file_filter)
        return str(csv), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", choose)
    with qtbot.waitSignal(c.sessionLoaded, timeout=5000):
        window.open_action.trigger()
    assert "*.csv" in filters[0].split(";;")[0]  # the first filter shows sessions and CSVs
    snap = wait_for_snapshot(qtbot, c, lambda s: s.dataset.name == "data.csv")
    expected = open_path(csv)  # what `backprop-sandbox data.csv` opens
    assert snap.dataset.input_names == expected.dataset.input_names == ("height", "width")
    assert snap.dataset.class_names == expected.dataset.class_names
    assert np.array_equal(snap.dataset.inputs, expected.dataset.inputs)
    assert snap.description == expected.description
    for a, b in zip(snap.weights, expected.layout.unpack(expected.flat)[0], strict=True):
        assert np.array_equal(a, b)
    # It is untitled: Save asks where to put the session, and never writes over the CSV.
    assert window.path is None and "data.csv" in window.windowTitle()
    target = tmp_path / "data.json"
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a[2]) or (str(target), ""))
    with qtbot.waitSignal(c.sessionSaved, timeout=5000):
        window.save_action.trigger()
    assert asked and asked[0].endswith("data.json")
    assert csv.read_text() == CSV_TEXT
    assert load(target).dataset.name == "data.csv"
    assert not [name for name in os.listdir(tmp_path) if aw.is_temp_name(name)]
