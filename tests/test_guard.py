"""The non-finite guard covers everything a step commits: the parameters and the whole optimizer
state.  A refused step leaves the run bit for bit as it was, and its message names the cause."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sandbox.engine import compiled, propose
from sandbox.engine.optimizers import STATE_BUFFERS, OptimizerState
from sandbox.session import Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session import run as run_module
from sandbox.session.datasets import REGRESSION, Dataset
from sandbox.session.session_file import SessionFileError, load, loads_session, save, to_document
from sandbox.session.json_text import dumps
from sandbox.session.state import Divergence

#: Every (optimizer, buffer) pair there is: the guard must cover each kind of state.
BUFFERS = [(opt, name) for opt, names in STATE_BUFFERS.items() for name in names]


def state_bytes(run: TrainingRun) -> tuple:
    """Everything a step could change, as comparable bytes."""
    return (
        run.flat.tobytes(), run.opt_state.t,
        tuple((k, v[0].tobytes()) for k, v in sorted(run.opt_state.buffers.items())),
        run.permutation.tobytes(), run.cursor, run.step_count, run.epoch,
        run.history.steps.array().tobytes(), run.history.evaluations.array().tobytes(),
        None if run.last_update is None else run.last_update.tobytes(),
        str(run.shuffle_rng.bit_generator.state),
    )


def huge_input_run(optimizer: str, scale: float = 1e45, seed: int = 0) -> TrainingRun:
    """Regression on an input column around ``scale`` and its square, with relu units: at 1e45
    (within what a CSV may hold) the square is 1e90 and the gradients ~1e180, finite, but their
    squares are not."""
    rng = np.random.default_rng(seed)
    n = 40
    inputs = np.column_stack([rng.uniform(-1, 1, n) * scale, rng.uniform(-1, 1, n)])
    dataset = Dataset(name="huge", task=REGRESSION, inputs=inputs, targets=rng.uniform(-1, 1, n),
                      is_train=np.ones(n, dtype=bool), input_names=("x1", "x2"))
    return TrainingRun.create(dataset, features=("x1", "x2", "x1_sq"), network=NetworkSpec((4,), ("relu",)),
                              hyper=Hyperparameters(optimizer=optimizer, learning_rate=0.01, batch_size=10))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow on purpose
@pytest.mark.parametrize("optimizer, buffer", [("adam", "v"), ("rmsprop", "mean_square")])
def test_an_overflowing_squared_gradient_buffer_is_refused_while_the_weights_stay_finite(optimizer, buffer):
    run = huge_input_run(optimizer)
    # The engine itself shows the case: the proposed update and weights are finite, the buffer not.
    back = run.backward()
    grad = run.layout.pack(back.grad_weights, back.grad_biases)
    assert np.isfinite(grad).all() and np.abs(grad).max() > 1e154
    (delta,), proposed = propose(optimizer, run.hyper.optimizer_hyper(), 0.01, [grad], run.opt_state)
    assert np.isfinite(run.flat + delta).all() and not np.isfinite(proposed.buffers[buffer][0]).all()

    before = state_bytes(run)
    assert not run.step()
    div = run.divergence
    assert (div.step, div.quantity, div.buffer, div.layer) == (1, "optimizer_state", buffer, 0)
    assert "squared-gradient average overflowed in layer 1" in div.message
    assert "rescale the inputs" in div.message
    assert state_bytes(run) == before
    assert run.train(10) == 0 and state_bytes(run) == before
    # The kept state saves (today it could never be saved again), and the stop reads back.
    assert load_saved(run).divergence == div


def load_saved(run: TrainingRun) -> TrainingRun:
    return loads_session(dumps(to_document(run)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("bad_value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("optimizer, buffer", BUFFERS)
def test_every_optimizer_buffer_going_non_finite_refuses_the_step(monkeypatch, optimizer, buffer, bad_value):
    """The class: whichever buffer of whichever optimizer goes non-finite, in whichever layer,
    with the update and so the weights finite, the step is refused and nothing changes.

    ``propose`` is the numpy path's optimizer, so this runs on the numpy path; the compiled
    kernel's checks of the same buffers are in test_compiled_step.py."""
    monkeypatch.setenv(compiled.NO_COMPILE_ENV, "1")
    run = TrainingRun.create(network=NetworkSpec((3, 2), ("tanh", "tanh")),
                             hyper=Hyperparameters(optimizer=optimizer, learning_rate=0.01, batch_size=10))
    assert run.train(7) == 7  # a run with some state already
    for layer in range(len(run.layer_sizes) - 1):
        real = run_module.propose

        def corrupting(name, hyper, lr, grads, state, _layer=layer):
            steps, new = real(name, hyper, lr, grads, state)
            bufs = {k: [b.copy() for b in v] for k, v in new.buffers.items()}
            weights, _ = run.layout.unpack(bufs[buffer][0])  # views of the flat buffer
            weights[_layer].flat[0] = bad_value
            return steps, OptimizerState(bufs, new.t)

        monkeypatch.setattr(run_module, "propose", corrupting)
        assert run.step_path == "numpy"
        before = state_bytes(run)
        assert not run.step()
        div = run.divergence
        assert (div.quantity, div.buffer, div.layer, div.step) == ("optimizer_state", buffer, layer, run.step_count + 1)
        assert f"in layer {layer + 1}" in div.message and "optimizer's" in div.message
        assert state_bytes(run) == before
        monkeypatch.setattr(run_module, "propose", real)
        run.set_hyperparameters(learning_rate=0.01 * (layer + 2))  # an edit lifts the stop
        assert run.step() and run.divergence is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_the_cause_is_named_first_a_non_finite_gradient_before_the_buffers_it_fills():
    # Inputs of 1e200 overflow the gradient itself: that is the cause, not the buffers.
    run = huge_input_run("adam", scale=1e200)
    before = state_bytes(run)
    assert not run.step()
    assert run.divergence.quantity in ("loss", "gradient")
    assert state_bytes(run) == before


