"""Reading session files: the history resumes exactly, text is always savable again, every key
and class name is unique, and files of the previous format still load."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.history import DEFAULT_LEVEL_ROWS, Series
from sandbox.session.json_text import dumps
from sandbox.session.session_file import FORMAT_VERSION, SessionFileError, loads_session, save, load, to_document


def bits(arr: np.ndarray) -> bytes:
    return np.ascontiguousarray(arr, dtype=np.float64).view(np.int64).tobytes()


def via_text(run: TrainingRun) -> TrainingRun:
    return loads_session(dumps(to_document(run)).encode("utf-8"), "<test>")


def tiny_run(seed: int = 0) -> TrainingRun:
    return TrainingRun.create(
        data=DataSpec("xor", n_points=20, noise=0.2, train_fraction=0.8, seed=seed + 1),
        network=NetworkSpec((2,), ("tanh",)),
        hyper=Hyperparameters(optimizer="sgd", batch_size=4, learning_rate=0.03),
        seed=seed,
    )


def assert_same_history(a: TrainingRun, b: TrainingRun) -> None:
    for sa, sb in ((a.history.steps, b.history.steps), (a.history.evaluations, b.history.evaluations)):
        assert len(sa) == len(sb)
        assert bits(sa.array()) == bits(sb.array())
        assert sa.appends_since_compaction == sb.appends_since_compaction


# ------------------------------------------------------------------------- history resumes


@pytest.fixture(scope="module")
def straight_6000():
    run = tiny_run()
    run.train(6000)
    return run


@pytest.mark.parametrize("split", [2047, 4095])
def test_a_run_saved_and_resumed_keeps_the_history_of_one_that_never_stopped(tmp_path, straight_6000, split):
    """The issue's case: 6,000 steps split at 2,047 kept 6,000 rows instead of 4,976."""
    first = tiny_run()
    first.train(split)
    path = tmp_path / "split.json"
    save(first, path)
    resumed = load(path)
    resumed.train(6000 - split)
    assert len(straight_6000.history.steps) == 4976
    assert_same_history(straight_6000, resumed)


# One run's document carries the series under test: the history goes through the whole file.
_CARRIER = tiny_run()
_STEP_COLUMNS = _CARRIER.history.steps.columns
_EVAL_COLUMNS = _CARRIER.history.evaluations.columns


def _through_a_file(steps: Series, evaluations: Series) -> tuple[Series, Series]:
    _CARRIER.history.steps, _CARRIER.history.evaluations = steps, evaluations
    loaded = via_text(_CARRIER).history
    return loaded.steps, loaded.evaluations


def _append(series: Series, start: int, stop: int) -> None:
    for k in range(start, stop):
        series.append(float(k + 1), *[float((k * 7919 + c) % 1000) / 7 for c in range(len(series.columns))])


@settings(max_examples=60, deadline=None, database=None)
@given(total=st.integers(0, 3 * DEFAULT_LEVEL_ROWS + 50),
       cuts=st.lists(st.floats(0, 1), min_size=1, max_size=4))
