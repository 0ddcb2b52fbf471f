"""Built-in data generators and the ``Dataset`` value every run trains on.

The 2-D generators follow TensorFlow Playground's: inputs lie in the square [−6, 6]², and
``noise`` in [0, 1] scales the perturbation (1 is Playground's 50 % slider).  Class labels are
integers 0 … k−1; regression targets are floats.  Every generator is a pure function of its
parameters: the same seed gives bit-identical data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

Array = np.ndarray

#: Half-width of the input square the 2-D generators fill and the output view shows.
DOMAIN = 6.0

CLASSIFICATION = "classification"
REGRESSION = "regression"

MAX_POINTS = 100_000


@dataclass(frozen=True, eq=False)
class Dataset:
    """Inputs, targets and the train/test split.

    Attributes
    ----------
    name
        Generator name, or the CSV file name for imported data.
    task
        ``"classification"`` or ``"regression"``.
    inputs
        Raw inputs, (n, d) float64.
    targets
        (n,) float64: class indices 0 … k−1 for classification, values for regression.
    is_train
        (n,) bool mask: True for training examples, False for test examples.
    input_names
        One name per input column.
    class_names
        Display name of each class (classification only).
    target_name
        The target column's name.
    """

    name: str
    task: str
    inputs: Array
    targets: Array
    is_train: Array
    input_names: tuple[str, ...]
    class_names: tuple[str, ...] = ()
    target_name: str = "y"
    train_indices: Array = field(init=False, repr=False)
    test_indices: Array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for arr in (self.inputs, self.targets, self.is_train):
            arr.setflags(write=False)
        train = np.flatnonzero(self.is_train)
        test = np.flatnonzero(~self.is_train)
        train.setflags(write=False)
        test.setflags(write=False)
        object.__setattr__(self, "train_indices", train)
        object.__setattr__(self, "test_indices", test)

    @property
    def n_inputs(self) -> int:
        return self.inputs.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.task == CLASSIFICATION else 0

    @property
    def is_classification(self) -> bool:
        return self.task == CLASSIFICATION

    def __len__(self) -> int:
        return len(self.inputs)


def split_mask(n: int, train_fraction: float, rng: np.random.Generator) -> Array:
    """A random train mask with round(n·train_fraction) True entries (at least one)."""
    n_train = min(n, max(1, int(round(n * train_fraction))))
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[:n_train]] = True
    return mask


# --- classification -------------------------------------------------------------------------


def _circle(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Class 1 inside radius 0.5·R, class 0 in the ring 0.7·R … R (R = 5).

    As in Playground, noise perturbs the point used for labelling, not the stored point, so
    noisy data shows up as mislabelled points near the boundary.
    """
    radius = 5.0
    half = n // 2
    r = np.concatenate(
        [rng.uniform(0.0, 0.5 * radius, half), rng.uniform(0.7 * radius, radius, n - half)]
    )
    angle = rng.uniform(0.0, 2 * np.pi, n)
    points = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    noisy = points + rng.uniform(-radius, radius, (n, 2)) * (0.5 * noise)
    labels = (np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5).astype(np.float64)
    return points, labels


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Quadrants: class 1 where x1·x2 ≥ 0; points kept 0.3 away from the axes.

    Noise perturbs the point used for labelling, as in Playground.
    """
    points = rng.uniform(-5.0, 5.0, (n, 2))
    points += np.where(points > 0, 0.3, -0.3)
    noisy = points + rng.uniform(-5.0, 5.0, (n, 2)) * (0.5 * noise)
    labels = (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.float64)
    return points, labels


def _gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two Gaussian clouds around (2, 2) (class 1) and (−2, −2) (class 0)."""
    sd = np.sqrt(0.5 + 3.5 * noise)  # Playground's variance runs 0.5 … 4 with noise
    half = n // 2
    labels = np.concatenate([np.ones(half), np.zeros(n - half)])
    centres = np.where(labels[:, None] == 1, 2.0, -2.0)
    return centres + rng.normal(0.0, sd, (n, 2)), labels


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two interleaved spirals, half a turn apart."""
    half = n // 2
    labels = np.concatenate([np.ones(half), np.zeros(n - half)])
    i = np.concatenate([np.arange(half), np.arange(n - half)]).astype(np.float64)
    count = np.where(labels == 1, half, n - half)
    r = i / np.maximum(count, 1) * 5.0
    t = 1.75 * i / np.maximum(count, 1) * 2 * np.pi + np.where(labels == 1, 0.0, np.pi)
    points = np.column_stack([r * np.sin(t), r * np.cos(t)])
    points += rng.uniform(-1.0, 1.0, (n, 2)) * (0.5 * noise)
    return points, labels


def _moons(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two interleaving half circles (scikit-learn's make_moons, scaled to the domain)."""
    half = n // 2
    t_top = rng.uniform(0.0, np.pi, half)
    t_bottom = rng.uniform(0.0, np.pi, n - half)
    top = np.column_stack([np.cos(t_top), np.sin(t_top)])
    bottom = np.column_stack([1.0 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)])
    points = np.vstack([top, bottom]) - [0.5, 0.25]
    points = points * 3.0 + rng.normal(0.0, 1.0, (n, 2)) * (0.9 * noise)
    labels = np.concatenate([np.zeros(half), np.ones(n - half)])
    return points, labels


