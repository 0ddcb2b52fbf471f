"""The largest network the app serves: accepted at the limit, refused above it with a message
that says what to make smaller, wherever a network is created (a run, a session file, a CSV, the
command line)."""

from __future__ import annotations

import json

import pytest

from sandbox.session import DataSpec, NetworkSpec, TrainingRun
from sandbox.session.config import (
    MAX_ACTIVATIONS, MAX_HIDDEN_LAYERS, MAX_LAYER_WIDTH, MAX_PARAMETERS, parameter_count,
)
from sandbox.session.csv_import import parse_csv
from sandbox.session.session_file import SessionFileError, loads_session, save
from test_cli import assert_user_error, cli


def _run(hidden: tuple[int, ...], n_points: int = 200) -> TrainingRun:
    return TrainingRun.create(DataSpec("circle", n_points=n_points),
                              network=NetworkSpec(hidden, ("tanh",) * len(hidden)))


def _widest_within(budget: int, depth: int) -> int:
    """The widest layers (depth of them) whose 2-input, 1-output network fits ``budget``."""
    width = 1
    while parameter_count((2, *(width + 1,) * depth, 1)) <= budget:
        width += 1
    return width


# (hidden sizes, rows) at the limits, each with its twin just above and what the refusal says.
AT_AND_ABOVE = {
    "width": (((MAX_LAYER_WIDTH,), 200), ((MAX_LAYER_WIDTH + 1,), 200), f"1 … {MAX_LAYER_WIDTH} neurons"),
    "depth": (((4,) * MAX_HIDDEN_LAYERS, 200), ((4,) * (MAX_HIDDEN_LAYERS + 1), 200),
              f"at most {MAX_HIDDEN_LAYERS} hidden layers"),
    "parameters": (((_widest_within(MAX_PARAMETERS, 8),) * 8, 200), ((_widest_within(MAX_PARAMETERS, 8) + 1,) * 8, 200),
                   f"at most {MAX_PARAMETERS:,}"),
    # 30 hidden + 1 output neurons: rows × 31 against the budget.
    "rows × neurons": (((30,), MAX_ACTIVATIONS // 31), ((30,), MAX_ACTIVATIONS // 31 + 1), "examples × 31 neurons"),
}


def test_the_limits_cover_the_benchmark_and_8_by_16():
    for hidden, n_points in (((64, 64, 64), 2000), ((8,) * 16, 500), ((16,) * 8, 500)):
        assert _run(hidden, n_points).layer_sizes[1:-1] == hidden
    # The benchmark's 64-wide config (2-64-64-64-1 on 2,000 points) with room to spare.
    assert parameter_count((2, 64, 64, 64, 1)) * 2 <= MAX_PARAMETERS
    assert 2000 * (3 * 64 + 1) * 5 <= MAX_ACTIVATIONS


@pytest.mark.parametrize("limit", AT_AND_ABOVE)
def test_a_run_at_the_limit_is_built_and_one_above_is_refused(limit):
    (at, at_rows), (above, above_rows), message = AT_AND_ABOVE[limit]
    assert _run(at, at_rows).layer_sizes[1:-1] == at
    with pytest.raises(ValueError, match=message.replace("×", ".").replace("…", ".")):
        _run(above, above_rows)


def test_the_sizes_the_issue_names_are_refused_at_once():
    import time

    for hidden in ((1500, 1500), (64,) * 64):
        start = time.perf_counter()
        with pytest.raises(ValueError):
            _run(hidden)
        assert time.perf_counter() - start < 0.5  # before any parameter or pass is built


@pytest.fixture
def session_text(tmp_path):
    path = tmp_path / "ok.json"
    save(_run((4, 2)), path)
    return json.loads(path.read_text())


@pytest.mark.parametrize("limit", ["width", "depth", "parameters"])
def test_a_session_file_above_the_limit_is_refused_with_the_message(session_text, limit):
    _, (above, _), message = AT_AND_ABOVE[limit]
    doc = dict(session_text, network=dict(session_text["network"], hidden_sizes=list(above),
                                           hidden_activations=["tanh"] * len(above)))
    with pytest.raises(SessionFileError, match=message.replace("…", ".")):
        loads_session(json.dumps(doc), "big.json")


def test_csv_data_too_large_for_the_network_is_refused():
    rows = MAX_ACTIVATIONS // 129 + 1  # 64 + 64 hidden neurons and one output
    text = "a,b,y\n" + "\n".join(f"{k % 7},{k % 5},{k % 2}" for k in range(rows))
    with pytest.raises(ValueError, match="examples × 129 neurons"):
        TrainingRun.create(parse_csv(text, name="big.csv"), network=NetworkSpec((64, 64), ("tanh", "tanh")))


def test_the_command_line_refuses_a_session_above_the_limit_in_one_line(session_text, tmp_path):
    doc = dict(session_text, network=dict(session_text["network"], hidden_sizes=[1500, 1500],
                                           hidden_activations=["tanh", "tanh"]))
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    assert_user_error(cli("info", str(path)), "big.json", f"1 … {MAX_LAYER_WIDTH} neurons, got 1500")
