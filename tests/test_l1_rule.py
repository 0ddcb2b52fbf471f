"""Playground's L1 rule: with l1 > 0 a weight that an update would carry across zero stops at
exactly zero (biases are not regularised); with l1 = 0 it crosses."""

from __future__ import annotations

import numpy as np

from sandbox.engine.regularizers import clip_l1_crossings
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.session_file import loads_session, to_document
from sandbox.session.json_text import dumps

from test_training_run import state_bytes


def test_clip_by_hand():
    old = np.array([0.001, -0.002, 0.5, 0.0, 0.001, 0.001, 3.0])
    delta = np.array([-0.004, 0.003, -0.1, -0.2, -0.02, 0.5, -7.0])
    # weights: entries 0…4; 5…6 are biases (never clipped).  lr·l1 = 0.01.
    out = clip_l1_crossings(old, delta, [slice(0, 5)], reach=0.01)
    new = old + out
    assert new[0] == 0.0 and new[1] == 0.0  # crossed by less than lr·l1: exactly zero
    assert out[2] == -0.1 and out[3] == -0.2  # no crossing (0.5 → 0.4; a zero may leave zero)
    assert out[4] == -0.02  # thrown 0.019 past zero, further than L1 alone reaches: crosses
    assert new[6] == -4.0  # a bias crosses freely
    assert delta[0] == -0.004  # the input is not modified
    same = np.array([0.1, 0.2])
    assert clip_l1_crossings(np.array([1.0, 1.0]), same, [slice(0, 2)], 0.5) is same


def test_a_non_finite_proposal_is_left_for_the_guard():
    out = clip_l1_crossings(np.array([1.0]), np.array([-np.inf]), [slice(0, 1)], reach=10.0)
    assert out[0] == -np.inf


def _run(lr: float, l1: float) -> TrainingRun:
    return TrainingRun.create(DataSpec("gauss", n_points=60, noise=0.1, seed=3), features=("x1", "x2"),
                              network=NetworkSpec((), ()),
                              hyper=Hyperparameters(learning_rate=lr, batch_size=30, l1=l1))


def _data_push(run: TrainingRun) -> float:
    """The data gradient's part of W_0[0, 0]'s next update (the preview without L1)."""
    plain = run.fork()
    plain.set_hyperparameters(l1=0.0)
    dW, _ = plain.update_by_layer(plain.preview_update())
    return float(dW[0][0, 0])


def test_a_weight_the_l1_term_pushes_past_zero_ends_at_exactly_zero():
    run = _run(lr=0.01, l1=5.0)  # the L1 step is lr·l1 = 0.05
    push = _data_push(run)
    assert 0 < abs(push) < 0.02
    w = 0.001 if push > 0 else -0.001  # the data gradient pushes it away from zero; L1 back past it
    run.set_weight(0, 0, 0, w)
    dW, _ = run.update_by_layer(run.preview_update())
    assert dW[0][0, 0] == -w  # the next update the views show stops at zero too
    assert run.step()
    assert run.weights[0][0, 0] == 0.0
    assert run.last_update[0] == -w


def test_without_l1_a_weight_pushed_past_zero_crosses():
    run = _run(lr=1.0, l1=0.0)
    push = _data_push(run)
    assert abs(push) > 0.01  # the data gradient moves it much further than 0.001
    w = -0.001 if push > 0 else 0.001
    run.set_weight(0, 0, 0, w)
    assert run.step()
    assert np.sign(run.weights[0][0, 0]) == -np.sign(w) and abs(run.weights[0][0, 0]) > 0.001


def test_a_weight_the_data_gradient_throws_far_past_zero_crosses_even_with_l1():
    """Only the L1 term's crossing is stopped: a too-large step still crosses (and can diverge)."""
    run = _run(lr=1.0, l1=1e-4)  # lr·l1 = 1e-4, far less than the data step
    push = _data_push(run)
    w = -0.001 if push > 0 else 0.001
    run.set_weight(0, 0, 0, w)
    assert run.step()
    assert np.sign(run.weights[0][0, 0]) == -np.sign(w) and abs(run.weights[0][0, 0]) > 0.001


def test_save_load_continue_stays_bit_identical_with_l1():
    def make() -> TrainingRun:
        return TrainingRun.create(DataSpec("circle", n_points=80, noise=0.1, seed=1),
                                  features=("x1", "x2", "x1_sq", "x2_sq", "x1_x2"),
                                  network=NetworkSpec((4,), ("tanh",)),
                                  hyper=Hyperparameters(optimizer="adam", learning_rate=0.05, l1=0.05))
    straight = make()
    straight.train(300)
    half = make()
    half.train(150)
    resumed = loads_session(dumps(to_document(half)))
    resumed.train(150)
    assert state_bytes(resumed) == state_bytes(straight)
    assert sum(np.count_nonzero(w == 0.0) for w in straight.weights) > 0  # the rule did act
