"""Session format 4: a file keeps the session's runs (who each was, where it branched, what ended
it, its settings, visibility and loss curves) but not the earlier runs' weights; older files
still load; a hostile runs section is refused naming the field."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session import commands as cmd
from sandbox.session.history import DEFAULT_CAPACITY, MAX_MARKER_TEXT, MAX_MARKERS
from sandbox.session.json_text import dumps
from sandbox.session.naming import WeightRef
from sandbox.session.runs import MAX_EARLIER_RUNS
from sandbox.session.save_image import image_of
from sandbox.session.session_file import (
    FORMAT_VERSION,
    SessionFileError,
    image_document,
    load,
    load_workspace,
    loads_session,
    loads_workspace,
    save,
    save_image,
    to_document,
)
from sandbox.session.workspace import Workspace


def bits(arr) -> bytes:
    """An array's exact bits (NaN equals NaN)."""
    return np.ascontiguousarray(np.asarray(arr, dtype=np.float64)).tobytes()


def session() -> Workspace:
    """Run 1 (no test set: its test losses are NaN; an edit marker) ended by a change of data and
    architecture; Run 2 ended by a reset; Run 3 abandoned by a branch at step 30 (hidden); Run 4
    live, branched from Run 3, with a changed learning rate and an edit of its own."""
    run = TrainingRun.create(DataSpec(n_points=60, train_fraction=1.0, seed=4),
                             hyper=Hyperparameters(optimizer="adam", learning_rate=0.01, batch_size=7), seed=3)
    ws = Workspace(run)
    run.train(15)
    ws.apply(cmd.EditWeight(WeightRef(0, 1, 0), 0.75))
    run.train(25)
    ws.apply(cmd.Reconfigure(data=DataSpec(n_points=60, seed=4), network=NetworkSpec((5,), ("relu",))))
    ws.run.train(40)
    ws.apply(cmd.Reset())
    ws.run.train(60)
    ws.apply(cmd.Scrub(30))
    ws.apply(cmd.ContinueFromHere())
    ws.apply(cmd.SetHyperparameters.of(learning_rate=0.003))
    ws.run.train(10)
    ws.apply(cmd.EditWeight(WeightRef(1, 0, 0), -0.5))
    ws.run.train(10)
    ws.apply(cmd.SetRunVisible(3, False))
    return ws


def reloaded(ws: Workspace) -> Workspace:
    return loads_workspace(dumps(image_document(image_of(ws))).encode("utf-8"), "<test>")


def assert_same_curves(a, b) -> None:
    assert bits(a.steps) == bits(b.steps) and a.steps.shape == b.steps.shape
    assert bits(a.evaluations) == bits(b.evaluations) and a.evaluations.shape == b.evaluations.shape
    assert a.markers == b.markers


def assert_same_run(a: TrainingRun, b: TrainingRun) -> None:
    assert a.capture() == b.capture()
    assert bits(a.flat) == bits(b.flat)
    for name, buffers in a.opt_state.buffers.items():
        assert bits(buffers[0]) == bits(b.opt_state.buffers[name][0]), name
    assert bits(a.history.steps.array()) == bits(b.history.steps.array())
    assert bits(a.history.evaluations.array()) == bits(b.history.evaluations.array())
    assert a.history.markers == b.history.markers
    assert a.history.steps.appends_since_compaction == b.history.steps.appends_since_compaction


# ------------------------------------------------------------------------------ round trip


def test_a_saved_session_keeps_every_earlier_run_and_the_live_run_exactly(tmp_path):
    ws = session()
    path = tmp_path / "runs.json"
    save_image(image_of(ws), path)
    loaded = load_workspace(path)
    before, after = ws.catalog(), loaded.catalog()
    assert [r.info.run_id for r in before.earlier] == [1, 2, 3]
    assert after.live == before.live
    assert after.live.parent == 3 and after.live.branched_at == 30
    assert after.live.first_change == "learning rate 0.01 → 0.003 at step 30"
    assert len(after.earlier) == len(before.earlier)
    for was, now in zip(before.earlier, after.earlier):
        assert now.info == was.info and now.settings == was.settings and now.visible == was.visible
        assert_same_curves(was.curves, now.curves)
        assert now.legend == was.legend
        assert was.has_state and not now.has_state
    first = after.earlier[0]
    assert np.isnan(first.curves.evaluations[:, 2]).all(), "no test set: NaN survives as NaN"
    assert first.curves.markers and first.settings.architecture != after.live_settings.architecture
    assert [r.visible for r in after.earlier] == [True, True, False]
    assert first.info.ended.startswith("until") and after.earlier[2].info.ended.startswith("future from step 30")
    assert_same_run(ws.run, loaded.run)
    assert loaded.run.history.markers, "the live run's own edit marker"
    # New runs are numbered after every run in the file.
    loaded.apply(cmd.Reset())
    assert loaded.live.info.run_id == 5


