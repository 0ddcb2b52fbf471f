"""Autosave in the app: when it is written and removed, the recovery offer at startup, and a
real app killed with SIGKILL and recovered."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from sandbox.session.autosave import AutosaveWriter, find_recoverable
from sandbox.session.naming import BiasRef, WeightRef
from sandbox.session.save_image import image_of
from sandbox.session.session_file import load, save
from sandbox.session.workspace import Workspace

from qt_helpers import small_run, wait_for_snapshot, worker_barrier

pytestmark = pytest.mark.gui


def make_window(qtbot, run=None, path=None, **options):
    from sandbox._qt.app import make_application
    from sandbox._qt.main_window import MainWindow
    from sandbox._qt.theme import ThemeManager

    app = make_application()
    win = MainWindow(run if run is not None else small_run(), path, ThemeManager(app, "light"),
                     persist_settings=False, **options)
    qtbot.addWidget(win, before_close_func=lambda w: setattr(w, "skip_unsaved_prompt", True))
    win.show()
    wait_for_snapshot(qtbot, win.controller)
    return win


def slot_files(folder: Path, writer: AutosaveWriter) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(writer.slot_id))


def written(qtbot, win, timeout=10_000):
    """Wait for this window's next autosave to be written (and return whether it succeeded)."""
    with qtbot.waitSignal(win.autosave.written, timeout=timeout) as blocker:
        pass
    return blocker.args[0]


def test_the_timer_autosaves_a_modified_session_and_not_an_unmodified_one(qtbot, autosave_dir):
    win = make_window(qtbot, autosave_interval_ms=100)
    writer = win.autosave.writer
    for _ in range(3):  # ticks with nothing unsaved
        qtbot.waitSignal(win.autosave._timer.timeout, timeout=5000).wait()
    worker_barrier(qtbot, win.controller)
    assert writer.wait_idle()
    assert not writer.session_path.exists()
    win.controller.edit_weight(WeightRef(0, 1, 0), 0.625)
    with qtbot.waitSignal(win.autosave.written, timeout=10_000) as blocker:
        pass
    assert blocker.args == [True, ""]
    saved = load(writer.session_path)
    assert saved.weights[0][1, 0] == 0.625
    meta = json.loads(writer.meta_path.read_text())
    assert (meta["original_path"], meta["name"]) == (None, "Untitled")


def test_a_save_removes_the_autosave(qtbot, tmp_path):
    win = make_window(qtbot, autosave_interval_ms=100)
    writer = win.autosave.writer
    win.controller.set_hyperparameters(learning_rate=0.2)
    assert written(qtbot, win)
    assert writer.session_path.exists()
    win._path = tmp_path / "mine.json"
    assert win.save(wait=True)
    qtbot.waitUntil(lambda: not writer.session_path.exists() and not writer.meta_path.exists(), timeout=5000)
    # Saved and unmodified: the timer writes nothing more.
    for _ in range(3):
        qtbot.waitSignal(win.autosave._timer.timeout, timeout=5000).wait()
    worker_barrier(qtbot, win.controller)
    assert writer.wait_idle() and not writer.session_path.exists()
    assert load(tmp_path / "mine.json").hyper.learning_rate == 0.2


def test_a_save_while_training_removes_the_autosave(qtbot, tmp_path):
    win = make_window(qtbot, autosave_interval_ms=10_000_000)
    writer = win.autosave.writer
    win.controller.set_hyperparameters(learning_rate=0.2)
    wait_for_snapshot(qtbot, win.controller, lambda s: s.modified)
    assert win.autosave.autosave_now()
    assert written(qtbot, win)
    win.controller.play()
    wait_for_snapshot(qtbot, win.controller, lambda s: s.playing)
    win._path = tmp_path / "mine.json"
    with qtbot.waitSignal(win.controller.saveFinished, timeout=10_000):
        win.save()
    # Training goes on (the session is modified again at once), but the saved work needs no autosave.
    qtbot.waitUntil(lambda: not writer.session_path.exists(), timeout=5000)
    assert win.controller.snapshot.modified


