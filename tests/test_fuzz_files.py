"""Fuzzing the readers: mutated session files and CSVs give one clean error or a valid session.

Valid files (the shipped examples, a trained session with history and markers, small CSVs) are
mutated at the byte level (flips, insertions, deletions, truncation) and in the parsed JSON tree
(huge numbers, wrong types, negative sizes, deep nesting, huge arrays, lone surrogates,
duplicate or missing keys).  Each result must either raise the reader's own error with a
one-line message naming the file, or load into a run that saves again, reads back to the same
document and takes a step.  Bounded (``max_examples``, ``deadline``) to about 20 s in all; on CI
the examples are derandomised so a run is repeatable.  A file with a runs section (format 4) is
among them, and its runs section is fuzzed on its own too; a file that loads must then also
save with its runs and read back to the same document.  ``SANDBOX_FUZZ_SCALE=20`` fuzzes longer.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from sandbox.resources import DEFAULT_SESSION, example_sessions
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.csv_import import CsvError, load_csv
from sandbox.session.json_text import dumps
from sandbox.session.naming import BiasRef
from sandbox.session import commands as cmd
from sandbox.session.save_image import image_of
from sandbox.session.session_file import (SessionFileError, image_document, loads_session, loads_workspace,
                                          to_document)
from sandbox.session.workspace import Workspace

def fuzz(examples: int) -> settings:
    """Bounded: ``examples`` inputs (times SANDBOX_FUZZ_SCALE, to fuzz longer by hand), each
    within a generous deadline; derandomised on CI so a run there is repeatable."""
    return settings(
        max_examples=max(1, int(examples * float(os.environ.get("SANDBOX_FUZZ_SCALE", "1")))),
        deadline=timedelta(seconds=10),
        database=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # fuzzed weights may overflow


def _session_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in [DEFAULT_SESSION, *example_sessions()]]
    run = TrainingRun.create(data=DataSpec("blobs", n_points=24, seed=2), network=NetworkSpec((3,), ("relu",)),
                             hyper=Hyperparameters(optimizer="adam", batch_size=5), seed=1)
    run.train(5)
    run.set_weight(0, 1, 2, -0.75)
    run.train(3)
    run.evaluate(record=True)
    run.description = "Trained: history, markers, optimizer state."
    texts.append(dumps(to_document(run)))
    texts.append(_session_with_runs())
    return texts


def _session_with_runs() -> str:
    """A format 4 file with a runs section: an earlier run ended by a reset (with an edit
    marker), one abandoned by a branch (hidden), and the live branch."""
    run = TrainingRun.create(data=DataSpec("blobs", n_points=24, seed=3), network=NetworkSpec((2,), ("tanh",)),
                             hyper=Hyperparameters(batch_size=6), seed=2)
    ws = Workspace(run)
    run.train(4)
    ws.apply(cmd.EditBias(BiasRef(0, 1), 0.5))
    run.train(4)
    ws.apply(cmd.Reset())
    ws.run.train(6)
    ws.apply(cmd.Scrub(3))
    ws.apply(cmd.ContinueFromHere())
    ws.run.train(2)
    ws.apply(cmd.SetRunVisible(2, False))
    return dumps(image_document(image_of(ws)))


SESSIONS = _session_texts()
SESSION_DOCS = [json.loads(t) for t in SESSIONS]

CSVS = [
    "x1,x2,y\n0.5,1,0\n-2,3.25,1\n4,5,1\n7e-1,-0,0\n1,1,1\n",
    "width;height;colour\n1.5;2;red\n3;4.25;blue\n5;6;red\n7;8;green\n",
    '"a b",c,d,target\n1,2,3,0.5\n4,5,6,1.5\n7,8,9,-2\n1,0,1,3\n',
    "x\ty\n1\t0.1\n2\t0.4\n3\t0.9\n4\t1.6\n",
]

#: Bytes that make interesting trouble when spliced into a file.
SPLICES = [b'"', b"'", b"{", b"}", b"[", b"]", b",", b";", b"\t", b"\n", b"\r", b"\\", b"\\ud800", b"\\u0000",
           b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"-", b"e", b".", b"1e999", b"-1e308", b"9" * 400, b"null",
           b"NaN", b"nan", b"NA", b"inf", b"1_000", "١٢٣".encode(), "１２".encode(), b'"version": 1, ', b"true"]

# Values to put anywhere in the JSON tree.
HOSTILE_VALUES = st.one_of(
    st.sampled_from([None, True, False, 0, -1, -(2**63), 2**63, 2**128, 10**400, -(10**400), 1e308, -1e308,
                     5e-324, 0.5, 1e50, 2.0**62, "", "x", "\ud800", "\udfff", "é" * 5000, [], {}, [[]], [None],
                     [0.0] * 5000, [[0.0, 0.0]] * 2000, {"a": 1}]),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.integers(1, 500).map(lambda depth: _nested(depth)),
)


def _like(value):
    """A strategy for values of ``value``'s type, many of them edge cases."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.integers(value - 3, value + 3), st.integers(-(2**64), 2**64),
                         st.sampled_from([0, -1, 2**62, 2**63 - 1, 2**128 - 1]))
    if isinstance(value, float):
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                         st.sampled_from([-0.0, 5e-324, 1e50, -1e50, 1.7976931348623157e308, value * 1e10]))
    if isinstance(value, str):
        return st.one_of(st.text(max_size=30), st.sampled_from(["\ud800", value + "\udc00", "", value * 3, "é" * 1001]))
    return st.just(value)


