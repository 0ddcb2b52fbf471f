"""Optimizer update rules against hand-written scalar references, and the training run's step.

The references below are deliberately naive: one Python float at a time, in the textbook form of
each rule, so they share no code (and no algebraic shortcut) with ``sandbox.engine.optimizers``.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from sandbox.engine import OPTIMIZER_DEFAULTS, OPTIMIZERS, initial_state, loss_and_gradients, propose
from sandbox.engine.optimizers import check_optimizer
from sandbox.engine.regularizers import clip_l1_crossings
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun

SHAPES = [(3, 2), (2,), (2, 1), (1,)]


class ScalarReference:
    """Textbook update rules, element by element."""

    def __init__(self, name: str, hyper: dict[str, float], lr: float, size: int) -> None:
        self.name, self.hyper, self.lr = name, hyper, lr
        self.a = [0.0] * size  # velocity / mean square / m
        self.b = [0.0] * size  # v (adam)
        self.t = 0

    def step(self, grads: list[float]) -> list[float]:
        h, lr = self.hyper, self.lr
        self.t += 1
        out = []
        for k, g in enumerate(grads):
            if self.name == "sgd":
                out.append(-lr * g)
            elif self.name == "momentum":
                self.a[k] = h["beta"] * self.a[k] + g
                out.append(-lr * self.a[k])
            elif self.name == "rmsprop":
                self.a[k] = h["rho"] * self.a[k] + (1 - h["rho"]) * g * g
                out.append(-lr * g / (math.sqrt(self.a[k]) + h["eps"]))
            elif self.name == "adam":
                self.a[k] = h["beta1"] * self.a[k] + (1 - h["beta1"]) * g
                self.b[k] = h["beta2"] * self.b[k] + (1 - h["beta2"]) * g * g
                m_hat = self.a[k] / (1 - h["beta1"] ** self.t)
                v_hat = self.b[k] / (1 - h["beta2"] ** self.t)
                out.append(-lr * m_hat / (math.sqrt(v_hat) + h["eps"]))
            else:  # pragma: no cover
                raise AssertionError(self.name)
        return out


def _flatten(arrays):
    return [float(v) for a in arrays for v in np.ravel(a)]


HYPER_CASES = [
    ("sgd", {}),
    ("momentum", {}),
    ("momentum", {"beta": 0.5}),
    ("rmsprop", {}),
    ("rmsprop", {"rho": 0.7, "eps": 1e-6}),
    ("adam", {}),
    ("adam", {"beta1": 0.8, "beta2": 0.99, "eps": 1e-7}),
]


@pytest.mark.parametrize("name, overrides", HYPER_CASES)
def test_update_matches_scalar_reference_over_several_steps(name, overrides):
    hyper = check_optimizer(name, overrides)
    lr = 0.05
    rng = np.random.default_rng(1)
    params = [rng.normal(size=s) for s in SHAPES]
    state = initial_state(name, params)
    ref = ScalarReference(name, hyper, lr, sum(p.size for p in params))
    for step in range(7):
        # Gradients of varying scale, including exact zeros and sign flips.
        grads = [rng.normal(0.0, 10.0 ** rng.integers(-3, 2), size=s) for s in SHAPES]
        grads[1][0] = 0.0
        updates, state = propose(name, hyper, lr, grads, state)
        assert [u.shape for u in updates] == [p.shape for p in params]
        assert all(u.dtype == np.float64 for u in updates)
        expected = ref.step(_flatten(grads))
        np.testing.assert_allclose(_flatten(updates), expected, rtol=1e-12, atol=1e-300)
        if name != "sgd":
            assert state.t == step + 1


def test_adam_first_step_is_lr_times_sign_of_gradient():
    grads = [np.array([3.0, -0.001, 1e-4]), np.array([[-50.0]])]
    hyper = check_optimizer("adam")
    updates, _ = propose("adam", hyper, 0.1, grads, initial_state("adam", grads))
    # m̂ = g, v̂ = g², so Δ = −η g / (|g| + ε) ≈ −η sign(g).
    np.testing.assert_allclose(_flatten(updates), [-0.1, 0.1, -0.1, 0.1], rtol=1e-3)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_propose_modifies_neither_gradients_nor_state(name):
    rng = np.random.default_rng(2)
    hyper = check_optimizer(name)
    params = [rng.normal(size=s) for s in SHAPES]
    state = initial_state(name, params)
    for _ in range(3):  # make the state non-trivial
        _, state = propose(name, hyper, 0.1, [rng.normal(size=s) for s in SHAPES], state)
    grads = [rng.normal(size=s) for s in SHAPES]
    grads_before = copy.deepcopy(grads)
    state_before = copy.deepcopy(state)
    buffer_ids = {k: [id(a) for a in v] for k, v in state.buffers.items()}
    updates, new_state = propose(name, hyper, 0.1, grads, state)
    for g, g0 in zip(grads, grads_before):
        assert g.tobytes() == g0.tobytes()
    assert state.t == state_before.t
    assert set(state.buffers) == set(state_before.buffers)
    for key in state.buffers:
        assert [id(a) for a in state.buffers[key]] == buffer_ids[key]
        for a, a0 in zip(state.buffers[key], state_before.buffers[key]):
            assert a.tobytes() == a0.tobytes()
    # Proposing twice from the same state gives the same update, bit for bit.
    again, _ = propose(name, hyper, 0.1, grads, state)
    assert all(u.tobytes() == v.tobytes() for u, v in zip(updates, again))
    # The returned update does not alias the gradient.
    for u, g in zip(updates, grads):
        assert not np.shares_memory(u, g)
    if name != "sgd":
        assert new_state is not state and new_state.t == state.t + 1


def test_check_optimizer_validates():
    assert check_optimizer("adam") == OPTIMIZER_DEFAULTS["adam"]
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        check_optimizer("lbfgs")
    with pytest.raises(ValueError, match="no hyperparameter 'beta'"):
        check_optimizer("adam", {"beta": 0.9})
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\)"):
        check_optimizer("momentum", {"beta": 1.0})
    with pytest.raises(ValueError, match=r"eps must be in \(0, 1\)"):
        check_optimizer("rmsprop", {"eps": 0.0})
    with pytest.raises(ValueError, match="unknown optimizer"):
        propose("lbfgs", {}, 0.1, [np.zeros(1)], initial_state("sgd", [np.zeros(1)]))


def test_initial_state_is_zeroed_and_shaped_like_the_parameters():
    params = [np.ones(s) for s in SHAPES]
    for name in OPTIMIZERS:
        state = initial_state(name, params)
        assert state.t == 0
        for buffers in state.buffers.values():
            assert [b.shape for b in buffers] == list(SHAPES)
            assert all(not b.any() for b in buffers)


# ----------------------------------------------------- the training run's step gradient


def _objective_on_batch(run: TrainingRun, flat: np.ndarray, X, Y) -> float:
    W, b = run.layout.unpack(flat)
    return loss_and_gradients(W, b, run.activation_names, run.network_spec.loss, X, Y,
                              l1=run.hyper.l1, l2=run.hyper.l2)[0]


RUN_SETTINGS = [
    pytest.param(dict(optimizer=o, l1=l1, l2=l2), id=f"{o}-l1={l1}-l2={l2}")
    for o in OPTIMIZERS
    for l1, l2 in ((0.0, 0.0), (0.01, 0.0), (0.0, 0.02), (0.005, 0.01))
]


@pytest.mark.parametrize("settings", RUN_SETTINGS)
@pytest.mark.parametrize("source", ["circle", "blobs", "plane"])
def test_step_gradient_matches_finite_differences_and_update_follows_the_optimizer(source, settings):
    run = TrainingRun.create(
        data=DataSpec(source, n_points=60, noise=0.2, train_fraction=0.5, seed=3),
        network=NetworkSpec((3, 2), ("tanh", "softplus")),
        hyper=Hyperparameters(learning_rate=0.05, batch_size=7, **settings),
        seed=5,
    )
    run.train(4)  # non-trivial weights and optimizer state, mid-epoch
    idx = run.next_batch_indices().copy()
    X, Y = run.X_train[idx], run.Y_train[idx]
    back = run.backward()
    grad = run.layout.pack(back.grad_weights, back.grad_biases)
    flat0 = run.flat.copy()
    assert back.objective == _objective_on_batch(run, flat0, X, Y)

    eps = 1e-6
    fd = np.empty_like(flat0)
    for k in range(len(flat0)):
        plus, minus = flat0.copy(), flat0.copy()
        plus[k] += eps
        minus[k] -= eps
        fd[k] = (_objective_on_batch(run, plus, X, Y) - _objective_on_batch(run, minus, X, Y)) / (2 * eps)
    rel = np.linalg.norm(grad - fd) / max(np.linalg.norm(grad) + np.linalg.norm(fd), 1e-8)
    assert rel <= 1e-6

    # The update applied is the optimizer's proposal for exactly this gradient and state (with
    # l1 > 0, Playground's rule stops a weight that would cross zero at exactly zero).
    expected, expected_state = propose(run.hyper.optimizer, run.hyper.optimizer_hyper(),
                                       run.hyper.learning_rate, [grad], run.opt_state)
    if run.hyper.l1 > 0:
        expected = [clip_l1_crossings(flat0, expected[0], run._weight_slices,
                                      run.hyper.learning_rate * run.hyper.l1)]
    # On the compiled path, to rounding (the kernels sum in another order; see
    # test_compiled_step.py); on the numpy path, bit for bit.
    same = same_bits if run.step_path == "numpy" else same_to_rounding
    assert run.update()
    same(run.last_update, expected[0])
    same(run.flat, flat0 + expected[0])
    assert run.opt_state.t == expected_state.t
    for key, bufs in expected_state.buffers.items():
        same(run.opt_state.buffers[key][0], bufs[0])


def same_bits(actual, expected):
    assert actual.tobytes() == expected.tobytes()


def same_to_rounding(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
