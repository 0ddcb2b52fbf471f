"""The checkpoint scheme: dense recently, sparser further back, bounded in memory."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sandbox.resources import EXAMPLES
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.checkpoints import STATE_OVERHEAD_BYTES, Checkpoints
from sandbox.session.session_file import load


def _fake_states(run: TrainingRun, steps):
    """States numbered ``steps`` (their arrays shared: cheap; only the numbering matters)."""
    base = run.capture()
    for step in steps:
        yield replace(base, step=step)


def _filled(n_steps: int, **kwargs) -> Checkpoints:
    run = TrainingRun.create(seed=1)
    points = Checkpoints(**kwargs)
    for state in _fake_states(run, range(0, n_steps + 1, points.base_spacing)):
        if points.due(state.step) or state.step == 0:
            points.add(state)
    points.thin()
    return points


def test_newest_steps_are_dense_and_older_ones_sparser():
    points = _filled(100_000)
    steps = np.array(points.steps)
    assert steps[0] == 0 and steps[-1] == 100_000
    recent = steps[steps > 100_000 - 64 * 16]
    assert np.all(np.diff(recent) == 16), "the newest K·b steps keep a checkpoint every b steps"
    gaps = np.diff(steps)
    assert gaps.max() <= 16 * 64, "at most 1,023 steps to replay anywhere in a 100,000-step run"
    assert np.all(np.diff(gaps[::-1]) >= 0), "spacing never shrinks going back in time"


@pytest.mark.parametrize("n_steps", [0, 15, 16, 1_000, 12_345, 250_000])
def test_every_step_has_a_checkpoint_at_or_before_it_within_the_schemes_bound(n_steps):
    points = _filled(n_steps)
    for step in map(int, np.linspace(0, n_steps, 200).astype(int)):
        base = points.at_or_before(step)
        age = max(0, points.newest - step)
        level = (1 + age // (64 * 16)).bit_length() - 1
        assert base is not None and 0 <= step - base.step < 16 << (level + 1)


def test_checkpoints_only_grow_logarithmically():
    """A million steps keep about K·log2(1 + N/(K·b)) checkpoints (640)."""
    points = _filled(1_000_000)
    assert len(points) <= 64 * 11, len(points)
    assert len(points) >= 64 * 9


def _state_bytes(run: TrainingRun) -> int:
    run.train(3)
    state = run.capture()
    arrays = [state.parameters, state.permutation, state.last_update,
              *(a[0] for a in state.optimizer_state.buffers.values())]
    return STATE_OVERHEAD_BYTES + sum(a.nbytes for a in arrays)


def test_a_million_step_default_run_stays_far_below_fifty_megabytes():
    run = TrainingRun.create(seed=1)
    count = len(_filled(1_000_000))
    assert count * _state_bytes(run) < 5 * 2**20  # every checkpoint with arrays of its own


def test_the_budget_thins_checkpoints_of_a_big_network():
    """Whatever the network, the checkpoints stay within their budget (50 MB by default)."""
    big = TrainingRun.create(
        DataSpec(source="spiral", n_points=2000, noise=0.1, train_fraction=0.5, seed=1),
        network=NetworkSpec((16,) * 8, ("tanh",) * 8),
        hyper=Hyperparameters(optimizer="adam", learning_rate=0.003, batch_size=32))
    points = Checkpoints(budget_bytes=4 * 2**20)
    base = big.capture()
    for step in range(0, 200_001, 16):
        if points.due(step) or step == 0:
            # Arrays of its own, as a real run's checkpoints have (parameters change every step).
            points.add(replace(base, step=step, parameters=base.parameters.copy()))
    points.thin()
    assert points.nbytes() <= 4 * 2**20
    assert points.base_spacing > 16, "the spacing doubled to fit"
    assert points.steps[0] == 0 and points.steps[-1] > 200_000 - points.base_spacing


def test_the_largest_example_fits_a_million_steps_in_the_default_budget():
    run = load(EXAMPLES / "09-largest-seven-features-6x8.json")
    assert len(_filled(1_000_000)) * _state_bytes(run) <= 50 * 10**6


def test_checkpoints_must_come_in_order_and_truncate_cleanly():
    run = TrainingRun.create(seed=1)
    points = Checkpoints()
    states = list(_fake_states(run, [0, 16, 32, 48]))
    for s in states:
        points.add(s)
    with pytest.raises(ValueError):
        points.add(states[1])
    cut = points.truncated(40)
    assert cut.steps == (0, 16, 32) and points.steps == (0, 16, 32, 48)
    assert cut.at_or_before(47) is states[2]
    with pytest.raises(ValueError):
        Checkpoints(base_spacing=12)
