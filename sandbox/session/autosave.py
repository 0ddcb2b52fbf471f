"""Autosave slots: where a running app keeps a copy of unsaved work, and how the next start
finds what a killed app left behind.  Qt-free.

Where
    :func:`autosave_dir`: ``$BACKPROP_SANDBOX_AUTOSAVE_DIR`` if set (tests set it), else
    ``platformdirs.user_state_dir("backprop-sandbox") / "autosave"``.  Never the user's own
    file: an autosave only ever writes its own slot's files there.

A slot
    Each running app owns one slot, named by a unique id ``<pid>-<8 random hex digits>``:

    * ``<id>.session.json``: the session, written with
      :func:`~sandbox.session.session_file.save_image` (atomic, like any save);
    * ``<id>.meta.json``: what the recovery offer shows (the original file or null, a display
      name, the step, the ISO time), written atomically *after* the session file, so a meta
      file never describes a session file that is not there yet.  A kill between the two
      leaves the previous meta (an older step) or none: the offer then shows "unknown";
    * ``<id>.lock``: held with ``fcntl.flock(LOCK_EX | LOCK_NB)`` for the app's whole life.
      The operating system releases it when the process dies however it dies (SIGKILL, power
      loss: the lock is not on the disk), so "nobody holds the lock" means "its owner is
      gone".  Where ``fcntl`` is missing (Windows) the lock file holds the owner's pid and a
      slot counts as held while that process runs.

Recovery
    :func:`find_recoverable` lists the slots whose lock nobody holds and whose session file
    exists, newest first.  It probes a lock by taking it for a moment; a new app that meets a
    probe while taking a fresh slot simply draws another id.  Leftovers that cannot be
    recovered (a lock or meta file without a session, from an app killed before it first
    autosaved) are removed quietly; a broken meta file is shown as "unknown", never raised.
    :func:`claim` takes a slot's lock for a recovery (so two apps starting at once cannot both
    recover it), :func:`discard` deletes a slot.

Writing
    :class:`AutosaveWriter` writes in its own daemon thread: :meth:`~AutosaveWriter.submit`
    keeps only the newest image waiting, and the thread reports each write's outcome through
    a callback.  A failed write (disk full) leaves the previous autosave as it was (the writes
    are atomic) and is reported; nothing is retried in a loop.  Building and writing the JSON
    of a 100,000-step default run takes ~260 ms in that thread (2.9 MB); it gives up the GIL
    like any Python thread, and another thread waited at most 12.5 ms for it when measured
    (under one frame at 60 fps), so training and drawing go on while it writes.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .json_text import dumps, loads
from .regular_file import read_regular
from .save_image import SaveImage
from .session_file import SessionFileError, atomic_write, save_image

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Overrides where autosaves go (tests point it at a temporary folder).
ENV_DIR = "BACKPROP_SANDBOX_AUTOSAVE_DIR"
APP_NAME = "backprop-sandbox"
META_FORMAT = "backprop-sandbox-autosave"
META_VERSION = 1
#: A meta file is a few hundred bytes; anything much larger is not one.
MAX_META_BYTES = 64 * 1024
#: What the offer shows for a slot whose meta file is missing or broken.
UNKNOWN = "unknown"
UNTITLED = "Untitled"

SESSION_SUFFIX = ".session.json"
META_SUFFIX = ".meta.json"
LOCK_SUFFIX = ".lock"
_SLOT_FILE = re.compile(r"(?P<id>[0-9]{1,10}-[0-9a-f]{8})(?P<kind>\.session\.json|\.meta\.json|\.lock)")


def autosave_dir() -> Path:
    """The folder autosaves go to (see the module); not created here."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    from platformdirs import user_state_dir

    return Path(user_state_dir(APP_NAME)) / "autosave"