def test_a_divergence_names_a_buffer_exactly_for_the_optimizer_state():
    with pytest.raises(ValueError):
        Divergence(1, "optimizer_state", 0, 0.1)
    with pytest.raises(ValueError):
        Divergence(1, "weights", 0, 0.1, buffer="v")
    with pytest.raises(ValueError):
        Divergence(1, "optimizer_state", 0, 0.1, buffer="nonsense")
    with pytest.raises(ValueError):
        Divergence(1, "mood", 0, 0.1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_file_with_a_buffer_divergence_is_checked_on_load(tmp_path):
    run = huge_input_run("adam")
    assert not run.step()
    doc = to_document(run)
    assert doc["state"]["divergence"]["buffer"] == "v"
    for mutate in (lambda d: d.pop("buffer"), lambda d: d.update(buffer="velocity"),
                   lambda d: d.update(quantity="weights")):
        bad = to_document(run)
        mutate(bad["state"]["divergence"])
        with pytest.raises(SessionFileError, match="divergence"):
            loads_session(dumps(bad))
    # Older files (no "buffer" key, older quantities) still load.
    path = tmp_path / "old.json"
    old = to_document(run)
    old["state"]["divergence"] = {"step": 1, "quantity": "loss", "layer": None, "learning_rate": 0.01}
    path.write_text(dumps(old))
    assert load(path).divergence == Divergence(1, "loss", None, 0.01)


# --------------------------------------------------------------------- stale divergence


def stale_stop_session(path) -> TrainingRun:
    """A session file holding a stop from an earlier attempt (learning rate 3 in example 07),
    whose state now trains: the start weights with the learning rate fixed."""
    from sandbox.resources import EXAMPLES

    run = load(EXAMPLES / "07-learning-rate-too-high.json")
    with np.errstate(all="ignore"):
        assert run.train(500) < 500 and run.divergence is not None
    fixed = dataclasses.replace(run.hyper, learning_rate=0.03)
    run.restore(dataclasses.replace(run.start_state(), hyper=fixed, divergence=run.divergence))
    save(run, path)
    return run


def test_a_step_that_commits_clears_an_older_stop(tmp_path):
    """A divergence says why the last *attempted* step was refused: once a step goes through,
    it no longer holds, and it is neither kept nor saved."""
    path = tmp_path / "stopped.json"
    stale_stop_session(path)
    run = load(path)
    assert run.divergence is not None and run.divergence.learning_rate == 3.0
    assert run.step() and run.divergence is None
    assert run.train(20) == 20 and run.divergence is None
    assert run.capture().divergence is None and to_document(run)["state"]["divergence"] is None
