"""Saving raises only the session-file error, and the size of a session is known before it is
written: measured exactly now, bounded for after training, with advice that names what takes
the room."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from sandbox.engine import OptimizerState
from sandbox.resources import DEFAULT_SESSION, EXAMPLES
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session import session_file
from sandbox.session.json_text import dumps
from sandbox.session.save_checks import bound_after_training, measure, text_size
from sandbox.session.session_file import SessionFileError, load, save, to_document

SESSIONS = [DEFAULT_SESSION, *sorted(EXAMPLES.glob("*.json"))]


def make(optimizer="adam", hidden=(8, 4), n_points=120, **kw) -> TrainingRun:
    return TrainingRun.create(DataSpec("circle", n_points=n_points),
                              network=NetworkSpec(hidden, ("tanh",) * len(hidden)),
                              hyper=Hyperparameters(optimizer=optimizer, batch_size=10, **kw))


def real_size(run: TrainingRun) -> int:
    return len(dumps(to_document(run)).encode("utf-8"))


# --------------------------------------------------------------------- only SessionFileError


@pytest.mark.parametrize("error", [ValueError("bad value"), OverflowError("too big"), TypeError("bad type"),
                                   UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
                                   OSError(errno.ENOSPC, "No space left on device")])
@pytest.mark.parametrize("stage", ["to_document", "dumps", "atomic_write"])
def test_every_failure_while_saving_is_a_session_file_error(tmp_path, monkeypatch, stage, error):
    """The class: whatever a stage of saving raises of these kinds comes out as SessionFileError,
    naming the file, and the old file is untouched."""
    path = tmp_path / "s.json"
    run = make()
    save(run, path)
    old = path.read_bytes()

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(session_file, stage, fail)
    with pytest.raises(SessionFileError) as caught:
        save(run, path)
    assert str(path) in str(caught.value) and "could not save" in str(caught.value)
    assert path.read_bytes() == old


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("where", ["parameters", "buffer", "last_update"])
def test_a_non_finite_value_that_got_into_the_state_is_named_not_raised_as_a_value_error(tmp_path, where):
    run = make("adam")
    assert run.train(3) == 3
    state = run.capture()
    bad = np.array(state.parameters)
    bad[-1] = np.inf
    bad.setflags(write=False)
    import dataclasses

    if where == "parameters":
        state = dataclasses.replace(state, parameters=bad)
    elif where == "last_update":
        state = dataclasses.replace(state, last_update=bad)
    else:
        buffers = dict(state.optimizer_state.buffers)
        buffers["v"] = [bad]
        state = dataclasses.replace(state, optimizer_state=OptimizerState(buffers, state.optimizer_state.t))
    run.restore(state)
    with pytest.raises(SessionFileError) as caught:
        save(run, tmp_path / "s.json")
    message = str(caught.value)
    field = {"parameters": "state.parameters", "buffer": "state.optimizer_state.buffers.v",
             "last_update": "state.last_update"}[where]
    assert field in message and "inf" in message and "finite numbers only" in message
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("path, fragment", [
    ("missing-folder/s.json", "could not save"),
    ("bad\0name.json", "could not save"),
    ("", "could not save"),
])
def test_bad_targets_are_session_file_errors(tmp_path, path, fragment):
    target = str(tmp_path / path) if path else path
    with pytest.raises(SessionFileError, match=fragment):
        save(make(), target)


def test_text_that_cannot_be_written_is_named(tmp_path):
    run = make()
    run.description = "a lone surrogate \ud800"
    with pytest.raises(SessionFileError, match="description"):
        save(run, tmp_path / "s.json")


# ------------------------------------------------------------------------------ measuring


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("source", SESSIONS, ids=lambda p: p.name)
def test_the_measured_size_is_the_written_size(source, tmp_path):
    run = load(source)
    for steps in (0, 37):
        run.train(steps)
        doc = to_document(run)
        path = tmp_path / "s.json"
        save(run, path)
        assert measure(doc).total == path.stat().st_size == len(dumps(doc).encode("utf-8"))
        # Each part is what the writer writes for it.
        assert measure(doc).data == len(dumps({"data": doc["data"]})) - len('{\n  "data": \n}\n')


def test_text_size_matches_the_writer_on_awkward_values():
    doc = {"a": [], "b": {}, "c": [[1.5, -0.0, 5e-324], [True, None, "é"]], "d": [{"x": [1, 2]}, []],
           "e": "ü \u2028 \"quoted\"", "f": [[], [[]], [{}]], "g": 2**70, "h": -1.7976931348623157e308}
    assert text_size(doc) + 1 == len(dumps(doc).encode("utf-8"))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("hidden", [(8,), (48, 48)])
@pytest.mark.parametrize("steps", [0, 1, 30, 400])
def test_the_bound_before_training_holds_after_it(optimizer, hidden, steps):
    """The estimate against the real size: never below it, and close when the parameters
    dominate (there every value may grow to 24 characters, and trained ones take ~18–23)."""
    run = make(optimizer, hidden)
    bound = bound_after_training(to_document(run), steps, run.steps_per_epoch)
    assert bound.bound and bound.copies == (1 + len(run.opt_state.buffers) + (steps > 0))
    run.train(steps)
    run.evaluate(record=True)
    real = real_size(run)
    assert real <= bound.total
    if hidden == (48, 48) and steps <= 30:
        assert bound.total <= 1.25 * real


def test_the_bound_counts_a_half_trained_session_from_where_it_is():
    run = make("momentum", (16,))
    run.train(55)
    bound = bound_after_training(to_document(run), 200, run.steps_per_epoch)
    run.train(200)
    run.evaluate(record=True)
    assert real_size(run) <= bound.total


# ------------------------------------------------------------------------------- advice


def test_the_message_at_save_names_what_takes_the_room(tmp_path, monkeypatch):
    """When the file is too large, the exact size and its largest part with the advice for it."""
    run = make("adam", (64, 64), n_points=40)
    run.train(3)
    size = real_size(run)
    monkeypatch.setattr(session_file, "MAX_FILE_BYTES", size - 1)
    with pytest.raises(SessionFileError) as caught:
        save(run, tmp_path / "s.json")
    message = str(caught.value)
    assert "the session would be " in message and "up to" not in message
    assert f"the network's {run.layout.size:,} parameters take" in message
    assert "stored 4 times: the weights, the adam optimizer's 2 buffers and the last update" in message
    assert message.endswith("use a smaller network, or sgd, which keeps no optimizer buffers")

    data_heavy = make("sgd", (2,), n_points=5000)
    monkeypatch.setattr(session_file, "MAX_FILE_BYTES", real_size(data_heavy) - 1)
    with pytest.raises(SessionFileError) as caught:
        save(data_heavy, tmp_path / "d.json")
    message = str(caught.value)
    assert "the data takes" in message and "stored 1 time: the weights" in message
    assert message.endswith("use fewer data points or input columns")
    assert not any(name.startswith(".") for name in os.listdir(tmp_path))


def test_the_parts_add_up_to_less_than_the_whole():
    run = make("rmsprop", (32,))
    run.train(20)
    size = measure(to_document(run))
    assert 0 < size.data and 0 < size.parameters and 0 < size.history
    assert size.data + size.parameters + size.history < size.total
    assert size.copies == 3 and size.n_parameters == run.layout.size