def test_taking_the_image_publishes_nothing_and_keeps_modified(qtbot):
    from sandbox.session import commands as cmd

    win = make_window(qtbot, autosave_interval_ms=10_000_000)
    c, writer = win.controller, win.autosave.writer
    c.send(cmd.Autosave(None, "x"))  # unmodified: nothing to protect, nothing written
    worker_barrier(qtbot, c)
    assert writer.wait_idle() and not writer.session_path.exists()
    c.edit_weight(WeightRef(0, 0, 1), 0.5)
    wait_for_snapshot(qtbot, c, lambda s: s.modified)
    worker_barrier(qtbot, c)
    taken = []
    c.snapshotTaken.connect(taken.append)
    assert win.autosave.autosave_now()
    assert written(qtbot, win)
    worker_barrier(qtbot, c)
    assert taken == [] and c.snapshot.modified


def test_a_normal_close_removes_the_autosave(qtbot, autosave_dir):
    win = make_window(qtbot, autosave_interval_ms=100)
    win.controller.edit_bias(BiasRef(0, 0), 0.5)
    assert written(qtbot, win)
    assert len(os.listdir(autosave_dir)) == 3
    win.skip_unsaved_prompt = True
    win.close()
    assert os.listdir(autosave_dir) == []


def test_a_new_session_removes_the_autosave(qtbot, autosave_dir):
    win = make_window(qtbot, autosave_interval_ms=100)
    win.controller.set_hyperparameters(learning_rate=0.3)
    assert written(qtbot, win)
    win.controller.new_session(small_run())
    qtbot.waitUntil(lambda: not win.autosave.writer.session_path.exists(), timeout=5000)


def test_a_structural_change_autosaves_soon_and_an_edit_waits_for_the_timer(qtbot):
    win = make_window(qtbot, autosave_interval_ms=10_000_000)
    c = win.controller
    c.edit_weight(WeightRef(0, 0, 0), 0.25)
    wait_for_snapshot(qtbot, c, lambda s: s.modified)
    worker_barrier(qtbot, c)
    assert not win.autosave._soon.isActive()  # a weight edit is not structural
    c.reset()
    with qtbot.waitSignal(win.autosave.written, timeout=10_000) as blocker:
        pass
    assert blocker.args[0]
    assert load(win.autosave.writer.session_path).step_count == 0


def test_a_failed_autosave_is_noted_once_and_loses_nothing(qtbot, monkeypatch):
    import errno

    from sandbox.session import atomic_write

    win = make_window(qtbot, autosave_interval_ms=100)
    writer = win.autosave.writer
    win.controller.set_hyperparameters(learning_rate=0.4)
    assert written(qtbot, win)
    before = writer.session_path.read_bytes()
    notes = []
    win.autosave.noted.connect(notes.append)

    def no_space(target, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic_write, "_write_and_replace", no_space)
    win.controller.set_hyperparameters(learning_rate=0.5)
    for _ in range(3):  # it fails, and the next ticks try again (and fail again)
        assert not written(qtbot, win)
    assert len(notes) == 1 and os.strerror(errno.ENOSPC) in notes[0]
    assert "Autosave failed" in win.statusBar().currentMessage()
    assert writer.session_path.read_bytes() == before
    monkeypatch.undo()
    assert written(qtbot, win)
    assert load(writer.session_path).hyper.learning_rate == 0.5


# ----------------------------------------------------------------------- recovery offer


def answer_modal(qtbot, pick, seen: list):
    """When a modal dialog appears, record it and click the button ``pick(dialog)`` returns."""

    def attempt():
        modal = QApplication.activeModalWidget()
        if modal is None:
            QTimer.singleShot(10, attempt)
            return
        seen.append((modal.windowTitle(), modal.text(), modal.informativeText()))
        button = pick(modal)  # a button to click, or None when pick answered by itself
        if button is not None:
            button.click()

    QTimer.singleShot(0, attempt)


