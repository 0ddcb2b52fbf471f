"""Exports: the weights (.npz, JSON), the standalone script (numpy, PyTorch), the loss history
(CSV) and ``backprop-sandbox export``.

The exported script is run as a user runs it, in a fresh interpreter (``sys.executable``) that
cannot import this package, on the training set's raw inputs; its outputs must equal the app's
own forward pass on the training set.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.engine.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from sandbox.session.config import DataSpec, Hyperparameters, NetworkSpec
from sandbox.session.features import available_features
from sandbox.session.csv_import import parse_csv
from sandbox.session.exports import (ExportError, ExportedNetwork, HistoryTables, history_csv, numpy_script,
                                     read_history_csv, read_weights_json, torch_script, write_code,
                                     write_history, write_npz, write_weights_json)
from sandbox.session.exports.code import NUMPY_ACTIVATIONS, TORCH_ACTIVATIONS
from sandbox.session.run import TrainingRun
from sandbox.session.session_file import save

ENV = dict(os.environ, QT_QPA_PLATFORM="offscreen")

#: Runs the script at argv[1] on the inputs in argv[2] (.npy) and saves predict()'s outputs to
#: argv[3], in an interpreter where this package cannot be imported.
RUNNER = textwrap.dedent("""
    import runpy, sys
    sys.modules["sandbox"] = None  # the script must not need the app
    import numpy as np
    script = runpy.run_path(sys.argv[1])
    out = script["predict"](np.load(sys.argv[2]))
    np.save(sys.argv[3], np.asarray(out, dtype=np.float64))
""")

CSV_DATA = textwrap.dedent('''\
    "age, years",income \u20ac,"say ""hi""",label
    1.5,2.0,-3.0,a
    0.5,-1.0,2.0,b
    -1.5,0.25,1.0,a
    2.5,1.0,0.0,b
    -0.5,-2.0,0.5,a
    3.0,0.5,-1.0,b
    1.0,1.5,1.5,a
    -2.0,-0.5,-2.5,b
