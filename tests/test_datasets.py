"""Built-in data generators and the input features computed from them."""

from __future__ import annotations

import numpy as np
import pytest

from sandbox.session.datasets import (
    CLASSIFICATION,
    GENERATORS,
    MAX_POINTS,
    REGRESSION,
    generate,
)
from sandbox.session.features import (
    FEATURES_1D,
    FEATURES_2D,
    available_features,
    check_features,
    default_features,
    feature_labels,
    feature_matrix,
)

BINARY = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSIONS = ("plane", "multigauss", "sine")
ALL = BINARY + ("blobs",) + REGRESSIONS


def test_every_generator_is_covered():
    assert set(GENERATORS) == set(ALL)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("n", [2, 3, 101, 600])
def test_shapes_and_dtypes(name, n):
    ds = generate(name, n_points=n, noise=0.3, train_fraction=0.5, seed=1)
    d = 1 if name == "sine" else 2
    assert len(ds) == n
    assert ds.inputs.shape == (n, d) and ds.inputs.dtype == np.float64
    assert ds.targets.shape == (n,) and ds.targets.dtype == np.float64
    assert ds.is_train.shape == (n,) and ds.is_train.dtype == np.bool_
    assert ds.n_inputs == d
    assert ds.input_names == (("x",) if d == 1 else ("x1", "x2"))
    assert np.isfinite(ds.inputs).all() and np.isfinite(ds.targets).all()
    assert ds.inputs.flags.c_contiguous
    # The arrays are frozen so a run cannot corrupt its data by accident.
    assert not ds.inputs.flags.writeable and not ds.targets.flags.writeable


@pytest.mark.parametrize("name", BINARY)
def test_binary_classification_labels(name):
    ds = generate(name, n_points=400, noise=0.2, seed=2)
    assert ds.task == CLASSIFICATION and ds.is_classification
    assert ds.n_classes == 2 and ds.class_names == ("0", "1")
    assert set(np.unique(ds.targets)) == {0.0, 1.0}
    # Both classes are reasonably represented.
    assert 0.25 < ds.targets.mean() < 0.75


def test_blobs_has_three_classes():
    ds = generate("blobs", n_points=300, noise=0.1, seed=2)
    assert ds.task == CLASSIFICATION
    assert ds.n_classes == 3 and ds.class_names == ("0", "1", "2")
    values, counts = np.unique(ds.targets, return_counts=True)
    assert list(values) == [0.0, 1.0, 2.0]
    assert list(counts) == [100, 100, 100]


@pytest.mark.parametrize("name", REGRESSIONS)
def test_regression_targets_are_real_valued(name):
    ds = generate(name, n_points=300, noise=0.2, seed=2)
    assert ds.task == REGRESSION and not ds.is_classification
    assert ds.n_classes == 0 and ds.class_names == ()
    assert len(np.unique(ds.targets)) > 250  # continuous, not labels
    assert not np.all(ds.targets == np.round(ds.targets))


def test_sine_is_one_dimensional_and_follows_sin_x_without_noise():
    ds = generate("sine", n_points=200, noise=0.0, seed=4)
    assert ds.inputs.shape == (200, 1)
    np.testing.assert_allclose(ds.targets, np.sin(ds.inputs[:, 0]), rtol=0, atol=1e-15)
    assert np.all(np.abs(ds.inputs) <= 6.0)


def test_noiseless_generators_follow_their_rules():
    circle = generate("circle", 500, 0.0, seed=3)
    r = np.hypot(circle.inputs[:, 0], circle.inputs[:, 1])
    assert np.array_equal(circle.targets == 1, r < 2.5)
    assert r.max() <= 5.0 and not np.any((r >= 2.5) & (r < 3.5))
    xor = generate("xor", 500, 0.0, seed=3)
    assert np.array_equal(xor.targets == 1, xor.inputs[:, 0] * xor.inputs[:, 1] >= 0)
    assert np.abs(xor.inputs).min() >= 0.3
    plane = generate("plane", 500, 0.0, seed=3)
    np.testing.assert_allclose(plane.targets, plane.inputs.sum(axis=1) / 10, rtol=1e-15, atol=1e-15)
    assert np.abs(plane.inputs).max() <= 6.0
    gauss = generate("gauss", 500, 0.0, seed=3)
    centre1 = gauss.inputs[gauss.targets == 1].mean(axis=0)
    centre0 = gauss.inputs[gauss.targets == 0].mean(axis=0)
    np.testing.assert_allclose(centre1, [2, 2], atol=0.3)
    np.testing.assert_allclose(centre0, [-2, -2], atol=0.3)
    multigauss = generate("multigauss", 500, 0.0, seed=3)
    assert np.abs(multigauss.targets).max() <= 1.0 + 1e-9


@pytest.mark.parametrize("name", ALL)
def test_same_seed_gives_bit_identical_data(name):
    a = generate(name, n_points=257, noise=0.4, train_fraction=0.7, seed=12345)
    b = generate(name, n_points=257, noise=0.4, train_fraction=0.7, seed=12345)
    assert a.inputs.tobytes() == b.inputs.tobytes()
    assert a.targets.tobytes() == b.targets.tobytes()
    assert a.is_train.tobytes() == b.is_train.tobytes()


