"""``sandbox.analysis.example_focus``: one example's loss, a, δ and a_i·δ_j, checked against the
engine run on that example alone (whose gradient *is* its a_i·δ_j), and the per-example terms
averaging to the data term of ∂J/∂w."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.analysis import weight_gradient_terms
from sandbox.analysis.example_focus import (
    example_activations,
    example_deltas,
    example_neuron,
    example_summary,
    example_weight_terms,
    largest_loss_row,
    per_example_losses,
    source_values,
    top_examples,
    weight_terms,
)
from sandbox.engine import loss_and_gradients
from sandbox.engine.losses import LOSSES
from sandbox.session.naming import NeuronRef, WeightRef
from sandbox.viewstate import DataSource

from test_analysis import all_weights, make_run, snap_of

#: (hidden activations, output, loss, data): one case per loss, 2 and 3 classes, regression.
CASES = [
    (("tanh", "relu"), None, None, "circle"),  # sigmoid + bce
    (("sigmoid", "tanh"), "softmax", "cross_entropy", "circle"),
    (("relu", "tanh"), None, None, "blobs"),  # three classes: softmax + cross-entropy
    (("tanh", "swish"), None, None, "plane"),  # regression: linear + mse
]


def _run(case, l1=0.0, l2=0.0):
    acts, output, loss, source = case
    return make_run(acts=acts, output=output, loss=loss, source=source, l1=l1, l2=l2)


def _alone(run, row):
    """The engine on training row ``row`` alone, unregularised: (ℓ_r, ∂ℓ_r/∂W, ∂ℓ_r/∂b)."""
    return loss_and_gradients(run.weights, run.biases, run.activation_names, run.network_spec.loss,
                              run.X_train[row:row + 1], run.Y_train[row:row + 1])


@pytest.fixture(params=range(len(CASES)), ids=["bce", "softmax2", "softmax3", "mse"])
def case(request):
    return CASES[request.param]


def test_every_loss_has_per_example_losses():
    assert {LOSSES[name].per_example is not None for name in LOSSES} == {True}


def test_per_example_losses_are_the_engine_loss_of_each_example_alone(case):
    run = _run(case)
    snap = snap_of(run)
    losses = per_example_losses(snap)
    assert losses.shape == (len(run.X_train),)
    for row in (0, 3, len(losses) - 1):
        assert losses[row] == pytest.approx(_alone(run, row)[0], rel=1e-12, abs=1e-15)
    assert losses.mean() == pytest.approx(snap.train_pass.backward.data_loss, rel=1e-12)
    assert example_summary(snap, 3).loss == pytest.approx(losses[3], rel=1e-12)


def test_largest_loss_row_is_the_argmax_of_the_engine_losses(case):
    run = _run(case)
    snap = snap_of(run)
    engine = [_alone(run, r)[0] for r in range(len(run.X_train))]
    assert largest_loss_row(snap) == int(np.argmax(engine))


def test_example_terms_are_the_gradient_of_that_example_alone(case):
    # With one row, the engine's ∂J/∂W is a_l δ_{l+1}ᵀ exactly: the term the views show.
    run = _run(case, l1=0.01, l2=0.02)  # the regulariser must not leak into a term
    snap = snap_of(run)
    for row in (0, 5):
        _, grads, bias_grads = _alone(run, row)
        for got, want in zip(example_weight_terms(snap, row), grads):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
        # δ_{l+1} of one example is its ∂ℓ/∂b.
        for got, want in zip(example_deltas(snap, row), bias_grads):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_per_example_terms_average_to_the_data_term_of_every_weight(case):
    run = _run(case, l1=0.003, l2=0.01)
    snap = snap_of(run)
    for ref in all_weights(snap):
        terms = weight_terms(snap, ref)
        data = weight_gradient_terms(snap, ref).data
        assert terms.mean() == pytest.approx(data, rel=1e-9, abs=1e-15)
    # and, summed over examples, the outer products are the unregularised engine gradient
    _, grads, _ = loss_and_gradients(run.weights, run.biases, run.activation_names, run.network_spec.loss,
                                     run.X_train, run.Y_train)
    n = len(run.X_train)
    total = [sum(example_weight_terms(snap, r)[layer] for r in range(n)) / n for layer in range(len(grads))]
    for got, want in zip(total, grads):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-14)


def test_activations_and_neuron_values_are_the_engine_forward_of_that_example():
    run = _run(CASES[0])
    snap = snap_of(run)
    fwd = run.network.forward(run.weights, run.biases, run.X_train[7:8])
    for got, want in zip(example_activations(snap, 7), fwd.activations):
        np.testing.assert_allclose(got, want[0], rtol=1e-12)
    a, delta = example_neuron(snap, NeuronRef(1, 2), 7)
    assert a == pytest.approx(fwd.activations[1][0, 2], rel=1e-12)
    assert delta == pytest.approx(_alone(run, 7)[2][0][2], rel=1e-10)
    assert example_neuron(snap, NeuronRef(0, 1), 7) == (pytest.approx(run.X_train[7, 1]), None)


def test_summary_names_inputs_target_and_prediction():
    run = _run(CASES[0])
    snap = snap_of(run)
    s = example_summary(snap, 4)
    index = int(snap.dataset.train_indices[4])
    assert s.index == index and s.row == 4
    assert [v for _, v in s.inputs] == pytest.approx(list(snap.dataset.inputs[index]))
    assert [name for name, _ in s.features] == list(snap.feature_labels)
    assert s.target == snap.dataset.targets[index]
    out = run.network.forward(run.weights, run.biases, run.X_train[4:5]).output[0]
    np.testing.assert_allclose(s.prediction, out)
    assert s.predicted == float(out[0] > 0.5)


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 40), layer=st.integers(0, 2), seed=st.integers(0, 50))
def test_top_examples_are_the_largest_terms_with_sign_and_share(k, layer, seed):
    run = make_run(seed=seed, steps=3)
    snap = snap_of(run)
    W = snap.weights[layer]
    ref = WeightRef(layer, seed % W.shape[0], (seed // 3) % W.shape[1])
    top = top_examples(snap, ref, k)
    n = len(run.X_train)
    # Each example's term from the engine on that example alone.
    engine = np.array([_alone(run, r)[1][layer][ref.i, ref.j] for r in range(n)])
    assert len(top) == min(k, n)
    order = np.argsort(-np.abs(engine), kind="stable")
    assert [abs(t.term) for t in top] == pytest.approx(list(np.abs(engine[order[:len(top)]])), rel=1e-9, abs=1e-15)
    for t in top:
        assert t.term == pytest.approx(engine[t.row], rel=1e-9, abs=1e-15)
        assert t.index == snap.dataset.train_indices[t.row]
        assert t.share == pytest.approx(engine[t.row] / engine.sum(), rel=1e-6, abs=1e-12)
    assert len({t.row for t in top}) == len(top)


def test_source_values_per_source():
    run = _run(CASES[0])
    snap = snap_of(run)
    train = source_values(snap, DataSource.TRAINING_SET)
    assert train.source is DataSource.TRAINING_SET
    for got, want in zip(train.grad_weights, snap.grad_weights):
        assert got is want
    batch = source_values(snap, DataSource.LAST_BATCH)
    assert batch.source is DataSource.LAST_BATCH
    bp = snap.batch_pass
    for got, want in zip(batch.grad_weights, bp.backward.grad_weights):
        assert got is want
    # mean |δ| over the batch's rows (the batch ran before the step: its own stored δ)
    for layer, got in enumerate(batch.mean_abs_delta, start=1):
        np.testing.assert_allclose(got, np.abs(bp.delta(layer)).mean(axis=0), rtol=1e-12)
    ex = source_values(snap, DataSource.EXAMPLE, 2)
    assert ex.source is DataSource.EXAMPLE and "no L1/L2" in ex.caption
    _, grads, bias_grads = _alone(run, 2)
    for got, want in zip(ex.grad_weights, grads):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    for got, want in zip(ex.mean_abs_delta, bias_grads):
        np.testing.assert_allclose(got, np.abs(want), rtol=1e-10, atol=1e-14)
    # No focused example, or no batch: the training set's, saying so.
    assert source_values(snap, DataSource.EXAMPLE, None).source is DataSource.TRAINING_SET
    assert source_values(snap, DataSource.EXAMPLE, 10_000).source is DataSource.TRAINING_SET


def test_source_values_without_a_batch_fall_back_to_the_training_set():
    run = _run(CASES[0])
    run.reset()
    snap = snap_of(run)
    assert snap.batch_pass is None
    assert source_values(snap, DataSource.LAST_BATCH).source is DataSource.TRAINING_SET


def test_rows_outside_the_training_set_are_refused():
    snap = snap_of(_run(CASES[0]))
    with pytest.raises(ValueError):
        example_summary(snap, snap.train_pass.n_rows)
    with pytest.raises(ValueError):
        example_deltas(snap, -1)