def new_slot_id() -> str:
    """A slot id no other app uses: this process's id and 32 random bits."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def slot_paths(directory: str | os.PathLike[str], slot_id: str) -> tuple[Path, Path, Path]:
    """The session, meta and lock files of slot ``slot_id`` in ``directory``."""
    folder = Path(directory)
    return (folder / f"{slot_id}{SESSION_SUFFIX}", folder / f"{slot_id}{META_SUFFIX}",
            folder / f"{slot_id}{LOCK_SUFFIX}")


@dataclass(frozen=True)
class Slot:
    """A recoverable autosave, as :func:`find_recoverable` found it.

    Attributes
    ----------
    slot_id
        The slot's id (``<pid>-<random>``).
    name
        What to call it: the original file's name, "Untitled", or "unknown" (no usable meta).
    original_path
        The file the session came from (where a recovered session saves), or None.
    step
        The live run's step when autosaved, or None if not known.
    saved_at
        When it was autosaved (timezone-aware; the session file's time if the meta is broken).
    session_path, meta_path, lock_path
        Its files.
    """

    slot_id: str
    name: str
    original_path: str | None
    step: int | None
    saved_at: datetime
    session_path: Path
    meta_path: Path
    lock_path: Path


# -------------------------------------------------------------------------------- locks


class SlotLock:
    """An exclusive hold on a slot's lock file; :meth:`acquire` makes one, :meth:`release`
    ends it.  The operating system ends it too when the process dies."""

    #: Lock files this process holds (the pid fallback cannot tell two holders in one process).
    _held: set[str] = set()
    _held_guard = threading.Lock()

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, path: str | os.PathLike[str]) -> "SlotLock | None":
        """Take the lock at ``path`` (creating the file), or None if another holder has it.

        Raises OSError when the file cannot be created at all (no folder, no permission).
        """
        path = Path(path)
        if fcntl is None:  # pragma: no cover - Windows
            return cls._acquire_by_pid(path)
        for _ in range(10):
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return None
                raise
            # A prober may have removed the file between our open and our lock (it removes
            # junk while holding the lock): then this lock is on a file nobody else can find.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                try:
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
                except OSError:
                    pass  # the pid is only for people reading the folder
                return cls(path, fd)
            os.close(fd)
        return None

    @classmethod
    def _acquire_by_pid(cls, path: Path) -> "SlotLock | None":  # pragma: no cover - Windows
        key = str(path.resolve())
        with cls._held_guard:
            if key in cls._held:
                return None
            try:
                pid = int(path.read_text(encoding="ascii").strip() or "0")
            except (OSError, ValueError):
                pid = 0
            if pid and pid != os.getpid() and _pid_alive(pid):
                return None
            try:
                atomic_write(path, f"{os.getpid()}\n".encode("ascii"))
            except SessionFileError as exc:
                raise OSError(errno.EACCES, str(exc)) from None
            cls._held.add(key)
        return cls(path, None)

    def release(self, unlink: bool = False) -> None:
        """Let go of the lock; with ``unlink``, remove the lock file first (while still held,
        so nobody else can be holding it)."""
        if unlink:
            _remove_quietly(self.path)
        if self._fd is not None:
            try:
                os.close(self._fd)  # closing the last descriptor drops the flock
            except OSError:
                pass
            self._fd = None
        else:  # pragma: no cover - Windows
            with self._held_guard:
                self._held.discard(str(self.path.resolve()))


def _pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    """Whether a process ``pid`` runs (Windows: OpenProcess; os.kill would terminate it)."""
    try:
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    except Exception:  # noqa: BLE001 - cannot tell: treat it as running (never steal a slot)
        return True


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass  # not ours to remove, or read-only media: leaving it is harmless


# ------------------------------------------------------------------------------ recovery


def find_recoverable(directory: str | os.PathLike[str] | None = None) -> list[Slot]:
    """The slots of apps that are gone and left a session file, newest first.

    A slot whose lock is held (a running app's, or one being recovered) is skipped.  Slot
    files without a session file are removed; other files are left alone.  Never raises for
    what it finds: an unreadable folder gives no slots.
    """
    folder = Path(directory) if directory is not None else autosave_dir()
    try:
        names = [entry.name for entry in os.scandir(folder)]
    except OSError:
        return []
    ids = sorted({m["id"] for m in map(_SLOT_FILE.fullmatch, names) if m is not None})
    found = []
    for slot_id in ids:
        session, meta, lock_path = slot_paths(folder, slot_id)
        try:
            lock = SlotLock.acquire(lock_path)
        except OSError:
            continue  # cannot even probe it (read-only folder): leave it
        if lock is None:
            continue  # a running app's slot
        junk = not session.is_file()
        try:
            if junk:
                _remove_quietly(meta)
            else:
                found.append(_read_slot(slot_id, session, meta, lock_path))
        finally:
            lock.release(unlink=junk)
    # The meta's time has whole seconds; the session file's own time breaks ties.
    found.sort(key=lambda slot: (slot.saved_at, _mtime_ns(slot.session_path)), reverse=True)
    return found


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _read_slot(slot_id: str, session: Path, meta: Path, lock: Path) -> Slot:
    """The slot as its meta file describes it, or "unknown" where the meta falls short."""
    try:
        saved_at = datetime.fromtimestamp(session.stat().st_mtime, timezone.utc)
    except OSError:
        saved_at = datetime.now(timezone.utc)
    name, original, step = UNKNOWN, None, None
    try:
        doc = loads(read_regular(meta, MAX_META_BYTES).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        doc = None
    if isinstance(doc, dict) and doc.get("format") == META_FORMAT:
        if isinstance(doc.get("name"), str) and doc["name"].strip():
            name = doc["name"][:200]
        if isinstance(doc.get("original_path"), str) and doc["original_path"]:
            original = doc["original_path"]
        if isinstance(doc.get("step"), int) and not isinstance(doc["step"], bool) and doc["step"] >= 0:
            step = doc["step"]
        try:
            when = datetime.fromisoformat(str(doc.get("saved_at")))
            saved_at = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return Slot(slot_id, name, original, step, saved_at, session, meta, lock)


def claim(slot: Slot) -> SlotLock | None:
    """Hold ``slot`` while it is recovered (None: another app holds it now)."""
    try:
        return SlotLock.acquire(slot.lock_path)
    except OSError:
        return None


def discard(slot: Slot, lock: SlotLock | None = None) -> bool:
    """Delete ``slot``'s files; ``lock`` is its :func:`claim` if the caller holds one.

    Returns False (and deletes nothing) when another app holds the slot.
    """
    held = lock if lock is not None else claim(slot)
    if held is None:
        return False
    _remove_quietly(slot.session_path)
    _remove_quietly(slot.meta_path)
    held.release(unlink=True)
    return True


# ------------------------------------------------------------------------------- writing


#: A pending request to delete this app's autosave (see AutosaveWriter.remove).
_REMOVE = object()

#: ``on_result(ok, message)``: one call per write ("" on success, the reason on failure).
ResultCallback = Callable[[bool, str], None]


class AutosaveWriter:
    """This app's slot, and the thread that writes it.

    Parameters
    ----------
    directory
        The autosave folder (default :func:`autosave_dir`); created if missing.
    on_result
        Called in the writer's thread after every write: ``(True, "")`` or ``(False, why)``.

    A folder that cannot be created or locked does not raise: every submit then reports the
    failure (``available`` is False), so the app runs on and says its work is not autosaved.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None,
                 on_result: ResultCallback | None = None) -> None:
        self.directory = Path(directory) if directory is not None else autosave_dir()
        self._on_result: ResultCallback = on_result or (lambda ok, message: None)
        self._cond = threading.Condition()
        self._pending: object | None = None  # (image, original, name), _REMOVE or None
        self._busy = False
        self._closed = False
        self._lock: SlotLock | None = None
        self._problem = ""
        self.slot_id = new_slot_id()
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            for _ in range(20):
                self._lock = SlotLock.acquire(slot_paths(self.directory, self.slot_id)[2])
                if self._lock is not None:
                    break
                self.slot_id = new_slot_id()  # met a prober (or a 32-bit collision): another id
            if self._lock is None:
                self._problem = f"{self.directory}: could not lock an autosave slot"
        except OSError as exc:
            self._problem = f"{self.directory}: {exc.strerror or exc}"
        self.session_path, self.meta_path, self.lock_path = slot_paths(self.directory, self.slot_id)
        self._thread = threading.Thread(target=self._run, name="autosave-writer", daemon=True)
        self._thread.start()

    @property
    def available(self) -> bool:
        """False when the slot could not be set up (every submit reports why)."""
        return self._lock is not None

    # ------------------------------------------------------------------- any thread

    def submit(self, image: SaveImage, original_path: str | None = None, name: str | None = None) -> None:
        """Write ``image`` soon; an image still waiting is dropped (only the newest counts).

        ``original_path`` is the user's file the session came from (never written here);
        ``name`` what the recovery offer calls it (default: that file's name, or "Untitled").
        """
        with self._cond:
            if self._closed:
                return
            self._pending = (image, original_path, name)
            self._cond.notify_all()

    def remove(self) -> None:
        """Delete this app's autosave (after a save or a normal close), once any write in
        progress has finished; an image waiting is dropped.  Returns at once."""
        with self._cond:
            if self._closed:
                return
            self._pending = _REMOVE
            self._cond.notify_all()

    def adopt(self, slot_id: str, lock: SlotLock) -> None:
        """Make slot ``slot_id`` (held by ``lock``, from :func:`claim`) this writer's own, in
        this writer's folder: a recovered autosave stays on disk until the next write replaces
        it.  This writer's previous slot is deleted."""
        with self._cond:
            self._cond.wait_for(lambda: not self._busy)
            self._pending = None
            old = self._lock
            if old is not None:
                self._remove_files()
            self._lock, self.slot_id = lock, slot_id
            self.session_path, self.meta_path, self.lock_path = slot_paths(self.directory, slot_id)
        if old is not None:
            old.release(unlink=True)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is waiting or being written; True if it came to that in time."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending is None and not self._busy, timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Finish what is waiting (a removal, or a last image), stop the thread and release the
        lock (the files stay unless removed).  True if the thread ended in time."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        ended = not self._thread.is_alive()
        if ended and self._lock is not None:
            # Without a session file the slot is nothing to recover: its lock file goes too.
            self._lock.release(unlink=not self.session_path.exists())
            self._lock = None
        return ended

    # --------------------------------------------------------------- writer thread

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                job, self._pending = self._pending, None
                if job is None:  # closed with nothing waiting
                    self._cond.notify_all()
                    return
                self._busy = True
            try:
                if job is _REMOVE:
                    self._remove_files()
                else:
                    self._write(*job)  # type: ignore[misc]
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _write(self, image: SaveImage, original: str | None, name: str | None) -> None:
        if self._lock is None:
            self._report(False, self._problem)
            return
        try:
            save_image(image, self.session_path)
            meta = {
                "format": META_FORMAT,
                "version": META_VERSION,
                "original_path": None if original is None else str(original),
                "name": name or (Path(original).name if original else UNTITLED),
                "step": int(image.step),
                "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "pid": os.getpid(),
            }
            atomic_write(self.meta_path, dumps(meta).encode("utf-8"))
        except (SessionFileError, OSError, ValueError) as exc:
            self._report(False, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a bug must not end autosaving silently
            self._report(False, f"an unexpected error ({type(exc).__name__}: {exc})")
            return
        self._report(True, "")

    def _remove_files(self) -> None:
        # The meta first: a session file alone is still recoverable (as "unknown").
        _remove_quietly(self.meta_path)
        _remove_quietly(self.session_path)

    def _report(self, ok: bool, message: str) -> None:
        try:
            self._on_result(ok, message)
        except Exception:  # noqa: BLE001 - the callback's failure must not end the thread
            pass
