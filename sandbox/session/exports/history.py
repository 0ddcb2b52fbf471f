"""The loss history as one CSV table: the step rows and the evaluation rows, joined by step.

Columns, in order::

    step, step_weight, batch_loss, grad_norm_W1 … grad_norm_WL, update_ratio_W1 … update_ratio_WL,
    evaluation_weight, train_loss, test_loss, train_accuracy, test_accuracy

* A **step row** is one training step: its mini-batch loss, ‖∂J/∂W_l‖ per weight layer and the
  update-to-weight ratio ‖ΔW_l‖/‖W_l‖.  Long runs keep their old history downsampled: such a
  row is the mean of ``step_weight`` steps (``step`` is their mean step); at full resolution
  ``step_weight`` is 1.
* An **evaluation** (the full training and test sets, once an epoch and on demand) is made after
  the step of its number, so it shares that step's row.  One with no step row of its own (step
  0, a second evaluation of one step, a downsampled stretch) gets a row whose step columns are
  empty.  ``evaluation_weight`` is empty where a row has no evaluation.
* A value that does not exist (no test set, accuracy of a regression, a ratio where ‖W‖ = 0) is
  an empty cell.  Numbers are written with ``repr``, so they read back to the same bits.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from dataclasses import dataclass

import numpy as np

from ..naming import weight_layer_label
from .network import ExportError, write_bytes

Array = np.ndarray

EVALUATION_COLUMNS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")
_LAYER_COLUMN = re.compile(r"(grad_norm|update_ratio)_([0-9]+)")
_LAYER_HEADER = re.compile(r"(grad_norm|update_ratio)_W([0-9]+)")


@dataclass(frozen=True)
class HistoryTables:
    """A history's two series as (columns, rows): rows are (n, 2 + k) arrays of step, weight and
    the k values, the layout of :meth:`Series.array <sandbox.session.history.Series.array>`."""

    step_columns: tuple[str, ...]
    step_rows: Array
    evaluation_columns: tuple[str, ...]
    evaluation_rows: Array

    @classmethod
    def of(cls, history) -> "HistoryTables":
        """The tables of a run's :class:`~sandbox.session.history.History` or of the app's
        :class:`~sandbox.session.history_mirror.HistoryMirror` (both have ``steps`` and
        ``evaluations`` with ``columns`` and ``array()``)."""
        return cls(tuple(history.steps.columns), history.steps.array(),
                   tuple(history.evaluations.columns), history.evaluations.array())


def _header_name(column: str) -> str:
    """A history column's CSV name: ``loss`` → ``batch_loss``, ``grad_norm_0`` → ``grad_norm_W1``."""
    if column == "loss":
        return "batch_loss"
    match = _LAYER_COLUMN.fullmatch(column)
    return f"{match[1]}_{weight_layer_label(int(match[2]))}" if match else column


def _column_name(header: str) -> str:
    """The inverse of :func:`_header_name`."""
    if header == "batch_loss":
        return "loss"
    match = _LAYER_HEADER.fullmatch(header)
    return f"{match[1]}_{int(match[2]) - 1}" if match else header


def _cell(value: float) -> str:
    if math.isnan(value):
        return ""
    # Whole numbers (steps, weights) without ".0"; −0.0 keeps its sign.
    if math.isfinite(value) and value == int(value) and abs(value) < 2**53 and math.copysign(1.0, value) > 0:
        return str(int(value))
    return repr(value)


def history_csv(tables: HistoryTables) -> str:
    """The CSV text (see the module docstring)."""
    steps, evals = np.asarray(tables.step_rows, float), np.asarray(tables.evaluation_rows, float)
    n_step, n_eval = len(tables.step_columns), len(tables.evaluation_columns)
    empty_step = [""] * (1 + n_step)
    empty_eval = [""] * (1 + n_eval)
    # Each step row, with the first evaluation of the same step joined to it.
    joined: list[tuple[float, int, list[str]]] = []
    row_of_step = {float(row[0]): k for k, row in enumerate(steps)}
    evaluation_of_row: dict[int, Array] = {}
    alone: list[Array] = []
    for row in evals:
        k = row_of_step.get(float(row[0]))
        if k is not None and k not in evaluation_of_row:
            evaluation_of_row[k] = row
        else:
            alone.append(row)
    for k, row in enumerate(steps):
        ev = evaluation_of_row.get(k)
        cells = [_cell(v) for v in row.tolist()]
        cells += empty_eval if ev is None else [_cell(v) for v in ev[1:].tolist()]
        joined.append((float(row[0]), 0, cells))
    for row in alone:
        joined.append((float(row[0]), 1, [_cell(float(row[0]))] + empty_step + [_cell(v) for v in row[1:].tolist()]))
    joined.sort(key=lambda item: (item[0], item[1]))  # stable: each series keeps its order
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", "step_weight", *map(_header_name, tables.step_columns),
                     "evaluation_weight", *map(_header_name, tables.evaluation_columns)])
    writer.writerows(cells for _, _, cells in joined)
    return out.getvalue()


def write_history(tables: HistoryTables, path: str | os.PathLike[str]) -> None:
    """Write the CSV to ``path``."""
    write_bytes(path, history_csv(tables).encode("utf-8"))


def read_history_csv(text: str) -> HistoryTables:
    """Parse :func:`history_csv`'s text back into the two tables (history column names)."""
    table = list(csv.reader(io.StringIO(text)))
    if not table or table[0][:2] != ["step", "step_weight"] or "evaluation_weight" not in table[0]:
        raise ExportError("not a Backprop Sandbox history file")
    header = table[0]
    split = header.index("evaluation_weight")
    step_columns = tuple(_column_name(h) for h in header[2:split])
    evaluation_columns = tuple(_column_name(h) for h in header[split + 1:])

    def number(cell: str) -> float:
        return float(cell) if cell else math.nan

    step_rows, evaluation_rows = [], []
    for cells in table[1:]:
        if cells[1]:
            step_rows.append([number(c) for c in cells[:split]])
        if cells[split]:
            evaluation_rows.append([number(cells[0])] + [number(c) for c in cells[split:]])
    return HistoryTables(step_columns, np.array(step_rows, float).reshape(-1, 2 + len(step_columns)),
                         evaluation_columns, np.array(evaluation_rows, float).reshape(-1, 2 + len(evaluation_columns)))