@example(total=6000, cuts=[2047 / 6000])
@example(total=4096, cuts=[2047 / 4096, 2048 / 4096])
def test_history_saved_at_any_split_points_continues_exactly(total, cuts):
    """Saving and loading at any points of a series (several times) gives exactly the rows of
    a series that was never saved: the rows, their count and when the next merge is due."""
    straight_steps, straight_evals = Series(_STEP_COLUMNS), Series(_EVAL_COLUMNS)
    _append(straight_steps, 0, total)
    _append(straight_evals, 0, total // 3)

    steps, evals = Series(_STEP_COLUMNS), Series(_EVAL_COLUMNS)
    done = 0
    for cut in sorted(int(c * total) for c in cuts):
        _append(steps, done, cut)
        _append(evals, done // 3, cut // 3)
        done = cut
        steps, evals = _through_a_file(steps, evals)
    _append(steps, done, total)
    _append(evals, done // 3, total // 3)
    for a, b in ((straight_steps, steps), (straight_evals, evals)):
        assert len(a) == len(b)
        assert bits(a.array()) == bits(b.array())
        assert a.appends_since_compaction == b.appends_since_compaction


def _as_format_1(doc: dict) -> dict:
    """``doc`` as format 1 wrote it: no merge phase in the history (and, as before format 3,
    no update-to-weight ratios in the steps)."""
    doc = copy.deepcopy(doc)
    doc["version"] = 1
    for name in ("steps", "evaluations"):
        del doc["history"][name]["appends_since_compaction"]
    steps = doc["history"]["steps"]
    n_ratios = sum(c.startswith("update_ratio_") for c in steps["columns"])
    steps["columns"] = steps["columns"][: len(steps["columns"]) - n_ratios]
    steps["rows"] = [row[: len(row) - n_ratios] for row in steps["rows"]]
    return doc


def test_format_1_files_still_load_and_continue_like_a_run_that_never_stopped(straight_6000):
    first = tiny_run()
    first.train(2047)
    old = _as_format_1(to_document(first))
    resumed = loads_session(json.dumps(old), "old.json")
    resumed.train(6000 - 2047)
    # The ratios were not recorded before format 3 (NaN there); everything else is exact.
    recorded = [k for k, c in enumerate(("step", "weight") + resumed.history.steps.columns)
                if not c.startswith("update_ratio_")]
    a, b = straight_6000.history.steps, resumed.history.steps
    assert len(a) == len(b) and a.appends_since_compaction == b.appends_since_compaction
    assert bits(a.array()[:, recorded]) == bits(b.array()[:, recorded])
    assert bits(straight_6000.history.evaluations.array()) == bits(resumed.history.evaluations.array())
    # And it is saved in the current format from then on.
    assert to_document(resumed)["version"] == FORMAT_VERSION == 4


@pytest.mark.parametrize("value, expected", [
    (None, "history.steps.appends_since_compaction is missing"),
    (-1, "history.steps.appends_since_compaction must be in 0 … 2047"),
    (DEFAULT_LEVEL_ROWS, "history.steps.appends_since_compaction must be in 0 … 2047"),
    (1.5, "history.steps.appends_since_compaction must be an integer"),
])
def test_a_bad_merge_phase_is_refused(value, expected):
    doc = to_document(tiny_run())
    if value is None:
        del doc["history"]["steps"]["appends_since_compaction"]
    else:
        doc["history"]["steps"]["appends_since_compaction"] = value
    with pytest.raises(SessionFileError, match=expected):
        loads_session(json.dumps(doc), "bad.json")


@pytest.mark.parametrize("row, ok", [
    ([1.0, 1.0], True), ([0.5, 2.0], True),
    ([1.0, 1.5], False),  # a row stands for whole records
    ([1.0, 2.0**63], False), ([1e308, 1.0], False), ([-1.0, 1.0], False), ([1.0, 0.0], False),
])
def test_history_rows_need_a_bounded_step_and_a_whole_weight(row, ok):
    """Values that would overflow when rows are merged later (and make the run unsavable)."""
    run = tiny_run()
    run.train(3)
    doc = to_document(run)
    doc["history"]["steps"]["rows"][0][:2] = row
    if ok:
        loads_session(json.dumps(doc), "rows.json")
    else:
        with pytest.raises(SessionFileError, match=r"history\.steps\.rows\[0\] needs a step"):
            loads_session(json.dumps(doc), "rows.json")


# ----------------------------------------------------------------------------------- strings


@pytest.fixture(scope="module")
def rich_doc():
    """A document with every kind of text field filled: CSV names, class names, markers."""
    from sandbox.session.csv_import import parse_csv

    text = "width,height,colour\n" + "".join(
        f"{i * 0.37:.4f},{(i * 7) % 11 - 5},{['red', 'green', 'blue'][i % 3]}\n" for i in range(30))
    run = TrainingRun.create(data=parse_csv(text, name="shapes.csv"), network=NetworkSpec((3,), ("elu",)))
    run.description = "A description."
    run.train(4)
    run.set_weight(0, 0, 0, 0.25)
    run.train(2)
    run.evaluate(record=True)
    return to_document(run)


def _string_paths(node, path=()):
    """Every path to a text value (and to every object key) in a parsed document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path + (("key", key),)
            yield from _string_paths(value, path + (key,))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from _string_paths(value, path + (k,))
    elif isinstance(node, str):
        yield path


def _with_lone_surrogate(doc, path):
    doc = copy.deepcopy(doc)
    *parents, last = path
    target = doc
    for step in parents:
        target = target[step]
    if isinstance(last, tuple):  # a key
        key = last[1]
        target["\ud800" + key] = target.pop(key)
    else:
        target[last] = "\ud800" + target[last]
    return json.dumps(doc)  # ensure_ascii: the surrogate is written as the escape \ud800


def test_every_text_field_with_a_lone_surrogate_is_refused(rich_doc):
    """A session that loads can be saved again: no text field (nor key) lets through text that
    UTF-8 cannot encode, and the message itself can be printed."""
    paths = list(_string_paths(rich_doc))
    assert len(paths) > 40
    for path in paths:
        text = _with_lone_surrogate(rich_doc, path)
        with pytest.raises(SessionFileError) as info:
            loads_session(text, "surrogate.json")
        message = str(info.value)
        message.encode("utf-8")
        assert message.startswith("surrogate.json: "), (path, message)


def test_a_lone_surrogate_names_the_field():
    doc = to_document(tiny_run())
    doc["description"] = "fine so far \udc80"
    with pytest.raises(SessionFileError, match=r"description holds '\\udc80' at character 13, a lone surrogate"):
        loads_session(json.dumps(doc), "s.json")
    doc["description"] = "a valid pair: \U0001f600"
    assert loads_session(json.dumps(doc), "s.json").description.endswith("\U0001f600")


# ----------------------------------------------------------------------------- duplicates


def _dumps_with_duplicate(node, target_path, path=()):
    """JSON text of ``node`` in which the object at ``target_path`` repeats its first key."""
    if isinstance(node, dict):
        items = [(k, _dumps_with_duplicate(v, target_path, path + (k,))) for k, v in node.items()]
        if path == target_path and items:
            items.insert(0, (items[0][0], json.dumps(None)))
        return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in items) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_dumps_with_duplicate(v, target_path, path + (k,)) for k, v in enumerate(node)) + "]"
    return json.dumps(node)


def _object_paths(node, path=()):
    if isinstance(node, dict):
        yield path
        for key, value in node.items():
            yield from _object_paths(value, path + (key,))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from _object_paths(value, path + (k,))


def test_a_duplicate_key_in_any_object_is_refused(rich_doc):
    paths = list(_object_paths(rich_doc))
    assert len(paths) > 10
    for path in paths:
        if not _lookup(rich_doc, path):
            continue  # an empty object has no key to repeat
        text = _dumps_with_duplicate(rich_doc, path)
        first_key = next(iter(_lookup(rich_doc, path)))
        with pytest.raises(SessionFileError, match=f"the key '{first_key}' appears twice in one object"):
            loads_session(text, "dup.json")
    # The writer without the duplicate reads back.
    assert loads_session(_dumps_with_duplicate(rich_doc, ("no such object",)), "ok.json")


def _lookup(doc, path):
    for step in path:
        doc = doc[step]
    return doc


def test_duplicate_class_names_are_refused(rich_doc):
    doc = copy.deepcopy(rich_doc)
    doc["data"]["class_names"] = ["blue", "green", "blue"]
    with pytest.raises(SessionFileError, match="data.class_names names the class 'blue' twice"):
        loads_session(json.dumps(doc), "classes.json")


# ------------------------------------------------------------------------------ magnitudes


@pytest.mark.parametrize("field", ["inputs", "targets"])
def test_data_beyond_the_csv_readers_magnitude_is_refused(field):
    from sandbox.session.csv_import import MAX_MAGNITUDE

    run = TrainingRun.create(data=DataSpec("sine", n_points=10))
    doc = to_document(run)
    if field == "inputs":
        doc["data"]["inputs"][0][0] = MAX_MAGNITUDE
    else:
        doc["data"]["targets"][0] = -MAX_MAGNITUDE
    loads_session(json.dumps(doc), "big.json")
    if field == "inputs":
        doc["data"]["inputs"][0][0] = MAX_MAGNITUDE * 1.0000001
    else:
        doc["data"]["targets"][0] = -1.7e308
    with pytest.raises(SessionFileError, match=f"data.{field} holds a number larger than 1e\\+50"):
        loads_session(json.dumps(doc), "big.json")
