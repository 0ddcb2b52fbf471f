"""The blame ranking's maths (``sandbox.analysis.parameter_ranking``), against the engine's own
gradients and a ranking written out by hand in plain Python."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sandbox.analysis.parameter_ranking import layer_gradient_shares, top_parameters
from sandbox.engine import loss_and_gradients
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.naming import BiasRef, WeightRef
from sandbox.session.snapshot import HistoryCursor, make_snapshot


def make_run(optimizer="sgd", l2=0.0, steps=4) -> TrainingRun:
    run = TrainingRun.create(
        data=DataSpec("spiral", n_points=80, noise=0.1, train_fraction=0.5, seed=2),
        network=NetworkSpec((5, 3), ("tanh", "relu")),
        hyper=Hyperparameters(optimizer=optimizer, learning_rate=0.05, batch_size=9, l2=l2),
        seed=4,
    )
    run.train(steps)
    return run


def snap_of(run: TrainingRun):
    return make_snapshot(run, generation=0, run_id=0, cursor=HistoryCursor(), grid_resolution=None)


def by_hand(weights, biases, amounts_w, amounts_b):
    """Every parameter as (|amount|, order, ref, amount, value), sorted the slow obvious way."""
    rows, order = [], 0
    for layer, (W, b) in enumerate(zip(weights, biases)):
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                rows.append((abs(amounts_w[layer][i, j]), order, WeightRef(layer, i, j), amounts_w[layer][i, j], W[i, j]))
                order += 1
        for j in range(b.shape[0]):
            rows.append((abs(amounts_b[layer][j]), order, BiasRef(layer, j), amounts_b[layer][j], b[j]))
            order += 1
    return sorted(rows, key=lambda r: (-r[0], r[1]))


@pytest.mark.parametrize("l2", [0.0, 0.03])
def test_ranking_by_gradient_lists_weights_and_biases_by_the_engines_gradient(l2):
    run = make_run(l2=l2)
    snap = snap_of(run)
    _, gw, gb = loss_and_gradients(run.weights, run.biases, run.activation_names, run.network_spec.loss,
                                   run.X_train, run.Y_train, l2=l2)
    expected = by_hand(run.weights, run.biases, gw, gb)[:8]
    got = top_parameters(snap, 8)
    assert [r.ref for r in got] == [e[2] for e in expected]
    assert any(isinstance(r.ref, BiasRef) for r in top_parameters(snap, 40))
    for row, e in zip(got, expected):
        assert row.amount == pytest.approx(e[3], rel=1e-9, abs=1e-15)
        assert row.value == e[4]
        assert row.sign == (1 if e[3] > 0 else -1)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_ranking_by_update_lists_the_last_delta(optimizer):
    run = make_run(optimizer)
    before_w = [w.copy() for w in run.weights]
    before_b = [b.copy() for b in run.biases]
    run.step()
    snap = snap_of(run)
    # Δp = what the step added, measured on the parameters themselves
    dw = [a - b for a, b in zip(run.weights, before_w)]
    db = [a - b for a, b in zip(run.biases, before_b)]
    expected = by_hand(run.weights, run.biases, dw, db)[:6]
    got = top_parameters(snap, 6, by="update")
    assert [r.ref for r in got] == [e[2] for e in expected]
    for row, e in zip(got, expected):
        assert row.amount == pytest.approx(e[3], rel=1e-9, abs=1e-15)


def test_ranking_edge_cases():
    run = make_run(steps=0)
    snap = snap_of(run)
    assert top_parameters(snap, 3, by="update") == []  # no update yet
    assert top_parameters(snap, 0) == []
    n = sum(w.size + b.size for w, b in zip(run.weights, run.biases))
    assert len(top_parameters(snap, 10_000)) == n
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            top_parameters(snap, bad)
    with pytest.raises(ValueError):
        top_parameters(snap, 3, by="weights")


def test_ranking_puts_nan_last_and_keeps_ties_in_parameter_order():
    snap = snap_of(make_run())
    grads_w = [np.zeros_like(g) for g in snap.grad_weights]
    grads_b = [np.zeros_like(g) for g in snap.grad_biases]
    grads_w[0][0, 0] = np.nan
    grads_b[1][0] = 2.0
    grads_w[2][0, 0] = -2.0  # ties with b[2][1]: the bias comes first (earlier layer)
    grads_w[1][1, 1] = 1.0
    import dataclasses
    snap = dataclasses.replace(snap, grad_weights=tuple(grads_w), grad_biases=tuple(grads_b))
    refs = [r.ref for r in top_parameters(snap, 10_000)]
    assert refs[:3] == [BiasRef(1, 0), WeightRef(2, 0, 0), WeightRef(1, 1, 1)]
    assert refs[-1] == WeightRef(0, 0, 0)


@pytest.mark.parametrize("l2", [0.0, 0.03])
def test_layer_shares_are_shares_of_the_squared_gradient_norm(l2):
    run = make_run(l2=l2)
    snap = snap_of(run)
    _, gw, gb = loss_and_gradients(run.weights, run.biases, run.activation_names, run.network_spec.loss,
                                   run.X_train, run.Y_train, l2=l2)
    squares = [sum(float(x) ** 2 for x in np.ravel(w)) + sum(float(x) ** 2 for x in b) for w, b in zip(gw, gb)]
    shares, norm = layer_gradient_shares(snap)
    assert sum(shares) == pytest.approx(1.0)
    assert shares == pytest.approx([s / sum(squares) for s in squares], rel=1e-9)
    assert norm == pytest.approx(math.sqrt(sum(squares)), rel=1e-9)


def test_layer_shares_of_a_zero_and_of_a_non_finite_gradient():
    import dataclasses
    snap = snap_of(make_run())
    zero = dataclasses.replace(snap, grad_weights=tuple(np.zeros_like(g) for g in snap.grad_weights),
                               grad_biases=tuple(np.zeros_like(g) for g in snap.grad_biases))
    assert layer_gradient_shares(zero) == ((0.0, 0.0, 0.0), 0.0)
    grads = [np.array(g) for g in snap.grad_weights]
    grads[1][0, 0] = np.inf
    shares, norm = layer_gradient_shares(dataclasses.replace(snap, grad_weights=tuple(grads)))
    assert all(math.isnan(s) for s in shares) and norm == math.inf