def _nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _paths(node, path=()):
    yield path
    if len(path) > 8:
        return  # the document is at most ~6 deep; below that is a fuzzed deep nesting
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        # Long lists: a few positions are enough (and keep the search space small).
        for k in sorted({0, 1, len(node) // 2, len(node) - 1} & set(range(len(node)))):
            yield from _paths(node[k], path + (k,))


def _at(doc, path):
    for step in path:
        doc = doc[step]
    return doc


def _group(value) -> type:
    return {bool: int, float: int, type(None): int}.get(type(value), type(value))


@st.composite
def mutated_session(draw, under: tuple = ()) -> bytes:
    """A mutated session file; ``under``: only values below that path are changed (in the file
    with a runs section, the last one)."""
    base = draw(st.integers(0, len(SESSIONS) - 1)) if not under else len(SESSIONS) - 1
    kind = draw(st.sampled_from(["tree", "tree", "tree", "bytes"])) if not under else "tree"
    if kind == "bytes":
        return draw(mutated_bytes(SESSIONS[base].encode("utf-8")))
    doc = json.loads(SESSIONS[base])  # a fresh copy to change
    for _ in range(draw(st.integers(1, 2))):
        # Text, numbers and containers are drawn alike, though numbers far outnumber the rest.
        groups: dict[type, list] = {}
        for path in list(_paths(doc))[1:]:
            if path[: len(under)] == under and len(path) > len(under):
                groups.setdefault(_group(_at(doc, path)), []).append(path)
        group = draw(st.sampled_from(sorted(groups, key=lambda g: g.__name__)))
        path = draw(st.sampled_from(groups[group]))
        *parents, last = path
        parent = _at(doc, parents)
        action = draw(st.sampled_from(["perturb", "perturb", "perturb", "replace", "replace", "delete",
                                       "add key", "grow"]))
        if action == "perturb":  # a value of the same type: often still a valid file
            parent[last] = draw(_like(parent[last]))
        elif action == "replace":
            parent[last] = draw(HOSTILE_VALUES)
        elif action == "delete":
            del parent[last]
        elif action == "add key" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["pickle", "\ud800", "version", "x" * 300]))] = draw(HOSTILE_VALUES)
        elif isinstance(parent[last], list) and parent[last]:
            parent[last] = parent[last] * draw(st.sampled_from([2, 3, 1000]))
    text = json.dumps(doc)  # ensure_ascii: lone surrogates stay escapes, as a hostile file would have them
    if draw(st.integers(0, 7)) == 0 and '"version": ' in text:
        text = text.replace('"version": ', '"version": 1, "version": ', 1)  # a duplicate key
    return text.encode("utf-8")


