"""Reading a file the user named, refusing at once anything that is not a regular file.

A named pipe blocks its reader until something writes to it, a device such as ``/dev/zero``
never ends, and a folder cannot be read as one: each is refused, before it is opened, with a
message that says what it is.  The path is checked with ``stat``; the file is then opened
non-blocking (so a pipe swapped in meanwhile cannot block the open) and checked again with
``fstat`` before anything is read.
"""

from __future__ import annotations

import errno
import os
import stat

#: What a file that is not a regular one is, by its ``stat`` type.
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def irregular_kind(mode: int) -> str | None:
    """What a file of ``stat`` mode ``mode`` is ("a folder", "a named pipe" …), or None for a
    regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def _refuse_irregular(mode: int, path: str | os.PathLike[str]) -> None:
    kind = irregular_kind(mode)
    if kind is not None:
        what = "it is a folder, not a file" if kind == "a folder" else f"it is {kind}, not a regular file"
        raise OSError(errno.EISDIR if kind == "a folder" else errno.EINVAL, what, os.fspath(path))


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of the regular file ``path`` (more than ``max_bytes``
    means the file is too large: the caller says so).

    Raises
    ------
    OSError
        If the file cannot be read, or is not a regular file (a folder, a named pipe, a device,
        a socket); its ``strerror`` then says which, e.g. "it is a named pipe, not a regular file".
    """
    _refuse_irregular(os.stat(path).st_mode, path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        _refuse_irregular(os.fstat(fd).st_mode, path)
        return handle.read(max_bytes + 1)