def killed_slot(folder, steps=12, lr=0.3, original=None, name=None):
    """A slot as a killed app leaves it (written, lock released)."""
    run = small_run()
    run.set_hyperparameters(learning_rate=lr)
    run.train(steps)
    writer = AutosaveWriter(folder)
    writer.submit(image_of(Workspace(run)), original, name)
    assert writer.wait_idle()
    writer.close()
    return writer, run


def start(qtbot, run=None, path=None):
    from sandbox._qt.app import make_application, start_window
    from sandbox._qt.theme import ThemeManager

    app = make_application()
    win = start_window(run if run is not None else small_run(), path, ThemeManager(app, "light"),
                       persist_settings=False)
    qtbot.addWidget(win, before_close_func=lambda w: setattr(w, "skip_unsaved_prompt", True))
    win.show()
    wait_for_snapshot(qtbot, win.controller)
    return win


def test_recover_opens_the_autosave_under_its_original_file_unsaved(qtbot, autosave_dir, tmp_path):
    original = tmp_path / "mine.json"
    save(small_run(), original)
    original_bytes = original.read_bytes()
    old, run = killed_slot(autosave_dir, steps=12, lr=0.3, original=str(original))
    seen = []
    answer_modal(qtbot, lambda d: d.recover_button, seen)
    win = start(qtbot)
    [(title, text, info)] = seen
    assert title == "Recover unsaved work"
    assert text == "Backprop Sandbox did not close normally."
    assert info.startswith("Recover mine.json, step 12, autosaved ") and "more" not in info
    snap = wait_for_snapshot(qtbot, win.controller, lambda s: s.modified)
    assert snap.step == 12 and snap.hyper.learning_rate == 0.3
    assert all(np.array_equal(a, b) for a, b in zip(snap.weights, run.weights))
    assert win.path == original and win.isWindowModified() and "mine.json" in win.windowTitle()
    assert original.read_bytes() == original_bytes
    # The window continues the slot: its files stay until the session is saved or closed.
    assert win.autosave.writer.slot_id == old.slot_id and old.session_path.exists()
    assert find_recoverable(autosave_dir) == []
    win.skip_unsaved_prompt = True
    win.close()
    assert os.listdir(autosave_dir) == []


def test_discard_deletes_the_slot_and_decide_later_keeps_it(qtbot, autosave_dir):
    killed_slot(autosave_dir, name="older.json")
    newest, _ = killed_slot(autosave_dir, steps=3, name="newer.json")
    meta = json.loads(newest.meta_path.read_text())
    meta["saved_at"] = "2099-01-01T00:00:00+00:00"
    newest.meta_path.write_text(json.dumps(meta))
    seen = []
    # Escape: decide later.
    answer_modal(qtbot, lambda d: qtbot.keyClick(d, Qt.Key.Key_Escape), seen)
    win = start(qtbot)
    assert "Recover newer.json, step 3" in seen[0][2] and "1 more autosaved session waits" in seen[0][2]
    assert not win.isWindowModified() and win.path is None
    win.skip_unsaved_prompt = True
    win.close()
    assert len(find_recoverable(autosave_dir)) == 2
    answer_modal(qtbot, lambda d: d.discard_button, seen)
    win = start(qtbot)
    [left] = find_recoverable(autosave_dir)
    assert left.name == "older.json" and not newest.session_path.exists()
    win.skip_unsaved_prompt = True
    win.close()


def test_an_autosave_that_does_not_load_gives_an_error_and_is_kept(qtbot, autosave_dir):
    writer, _ = killed_slot(autosave_dir, name="broken.json")
    writer.session_path.write_text('{"format": "backprop-sandbox-session", "version": 3}')
    seen = []

    def then_ok(dialog):
        answer_modal(qtbot, lambda box: box.button(QMessageBox.StandardButton.Ok), seen)
        return dialog.recover_button

    answer_modal(qtbot, then_ok, seen)
    win = start(qtbot)
    assert len(seen) == 2
    assert seen[1][0] == "Could not recover the session"
    assert str(writer.session_path) in seen[1][1]
    assert not win.isWindowModified()
    [slot] = find_recoverable(autosave_dir)
    assert slot.slot_id == writer.slot_id


