"""The per-step update-to-weight ratio ‖ΔW_l‖ / ‖W_l‖: recorded where the step is applied,
checked against the weights themselves, downsampled like the gradient norms, saved in session
files, and empty (NaN) for steps recorded by files of an older format."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.history import DEFAULT_LEVEL_ROWS, grad_norm_columns, update_ratio_columns
from sandbox.session.scoring import FLOAT_MAX, update_ratios
from sandbox.session.session_file import SessionFileError, loads_session, to_document
from sandbox.session.json_text import dumps


def small_run(optimizer: str = "adam", seed: int = 0) -> TrainingRun:
    return TrainingRun.create(
        data=DataSpec("xor", n_points=24, noise=0.2, train_fraction=0.75, seed=seed + 1),
        network=NetworkSpec((3, 2), ("tanh", "relu")),
        hyper=Hyperparameters(optimizer=optimizer, batch_size=5, learning_rate=0.05, l2=0.001),
        seed=seed,
    )


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_each_step_records_the_ratio_of_the_weight_change_to_the_weights_before_it(optimizer):
    run = small_run(optimizer)
    n = len(run.weights)
    columns = run.history.steps.columns
    ratio_at = [columns.index(c) + 2 for c in update_ratio_columns(n)]
    for _ in range(6):
        before = [w.copy() for w in run.weights]
        assert run.step()
        row = run.history.steps.last()
        for l in range(n):
            expected = np.linalg.norm(run.weights[l] - before[l]) / np.linalg.norm(before[l])
            assert row[ratio_at[l]] == pytest.approx(expected, rel=1e-9)


def test_the_ratio_is_nan_where_the_weights_are_zero_and_finite_when_sums_of_squares_overflow():
    # Layout W_0 (2), b_0 (1), W_1 (2), b_1 (1).
    starts = [slice(0, 2), slice(3, 5)]
    flat = np.array([0.0, 0.0, 5.0, 3.0, 4.0, 1.0])
    delta = np.array([1.0, 1.0, 9.0, 0.3, 0.4, 7.0])
    r = update_ratios(flat, delta, starts)
    assert math.isnan(r[0]) and r[1] == pytest.approx(0.1)
    huge = np.array([1e200, 1e200, 0.0, 1e300, 1e300, 0.0])
    r = update_ratios(huge, np.array([1e300, 0.0, 0.0, 1e-300, 0.0, 0.0]), starts)
    assert r[0] == pytest.approx(1e100 / math.sqrt(2)) and r[1] == pytest.approx(1e-300 / 1e300 / math.sqrt(2))
    tiny = np.array([3e-170, 4e-170, 0.0, 1.0, 1.0, 0.0])  # Σw² underflows to 0
    r = update_ratios(tiny, np.array([5e-171, 0.0, 0.0, 0.0, 0.0, 0.0]), starts)
    assert r[0] == pytest.approx(0.1) and r[1] == 0.0
    r = update_ratios(np.array([1e-300, 0, 0, 1, 1, 0]), np.array([1e300, 0, 0, 0, 0, 0]), starts)
    assert r[0] == FLOAT_MAX


def test_compaction_merges_the_ratios_exactly_like_the_gradient_norms():
    """Downsampled rows hold the weighted means of the steps they stand for, for the ratio
    columns as for the norms (one class: every per-layer column)."""
    run = small_run("sgd")
    n = len(run.weights)
    columns = run.history.steps.columns
    per_step = []
    run.train(2 * DEFAULT_LEVEL_ROWS + 300, callback=lambda r: per_step.append(r.history.steps.last()[2:].copy()))
    per_step = np.array(per_step)
    rows = run.history.steps.array()
    assert len(rows) < len(per_step)  # it did downsample
    ends = np.cumsum(rows[:, 1]).astype(int)
    for (row, end) in zip(rows, ends):
        start = end - int(row[1])
        for name in grad_norm_columns(n) + update_ratio_columns(n):
            c = columns.index(name)
            assert row[2 + c] == pytest.approx(per_step[start:end, c].mean(), rel=1e-12)


def test_ratios_survive_a_session_file_bit_for_bit_and_the_run_continues_identically():
    straight = small_run()
    straight.train(40)
    first = small_run()
    first.train(25)
    resumed = loads_session(dumps(to_document(first)).encode(), "<test>")
    resumed.train(15)
    a, b = straight.history.steps.array(), resumed.history.steps.array()
    assert a.tobytes() == b.tobytes()


def _as_format_2(doc: dict, n_layers: int) -> dict:
    """``doc`` as format 2 wrote it: steps without the ratio columns."""
    doc = copy.deepcopy(doc)
    doc["version"] = 2
    steps = doc["history"]["steps"]
    steps["columns"] = steps["columns"][: len(steps["columns"]) - n_layers]
    steps["rows"] = [row[: len(row) - n_layers] for row in steps["rows"]]
    return doc


def test_a_format_2_file_loads_with_empty_ratios_and_records_them_from_then_on():
    run = small_run()
    run.train(12)
    n = len(run.weights)
    old = _as_format_2(to_document(run), n)
    loaded = loads_session(json.dumps(old), "old.json")
    steps = loaded.history.steps
    assert steps.columns == run.history.steps.columns
    for name in update_ratio_columns(n):
        assert np.isnan(steps.column(name)).all()
    for name in ("loss",) + grad_norm_columns(n):
        assert steps.column(name).tobytes() == run.history.steps.column(name).tobytes()
    assert steps.appends_since_compaction == run.history.steps.appends_since_compaction
    loaded.train(3)
    assert np.isfinite(loaded.history.steps.array()[-3:]).all()
    assert to_document(loaded)["history"]["steps"]["columns"][-n:] == list(update_ratio_columns(n))


def test_a_format_3_file_must_have_the_ratio_columns():
    run = small_run()
    run.train(3)
    doc = _as_format_2(to_document(run), len(run.weights))
    doc["version"] = 3
    with pytest.raises(SessionFileError, match="history.steps.columns"):
        loads_session(json.dumps(doc), "bad.json")


def test_the_built_in_examples_still_load():
    from sandbox.resources import example_sessions
    from sandbox.session.session_file import load

    for path in example_sessions():
        run = load(path)
        assert run.history.steps.columns[-len(run.weights):] == update_ratio_columns(len(run.weights))
