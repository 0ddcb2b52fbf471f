"""``sandbox.analysis``: every quantity checked against the engine (its gradients, its δ), finite
differences, or a hand-computed case; never against the same formula written again."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sandbox.analysis import (
    activation_derivatives,
    bias_gradient_terms,
    blame_rank,
    chain_rule,
    most_blamed,
    neuron_means,
    weight_gradient_terms,
)
from sandbox.engine import BackwardPass, loss_and_gradients
from sandbox.engine.activations import ACTIVATIONS
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.naming import BiasRef, NeuronRef, WeightRef
from sandbox.session.snapshot import HistoryCursor, make_snapshot

FD_STEP = 1e-6


def make_run(hidden=(4, 3), acts=("tanh", "sigmoid"), l1=0.0, l2=0.0, source="circle", n_points=60,
             output=None, loss=None, seed=3, steps=5, batch_size=7) -> TrainingRun:
    run = TrainingRun.create(
        data=DataSpec(source, n_points=n_points, noise=0.1, train_fraction=0.5, seed=1),
        network=NetworkSpec(hidden, acts, output_activation=output, loss=loss),
        hyper=Hyperparameters(learning_rate=0.1, batch_size=batch_size, l1=l1, l2=l2),
        seed=seed,
    )
    run.train(steps)
    return run


def snap_of(run: TrainingRun):
    return make_snapshot(run, generation=0, run_id=0, cursor=HistoryCursor(), grid_resolution=None)


def all_weights(snap):
    for layer, W in enumerate(snap.weights):
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                yield WeightRef(layer, i, j)


def data_loss(run: TrainingRun, weights, biases) -> float:
    """The data loss on the training set, from the engine's public function (no penalty)."""
    J, _, _ = loss_and_gradients(weights, biases, run.activation_names, run.network_spec.loss,
                                 run.X_train, run.Y_train)
    return J


# ---------------------------------------------------------------------------- gradient terms


@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.03, 0.0), (0.0, 0.05), (0.02, 0.04)])
def test_weight_terms_add_up_to_the_engine_gradient(l1, l2):
    run = make_run(l1=l1, l2=l2)
    snap = snap_of(run)
    for ref in all_weights(snap):
        terms = weight_gradient_terms(snap, ref)
        engine = float(snap.grad_weights[ref.layer][ref.i, ref.j])
        assert terms.total == engine
        assert terms.data + terms.l1 + terms.l2 == pytest.approx(engine, abs=1e-12, rel=1e-12)
        assert terms.weight == float(snap.weights[ref.layer][ref.i, ref.j])
        assert terms.n_rows == run.n_train


def test_weight_data_term_is_the_slope_of_the_data_loss():
    run = make_run(l1=0.05, l2=0.1)  # the penalty must not leak into the data term
    snap = snap_of(run)
    Ws = [W.copy() for W in run.weights]
    bs = [b.copy() for b in run.biases]
    for ref in all_weights(snap):
        w0 = Ws[ref.layer][ref.i, ref.j]
        Ws[ref.layer][ref.i, ref.j] = w0 + FD_STEP
        up = data_loss(run, Ws, bs)
        Ws[ref.layer][ref.i, ref.j] = w0 - FD_STEP
        down = data_loss(run, Ws, bs)
        Ws[ref.layer][ref.i, ref.j] = w0
        numeric = (up - down) / (2 * FD_STEP)
        assert weight_gradient_terms(snap, ref).data == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_penalty_terms_on_weights_set_by_hand():
    run = make_run(l1=0.1, l2=0.2)
    run.set_weight(0, 1, 2, 0.5)
    run.set_weight(1, 0, 0, -0.25)
    run.set_weight(1, 2, 1, 0.0)
    snap = snap_of(run)
    pos = weight_gradient_terms(snap, WeightRef(0, 1, 2))
    assert (pos.l1, pos.l2, pos.weight) == (0.1, 0.1, 0.5)
    assert pos.data == pytest.approx(float(snap.grad_weights[0][1, 2]) - 0.2, abs=1e-12)
    neg = weight_gradient_terms(snap, WeightRef(1, 0, 0))
    assert (neg.l1, neg.l2) == (-0.1, -0.05)
    assert neg.data == pytest.approx(float(snap.grad_weights[1][0, 0]) + 0.15, abs=1e-12)
    zero = weight_gradient_terms(snap, WeightRef(1, 2, 1))
    assert (zero.l1, zero.l2) == (0.0, 0.0)  # sign(0) = 0
    assert zero.data == pytest.approx(float(snap.grad_weights[1][2, 1]), abs=1e-15)