# --------------------------------------------------------------------- a real killed app

KILLED_APP = r"""
import json, sys
from PySide6.QtCore import Qt, QTimer
from sandbox._qt.app import make_application, start_window
from sandbox._qt.theme import ThemeManager
from sandbox.session.loading import open_path
from sandbox.session.naming import WeightRef

path = sys.argv[1]
app = make_application()
window = start_window(open_path(path), path, ThemeManager(app, "light"), persist_settings=False,
                      autosave_interval_ms=150)
window.show()
c = window.controller
c.edit_weight(WeightRef(1, 2, 0), 0.875)
c.set_hyperparameters(learning_rate=0.07)
c.play()
state = {"paused": None}

def on_snapshot(snap):
    if state["paused"] is None and snap.step >= 400:
        state["paused"] = False
        c.pause()
    elif state["paused"] is False and not snap.playing:
        state["paused"] = snap

def on_written(ok, message):
    snap = state["paused"]
    if not ok or not snap or snap is False:
        return
    meta = json.loads(window.autosave.writer.meta_path.read_text())
    if meta["step"] == snap.step:
        print("ready", json.dumps({"step": snap.step, "weights": [w.tolist() for w in snap.weights],
                                   "session": str(window.autosave.writer.session_path)}), flush=True)
        state["paused"] = True

c.snapshotChanged.connect(on_snapshot)
window.autosave.written.connect(on_written)
app.exec()
"""


def test_a_killed_app_is_recovered_bit_for_bit(qtbot, autosave_dir, tmp_path):
    original = tmp_path / "lesson.json"
    save(small_run(), original)
    original_bytes = original.read_bytes()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_APP, str(original)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        # A broken app never says "ready": give up after a minute rather than hang.
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else ""
        assert line.startswith("ready "), (line, proc.poll())
        live = json.loads(line[len("ready "):])
        assert find_recoverable(autosave_dir) == []  # still running: its slot is not offered
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    last_autosave = load(live["session"])  # the killed app's last autosave, as it left it
    assert last_autosave.step_count == live["step"] >= 400
    assert [w.tolist() for w in last_autosave.weights] == live["weights"]

    seen = []
    answer_modal(qtbot, lambda d: d.recover_button, seen)
    win = start(qtbot)
    assert f"Recover lesson.json, step {live['step']:,}," in seen[0][2]
    snap = wait_for_snapshot(qtbot, win.controller, lambda s: s.modified)
    assert snap.step == live["step"]
    for recovered, saved in zip((*snap.weights, *snap.biases), (*last_autosave.weights, *last_autosave.biases)):
        assert recovered.tobytes() == saved.tobytes()  # bit for bit
    # The edits are there: the learning rate, and the weight edit's marker in the history.
    assert snap.hyper.learning_rate == 0.07
    assert any("w[2][3,1]" in m.text and "0.875" in m.text for m in win.controller.history.markers)
    assert win.path == original and win.isWindowModified()
    assert original.read_bytes() == original_bytes  # the user's file was never written


def test_the_offer_shows_names_as_plain_text(qtbot, autosave_dir):
    from PySide6.QtWidgets import QLabel

    from sandbox._qt.recovery_dialog import RecoveryDialog

    killed_slot(autosave_dir, steps=45, name="<b>bold</b>.json")
    [slot] = find_recoverable(autosave_dir)
    dialog = RecoveryDialog(slot)
    qtbot.addWidget(dialog)
    [info] = [label for label in dialog.findChildren(QLabel) if "Recover" in label.text()]
    assert info.textFormat() == Qt.TextFormat.PlainText and "Recover <b>bold</b>.json, step 45," in info.text()
