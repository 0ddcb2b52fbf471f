"""What a stepped phase did (``sandbox.analysis.phase_steps``): the values on the neurons
against the engine's forward pass and gradients, and the update's extra terms against the
optimizer rules replayed by hand from the state before the step."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sandbox.analysis.phase_steps import describe_phase, neuron_values, stepped_phase, update_terms
from sandbox.engine import loss_and_gradients
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.snapshot import HistoryCursor, make_snapshot

LR = 0.05


def make_run(optimizer="sgd", steps=3, l2=0.0) -> TrainingRun:
    run = TrainingRun.create(
        data=DataSpec("circle", n_points=70, noise=0.1, train_fraction=0.5, seed=5),
        network=NetworkSpec((4, 3), ("tanh", "sigmoid")),
        hyper=Hyperparameters(optimizer=optimizer, learning_rate=LR, batch_size=8, l2=l2),
        seed=6,
    )
    run.train(steps)
    return run


def snap_of(run: TrainingRun, **kw):
    return make_snapshot(run, generation=0, run_id=0, cursor=HistoryCursor(), grid_resolution=None, **kw)


def flat(ws, bs):
    return np.concatenate([np.ravel(a) for w, b in zip(ws, bs) for a in (w, b)])


def test_stepped_phase_names_only_phases_stepped_by_hand():
    run = make_run()
    s0 = snap_of(run)
    run.forward()
    s1 = snap_of(run)
    run.backward()
    s2 = snap_of(run)
    run.update()
    s3 = snap_of(run)
    assert [stepped_phase(a, b) for a, b in ((s0, s1), (s1, s2), (s2, s3))] == ["forward", "backward", "update"]
    run.step()
    s4 = snap_of(run)
    assert stepped_phase(s3, s4) is None  # a whole step: last_phase stays "update"
    assert stepped_phase(None, s1) is None
    assert stepped_phase(s0, dataclasses.replace(s1, playing=True)) is None
    assert stepped_phase(s0, dataclasses.replace(s1, run_id=1)) is None
    # an update that did not follow a stepped backward phase (a step after a forward phase)
    run.forward()
    s5 = snap_of(run)
    run.step()
    assert stepped_phase(s5, snap_of(run)) is None


@pytest.mark.parametrize("l2", [0.0, 0.02])
def test_forward_values_are_the_batch_mean_activations_and_backward_the_mean_delta(l2):
    run = make_run(l2=l2)
    rows = run.next_batch_indices().copy()
    X, Y = run.X_train[rows], run.Y_train[rows]
    run.forward()
    snap = snap_of(run)
    assert neuron_values(snap, "δ") is None  # no backward pass yet
    values = describe_phase(snap, "forward").values
    engine = run.network.forward(run.weights, run.biases, X)
    assert len(values) == 4
    for layer, v in enumerate(values):
        np.testing.assert_allclose(v, engine.activations[layer].mean(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(values[0], X.mean(axis=0))
    run.backward()
    snap = snap_of(run)
    step = describe_phase(snap, "backward")
    assert step.symbol == "δ" and step.columns == (3, 2, 1, 0) and step.values[0] is None
    # mean δ_l over the batch = ∂J/∂b_l (the biases are not regularised)
    _, _, grad_b = loss_and_gradients(run.weights, run.biases, run.activation_names, run.network_spec.loss, X, Y, l2=l2)
    for layer in (1, 2, 3):
        np.testing.assert_allclose(step.values[layer], grad_b[layer - 1], rtol=1e-9, atol=1e-15)


def test_values_of_one_example_are_that_examples():
    run = make_run()
    run.backward()
    snap = snap_of(run)
    e = 11
    x, y = run.X_train[e:e + 1], run.Y_train[e:e + 1]
    a = neuron_values(snap, "a", e)
    engine = run.network.forward(run.weights, run.biases, x)
    for layer, v in enumerate(a):
        np.testing.assert_allclose(v, engine.activations[layer][0], rtol=1e-12)
    d = neuron_values(snap, "δ", e)
    _, _, grad_b = loss_and_gradients(run.weights, run.biases, run.activation_names, run.network_spec.loss, x, y)
    for layer in (1, 2, 3):
        np.testing.assert_allclose(d[layer], grad_b[layer - 1], rtol=1e-9, atol=1e-15)
    with pytest.raises(ValueError):
        neuron_values(snap, "a", run.n_train)
    with pytest.raises(ValueError):
        neuron_values(snap, "z")


def test_no_values_once_the_step_is_applied():
    run = make_run()
    run.step()
    assert neuron_values(snap_of(run), "a") is None


def replay(run: TrainingRun):
    """Step once; return (g, Δp, state before, state after) with g from the engine."""
    rows = run.next_batch_indices().copy()
    g_w, g_b = loss_and_gradients(run.weights, run.biases, run.activation_names, run.network_spec.loss,
                                  run.X_train[rows], run.Y_train[rows], l2=run.hyper.l2)[1:]
    before = flat(run.weights, run.biases)
    state = {k: np.array(v[0]) for k, v in run.opt_state.buffers.items()}
    run.backward()
    run.update()
    return flat(g_w, g_b), flat(run.weights, run.biases) - before, state


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
def test_update_terms_against_the_rules_replayed_by_hand(optimizer):
    run = make_run(optimizer, steps=4, l2=0.01)
    g, delta, old = replay(run)
    snap = snap_of(run)
    t = update_terms(snap)
    assert t.optimizer == optimizer and t.learning_rate == LR and t.count == g.size
    assert t.length_ratio == pytest.approx(np.linalg.norm(delta) / np.linalg.norm(LR * g), rel=1e-6)
    assert t.against == int(np.sum((g != 0) & (delta * g > 0)))
    if optimizer == "sgd":
        assert t.terms == () and t.against == 0 and t.scale is None and t.carry is None
        assert t.length_ratio == pytest.approx(1.0)
    elif optimizer == "momentum":
        assert t.terms == ("β·v",)
        assert t.carry == pytest.approx(LR * 0.9 * np.linalg.norm(old["velocity"]), rel=1e-6)
        assert t.against > 0  # after a few steps the velocity outweighs some gradients
    elif optimizer == "rmsprop":
        s = 0.9 * old["mean_square"] + 0.1 * g * g
        factor = 1 / (np.sqrt(s) + 1e-8)
        assert t.terms == ("1/(√s+ε)",)
        assert t.scale == pytest.approx((factor.min(), np.median(factor), factor.max()), rel=1e-6)
        assert t.against == 0  # RMSprop only rescales: never uphill
    else:
        v = 0.999 * old["v"] + 0.001 * g * g
        factor = 1 / (np.sqrt(v / (1 - 0.999 ** 5)) + 1e-8)
        assert t.terms == ("m̂", "1/(√v̂+ε)")
        assert t.scale == pytest.approx((factor.min(), np.median(factor), factor.max()), rel=1e-6)
    largest = int(np.argmax(np.abs(delta)))
    assert t.largest.amount == pytest.approx(delta[largest], rel=1e-9)


def test_update_captions_name_the_terms():
    words = {"sgd": "−η·∂J/∂w for every parameter", "momentum": "β·v", "rmsprop": "√s", "adam": "m̂"}
    for optimizer, word in words.items():
        run = make_run(optimizer, steps=4)
        run.backward()
        run.update()
        step = describe_phase(snap_of(run), "update")
        assert word in step.caption and step.values is None
        assert step.caption.startswith("Update (")
        assert len(step.caption) <= 105, step.caption  # one line
    run = make_run("momentum", steps=0)
    run.backward()
    run.update()
    assert "v is still 0" in describe_phase(snap_of(run), "update").caption  # the first step has no velocity


def test_no_update_terms_without_an_applied_step():
    run = make_run(steps=0)
    assert update_terms(snap_of(run)) is None
    run = make_run()
    run.set_weight(0, 0, 0, 0.5)  # an edit drops the last step's pass
    assert update_terms(snap_of(run)) is None