@pytest.mark.parametrize("name", ALL)
def test_different_seed_gives_different_data(name):
    a = generate(name, n_points=200, noise=0.4, seed=1)
    b = generate(name, n_points=200, noise=0.4, seed=2)
    assert not np.array_equal(a.inputs, b.inputs)
    assert not np.array_equal(a.is_train, b.is_train)


@pytest.mark.parametrize("name", ["circle", "blobs", "sine"])
@pytest.mark.parametrize("n, fraction", [(500, 0.5), (500, 0.8), (333, 0.1), (10, 1.0), (7, 0.01), (2, 0.5)])
def test_train_fraction_is_respected(name, n, fraction):
    ds = generate(name, n_points=n, noise=0.0, train_fraction=fraction, seed=6)
    expected = min(n, max(1, round(n * fraction)))
    assert ds.is_train.sum() == expected
    assert len(ds.train_indices) == expected and len(ds.test_indices) == n - expected
    assert np.array_equal(np.sort(np.concatenate([ds.train_indices, ds.test_indices])), np.arange(n))
    assert np.all(ds.is_train[ds.train_indices]) and not np.any(ds.is_train[ds.test_indices])


def test_the_split_is_random_not_a_prefix():
    ds = generate("plane", 400, 0.0, train_fraction=0.5, seed=9)
    assert not np.all(ds.is_train[:200])


def test_noise_changes_the_data():
    clean = generate("spiral", 200, 0.0, seed=1)
    noisy = generate("spiral", 200, 1.0, seed=1)
    assert not np.array_equal(clean.inputs, noisy.inputs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="checkerboard"), "unknown dataset 'checkerboard'"),
        (dict(n_points=1), "number of points"),
        (dict(n_points=0), "number of points"),
        (dict(n_points=MAX_POINTS + 1), "number of points"),
        (dict(n_points=10.0), "number of points"),
        (dict(n_points=True), "number of points"),
        (dict(noise=-0.01), "noise"),
        (dict(noise=1.01), "noise"),
        (dict(noise=float("nan")), "noise"),
        (dict(train_fraction=0.0), "train fraction"),
        (dict(train_fraction=1.5), "train fraction"),
        (dict(train_fraction=float("nan")), "train fraction"),
        (dict(seed=-1), "seed"),
        (dict(seed=2**63), "seed"),
        (dict(seed=1.5), "seed"),
    ],
)
def test_bad_parameters_raise_value_error(kwargs, message):
    args = dict(name="circle", n_points=100, noise=0.0, train_fraction=0.5, seed=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        generate(**args)


def test_extreme_but_valid_parameters():
    ds = generate("moons", n_points=MAX_POINTS, noise=1.0, train_fraction=1.0, seed=2**63 - 1)
    assert len(ds) == MAX_POINTS and ds.is_train.all()
    assert np.isfinite(ds.inputs).all()


# ----------------------------------------------------------------------------- features


def test_two_dimensional_feature_set():
    rng = np.random.default_rng(0)
    X = rng.uniform(-6, 6, (50, 2))
    names = ("x1", "x2")
    keys = [f.key for f in FEATURES_2D]
    assert keys == ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"]
    M = feature_matrix(X, names, keys)
    x1, x2 = X[:, 0], X[:, 1]
    expected = np.column_stack([x1, x2, x1 * x1, x2 * x2, x1 * x2, np.sin(x1), np.sin(x2)])
    np.testing.assert_allclose(M, expected, rtol=1e-15, atol=0)
    assert M.dtype == np.float64 and M.shape == (50, 7) and M.flags.c_contiguous
    assert feature_labels(names, keys) == ("x1", "x2", "x1²", "x2²", "x1·x2", "sin x1", "sin x2")
    assert available_features(names) == FEATURES_2D
    assert default_features(names) == ("x1", "x2")


def test_one_dimensional_feature_set():
    X = np.linspace(-6, 6, 31).reshape(-1, 1)
    keys = [f.key for f in FEATURES_1D]
    assert keys == ["x", "x_sq", "sin_x"]
    M = feature_matrix(X, ("x",), keys)
    x = X[:, 0]
    np.testing.assert_allclose(M, np.column_stack([x, x * x, np.sin(x)]), rtol=1e-15, atol=0)
    assert feature_labels(("x",), keys) == ("x", "x²", "sin x")
    assert default_features(("x",)) == ("x",)


def test_features_come_in_canonical_order_whatever_the_order_enabled():
    X = np.array([[2.0, 3.0]])
    M = feature_matrix(X, ("x1", "x2"), ["x1_x2", "x1", "x2_sq"])
    assert M.tolist() == [[2.0, 9.0, 6.0]]
    assert check_features(("x1", "x2"), ["sin_x2", "x1"]) == ("x1", "sin_x2")


def test_more_than_two_columns_offer_the_raw_columns():
    names = ("a", "b", "c")
    X = np.arange(12.0).reshape(4, 3)
    assert [f.key for f in available_features(names)] == ["a", "b", "c"]
    assert default_features(names) == names
    np.testing.assert_array_equal(feature_matrix(X, names, ["c", "a"]), X[:, [0, 2]])


@pytest.mark.parametrize(
    "enabled, message",
    [(["x3"], "unknown input feature"), (["x1", "x1"], "listed twice"), ([], "at least one")],
)
def test_bad_feature_selections_raise(enabled, message):
    with pytest.raises(ValueError, match=message):
        check_features(("x1", "x2"), enabled)
