"""Where δ comes from at the output, one example's term of ∂J/∂w, and saturated or dead
neurons: checked against the engine's δ and gradients, or hand-built networks."""

from __future__ import annotations

import numpy as np
import pytest

from sandbox.analysis import weight_gradient_terms
from sandbox.analysis.chain_rule import example_product, neuron_condition
from sandbox.analysis.output_delta import A_MINUS_Y, CHAIN, CROSS_ENTROPY, JACOBIAN, output_delta
from sandbox.session.naming import NeuronRef, WeightRef

from test_analysis import make_run, snap_of


@pytest.mark.parametrize("source, output, loss, formula", [
    ("circle", "sigmoid", "bce", A_MINUS_Y),
    ("blobs", "softmax", "cross_entropy", CROSS_ENTROPY),
    ("sine", "linear", "mse", A_MINUS_Y),
    ("sine", "tanh", "mse", CHAIN),
    ("blobs", "softmax", "mse", JACOBIAN),
])
def test_output_delta_is_the_engine_delta_and_its_formula(source, output, loss, formula):
    run = make_run(source=source, output=output, loss=loss, steps=8)
    snap = snap_of(run)
    L = len(snap.weights)
    engine = snap.train_pass.backward.deltas[-1]  # the engine's ∂ℓ_r/∂z_L per example
    a = run.network.forward(run.weights, run.biases, run.X_train).output
    for j in range(snap.layer_sizes[-1]):
        for r in (0, 5, run.n_train - 1):
            out = output_delta(snap, NeuronRef(L, j), r)
            assert out.formula == formula
            assert out.delta == pytest.approx(engine[r, j], rel=1e-12, abs=1e-15)
            assert out.activation_value == a[r, j]
            assert out.target == run.Y_train[r, j]
            if formula in (A_MINUS_Y, CROSS_ENTROPY):
                assert out.delta == pytest.approx(out.activation_value - out.target, rel=1e-12, abs=1e-15)
            if formula == CHAIN:
                assert out.derivative * (out.activation_value - out.target) == pytest.approx(out.delta, rel=1e-12)
        mean = output_delta(snap, NeuronRef(L, j))
        assert mean.example is None and mean.n_rows == run.n_train
        assert mean.delta == pytest.approx(engine[:, j].mean(), rel=1e-12, abs=1e-15)
        assert mean.target == pytest.approx(run.Y_train[:, j].mean())


def test_output_delta_of_the_batch_and_bad_references():
    run = make_run(steps=4)
    snap = snap_of(run)
    batch = snap.batch_pass
    out = output_delta(snap, NeuronRef(3, 0), 2, batch=True)
    assert out.delta == pytest.approx(batch.backward.deltas[-1][2, 0], rel=1e-12)
    assert out.target == run.Y_train[batch.rows[2], 0]
    with pytest.raises(ValueError):
        output_delta(snap, NeuronRef(2, 0))  # a hidden neuron
    with pytest.raises(ValueError):
        output_delta(snap, NeuronRef(3, 1))
    with pytest.raises(ValueError):
        output_delta(snap, NeuronRef(3, 0), run.n_train)


def test_example_terms_average_to_the_data_term():
    run = make_run(hidden=(4, 3), acts=("relu", "tanh"), l1=0.01, l2=0.02, steps=10)
    snap = snap_of(run)
    for ref in (WeightRef(0, 1, 2), WeightRef(1, 3, 0), WeightRef(2, 2, 0)):
        terms = [example_product(snap, ref, r) for r in range(run.n_train)]
        for t in terms:
            assert t.product == t.activation * t.delta
        data = weight_gradient_terms(snap, ref).data
        assert np.mean([t.product for t in terms]) == pytest.approx(data, rel=1e-12, abs=1e-16)
        # and, with the penalties, the engine's gradient
        total = np.mean([t.product for t in terms]) + 0.01 * np.sign(snap.weights[ref.layer][ref.i, ref.j]) \
            + 0.02 * snap.weights[ref.layer][ref.i, ref.j]
        assert total == pytest.approx(snap.grad_weights[ref.layer][ref.i, ref.j], rel=1e-10, abs=1e-16)
    with pytest.raises(ValueError):
        example_product(snap, WeightRef(0, 0, 0), run.n_train)


def test_saturated_and_dead_neurons_on_hand_built_networks():
    run = make_run(hidden=(3, 2), acts=("tanh", "relu"), steps=0)
    n_in = run.weights[0].shape[0]
    for i in range(n_in):
        run.set_weight(0, i, 0, 200.0)  # hidden 1, neuron 1: |z| huge on most examples → tanh pinned
        run.set_weight(0, i, 1, 0.0)  # hidden 1, neuron 2: z = 0 exactly, tanh(0) = 0: not pinned
    run.set_bias(0, 1, 0.0)
    run.set_bias(1, 1, -1e3)  # hidden 2, neuron 2: z ≤ 0 everywhere → a dead ReLU
    # hidden 2, neuron 1: off (z ≤ 0) on about 70 % of the examples, on for the rest: alive
    z = snap_of(run).train_pass.forward.pre_activations[1][:, 0]
    run.set_bias(1, 0, float(run.biases[1][0] - np.quantile(z, 0.7)))
    snap = snap_of(run)
    x = run.X_train
    pinned = np.mean(np.abs(np.tanh(x @ np.full(x.shape[1], 200.0) + snap.biases[0][0])) > 0.99)
    assert pinned > 0.5  # the hand-built neuron really is pinned on most examples
    sat = neuron_condition(snap, NeuronRef(1, 0))
    assert sat.state == "saturated" and sat.counts == "saturated" and sat.fraction == pytest.approx(pinned, abs=0.02)
    calm = neuron_condition(snap, NeuronRef(1, 1))
    assert calm.state == "active" and calm.fraction == 0.0
    mostly_off = neuron_condition(snap, NeuronRef(2, 0))
    assert mostly_off.state == "active" and mostly_off.counts == "dead"
    assert mostly_off.fraction == pytest.approx(0.7, abs=0.05)
    dead = neuron_condition(snap, NeuronRef(2, 1))
    assert dead.state == "dead" and dead.fraction == 1.0
    # a dead ReLU passes no blame back: zero activation and zero δ on every example
    assert not snap.train_pass.forward.activations[2][:, 1].any()
    assert not snap.train_pass.backward.deltas[1][:, 1].any()
    # at one example
    r = int(np.argmax(np.abs(np.tanh(x @ np.full(x.shape[1], 200.0) + snap.biases[0][0])) > 0.999))
    assert neuron_condition(snap, NeuronRef(1, 0), r).state == "saturated"
    assert neuron_condition(snap, NeuronRef(2, 1), r).state == "dead"
