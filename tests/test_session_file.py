"""Session files: exact round trips, resuming bit for bit, atomic saves and hostile input."""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.engine import HIDDEN_ACTIVATIONS, OPTIMIZERS
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session import session_file
from sandbox.session.csv_import import parse_csv
from sandbox.session.json_text import dumps
from sandbox.session.session_file import (
    FORMAT_VERSION,
    MAX_FILE_BYTES,
    SessionFileError,
    from_document,
    load,
    loads_session,
    save,
    to_document,
)

SPECIAL_VALUES = [
    -0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,  # smallest normal
    2.225073858507201e-308,  # largest subnormal
    1e300,
    -1e300,
    1.7976931348623157e308,
    0.1,
    1 / 3,
    -2.5e-310,
]


def assert_rejected_quickly(path: Path, expected: str) -> None:
    """Loading ``path`` raises SessionFileError within a second, naming the file and problem."""
    start = time.perf_counter()
    with pytest.raises(SessionFileError) as info:
        load(path)
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message, message
    assert len(message) < 1000


def bits(arr: np.ndarray) -> bytes:
    return np.ascontiguousarray(arr, dtype=np.float64).view(np.int64).tobytes()


def assert_same_run(a: TrainingRun, b: TrainingRun) -> None:
    """Every piece of state that decides what the run does next, compared bit for bit."""
    assert bits(a.flat) == bits(b.flat)
    for Wa, Wb in zip(a.weights + a.biases, b.weights + b.biases):
        assert np.array_equal(Wa.view(np.int64), Wb.view(np.int64))
    assert a.opt_state.t == b.opt_state.t
    assert sorted(a.opt_state.buffers) == sorted(b.opt_state.buffers)
    for key in a.opt_state.buffers:
        assert bits(a.opt_state.buffers[key][0]) == bits(b.opt_state.buffers[key][0])
    assert a.step_count == b.step_count and a.epoch == b.epoch and a.cursor == b.cursor
    assert np.array_equal(a.permutation, b.permutation)
    assert a.shuffle_rng.bit_generator.state == b.shuffle_rng.bit_generator.state
    assert (a.last_update is None) == (b.last_update is None)
    if a.last_update is not None:
        assert bits(a.last_update) == bits(b.last_update)
    assert a.divergence == b.divergence
    for sa, sb in ((a.history.steps, b.history.steps), (a.history.evaluations, b.history.evaluations)):
        assert sa.columns == sb.columns
        assert bits(sa.array()) == bits(sb.array())
    assert a.history.markers == b.history.markers
    assert a.hyper == b.hyper and a.network_spec == b.network_spec and a.data_spec == b.data_spec
    assert a.features == b.features and a.seed == b.seed
    assert a.evaluate_each_epoch == b.evaluate_each_epoch
    assert getattr(a, "description", None) == getattr(b, "description", None)
    da, db = a.dataset, b.dataset
    assert (da.name, da.task, da.input_names, da.class_names, da.target_name) == (
        db.name, db.task, db.input_names, db.class_names, db.target_name)
    assert bits(da.inputs) == bits(db.inputs) and bits(da.targets) == bits(db.targets)
    assert np.array_equal(da.is_train, db.is_train)


def via_text(run: TrainingRun) -> TrainingRun:
    return loads_session(dumps(to_document(run)).encode("utf-8"), "<test>")


def small_run(source="xor", optimizer="adam", n_points=30, hidden=(3, 2), acts=("tanh", "relu"),
              seed=0, **hyper) -> TrainingRun:
    hyper.setdefault("batch_size", 4)
    hyper.setdefault("learning_rate", 0.03)
    return TrainingRun.create(
        data=DataSpec(source, n_points=n_points, noise=0.2, train_fraction=0.8, seed=seed + 1),
        network=NetworkSpec(hidden, acts),
        hyper=Hyperparameters(optimizer=optimizer, **hyper),
        seed=seed,
    )


