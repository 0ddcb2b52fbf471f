"""Small typed readers for a parsed JSON document: each checks one value's type, range or
shape and names the JSON path of the offending value (``history.steps.rows[3]``) when it is
wrong.  Session files are read with them before any array is built."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .history import DEFAULT_CAPACITY, MAX_MARKER_TEXT, MAX_MARKERS, History, Marker, Series
from .scoring import FLOAT_MAX

#: Longest text field read back.  Everything the app writes fits: CSV column and class names
#: (at most 200 characters, see csv_import), file names (255) and edit markers (MAX_MARKER_TEXT).
MAX_TEXT = max(1000, MAX_MARKER_TEXT)


class _Invalid(ValueError):
    pass


# Small typed readers.  Each names the JSON path of the offending value.


def _get(obj: dict, key: str, path: str) -> Any:
    if key not in obj:
        raise _Invalid(f"{path}.{key} is missing" if path else f"{key} is missing")
    return obj[key]


def _dict(value: Any, path: str, keys: Sequence[str], optional: Sequence[str] = ()) -> dict:
    if not isinstance(value, dict):
        raise _Invalid(f"{path or 'the document'} must be an object, got {_kind(value)}")
    unknown = set(value) - set(keys) - set(optional)
    if unknown:
        # repr: a field name may hold characters (a lone surrogate) that no output can show.
        names = ", ".join(sorted(repr(k)[1:-1] for k in unknown))
        raise _Invalid(f"{path or 'the document'} has unknown field(s): {names[:200]}")
    for key in keys:
        _get(value, key, path)
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _int(value: Any, path: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{path} must be an integer, got {_kind(value)}")
    if not lo <= value <= hi:
        shown = str(value) if abs(value) < 10**30 else f"an integer of {len(str(abs(value)))} digits"
        raise _Invalid(f"{path} must be in {lo} … {hi}, got {shown}")
    return value


def _num(value: Any, path: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(f"{path} must be a number, got {_kind(value)}")
    if isinstance(value, int) and abs(value) > FLOAT_MAX:
        # float() would raise OverflowError, which is not a ValueError.
        raise _Invalid(f"{path} is too large for a double")
    value = float(value)
    if not lo <= value <= hi:
        raise _Invalid(f"{path} must be in [{lo:g}, {hi:g}], got {value!r}")
    return value


def _str(value: Any, path: str, choices: Sequence[str] | None = None) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{path} must be text, got {_kind(value)}")
    if len(value) > MAX_TEXT:
        raise _Invalid(f"{path} is longer than {MAX_TEXT} characters")
    _encodable(value, path)
    if choices is not None and value not in choices:
        raise _Invalid(f"{path} must be one of {', '.join(choices)}, got {value[:40]!r}")
    return value


def _encodable(value: str, path: str) -> None:
    """Refuse text that UTF-8 cannot encode: JSON's ``\\ud800`` escapes give a lone surrogate,
    which would load but make every later save of the session fail."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _Invalid(f"{path} holds {value[exc.start]!r} at character {exc.start + 1}, "
                       "a lone surrogate that is not text") from None


def _list(value: Any, path: str, length: int | None = None, max_length: int | None = None) -> list:
    if not isinstance(value, list):
        raise _Invalid(f"{path} must be a list, got {_kind(value)}")
    if length is not None and len(value) != length:
        raise _Invalid(f"{path} must have {length} entries, got {len(value)}")
    if max_length is not None and len(value) > max_length:
        raise _Invalid(f"{path} has {len(value)} entries; at most {max_length} are allowed")
    return value




def _numbers(values: list, path: str, nullable: bool = False) -> None:
    for k, v in enumerate(values):
        if isinstance(v, bool) or not (isinstance(v, (int, float)) or (nullable and v is None)):
            raise _Invalid(f"{path}[{k}] must be a number, got {_kind(v)}")
        if isinstance(v, int) and abs(v) > FLOAT_MAX:
            raise _Invalid(f"{path}[{k}] is too large for a double")