''')


def trained(data, features=None, hidden=(4, 2), acts=("tanh", "tanh"), output=None, steps=150,
            lr=0.03) -> TrainingRun:
    spec = NetworkSpec(hidden_sizes=hidden, hidden_activations=acts, output_activation=output)
    run = TrainingRun.create(data, features=features, network=spec,
                             hyper=Hyperparameters(learning_rate=lr, batch_size=10), seed=3)
    run.train(steps)
    return run


CASES = {
    "circle x1 x2 tanh sigmoid": lambda: trained(DataSpec("circle", 200, 0.1)),
    "spiral every feature relu": lambda: trained(
        DataSpec("spiral", 200, 0.1), features=("x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"),
        hidden=(6, 3), acts=("relu", "relu")),
    "xor product sin sigmoid hidden": lambda: trained(
        DataSpec("xor", 200), features=("x1_x2", "sin_x2"), hidden=(3,), acts=("sigmoid",)),
    "blobs softmax three classes": lambda: trained(
        DataSpec("blobs", 200, 0.2), features=("x1", "x2", "x1_sq"), hidden=(5,), acts=("elu",)),
    "gauss softmax two classes": lambda: trained(
        DataSpec("gauss", 200), hidden=(3,), acts=("leaky_relu",), output="softmax"),
    "sine regression 1-D features": lambda: trained(
        DataSpec("sine", 200, 0.1), features=("x", "x_sq", "sin_x"), hidden=(5,), acts=("tanh",)),
    "plane regression linear": lambda: trained(
        DataSpec("plane", 200, 0.1), hidden=(3,), acts=("softplus",), lr=0.003),
    # Every hidden activation in one chain, so each exported formula meets the engine's.
    "every activation": lambda: trained(
        DataSpec("moons", 120, 0.1), hidden=(3,) * len(HIDDEN_ACTIVATIONS), acts=HIDDEN_ACTIVATIONS, steps=60),
    "csv columns with odd names": lambda: trained(
        parse_csv(CSV_DATA, name="odd.csv", train_fraction=0.75), hidden=(3,), acts=("swish",), steps=40),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    return CASES[request.param]()


def app_outputs(run: TrainingRun) -> np.ndarray:
    """What the app shows as the network's outputs on the training set."""
    return run.inspect().forward.output


def raw_train_inputs(run: TrainingRun) -> np.ndarray:
    return run.dataset.inputs[run.dataset.train_indices]


def run_script(script: Path, inputs: np.ndarray, tmp_path: Path) -> np.ndarray:
    np.save(tmp_path / "inputs.npy", inputs)
    result = subprocess.run([sys.executable, "-c", RUNNER, str(script), str(tmp_path / "inputs.npy"),
                             str(tmp_path / "out.npy")], capture_output=True, text=True, timeout=120, env=ENV)
    assert result.returncode == 0, result.stderr
    return np.load(tmp_path / "out.npy")


# ------------------------------------------------------------------------------ the script


def test_the_numpy_script_predicts_what_the_app_shows(case, tmp_path):
    script = tmp_path / "network.py"
    write_code(ExportedNetwork.of(case), script)
    out = run_script(script, raw_train_inputs(case), tmp_path)
    expected = app_outputs(case)
    assert out.shape == expected.shape
    assert np.max(np.abs(out - expected)) <= 1e-12


def test_the_pytorch_script_predicts_what_the_app_shows(case, tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "network_torch.py"
    write_code(ExportedNetwork.of(case), script, torch=True)
    out = run_script(script, raw_train_inputs(case), tmp_path)
    assert np.max(np.abs(out - app_outputs(case))) <= 1e-6


@st.composite
def networks(draw):
    """A random small network on 1-D, 2-D or three-column data, with random features, layers
    and activations (every output the task allows), a few steps trained."""
    source = draw(st.sampled_from(["circle", "blobs", "plane", "sine", "csv"]))
    data = parse_csv(CSV_DATA, name="odd.csv", train_fraction=0.75) if source == "csv" else DataSpec(source, 60, 0.1)
    names = TrainingRun.create(data).dataset.input_names
    keys = [f.key for f in available_features(names)]
    features = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True))
    depth = draw(st.integers(0, 3))
    hidden = tuple(draw(st.integers(1, 4)) for _ in range(depth))
    acts = tuple(draw(st.sampled_from(HIDDEN_ACTIVATIONS)) for _ in range(depth))
    regression = source in ("plane", "sine")
    outputs = ["linear", "tanh", "relu"] if regression else (["softmax"] if source == "blobs" else ["sigmoid", "softmax"])
    output = draw(st.sampled_from(outputs))
    return trained(data, features=tuple(features), hidden=hidden, acts=acts, output=output, steps=draw(st.integers(0, 20)),
                   lr=0.01)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=networks())
def test_the_numpy_script_matches_the_app_for_any_network(run):
    import runpy
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "network.py"
        write_code(ExportedNetwork.of(run), script)
        predict = runpy.run_path(str(script))["predict"]
    for inputs, expected in ((raw_train_inputs(run), app_outputs(run)),
                             (run.dataset.inputs[run.dataset.test_indices],
                              run.network.forward(run.weights, run.biases, run.X_test).output)):
        out = predict(inputs)
        assert out.shape == expected.shape
        assert np.max(np.abs(out - expected), initial=0.0) <= 1e-12


def test_every_activation_has_a_numpy_and_a_torch_form():
    assert set(NUMPY_ACTIVATIONS) == set(ACTIVATIONS) == set(TORCH_ACTIVATIONS)


def test_the_pytorch_script_is_valid_python_that_builds_a_sequential():
    # Where torch is missing the script still has to be well-formed Python.
    run = CASES["every activation"]()
    text = torch_script(ExportedNetwork.of(run))
    compile(text, "network_torch.py", "exec")
    assert "nn.Sequential(" in text and "import numpy" not in text
    for act in HIDDEN_ACTIVATIONS:
        assert TORCH_ACTIVATIONS[act] in text


def test_the_script_run_as_a_program_predicts_a_csv_file_and_example_rows(tmp_path):
    run = CASES["csv columns with odd names"]()
    script = tmp_path / "network.py"
    write_code(ExportedNetwork.of(run), script)
    data = tmp_path / "rows.csv"
    raw = raw_train_inputs(run)
    with open(data, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        # Columns in another order, and one the script ignores: it picks its own by name.
        writer.writerow(["ignored"] + list(reversed(run.dataset.input_names)))
        writer.writerows([["7"] + [repr(v) for v in reversed(row)] for row in raw.tolist()])
    result = subprocess.run([sys.executable, str(script), str(data)], capture_output=True, text=True,
                            timeout=120, env=ENV, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    header, *rows = list(csv.reader(io.StringIO(result.stdout)))
    assert header == list(run.dataset.input_names) + ["p(b)"]
    d = run.dataset.n_inputs
    printed = np.array([[float(v) for v in row] for row in rows])
    assert np.array_equal(printed[:, :d], raw)
    assert np.max(np.abs(printed[:, d:] - app_outputs(run))) <= 1e-12
    # Without an argument it predicts the first training examples.
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                            env=ENV, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 + 3


def test_the_script_refuses_inputs_of_the_wrong_shape(tmp_path):
    run = CASES["circle x1 x2 tanh sigmoid"]()
    script = tmp_path / "network.py"
    write_code(ExportedNetwork.of(run), script)
    code = f"import runpy; runpy.run_path({str(script)!r})['predict']([[1.0, 2.0, 3.0]])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "inputs must have shape (n, 2): the columns x1, x2" in result.stderr


def test_the_script_writes_each_feature_formula_and_the_trained_weights():
    run = CASES["spiral every feature relu"]()
    text = numpy_script(ExportedNetwork.of(run))
    for formula in ("X[:, 0],", "X[:, 1] ** 2,", "X[:, 0] * X[:, 1],", "np.sin(X[:, 1]),"):
        assert formula in text
    assert repr(float(run.weights[0][2, 1])) in text
    assert "import sandbox" not in text and "from sandbox" not in text


# --------------------------------------------------------------------------------- weights


def bits(arr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(arr, dtype=np.float64).view(np.int64)


def test_npz_holds_one_array_per_layer_named_as_the_app_names_them(case, tmp_path):
    path = tmp_path / "w.npz"
    write_npz(ExportedNetwork.of(case), path)
    with np.load(path, allow_pickle=False) as archive:
        depth = len(case.weights)
        assert sorted(archive.files) == sorted([f"W{l + 1}" for l in range(depth)] + [f"b{l + 1}" for l in range(depth)])
        for l in range(depth):
            assert np.array_equal(bits(archive[f"W{l + 1}"]), bits(case.weights[l]))
            assert np.array_equal(bits(archive[f"b{l + 1}"]), bits(case.biases[l]))


def test_json_holds_the_architecture_and_the_arrays_bit_for_bit(case, tmp_path):
    path = tmp_path / "w.json"
    write_weights_json(ExportedNetwork.of(case), path)
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert doc["layer_sizes"] == list(case.layer_sizes)
    assert doc["activations"] == list(case.activation_names)
    assert [f["key"] for f in doc["features"]] == list(case.features)
    assert doc["inputs"] == list(case.dataset.input_names)
    assert doc["step"] == case.step_count
    params = read_weights_json(text)
    for l in range(len(case.weights)):
        assert np.array_equal(bits(params[f"W{l + 1}"]), bits(case.weights[l]))
        assert np.array_equal(bits(params[f"b{l + 1}"]), bits(case.biases[l]))


def test_negative_zero_and_tiny_weights_survive_every_format(tmp_path):
    run = CASES["circle x1 x2 tanh sigmoid"]()
    run.set_weight(0, 0, 0, -0.0)
    run.set_weight(0, 1, 0, 5e-324)
    run.set_bias(0, 0, 1.0000000000000002)
    net = ExportedNetwork.of(run)
    write_npz(net, tmp_path / "w.npz")
    write_weights_json(net, tmp_path / "w.json")
    from_json = read_weights_json((tmp_path / "w.json").read_text(encoding="utf-8"))
    with np.load(tmp_path / "w.npz") as from_npz:
        for params in (from_json, from_npz):
            assert np.array_equal(bits(params["W1"]), bits(run.weights[0]))
            assert np.array_equal(bits(params["b1"]), bits(run.biases[0]))
    script = tmp_path / "network.py"
    write_code(net, script)
    out = run_script(script, raw_train_inputs(run), tmp_path)
    assert np.max(np.abs(out - app_outputs(run))) <= 1e-12


# --------------------------------------------------------------------------------- history


def assert_same_tables(a: HistoryTables, b: HistoryTables) -> None:
    assert a.step_columns == b.step_columns and a.evaluation_columns == b.evaluation_columns
    assert np.array_equal(a.step_rows, b.step_rows, equal_nan=True)
    assert np.array_equal(a.evaluation_rows, b.evaluation_rows, equal_nan=True)


def test_history_csv_parsed_back_equals_the_history(tmp_path):
    run = trained(DataSpec("circle", 200, 0.1), steps=0)
    run.evaluate(record=True)  # step 0: an evaluation with no step row
    run.train(75)  # 7.5 epochs of 10-row batches on 100 training rows: one evaluation an epoch
    run.evaluate(record=True)  # on demand, at a step without an epoch evaluation
    run.evaluate(record=True)  # and again at the same step
    path = tmp_path / "history.csv"
    write_history(HistoryTables.of(run.history), path)
    text = path.read_text(encoding="utf-8")
    assert_same_tables(read_history_csv(text), HistoryTables.of(run.history))
    rows = list(csv.DictReader(io.StringIO(text)))
    header = list(rows[0])
    assert header[:3] == ["step", "step_weight", "batch_loss"]
    assert "grad_norm_W1" in header and "update_ratio_W3" in header and header[-4:] == [
        "train_loss", "test_loss", "train_accuracy", "test_accuracy"]
    assert rows[0]["step"] == "0" and rows[0]["batch_loss"] == "" and rows[0]["train_loss"] != ""
    # The epoch's evaluation shares the row of the step that ended the epoch.
    epoch_end = next(r for r in rows if r["step"] == "10")
    assert epoch_end["batch_loss"] != "" and epoch_end["train_loss"] != ""
    assert len(rows) == 75 + 1 + 1  # the steps, step 0, the repeated evaluation of step 75


def test_history_csv_keeps_downsampled_rows_and_empty_values():
    steps = np.array([[1.5, 2.0, 0.5, np.nan], [3.0, 1.0, 0.25, 1e-300], [4.0, 1.0, -0.0, 5e-324]])
    evals = np.array([[0.0, 1.0, 0.7, np.nan], [2.5, 2.0, 0.6, np.nan], [3.0, 1.0, 0.5, np.nan]])
    tables = HistoryTables(("loss", "grad_norm_0"), steps, ("train_loss", "test_loss"), evals)
    text = history_csv(tables)
    assert_same_tables(read_history_csv(text), tables)
    lines = text.splitlines()
    assert lines[0] == "step,step_weight,batch_loss,grad_norm_W1,evaluation_weight,train_loss,test_loss"
    assert lines[1:] == ["0,,,,1,0.7,", "1.5,2,0.5,,,,", "2.5,,,,2,0.6,", "3,1,0.25,1e-300,1,0.5,", "4,1,-0.0,5e-324,,,"]
    back = read_history_csv(text)
    assert np.array_equal(back.step_rows.view(np.int64), steps.view(np.int64))  # bit for bit, −0.0 too


# ---------------------------------------------------------------------------------- errors


def test_unwritable_paths_are_export_errors_naming_the_path(tmp_path):
    net = ExportedNetwork.of(CASES["circle x1 x2 tanh sigmoid"]())
    missing = tmp_path / "no such folder" / "w.npz"
    writers = [lambda p: write_npz(net, p), lambda p: write_weights_json(net, p), lambda p: write_code(net, p),
               lambda p: write_code(net, p, torch=True),
               lambda p: write_history(HistoryTables.of(CASES["circle x1 x2 tanh sigmoid"]().history), p)]
    for write in writers:
        with pytest.raises(ExportError, match="no such folder") as info:
            write(missing)
        assert isinstance(info.value, ValueError)
        assert str(info.value).startswith(str(missing))
    read_only = tmp_path / "read-only.py"
    read_only.write_text("keep me")
    read_only.chmod(0o444)  # refused by its mode bits, even for root
    with pytest.raises(ExportError, match="read-only") as info:
        write_code(net, read_only)
    assert str(info.value).startswith(str(read_only))
    assert read_only.read_text() == "keep me"


def test_a_non_finite_parameter_is_refused_before_anything_is_written(tmp_path):
    run = CASES["circle x1 x2 tanh sigmoid"]()
    net = ExportedNetwork.of(run)
    bad = ExportedNetwork(net.dataset, net.features, net.activations, net.loss,
                          (np.full_like(net.weights[0], np.inf),) + net.weights[1:], net.biases, net.step)
    with pytest.raises(ExportError, match="W1 holds a value that is not a finite number"):
        write_weights_json(bad, tmp_path / "w.json")
    assert not (tmp_path / "w.json").exists()


# ------------------------------------------------------------------------- command line


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True, text=True,
                          timeout=300, env=ENV)


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("backprop-sandbox: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def session_file(tmp_path_factory):
    run = CASES["blobs softmax three classes"]()
    run.evaluate(record=True)
    path = tmp_path_factory.mktemp("session") / "blobs.json"
    save(run, path)
    return path


def test_cli_export_writes_every_format_from_a_session_file(session_file, tmp_path):
    from sandbox.session.session_file import load

    run = load(session_file)
    out = {k: tmp_path / name for k, name in (("npz", "w.npz"), ("json", "w.json"), ("code", "net.py"),
                                              ("history", "h.csv"))}
    result = cli("export", str(session_file), "--npz", str(out["npz"]), "--json", str(out["json"]),
                 "--code", str(out["code"]), "--history", str(out["history"]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("saved ") == 4
    with np.load(out["npz"]) as archive:
        assert np.array_equal(bits(archive["W2"]), bits(run.weights[1]))
    assert np.array_equal(bits(read_weights_json(out["json"].read_text(encoding="utf-8"))["b1"]), bits(run.biases[0]))
    assert_same_tables(read_history_csv(out["history"].read_text(encoding="utf-8")), HistoryTables.of(run.history))
    assert np.max(np.abs(run_script(out["code"], raw_train_inputs(run), tmp_path) - app_outputs(run))) <= 1e-12


@pytest.mark.parametrize("flag,name", [("--npz", "w.npz"), ("--json", "w.json"), ("--code", "net.py"),
                                       ("--history", "h.csv")])
def test_cli_export_writes_one_format_alone(flag, name, tmp_path):
    result = cli("export", flag, str(tmp_path / name))  # the built-in default session
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_cli_export_torch_flavour(tmp_path):
    result = cli("export", "--code", str(tmp_path / "net.py"), "--torch")
    assert result.returncode == 0, result.stderr
    assert "PyTorch script" in result.stdout
    assert "nn.Sequential(" in (tmp_path / "net.py").read_text(encoding="utf-8")


def test_cli_export_from_a_csv_file(tmp_path):
    data = tmp_path / "odd.csv"
    data.write_text(CSV_DATA, encoding="utf-8")
    result = cli("export", str(data), "--code", str(tmp_path / "net.py"))
    assert result.returncode == 0, result.stderr
    script = (tmp_path / "net.py").read_text(encoding="utf-8")
    assert "INPUT_COLUMNS = ('age, years', 'income \u20ac', 'say \"hi\"')" in script


@pytest.mark.parametrize("args,fragment", [
    ((), "give at least one of --npz"),
    (("--torch",), "give at least one of"),
    (("--npz", "{tmp}/w.npz", "--torch"), "--torch chooses the flavour of --code"),
    (("{tmp}/missing.json", "--npz", "{tmp}/w.npz"), "missing.json"),
    (("--npz", "{tmp}/no/w.npz"), "does not exist"),
    (("--npz", "{tmp}/same", "--json", "{tmp}/same"), "both name"),
    (("--json", "{tmp}/w.json", "--npz", "{tmp}/no/w.npz"), "does not exist"),  # checked before any write
    (("--nonsense", "x"), "unrecognized arguments"),
])
def test_cli_export_errors_are_one_line(args, fragment, tmp_path):
    result = cli("export", *(a.format(tmp=tmp_path) for a in args))
    assert_user_error(result, fragment)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_cli_export_never_writes_over_the_session_it_exports(session_file):
    before = session_file.read_bytes()
    assert_user_error(cli("export", str(session_file), "--json", str(session_file)), "is the session being exported")
    assert session_file.read_bytes() == before
