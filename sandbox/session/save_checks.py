"""Whether a session can be saved, asked before a long job instead of after it: can the target
be written, and will the file fit the size limit.

Sizes are measured on the session document (``session_file.to_document``) in the layout
``json_text.dumps`` writes, without writing anything.  Before training, the size is bounded for
what training changes: every parameter, optimizer-buffer and last-update value may grow to the
longest text a double has (:data:`WIDEST`, 24 characters, where a zero is ``0.0``), and the
history gains at most a row per step and one per epoch.  Only the history and the counters
grow with the number of steps; the data and the configuration do not change.

This module imports nothing of ``session_file`` (which uses it for its own size message): the
caller hands it the document and the limit.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Mapping

from ..engine.optimizers import STATE_BUFFERS
from ..formatting import format_number
from .history import DEFAULT_CAPACITY
from .regular_file import irregular_kind

#: A double whose shortest text is as long as any finite double's (24 characters).
WIDEST = -2.2250738585072014e-308
_WIDEST_CHARS = len(repr(WIDEST))
#: Room for the counters, the shuffle state and other scalars that training rewrites.
_SLACK = 1024

_SCALARS = (int, float, str, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)  # the quick test: exact types, without isinstance per value


# ------------------------------------------------------------------------------ measuring


def text_size(obj: Any, level: int = 0) -> int:
    """Bytes ``json_text`` writes for ``obj`` at nesting ``level`` (without the final newline).

    The layout is ``json_text._write``'s: lists of scalars on one line (what ``json.dumps``
    writes for them, done in C), everything else one item per line, indented two spaces a level.
    """
    if isinstance(obj, dict):
        if not obj:
            return 2
        pad = 2 * (level + 1)
        size = 2 + 2 * level + 1  # "{\n" … "}" with the closing indent
        for key, value in obj.items():
            size += pad + _text_bytes(json.dumps(str(key), ensure_ascii=False)) + 2
            size += text_size(value, level + 1) + 2  # ",\n" (the last "\n" is counted in "{\n")
        return size - 1
    if isinstance(obj, (list, tuple)):
        if set(map(type, obj)) <= _SCALAR_TYPES or all(isinstance(v, _SCALARS) for v in obj):
            return _text_bytes(json.dumps(obj, ensure_ascii=False))
        pad = 2 * (level + 1)
        size = 2 + 2 * level + 1
        for value in obj:
            size += pad + text_size(value, level + 1) + 2
        return size - 1
    return _text_bytes(json.dumps(obj, ensure_ascii=False))


def _text_bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


def _widened(obj: Any) -> Any:
    """``obj`` with every float replaced by :data:`WIDEST`."""
    if isinstance(obj, dict):
        return {k: _widened(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_widened(v) for v in obj]
    return WIDEST if isinstance(obj, float) else obj


def _at(doc: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        doc = doc[key]
    return doc


@dataclass(frozen=True)
class SessionSize:
    """How big a session file is (or at most will be), and what takes the room.

    Attributes
    ----------
    total
        Bytes of the whole file.
    data, parameters, history
        Bytes of the data, of every parameter-sized vector (the weights, the optimizer's
        buffers and the last update), and of the history; the rest is configuration.
    n_parameters
        Weights and biases of the network.
    copies
        How many parameter-sized vectors the file stores.
    optimizer
        The optimizer (which decides how many buffers it keeps).
    bound
        True when ``total`` is an upper bound for after training rather than a measurement.
    """

    total: int
    data: int
    parameters: int
    history: int
    n_parameters: int
    copies: int
    optimizer: str
    bound: bool

    def problem(self, path: object, limit: int) -> str | None:
        """Why a file of this size cannot be saved at ``path``, with what to do about the part
        that takes the most room; None if it fits."""
        if self.total <= limit:
            return None
        size = f"up to {_mb(self.total)}" if self.bound else _mb(self.total)
        head = f"{path}: the session would be {size}, over the {_mb(limit)} limit for session files"
        buffers = len(STATE_BUFFERS[self.optimizer])
        stored = ["the weights"]
        if buffers:
            stored.append(f"the {self.optimizer} optimizer's {buffers} buffer{'s' if buffers > 1 else ''}")
        if self.copies > 1 + buffers:
            stored.append("the last update")
        what = stored[0] if len(stored) == 1 else ", ".join(stored[:-1]) + " and " + stored[-1]
        params = (f"the network's {self.n_parameters:,} parameters take {_mb(self.parameters)} "
                  f"(stored {self.copies} time{'s' if self.copies > 1 else ''}: {what})")
        data = f"the data takes {_mb(self.data)}"
        if self.parameters >= max(self.data, self.history):
            advice = "use a smaller network"
            if buffers:
                advice += ", or sgd, which keeps no optimizer buffers"
            return f"{head}: {params}, {data}; {advice}"
        if self.data >= self.history:
            return f"{head}: {data}, {params}; use fewer data points or input columns"
        return f"{head}: the training history takes {_mb(self.history)}, {data}, {params}; train fewer steps"


def _mb(n: int) -> str:
    return f"{format_number(n / 2**20)} MB"


def measure(doc: Mapping[str, Any]) -> SessionSize:
    """The size of the file the session document ``doc`` makes, part by part."""
    # The top-level sections are measured once each (the data can be tens of MB).
    parts = {key: text_size(value, 1) for key, value in doc.items()}
    total = 2 + sum(2 + _text_bytes(json.dumps(str(k), ensure_ascii=False)) + 2 + n + 2
                    for k, n in parts.items()) - 1 + 1 + 1  # "{\n" … "\n}" and the final newline
    vectors = [text_size(_at(doc, *keys), len(keys)) for keys in _vector_sections(doc)
               if _at(doc, *keys) is not None]
    return _size(doc, total, parts.get("data", 0), sum(vectors), len(vectors), parts.get("history", 0),
                 bound=False)


def bound_after_training(doc: Mapping[str, Any], steps: int, steps_per_epoch: int) -> SessionSize:
    """An upper bound on the size of the file after ``steps`` more steps of the session ``doc``.

    Parameters
    ----------
    doc
        The session document now.
    steps
        Steps to be trained (0 gives the size now, with room for the counters).
    steps_per_epoch
        Steps in an epoch (each epoch records an evaluation; so does the end of training).
    """
    now = measure(doc)
    if steps <= 0:
        return _size(doc, now.total + _SLACK, now.data, now.parameters, now.copies, now.history, bound=True)
    # Training rewrites every value of the parameter-sized vectors, and makes the last update.
    widest = [text_size(_widened(_at(doc, *keys) or _at(doc, "state", "parameters")), len(keys))
              for keys in _vector_sections(doc) if keys[-1] != "last_update" or "last_update" in doc["state"]]
    history = now.history + _history_growth(doc, steps, steps_per_epoch)
    total = now.total - now.parameters + sum(widest) - now.history + history + _SLACK
    return _size(doc, total, now.data, sum(widest), len(widest), history, bound=True)


def _vector_sections(doc: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Where the parameter-sized vectors are: the weights, each optimizer buffer, the last update."""
    buffers = _at(doc, "state", "optimizer_state", "buffers")
    return [("state", "parameters"), *(("state", "optimizer_state", "buffers", name) for name in buffers),
            ("state", "last_update")]


