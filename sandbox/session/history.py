"""Training history with bounded memory.

A :class:`Series` stores rows ``(step, weight, v_1 … v_k)``; ``weight`` counts how many original
records a row stands for, and a row's values are the weighted means of those records.

Old history is downsampled in levels, like a binary counter: rows of equal weight form a level,
and levels get coarser towards the past (…, 4, 4, 2, 2, 1, 1, 1).  When a level holds
``2·M`` rows, its oldest ``M`` rows are merged pairwise into the next coarser level.  So the
newest ``M … 2M`` records stay at full resolution, every level keeps at least ``M`` rows (a
million steps with M = 2048 keep ~1,000 points for the first half of the run), memory grows only
with the logarithm of the run length, and a hard ``capacity`` caps it outright.  Merges happen
in bulk every ``M`` appends at most, so readers can copy just the new rows in between (see
``revision``).

The rows alone do not say when the next merge is due: :attr:`Series.appends_since_compaction`
does, and a saved series keeps it (``from_array``), so a series saved, loaded and continued
holds exactly the rows of one that never stopped.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

import numpy as np

Array = np.ndarray

#: Revision numbers are unique across every series in the process, so a reader's cursor from
#: one series (say, before a Reset replaced the history) is never mistaken for another's.
_revisions = itertools.count(1)

DEFAULT_CAPACITY = 1 << 16
DEFAULT_LEVEL_ROWS = 2048
MAX_MARKERS = 10_000
#: Longest marker text kept (session files read back at most this much).
MAX_MARKER_TEXT = 1000


class Series:
    """An append-only table of (step, weight, values…) that downsamples its past.

    Parameters
    ----------
    columns
        Names of the value columns.
    capacity
        Maximum number of rows kept (even, ≥ 4).
    level_rows
        M: rows merged at once.  Clipped to a quarter of ``capacity``.
    """

    def __init__(self, columns: tuple[str, ...], capacity: int = DEFAULT_CAPACITY,
                 level_rows: int = DEFAULT_LEVEL_ROWS) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.columns = tuple(columns)
        self.capacity = capacity
        self.level_rows = max(2, min(level_rows, capacity // 4) // 2 * 2)
        # Start small but never above capacity.
        self._rows = np.empty((min(16, capacity), 2 + len(columns)), dtype=np.float64)
        self._n = 0
        self._appends_since_compaction = 0
        #: Changes whenever existing rows change (downsampling, clearing); see
        #: ``unchanged_prefix``.
        self.revision = next(_revisions)
        #: (revision before, revision after, first changed row) of recent changes.
        self._changes: deque[tuple[int, int, int]] = deque(maxlen=256)

    def unchanged_prefix(self, revision: int, count: int) -> int:
        """How many leading rows a reader that copied rows [0, count) at ``revision`` still holds
        unchanged.  The reader drops its rows from there on and copies ``array(prefix)``.
        An unknown revision (another series, or older than the change log) gives 0."""
        prefix = min(count, self._n)
        if revision == self.revision:
            return prefix
        following = False
        for before, _after, start in self._changes:
            following = following or before == revision
            if following:
                prefix = min(prefix, start)
        return prefix if following else 0

    def _changed(self, start: int) -> None:
        before, self.revision = self.revision, next(_revisions)
        self._changes.append((before, self.revision, start))

    def __len__(self) -> int:
        return self._n

    @property
    def appends_since_compaction(self) -> int:
        """Appends since the last merge check, in [0, M): the next check comes at M."""
        return self._appends_since_compaction

    def append(self, step: float, *values: float) -> None:
        """Record one row (weight 1)."""
        if self._n == len(self._rows):
            self._make_room()
        row = self._rows[self._n]
        row[0] = step
        row[1] = 1.0
        row[2:] = values
        self._n += 1
        self._appends_since_compaction += 1
        if self._appends_since_compaction >= self.level_rows:
            self._compact()

    def _make_room(self) -> None:
        if len(self._rows) < self.capacity:
            grown = np.empty((min(2 * len(self._rows), self.capacity), self._rows.shape[1]))
            grown[: self._n] = self._rows[: self._n]
            self._rows = grown
            return
        self._compact()
        if self._n == self.capacity:
            # Every level is within bounds yet the table is full (an extremely long run):
            # halve the older half outright.
            half = self._n // 2
            self._merge_pairs(0, half - half % 2)

    def _compact(self) -> None:
        """Merge the oldest M rows of every level that has grown to 2M rows."""
        self._appends_since_compaction = 0
        m = self.level_rows
        while True:
            w = self._rows[: self._n, 1]
            starts = np.flatnonzero(np.r_[True, w[1:] != w[:-1]])
            ends = np.r_[starts[1:], self._n]
            full = [(s, e) for s, e in zip(starts, ends) if e - s >= 2 * m]
            if not full:
                return
            start = full[-1][0]  # the finest full level first; coarser ones are checked again
            self._merge_pairs(int(start), int(start) + m)

    def _merge_pairs(self, start: int, stop: int) -> None:
        """Replace rows [start, stop) (an even count) by the weighted means of their pairs."""
        block = self._rows[start:stop]
        a, b = block[0::2], block[1::2]
        merged = np.empty_like(a)
        merged[:, 1] = a[:, 1] + b[:, 1]
        for col in range(merged.shape[1]):
            if col != 1:
                merged[:, col] = _weighted_mean(a[:, col], a[:, 1], b[:, col], b[:, 1])
        tail = self._rows[stop : self._n].copy()
        self._rows[start : start + len(merged)] = merged
        self._rows[start + len(merged) : start + len(merged) + len(tail)] = tail
        self._n = start + len(merged) + len(tail)
        self._changed(start)

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
        self._appends_since_compaction = 0
        self._changed(0)

    def until(self, step: float) -> "Series":
        """A copy without the rows recorded after ``step`` (a branch's past).  Its merge phase
        counts the trailing full-resolution rows, as if the series had stopped there."""
        rows = self.array()
        rows = rows[rows[:, 0] <= step]
        merged = np.flatnonzero(rows[:, 1] != 1.0)
        trailing = len(rows) - (merged[-1] + 1 if len(merged) else 0)
        return Series.from_array(self.columns, rows, self.capacity, trailing % self.level_rows)

    def copy(self) -> "Series":
        """An independent copy with the same rows and merge phase (what a save writes)."""
        return Series.from_array(self.columns, self.array(), self.capacity, self._appends_since_compaction)

    def padded(self, columns: tuple[str, ...]) -> "Series":
        """A copy with value columns ``columns`` (this series' own first, then new ones, which
        are NaN in every row), keeping the merge phase."""
        if tuple(columns[: len(self.columns)]) != self.columns:
            raise ValueError("padded columns must start with the series' own")
        rows = np.full((self._n, 2 + len(columns)), np.nan)
        rows[:, : self._rows.shape[1]] = self._rows[: self._n]
        return Series.from_array(tuple(columns), rows, self.capacity, self._appends_since_compaction)

    @classmethod
    def from_array(cls, columns: tuple[str, ...], rows: Array, capacity: int = DEFAULT_CAPACITY,
                   appends_since_compaction: int | None = None) -> "Series":
        """A series holding ``rows`` (as ``array()`` returned them).

        ``appends_since_compaction`` is the saved merge phase.  When None (files written before
        it was saved) it is the number of records the rows stand for modulo M: the phase of a
        series that was never stopped and has not filled its capacity.
        """
        series = cls(columns, capacity)
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 2 + len(columns))
        if len(rows) > capacity:
            raise ValueError(f"{len(rows)} rows do not fit a series of capacity {capacity}")
        series._rows = np.empty((max(min(16, capacity), len(rows)), rows.shape[1]))
        series._rows[: len(rows)] = rows
        series._n = len(rows)
        if appends_since_compaction is None:
            records = float(rows[:, 1].sum()) if len(rows) else 0.0
            appends_since_compaction = int(records) % series.level_rows if np.isfinite(records) else 0
        if not 0 <= appends_since_compaction < series.level_rows:
            raise ValueError(f"appends since compaction must be in 0 … {series.level_rows - 1}")
        series._appends_since_compaction = appends_since_compaction
        return series


def _weighted_mean(x: Array, wx: Array, y: Array, wy: Array) -> Array:
    fx, fy = np.isfinite(x), np.isfinite(y)
    wx = np.where(fx, wx, 0.0)
    wy = np.where(fy, wy, 0.0)
    total = wx + wy
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.where(fx, x, 0.0) * wx + np.where(fy, y, 0.0) * wy) / total
    return np.where(total > 0, mean, np.nan)


def grad_norm_columns(n_layers: int) -> tuple[str, ...]:
    """The step columns of ‖∂J/∂W_l‖, one per weight layer."""
    return tuple(f"grad_norm_{l}" for l in range(n_layers))


def update_ratio_columns(n_layers: int) -> tuple[str, ...]:
    """The step columns of ‖ΔW_l‖/‖W_l‖, one per weight layer."""
    return tuple(f"update_ratio_{l}" for l in range(n_layers))


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
        One row per training step: the mini-batch data loss, ‖∂J/∂W_l‖ for every layer
        (``grad_norm_<l>``), then ‖ΔW_l‖/‖W_l‖ for every layer (``update_ratio_<l>``, W before
        the step's update; NaN where ‖W_l‖ = 0 or in files written before format 3).
    evaluations
        Full-set losses (and accuracies for classification), at least once per epoch and on
        demand.  A value is NaN where it does not exist (no test set, regression accuracy).
    markers
        Manual edits (weights, biases, hyperparameters), newest last, at most ``MAX_MARKERS``.
    """

    steps: Series
    evaluations: Series
    markers: list[Marker] = field(default_factory=list)
    #: Changes with every marker added or rewritten (a reader's cursor compares it).
    markers_revision: int = field(default_factory=lambda: next(_revisions))

    EVALUATION_COLUMNS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")

    @classmethod
    def empty(cls, n_layers: int) -> "History":
        step_columns = ("loss",) + grad_norm_columns(n_layers) + update_ratio_columns(n_layers)
        return cls(Series(step_columns), Series(cls.EVALUATION_COLUMNS))

    def add_marker(self, step: int, text: str, replaces_last: bool = False) -> None:
        """Record an edit.  ``replaces_last`` folds a burst of edits to one value (a slider
        drag between two steps) into a single marker instead of one per mouse move."""
        if len(text) > MAX_MARKER_TEXT:
            text = text[: MAX_MARKER_TEXT - 1] + "…"
        self.markers_revision = next(_revisions)
        if replaces_last and self.markers:
            self.markers[-1] = Marker(step, text)
            return
        self.markers.append(Marker(step, text))
        if len(self.markers) > MAX_MARKERS:
            del self.markers[: len(self.markers) - MAX_MARKERS]

    def until(self, step: int) -> "History":
        """A copy without what was recorded after ``step`` (see :meth:`Series.until`)."""
        return History(self.steps.until(step), self.evaluations.until(step),
                       [m for m in self.markers if m.step <= step])

    def copy(self) -> "History":
        """An independent copy (a save made in another thread reads it while training goes on)."""
        return History(self.steps.copy(), self.evaluations.copy(), list(self.markers))

    def nbytes(self) -> int:
        return self.steps._rows.nbytes + self.evaluations._rows.nbytes