@st.composite
def mutated_bytes(draw, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(SPLICES))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif action == "truncate":
            del data[at:]
    return bytes(data)


def assert_clean_error(exc: BaseException, shown: str) -> None:
    message = str(exc)
    assert message.startswith(f"{shown}: ") or message.startswith(f"{shown}, line "), message
    assert "\n" not in message and "Traceback" not in message and len(message) < 1500, message
    message.encode("utf-8")  # printable: no lone surrogate in the message itself


def assert_valid_session(run: TrainingRun) -> None:
    """It saves, reads back to the same document, and takes a step without an exception."""
    doc = to_document(run)
    text = dumps(doc).encode("utf-8")
    again = loads_session(text, "<saved again>")
    assert to_document(again) == doc
    assert isinstance(again.step(), bool)


@fuzz(500)
@given(raw=mutated_session())
@example(raw=SESSIONS[-2].replace('"Trained:', '"\\ud800Trained:', 1).encode())  # found: save failed on it
@example(raw=SESSIONS[-2].replace('"app_version": "', '"app_version": "\\udfff', 1).encode())
@example(raw=SESSIONS[-2].replace('"format": ', '"format": "x", "format": ', 1).encode())
@example(raw=SESSIONS[-1].replace('"origin": "', '"origin": "\\ud800', 1).encode())
@example(raw=SESSIONS[-1].replace('"parent": 2', '"parent": 7', 1).encode())
def test_a_mutated_session_file_loads_cleanly_or_fails_cleanly(raw):
    loads_cleanly_or_fails_cleanly(raw)


@fuzz(200)
@given(raw=mutated_session(under=("runs",)))
def test_a_mutated_runs_section_loads_cleanly_or_fails_cleanly(raw):
    loads_cleanly_or_fails_cleanly(raw)


def loads_cleanly_or_fails_cleanly(raw: bytes) -> None:
    try:
        workspace = loads_workspace(raw, "fuzzed.json")
    except SessionFileError as exc:
        assert_clean_error(exc, "fuzzed.json")
        with pytest.raises(SessionFileError):  # the live run alone is not read from it either
            loads_session(raw, "fuzzed.json")
        event("refused")
        return
    event("loaded with earlier runs" if workspace.earlier else "loaded")
    assert_valid_session(workspace.run)
    assert_valid_workspace(workspace)


def assert_valid_workspace(workspace: Workspace) -> None:
    """It saves with its runs, reads back to the same document, and takes a step."""
    doc = image_document(image_of(workspace))
    again = loads_workspace(dumps(doc).encode("utf-8"), "<saved again>")
    assert image_document(image_of(again)) == doc
    catalog = again.catalog()
    assert len(catalog.earlier) == len(workspace.earlier) and all(not r.has_state for r in catalog.earlier)
    assert isinstance(again.run.step(), bool)


@pytest.fixture(scope="module")
def csv_folder():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


@fuzz(400)
@given(raw=st.sampled_from(CSVS).flatmap(lambda text: mutated_bytes(text.encode("utf-8"))))
@example(raw=b"x,y\n1,0\n2,nan\n3,1\n")  # was a third class "nan"
@example(raw=b'x,y\n"1,0\n2,1\n')  # was a ragged row
@example(raw="x,y\n1,0\n2,١\n3,1\n".encode())  # was read as 1
def test_a_mutated_csv_loads_cleanly_or_fails_cleanly(csv_folder, raw):
    path = csv_folder / "fuzzed.csv"
    path.write_bytes(raw)
    try:
        dataset = load_csv(path)
    except CsvError as exc:
        assert_clean_error(exc, str(path))
        event("refused")
        return
    event("loaded")
    assert np.isfinite(dataset.inputs).all() and np.isfinite(dataset.targets).all()
    run = TrainingRun.create(dataset)
    assert_valid_session(run)
