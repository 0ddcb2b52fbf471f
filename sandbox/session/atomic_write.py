"""Replacing a file atomically, in every case a desktop user meets.

:func:`atomic_write` writes the new bytes to a temporary file in the target's folder, fsyncs
it and renames it over the target, so a save that fails (full disk, no permission) or is
killed leaves the old file as it was.  Beyond that basic recipe:

* **A symlinked target keeps its link.**  The file the link points to is replaced (the
  temporary file is made beside *that* file, so the rename stays on one file system).
* **A read-only target is refused**, with :class:`WriteError` and nothing written: a rename
  would silently replace a file whose owner marked it read-only (no write permission bit, or
  not writable by this user).
* **Long names save.**  The temporary file's name is shortened to fit the folder's
  ``NAME_MAX``, so a target name up to the file system's limit still works.
* **Temporary files left by a killed save are removed** the next time anything is saved into
  that folder (:func:`remove_stale_temps`).

Temporary files are named ``.<target name>.<pid>-<host>-<random>.bps-tmp``: a dot (hidden on
POSIX), the target's name (shortened if need be), the writer's process id, four hex digits
of a hash of the host name, eight random hex digits, and the suffix :data:`TEMP_SUFFIX`.
Only names of exactly that shape are ever removed, and only when the writer is gone: its host
tag is this machine's and no process with its pid runs here, or the file has not been
modified for :data:`STALE_SECONDS` (which covers a writer on another machine sharing the
folder, and a reused pid).  A user's own files never match.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import socket
import stat
import time
import zlib
from pathlib import Path

from ..errors import UserError

#: The suffix every temporary file of a save ends with.
TEMP_SUFFIX = ".bps-tmp"
#: A temporary file untouched for this long is stale whoever wrote it (seconds).  A save
#: writes at most 64 MB and touches its file on every write, so a live one is never this old.
STALE_SECONDS = 15 * 60
#: Used when the file system does not say (``os.pathconf`` is POSIX only).
DEFAULT_NAME_MAX = 255

_TEMP_NAME = re.compile(
    r"\.(?P<name>.*)\.(?P<pid>[0-9]{1,10})-(?P<host>[0-9a-f]{4})-[0-9a-f]{8}" + re.escape(TEMP_SUFFIX),
    re.DOTALL,
)


class WriteError(UserError):
    """A file could not be written; the message names the file and the problem."""


def host_tag() -> str:
    """Four hex digits that tell this machine's temporary files from another's."""
    return f"{zlib.crc32(socket.gethostname().encode('utf-8', 'replace')) & 0xFFFF:04x}"


def temp_name(target_name: str, name_max: int = DEFAULT_NAME_MAX, pid: int | None = None) -> str:
    """The temporary file name for ``target_name``, at most ``name_max`` bytes long.

    The target's name is shortened (from the end, by whole characters) so that the whole
    name fits; the rest of the name is fixed-length, so it always fits a POSIX ``NAME_MAX``.
    """
    tail = f".{os.getpid() if pid is None else pid}-{host_tag()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
    budget = name_max - len(os.fsencode("." + tail))
    shown = target_name
    while shown and len(os.fsencode(shown)) > budget:
        shown = shown[:-1]
    return f".{shown}{tail}"


def is_temp_name(name: str) -> bool:
    """True if ``name`` has the shape of a save's temporary file."""
    return _TEMP_NAME.fullmatch(name) is not None


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the file at ``path`` with ``data``, atomically.

    Raises
    ------
    WriteError
        If the file cannot be written (read-only, no permission, disk full, missing folder
        …); the message starts with ``path``.  The old file is untouched and no temporary
        file is left behind.
    """
    shown = os.fspath(path)
    try:
        target = _resolve(Path(path))
        folder = target.parent
        _refuse_read_only(shown, target)
        try:
            remove_stale_temps(folder)
        except OSError:
            pass  # cleanup is a courtesy; it must never stop a save
        _write_and_replace(target, data)
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(f"{shown}: could not save ({exc.strerror or exc})") from None


def _resolve(target: Path) -> Path:
    """The file to replace: the end of a symlink chain (its folder need not be the link's)."""
    if not str(target.parent):
        target = Path(".") / target
    if target.is_symlink():
        # realpath follows every link (and a dangling one to where it points, which is then
        # created), so the link itself is kept.
        return Path(os.path.realpath(target))
    return target


def _refuse_read_only(shown: str, target: Path) -> None:
    try:
        st = target.stat()
    except FileNotFoundError:
        return  # a new file
    if stat.S_ISDIR(st.st_mode):
        raise WriteError(f"{shown}: could not save (it is a folder)")
    # The permission bits catch 0444 even for root (os.access says yes to root); os.access
    # catches a file another user owns.
    if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise WriteError(
            f"{shown}: the file is read-only; save under another name, or make it writable first"
        )


def _write_and_replace(target: Path, data: bytes) -> None:
    folder = target.parent
    mode = _file_mode(target)
    fd, tmp = _create_temp(folder, target.name)
    try:
        try:
            # Created 0600; give the file the mode the target had, or the usual one for new files.
            os.chmod(tmp, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written <= 0:  # never for a regular file, but a loop must not spin
                    raise OSError(errno.EIO, "the disk accepted no data")
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _fsync_folder(folder)


def _create_temp(folder: Path, target_name: str) -> tuple[int, Path]:
    name_max = _name_max(folder)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / temp_name(target_name, name_max)
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue  # 32 random bits collided: draw again
    raise OSError(errno.EEXIST, "could not create a temporary file")


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):
        return DEFAULT_NAME_MAX


def remove_stale_temps(folder: str | os.PathLike[str], now: float | None = None) -> list[str]:
    """Remove the temporary files of saves into ``folder`` whose writer is gone.

    A file is removed only if its name has the shape :func:`temp_name` makes, it is a
    regular file (not a link or folder), and either it was written on this machine by a
    process that no longer runs, or it has not been modified for :data:`STALE_SECONDS`.

    Returns
    -------
    list of str
        The names removed.
    """
    now = time.time() if now is None else now
    here = host_tag()
    removed = []
    with os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMP_NAME.fullmatch(entry.name)
            if match is None:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(st.st_mode):
                    continue
                writer_gone = match["host"] == here and not _process_running(int(match["pid"]))
                if writer_gone or now - st.st_mtime > STALE_SECONDS:
                    os.unlink(entry.path)
                    removed.append(entry.name)
            except OSError:
                continue  # gone already, or not ours to remove
    return removed


def _process_running(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this machine (True when it cannot be told)."""
    if pid <= 0 or os.name != "posix":
        # os.kill(pid, 0) would signal a process group for pid 0, and on Windows it would
        # terminate the process: there, only the age rule applies.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # exists but is not ours (EPERM), or cannot be asked
    return True


def _file_mode(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it (os.umask would race with other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (or needed) everywhere.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
