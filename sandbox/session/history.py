"""Training history with bounded memory.

A :class:`Series` stores rows ``(step, weight, v_1 … v_k)``.  ``weight`` counts how many
original records a row stands for.  When the buffer fills, the *older half* is halved by merging
neighbouring rows (weighted means), so recent history stays at full resolution while old history
grows coarser geometrically: memory is fixed at ``capacity`` rows however long the run is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Array = np.ndarray

DEFAULT_CAPACITY = 1 << 15
MAX_MARKERS = 10_000


class Series:
    """An append-only table of (step, weight, values…) that downsamples its past.

    Parameters
    ----------
    columns
        Names of the value columns.
    capacity
        Maximum number of rows kept (even, ≥ 4).
    """

    def __init__(self, columns: tuple[str, ...], capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.columns = tuple(columns)
        self.capacity = capacity
        self._rows = np.empty((16, 2 + len(columns)), dtype=np.float64)
        self._n = 0
        #: Bumped whenever existing rows change (downsampling, clearing), so a reader that
        #: copied rows [0, n) knows whether it may fetch just the new ones.
        self.revision = 0

    def __len__(self) -> int:
        return self._n

    def append(self, step: float, *values: float) -> None:
        """Record one row (weight 1)."""
        if self._n == len(self._rows):
            self._make_room()
        row = self._rows[self._n]
        row[0] = step
        row[1] = 1.0
        row[2:] = values
        self._n += 1

    def _make_room(self) -> None:
        if len(self._rows) < self.capacity:
            grown = np.empty((min(2 * len(self._rows), self.capacity), self._rows.shape[1]))
            grown[: self._n] = self._rows[: self._n]
            self._rows = grown
            return
        # Merge pairs in the older half: rows [0, half) become [0, half/2).
        half = self._n // 2
        half -= half % 2
        old = self._rows[:half]
        a, b = old[0::2], old[1::2]
        w = a[:, 1:2] + b[:, 1:2]
        merged = np.empty_like(a)
        merged[:, 1:2] = w
        # Weighted means of step and values; NaN values (no data) stay NaN only if both are.
        for col in range(merged.shape[1]):
            if col == 1:
                continue
            merged[:, col] = _weighted_mean(a[:, col], a[:, 1], b[:, col], b[:, 1])
        keep = self._n - half
        self._rows[: len(merged)] = merged
        self._rows[len(merged) : len(merged) + keep] = self._rows[half : self._n]
        self._n = len(merged) + keep
        self.revision += 1

    def array(self, start: int = 0) -> Array:
        """A copy of rows [start, n), (n − start, 2 + k): step, weight, values."""
        return self._rows[start : self._n].copy()

    def steps(self) -> Array:
        return self._rows[: self._n, 0].copy()

    def column(self, name: str) -> Array:
        return self._rows[: self._n, 2 + self.columns.index(name)].copy()

    def last(self) -> Array | None:
        """The newest row, or None if empty."""
        return self._rows[self._n - 1].copy() if self._n else None

    def clear(self) -> None:
        self._n = 0
        self.revision += 1

    @classmethod
    def from_array(cls, columns: tuple[str, ...], rows: Array, capacity: int = DEFAULT_CAPACITY) -> "Series":
        series = cls(columns, capacity)
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 2 + len(columns))
        series._rows = np.empty((max(16, len(rows)), rows.shape[1]))
        series._rows[: len(rows)] = rows
        series._n = len(rows)
        return series


def _weighted_mean(x: Array, wx: Array, y: Array, wy: Array) -> Array:
    fx, fy = np.isfinite(x), np.isfinite(y)
    wx = np.where(fx, wx, 0.0)
    wy = np.where(fy, wy, 0.0)
    total = wx + wy
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.where(fx, x, 0.0) * wx + np.where(fy, y, 0.0) * wy) / total
    return np.where(total > 0, mean, np.nan)


@dataclass(frozen=True)
class Marker:
    """A manual edit shown on the loss plot: the step it happened before and what changed."""

    step: int
    text: str


@dataclass
class History:
    """Everything a run records.

    Attributes
    ----------
    steps
        One row per training step: the mini-batch data loss and ‖∂J/∂W_l‖ for every layer.
    evaluations
        Full-set losses (and accuracies for classification), at least once per epoch and on
        demand.  A value is NaN where it does not exist (no test set, regression accuracy).
    markers
        Manual edits (weights, biases, hyperparameters), newest last, at most ``MAX_MARKERS``.
    """

    steps: Series
    evaluations: Series
    markers: list[Marker] = field(default_factory=list)

    EVALUATION_COLUMNS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")

    @classmethod
    def empty(cls, n_layers: int) -> "History":
        step_columns = ("loss",) + tuple(f"grad_norm_{l}" for l in range(n_layers))
        return cls(Series(step_columns), Series(cls.EVALUATION_COLUMNS))

    def add_marker(self, step: int, text: str) -> None:
        self.markers.append(Marker(step, text))
        if len(self.markers) > MAX_MARKERS:
            del self.markers[: len(self.markers) - MAX_MARKERS]

    def nbytes(self) -> int:
        return self.steps._rows.nbytes + self.evaluations._rows.nbytes