def test_bias_terms_are_the_data_term_alone_and_the_slope_of_the_data_loss():
    run = make_run(l1=0.05, l2=0.1)
    snap = snap_of(run)
    Ws = [W.copy() for W in run.weights]
    bs = [b.copy() for b in run.biases]
    for layer, b in enumerate(bs):
        for j in range(len(b)):
            terms = bias_gradient_terms(snap, BiasRef(layer, j))
            assert terms.total == float(snap.grad_biases[layer][j])
            assert terms.data == pytest.approx(terms.total, abs=1e-14)
            b0 = b[j]
            b[j] = b0 + FD_STEP
            up = data_loss(run, Ws, bs)
            b[j] = b0 - FD_STEP
            down = data_loss(run, Ws, bs)
            b[j] = b0
            assert terms.data == pytest.approx((up - down) / (2 * FD_STEP), rel=1e-6, abs=1e-9)


def test_batch_terms_use_the_pending_batch_and_its_weights():
    run = make_run(l1=0.02, l2=0.03)
    run.backward()
    snap = snap_of(run)
    for ref in all_weights(snap):
        terms = weight_gradient_terms(snap, ref, batch=True)
        engine = float(snap.batch_gradients[0][ref.layer][ref.i, ref.j])
        assert terms.total == engine and terms.n_rows == 7
        assert terms.data + terms.l1 + terms.l2 == pytest.approx(engine, abs=1e-12, rel=1e-12)


def test_batch_terms_of_an_applied_step_use_the_weights_before_it():
    run = make_run(l1=0.02, l2=0.03)
    weights = [W.copy() for W in run.weights]
    biases = [b.copy() for b in run.biases]
    rows = run.next_batch_indices().copy()
    run.step()
    snap = snap_of(run)
    # the engine on the same rows with the weights before the step
    _, grads, _ = loss_and_gradients(weights, biases, run.activation_names, run.network_spec.loss,
                                     run.X_train[rows], run.Y_train[rows], l1=0.02, l2=0.03)
    for ref in all_weights(snap):
        terms = weight_gradient_terms(snap, ref, batch=True)
        assert terms.weight == weights[ref.layer][ref.i, ref.j]
        assert terms.data + terms.l1 + terms.l2 == pytest.approx(grads[ref.layer][ref.i, ref.j], abs=1e-12)


def test_terms_reject_bad_references_and_missing_batches():
    snap = snap_of(make_run(steps=0))
    with pytest.raises(ValueError):
        weight_gradient_terms(snap, WeightRef(5, 0, 0))
    with pytest.raises(ValueError):
        weight_gradient_terms(snap, WeightRef(0, 9, 0))
    with pytest.raises(ValueError):
        bias_gradient_terms(snap, BiasRef(0, 9))
    with pytest.raises(ValueError, match="mini-batch"):
        weight_gradient_terms(snap, WeightRef(0, 0, 0), batch=True)  # no step yet


# --------------------------------------------------------------------------------- blame


def _with_gradients(snap, grads):
    back = snap.train_pass.backward
    fake = BackwardPass(back.objective, back.data_loss, [np.array(g, dtype=float) for g in grads],
                        back.grad_biases, back.grad_pre_activations)
    return dataclasses.replace(snap, train_pass=dataclasses.replace(snap.train_pass, backward=fake))