# ------------------------------------------------------------------------------ round trip


@st.composite
def runs(draw):
    source = draw(st.sampled_from(["circle", "xor", "blobs", "plane", "sine", "spiral"]))
    depth = draw(st.integers(0, 3))
    hidden = tuple(draw(st.lists(st.integers(1, 4), min_size=depth, max_size=depth)))
    acts = tuple(draw(st.lists(st.sampled_from(HIDDEN_ACTIVATIONS), min_size=depth, max_size=depth)))
    optimizer = draw(st.sampled_from(OPTIMIZERS))
    hyper = Hyperparameters(
        optimizer=optimizer,
        learning_rate=draw(st.sampled_from([1e-3, 0.01, 0.1, 0.3])),
        batch_size=draw(st.integers(1, 12)),
        l1=draw(st.sampled_from([0.0, 1e-3])),
        l2=draw(st.sampled_from([0.0, 3e-3])),
        momentum=draw(st.sampled_from([0.0, 0.5, 0.9])),
        beta2=draw(st.sampled_from([0.9, 0.999])),
    )
    init = draw(st.sampled_from(["xavier", "he", "uniform", "zeros"]))
    data = DataSpec(source, n_points=draw(st.integers(4, 40)), noise=draw(st.sampled_from([0.0, 0.5])),
                    train_fraction=draw(st.sampled_from([0.5, 0.8, 1.0])), seed=draw(st.integers(0, 2**63 - 1)))
    run = TrainingRun.create(data=data, network=NetworkSpec(hidden, acts, init=init), hyper=hyper,
                             seed=draw(st.integers(0, 2**63 - 1)))
    run.train(draw(st.integers(0, 15)))
    if draw(st.booleans()):
        run.evaluate(record=True)
    # Special floats written into random weights and biases.
    for value in draw(st.lists(st.sampled_from(SPECIAL_VALUES), max_size=6)):
        layer = draw(st.integers(0, len(run.weights) - 1))
        W = run.weights[layer]
        if draw(st.booleans()):
            run.set_weight(layer, draw(st.integers(0, W.shape[0] - 1)), draw(st.integers(0, W.shape[1] - 1)), value)
        else:
            run.set_bias(layer, draw(st.integers(0, W.shape[1] - 1)), value)
    return run


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # some drawn runs diverge
@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=runs())
def test_round_trip_is_exact(run):
    loaded = via_text(run)
    assert_same_run(run, loaded)
    # And the loaded run carries on exactly like the original.
    run.train(3)
    loaded.train(3)
    assert_same_run(run, loaded)


def test_special_values_survive_a_file_round_trip_bit_for_bit(tmp_path):
    run = small_run(hidden=(4,), acts=("tanh",))
    run.train(5)
    W = run.weights[0]
    positions = [(i, j) for i in range(W.shape[0]) for j in range(W.shape[1])]
    for (i, j), value in zip(positions, SPECIAL_VALUES):
        run.set_weight(0, i, j, value)
    run.set_bias(0, 0, -0.0)
    run.set_bias(1, 0, 5e-324)
    path = tmp_path / "special.bpsession.json"
    save(run, path)
    loaded = load(path)
    assert_same_run(run, loaded)
    W2 = loaded.weights[0]
    for (i, j), value in zip(positions, SPECIAL_VALUES):
        assert np.float64(value).view(np.int64) == W2[i, j].view(np.int64)
    assert np.signbit(W2[0, 0]) and W2[0, 0] == 0.0
    assert np.signbit(loaded.biases[0][0])
    assert loaded.biases[1][0] == 5e-324
    # The file is readable JSON that a standard parser accepts.
    text = path.read_text(encoding="utf-8")
    assert json.loads(text)["version"] == FORMAT_VERSION
    assert "-0.0" in text and "5e-324" in text


