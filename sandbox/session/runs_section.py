"""The ``runs`` section of a session file (format 4): which runs the session had, and their curves.

The live run's own state and history are the rest of the file.  This section says who the live
run is (its number, what started it, where it branched) and lists the earlier runs: who each
was, what ended it, its settings, whether its curves are shown, and the curves themselves
(loss per step, evaluations, edit markers).  It never holds an earlier run's weights or
checkpoints, so a loaded earlier run is curves only (it cannot be switched back to).

::

    "runs": {
      "live": {"run_id": 3, "origin": "reset", "parent": null, "branched_at": null,
               "first_change": "", "ended": ""},
      "earlier": [
        {"run_id": 1, "origin": "start", …, "ended": "until reset at step 200",
         "settings": {"learning_rate": 0.03, "optimizer": "sgd", "architecture": "2-4-1 tanh",
                      "seed": 3},
         "visible": true,
         "curves": {"steps": [[1.0, 0.69], …], "evaluations": [[20.0, 0.5, null], …],
                    "markers": [[120, "w[1][0,0] 0.2 → 1.5"], …]}}
      ]
    }

Reading is as defensive as the rest of the file (:mod:`sandbox.session.json_readers`): unknown
fields are refused, at most :data:`~sandbox.session.runs.MAX_EARLIER_RUNS` earlier runs, run
numbers positive and distinct, a parent one of them (or null), text bounded, curve rows bounded
in number and shape, their steps never going back, and every value a finite number or null.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..engine.optimizers import OPTIMIZERS
from ..formatting import format_number
from .history import DEFAULT_CAPACITY, MAX_MARKER_TEXT, MAX_MARKERS, Marker
from .json_readers import MAX_COUNT, MAX_TEXT, _dict, _int, _Invalid, _kind, _list, _num, _numbers, _str
from .runs import MAX_EARLIER_RUNS, EarlierRun, RunCurves, RunInfo, RunSettings
from .state import readonly
from .workspace import Branch

INFO_FIELDS = ("run_id", "origin", "parent", "branched_at", "first_change", "ended")
EARLIER_FIELDS = (*INFO_FIELDS, "settings", "visible", "curves")
SETTINGS_FIELDS = ("learning_rate", "optimizer", "architecture", "seed")
CURVE_FIELDS = ("steps", "evaluations", "markers")

# ----------------------------------------------------------------------------------- writing


def runs_document(live: RunInfo, earlier: Sequence[EarlierRun]) -> dict[str, Any]:
    """The ``runs`` section for a live run and its earlier runs (JSON-ready dicts and lists)."""
    known = {live.run_id, *(r.info.run_id for r in earlier)}
    return {
        "live": _info(live, known),
        "earlier": [{**_info(r.info, known), "settings": _settings(r.settings), "visible": bool(r.visible),
                     "curves": _curves(r.curves)} for r in earlier],
    }


def _info(info: RunInfo, known: set[int]) -> dict[str, Any]:
    # A run's parent may be gone from the session (cleared, or the oldest dropped past
    # MAX_EARLIER_RUNS): the file names no run it does not hold.  Where it branched stays, and
    # its origin text still says from which run.
    parent = info.parent if info.parent in known else None
    return {
        "run_id": int(info.run_id),
        "origin": _text(info.origin),
        "parent": None if parent is None else int(parent),
        "branched_at": None if info.branched_at is None else int(info.branched_at),
        "first_change": _text(info.first_change),
        "ended": _text(info.ended),
    }


def _text(text: str) -> str:
    """``text`` within what the reader takes back (the app's texts are far shorter)."""
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _settings(settings: RunSettings) -> dict[str, Any]:
    return {"learning_rate": float(settings.learning_rate), "optimizer": settings.optimizer,
            "architecture": _text(settings.architecture), "seed": int(settings.seed)}


def _rows(arr: np.ndarray) -> list[list[float | None]]:
    """Rows of Python floats (``tolist`` keeps every bit), null where a value is NaN."""
    return [[v if v == v else None for v in row] for row in np.asarray(arr, dtype=np.float64).tolist()]


def _curves(curves: RunCurves) -> dict[str, Any]:
    return {"steps": _rows(curves.steps), "evaluations": _rows(curves.evaluations),
            "markers": [[int(m.step), m.text] for m in curves.markers]}


# ----------------------------------------------------------------------------------- reading


def read_runs(value: Any) -> tuple[RunInfo, tuple[Branch, ...]]:
    """The live run's identity and the earlier runs (curves only) of a ``runs`` section.

    Raises
    ------
    _Invalid
        Naming the JSON path of the first bad value (``runs.earlier[2].curves.steps[5]``).
    """
    r = _dict(value, "runs", ("live", "earlier"))
    live = _dict(r["live"], "runs.live", INFO_FIELDS)
    entries = _list(r["earlier"], "runs.earlier", max_length=MAX_EARLIER_RUNS)
    entries = [_dict(e, f"runs.earlier[{k}]", EARLIER_FIELDS) for k, e in enumerate(entries)]
    # Every run number first: a parent may name a run listed after it.
    paths = ["runs.live", *(f"runs.earlier[{k}]" for k in range(len(entries)))]
    ids: dict[int, str] = {}
    for path, entry in zip(paths, [live, *entries]):
        run_id = _int(entry["run_id"], f"{path}.run_id", 1, MAX_COUNT)
        if run_id in ids:
            raise _Invalid(f"{path}.run_id is {run_id}, the number of {ids[run_id]} too; run numbers are distinct")
        ids[run_id] = path
    live_info = _read_info(live, "runs.live", ids)
    earlier = []
    for path, entry in zip(paths[1:], entries):
        visible = entry["visible"]
        if not isinstance(visible, bool):
            raise _Invalid(f"{path}.visible must be true or false, got {_kind(visible)}")
        earlier.append(Branch(run=None, timeline=None, info=_read_info(entry, path, ids), visible=visible,
                              saved_curves=_read_curves(entry["curves"], f"{path}.curves"),
                              saved_settings=_read_settings(entry["settings"], f"{path}.settings")))
    return live_info, tuple(earlier)


def _read_info(d: dict, path: str, ids: dict[int, str]) -> RunInfo:
    run_id = d["run_id"]  # checked by the caller
    parent = d["parent"]
    if parent is not None:
        _int(parent, f"{path}.parent", 1, MAX_COUNT)
        if parent not in ids:
            raise _Invalid(f"{path}.parent is {parent}, a run the file does not hold")
        if parent == run_id:
            raise _Invalid(f"{path}.parent is {parent}, the run itself")
    branched_at = d["branched_at"]
    if branched_at is not None:
        _int(branched_at, f"{path}.branched_at", 0, MAX_COUNT)
    return RunInfo(run_id=run_id, origin=_str(d["origin"], f"{path}.origin"), parent=parent,
                   branched_at=branched_at, first_change=_str(d["first_change"], f"{path}.first_change"),
                   ended=_str(d["ended"], f"{path}.ended"))


def _read_settings(value: Any, path: str) -> RunSettings:
    s = _dict(value, path, SETTINGS_FIELDS)
    return RunSettings(
        learning_rate=_num(s["learning_rate"], f"{path}.learning_rate", 0.0, 1e6),
        optimizer=_str(s["optimizer"], f"{path}.optimizer", OPTIMIZERS),
        architecture=_str(s["architecture"], f"{path}.architecture"),
        seed=_int(s["seed"], f"{path}.seed", 0, 2**63 - 1),
    )


def _read_curves(value: Any, path: str) -> RunCurves:
    c = _dict(value, path, CURVE_FIELDS)
    steps = _read_rows(c["steps"], f"{path}.steps", 2)
    evaluations = _read_rows(c["evaluations"], f"{path}.evaluations", 3)
    markers = []
    for k, m in enumerate(_list(c["markers"], f"{path}.markers", max_length=MAX_MARKERS)):
        where = f"{path}.markers[{k}]"
        _list(m, where, 2)
        text = _str(m[1], f"{where}[1]")
        if len(text) > MAX_MARKER_TEXT:
            raise _Invalid(f"{where}[1] is longer than {MAX_MARKER_TEXT} characters")
        markers.append(Marker(_int(m[0], f"{where}[0]", 0, MAX_COUNT), text))
    return RunCurves(readonly(steps), readonly(evaluations), tuple(markers))


def _read_rows(value: Any, path: str, width: int) -> np.ndarray:
    """Rows of ``width`` numbers (null for a value that does not exist), the first a step in
    0 … 2**62 that never goes back; as many as a history keeps at most."""
    rows = _list(value, path, max_length=DEFAULT_CAPACITY)
    previous = 0.0
    for r, row in enumerate(rows):
        where = f"{path}[{r}]"
        _list(row, where, width)
        _numbers(row, where, nullable=True)
        step = row[0]
        if step is None or not 0 <= step <= MAX_COUNT:
            got = _kind(step) if step is None else format_number(step, 12)
            raise _Invalid(f"{where}[0] must be a step in 0 … 2**62, got {got}")
        if step < previous:
            raise _Invalid(f"{where} is at step {format_number(step, 12)}, before the row above it; steps never go back")
        previous = step
    arr = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float64)
    return arr.reshape(len(rows), width)
