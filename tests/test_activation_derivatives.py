"""``Activation.derivative(z, a)`` = f'(z): checked against central finite differences of
``forward`` in float64, and against ``backprop`` (which must equal ``g * derivative`` for every
element-wise activation).  Softmax's derivative is the diagonal of its Jacobian."""

from __future__ import annotations

import numpy as np
import pytest

from sandbox.engine.activations import ACTIVATIONS

ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if not act.output_only]
FD_STEP = 1e-6


def _inputs(seed: int, shape=(40, 7)) -> np.ndarray:
    """Random z in ±6, kept 1e-3 away from the kinks of relu, leaky relu and elu at 0."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(-6.0, 6.0, shape)
    z[np.abs(z) < 1e-3] = 0.5
    return z


def test_every_activation_has_a_derivative():
    assert set(ACTIVATIONS) >= set(ELEMENTWISE) | {"softmax"}
    for act in ACTIVATIONS.values():
        assert callable(act.derivative)


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_derivative_matches_central_differences(name, seed):
    act = ACTIVATIONS[name]
    z = _inputs(seed)
    a = act.forward(z)
    numeric = (act.forward(z + FD_STEP) - act.forward(z - FD_STEP)) / (2 * FD_STEP)
    analytic = act.derivative(z, a)
    assert analytic.shape == z.shape and analytic.dtype == np.float64
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backprop_is_the_gradient_times_the_derivative(name):
    act = ACTIVATIONS[name]
    z = _inputs(3)
    a = act.forward(z)
    g = np.random.default_rng(4).normal(size=z.shape)
    expected = g * act.derivative(z, a)
    np.testing.assert_allclose(act.backprop(z, a, g.copy()), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_derivative_leaves_its_inputs_alone_and_returns_a_new_array(name):
    act = ACTIVATIONS[name]
    z = _inputs(5)
    a = act.forward(z)
    z0, a0 = z.copy(), a.copy()
    z.setflags(write=False)
    if a.flags.writeable:
        a.setflags(write=False)
    d = act.derivative(z, a)
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(a, a0)
    assert d.flags.writeable and not np.shares_memory(d, z) and not np.shares_memory(d, a)


def test_relu_derivative_is_zero_at_the_kink_like_backprop():
    act = ACTIVATIONS["relu"]
    z = np.array([[-1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(act.derivative(z, act.forward(z)), [[0.0, 0.0, 1.0]])


def _softmax_jacobian_fd(z_row: np.ndarray) -> np.ndarray:
    """J[k, m] = ∂a_k/∂z_m by central differences, one row of z."""
    f = ACTIVATIONS["softmax"].forward
    n = len(z_row)
    jac = np.empty((n, n))
    for m in range(n):
        step = np.zeros(n)
        step[m] = FD_STEP
        jac[:, m] = (f((z_row + step)[None])[0] - f((z_row - step)[None])[0]) / (2 * FD_STEP)
    return jac


@pytest.mark.parametrize("seed", [0, 1])
def test_softmax_derivative_is_the_jacobian_diagonal(seed):
    act = ACTIVATIONS["softmax"]
    z = np.random.default_rng(seed).normal(0.0, 2.0, (6, 4))
    a = act.forward(z)
    d = act.derivative(z, a)
    for row in range(len(z)):
        np.testing.assert_allclose(d[row], np.diag(_softmax_jacobian_fd(z[row])), rtol=1e-6, atol=1e-9)


def test_softmax_backprop_applies_the_full_jacobian():
    act = ACTIVATIONS["softmax"]
    rng = np.random.default_rng(7)
    z = rng.normal(0.0, 2.0, (5, 4))
    g = rng.normal(size=z.shape)
    a = act.forward(z)
    out = act.backprop(z, a, g.copy())
    for row in range(len(z)):
        # δ_z = Jᵀ δ_a (the Jacobian is symmetric, so also J δ_a)
        np.testing.assert_allclose(out[row], _softmax_jacobian_fd(z[row]).T @ g[row], rtol=1e-6, atol=1e-9)
    # ... which is not the diagonal alone
    assert not np.allclose(out, g * act.derivative(z, a))
