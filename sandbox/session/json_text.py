"""Exact, human-readable JSON for session files.

Floats are written with ``repr``, the shortest text that reads back to the same bits, so
−0.0, subnormals and every other finite double round-trip exactly.  Lists of numbers go on one
line and matrices get one row per line, so a session opens comfortably in a text editor.
NaN and infinities are never written: the caller maps "no value" to ``null`` first.
"""

from __future__ import annotations

import json
import math
from typing import Any

_SCALARS = (int, float, str, bool, type(None))


def dumps(obj: Any) -> str:
    """Serialise dicts, lists, strings, numbers, booleans and None."""
    out: list[str] = []
    _write(obj, out, 0)
    out.append("\n")
    return "".join(out)


def _scalar(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite float in session data")
        return repr(value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} to a session file")


def _write(obj: Any, out: list[str], level: int) -> None:
    pad = "  " * (level + 1)
    if isinstance(obj, dict):
        if not obj:
            out.append("{}")
            return
        out.append("{\n")
        items = list(obj.items())
        for k, (key, value) in enumerate(items):
            out.append(f"{pad}{json.dumps(str(key), ensure_ascii=False)}: ")
            _write(value, out, level + 1)
            out.append(",\n" if k < len(items) - 1 else "\n")
        out.append("  " * level + "}")
    elif isinstance(obj, (list, tuple)):
        if all(isinstance(v, _SCALARS) for v in obj):
            out.append("[" + ", ".join(_scalar(v) for v in obj) + "]")
            return
        out.append("[\n")
        for k, value in enumerate(obj):
            out.append(pad)
            _write(value, out, level + 1)
            out.append(",\n" if k < len(obj) - 1 else "\n")
        out.append("  " * level + "]")
    else:
        out.append(_scalar(obj))


class _Rejected(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _Rejected(f"{name} is not allowed; session files hold finite numbers only")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Rejected(f"the number {text[:30]} is too large for a double")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys; a file that says "version" twice (one value for
    # this reader, another for a different one) is ambiguous, so it is refused.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        # repr: the key may hold a lone surrogate, which no output can show.
        raise _Rejected(f"the key {twice[:40]!r} appears twice in one object")
    return obj


def loads(text: str) -> Any:
    """Parse JSON, rejecting NaN, Infinity, numbers that overflow a double and duplicate keys.

    Raises ValueError (with a readable message) for malformed or hostile input, including
    nesting too deep for the parser.
    """
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                          object_pairs_hook=_unique_keys)
    except _Rejected as exc:
        raise ValueError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise ValueError(f"not usable JSON ({exc})") from None


def first_unwritable(obj: Any, path: str = "") -> tuple[str, str] | None:
    """Where :func:`dumps` fails on ``obj`` and why, as (dotted path, problem), or None.

    Only called once writing has failed, to say which field of a session is at fault.
    """
    if isinstance(obj, dict):
        items = ((f"{path}.{key}" if path else str(key), value) for key, value in obj.items())
    elif isinstance(obj, (list, tuple)):
        items = ((f"{path}[{k}]", value) for k, value in enumerate(obj))
    elif isinstance(obj, float) and not math.isfinite(obj):
        return path, f"holds {obj!r}, and session files hold finite numbers only"
    elif isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            return path, "holds text that cannot be written as UTF-8"
        return None
    elif not isinstance(obj, _SCALARS):
        return path, f"holds a {type(obj).__name__}, which a session file cannot store"
    else:
        return None
    for where, value in items:
        found = first_unwritable(value, where)
        if found is not None:
            return found
    return None
