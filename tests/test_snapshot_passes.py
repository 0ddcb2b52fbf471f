"""Snapshots carry the passes explanations need: the whole training set's and the mini-batch's,
read-only and shared with the run (never copied per snapshot)."""

from __future__ import annotations

import numpy as np
import pytest

from sandbox.engine import loss_and_gradients
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.snapshot import HistoryCursor, make_snapshot


def make_run(n_points=60, hidden=(4, 3), acts=("tanh", "relu"), batch_size=7, **hyper) -> TrainingRun:
    return TrainingRun.create(
        data=DataSpec("circle", n_points=n_points, noise=0.1, train_fraction=0.5, seed=1),
        network=NetworkSpec(hidden, acts),
        hyper=Hyperparameters(learning_rate=0.1, batch_size=batch_size, **hyper),
        seed=2,
    )


def snap_of(run):
    return make_snapshot(run, generation=0, run_id=0, cursor=HistoryCursor(), grid_resolution=None)


def pass_arrays(passes):
    arrays = list(passes.forward.pre_activations) + list(passes.forward.activations)
    if passes.backward is not None:
        back = passes.backward
        arrays += list(back.grad_pre_activations) + list(back.grad_weights) + list(back.grad_biases)
    return arrays


def test_train_pass_is_the_runs_inspection_read_only_and_not_copied():
    run = make_run()
    run.train(3)
    snap = snap_of(run)
    insp = run.inspect()
    tp = snap.train_pass
    assert tp.forward is insp.forward and tp.backward is insp.backward
    assert tp.rows is None and tp.applied_step is None and tp.n_rows == run.n_train
    assert all(not a.flags.writeable for a in pass_arrays(tp))
    assert all(not a.flags.writeable for a in snap.grad_weights + snap.grad_biases)
    assert not snap.train_outputs.flags.writeable
    # the existing fields share the pass's arrays
    assert all(g is h for g, h in zip(snap.grad_weights, tp.backward.grad_weights))
    assert snap.train_outputs is tp.forward.output
    # a second snapshot of the unchanged run holds the same arrays: nothing copied per frame
    again = snap_of(run)
    assert all(a is b for a, b in zip(pass_arrays(again.train_pass), pass_arrays(tp)))
    assert tp.weights == tuple(run.weights) and (tp.l1, tp.l2) == (0.0, 0.0)
    with pytest.raises(ValueError):
        tp.forward.pre_activations[0][0, 0] = 1.0


def test_delta_is_the_engines_per_example_error_signal():
    run = make_run()
    run.train(2)
    tp = snap_of(run).train_pass
    for layer in range(1, 4):
        np.testing.assert_array_equal(tp.delta(layer), tp.backward.deltas[layer - 1])
    with pytest.raises(ValueError):
        tp.delta(0)


def test_batch_pass_before_the_first_step_and_after_changes():
    run = make_run()
    assert snap_of(run).batch_pass is None
    run.step()
    assert snap_of(run).batch_pass is not None
    run.set_weight(0, 0, 0, 0.3)
    assert snap_of(run).batch_pass is None  # ran with other weights
    run.step()
    assert snap_of(run).batch_pass.applied_step == 2
    run.set_hyperparameters(l2=0.01)
    assert snap_of(run).batch_pass is None
    run.step()
    run.reset()
    assert snap_of(run).batch_pass is None


def test_batch_pass_of_the_last_applied_step():
    run = make_run(l1=0.01, l2=0.02)
    run.train(2)
    rows = run.next_batch_indices().copy()
    weights = [W.copy() for W in run.weights]
    biases = [b.copy() for b in run.biases]
    run.step()
    snap = snap_of(run)
    bp = snap.batch_pass
    assert bp.applied_step == 3 == snap.step
    np.testing.assert_array_equal(bp.rows, rows)
    np.testing.assert_array_equal(bp.forward.activations[0], run.X_train[rows])
    assert all(np.array_equal(a, b) for a, b in zip(bp.weights, weights))
    assert (bp.l1, bp.l2) == (0.01, 0.02)
    J, gw, gb = loss_and_gradients(weights, biases, run.activation_names, run.network_spec.loss,
                                   run.X_train[rows], run.Y_train[rows], l1=0.01, l2=0.02)
    assert bp.backward.objective == pytest.approx(J, rel=1e-13)
    for ours, engine in zip(bp.backward.grad_weights, gw):
        np.testing.assert_allclose(ours, engine, rtol=1e-12, atol=1e-15)
    assert bp.backward.data_loss == run.history.steps.column("loss")[-1]
    assert all(not a.flags.writeable for a in pass_arrays(bp) + [bp.rows])


def test_batch_pass_stepped_by_hand_is_the_pending_one():
    run = make_run()
    run.train(1)
    fwd = run.forward()
    snap = snap_of(run)
    bp = snap.batch_pass
    assert snap.phase == "forward" and bp.forward is fwd and bp.backward is None and bp.applied_step is None
    np.testing.assert_array_equal(bp.rows, run.next_batch_indices())
    assert np.array_equal(run.dataset.train_indices[bp.rows], snap.batch_indices)
    back = run.backward()
    snap = snap_of(run)
    assert snap.batch_pass.backward is back and snap.batch_pass.forward is fwd
    assert all(g is h for g, h in zip(snap.batch_gradients[0], back.grad_weights))
    assert all(not a.flags.writeable for a in pass_arrays(snap.batch_pass) + [snap.batch_pass.rows])
    run.update()
    snap = snap_of(run)
    assert snap.batch_pass.backward is back and snap.batch_pass.applied_step == 2


def test_snapshot_passes_at_the_largest_size():
    # 8 weight layers of 16 units, as many training rows as the size limit allows (17,699)
    from sandbox.session.config import MAX_ACTIVATIONS

    rows = MAX_ACTIVATIONS // (7 * 16 + 1)
    run = TrainingRun.create(
        DataSpec("circle", n_points=rows, train_fraction=1.0),
        network=NetworkSpec((16,) * 7, ("tanh",) * 7),
        hyper=Hyperparameters(batch_size=32),
    )
    run.step()
    snap = snap_of(run)
    tp = snap.train_pass
    assert len(tp.forward.pre_activations) == 8
    assert tp.forward.pre_activations[3].shape == (rows, 16)
    assert tp.backward.grad_pre_activations[3].shape == (rows, 16)
    assert snap.batch_pass.n_rows == 32
    again = snap_of(run)
    assert all(a is b for a, b in zip(pass_arrays(again.train_pass), pass_arrays(tp)))