def test_csv_data_travels_with_the_session(tmp_path):
    text = "width,height,colour\n" + "".join(
        f"{i * 0.37:.4f},{(i * 7) % 11 - 5},{['red', 'green', 'blue'][i % 3]}\n" for i in range(30))
    run = TrainingRun.create(data=parse_csv(text, name="shapes.csv"), network=NetworkSpec((3,), ("elu",)))
    run.train(9)
    path = tmp_path / "csv.bpsession.json"
    save(run, path)
    loaded = load(path)
    assert_same_run(run, loaded)
    assert loaded.dataset.class_names == ("blue", "green", "red")
    assert loaded.data_spec.source == "csv"


def test_long_but_legal_names_round_trip(tmp_path):
    """Whatever the app can create, it can load: long CSV names, many-change markers."""
    name = "n" * 200
    text = f"{name},y\n" + "".join(f"{i},{'L' * 200 if i % 2 else 'short'}\n" for i in range(12))
    csv_path = tmp_path / ("f" * 240 + ".csv")
    csv_path.write_text(text, encoding="utf-8")
    from sandbox.session.csv_import import load_csv

    run = TrainingRun.create(data=load_csv(csv_path), network=NetworkSpec((2,), ("tanh",)))
    run.set_hyperparameters(optimizer="adam", learning_rate=0.123456789012345, batch_size=12345,
                            l1=0.000123456789, l2=0.000987654321, momentum=0.123456789, rho=0.987654321,
                            beta1=0.812345678, beta2=0.99912345, eps=1.23456789e-07)
    run.train(2)
    path = tmp_path / "long.bpsession.json"
    save(run, path)
    assert_same_run(run, load(path))


def test_numpy_integers_in_the_configuration_can_be_saved(tmp_path):
    run = TrainingRun.create(data=DataSpec("circle", n_points=np.int64(20), seed=np.int64(3)))
    path = tmp_path / "np.bpsession.json"
    save(run, path)
    assert load(path).data_spec == run.data_spec


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow on purpose
def test_a_diverged_run_resumes_diverged(tmp_path):
    run = small_run(source="xor", optimizer="sgd", hidden=(4, 2), acts=("linear", "linear"),
                    learning_rate=1e3, n_points=200, batch_size=10)
    assert run.train(1000) < 1000 and run.divergence is not None
    path = tmp_path / "diverged.bpsession.json"
    save(run, path)
    loaded = load(path)
    assert_same_run(run, loaded)
    assert not loaded.step() and loaded.divergence == run.divergence
    assert bits(loaded.flat) == bits(run.flat)


# ---------------------------------------------------------------------------- resuming


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("k, m", [(0, 9), (7, 13), (23, 5)])
def test_resume_equals_training_without_stopping(tmp_path, optimizer, k, m):
    def fresh():
        return small_run(source="spiral", optimizer=optimizer, n_points=30, l1=1e-3, l2=2e-3,
                         learning_rate=0.05, batch_size=5, seed=9)

    straight = fresh()
    straight.train(k)
    straight.set_weight(0, 1, 1, -0.0)
    straight.set_hyperparameters(learning_rate=0.04)
    straight.train(m)

    first = fresh()
    first.train(k)
    first.set_weight(0, 1, 1, -0.0)
    first.set_hyperparameters(learning_rate=0.04)
    path = tmp_path / f"{optimizer}.bpsession.json"
    save(first, path)
    resumed = load(path)
    assert_same_run(first, resumed)
    resumed.train(m)
    assert_same_run(straight, resumed)
    assert straight.epoch >= 1  # the comparison crossed an epoch boundary and its evaluation


def test_phase_state_does_not_leak_into_the_file(tmp_path):
    run = small_run()
    run.train(3)
    run.forward()
    run.backward()
    path = tmp_path / "phase.bpsession.json"
    save(run, path)
    loaded = load(path)
    assert loaded.phase == "idle"
    run.update()
    loaded.step()
    assert_same_run(run, loaded)