def _history_growth(doc: Mapping[str, Any], steps: int, steps_per_epoch: int) -> int:
    """At most the bytes ``steps`` more steps add to the history: one row each for the steps,
    one per epoch and one at the end for the evaluations, every value at its widest."""
    history = doc.get("history")
    if not isinstance(history, dict):
        return 0
    growth = 0
    for name, added in (("steps", steps), ("evaluations", steps // max(steps_per_epoch, 1) + 2)):
        series = history.get(name)
        if not isinstance(series, dict) or "columns" not in series:
            continue
        rows = len(series.get("rows", []))
        added = max(0, min(rows + added, DEFAULT_CAPACITY) - rows)
        n = len(series["columns"])
        indent = 2 * 4  # rows are items of history.<name>.rows, at nesting level 3
        growth += added * (indent + 2 + n * _WIDEST_CHARS + 2 * (n - 1) + 2)
    return growth


def _size(doc: Mapping[str, Any], total: int, data: int, parameters: int, copies: int, history: int,
          bound: bool) -> SessionSize:
    weights = _at(doc, "state", "parameters")
    n_parameters = sum(sum(len(row) for row in w) for w in weights["weights"])
    n_parameters += sum(len(b) for b in weights["biases"])
    return SessionSize(total=total, data=data, parameters=parameters,
                       history=history, n_parameters=n_parameters, copies=copies,
                       optimizer=doc["training"]["optimizer"], bound=bound)


# ------------------------------------------------------------------------------- writing


def unwritable(path: str | os.PathLike[str]) -> str | None:
    """Why a session cannot be saved at ``path``, or None if it can (as far as can be told
    without writing it): the folder must exist and take new files, and an existing target must
    be a writable regular file.  Nothing is left behind."""
    shown = os.fspath(path)
    target = os.path.realpath(shown)  # a symlink is saved through: its target must be writable
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        return f"{shown}: the folder {folder} does not exist"
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        return f"{shown}: cannot be saved ({exc.strerror or exc})"
    if st is not None:
        kind = irregular_kind(st.st_mode)
        if kind is not None:
            return f"{shown} is {kind}, not a regular file; give another file name"
        if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
            return f"{shown} is read-only; make it writable or give another file name"
    try:
        if st is None:
            # The name itself is tried: a folder that takes no new files, a read-only file
            # system or a name too long all show here.
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            os.unlink(target)
        else:
            fd, probe = tempfile.mkstemp(prefix=".backprop-sandbox-probe-", dir=folder)
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        return f"{shown}: cannot be saved in {folder} ({exc.strerror or exc})"
    return None
