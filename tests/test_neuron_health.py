"""Dead and saturated neurons (Qt-free), on hand-built networks whose neurons are dead or
pinned by construction, checked against the engine's own forward and backward pass."""

from __future__ import annotations

import numpy as np
import pytest

from sandbox.analysis.neuron_health import SATURATED_SHARE, neuron_health, pinned
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.snapshot import HistoryCursor, make_snapshot


def make_run(acts=("relu", "tanh"), hidden=(3, 3), output=None, loss=None) -> TrainingRun:
    return TrainingRun.create(
        data=DataSpec("circle", n_points=80, noise=0.1, train_fraction=0.5, seed=1),
        network=NetworkSpec(hidden, acts, output_activation=output, loss=loss),
        hyper=Hyperparameters(learning_rate=0.1, batch_size=8), seed=4)


def snap_of(run: TrainingRun):
    return make_snapshot(run, generation=0, run_id=0, cursor=HistoryCursor(), grid_resolution=None)


def silence(run: TrainingRun, layer: int, j: int, bias: float) -> None:
    """Zero every weight into neuron j of weight layer ``layer`` and set its bias: its z is the
    bias on every example."""
    for i in range(run.weights[layer].shape[0]):
        run.set_weight(layer, i, j, 0.0)
    run.set_bias(layer, j, bias)


def test_a_relu_with_negative_z_everywhere_is_dead_and_the_engine_agrees():
    run = make_run()
    silence(run, 0, 1, -1.0)  # hidden 1, neuron 2: z = −1 on every example
    snap = snap_of(run)
    h = neuron_health(snap)
    assert list(h.dead[1]) == [False, True, False] and not h.dead[2].any()
    # The engine's pass: that neuron's a and ∂J/∂z are exactly zero on every row, the others not.
    a = snap.train_pass.forward.activations[1]
    g = snap.train_pass.backward.grad_pre_activations[0]
    assert (a[:, 1] == 0).all() and (g[:, 1] == 0).all()
    assert h.describe(1, 1) == "dead: zero activation and zero δ on every training example"
    assert h.describe(1, 0) is None and h.count() == (1, 0)


def test_zero_activation_with_a_live_gradient_is_not_dead():
    """A linear neuron with z = 0 everywhere outputs 0 but still gets a gradient: not dead."""
    run = make_run(acts=("linear", "tanh"))
    silence(run, 0, 0, 0.0)
    snap = snap_of(run)
    assert (snap.train_pass.forward.activations[1][:, 0] == 0).all()
    assert (snap.train_pass.backward.grad_pre_activations[0][:, 0] != 0).any()
    assert not neuron_health(snap).dead[1].any()


@pytest.mark.parametrize("act, bias", [("tanh", 8.0), ("tanh", -8.0), ("sigmoid", 8.0), ("sigmoid", -8.0)])
def test_a_sigmoid_or_tanh_pinned_by_a_large_bias_is_saturated(act, bias):
    run = make_run(acts=("relu", act))
    silence(run, 1, 2, bias)  # hidden 2, neuron 3: a = f(±8) on every example
    snap = snap_of(run)
    h = neuron_health(snap)
    assert list(h.saturated[2]) == [False, False, True]
    assert h.pinned_share[2][2] == 1.0
    assert h.describe(2, 2) == "saturated: output pinned near its limits on 100 % of examples"
    assert np.isnan(h.pinned_share[1]).all()  # relu does not saturate


def test_the_share_threshold_counts_examples():
    """Pinned on 90 % of examples is not 'most' (the threshold is > 90 %); on all but one it is."""
    run = make_run(acts=("relu", "tanh"))
    snap = snap_of(run)
    a = snap.train_pass.forward.activations[2]
    n = a.shape[0]
    share = pinned(a, "tanh").mean(axis=0)
    np.testing.assert_array_equal(neuron_health(snap).saturated[2], share > SATURATED_SHARE)
    edge = np.r_[np.full(int(0.9 * n), 0.999), np.zeros(n - int(0.9 * n))]
    assert pinned(edge, "tanh").mean() <= SATURATED_SHARE
    assert pinned(np.array([0.995, -0.995, 0.5]), "tanh").tolist() == [True, True, False]
    assert pinned(np.array([0.005, 0.995, 0.5]), "sigmoid").tolist() == [True, True, False]


def test_outputs_and_inputs_are_never_marked():
    run = make_run(acts=("tanh", "tanh"), output="sigmoid", loss="bce")
    silence(run, 2, 0, 12.0)  # the output pinned at 1: a confident prediction, not a fault
    h = neuron_health(snap_of(run))
    assert not h.saturated[-1].any() and not h.dead[0].any() and not h.saturated[0].any()


def test_a_real_deep_sigmoid_network_saturates_where_the_engine_says_it_is_pinned():
    """A deep sigmoid network trained with a large learning rate: whatever the analysis marks
    is what the engine's activations show (checked neuron by neuron)."""
    run = TrainingRun.create(
        data=DataSpec("spiral", n_points=120, seed=2),
        network=NetworkSpec((8, 8, 8), ("sigmoid",) * 3),
        hyper=Hyperparameters(optimizer="sgd", learning_rate=3.0, batch_size=10), seed=1)
    with np.errstate(all="ignore"):
        run.train(400)
    snap = snap_of(run)
    h = neuron_health(snap)
    for l in (1, 2, 3):
        a = run.inspect().forward.activations[l]
        expected = ((a < 0.01) | (a > 0.99)).mean(axis=0) > 0.9
        np.testing.assert_array_equal(h.saturated[l], expected)


@pytest.mark.parametrize("share, saturated", [(0.6, False), (0.85, False), (0.95, True), (1.0, True)])
def test_most_examples_means_more_than_90_percent(share, saturated):
    """A tanh neuron with z = w·x1, w chosen from the data so that |a| > 0.99 on a known share of
    the training examples: saturated only beyond 90 %."""
    run = make_run(acts=("tanh", "relu"))
    x1 = np.abs(run.X_train[:, 0])
    n = len(x1)
    # |tanh(w·x1)| > 0.99 ⇔ |x1| > atanh(0.99) / w: put that edge between two sorted |x1|.
    k = int(round((1 - share) * n))  # examples left unpinned
    edge = 0.0 if k == 0 else 0.5 * (np.sort(x1)[k - 1] + np.sort(x1)[k])
    w = np.arctanh(0.99) / max(edge, 1e-9)
    for i in range(run.weights[0].shape[0]):
        run.set_weight(0, i, 0, w if i == 0 else 0.0)
    run.set_bias(0, 0, 0.0)
    h = neuron_health(snap_of(run))
    assert h.pinned_share[1][0] == pytest.approx((n - k) / n)
    assert bool(h.saturated[1][0]) is saturated
