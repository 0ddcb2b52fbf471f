"""The session model: batches and epochs, phases, edits, hyperparameters, seeds, history, guard."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sandbox.engine import OPTIMIZERS, loss_and_gradients
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.csv_import import parse_csv
from sandbox.session.history import DEFAULT_CAPACITY, History, Series


def make_run(source="circle", n_points=46, train_fraction=0.5, hidden=(3, 2), acts=("tanh", "tanh"),
             seed=0, data_seed=1, noise=0.1, network=None, **hyper) -> TrainingRun:
    hyper.setdefault("batch_size", 5)
    return TrainingRun.create(
        data=DataSpec(source, n_points=n_points, noise=noise, train_fraction=train_fraction, seed=data_seed),
        network=network or NetworkSpec(hidden, acts),
        hyper=Hyperparameters(**hyper),
        seed=seed,
    )


def state_bytes(run: TrainingRun) -> tuple:
    """Everything that determines the future of a run, as comparable bytes."""
    return (
        run.flat.tobytes(),
        run.opt_state.t,
        tuple((k, v[0].tobytes()) for k, v in sorted(run.opt_state.buffers.items())),
        run.permutation.tobytes(),
        run.cursor,
        run.step_count,
        run.epoch,
        run.history.steps.array().tobytes(),
        run.history.evaluations.array().tobytes(),
        None if run.last_update is None else run.last_update.tobytes(),
        str(run.shuffle_rng.bit_generator.state),
    )


# ------------------------------------------------------------------------- batches, epochs


def test_epoch_covers_every_training_example_exactly_once():
    run = make_run(batch_size=5)  # 23 training examples: batches 5, 5, 5, 5, 3
    assert run.n_train == 23 and run.steps_per_epoch == 5
    for epoch in range(3):
        permutation = run.permutation.copy()
        assert np.array_equal(np.sort(permutation), np.arange(23))
        seen, sizes = [], []
        while True:
            idx = run.next_batch_indices().copy()
            # The batch is the next slice of this epoch's shuffle.
            assert np.array_equal(idx, permutation[run.cursor : run.cursor + 5])
            fwd = run.forward()
            assert np.array_equal(fwd.activations[0], run.X_train[idx])
            assert run.step()
            seen.extend(idx.tolist())
            sizes.append(len(idx))
            if run.epoch != epoch:
                break
        assert sizes == [5, 5, 5, 5, 3]
        assert sorted(seen) == list(range(23))
        assert run.cursor == 0 and run.epoch == epoch + 1
        # A fresh shuffle each epoch.
        assert not np.array_equal(run.permutation, permutation)


def test_step_trains_on_its_batch():
    run = make_run(optimizer="sgd", learning_rate=0.1, batch_size=4)
    run.train(3)
    idx = run.next_batch_indices().copy()
    W, b = [w.copy() for w in run.weights], [v.copy() for v in run.biases]
    _, gW, gb = loss_and_gradients(W, b, run.activation_names, run.network_spec.loss,
                                   run.X_train[idx], run.Y_train[idx])
    before = run.flat.copy()
    assert run.step()
    expected = before - 0.1 * run.layout.pack(gW, gb)
    np.testing.assert_allclose(run.flat, expected, rtol=1e-13, atol=1e-16)


def test_batch_size_larger_than_the_training_set_uses_everything():
    run = make_run(batch_size=1000)
    assert run.effective_batch_size == run.n_train and run.steps_per_epoch == 1
    assert len(run.next_batch_indices()) == run.n_train
    assert run.step() and run.epoch == 1


def test_step_epoch_completes_the_current_epoch():
    run = make_run(batch_size=5)
    run.train(2)
    assert run.step_epoch() == 3 and run.epoch == 1 and run.cursor == 0
    assert run.step_epoch() == 5 and run.epoch == 2


# ---------------------------------------------------------------------------------- phases


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_phases_equal_one_step_bit_for_bit(optimizer):
    a = make_run(optimizer=optimizer, learning_rate=0.05, batch_size=4, l1=0.001, l2=0.002)
    b = make_run(optimizer=optimizer, learning_rate=0.05, batch_size=4, l1=0.001, l2=0.002)
    for k in range(14):  # crosses two epoch boundaries (23 examples, batches of 4)
        assert a.phase == "idle"
        fwd = a.forward()
        assert a.phase == "forward" and a.forward() is fwd
        back = a.backward()
        assert a.phase == "backward" and a.backward() is back
        assert a.update()
        assert a.phase == "idle"
        if k % 3 == 0:
            assert b.step()
        else:  # step() also finishes a step whose earlier phases were run by hand
            b.forward()
            assert b.step()
        assert state_bytes(a) == state_bytes(b)


def test_backward_runs_the_forward_phase_if_needed():
    a, b = make_run(), make_run()
    back = a.backward()
    assert a.phase == "backward"
    b.forward()
    assert b.backward().objective == back.objective


# --------------------------------------------------------------------------------- editing


def test_set_weight_is_seen_by_the_next_forward_and_backward():
    run = make_run(l2=0.01)
    run.train(2)
    run.forward()
    run.backward()  # cached passes that the edit must invalidate
    version = run.version
    run.set_weight(0, 1, 2, 0.75)
    assert run.weights[0][1, 2] == 0.75 and run.version > version
    assert run.phase == "idle"
    idx = run.next_batch_indices()
    X, Y = run.X_train[idx], run.Y_train[idx]
    fwd = run.forward()
    np.testing.assert_allclose(fwd.pre_activations[0], X @ run.weights[0] + run.biases[0], rtol=1e-15)
    assert fwd.pre_activations[0][:, 2].tolist() != []
    J, gW, gb = loss_and_gradients(run.weights, run.biases, run.activation_names, run.network_spec.loss,
                                   X, Y, l2=0.01)
    back = run.backward()
    assert back.objective == J
    for g, h in zip(back.grad_weights + back.grad_biases, gW + gb):
        np.testing.assert_array_equal(g, h)
    assert "0.75" in run.history.markers[-1].text


def test_set_bias_is_seen_by_the_next_forward_and_backward():
    run = make_run()
    run.forward()
    run.set_bias(1, 0, -1.25)
    assert run.biases[1][0] == -1.25
    idx = run.next_batch_indices()
    fwd = run.forward()
    expected_z2 = np.tanh(run.X_train[idx] @ run.weights[0] + run.biases[0]) @ run.weights[1] + run.biases[1]
    np.testing.assert_allclose(fwd.pre_activations[1], expected_z2, rtol=1e-14)
    _, _, gb = loss_and_gradients(run.weights, run.biases, run.activation_names, run.network_spec.loss,
                                  run.X_train[idx], run.Y_train[idx])
    np.testing.assert_array_equal(run.backward().grad_biases[1], gb[1])
    assert run.history.markers[-1].step == 0


def test_edits_never_modify_arrays_in_place():
    run = make_run()
    old_flat, old_weights = run.flat, run.weights[0]
    snapshot = old_flat.copy()
    run.set_weight(0, 0, 0, 3.0)
    run.step()
    assert old_flat.tobytes() == snapshot.tobytes()
    assert old_weights[0, 0] == snapshot[0]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda r: r.set_weight(5, 0, 0, 1.0), "layer"),
        (lambda r: r.set_weight(0, 9, 0, 1.0), "outside"),
        (lambda r: r.set_weight(0, 0, -1, 1.0), "outside"),
        (lambda r: r.set_weight(0, 0, 0, float("nan")), "finite"),
        (lambda r: r.set_bias(0, 0, float("inf")), "finite"),
        (lambda r: r.set_bias(0, 3, 0.0), "outside"),
        (lambda r: r.set_weight(0, 0, 0, True), "finite"),
    ],
)
def test_bad_edits_raise_and_change_nothing(call, message):
    run = make_run()
    before = run.flat.tobytes()
    with pytest.raises(ValueError, match=message):
        call(run)
    assert run.flat.tobytes() == before


# ------------------------------------------------------------------------- hyperparameters


def test_hyperparameters_change_without_resetting_weights():
    run = make_run(optimizer="sgd", learning_rate=0.1, batch_size=5)
    run.train(3)
    flat, steps, cursor = run.flat.copy(), run.step_count, run.cursor

    run.set_hyperparameters(learning_rate=0.5)
    assert run.flat.tobytes() == flat.tobytes() and run.step_count == steps
    back = run.backward()
    grad = run.layout.pack(back.grad_weights, back.grad_biases)
    run.step()
    # Bit for bit on the numpy path, to rounding on the compiled one (test_compiled_step.py).
    np.testing.assert_allclose(run.last_update, grad * -0.5, rtol=0 if run.step_path == "numpy" else 1e-12,
                               atol=0 if run.step_path == "numpy" else 1e-12 * np.abs(grad).max())

    run.set_hyperparameters(batch_size=2)
    assert run.cursor == cursor + 5 and len(run.next_batch_indices()) == 2

    flat = run.flat.copy()
    run.set_hyperparameters(l1=0.1, l2=0.2)
    assert run.flat.tobytes() == flat.tobytes()
    back = run.backward()
    penalty = 0.1 * sum(np.abs(w).sum() for w in run.weights) + 0.1 * sum((w * w).sum() for w in run.weights)
    assert back.objective == pytest.approx(back.data_loss + penalty, rel=1e-12)

    run.set_hyperparameters(optimizer="adam")
    assert run.flat.tobytes() == flat.tobytes()
    assert run.opt_state.t == 0 and set(run.opt_state.buffers) == {"m", "v"}
    assert not run.opt_state.buffers["m"][0].any()
    run.step()
    # Adam's first step moves every parameter with a non-zero gradient by about η.
    assert np.abs(run.last_update).max() == pytest.approx(0.5, rel=1e-3)
    assert run.hyper.optimizer == "adam" and run.hyper.learning_rate == 0.5
    assert len(run.history.markers) == 4


def test_unchanged_hyperparameters_add_no_marker_and_bad_ones_raise():
    run = make_run(learning_rate=0.1)
    run.set_hyperparameters(learning_rate=0.1)
    run.set_hyperparameters()
    assert run.history.markers == []
    with pytest.raises(ValueError):
        run.set_hyperparameters(learning_rate=-1.0)
    with pytest.raises(ValueError):
        run.set_hyperparameters(batch_size=0)
    with pytest.raises(ValueError):
        run.set_hyperparameters(optimizer="lbfgs")
    assert run.hyper.learning_rate == 0.1


def test_an_unknown_setting_is_refused_like_a_bad_value():
    # The worker reports ValueError as "Could not change the setting"; anything else would be
    # reported as a crash of the app.
    run = make_run(learning_rate=0.1)
    before = run.capture()
    with pytest.raises(ValueError, match="'learning_rat'"):
        run.set_hyperparameters(learning_rat=0.5)
    assert run.capture() == before and run.history.markers == []


# -------------------------------------------------------------------------- reset and seeds


def test_reset_reproduces_the_initial_weights_bit_for_bit():
    run = make_run(optimizer="adam", learning_rate=0.05)
    initial = state_bytes(run)
    trajectory = []
    for _ in range(12):
        run.step()
        trajectory.append(run.flat.tobytes())
    run.set_weight(0, 0, 0, 9.0)
    run.reset()
    assert state_bytes(run) == initial
    assert run.step_count == 0 and run.epoch == 0 and len(run.history.steps) == 0
    assert run.divergence is None and run.last_update is None
    for k in range(12):
        run.step()
        assert run.flat.tobytes() == trajectory[k]


def test_new_seed_changes_the_weights_and_the_old_seed_brings_them_back():
    run = make_run(seed=0)
    initial = run.flat.copy()
    run.train(3)
    assert run.new_seed(7) == 7 and run.seed == 7
    assert not np.array_equal(run.flat, initial) and run.step_count == 0
    run.new_seed(0)
    assert run.flat.tobytes() == initial.tobytes()
    seed = run.new_seed()
    assert isinstance(seed, int) and 0 <= seed < 2**63 and run.seed == seed


@pytest.mark.parametrize("bad", [-1, 2**63, 1.5, "3"])
def test_new_seed_rejects_bad_seeds_and_keeps_the_run(bad):
    run = make_run(seed=4)
    before = state_bytes(run)
    with pytest.raises(ValueError, match="seed"):
        run.new_seed(bad)
    assert run.seed == 4 and state_bytes(run) == before


def test_same_seed_gives_the_same_run_bit_for_bit():
    runs = [make_run(source="spiral", optimizer="rmsprop", learning_rate=0.03, seed=11) for _ in range(2)]
    for r in runs:
        r.train(30)
        r.evaluate(record=True)
    assert state_bytes(runs[0]) == state_bytes(runs[1])
    other = make_run(source="spiral", optimizer="rmsprop", learning_rate=0.03, seed=12)
    assert other.flat.tobytes() != make_run(source="spiral", seed=11).flat.tobytes()


def test_init_schemes():
    hidden, acts = (64, 48), ("relu", "relu")
    sizes = None
    for scheme in ("xavier", "he", "uniform", "zeros"):
        run = make_run(network=NetworkSpec(hidden, acts, init=scheme), seed=3)
        sizes = run.layer_sizes
        assert sizes == (2, 64, 48, 1)
        for b in run.biases:
            assert not b.any()
        for W, (fan_in, fan_out) in zip(run.weights, zip(sizes[:-1], sizes[1:])):
            assert W.shape == (fan_in, fan_out)
            if scheme == "zeros":
                assert not W.any()
            elif scheme == "uniform":
                assert np.abs(W).max() <= 0.5
                if W.size > 100:
                    assert np.abs(W).max() > 0.45 and abs(W.std() - np.sqrt(1 / 12)) < 0.03
            elif scheme == "xavier":
                limit = np.sqrt(6.0 / (fan_in + fan_out))
                assert np.abs(W).max() <= limit
                if W.size > 100:
                    assert np.abs(W).max() > 0.9 * limit
                    assert abs(W.std() - limit / np.sqrt(3)) < 0.1 * limit
            else:  # he: N(0, 2/fan_in)
                if W.size > 1000:
                    assert abs(W.std() / np.sqrt(2.0 / fan_in) - 1) < 0.1
                    assert abs(W.mean()) < 0.1 * np.sqrt(2.0 / fan_in)
    # Different schemes, same seed: different weights.
    xavier = make_run(network=NetworkSpec(hidden, acts, init="xavier"), seed=3).flat
    he = make_run(network=NetworkSpec(hidden, acts, init="he"), seed=3).flat
    assert not np.array_equal(xavier, he)
    with pytest.raises(ValueError, match="initialisation"):
        NetworkSpec(hidden, acts, init="orthogonal")


# ---------------------------------------------------------------------- outputs and losses


@pytest.mark.parametrize(
    "source, activation, loss, n_out",
    [
        ("circle", "sigmoid", "bce", 1),
        ("xor", "sigmoid", "bce", 1),
        ("blobs", "softmax", "cross_entropy", 3),
        ("plane", "linear", "mse", 1),
        ("multigauss", "linear", "mse", 1),
        ("sine", "linear", "mse", 1),
    ],
)
def test_default_output_and_loss_per_task(source, activation, loss, n_out):
    run = make_run(source=source, n_points=60)
    assert run.network_spec.output_activation == activation and run.network_spec.loss == loss
    assert run.layer_sizes[-1] == n_out and run.Y_train.shape == (run.n_train, n_out)
    assert run.layer_sizes[0] == (1 if source == "sine" else 2)
    if source == "blobs":
        assert np.array_equal(run.Y_train.sum(axis=1), np.ones(run.n_train))
        assert np.array_equal(run.Y_train.argmax(axis=1), run.dataset.targets[run.dataset.train_indices])
    assert np.isfinite(run.evaluate().train_loss)


def test_output_and_loss_overrides():
    softmax = make_run(network=NetworkSpec((3,), ("relu",), output_activation="softmax"))
    assert softmax.network_spec.loss == "cross_entropy"
    assert softmax.Y_train.shape == (softmax.n_train, 2)  # two classes, one-hot
    tanh = make_run(network=NetworkSpec((3,), ("relu",), output_activation="tanh"))
    assert tanh.network_spec.loss == "mse" and tanh.Y_train.shape[1] == 1
    mse = make_run(network=NetworkSpec((3,), ("relu",), output_activation="sigmoid", loss="mse"))
    assert mse.network_spec.loss == "mse"
    reg = make_run(source="plane", network=NetworkSpec((3,), ("relu",), output_activation="tanh"))
    assert (reg.network_spec.output_activation, reg.network_spec.loss) == ("tanh", "mse")
    with pytest.raises(ValueError, match="regression"):
        make_run(source="plane", network=NetworkSpec((3,), ("relu",), output_activation="softmax"))
    with pytest.raises(ValueError, match="needs a sigmoid"):
        make_run(network=NetworkSpec((3,), ("relu",), output_activation="linear", loss="bce"))
    with pytest.raises(ValueError, match="not one of"):
        NetworkSpec((3,), ("softmax",))
    with pytest.raises(ValueError, match="activations"):
        NetworkSpec((3, 3), ("relu",))


def test_csv_dataset_with_many_columns_trains():
    text = "a,b,c,label\n" + "".join(f"{i % 5},{i % 3},{i % 7},{'yes' if i % 2 else 'no'}\n" for i in range(40))
    run = TrainingRun.create(data=parse_csv(text), network=NetworkSpec((4,), ("tanh",)))
    assert run.features == ("a", "b", "c") and run.layer_sizes == (3, 4, 1)
    assert run.train(10) == 10


# ------------------------------------------------------------------------------- analysis


def test_inspect_preview_and_gradient_norms():
    run = make_run(optimizer="momentum", learning_rate=0.05, l2=0.01)
    run.train(3)
    insp = run.inspect()
    J, gW, _ = loss_and_gradients(run.weights, run.biases, run.activation_names, run.network_spec.loss,
                                  run.X_train, run.Y_train, l2=0.01)
    assert insp.backward.objective == J
    assert run.inspect() is insp
    np.testing.assert_allclose(run.gradient_norms(), [np.linalg.norm(g) for g in gW], rtol=1e-12)
    preview = run.preview_update().copy()
    flat = run.flat.copy()
    assert run.flat.tobytes() == flat.tobytes()  # previewing applies nothing
    run.step()
    assert run.last_update.tobytes() == preview.tobytes()
    assert run.inspect() is not insp


def test_evaluate_reports_train_and_test_losses_and_accuracies():
    run = make_run(n_points=60, train_fraction=0.5)
    ev = run.evaluate()
    assert 0 <= ev.train_accuracy <= 1 and 0 <= ev.test_accuracy <= 1
    assert ev.test_loss is not None and np.isfinite(ev.test_loss)
    reg = make_run(source="plane", train_fraction=1.0)
    ev = reg.evaluate(record=True)
    assert ev.train_accuracy is None and ev.test_loss is None and ev.test_accuracy is None
    row = reg.history.evaluations.last()
    assert row[2] == ev.train_loss and np.isnan(row[3:]).all()


# --------------------------------------------------------------------------------- history


def test_history_records_loss_and_gradient_norms_per_step():
    run = make_run(hidden=(3, 2), l1=0.01)
    assert run.history.steps.columns == ("loss", "grad_norm_0", "grad_norm_1", "grad_norm_2",
                                        "update_ratio_0", "update_ratio_1", "update_ratio_2")
    for k in range(7):
        back = run.backward()
        norms = [np.linalg.norm(g) for g in back.grad_weights]
        run.step()
        row = run.history.steps.last()
        assert row[0] == k + 1 and row[1] == 1.0
        # The compiled step sums in another order than the numpy pass (test_compiled_step.py).
        assert row[2] == (back.data_loss if run.step_path == "numpy" else pytest.approx(back.data_loss, rel=1e-12))
        np.testing.assert_allclose(row[3:6], norms, rtol=1e-14 if run.step_path == "numpy" else 1e-12)
    assert len(run.history.steps) == 7
    np.testing.assert_array_equal(run.history.steps.steps(), np.arange(1, 8))


def test_evaluations_are_recorded_at_least_once_per_epoch():
    run = make_run(batch_size=5)
    for _ in range(4):
        run.step_epoch()
    ev = run.history.evaluations
    assert len(ev) >= 4
    np.testing.assert_array_equal(ev.steps(), [5, 10, 15, 20])
    last = ev.last()
    now = run.evaluate()
    assert last[2] == now.train_loss and last[3] == now.test_loss
    assert last[4] == now.train_accuracy and last[5] == now.test_accuracy
    run.evaluate(record=True)
    assert len(ev) == 5


def test_series_with_a_million_appends_stays_bounded_and_ordered():
    history = History.empty(3)
    series = history.steps
    append = series.append
    start = time.perf_counter()
    for k in range(1, 1_000_001):
        append(k, 0.5, 1.0, 2.0, 3.0, 1e-3, 2e-3, 3e-3)
    elapsed = time.perf_counter() - start
    assert elapsed < 20
    assert len(series) <= DEFAULT_CAPACITY
    steps = series.steps()
    assert np.all(np.diff(steps) > 0)
    assert steps[-1] == 1_000_000
    rows = series.array()
    assert rows[:, 1].sum() == 1_000_000  # every record is still accounted for
    np.testing.assert_allclose(rows[:, 2:], np.tile([0.5, 1.0, 2.0, 3.0, 1e-3, 2e-3, 3e-3], (len(rows), 1)))
    # Recent history keeps full resolution.
    assert np.array_equal(steps[-1000:], np.arange(999_001, 1_000_001))
    assert history.nbytes() < 10 * 2**20  # far below 100 MB


@pytest.mark.parametrize("capacity", [4, 6, 8, 16, 20, 64])
def test_series_never_exceeds_a_small_capacity(capacity):
    series = Series(("a", "b"), capacity=capacity)
    total = 0
    for k in range(1, 3001):
        series.append(k, float(k), np.nan if k % 3 else 1.0)
        total += 1
        assert len(series) <= capacity
    rows = series.array()
    assert np.all(np.diff(rows[:, 0]) > 0)
    assert rows[:, 1].sum() == total
    assert rows[-1, 0] == 3000
    # Weighted means: column a equals the step, so the merged means stay equal too.
    np.testing.assert_allclose(rows[:, 2], rows[:, 0])
    # A merged value is NaN only where every record it stands for was NaN.
    assert np.all(rows[rows[:, 1] >= 3, 3] == 1.0)
    restored = Series.from_array(("a", "b"), rows, capacity=capacity)
    for k in range(3001, 3101):
        restored.append(k, float(k), 0.0)
        assert len(restored) <= capacity


def test_series_rejects_bad_capacities():
    for bad in (0, 2, 3, 5):
        with pytest.raises(ValueError):
            Series(("a",), capacity=bad)


def test_markers_are_bounded():
    history = History.empty(1)
    for k in range(10_050):
        history.add_marker(k, "edit")
    assert len(history.markers) == 10_000 and history.markers[0].step == 50


# ------------------------------------------------------------------------ non-finite guard


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow on purpose
def test_divergence_stops_training_and_keeps_the_last_finite_weights():
    run = make_run(source="xor", n_points=200, hidden=(4, 2), acts=("linear", "linear"),
                   learning_rate=1e3, batch_size=10, data_seed=0)
    applied = 0
    for _ in range(1000):
        before = state_bytes(run)
        flat_copy = run.flat.copy()
        if not run.step():
            break
        applied += 1
    else:  # pragma: no cover
        pytest.fail("learning rate 1e3 with linear layers should diverge")
    div = run.divergence
    assert div is not None
    assert div.step == applied + 1 == run.step_count + 1
    assert div.quantity in ("loss", "gradient", "weights")
    assert div.layer is None if div.quantity == "loss" else 0 <= div.layer < 3
    assert div.learning_rate == 1e3
    assert f"step {div.step}" in div.message and "1000" in div.message
    if div.layer is not None:
        assert f"layer {div.layer + 1}" in div.message
    # The refused step changed nothing.
    assert run.flat.tobytes() == flat_copy.tobytes()
    assert state_bytes(run) == before
    assert np.isfinite(run.flat).all()
    # Gradient norms of the last (huge but finite) steps are recorded as finite numbers.
    assert np.isfinite(run.history.steps.array()).all()
    # It keeps refusing, without changing anything, until something changes.
    for _ in range(3):
        assert not run.step()
        assert run.train(5) == 0 and run.step_epoch() == 0
        assert state_bytes(run) == before and run.divergence == div
    run.set_hyperparameters(learning_rate=1e-3)
    assert run.divergence is None
    run.reset()
    assert run.divergence is None and run.step()


def _regression_with_chain(w0: float, w1: float, lr: float) -> TrainingRun:
    run = make_run(source="plane", n_points=40, hidden=(1,), acts=("linear",), learning_rate=lr, batch_size=10)
    run.set_weight(0, 0, 0, w0)
    run.set_weight(0, 1, 0, w0)
    run.set_weight(1, 0, 0, w1)
    return run


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow on purpose
def test_divergence_names_the_layer_whose_gradient_overflowed():
    # a = x·w0·w1 ≈ x1 + x2 is finite, but ∂J/∂W_0 = x·δ·w1 overflows.
    run = _regression_with_chain(1e-308, 1e308, 0.01)
    flat = run.flat.copy()
    assert not run.step()
    assert (run.divergence.quantity, run.divergence.layer, run.divergence.step) == ("gradient", 0, 1)
    assert "gradient became non-finite in layer 1" in run.divergence.message
    assert run.flat.tobytes() == flat.tobytes() and run.step_count == 0 and len(run.history.steps) == 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow on purpose
def test_divergence_names_the_layer_whose_update_overflowed():
    # The gradient (~1e305) is finite, but learning rate × gradient is not.
    run = _regression_with_chain(1e-303, 1e303, 1e6)
    flat = run.flat.copy()
    assert not run.step()
    assert (run.divergence.quantity, run.divergence.layer) == ("weights", 0)
    assert "parameters non-finite in layer 1" in run.divergence.message
    assert run.flat.tobytes() == flat.tobytes()
    run.set_weight(1, 0, 0, 1.0)  # an edit lifts the stop
    assert run.divergence is None and run.step()