def test_continuing_a_loaded_session_is_bit_identical_to_never_stopping(tmp_path):
    ws = session()
    path = tmp_path / "runs.json"
    save_image(image_of(ws), path)
    loaded = load_workspace(path)
    for w in (ws, loaded):
        w.run.train(333)
        w.apply(cmd.EditWeight(WeightRef(0, 0, 1), 0.25))
        w.run.train(100)
    assert_same_run(ws.run, loaded.run)


def test_a_file_saved_while_scrubbed_back_holds_the_live_end(tmp_path):
    ws = session()
    live_step = ws.run.step_count
    ws.apply(cmd.Scrub(35))
    assert ws.shown_run().step_count == 35
    save_image(image_of(ws), tmp_path / "scrubbed.json")
    loaded = load_workspace(tmp_path / "scrubbed.json")
    assert loaded.run.step_count == live_step and loaded.shown_step is None
    assert_same_run(ws.run, loaded.run)
    assert len(loaded.earlier) == 3


def test_load_still_returns_the_live_run_and_save_writes_a_bare_run(tmp_path):
    ws = session()
    save_image(image_of(ws), tmp_path / "image.json")
    run = load(tmp_path / "image.json")
    assert isinstance(run, TrainingRun)
    assert_same_run(ws.run, run)
    save(ws.run, tmp_path / "bare.json")
    doc = json.loads((tmp_path / "bare.json").read_text())
    assert "runs" not in doc and doc["version"] == FORMAT_VERSION == 4
    bare = load_workspace(tmp_path / "bare.json")
    assert bare.earlier == [] and bare.live.info.origin == "loaded"


def test_a_format_3_file_loads_with_no_earlier_runs():
    run = TrainingRun.create(seed=5)
    run.train(30)
    doc = to_document(run)  # the old writer's shape: no "runs"
    doc["version"] = 3
    ws = loads_workspace(json.dumps(doc), "old.json")
    assert ws.earlier == [] and ws.catalog().earlier == ()
    assert ws.live.info.run_id == 1 and ws.live.info.origin == "loaded"
    assert ws.run.capture() == run.capture()
    ws.apply(cmd.Reset())
    assert ws.live.info.run_id == 2
    # A runs section in a format 3 file is not something format 3 had.
    doc["runs"] = image_document(image_of(Workspace(run)))["runs"]
    with pytest.raises(SessionFileError, match=r"^old\.json: the document has unknown field\(s\): runs$"):
        loads_workspace(json.dumps(doc), "old.json")


def test_a_loaded_earlier_run_has_only_its_curves_and_switching_to_it_is_refused():
    loaded = reloaded(session())
    (first, *_rest) = loaded.catalog().earlier
    assert not first.has_state
    step = loaded.run.step_count
    with pytest.raises(ValueError, match="Run 1 was loaded from a file with its curves only; it has no weights"):
        loaded.apply(cmd.SwitchToRun(1))
    assert loaded.run.step_count == step and len(loaded.earlier) == 3, "nothing changed"
    # Hiding, showing and clearing work on curves-only runs as on any.
    loaded.apply(cmd.SetRunVisible(1, False))
    assert not loaded.catalog().earlier[0].visible
    loaded.apply(cmd.ClearEarlierRuns())
    assert loaded.catalog().earlier == ()