def _vector(value: Any, path: str, length: int) -> np.ndarray:
    values = _list(value, path, length)
    _numbers(values, path)
    return np.array(values, dtype=np.float64).reshape(length)


def _matrix(value: Any, path: str, rows: int, cols: int) -> np.ndarray:
    """A rows×cols list of lists of numbers → float64 array, shape checked before building."""
    _list(value, path, rows)
    for r, row in enumerate(value):
        _list(row, f"{path}[{r}]", cols)
        _numbers(row, f"{path}[{r}]")
    return np.array(value, dtype=np.float64).reshape(rows, cols)


def _layer_arrays(value: Any, path: str, sizes: Sequence[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    _dict(value, path, ("weights", "biases"))
    n = len(sizes) - 1
    _list(value["weights"], f"{path}.weights", n)
    _list(value["biases"], f"{path}.biases", n)
    weights = [_matrix(value["weights"][l], f"{path}.weights[{l}]", sizes[l], sizes[l + 1]) for l in range(n)]
    biases = [_vector(value["biases"][l], f"{path}.biases[{l}]", sizes[l + 1]) for l in range(n)]
    return weights, biases


#: Largest step number or row weight read back (a run counts steps in an int64).
MAX_COUNT = 2**62


def _series(value: Any, path: str, columns: Sequence[str], with_phase: bool) -> Series:
    """A history series.  ``with_phase``: the file has ``appends_since_compaction`` (format 2
    on); older files get the phase :meth:`Series.from_array` derives from the row weights."""
    _dict(value, path, ("columns", "rows", *(("appends_since_compaction",) if with_phase else ())))
    expected = ["step", "weight", *columns]
    if value["columns"] != expected:
        raise _Invalid(f"{path}.columns must be {expected}")
    rows = _list(value["rows"], f"{path}.rows", max_length=DEFAULT_CAPACITY)
    for r, row in enumerate(rows):
        _list(row, f"{path}.rows[{r}]", len(expected))
        _numbers(row, f"{path}.rows[{r}]", nullable=True)
        step, weight = row[0], row[1]
        # A row stands for `weight` whole records; merging rows adds weights and averages steps,
        # so bounded, whole values here keep every later merge finite (and the file savable).
        if (step is None or weight is None or not 0 <= step <= MAX_COUNT
                or not 1 <= weight <= MAX_COUNT or not float(weight).is_integer()):
            raise _Invalid(f"{path}.rows[{r}] needs a step in 0 … 2**62 and a whole positive weight")
    phase = None
    if with_phase:
        level_rows = Series(tuple(columns)).level_rows
        phase = _int(value["appends_since_compaction"], f"{path}.appends_since_compaction", 0, level_rows - 1)
    arr = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float64)
    return Series.from_array(tuple(columns), arr.reshape(len(rows), len(expected)),
                             appends_since_compaction=phase)


def _read_history(n_layers: int, history: Any, version: int) -> History:
    """The ``history`` section of a run with ``n_layers`` layers (empty if the file has none)."""
    hist = History.empty(n_layers)
    if history is not None:
        h = _dict(history, "history", ("steps", "evaluations", "markers"))
        with_phase = version >= 2
        columns = hist.steps.columns
        if version < 3:
            # Before format 3 the steps had no update-to-weight ratios: read what is there and
            # leave the ratios of those steps NaN (never recorded).
            recorded = columns[: len(columns) - n_layers]
            hist.steps = _series(h["steps"], "history.steps", recorded, with_phase).padded(columns)
        else:
            hist.steps = _series(h["steps"], "history.steps", columns, with_phase)
        hist.evaluations = _series(h["evaluations"], "history.evaluations", hist.evaluations.columns, with_phase)
        for k, m in enumerate(_list(h["markers"], "history.markers", max_length=MAX_MARKERS)):
            _list(m, f"history.markers[{k}]", 2)
            hist.markers.append(Marker(_int(m[0], f"history.markers[{k}][0]", 0, 2**62),
                                       _str(m[1], f"history.markers[{k}][1]")))
    return hist
