"""Autosave slots without Qt: their files and lock, two apps side by side, a killed app's slot,
the writer keeping only the newest image, and a full disk."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sandbox.session import autosave
from sandbox.session.autosave import (UNKNOWN, AutosaveWriter, SlotLock, claim, discard, find_recoverable,
                                      slot_paths)
from sandbox.session.save_image import image_of
from sandbox.session.session_file import load
from sandbox.session.workspace import Workspace

from qt_helpers import small_run


def image(steps: int = 0, lr: float | None = None):
    run = small_run()
    if lr is not None:
        run.set_hyperparameters(learning_rate=lr)
    run.train(steps)
    return image_of(Workspace(run))


def results():
    """A writer callback that records its calls, and the list they go to."""
    got: list[tuple[bool, str]] = []
    return got, lambda ok, message: got.append((ok, message))


def test_the_folder_is_the_environment_override_or_the_user_state_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(autosave.ENV_DIR, str(tmp_path / "x"))
    assert autosave.autosave_dir() == tmp_path / "x"
    monkeypatch.delenv(autosave.ENV_DIR)
    from platformdirs import user_state_dir

    assert autosave.autosave_dir() == Path(user_state_dir("backprop-sandbox")) / "autosave"


def test_a_slot_holds_session_meta_and_a_held_lock(tmp_path):
    got, on_result = results()
    writer = AutosaveWriter(tmp_path, on_result)
    try:
        assert writer.lock_path.is_file() and not writer.session_path.exists()
        img = image(25)
        writer.submit(img, "/home/me/circle.json")
        assert writer.wait_idle()
        assert got == [(True, "")]
        meta = json.loads(writer.meta_path.read_text())
        assert meta["original_path"] == "/home/me/circle.json" and meta["name"] == "circle.json"
        assert meta["step"] == 25 and meta["saved_at"]
        saved = load(writer.session_path)
        assert saved.step_count == 25 and saved.flat.tobytes() == img.run.flat.tobytes()
        # The lock is held for the writer's life: nobody else can take it, so it is not offered.
        assert SlotLock.acquire(writer.lock_path) is None
        assert find_recoverable(tmp_path) == []
    finally:
        assert writer.close()
    # Closed without removing (as a killed app leaves it): now it is offered.
    [slot] = find_recoverable(tmp_path)
    assert (slot.slot_id, slot.name, slot.original_path, slot.step) == (writer.slot_id, "circle.json",
                                                                      "/home/me/circle.json", 25)
    assert slot.session_path == writer.session_path
    assert discard(slot)
    assert sorted(os.listdir(tmp_path)) == []


def test_remove_deletes_the_files_and_a_closed_slot_leaves_nothing(tmp_path):
    writer = AutosaveWriter(tmp_path)
    writer.submit(image(3))
    writer.remove()  # the image waiting is dropped, or written then removed: nothing stays
    assert writer.wait_idle()
    assert not writer.session_path.exists() and not writer.meta_path.exists()
    assert writer.close()
    assert os.listdir(tmp_path) == []


def test_two_apps_in_one_folder_never_touch_each_others_slot(tmp_path):
    first, second = AutosaveWriter(tmp_path), AutosaveWriter(tmp_path)
    try:
        assert first.slot_id != second.slot_id
        first.submit(image(5, lr=0.1), "/a.json")
        second.submit(image(9, lr=0.2), "/b.json")
        assert first.wait_idle() and second.wait_idle()
        assert load(first.session_path).hyper.learning_rate == 0.1
        assert load(second.session_path).hyper.learning_rate == 0.2
        # Neither sees the other's live slot as recoverable.
        assert find_recoverable(tmp_path) == []
        before = second.session_path.read_bytes(), second.meta_path.read_bytes()
        first.remove()
        assert first.wait_idle()
        assert (second.session_path.read_bytes(), second.meta_path.read_bytes()) == before
    finally:
        first.close()
        second.close()
    [slot] = find_recoverable(tmp_path)
    assert slot.slot_id == second.slot_id and slot.step == 9


SLOT_HOLDER = """
import sys, time
from sandbox.session.autosave import AutosaveWriter
from sandbox.session.save_image import image_of
from sandbox.session.workspace import Workspace
from qt_helpers import small_run
run = small_run()
run.train(17)
writer = AutosaveWriter(sys.argv[1])
writer.submit(image_of(Workspace(run)), None, "killed.json")
writer.wait_idle()
print("ready", writer.slot_id, flush=True)
time.sleep(600)
"""


def test_a_killed_apps_slot_is_recoverable_and_a_live_ones_is_not(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", SLOT_HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            env=env)
    try:
        line = proc.stdout.readline().split()
        assert line[:1] == ["ready"], line
        assert find_recoverable(tmp_path) == []  # alive: its lock is held
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    [slot] = find_recoverable(tmp_path)
    assert (slot.slot_id, slot.name, slot.step) == (line[1], "killed.json", 17)
    assert load(slot.session_path).step_count == 17


def test_the_writer_keeps_only_the_newest_image(tmp_path, monkeypatch):
    started, release = threading.Event(), threading.Event()
    written = []
    real = autosave.save_image

    def slow_save(img, path):
        written.append(img.step)
        if len(written) == 1:
            started.set()
            release.wait(10)  # the first write takes a while; three more arrive meanwhile
        real(img, path)

    monkeypatch.setattr(autosave, "save_image", slow_save)
    writer = AutosaveWriter(tmp_path)
    try:
        writer.submit(image(1))
        assert started.wait(10)
        for steps in (2, 3, 4):
            writer.submit(image(steps))
        release.set()
        assert writer.wait_idle()
        assert written == [1, 4]
        assert load(writer.session_path).step_count == 4
    finally:
        writer.close()


def test_a_full_disk_is_reported_and_the_last_autosave_stays(tmp_path, monkeypatch):
    got, on_result = results()
    writer = AutosaveWriter(tmp_path, on_result)
    try:
        writer.submit(image(4))
        assert writer.wait_idle()
        before = writer.session_path.read_bytes(), writer.meta_path.read_bytes()

        def no_space(target, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        from sandbox.session import atomic_write

        monkeypatch.setattr(atomic_write, "_write_and_replace", no_space)
        writer.submit(image(8))
        assert writer.wait_idle()
        assert got[0] == (True, "") and got[1][0] is False
        assert os.strerror(errno.ENOSPC) in got[1][1] and str(writer.session_path) in got[1][1]
        assert (writer.session_path.read_bytes(), writer.meta_path.read_bytes()) == before
        # The writer goes on: with space again, the next write succeeds.
        monkeypatch.undo()
        writer.submit(image(9))
        assert writer.wait_idle() and got[2] == (True, "")
        assert load(writer.session_path).step_count == 9
    finally:
        writer.close()


def test_a_folder_that_cannot_be_made_reports_instead_of_raising(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    got, on_result = results()
    writer = AutosaveWriter(blocker / "autosave", on_result)
    try:
        assert not writer.available
        writer.submit(image(1))
        assert writer.wait_idle()
        assert got and got[0][0] is False and str(blocker) in got[0][1]
    finally:
        writer.close()


def test_junk_is_removed_quietly_and_a_broken_meta_shows_unknown(tmp_path):
    # A lock or meta file without a session (killed before its first autosave): removed.
    (tmp_path / "11-0000aaaa.lock").write_text("11\n")
    (tmp_path / "12-0000bbbb.meta.json").write_text("{}")
    # Not slot files at all: left alone.
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "13-0000cccc.session.json.bak").write_text("x")
    # A session with a broken meta file, one with none, one with a meta of the wrong types.
    session_text = (Path(__file__).parents[1] / "resources" / "default.json").read_bytes()
    for slot_id, meta in (("21-000000aa", b"{not json"), ("22-000000bb", None),
                          ("23-000000cc", json.dumps({"format": autosave.META_FORMAT, "name": 5, "step": -3,
                                                      "original_path": [], "saved_at": "yesterday"}).encode())):
        session, meta_path, _ = slot_paths(tmp_path, slot_id)
        session.write_bytes(session_text)
        if meta is not None:
            meta_path.write_bytes(meta)
    slots = find_recoverable(tmp_path)
    assert sorted(s.slot_id for s in slots) == ["21-000000aa", "22-000000bb", "23-000000cc"]
    assert all((s.name, s.step, s.original_path) == (UNKNOWN, None, None) for s in slots)
    names = set(os.listdir(tmp_path))
    assert "11-0000aaaa.lock" not in names and "12-0000bbbb.meta.json" not in names
    assert {"notes.txt", "13-0000cccc.session.json.bak"} <= names


def test_slots_are_offered_newest_first(tmp_path):
    ids = []
    for steps in (1, 2, 3):
        writer = AutosaveWriter(tmp_path)
        writer.submit(image(steps))
        writer.wait_idle()
        writer.close()
        meta = json.loads(writer.meta_path.read_text())
        meta["saved_at"] = f"2026-12-02T14:0{steps}:00+00:00"
        writer.meta_path.write_text(json.dumps(meta))
        ids.append(writer.slot_id)
    assert [s.slot_id for s in find_recoverable(tmp_path)] == ids[::-1]
    # Within one second (the meta's resolution) the session file's time decides.
    for k, slot_id in enumerate(ids):
        session, meta_path, _ = slot_paths(tmp_path, slot_id)
        meta = json.loads(meta_path.read_text())
        meta["saved_at"] = "2026-12-02T14:00:00+00:00"
        meta_path.write_text(json.dumps(meta))
        os.utime(session, ns=(0, 1_800_000_000_000_000_000 - k))  # the first written is now the newest
    assert [s.slot_id for s in find_recoverable(tmp_path)] == ids


def test_a_claimed_slot_is_not_offered_and_can_be_adopted(tmp_path):
    old = AutosaveWriter(tmp_path)
    old.submit(image(6), "/x.json")
    old.wait_idle()
    old.close()
    [slot] = find_recoverable(tmp_path)
    lock = claim(slot)
    assert lock is not None
    assert find_recoverable(tmp_path) == [] and claim(slot) is None and not discard(slot)
    writer = AutosaveWriter(tmp_path)
    try:
        fresh_lock = writer.lock_path
        writer.adopt(slot.slot_id, lock)
        assert not fresh_lock.exists()
        # The recovered files stay until this writer replaces them.
        assert load(writer.session_path).step_count == 6
        writer.submit(image(7))
        writer.wait_idle()
        assert writer.session_path == slot.session_path and load(slot.session_path).step_count == 7
        assert find_recoverable(tmp_path) == []
    finally:
        writer.remove()
        writer.close()
    assert os.listdir(tmp_path) == []


def test_a_probe_never_steals_a_new_slot(tmp_path):
    """Many probes while apps take fresh slots: every writer ends up holding its own lock file."""
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            find_recoverable(tmp_path)

    prober = threading.Thread(target=probe)
    prober.start()
    writers = []
    try:
        for _ in range(150):
            writers.append(AutosaveWriter(tmp_path))
    finally:
        stop.set()
        prober.join()
    try:
        for w in writers:
            assert w.available and w.lock_path.exists() and SlotLock.acquire(w.lock_path) is None
    finally:
        for w in writers:
            w.close()