def test_a_session_with_the_most_earlier_runs_round_trips():
    ws = Workspace(TrainingRun.create(seed=1))
    for k in range(MAX_EARLIER_RUNS + 2):
        ws.run.train(3 + k)
        ws.apply(cmd.NewSeed(10 + k))
    assert len(ws.earlier) == MAX_EARLIER_RUNS
    loaded = reloaded(ws)
    assert [b.info for b in loaded.earlier] == [b.info for b in ws.earlier]
    assert [b.settings.seed for b in loaded.earlier] == list(range(11, 11 + MAX_EARLIER_RUNS))


def test_a_parent_no_longer_in_the_session_is_not_named_but_where_it_branched_is_kept():
    ws = session()
    ws.apply(cmd.ClearEarlierRuns())
    doc = image_document(image_of(ws))
    assert doc["runs"]["earlier"] == []
    assert doc["runs"]["live"]["parent"] is None and doc["runs"]["live"]["branched_at"] == 30
    loaded = loads_workspace(dumps(doc), "<test>")
    assert loaded.live.info.origin == "branched from Run 3 at step 30"
    assert loaded.live.info.run_id == 4


def test_the_file_holds_no_weights_or_checkpoints_of_earlier_runs():
    ws = Workspace(TrainingRun.create(network=NetworkSpec((64, 64), ("tanh", "tanh")), seed=2))
    ws.run.train(20)
    ws.apply(cmd.Reset())
    ws.run.train(20)
    ws.apply(cmd.NewSeed(9))
    ws.run.train(5)
    doc = image_document(image_of(ws))
    runs = doc["runs"]
    assert len(runs["earlier"]) == 2

    def keys(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from keys(value)
        elif isinstance(node, list):
            for value in node:
                yield from keys(value)

    assert set(keys(runs)) == {"live", "earlier", "run_id", "origin", "parent", "branched_at", "first_change",
                               "ended", "settings", "learning_rate", "optimizer", "architecture", "seed",
                               "visible", "curves", "steps", "evaluations", "markers"}
    # Two earlier runs of a 4,500-parameter network take less room than one copy of its weights.
    assert len(dumps(runs)) < len(dumps(doc["state"]["parameters"])) / 2
    bare = to_document(ws.run)
    assert len(dumps(doc)) - len(dumps(bare)) < len(dumps(doc["state"]["parameters"])) / 2


# ------------------------------------------------------------------------- hostile files


@pytest.fixture(scope="module")
def base_doc() -> dict:
    doc = image_document(image_of(session()))
    assert len(doc["runs"]["earlier"]) == 3 and doc["runs"]["earlier"][0]["curves"]["markers"]
    assert len(doc["runs"]["earlier"][2]["curves"]["steps"]) > 6
    return doc


def _set(path: tuple, value):
    def change(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


def _del(path: tuple):
    def change(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return change


E0, E1, E2 = ("runs", "earlier", 0), ("runs", "earlier", 1), ("runs", "earlier", 2)
LIVE = ("runs", "live")


def _too_many(doc):
    doc["runs"]["earlier"] = [copy.deepcopy(doc["runs"]["earlier"][0]) for _ in range(MAX_EARLIER_RUNS + 1)]
    for k, entry in enumerate(doc["runs"]["earlier"]):
        entry["run_id"] = 10 + k


def _steps_go_back(doc):
    rows = doc["runs"]["earlier"][2]["curves"]["steps"]
    rows[5][0] = rows[4][0] - 0.5


def _too_many_rows(doc):
    doc["runs"]["earlier"][0]["curves"]["steps"] = [[float(k), 0.5] for k in range(DEFAULT_CAPACITY + 1)]


def _too_many_markers(doc):
    doc["runs"]["earlier"][0]["curves"]["markers"] = [[1, "x"]] * (MAX_MARKERS + 1)


HOSTILE = [
    (_set(("runs",), []), "runs must be an object, got a list"),
    (_set(("runs", "pickle"), 1), "runs has unknown field(s): pickle"),
    (_del(("runs", "earlier")), "runs.earlier is missing"),
    (_set(("runs", "earlier"), {}), "runs.earlier must be a list"),
    (_too_many, f"runs.earlier has {MAX_EARLIER_RUNS + 1} entries; at most {MAX_EARLIER_RUNS} are allowed"),
    (_set(E0, "Run 1"), "runs.earlier[0] must be an object, got text"),
    (_set(E0 + ("weights",), [[0.5]]), "runs.earlier[0] has unknown field(s): weights"),
    (_set(LIVE + ("state",), {}), "runs.live has unknown field(s): state"),
    (_del(LIVE + ("run_id",)), "runs.live.run_id is missing"),
    (_del(E1 + ("curves",)), "runs.earlier[1].curves is missing"),
    (_set(E0 + ("run_id",), 0), "runs.earlier[0].run_id must be in 1"),
    (_set(E0 + ("run_id",), -3), "runs.earlier[0].run_id must be in 1"),
    (_set(E0 + ("run_id",), True), "runs.earlier[0].run_id must be an integer, got a boolean"),
    (_set(E0 + ("run_id",), 1.0), "runs.earlier[0].run_id must be an integer, got a number"),
    (_set(E0 + ("run_id",), 10**400), "runs.earlier[0].run_id must be in 1"),
    (_set(E1 + ("run_id",), 1), "runs.earlier[1].run_id is 1, the number of runs.earlier[0] too"),
    (_set(E2 + ("run_id",), 4), "runs.earlier[2].run_id is 4, the number of runs.live too"),
    (_set(LIVE + ("parent",), 99), "runs.live.parent is 99, a run the file does not hold"),
    (_set(E1 + ("parent",), 2), "runs.earlier[1].parent is 2, the run itself"),
    (_set(E1 + ("parent",), "1"), "runs.earlier[1].parent must be an integer, got text"),
    (_set(E1 + ("parent",), 0), "runs.earlier[1].parent must be in 1"),
    (_set(LIVE + ("branched_at",), -1), "runs.live.branched_at must be in 0"),
    (_set(LIVE + ("branched_at",), 2.5), "runs.live.branched_at must be an integer, got a number"),
    (_set(E0 + ("branched_at",), 2**70), "runs.earlier[0].branched_at must be in 0"),
    (_set(E0 + ("origin",), "x" * 1001), "runs.earlier[0].origin is longer than 1000 characters"),
    (_set(E0 + ("origin",), None), "runs.earlier[0].origin must be text, got null"),
    (_set(E1 + ("ended",), "until \ud800"), "runs.earlier[1].ended holds '\\ud800' at character 7"),
    (_set(LIVE + ("first_change",), 5), "runs.live.first_change must be text, got an integer"),
    (_set(E0 + ("visible",), 1), "runs.earlier[0].visible must be true or false, got an integer"),
    (_set(E0 + ("visible",), None), "runs.earlier[0].visible must be true or false, got null"),
    (_set(E0 + ("settings",), None), "runs.earlier[0].settings must be an object, got null"),
    (_set(E0 + ("settings", "optimizer"), "pickle"), "runs.earlier[0].settings.optimizer must be one of"),
    (_set(E0 + ("settings", "learning_rate"), -0.1), "runs.earlier[0].settings.learning_rate must be in"),
    (_set(E0 + ("settings", "learning_rate"), 10**400), "runs.earlier[0].settings.learning_rate is too large"),
    (_set(E0 + ("settings", "seed"), -1), "runs.earlier[0].settings.seed must be in 0"),
    (_set(E0 + ("settings", "architecture"), ["2-4-1"]), "runs.earlier[0].settings.architecture must be text"),
    (_del(E0 + ("settings", "architecture")), "runs.earlier[0].settings.architecture is missing"),
    (_set(E0 + ("settings", "eval"), "x"), "runs.earlier[0].settings has unknown field(s): eval"),
    (_set(E0 + ("curves", "weights"), []), "runs.earlier[0].curves has unknown field(s): weights"),
    (_set(E0 + ("curves", "steps"), {}), "runs.earlier[0].curves.steps must be a list, got an object"),
    (_too_many_rows, f"runs.earlier[0].curves.steps has {DEFAULT_CAPACITY + 1} entries; at most {DEFAULT_CAPACITY}"),
    (_set(E2 + ("curves", "steps", 5), [6.0]), "runs.earlier[2].curves.steps[5] must have 2 entries, got 1"),
    (_set(E2 + ("curves", "steps", 5), [6.0, 0.5, 0.1]), "runs.earlier[2].curves.steps[5] must have 2 entries"),
    (_set(E2 + ("curves", "steps", 5), 6.0), "runs.earlier[2].curves.steps[5] must be a list, got a number"),
    (_set(E2 + ("curves", "steps", 5, 0), None), "runs.earlier[2].curves.steps[5][0] must be a step in 0 … 2**62, got null"),
    (_set(E2 + ("curves", "steps", 0, 0), -1.0), "runs.earlier[2].curves.steps[0][0] must be a step in 0 … 2**62"),
    (_set(E2 + ("curves", "steps", 5, 0), 2.0**63), "runs.earlier[2].curves.steps[5][0] must be a step in 0 … 2**62"),
    (_steps_go_back, "runs.earlier[2].curves.steps[5] is at step 4.5, before the row above it"),
    (_set(E2 + ("curves", "steps", 5, 1), "0.5"), "runs.earlier[2].curves.steps[5][1] must be a number, got text"),
    (_set(E2 + ("curves", "steps", 5, 1), True), "runs.earlier[2].curves.steps[5][1] must be a number, got a boolean"),
    (_set(E2 + ("curves", "steps", 5, 1), 10**400), "runs.earlier[2].curves.steps[5][1] is too large for a double"),
    (_set(E2 + ("curves", "evaluations", 0), [10.0, 0.5]), "runs.earlier[2].curves.evaluations[0] must have 3 entries"),
    (_set(E2 + ("curves", "evaluations", 1, 0), 0.0), "runs.earlier[2].curves.evaluations[1] is at step 0, before"),
    (_too_many_markers, f"runs.earlier[0].curves.markers has {MAX_MARKERS + 1} entries; at most {MAX_MARKERS}"),
    (_set(E0 + ("curves", "markers", 0), [15]), "runs.earlier[0].curves.markers[0] must have 2 entries"),
    (_set(E0 + ("curves", "markers", 0, 0), -1), "runs.earlier[0].curves.markers[0][0] must be in 0"),
    (_set(E0 + ("curves", "markers", 0, 0), 1.5), "runs.earlier[0].curves.markers[0][0] must be an integer"),
    (_set(E0 + ("curves", "markers", 0, 1), "x" * (MAX_MARKER_TEXT + 1)),
     "runs.earlier[0].curves.markers[0][1] is longer than"),
    (_set(E0 + ("curves", "markers", 0, 1), 7), "runs.earlier[0].curves.markers[0][1] must be text"),
]


@pytest.mark.parametrize("change, message", HOSTILE, ids=[m[:60] for _, m in HOSTILE])
def test_a_bad_runs_section_is_refused_naming_the_field(base_doc, change, message):
    doc = copy.deepcopy(base_doc)
    change(doc)
    text = json.dumps(doc)  # ensure_ascii: a lone surrogate stays an escape, as in a hostile file
    for read in (loads_workspace, loads_session):  # the run alone is not read from a bad file either
        with pytest.raises(SessionFileError) as caught:
            read(text, "bad.json")
        assert str(caught.value).startswith(f"bad.json: {message}"), str(caught.value)
        assert "\n" not in str(caught.value)


def test_the_unchanged_base_document_loads(base_doc):
    """The hostile cases fail for what they change: the document they start from is valid."""
    ws = loads_workspace(json.dumps(base_doc), "good.json")
    assert len(ws.earlier) == 3


def test_a_null_loss_is_a_value_that_does_not_exist(base_doc):
    doc = copy.deepcopy(base_doc)
    doc["runs"]["earlier"][2]["curves"]["steps"][5][1] = None
    ws = loads_workspace(json.dumps(doc), "nulls.json")
    assert np.isnan(ws.earlier[2].saved_curves.steps[5, 1])
    assert image_document(image_of(ws))["runs"]["earlier"][2]["curves"]["steps"][5][1] is None


def test_a_file_with_a_bad_runs_section_names_the_file(tmp_path, base_doc):
    doc = copy.deepcopy(base_doc)
    doc["runs"]["earlier"][2]["curves"]["steps"][5] = [6.0, "x"]
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SessionFileError, match=r"hostile\.json: runs\.earlier\[2\]\.curves\.steps\[5\]\[1\] must be"):
        load_workspace(path)


# ---------------------------------------------------------------------------- command line


def test_info_lists_the_earlier_runs_and_train_keeps_them(tmp_path):
    path = tmp_path / "runs.json"
    save_image(image_of(session()), path)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True, text=True,
                              encoding="utf-8", timeout=300, env=env)

    result = cli("info", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "  this run   Run 4, branched from Run 3 at step 30" in lines
    earlier = [line for line in lines if "steps recorded" in line]
    assert len(earlier) == 3
    assert earlier[0].startswith("  earlier    Run 1 · ") and "40 steps recorded, last loss " in earlier[0]
    assert "until " in earlier[0]
    assert earlier[1].strip().startswith("Run 2 · ") and "until reset at step 40" in earlier[1]
    assert earlier[2].strip().startswith("Run 3 · ") and "60 steps recorded" in earlier[2]
    assert earlier[2].endswith("(hidden)")
    as_json = json.loads(cli("info", str(path), "--json").stdout)
    assert [r["label"] for r in as_json["earlier_runs"]] == ["Run 1", "Run 2", "Run 3"]
    assert [r["visible"] for r in as_json["earlier_runs"]] == [True, True, False]
    assert as_json["earlier_runs"][1]["steps_recorded"] == 40

    before = load_workspace(path)
    trained = cli("train", str(path), "--steps", "25")
    assert trained.returncode == 0, trained.stderr
    after = load_workspace(path)
    assert after.run.step_count == before.run.step_count + 25
    assert after.live.info == before.live.info
    assert [b.info for b in after.earlier] == [b.info for b in before.earlier]
    for was, now in zip(before.earlier, after.earlier):
        assert_same_curves(was.saved_curves, now.saved_curves)
    before.run.train(25)
    assert before.run.capture() == after.run.capture()


# -------------------------------------------------------------------------------- the worker


@pytest.mark.gui
def test_saving_and_loading_through_the_worker_keeps_the_earlier_runs(qtbot, make_controller, tmp_path):
    from qt_helpers import small_run, wait_for_snapshot

    def saved(controller, path):
        replies = []
        controller.saveFinished.connect(lambda *args: replies.append(args))
        request = controller.save(str(path))
        qtbot.waitUntil(lambda: any(r[0] == request for r in replies), timeout=10_000)
        assert [r[2:] for r in replies if r[0] == request] == [(True, "")]

    first = make_controller(small_run())
    first.send(cmd.Step(50))
    first.send(cmd.Reset())
    first.send(cmd.Step(30))
    first.send(cmd.Scrub(10))
    first.send(cmd.ContinueFromHere())
    first.send(cmd.Step(5))
    snap = wait_for_snapshot(qtbot, first, lambda s: s.workspace is not None and len(s.workspace.runs.earlier) == 2
                             and s.step == 15)
    made = snap.workspace.runs
    path = tmp_path / "worker.json"
    saved(first, path)
    on_disk = load_workspace(path).catalog()
    assert on_disk.live == made.live and [r.info for r in on_disk.earlier] == [r.info for r in made.earlier]

    second = make_controller(small_run(seed=99))
    wait_for_snapshot(qtbot, second)
    loads = []
    second.sessionLoaded.connect(loads.append)
    second.load(str(path))
    qtbot.waitUntil(lambda: loads == [str(path)], timeout=10_000)
    snap = wait_for_snapshot(qtbot, second, lambda s: s.workspace is not None and len(s.workspace.runs.earlier) == 2)
    runs = snap.workspace.runs
    assert snap.step == 15 and runs.live == made.live
    for was, now in zip(made.earlier, runs.earlier):
        assert now.info == was.info and now.settings == was.settings and now.visible == was.visible
        assert_same_curves(was.curves, now.curves)
        assert was.has_state and not now.has_state
    again = tmp_path / "again.json"
    saved(second, again)
    assert [r.info for r in load_workspace(again).catalog().earlier] == [r.info for r in made.earlier]


def test_a_long_text_is_saved_within_what_the_reader_takes_back():
    from dataclasses import replace

    from sandbox.session.json_readers import MAX_TEXT

    ws = session()
    ws.earlier[0].info = replace(ws.earlier[0].info, ended="until " + "x" * 5000)
    loaded = reloaded(ws)
    ended = loaded.earlier[0].info.ended
    assert len(ended) == MAX_TEXT and ended.startswith("until x") and ended.endswith("…")
