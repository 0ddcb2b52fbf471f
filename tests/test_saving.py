"""Saving in every case a desktop user meets: symlinks, read-only files, long names, stale
temporary files, a full disk (patched and real) and a save killed half way."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qt_helpers import small_run
from sandbox.session import DataSpec, TrainingRun
from sandbox.session import atomic_write as aw
from sandbox.session.session_file import SessionFileError, load, save

ROOT = Path(__file__).resolve().parents[1]
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file semantics")


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _temps(folder: Path) -> list[str]:
    return [name for name in _listing(folder) if aw.is_temp_name(name)]


@pytest.fixture
def saved(tmp_path):
    """A folder holding one saved session: (run, path, bytes on disk)."""
    run = small_run(data=DataSpec(n_points=60))
    run.train(4)
    path = tmp_path / "run.json"
    save(run, path)
    run.train(5)  # now different from what is on disk
    return run, path, path.read_bytes()


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _stale_temp(folder: Path, target: str, pid: int, age: float = 0.0, data: bytes = b"half a session") -> Path:
    path = folder / aw.temp_name(target, pid=pid)
    path.write_bytes(data)
    if age:
        then = time.time() - age
        os.utime(path, (then, then))
    return path


# ------------------------------------------------------------------------------ symlinks


@posix_only
@pytest.mark.parametrize("layout", ["same folder", "other folder", "relative", "chain", "dangling"])
def test_a_symlinked_target_keeps_its_link_and_updates_what_it_points_to(tmp_path, saved, layout):
    run, real, old_bytes = saved
    links = tmp_path / "links"
    links.mkdir()
    link = (tmp_path if layout == "same folder" else links) / "link.json"
    if layout == "relative":
        link.symlink_to(Path("..") / real.name)
    elif layout == "chain":
        middle = links / "middle.json"
        middle.symlink_to(real)
        link.symlink_to(middle)
    elif layout == "dangling":
        real.unlink()
        link.symlink_to(real)
    else:
        link.symlink_to(real)
    save(run, link)
    assert link.is_symlink() and (layout != "chain" or (links / "middle.json").is_symlink())
    assert real.is_file() and not real.is_symlink()
    assert real.read_bytes() != old_bytes
    assert load(real).step_count == run.step_count == 9
    assert _temps(tmp_path) == [] and _temps(links) == []


# ---------------------------------------------------------------------------- read-only


@posix_only
@pytest.mark.parametrize("mode", [0o444, 0o400, 0o555], ids=oct)
def test_a_read_only_file_is_refused_and_left_as_it_was(saved, mode):
    run, path, old_bytes = saved
    path.chmod(mode)
    try:
        with pytest.raises(SessionFileError) as info:
            save(run, path)
        assert str(info.value).startswith(f"{path}: ")
        assert "read-only" in str(info.value)
        assert path.read_bytes() == old_bytes
        assert path.stat().st_mode & 0o777 == mode
        assert _listing(path.parent) == [path.name]
    finally:
        path.chmod(0o644)


@posix_only
def test_a_read_only_file_behind_a_symlink_is_refused_too(tmp_path, saved):
    run, path, old_bytes = saved
    link = tmp_path / "link.json"
    link.symlink_to(path)
    path.chmod(0o444)
    try:
        with pytest.raises(SessionFileError, match="read-only"):
            save(run, link)
        assert path.read_bytes() == old_bytes and link.is_symlink()
    finally:
        path.chmod(0o644)


@posix_only
def test_the_cli_refuses_to_train_over_a_read_only_file_in_one_line(tmp_path, saved):
    _run, path, old_bytes = saved
    path.chmod(0o444)
    try:
        result = subprocess.run([sys.executable, "-m", "sandbox", "train", str(path), "--steps", "3"],
                                capture_output=True, text=True, timeout=300, cwd=ROOT,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("backprop-sandbox: error: "), result.stderr
        assert "read-only" in lines[0] and str(path) in lines[0]
        assert path.read_bytes() == old_bytes
    finally:
        path.chmod(0o644)


# ---------------------------------------------------------------------------- long names


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError):
        return 255


@pytest.mark.parametrize("char", ["a", "é", "日"])
def test_a_name_as_long_as_the_file_system_allows_saves(tmp_path, char):
    limit = _name_max(tmp_path)
    per_char = len(os.fsencode(char))
    name = char * ((limit - len(".json")) // per_char) + ".json"
    assert limit - per_char < len(os.fsencode(name)) <= limit
    run = small_run(data=DataSpec(n_points=60))
    save(run, tmp_path / name)
    assert _listing(tmp_path) == [name]
    run.train(2)
    save(run, tmp_path / name)  # over an existing file too
    assert load(tmp_path / name).step_count == 2
    assert _listing(tmp_path) == [name]


@given(name=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1,
                    max_size=300),
       name_max=st.integers(40, 300))
def test_temp_names_fit_name_max_and_are_recognised(name, name_max):
    tmp = aw.temp_name(name, name_max)
    assert len(os.fsencode(tmp)) <= name_max
    assert aw.is_temp_name(tmp)
    assert tmp.startswith(".") and tmp.endswith(aw.TEMP_SUFFIX)
    tail = len(f".{os.getpid()}-{aw.host_tag()}-01234567{aw.TEMP_SUFFIX}")
    embedded = tmp[1:-tail]
    assert name.startswith(embedded)  # the target's name, shortened only as far as needed
    assert len(os.fsencode(tmp)) > name_max - 4 or embedded == name


# ---------------------------------------------------------------------- stale temp files


def test_the_next_save_removes_temps_of_dead_writers_and_keeps_everything_else(tmp_path, saved):
    run, path, _old = saved
    folder = path.parent
    dead = _dead_pid()
    stale = [
        _stale_temp(folder, path.name, dead),  # a killed save of this file
        _stale_temp(folder, "other.json", dead),  # of another file in the folder
        _stale_temp(folder, path.name, os.getpid(), age=aw.STALE_SECONDS + 60),  # old, whoever wrote it
    ]
    live = _stale_temp(folder, path.name, os.getpid())  # a save that may still be running
    kept_users = [
        folder / f".{path.name}.tmp",
        folder / f".{path.name}.abcdefgh.tmp",  # the previous version's temp names
        folder / "notes.bps-tmp",
        folder / f"{path.name}.{dead}-{aw.host_tag()}-0123abcd.bps-tmp",  # no leading dot
        folder / f".x.{dead}-{aw.host_tag()}-0123abcd.bps-tmp.txt",
    ]
    for p in kept_users:
        p.write_text("the user's own file")
    shaped_dir = folder / aw.temp_name("dir", pid=dead)
    shaped_dir.mkdir()
    shaped_link = folder / aw.temp_name("link", pid=dead)
    if os.name == "posix":
        shaped_link.symlink_to(path)
    save(run, path)
    names = _listing(folder)
    for p in stale:
        assert p.name not in names
    for p in [live, *kept_users, shaped_dir]:
        assert p.name in names
    if os.name == "posix":
        assert shaped_link.is_symlink()
    assert load(path).step_count == run.step_count


def test_a_temp_from_another_machine_is_kept_until_it_is_old(tmp_path):
    here = aw.host_tag()
    elsewhere = f"{(int(here, 16) + 1) % 0x10000:04x}"
    dead = _dead_pid()
    young = tmp_path / aw.temp_name("s.json", pid=dead).replace(f"-{here}-", f"-{elsewhere}-")
    old = tmp_path / aw.temp_name("t.json", pid=dead).replace(f"-{here}-", f"-{elsewhere}-")
    for p in (young, old):
        p.write_bytes(b"x")
    then = time.time() - aw.STALE_SECONDS - 1
    os.utime(old, (then, then))
    assert aw.remove_stale_temps(tmp_path) == [old.name]
    assert young.exists()


# --------------------------------------------------------------- faults: a full disk, patched


def _enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("fail_at", [1, 2, 3, 5])
def test_a_disk_that_fills_during_the_write_leaves_the_old_file_and_no_temp(saved, monkeypatch, fail_at):
    """os.write accepts a small piece per call and the disk fills at call ``fail_at``."""
    run, path, old_bytes = saved
    real_write = os.write
    calls = []

    def write(fd, data):
        calls.append(len(data))
        if len(calls) >= fail_at:
            _enospc()
        return real_write(fd, bytes(data[:1000]))  # a short write: the writer must loop

    monkeypatch.setattr(aw.os, "write", write)
    with pytest.raises(SessionFileError) as info:
        save(run, path)
    monkeypatch.undo()
    assert len(calls) == fail_at
    assert str(info.value) == f"{path}: could not save ({os.strerror(errno.ENOSPC)})"
    assert path.read_bytes() == old_bytes
    assert _listing(path.parent) == [path.name]
    load(path)


def test_short_writes_are_completed(saved, monkeypatch):
    run, path, _old = saved
    real_write = os.write
    monkeypatch.setattr(aw.os, "write", lambda fd, data: real_write(fd, bytes(data[:777])))
    save(run, path)
    monkeypatch.undo()
    assert load(path).step_count == run.step_count
    assert _listing(path.parent) == [path.name]


@pytest.mark.parametrize("failing", ["fsync", "close", "replace", "chmod", "open"])
def test_a_failure_at_any_later_point_leaves_the_old_file_and_no_temp(saved, monkeypatch, failing):
    run, path, old_bytes = saved
    real = getattr(os, failing)
    temp_fds = set()

    def fail_for_the_temp(*args, **kwargs):
        # Only the temporary file's calls fail: the folder's fsync may still succeed.
        first = args[0]
        is_temp = (isinstance(first, int) and first in temp_fds) or (
            not isinstance(first, int) and aw.is_temp_name(Path(first).name))
        if is_temp:
            _enospc()
        result = real(*args, **kwargs)
        return result

    real_open = os.open

    def tracking_open(p, *args, **kwargs):
        fd = real_open(p, *args, **kwargs)
        if aw.is_temp_name(Path(p).name):
            temp_fds.add(fd)
        return fd

    if failing != "open":
        monkeypatch.setattr(aw.os, "open", tracking_open)
    monkeypatch.setattr(aw.os, failing, fail_for_the_temp)
    with pytest.raises(SessionFileError) as info:
        save(run, path)
    monkeypatch.undo()
    assert os.strerror(errno.ENOSPC) in str(info.value)
    assert path.read_bytes() == old_bytes
    assert _listing(path.parent) == [path.name]


# ------------------------------------------------------------------- a real full disk (tmpfs)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (skipped where mounting is not permitted)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("tmpfs is Linux only")
    mount = tmp_path / "tiny"
    mount.mkdir()
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs ({exc})")
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({result.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=30)


def test_a_real_full_disk_leaves_the_old_file_and_no_temp(tiny_disk):
    path = tiny_disk / "s.json"
    small = small_run(data=DataSpec(n_points=60))
    save(small, path)  # about 6 kB: fits
    old_bytes = path.read_bytes()
    big = small_run(data=DataSpec(n_points=2000))  # about 115 kB: cannot fit in 64 kB
    with pytest.raises(SessionFileError) as info:
        save(big, path)
    assert str(info.value) == f"{path}: could not save ({os.strerror(errno.ENOSPC)})"
    assert path.read_bytes() == old_bytes
    assert _listing(tiny_disk) == ["s.json"]
    small.train(3)
    save(small, path)  # the space the failed save took is free again
    assert load(path).step_count == 3


# ------------------------------------------------------------------- a save killed half way


KILLED_SAVE = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, sys.argv[2])
    from qt_helpers import small_run
    from sandbox.session import DataSpec
    from sandbox.session import atomic_write as aw
    from sandbox.session.session_file import save

    real_write = os.write
    calls = []

    def write(fd, data):
        calls.append(fd)
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        # Half the session is on disk: say so, then hang until killed.
        print("half written", flush=True)
        sys.stdin.read()
        raise SystemExit("not killed")

    aw.os.write = write
    run = small_run(data=DataSpec(n_points=60))
    run.train(50)
    save(run, sys.argv[1])
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_save_killed_half_way_leaves_the_old_file_and_the_next_save_cleans_up(saved):
    run, path, old_bytes = saved
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_SAVE, str(path), str(Path(__file__).parent)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT,
    )
    try:
        line = child.stdout.readline()  # blocks until the child is half way (or dies)
        assert line.strip() == "half written", child.stderr.read()
        child.kill()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        for stream in (child.stdin, child.stdout, child.stderr):
            stream.close()
    assert child.returncode == -9
    assert path.read_bytes() == old_bytes
    load(path)
    left = _temps(path.parent)
    assert len(left) == 1 and left[0].startswith(f".{path.name}.{child.pid}-")
    assert 0 < (path.parent / left[0]).stat().st_size < len(old_bytes) * 2

    other = path.parent / "another.json"
    save(run, other)  # any save into the folder removes the dead writer's temp
    assert _listing(path.parent) == sorted([path.name, other.name])
    assert path.read_bytes() == old_bytes


def test_a_save_image_is_not_changed_by_later_steps(tmp_path):
    """The autosave writes an image in another thread while training goes on: the image holds
    the state and history of the moment it was taken."""
    from sandbox.session.save_image import image_of
    from sandbox.session.session_file import load, save, save_image
    from sandbox.session.workspace import Workspace

    run = TrainingRun.create()
    run.train(40)
    image = image_of(Workspace(run))
    save(run, tmp_path / "then.json")
    run.train(25)
    save_image(image, tmp_path / "image.json")
    assert image.step == 40
    # The same file as a save of the run then, plus the runs section (format 4).
    written = json.loads((tmp_path / "image.json").read_text())
    assert written.pop("runs") == {"live": {"run_id": 1, "origin": "start", "parent": None, "branched_at": None,
                                            "first_change": "", "ended": ""}, "earlier": []}
    assert written == json.loads((tmp_path / "then.json").read_text())
    assert load(tmp_path / "image.json").step_count == 40