def _blobs(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Three Gaussian blobs at the corners of a triangle: a 3-class problem for softmax."""
    angles = np.pi / 2 + np.arange(3) * 2 * np.pi / 3
    centres = 3.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    labels = np.arange(n) % 3
    sd = 0.6 + 2.0 * noise
    points = centres[labels] + rng.normal(0.0, sd, (n, 2))
    return points, labels.astype(np.float64)


# --- regression -----------------------------------------------------------------------------


def _plane(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """y = (x1 + x2) / 10, labelled at a noise-perturbed point as in Playground."""
    points = rng.uniform(-DOMAIN, DOMAIN, (n, 2))
    noisy = points + rng.uniform(-DOMAIN, DOMAIN, (n, 2)) * (0.5 * noise)
    return points, (noisy[:, 0] + noisy[:, 1]) / 10.0


_GAUSS_BUMPS = np.array(
    # (centre x1, centre x2, sign): Playground's six bumps
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
    dtype=np.float64,
)


def _multigauss(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """A sum of six signed Gaussian bumps in [−1, 1]."""
    points = rng.uniform(-DOMAIN, DOMAIN, (n, 2))
    d2 = ((points[:, None, :] - _GAUSS_BUMPS[None, :, :2]) ** 2).sum(axis=2)
    target = (_GAUSS_BUMPS[:, 2] * np.exp(-d2 / 2.0)).sum(axis=1)
    return points, target + rng.uniform(-1.0, 1.0, n) * noise * 0.5


def _sine(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """1-D: y = sin x + noise, x in [−6, 6]."""
    x = rng.uniform(-DOMAIN, DOMAIN, (n, 1))
    return x, np.sin(x[:, 0]) + rng.normal(0.0, 1.0, n) * noise * 0.5


@dataclass(frozen=True)
class Generator:
    """A built-in dataset: its task, class count and the function that draws it."""

    name: str
    task: str
    n_classes: int
    n_inputs: int
    draw: Callable[[int, float, np.random.Generator], tuple[Array, Array]]
    description: str


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        Generator("circle", CLASSIFICATION, 2, 2, _circle, "a disc inside a ring"),
        Generator("xor", CLASSIFICATION, 2, 2, _xor, "opposite quadrants share a class"),
        Generator("gauss", CLASSIFICATION, 2, 2, _gauss, "two Gaussian clouds"),
        Generator("spiral", CLASSIFICATION, 2, 2, _spiral, "two interleaved spirals"),
        Generator("moons", CLASSIFICATION, 2, 2, _moons, "two interleaving half moons"),
        Generator("blobs", CLASSIFICATION, 3, 2, _blobs, "three blobs, three classes (softmax)"),
        Generator("plane", REGRESSION, 0, 2, _plane, "a tilted plane"),
        Generator("multigauss", REGRESSION, 0, 2, _multigauss, "six signed Gaussian bumps"),
        Generator("sine", REGRESSION, 0, 1, _sine, "1-D: y = sin x + noise"),
    )
}


def generate(
    name: str,
    n_points: int = 500,
    noise: float = 0.0,
    train_fraction: float = 0.5,
    seed: int = 0,
) -> Dataset:
    """Draw a built-in dataset.

    Parameters
    ----------
    name
        One of ``GENERATORS``.
    n_points
        Total number of examples, 2 … 100,000.
    noise
        0 (clean) … 1 (very noisy).
    train_fraction
        Share of examples used for training, in (0, 1]; the rest are the test set.
    seed
        Seeds both the points and the split.
    """
    if name not in GENERATORS:
        raise ValueError(f"unknown dataset {name!r}; expected one of: {', '.join(GENERATORS)}")
    check_generator_params(n_points, noise, train_fraction, seed)
    gen = GENERATORS[name]
    rng = np.random.default_rng(seed)
    inputs, targets = gen.draw(int(n_points), float(noise), rng)
    is_train = split_mask(len(inputs), train_fraction, rng)
    names = ("x1", "x2") if gen.n_inputs == 2 else ("x",)
    class_names = tuple(str(k) for k in range(gen.n_classes))
    return Dataset(
        name=name,
        task=gen.task,
        inputs=np.ascontiguousarray(inputs, dtype=np.float64),
        targets=np.ascontiguousarray(targets, dtype=np.float64),
        is_train=is_train,
        input_names=names,
        class_names=class_names,
    )


def check_generator_params(n_points: int, noise: float, train_fraction: float, seed: int) -> None:
    """Raise ValueError unless the generator parameters are in range."""
    if not isinstance(n_points, (int, np.integer)) or not 2 <= n_points <= MAX_POINTS:
        raise ValueError(f"number of points must be an integer in 2 … {MAX_POINTS}, got {n_points!r}")
    if not 0.0 <= float(noise) <= 1.0:
        raise ValueError(f"noise must be in [0, 1], got {noise!r}")
    if not 0.0 < float(train_fraction) <= 1.0:
        raise ValueError(f"train fraction must be in (0, 1], got {train_fraction!r}")
    if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an integer in 0 … 2**63 − 1, got {seed!r}")
