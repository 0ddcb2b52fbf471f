"""The GUI's one copy of a run's history, rebuilt from the deltas every snapshot carries.

The worker's :class:`~sandbox.session.history.History` lives in the worker thread; each
snapshot carries the rows added since the last snapshot the GUI took (a
:class:`~sandbox.session.snapshot.SeriesDelta`).  A :class:`HistoryMirror` applies those deltas
and keeps *every* column (the step, the mini-batch loss and each layer's gradient norm; the
evaluations' losses and accuracies) plus the edit markers, so every view reads the same copy.

Rows live in column-major buffers whose capacity doubles when full (pyqtgraph's
``scrollingPlots`` example).  Appending writes only past the current end and dropping rows
allocates a new buffer, so a slice handed to a plot never changes under it.
"""

from __future__ import annotations

import numpy as np

from .history import Marker


class Buffer:
    """Rows of ``(step, weight, v_1 … v_k)`` stored column by column, growing by doubling."""

    def __init__(self, columns: tuple[str, ...] = (), capacity: int = 1024) -> None:
        self.columns = tuple(columns)
        self._data = np.empty((2 + len(self.columns), capacity))
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def reset(self, columns: tuple[str, ...]) -> None:
        """Empty, with (possibly new) value columns."""
        self.columns = tuple(columns)
        self._data = np.empty((2 + len(self.columns), 1024))
        self.n = 0

    def keep(self, start: int) -> None:
        """Keep the first ``start`` rows only (into a new array: plots hold slices of the old)."""
        if start >= self.n:
            return
        data = np.empty_like(self._data)
        data[:, :start] = self._data[:, :start]
        self._data = data
        self.n = start

    def append_rows(self, rows: np.ndarray) -> None:
        """Append ``rows`` of shape (k, 2 + number of columns)."""
        k = len(rows)
        if k == 0:
            return
        if self.n + k > self._data.shape[1]:
            grown = np.empty((len(self._data), max(2 * self._data.shape[1], self.n + k)))
            grown[:, : self.n] = self._data[:, : self.n]
            self._data = grown
        self._data[:, self.n : self.n + k] = rows.T
        self.n += k

    @property
    def steps(self) -> np.ndarray:
        return self._data[0, : self.n]

    def array(self) -> np.ndarray:
        """A copy of the rows, (n, 2 + k): step, weight, values (as ``Series.array`` gives)."""
        return self._data[:, : self.n].T.copy()

    def column(self, name: str) -> np.ndarray:
        """The values of column ``name`` (NaN everywhere if this series has no such column)."""
        if name not in self.columns:
            return np.full(self.n, np.nan)
        return self._data[2 + self.columns.index(name), : self.n]


class HistoryMirror:
    """Steps, evaluations and markers of the run the GUI shows.

    Attributes
    ----------
    steps
        One row per recorded step: ``loss`` (the mini-batch loss) and ``grad_norm_<l>`` per
        layer, as the worker's history names them.
    evaluations
        One row per full-set evaluation: ``train_loss``, ``test_loss``, ``train_accuracy``,
        ``test_accuracy``.
    markers
        The edit markers, oldest first.
    run_id
        The run the rows belong to (a snapshot of another run starts over).
    """

    def __init__(self) -> None:
        self.steps = Buffer()
        self.evaluations = Buffer()
        self.markers: tuple[Marker, ...] = ()
        self.run_id: int | None = None

    def apply(self, snapshot) -> set[str]:
        """Take ``snapshot``'s history rows; returns what changed: ``"steps"``,
        ``"evaluations"``, ``"markers"`` (all three when a new run starts)."""
        changed: set[str] = set()
        if snapshot.run_id != self.run_id:
            self.run_id = snapshot.run_id
            self.steps.reset(snapshot.history_steps.columns)
            self.evaluations.reset(snapshot.history_evaluations.columns)
            self.markers = ()
            changed.update(("steps", "evaluations", "markers"))
        if _apply_delta(self.steps, snapshot.history_steps):
            changed.add("steps")
        if _apply_delta(self.evaluations, snapshot.history_evaluations):
            changed.add("evaluations")
        if snapshot.markers is not None and tuple(snapshot.markers) != self.markers:
            self.markers = tuple(snapshot.markers)
            changed.add("markers")
        return changed


def _apply_delta(buffer: Buffer, delta) -> bool:
    """Keep the first ``delta.start`` rows (none if ``replace``), append the delta's rows.
    Returns True if the buffer changed."""
    start = 0 if delta.replace else delta.start
    if buffer.columns != tuple(delta.columns):
        buffer.reset(delta.columns)
        start = 0
    elif start >= buffer.n and len(delta.rows) == 0:
        return False
    # start < n after the model downsampled its old history: those rows come again, merged.
    buffer.keep(start)
    buffer.append_rows(np.asarray(delta.rows))
    return True
