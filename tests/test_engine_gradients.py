"""Exactness and robustness of ``sandbox.engine.loss_and_gradients`` and ``Network``.

The analytic gradients are checked against central finite differences of J in float64 for every
hidden activation × every output/loss path × every regulariser combination, plus a hypothesis
search over random architectures.  Relative errors use norms, not per-element ratios, so a
component that is legitimately ~0 does not blow the ratio up.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.engine import HIDDEN_ACTIVATIONS, Network, loss_and_gradients
from sandbox.engine.activations import ACTIVATIONS

FD_EPS = 1e-6
FD_RTOL = 1e-6

ALL_HIDDEN = (
    "linear", "relu", "leaky_relu", "elu", "tanh", "sigmoid", "softplus", "swish", "sine",
)

# name → (output activation, loss, target kind)
OUTPUT_PATHS = {
    "sigmoid+bce": ("sigmoid", "bce", "binary"),
    "softmax+cross_entropy/one-hot": ("softmax", "cross_entropy", "onehot"),
    "softmax+cross_entropy/soft": ("softmax", "cross_entropy", "soft"),
    "linear+mse": ("linear", "mse", "real"),
    "softmax+mse": ("softmax", "mse", "soft"),
    "tanh+mse": ("tanh", "mse", "real"),
}

REGULARISERS = {"none": (0.0, 0.0), "l1": (0.03, 0.0), "l2": (0.0, 0.07), "l1+l2": (0.02, 0.05)}


# ------------------------------------------------------------------------------- helpers


def _targets(rng: np.random.Generator, kind: str, n: int, k: int) -> np.ndarray:
    if kind == "binary":
        return rng.integers(0, 2, (n, k)).astype(np.float64)
    if kind == "onehot":
        return np.eye(k)[rng.integers(0, k, n)]
    if kind == "soft":
        p = rng.uniform(0.05, 1.0, (n, k))
        return p / p.sum(axis=1, keepdims=True)
    return rng.normal(0.0, 1.0, (n, k))


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Weights with |w| in [0.15, 1.1]: far from l1's kink at 0 compared with the FD step."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.15, 1.1, size=shape)


def make_problem(rng, sizes, hidden_acts, out_act, loss, kind, n):
    weights = [_away_from_zero(rng, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0.0, 0.5, b) for b in sizes[1:]]
    X = rng.normal(0.0, 1.0, (n, sizes[0]))
    y = _targets(rng, kind, n, sizes[-1])
    return weights, biases, list(hidden_acts) + [out_act], loss, X, y


def objective(weights, biases, acts, loss, X, y, l1, l2) -> float:
    return loss_and_gradients(weights, biases, acts, loss, X, y, l1=l1, l2=l2)[0]


def finite_difference(weights, biases, acts, loss, X, y, l1=0.0, l2=0.0, eps=FD_EPS):
    """Central differences of J for every weight and bias."""
    Ws = [W.copy() for W in weights]
    bs = [b.copy() for b in biases]
    grads_w, grads_b = [], []
    for params, grads in ((Ws, grads_w), (bs, grads_b)):
        for p in params:
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + eps
                plus = objective(Ws, bs, acts, loss, X, y, l1, l2)
                p[idx] = old - eps
                minus = objective(Ws, bs, acts, loss, X, y, l1, l2)
                p[idx] = old
                g[idx] = (plus - minus) / (2 * eps)
            grads.append(g)
    return grads_w, grads_b


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-8) -> float:
    """‖a − b‖ / max(‖a‖ + ‖b‖, floor)."""
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


def assert_gradients_match(weights, biases, acts, loss, X, y, l1=0.0, l2=0.0):
    J, gW, gb = loss_and_gradients(weights, biases, acts, loss, X, y, l1=l1, l2=l2)
    assert np.isfinite(J)
    fW, fb = finite_difference(weights, biases, acts, loss, X, y, l1, l2)
    analytic = np.concatenate([g.ravel() for g in gW + gb])
    numeric = np.concatenate([g.ravel() for g in fW + fb])
    assert relative_error(analytic, numeric) <= FD_RTOL, (acts, loss, l1, l2)
    # Per parameter array too, with an absolute floor for arrays whose gradient is ~0
    # (a dead relu unit): FD noise there is ~1e-10.
    for name, ga, gn in [(f"W{l}", a, b) for l, (a, b) in enumerate(zip(gW, fW))] + [
        (f"b{l}", a, b) for l, (a, b) in enumerate(zip(gb, fb))
    ]:
        assert relative_error(ga, gn, floor=1e-3) <= FD_RTOL, (name, acts, loss, l1, l2)


# ------------------------------------------------------------- finite-difference checks


def test_every_hidden_activation_is_covered():
    assert set(ALL_HIDDEN) == set(HIDDEN_ACTIVATIONS)


@pytest.mark.parametrize("reg", list(REGULARISERS))
@pytest.mark.parametrize("path", list(OUTPUT_PATHS))
@pytest.mark.parametrize("hidden", ALL_HIDDEN)
def test_gradients_match_finite_differences(hidden, path, reg):
    out_act, loss, kind = OUTPUT_PATHS[path]
    l1, l2 = REGULARISERS[reg]
    # A distinct, reproducible stream per combination.
    seed = [ALL_HIDDEN.index(hidden), list(OUTPUT_PATHS).index(path), list(REGULARISERS).index(reg)]
    rng = np.random.default_rng(seed)
    n_out = {"binary": int(rng.integers(1, 3)), "real": int(rng.integers(1, 3))}.get(kind, int(rng.integers(2, 5)))
    sizes = [int(rng.integers(1, 4)), int(rng.integers(2, 5)), int(rng.integers(1, 4)), n_out]
    problem = make_problem(rng, sizes, [hidden, hidden], out_act, loss, kind, n=int(rng.integers(1, 6)))
    assert_gradients_match(*problem, l1=l1, l2=l2)


@settings(max_examples=60, deadline=None, database=None)
@given(
    data=st.data(),
    depth=st.integers(1, 3),
    path=st.sampled_from(sorted(OUTPUT_PATHS)),
    reg=st.sampled_from(sorted(REGULARISERS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_gradients_match_finite_differences_random_architectures(data, depth, path, reg, seed):
    out_act, loss, kind = OUTPUT_PATHS[path]
    hidden = data.draw(st.lists(st.sampled_from(ALL_HIDDEN), min_size=depth - 1, max_size=depth - 1))
    rng = np.random.default_rng(seed)
    n_out = 1 if kind in ("binary", "real") and rng.random() < 0.5 else int(rng.integers(2, 4))
    sizes = [int(rng.integers(1, 4))] + [int(rng.integers(1, 5)) for _ in hidden] + [n_out]
    problem = make_problem(rng, sizes, hidden, out_act, loss, kind, n=int(rng.integers(1, 7)))
    assert_gradients_match(*problem, *REGULARISERS[reg])


def test_cross_entropy_with_unnormalised_targets_matches_finite_differences():
    """ℓ = Σ_k y_k (lse − z_k) holds for any non-negative y, not just distributions."""
    rng = np.random.default_rng(7)
    W, b, acts, loss, X, _ = make_problem(rng, [2, 3, 4], ["tanh"], "softmax", "cross_entropy", "soft", 5)
    y = rng.uniform(0.0, 2.0, (5, 4))
    assert_gradients_match(W, b, acts, loss, X, y, l1=0.01, l2=0.02)


# ------------------------------------------------------------------ kinks and subgradients


def test_relu_derivative_at_exactly_zero_is_zero():
    # z = 1·2 + 2·(−1) + 0 = 0 exactly for the single hidden unit.
    X = np.array([[1.0, 2.0]])
    weights = [np.array([[2.0], [-1.0]]), np.array([[1.5]])]
    biases = [np.array([0.0]), np.array([0.25])]
    y = np.array([[3.0]])
    _, gW, gb = loss_and_gradients(weights, biases, ["relu", "linear"], "mse", X, y)
    assert np.array_equal(gW[0], np.zeros((2, 1)))
    assert np.array_equal(gb[0], np.zeros(1))
    # The path through the dead unit is zero, but the output bias still learns: a − y = 0.25 − 3.
    assert gb[1][0] == pytest.approx(0.25 - 3.0)
    relu = ACTIVATIONS["relu"]
    z = np.array([[0.0, -0.0, 1e-300, -1e-300]])
    assert np.array_equal(relu.backprop(z, relu.forward(z), np.ones_like(z)), [[0.0, 0.0, 1.0, 0.0]])


def test_l1_subgradient_at_zero_weight_is_zero():
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=(2, 3)), rng.normal(size=(3, 1))]
    weights[0][1, 2] = 0.0
    weights[1][0, 0] = -0.0
    biases = [rng.normal(size=3), rng.normal(size=1)]
    X, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    acts = ["tanh", "linear"]
    J0, gW0, gb0 = loss_and_gradients(weights, biases, acts, "mse", X, y)
    l1 = 0.5
    J1, gW1, gb1 = loss_and_gradients(weights, biases, acts, "mse", X, y, l1=l1)
    assert J1 == pytest.approx(J0 + l1 * sum(np.abs(W).sum() for W in weights), rel=1e-14)
    for W, g0, g1 in zip(weights, gW0, gW1):
        np.testing.assert_allclose(g1 - g0, l1 * np.sign(W), rtol=0, atol=1e-15)
    assert gW1[0][1, 2] == gW0[0][1, 2]
    assert gW1[1][0, 0] == gW0[1][0, 0]
    # Biases are never regularised.
    for g0, g1 in zip(gb0, gb1):
        assert np.array_equal(g0, g1)


def test_l2_penalty_and_gradient_exclude_biases():
    rng = np.random.default_rng(4)
    weights = [rng.normal(size=(3, 2))]
    biases = [np.array([10.0, -20.0])]
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    J0, gW0, gb0 = loss_and_gradients(weights, biases, ["linear"], "mse", X, y)
    J2, gW2, gb2 = loss_and_gradients(weights, biases, ["linear"], "mse", X, y, l2=0.3)
    assert J2 == pytest.approx(J0 + 0.15 * float((weights[0] ** 2).sum()), rel=1e-14)
    np.testing.assert_allclose(gW2[0] - gW0[0], 0.3 * weights[0], rtol=1e-14, atol=1e-15)
    assert np.array_equal(gb0[0], gb2[0])


# ---------------------------------------------------------------------- numerical stability


@pytest.mark.parametrize("L", [1e3, 1e5])
def test_bce_with_huge_logits_is_finite_and_exact(L):
    # z = x·L: examples at +L with y = 1 (ℓ = 0) and y = 0 (ℓ = L), at −L with y = 0 (ℓ = 0)
    # and y = 1 (ℓ = L).  δ = σ(z) − y = 0, 1, 0, −1.
    X = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    y = np.array([[1.0], [0.0], [0.0], [1.0]])
    J, gW, gb = loss_and_gradients([np.array([[L]])], [np.zeros(1)], ["sigmoid"], "bce", X, y)
    assert J == L / 2
    assert gW[0][0, 0] == 0.5  # Σ x δ / n = (0 + 1 + 0 + 1) / 4
    assert gb[0][0] == 0.0  # (0 + 1 + 0 − 1) / 4
    assert np.isfinite(gW[0]).all() and np.isfinite(gb[0]).all()


@pytest.mark.parametrize("L", [1e3, 1e5])
def test_cross_entropy_with_huge_logits_is_finite_and_exact(L):
    W = np.array([[L, -L, 0.0], [-L, L, 0.0]])
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # logits [L, −L, 0], [L, −L, 0], [−L, L, 0]
    y = np.eye(3)[[0, 1, 2]]  # losses 0, 2L, L
    J, gW, gb = loss_and_gradients([W], [np.zeros(3)], ["softmax"], "cross_entropy", X, y)
    assert J == L  # (0 + 2L + L) / 3
    a = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # softmax limits
    delta = a - y
    assert np.array_equal(gW[0], X.T @ delta / 3)
    assert np.array_equal(gb[0], delta.sum(axis=0) / 3)


@pytest.mark.parametrize("L", [1e3, 1e5])
def test_huge_logits_do_not_swamp_small_losses_in_the_same_batch(L):
    """A confidently right example with huge logits adds 0 to the batch loss, exactly.

    Summing log-sum-exp over the batch *before* subtracting the target logits would round the
    small loss of the other example to the precision of L.
    """
    small = np.log1p(np.exp(-14.0))  # ℓ of logits [0, −14] with target class 0
    # Cross-entropy: the network is softmax on the identity, so the logits are the inputs.
    X = np.array([[L, -L], [0.0, -14.0]])
    y = np.array([[1.0, 0.0], [1.0, 0.0]])
    J, _, _ = loss_and_gradients([np.eye(2)], [np.zeros(2)], ["softmax"], "cross_entropy", X, y)
    assert J == pytest.approx(small / 2, rel=1e-12)
    # bce: logits L (target 1, ℓ = 0) and −14 (target 0, ℓ = log(1 + e^−14)).
    Xb = np.array([[L], [-14.0]])
    yb = np.array([[1.0], [0.0]])
    Jb, _, _ = loss_and_gradients([np.eye(1)], [np.zeros(1)], ["sigmoid"], "bce", Xb, yb)
    assert Jb == pytest.approx(small / 2, rel=1e-12)


@pytest.mark.parametrize("hidden", ALL_HIDDEN)
def test_huge_pre_activations_stay_finite_in_every_activation(hidden):
    act = ACTIVATIONS[hidden]
    z = np.array([[-1e5, -1e3, -50.0, 0.0, 50.0, 1e3, 1e5]])
    a = act.forward(z)
    g = act.backprop(z, a, np.ones_like(z))
    assert np.isfinite(a).all() and np.isfinite(g).all()


# -------------------------------------------------------------------- arguments and results


@pytest.mark.parametrize("path", list(OUTPUT_PATHS))
def test_arguments_are_never_modified(path):
    out_act, loss, kind = OUTPUT_PATHS[path]
    rng = np.random.default_rng(11)
    for hidden in (["linear"], ["relu", "linear"], ["tanh"]):
        W, b, acts, loss_name, X, y = make_problem(rng, [3] + [4] * len(hidden) + [3], hidden,
                                                   out_act, loss, kind, 6)
        saved = copy.deepcopy((W, b, acts, loss_name, X, y))
        J, gW, gb = loss_and_gradients(W, b, acts, loss_name, X, y, l1=0.1, l2=0.2)
        for before, after in zip(saved[:2], (W, b)):
            for p, q in zip(before, after):
                assert np.array_equal(p, q) and p.tobytes() == q.tobytes()
        assert acts == saved[2] and loss_name == saved[3]
        assert X.tobytes() == saved[4].tobytes() and y.tobytes() == saved[5].tobytes()
        # The results do not alias the arguments: writing to them changes nothing.
        for g in gW + gb:
            g[...] = 123.0
        for p, q in zip(saved[0] + saved[1], W + b):
            assert np.array_equal(p, q)
        assert X.tobytes() == saved[4].tobytes()


def test_outputs_are_float64_and_shaped_like_the_parameters():
    rng = np.random.default_rng(5)
    W, b, acts, loss, X, y = make_problem(rng, [3, 5, 2, 4], ["elu", "swish"], "softmax",
                                          "cross_entropy", "onehot", 7)
    # Integer and float32 inputs are accepted and promoted.
    W32 = [w.astype(np.float32) for w in W]
    for weights, Xin in ((W, X), (W32, X.astype(np.float32)), (W, np.round(X).astype(np.int64))):
        J, gW, gb = loss_and_gradients(weights, b, acts, loss, Xin, y, l2=0.01)
        assert isinstance(J, float)
        assert [g.shape for g in gW] == [w.shape for w in W]
        assert [g.shape for g in gb] == [v.shape for v in b]
        assert all(g.dtype == np.float64 for g in gW + gb)


def test_accepts_nested_lists():
    J, gW, gb = loss_and_gradients([[[1.0], [2.0]]], [[0.5]], ["linear"], "mse", [[1.0, 1.0]], [[3.0]])
    assert J == 0.125  # ½ (3.5 − 3)²
    assert np.array_equal(gW[0], [[0.5], [0.5]]) and np.array_equal(gb[0], [0.5])


# ------------------------------------------------------------------------------ bad input


def _good():
    rng = np.random.default_rng(0)
    W = [rng.normal(size=(2, 3)), rng.normal(size=(3, 1))]
    b = [np.zeros(3), np.zeros(1)]
    X = rng.normal(size=(4, 2))
    y = rng.integers(0, 2, (4, 1)).astype(float)
    return dict(weights=W, biases=b, activations=["tanh", "sigmoid"], loss="bce", X=X, y=y)


def _call(**overrides):
    args = _good()
    args.update(overrides)
    return loss_and_gradients(args["weights"], args["biases"], args["activations"], args["loss"],
                              args["X"], args["y"], l1=args.get("l1", 0.0), l2=args.get("l2", 0.0))


def test_good_arguments_work():
    J, _, _ = _call()
    assert np.isfinite(J)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"weights": [np.zeros((2, 3)), np.zeros((4, 1))]}, r"weights\[1\].*\(3, n_out\)"),
        ({"weights": [np.zeros((5, 3)), np.zeros((3, 1))]}, r"weights\[0\].*X has 2 columns"),
        ({"weights": [np.zeros(6), np.zeros((3, 1))]}, r"weights\[0\] must be 2-D"),
        ({"biases": [np.zeros(2), np.zeros(1)]}, r"biases\[0\] must have shape \(3,\)"),
        ({"biases": [np.zeros(3)]}, r"2 weight matrices but 1 bias"),
        ({"activations": ["tanh"]}, r"2 weight matrices but 1 activations"),
        ({"activations": ["tanh", "sigmoid", "relu"]}, r"activations"),
        ({"activations": ["gelu", "sigmoid"]}, r"unknown activation 'gelu'.*relu"),
        ({"activations": ["tanh", None]}, r"unknown activation"),
        ({"loss": "hinge"}, r"unknown loss 'hinge'.*mse"),
        ({"activations": ["softmax", "sigmoid"]}, r"softmax is allowed in the last layer only.*layer 0"),
        ({"activations": ["tanh", "tanh"]}, r"'bce' needs a sigmoid last layer.*'tanh'"),
        ({"activations": ["tanh", "softmax"]}, r"'bce' needs a sigmoid"),
        ({"activations": ["tanh", "sigmoid"], "loss": "cross_entropy"}, r"needs a softmax last layer"),
        ({"y": np.zeros(4)}, r"y must have shape \(4, 1\)"),
        ({"y": np.zeros((3, 1))}, r"y must have shape \(4, 1\)"),
        ({"y": np.zeros((4, 2))}, r"y must have shape \(4, 1\)"),
        ({"X": np.zeros(2)}, r"X must be 2-D"),
        ({"X": np.zeros((0, 2)), "y": np.zeros((0, 1))}, r"X has no rows"),
        ({"X": [["a", "b"]]}, r"X must be a numeric array"),
        ({"l1": -0.1}, r"l1 must be a finite number >= 0"),
        ({"l2": float("nan")}, r"l2 must be a finite number >= 0"),
        ({"l2": float("inf")}, r"l2 must be a finite number >= 0"),
    ],
)
def test_bad_arguments_raise_value_error_with_a_helpful_message(overrides, message):
    with pytest.raises(ValueError, match=message):
        _call(**overrides)


def test_network_constructor_validates():
    with pytest.raises(ValueError, match="non-empty"):
        Network([], "mse")
    with pytest.raises(ValueError, match="non-empty"):
        Network("tanh", "mse")
    with pytest.raises(ValueError, match="last layer only"):
        Network(["relu", "softmax", "softmax"], "cross_entropy")


# ------------------------------------------------------------------------ error signals δ


@pytest.mark.parametrize("path", list(OUTPUT_PATHS))
def test_deltas_give_the_weight_gradient_term_by_term(path):
    out_act, loss, kind = OUTPUT_PATHS[path]
    rng = np.random.default_rng(21)
    hidden = ["swish", "leaky_relu"]
    W, b, acts, loss, X, y = make_problem(rng, [3, 4, 3, 3], hidden, out_act, loss, kind, 5)
    l1, l2 = 0.02, 0.03
    net = Network(acts, loss)
    fwd = net.forward(W, b, X)
    back = net.backward(W, fwd, y, l1, l2)
    n = len(X)
    assert len(fwd.pre_activations) == 3 and len(fwd.activations) == 4
    assert fwd.activations[0] is X or np.array_equal(fwd.activations[0], X)
    assert len(back.deltas) == 3
    # The public function agrees with the Network passes.
    J, gW, gb = loss_and_gradients(W, b, acts, loss, X, y, l1=l1, l2=l2)
    assert J == back.objective
    for l in range(3):
        a_l, delta = fwd.activations[l], back.deltas[l]
        assert delta.shape == fwd.pre_activations[l].shape
        data_grad = a_l.T @ delta / n
        reg = l1 * np.sign(W[l]) + l2 * W[l]
        np.testing.assert_allclose(back.grad_weights[l], data_grad + reg, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(back.grad_biases[l], delta.sum(axis=0) / n, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(gW[l], back.grad_weights[l])
        # Term by term: example i alone has ∂ℓ_i/∂W_l = outer(a_l[i], δ_{l+1}[i]), ∂ℓ_i/∂b_l = δ_{l+1}[i].
        for i in range(n):
            _, gWi, gbi = loss_and_gradients(W, b, acts, loss, X[i : i + 1], y[i : i + 1])
            np.testing.assert_allclose(gWi[l], np.outer(a_l[i], delta[i]), rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(gbi[l], delta[i], rtol=1e-12, atol=1e-15)
    # The data loss is the mean per-example loss; the objective adds the penalties.
    per_example = [loss_and_gradients(W, b, acts, loss, X[i : i + 1], y[i : i + 1])[0] for i in range(n)]
    assert back.data_loss == pytest.approx(np.mean(per_example), rel=1e-12)
    penalty = l1 * sum(np.abs(w).sum() for w in W) + 0.5 * l2 * sum((w * w).sum() for w in W)
    assert back.objective == pytest.approx(back.data_loss + penalty, rel=1e-12)


def test_output_delta_is_a_minus_y_for_matched_losses():
    rng = np.random.default_rng(8)
    for out_act, loss, kind in (("sigmoid", "bce", "binary"), ("softmax", "cross_entropy", "soft"),
                                ("linear", "mse", "real")):
        W, b, acts, loss, X, y = make_problem(rng, [2, 3, 3], ["tanh"], out_act, loss, kind, 4)
        net = Network(acts, loss)
        fwd = net.forward(W, b, X)
        np.testing.assert_allclose(net.backward(W, fwd, y).deltas[-1], fwd.output - y, rtol=1e-13, atol=1e-15)


def test_forward_pass_records_z_and_a():
    rng = np.random.default_rng(9)
    W, b, acts, loss, X, y = make_problem(rng, [2, 3, 2], ["tanh"], "linear", "mse", "real", 4)
    fwd = Network(acts, loss).forward(W, b, X)
    z1 = X @ W[0] + b[0]
    np.testing.assert_allclose(fwd.pre_activations[0], z1, rtol=1e-15)
    np.testing.assert_allclose(fwd.activations[1], np.tanh(z1), rtol=1e-15)
    np.testing.assert_allclose(fwd.output, np.tanh(z1) @ W[1] + b[1], rtol=1e-14)
    assert fwd.batch_size == 4
    np.testing.assert_array_equal(Network(acts, loss).predict(W, b, X), fwd.output)