HAND_GRADS = [
    [[0.1, -0.5, 0.2], [0.5, 0.0, -0.3]],
    [[math.nan, 0.05], [-0.5, 0.4], [0.01, 0.02]],
    [[-0.7], [0.3]],
]
# (ref, rank): descending |g|, ties in WeightRef order, NaN last
HAND_ORDER = [
    (WeightRef(2, 0, 0), 1),
    (WeightRef(0, 0, 1), 2), (WeightRef(0, 1, 0), 2), (WeightRef(1, 1, 0), 2),
    (WeightRef(1, 1, 1), 5),
    (WeightRef(0, 1, 2), 6), (WeightRef(2, 1, 0), 6),
    (WeightRef(0, 0, 2), 8),
    (WeightRef(0, 0, 0), 9),
    (WeightRef(1, 0, 1), 10),
    (WeightRef(1, 2, 1), 11),
    (WeightRef(1, 2, 0), 12),
    (WeightRef(0, 1, 1), 13),
    (WeightRef(1, 0, 0), None),
]


def test_ranks_and_most_blamed_on_a_hand_made_case():
    snap = _with_gradients(snap_of(make_run(hidden=(3, 2), acts=("tanh", "tanh"), steps=0)), HAND_GRADS)
    assert most_blamed(snap, len(HAND_ORDER)) == [ref for ref, _ in HAND_ORDER]
    assert most_blamed(snap, 100) == [ref for ref, _ in HAND_ORDER]
    assert most_blamed(snap, 3) == [ref for ref, _ in HAND_ORDER[:3]]
    assert most_blamed(snap) == [WeightRef(2, 0, 0)]
    assert most_blamed(snap, 0) == []
    for ref, rank in HAND_ORDER:
        assert blame_rank(snap, ref) == (rank, 14), ref
    with pytest.raises(ValueError):
        most_blamed(snap, -1)
    with pytest.raises(ValueError):
        blame_rank(snap, WeightRef(2, 2, 0))


def test_infinite_gradients_are_the_most_blamed():
    grads = [[[0.1, -0.5, 0.2], [0.5, 0.0, -0.3]], [[0.1, 0.05], [-np.inf, 0.4], [0.01, 0.02]], [[-0.7], [0.3]]]
    snap = _with_gradients(snap_of(make_run(hidden=(3, 2), acts=("tanh", "tanh"), steps=0)), grads)
    assert most_blamed(snap) == [WeightRef(1, 1, 0)]
    assert blame_rank(snap, WeightRef(1, 1, 0)) == (1, 14)
    assert blame_rank(snap, WeightRef(2, 0, 0)) == (2, 14)


def test_most_blamed_agrees_with_the_engine_gradient():
    run = make_run(hidden=(5, 4, 3), acts=("relu", "tanh", "sigmoid"), steps=20)
    snap = snap_of(run)
    refs = most_blamed(snap, 1000)
    mags = [abs(float(snap.grad_weights[r.layer][r.i, r.j])) for r in refs]
    assert len(refs) == sum(W.size for W in snap.weights) == len(set(refs))
    assert mags == sorted(mags, reverse=True)
    assert mags[0] == max(float(np.abs(g).max()) for g in snap.grad_weights)
    ranks = [blame_rank(snap, r)[0] for r in refs]
    assert ranks[0] == 1 and ranks == sorted(ranks)


def test_blame_of_the_batch_uses_the_batch_gradient():
    run = make_run(hidden=(5, 4), acts=("tanh", "tanh"), steps=3)
    run.backward()
    snap = snap_of(run)
    best = most_blamed(snap, batch=True)[0]
    batch = snap.batch_gradients[0]
    assert abs(batch[best.layer][best.i, best.j]) == max(float(np.abs(g).max()) for g in batch)
    assert blame_rank(snap, best, batch=True)[0] == 1


# ------------------------------------------------------------------------------- neurons


