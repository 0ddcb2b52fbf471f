"""The run's state as one value: RunState, TrainingRun.capture() and TrainingRun.restore()."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.engine import OPTIMIZERS
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.json_text import dumps
from sandbox.session.session_file import loads_session, to_document
from sandbox.session.state import PHASES, Divergence, RunState, ShuffleRngState, frozen


def make_run(optimizer="sgd", seed=3, hidden=(3, 2), n_points=30, batch_size=4, **hyper) -> TrainingRun:
    # 15 training examples in batches of 4: an epoch is 4 steps, so short runs cross epochs.
    hyper.setdefault("learning_rate", 0.05)
    return TrainingRun.create(
        data=DataSpec("spiral", n_points=n_points, noise=0.1, train_fraction=0.5, seed=2),
        network=NetworkSpec(hidden, ("tanh",) * len(hidden)),
        hyper=Hyperparameters(optimizer=optimizer, batch_size=batch_size, l1=1e-3, l2=2e-3, **hyper),
        seed=seed,
    )


def run_to_phase(run: TrainingRun, phase: str) -> None:
    if phase == "forward":
        run.forward()
    elif phase == "backward":
        run.backward()


def future(run: TrainingRun, k: int) -> tuple[list[tuple], RunState]:
    """What ``k`` more steps do: per step the parameters, optimizer buffers and history row
    (step, loss, gradient norms), then the state at the end."""
    rows: list[tuple] = []

    def record(r: TrainingRun) -> None:
        buffers = tuple((name, b[0].tobytes()) for name, b in sorted(r.opt_state.buffers.items()))
        rows.append((r.flat.tobytes(), r.opt_state.t, buffers, r.history.steps.last().tobytes()))

    assert run.train(k, callback=record) == k
    return rows, run.capture()


def all_arrays(state: RunState) -> list[np.ndarray]:
    arrays = [state.parameters, state.permutation, *(b[0] for b in state.optimizer_state.buffers.values())]
    return arrays + ([] if state.last_update is None else [state.last_update])


# ----------------------------------------------------------------------- bit-identical future


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("phase", PHASES)
def test_restore_gives_the_same_future(optimizer, phase):
    run = make_run(optimizer)
    run.train(6)
    run_to_phase(run, phase)
    state = run.capture()
    assert state.phase == phase
    expected = future(run, 11)  # crosses two epoch boundaries (and their evaluations)
    assert run.epoch >= 3

    # Back in the same run, after it moved on …
    run.restore(state)
    assert run.phase == phase and run.capture() == state
    assert future(run, 11) == expected
    # … and in a fresh run of the same configuration.
    other = make_run(optimizer, seed=99)
    other.restore(state)
    assert other.seed == state.seed
    assert future(other, 11) == expected


@settings(max_examples=20, deadline=None, database=None)
@given(
    optimizer=st.sampled_from(OPTIMIZERS),
    seed=st.integers(0, 2**31),
    before=st.integers(0, 9),
    after=st.integers(1, 9),
    phase=st.sampled_from(PHASES),
)
def test_capture_train_restore_train_is_bit_identical(optimizer, seed, before, after, phase):
    run = make_run(optimizer, seed=seed)
    run.train(before)
    run_to_phase(run, phase)
    state = run.capture()
    a = future(run, after)
    run.restore(state)
    b = future(run, after)
    assert a == b
    assert a[1] == b[1]  # the final states compare bit for bit


def test_restore_puts_back_hyperparameters_and_optimizer():
    run = make_run("momentum")
    run.train(5)
    state = run.capture()
    expected = future(run, 6)
    run.restore(state)
    run.set_hyperparameters(optimizer="adam", learning_rate=0.01, batch_size=3)
    run.train(4)
    run.restore(state)
    assert run.hyper == state.hyper and set(run.opt_state.buffers) == {"velocity"}
    assert future(run, 6) == expected


def test_a_mid_step_restore_recomputes_the_same_passes():
    run = make_run("adam")
    run.train(3)
    fwd = run.forward()
    back = run.backward()
    state = run.capture()
    assert np.array_equal(state.batch_indices, run.next_batch_indices())
    other = make_run("adam")
    other.restore(state)
    assert other.phase == "backward" and other.last_phase == "backward"
    assert np.array_equal(other.next_batch_indices(), run.next_batch_indices())
    for a, b in zip(fwd.activations, other.forward().activations):
        assert a.tobytes() == b.tobytes()
    for a, b in zip(back.grad_weights + back.grad_biases, other.backward().grad_weights + other.backward().grad_biases):
        assert a.tobytes() == b.tobytes()
    assert back.objective == other.backward().objective


def test_divergence_is_part_of_the_state():
    run = make_run("sgd", learning_rate=1e6)
    assert run.train(200) < 200 and run.divergence is not None
    state = run.capture()
    assert state.divergence == run.divergence
    other = make_run("sgd", learning_rate=1e6)
    other.restore(state)
    assert other.divergence == state.divergence
    assert not other.step() and other.divergence == run.divergence


# ------------------------------------------------------------------------- an immutable value


def test_a_captured_state_cannot_change():
    run = make_run("adam")
    run.train(5)
    state = run.capture()
    kept = [a.copy() for a in all_arrays(state)]
    assert len(kept) == 5  # parameters, permutation, m, v, last_update
    for array in all_arrays(state):
        assert not array.flags.writeable
        with pytest.raises(ValueError):
            array[0] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.step = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        state.optimizer_state.buffers["m"] = (state.parameters,)  # type: ignore[index]
    # Whatever the run does next leaves the captured value alone.
    run.train(9)
    run.set_weight(0, 0, 0, 0.5)
    run.set_hyperparameters(optimizer="rmsprop")
    run.train(2)
    run.reset()
    for before, array in zip(kept, all_arrays(state)):
        assert before.tobytes() == array.tobytes()


def test_capture_copies_no_array():
    run = make_run("adam")
    run.train(5)
    state = run.capture()
    assert state.parameters is run.flat
    assert state.permutation is run.permutation
    assert state.last_update is run.last_update
    assert state.optimizer_state.buffers["m"][0] is run.opt_state.buffers["m"][0]
    again = run.capture()
    for a, b in zip(all_arrays(state), all_arrays(again)):
        assert a is b
    # After an optimizer switch (fresh zeroed buffers), only the first capture copies them.
    run.set_hyperparameters(optimizer="rmsprop")
    first, second = run.capture(), run.capture()
    assert first.optimizer_state.buffers["mean_square"][0] is second.optimizer_state.buffers["mean_square"][0]
    assert first.parameters is second.parameters is run.flat


def test_writable_arrays_are_copied_and_immutable_ones_kept():
    state = make_run().capture()
    mine = state.parameters.copy()
    built = dataclasses.replace(state, parameters=mine)
    assert built.parameters is not mine and not built.parameters.flags.writeable
    assert mine.flags.writeable  # the caller's array is not frozen behind its back
    assert built == state
    # A read-only view of a writable array could still change: it is copied as well.
    view = mine[:]
    view.setflags(write=False)
    assert frozen(view) is not view
    assert frozen(state.parameters) is state.parameters


def test_equality_is_bit_for_bit():
    run = make_run("momentum")
    run.train(2)
    state = run.capture()
    assert run.capture() == state and not (run.capture() != state)
    negated = state.parameters.copy()
    negated[0] = -negated[0] if negated[0] != 0 else -0.0
    assert dataclasses.replace(state, parameters=negated) != state
    zero = dataclasses.replace(state, parameters=np.zeros_like(state.parameters))
    signed = zero.parameters.copy()
    signed[0] = -0.0
    assert dataclasses.replace(state, parameters=signed) != zero  # -0.0 and 0.0 differ in bits
    run.step()
    assert run.capture() != state
    assert state != "a state"
    with pytest.raises(TypeError):
        hash(state)
    assert "step=2" in repr(state) and len(repr(state)) < 200


# ------------------------------------------------------------------------------- validation


def test_restore_refuses_a_state_that_does_not_fit():
    run = make_run()
    run.train(3)
    before = run.capture()
    version = run.version
    cases = {
        "layer sizes": make_run(hidden=(4, 2)).capture(),
        "training examples": make_run(n_points=40).capture(),
        "exactly once": dataclasses.replace(before, permutation=np.zeros_like(before.permutation)),
        "divergence names layer 7": dataclasses.replace(before, divergence=Divergence(4, "gradient", 7, 0.1)),
    }
    for message, state in cases.items():
        with pytest.raises(ValueError, match=message):
            run.restore(state)
    with pytest.raises(TypeError, match="RunState"):
        run.restore(to_document(run))  # type: ignore[arg-type]
    # A refused restore changes nothing.
    assert run.capture() == before and run.version == version


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"phase": "update"}, "phase"),
        ({"cursor": 15}, "cursor"),
        ({"step": -1}, "step"),
        ({"seed": 2**63}, "seed"),
        ({"seed": True}, "seed"),
        ({"parameters": np.zeros(3)}, "parameters"),
        ({"parameters": "weights"}, "parameters"),
        ({"layer_sizes": (2,)}, "layer_sizes"),
        ({"permutation": np.arange(15, dtype=np.int32)}, "dtype"),
        ({"permutation": np.zeros(0, dtype=np.int64)}, "empty"),
        ({"last_update": np.zeros((2, 2))}, "last_update"),
        ({"hyper": Hyperparameters(optimizer="adam")}, "buffers"),
        ({"divergence": "diverged"}, "divergence"),
        ({"shuffle_rng": {"state": 1}}, "shuffle_rng"),
    ],
)
def test_an_inconsistent_state_cannot_be_built(changes, message):
    state = make_run().capture()
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(state, **changes)


def test_shuffle_rng_state_round_trips_and_is_checked():
    rng = np.random.default_rng([5, 1])
    rng.integers(0, 10, size=3)
    rng.random(1, dtype=np.float32)  # leaves a buffered 32-bit half
    state = ShuffleRngState.of(rng)
    copy = state.generator()
    assert copy.bit_generator.state == rng.bit_generator.state
    assert np.array_equal(copy.permutation(50), rng.permutation(50))
    with pytest.raises(ValueError, match="has_uint32"):
        dataclasses.replace(state, has_uint32=2)
    with pytest.raises(ValueError, match="PCG64"):
        ShuffleRngState.of(np.random.Generator(np.random.MT19937(0)))


# -------------------------------------------------------------------------- reset and files


def test_reset_puts_back_the_start_state():
    run = make_run("adam", seed=11)
    start = run.capture()
    assert start == run.start_state() and start.step == 0 and start.last_update is None
    run.train(7)
    run.set_hyperparameters(learning_rate=0.02)
    run.reset()
    assert run.capture() == dataclasses.replace(start, hyper=run.hyper)
    assert len(run.history.steps) == 0
    assert run.new_seed(12) == 12 and run.capture() == make_run("adam", seed=12, learning_rate=0.02).capture()


def test_restore_leaves_the_history_alone():
    run = make_run()
    state = run.capture()
    run.train(6)
    steps = run.history.steps.array()
    run.restore(state)
    assert run.history.steps.array().tobytes() == steps.tobytes()


@pytest.mark.parametrize("phase", PHASES)
def test_a_session_file_holds_the_captured_state(phase):
    run = make_run("rmsprop")
    run.train(6)
    run_to_phase(run, phase)
    state = run.capture()
    loaded = loads_session(dumps(to_document(run)))
    # The file keeps no half-run step: the next step computes the same passes again.
    assert loaded.capture() == dataclasses.replace(state, phase="idle")
    assert future(loaded, 5) == future(run, 5)