# -------------------------------------------------------------------------- atomic saves


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def saved(tmp_path):
    """A folder holding one saved session, with its bytes."""
    run = small_run()
    run.train(4)
    path = tmp_path / "run.bpsession.json"
    save(run, path)
    return run, path, path.read_bytes()


@pytest.mark.parametrize("failing", ["replace", "fsync", "write", "open"])
def test_a_failing_save_leaves_the_old_file_intact(saved, monkeypatch, failing):
    run, path, old_bytes = saved
    run.train(5)  # now different from what is on disk

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if failing == "write":
        real_write = os.write
        calls = []

        def write_half_then_fail(fd, data):
            calls.append(fd)
            if len(calls) > 1:
                fail()
            return real_write(fd, data[: len(data) // 2])

        monkeypatch.setattr(session_file.os, "write", write_half_then_fail)
    elif failing == "open":  # what a read-only folder does (root ignores permissions)
        monkeypatch.setattr(session_file.os, "open", fail)
    else:
        monkeypatch.setattr(session_file.os, failing, fail)
    with pytest.raises(SessionFileError) as info:
        save(run, path)
    monkeypatch.undo()
    assert str(info.value).startswith(f"{path}: ")
    assert "No space left" in str(info.value)
    assert path.read_bytes() == old_bytes
    assert _listing(path.parent) == [path.name]  # no temporary file left behind
    # The old file still loads.
    load(path)


def test_saving_into_a_missing_folder_fails_cleanly(tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "x.bpsession.json"
    with pytest.raises(SessionFileError) as info:
        save(small_run(), path)
    assert str(info.value).startswith(f"{path}: ")
    assert _listing(tmp_path) == []


def test_saving_over_a_folder_fails_cleanly(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    with pytest.raises(SessionFileError) as info:
        save(small_run(), target)
    assert str(info.value).startswith(f"{target}: ")
    assert _listing(tmp_path) == ["taken"] and _listing(target) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_saving_into_a_read_only_folder_fails_cleanly(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(SessionFileError):
            save(small_run(), folder / "x.bpsession.json")
        assert _listing(folder) == []
    finally:
        folder.chmod(0o700)


def test_a_successful_save_replaces_the_file_and_leaves_nothing_else(saved):
    run, path, old_bytes = saved
    run.train(3)
    save(run, path)
    assert path.read_bytes() != old_bytes
    assert _listing(path.parent) == [path.name]
    assert_same_run(run, load(path))


# ------------------------------------------------------------------------- hostile files


@pytest.fixture(scope="module")
def base_doc():
    run = small_run(optimizer="adam", n_points=20, hidden=(3,), acts=("tanh",))
    run.train(6)
    run.evaluate(record=True)
    run.set_weight(0, 0, 0, 0.5)
    return to_document(run)


def mutate(doc, dotted: str, value=None, delete=False):
    doc = copy.deepcopy(doc)
    parts = dotted.split(".")
    target = doc
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    key = int(last) if isinstance(target, list) else last
    if delete:
        del target[key]
    else:
        target[key] = value
    return doc


def _text(doc) -> str:
    return json.dumps(doc)


DOC_CASES = {
    # wrong shapes
    "weights of the wrong size": (lambda d: mutate(d, "state.parameters.weights.0", [[0.1, 0.2, 0.3, 0.4]] * 2),
                                  "state.parameters.weights[0]"),
    "a weight row too long": (lambda d: mutate(d, "state.parameters.weights.0.0", [0.0] * 4),
                              "state.parameters.weights[0][0]"),
    "a layer missing": (lambda d: mutate(d, "state.parameters.weights", d["state"]["parameters"]["weights"][:1]),
                        "state.parameters.weights"),
    "bias too short": (lambda d: mutate(d, "state.parameters.biases.0", [0.0]), "state.parameters.biases[0]"),
    "optimizer buffer of the wrong shape": (lambda d: mutate(d, "state.optimizer_state.buffers.m.weights.1", [[1.0]]),
                                            "buffers.m.weights[1]"),
    "optimizer buffer missing": (lambda d: mutate(d, "state.optimizer_state.buffers.v", delete=True), "buffers.v"),
    "negative second moment": (lambda d: mutate(d, "state.optimizer_state.buffers.v.biases.0", [-1.0, 0.0, 0.0]),
                               "must not be negative"),
    "permutation with a repeat": (lambda d: mutate(d, "state.permutation", [0] * len(d["state"]["permutation"])),
                                  "permutation"),
    "permutation too short": (lambda d: mutate(d, "state.permutation", d["state"]["permutation"][:-1]),
                              "state.permutation"),
    "permutation out of range": (lambda d: mutate(d, "state.permutation.0", 10**6), "state.permutation[0]"),
    "cursor past the training set": (lambda d: mutate(d, "state.cursor", 10**6), "state.cursor"),
    "inputs row of the wrong width": (lambda d: mutate(d, "data.inputs.3", [1.0]), "data.inputs[3]"),
    "targets too short": (lambda d: mutate(d, "data.targets", d["data"]["targets"][:-1]), "data.targets"),
    "class label out of range": (lambda d: mutate(d, "data.targets.0", 7), "data.targets[0]"),
    "no training examples": (lambda d: mutate(d, "data.is_train", [0] * len(d["data"]["is_train"])), "is_train"),
    "history row of the wrong width": (lambda d: mutate(d, "history.steps.rows.0", [1.0, 1.0]), "history.steps.rows[0]"),
    "history columns renamed": (lambda d: mutate(d, "history.steps.columns", ["a"]), "history.steps.columns"),
    "marker not a pair": (lambda d: mutate(d, "history.markers", [[1]]), "history.markers[0]"),
    # huge declared sizes
    "a billion hidden neurons": (lambda d: mutate(d, "network.hidden_sizes", [10**9]), "network.hidden_sizes[0]"),
    "sixty-four 4096-wide layers": (lambda d: mutate(mutate(d, "network.hidden_sizes", [4096] * 64),
                                                     "network.hidden_activations", ["relu"] * 64), "at most 16 hidden layers"),  # refused before any array is built
    "a million hidden layers": (lambda d: mutate(d, "network.hidden_sizes", [1] * 10**6), "network.hidden_sizes"),
    "10**12 points": (lambda d: mutate(d, "data.n_points", 10**12), "data.n_points"),
    "more rows than allowed": (lambda d: mutate(d, "data.inputs", [[0.0, 0.0]] * 100_001), "data.inputs"),
    "a thousand classes": (lambda d: mutate(d, "data.class_names", [str(k) for k in range(1000)]), "class_names"),
    "step count 10**30": (lambda d: mutate(d, "state.step", 10**30), "state.step"),
    "huge integer where a float goes": (lambda d: mutate(d, "training.learning_rate", 10**400),
                                        "training.learning_rate"),
    "huge integer as noise": (lambda d: mutate(d, "data.noise", -(10**400)), "data.noise"),
    "huge integer in a weight": (lambda d: mutate(d, "state.parameters.weights.0.0.0", 10**400), "too large"),
    "huge integer in the history": (lambda d: mutate(d, "history.steps.rows.0.2", 10**400), "too large"),
    # versions, names, fields
    "a newer format version": (lambda d: mutate(d, "version", FORMAT_VERSION + 1), "newer"),
    "version zero": (lambda d: mutate(d, "version", 0), "version"),
    "version as text": (lambda d: mutate(d, "version", "1"), "version"),
    "version as a boolean": (lambda d: mutate(d, "version", True), "version"),
    "wrong format name": (lambda d: mutate(d, "format", "keras-model"), "not a Backprop Sandbox session"),
    "missing state": (lambda d: mutate(d, "state", delete=True), "state is missing"),
    "missing weights": (lambda d: mutate(d, "state.parameters.weights", delete=True), "state.parameters.weights is missing"),
    "missing inputs": (lambda d: mutate(d, "data.inputs", delete=True), "data.inputs is missing"),
    "unknown top-level field": (lambda d: mutate(d, "pickle", "cos\nsystem\n"), "unknown field"),
    "unknown network field": (lambda d: mutate(d, "network.dropout", 0.5), "unknown field"),
    "document is a list": (lambda d: [d], "must be an object"),
    "document is null": (lambda d: None, "must be an object"),
    # bad values
    "weight as text": (lambda d: mutate(d, "state.parameters.weights.0.0.0", "0.5"), "must be a number"),
    "weight as a boolean": (lambda d: mutate(d, "state.parameters.weights.0.0.0", True), "must be a number"),
    "weight as null": (lambda d: mutate(d, "state.parameters.weights.0.0.0", None), "must be a number"),
    "negative learning rate": (lambda d: mutate(d, "training.learning_rate", -1.0), "learning rate"),
    "unknown optimizer": (lambda d: mutate(d, "training.optimizer", "lbfgs"), "optimizer"),
    "unknown activation": (lambda d: mutate(d, "network.hidden_activations", ["gelu"]), "gelu"),
    "loss that does not fit the output": (lambda d: mutate(d, "network.loss", "cross_entropy"), "softmax"),
    "unknown feature": (lambda d: mutate(d, "features", ["x1", "x3"]), "x3"),
    "unknown rng": (lambda d: mutate(d, "state.shuffle_rng.bit_generator", "MT19937"), "PCG64"),
    "rng state too big": (lambda d: mutate(d, "state.shuffle_rng.state", 2**200), "shuffle_rng.state"),
    "very long text": (lambda d: mutate(d, "data.name", "x" * 100_000), "data.name"),
    "unknown dataset": (lambda d: mutate(d, "data.source", "mnist"), "mnist"),
    "bad divergence": (lambda d: mutate(d, "state.divergence", {"step": 1}), "state.divergence"),
}


@pytest.mark.parametrize("case", list(DOC_CASES))
def test_hostile_documents_raise_session_file_error(tmp_path, base_doc, case):
    make, expected = DOC_CASES[case]
    path = tmp_path / "hostile.bpsession.json"
    path.write_text(_text(make(base_doc)), encoding="utf-8")
    assert_rejected_quickly(path, expected)


def _replace_first_weight(text: str, token: str) -> str:
    doc = json.loads(text)
    original = repr(doc["state"]["parameters"]["weights"][0][0][0])
    assert original in text
    return text.replace(original, token, 1)


TEXT_CASES = {
    "truncated": (lambda t: t[: len(t) // 2].encode(), "not valid JSON"),
    "truncated to one byte": (lambda t: t[:1].encode(), "not valid JSON"),
    "empty": (lambda t: b"", "empty"),
    "only whitespace": (lambda t: b" \n\t \n", "empty"),
    "random bytes": (lambda t: np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes(), ""),
    "random printable text": (lambda t: bytes(np.random.default_rng(1).integers(32, 127, 4096, dtype=np.uint8)),
                              "JSON"),
    "not UTF-8": (lambda t: b"\xff\xfe" + t.encode("utf-16-le"), "UTF-8"),
    "latin-1 text": (lambda t: t.replace('"xor"', '"x\u00f6r"', 1).encode("latin-1", errors="replace"), "UTF-8"),
    "NaN": (lambda t: _replace_first_weight(t, "NaN").encode(), "NaN"),
    "Infinity": (lambda t: _replace_first_weight(t, "Infinity").encode(), "Infinity"),
    "-Infinity": (lambda t: _replace_first_weight(t, "-Infinity").encode(), "Infinity"),
    "1e999": (lambda t: _replace_first_weight(t, "1e999").encode(), "too large"),
    "-1e999 as learning rate": (lambda t: t.replace('"learning_rate": 0.03', '"learning_rate": -1e999').encode(),
                                "too large"),
    "an integer with 5000 digits": (lambda t: _replace_first_weight(t, "9" * 5000).encode(), "JSON"),
    "deep list nesting": (lambda t: b"[" * 100_000, ""),
    "deep object nesting": (lambda t: b'{"a":' * 100_000, ""),
    "deep nesting inside a valid document": (
        lambda t: t.replace('"format"', '"x": ' + "[" * 50_000 + "]" * 50_000 + ', "format"', 1).encode(), ""),
    "a JSON string": (lambda t: b'"backprop-sandbox-session"', "must be an object"),
    "a JSON number": (lambda t: b"1", "must be an object"),
    "trailing garbage": (lambda t: (t + "}").encode(), "not valid JSON"),
    "NUL byte": (lambda t: t.replace('"format"', '"for\x00mat"', 1).encode(), ""),
    "duplicate keys used to hide a field": (
        lambda t: t.replace(f'"version": {FORMAT_VERSION}', f'"version": {FORMAT_VERSION}, "version": 99', 1).encode(),
        "the key 'version' appears twice"),
}


@pytest.mark.parametrize("case", list(TEXT_CASES))
def test_hostile_bytes_raise_session_file_error(tmp_path, base_doc, case):
    make, expected = TEXT_CASES[case]
    text = dumps(base_doc)
    path = tmp_path / "hostile.bpsession.json"
    path.write_bytes(make(text))
    assert_rejected_quickly(path, expected)


def test_the_base_document_itself_loads(tmp_path, base_doc):
    path = tmp_path / "ok.bpsession.json"
    path.write_text(dumps(base_doc), encoding="utf-8")
    run = load(path)
    assert run.step_count == 6
    # The standard library's JSON module reads the same document.
    assert from_document(json.loads(path.read_text())).step_count == 6


def test_a_file_over_64_mb_is_rejected_by_size_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.bpsession.json"
    with open(path, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space used

    def no_open(*args, **kwargs):  # pragma: no cover - must not be called
        raise AssertionError("the file was opened")

    monkeypatch.setattr(session_file, "open", no_open, raising=False)
    monkeypatch.setattr(session_file, "loads", no_open)
    start = time.perf_counter()
    with pytest.raises(SessionFileError) as info:
        load(path)
    assert time.perf_counter() - start < 1.0
    assert str(info.value).startswith(f"{path}: ") and "64 MB" in str(info.value)


def test_missing_file_and_folder_raise_session_file_error(tmp_path):
    for path in (tmp_path / "missing.bpsession.json", tmp_path):
        with pytest.raises(SessionFileError) as info:
            load(path)
        assert str(info.value).startswith(f"{path}: ")


def test_loads_session_accepts_text_and_bytes_and_names_the_source(base_doc):
    text = dumps(base_doc)
    assert loads_session(text).step_count == loads_session(text.encode()).step_count == 6
    with pytest.raises(SessionFileError, match=r"^pasted text: "):
        loads_session("{", "pasted text")


def test_history_of_an_overflowing_loss_round_trips_exactly(tmp_path):
    """A huge (finite) weight makes the full-set loss overflow: history keeps ±max double and
    the canonical NaN, never inf or a NaN payload, so the file reproduces it bit for bit."""
    run = TrainingRun.create(DataSpec(source="plane"), network=NetworkSpec((3,), ("linear",)))
    run.set_weight(0, 0, 0, 1e300)
    run.set_weight(1, 0, 0, 1e300)
    with np.errstate(all="ignore"):
        ev = run.evaluate(record=True)
    assert not np.isfinite(ev.train_loss)
    path = tmp_path / "overflow.json"
    save(run, path)
    again = load(path)
    assert bits(run.history.evaluations.array()) == bits(again.history.evaluations.array())