def test_neuron_means_match_the_engine_deltas_and_bias_gradients():
    run = make_run(hidden=(5, 3), acts=("elu", "softplus"), l1=0.01, l2=0.02, steps=8)
    snap = snap_of(run)
    fwd, back = snap.train_pass.forward, snap.train_pass.backward
    stats = neuron_means(fwd, back)
    deltas = back.deltas  # the engine's per-example δ
    assert stats.mean_delta[0] is None and stats.mean_abs_delta[0] is None
    for layer in range(1, len(fwd.activations)):
        np.testing.assert_allclose(stats.mean_delta[layer], deltas[layer - 1].mean(axis=0), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(stats.mean_abs_delta[layer], np.abs(deltas[layer - 1]).mean(axis=0),
                                   rtol=1e-12, atol=1e-15)
        # biases are not regularised: ∂J/∂b is the mean δ
        np.testing.assert_allclose(stats.mean_delta[layer], snap.grad_biases[layer - 1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(stats.mean_activation[0], run.X_train.mean(axis=0), rtol=1e-12)
    # the snapshot's field is this computation
    for ours, theirs in zip(snap.neurons.mean_abs_delta[1:], stats.mean_abs_delta[1:]):
        np.testing.assert_array_equal(ours, theirs)


# --------------------------------------------------------------------------- derivatives


@pytest.mark.parametrize("acts", [("relu", "leaky_relu", "elu"), ("tanh", "sigmoid", "softplus"),
                                  ("swish", "sine", "linear")])
def test_activation_derivatives_are_the_slopes_at_each_example(acts):
    run = make_run(hidden=(4, 4, 3), acts=acts, steps=4)
    snap = snap_of(run)
    for layer in range(1, len(snap.layer_sizes)):
        d = activation_derivatives(snap, layer)
        z = snap.train_pass.forward.pre_activations[layer - 1]
        f = ACTIVATIONS[snap.activation_names[layer - 1]].forward
        assert d.shape == z.shape and not d.flags.writeable
        numeric = (f(z + FD_STEP) - f(z - FD_STEP)) / (2 * FD_STEP)
        near_kink = np.abs(z) < 1e-5
        np.testing.assert_allclose(d[~near_kink], numeric[~near_kink], rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError):
        activation_derivatives(snap, 0)  # inputs have no activation


def test_softmax_output_derivative_is_the_jacobian_diagonal():
    run = make_run(source="blobs", hidden=(4,), acts=("tanh",), output="softmax", loss="cross_entropy")
    snap = snap_of(run)
    L = len(snap.layer_sizes) - 1
    d = activation_derivatives(snap, L)
    z = snap.train_pass.forward.pre_activations[-1]
    f = ACTIVATIONS["softmax"].forward
    for k in range(z.shape[1]):
        step = np.zeros(z.shape[1])
        step[k] = FD_STEP
        numeric = (f(z + step)[:, k] - f(z - step)[:, k]) / (2 * FD_STEP)
        np.testing.assert_allclose(d[:, k], numeric, rtol=1e-6, atol=1e-9)


def test_activation_derivatives_of_a_pending_forward_batch():
    run = make_run()
    run.forward()
    snap = snap_of(run)
    d = activation_derivatives(snap, 1, batch=True)
    assert d.shape == (7, 4)


# ---------------------------------------------------------------------------- chain rule


@pytest.mark.parametrize("acts", [("tanh", "relu", "sigmoid"), ("elu", "swish", "sine")])
def test_chain_rule_at_one_example_reproduces_the_engine_delta(acts):
    run = make_run(hidden=(4, 5, 3), acts=acts, l1=0.01, l2=0.02, steps=10)
    snap = snap_of(run)
    deltas = snap.train_pass.backward.deltas  # the engine's δ, per example
    for layer in (1, 2, 3):
        for j in range(snap.layer_sizes[layer]):
            for r in (0, 7, run.n_train - 1):
                table = chain_rule(snap, NeuronRef(layer, j), r)
                engine = deltas[layer - 1][r, j]
                assert table.delta == pytest.approx(engine, rel=1e-12, abs=1e-15)
                assert table.derivative * table.weighted_sum == pytest.approx(engine, rel=1e-10, abs=1e-15)
                assert sum(row.contribution for row in table.rows) == pytest.approx(engine, rel=1e-10, abs=1e-15)
                assert [row.weight_ref for row in table.rows] == [
                    WeightRef(layer, j, k) for k in range(snap.layer_sizes[layer + 1])
                ]
                for k, row in enumerate(table.rows):
                    assert row.weight == snap.weights[layer][j, k]
                    assert row.delta == pytest.approx(deltas[layer][r, k], rel=1e-12, abs=1e-15)
                    assert row.weight_ref.target == NeuronRef(layer + 1, k)


def test_chain_rule_averaged_over_the_training_set():
    run = make_run(hidden=(4, 3), acts=("tanh", "tanh"), steps=10)
    snap = snap_of(run)
    deltas = snap.train_pass.backward.deltas
    a = snap.train_pass.forward.activations
    for j in range(4):
        table = chain_rule(snap, NeuronRef(1, j))
        assert table.example is None and table.n_rows == run.n_train
        # mean δ_j is the engine's ∂J/∂b (biases are not regularised); the contributions add up to it
        assert table.delta == pytest.approx(float(snap.grad_biases[0][j]), rel=1e-12, abs=1e-15)
        assert sum(row.contribution for row in table.rows) == pytest.approx(table.delta, rel=1e-10, abs=1e-15)
        # tanh′ = 1 − a²: the weighted sum is the mean of δ_j / f′, the mean f′ that of 1 − a²
        fprime = 1.0 - a[1][:, j] ** 2
        assert table.derivative == pytest.approx(float(fprime.mean()), rel=1e-12)
        assert table.weighted_sum == pytest.approx(float((deltas[0][:, j] / fprime).mean()), rel=1e-9, abs=1e-14)
        for k, row in enumerate(table.rows):
            assert row.delta == pytest.approx(float(deltas[1][:, k].mean()), rel=1e-12, abs=1e-15)
            assert row.product == pytest.approx(row.weight * row.delta, rel=1e-15)
        assert sum(row.share for row in table.rows) == pytest.approx(1.0)
        assert sum(row.abs_share for row in table.rows) == pytest.approx(1.0)


def test_chain_rule_on_a_hand_computed_case():
    # A linear 2-2-2-1 regression network with mse: δ_out = a_out − y.  With W_2 = [[1], [2]]
    # the second hidden layer's δ is (δ_out, 2·δ_out), and with W_1[0] = (3, −1) neuron (1, 0)
    # gets 3·δ_out − 2·δ_out = δ_out: shares 3 and −2, absolute shares 3/5 and 2/5, f′ = 1.
    run = make_run(source="plane", hidden=(2, 2), acts=("linear", "linear"), steps=0)
    assert run.activation_names == ("linear", "linear", "linear") and run.network_spec.loss == "mse"
    for (layer, i, j), value in {(1, 0, 0): 3.0, (1, 0, 1): -1.0, (2, 0, 0): 1.0, (2, 1, 0): 2.0}.items():
        run.set_weight(layer, i, j, value)
    snap = snap_of(run)
    out_delta = snap.train_outputs[:, 0] - run.Y_train[:, 0]
    for example in (0, 5, None):
        table = chain_rule(snap, NeuronRef(1, 0), example)
        expected = out_delta.mean() if example is None else out_delta[example]
        assert table.derivative == 1.0
        assert [row.weight for row in table.rows] == [3.0, -1.0]
        assert [row.delta for row in table.rows] == pytest.approx([expected, 2 * expected], rel=1e-12)
        assert [row.product for row in table.rows] == pytest.approx([3 * expected, -2 * expected], rel=1e-12)
        assert [row.share for row in table.rows] == pytest.approx([3.0, -2.0], rel=1e-9)
        assert [row.abs_share for row in table.rows] == pytest.approx([0.6, 0.4], rel=1e-9)
        assert table.weighted_sum == pytest.approx(expected, rel=1e-9)
        assert table.delta == pytest.approx(expected, rel=1e-9)


def test_chain_rule_of_the_batch_and_its_errors():
    run = make_run(hidden=(4, 3), acts=("tanh", "relu"), steps=2)
    run.backward()
    snap = snap_of(run)
    batch = snap.batch_pass
    deltas = batch.backward.deltas
    table = chain_rule(snap, NeuronRef(2, 1), 3, batch=True)
    assert table.delta == pytest.approx(deltas[1][3, 1], rel=1e-12, abs=1e-15)
    assert table.n_rows == 7
    with pytest.raises(ValueError):
        chain_rule(snap, NeuronRef(0, 0))  # inputs have no δ
    with pytest.raises(ValueError):
        chain_rule(snap, NeuronRef(3, 0))  # the output's δ comes from the loss
    with pytest.raises(ValueError):
        chain_rule(snap, NeuronRef(1, 9))
    with pytest.raises(ValueError):
        chain_rule(snap, NeuronRef(1, 0), run.n_train)
