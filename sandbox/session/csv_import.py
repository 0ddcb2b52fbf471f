"""Import a dataset from a CSV file, with errors that name the line and the problem.

Format: a header row, then one example per row.  Every column but the target is a numeric
input; the target is the last column unless named.  The target is read as

* class labels when any value is not a number, or when every value is an integer and there are
  at most ``MAX_INTEGER_CLASSES`` distinct values (0/1, 1/2/3 …);
* a regression target otherwise.

Comma, semicolon and tab delimiters are recognised from the header row.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import numpy as np

from .datasets import CLASSIFICATION, MAX_POINTS, REGRESSION, Dataset, split_mask
from .regular_file import read_regular

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_CLASSES = 20
MAX_INTEGER_CLASSES = 10
MAX_COLUMNS = 64
#: Longest column name or class label: names travel in session files, which read back short text.
MAX_NAME_CHARS = 200


class CsvError(ValueError):
    """A CSV file cannot be used; the message names the file, the line and the problem."""


def _fail(path: str, line: int | None, problem: str) -> CsvError:
    where = f"{path}, line {line}" if line is not None else path
    return CsvError(f"{where}: {problem}")


def _parse_number(text: str) -> float | None:
    """A finite float, or None when the text is not a plain finite number."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _sniff_delimiter(header_line: str) -> str:
    if "," in header_line:
        return ","
    for delimiter in (";", "\t"):
        if delimiter in header_line:
            return delimiter
    return ","


def load_csv(
    path: str | os.PathLike[str],
    target: str | None = None,
    train_fraction: float = 0.8,
    seed: int = 0,
    task: str | None = None,
) -> Dataset:
    """Read a CSV file into a :class:`Dataset`.

    Parameters
    ----------
    path
        The CSV file.
    target
        Name of the target column; the last column if None.
    train_fraction, seed
        The random train/test split.
    task
        Force ``"classification"`` or ``"regression"``; inferred if None.

    Raises
    ------
    CsvError
        For any problem with the file, naming the line: missing values, non-numeric inputs,
        ragged rows, no rows, more than 100,000 rows, an unusable target.
    """
    name = Path(path).name
    shown = str(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise _fail(shown, None, f"the file is {size / 2**20:.0f} MB; the limit is 64 MB")
        raw = read_regular(path, MAX_FILE_BYTES)  # a pipe or device is refused, never read
    except OSError as exc:
        raise _fail(shown, None, f"cannot read the file ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _fail(shown, None, "the file is larger than 64 MB; the limit is 64 MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(shown, line, "the file is not UTF-8 text") from None
    return parse_csv(text, name=name, shown=shown, target=target,
                     train_fraction=train_fraction, seed=seed, task=task)


def parse_csv(
    text: str,
    name: str = "data.csv",
    shown: str | None = None,
    target: str | None = None,
    train_fraction: float = 0.8,
    seed: int = 0,
    task: str | None = None,
) -> Dataset:
    """Parse CSV text; see :func:`load_csv`.  ``shown`` is how errors name the source."""
    shown = shown or name
    if "\x00" in text:
        raise _fail(shown, None, "the file contains NUL bytes; it is not a text CSV file")
    # A byte-order mark is not part of the first column's name (load_csv strips it while
    # decoding; text pasted or decoded elsewhere may still carry it).
    text = text[1:] if text.startswith("\ufeff") else text
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    try:
        header: list[str] | None = None
        header_line = 0
        rows: list[list[str]] = []
        row_lines: list[int] = []
        for record in reader:
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue  # blank lines carry no data
            if header is None:
                header, header_line = [cell.strip() for cell in record], line
                continue
            if len(rows) >= MAX_POINTS:
                raise _fail(shown, line, f"more than {MAX_POINTS:,} data rows; the limit is {MAX_POINTS:,}")
            rows.append(record)
            row_lines.append(line)
    except csv.Error as exc:
        raise _fail(shown, reader.line_num, f"malformed CSV ({exc})") from None

    if header is None:
        raise _fail(shown, None, "the file is empty; expected a header row and data rows")
    if len(header) < 2:
        raise _fail(shown, header_line, "the header names one column; expected input columns and a target column")
    if len(header) > MAX_COLUMNS:
        raise _fail(shown, header_line, f"{len(header)} columns; the limit is {MAX_COLUMNS}")
    for i, column in enumerate(header):
        if not column:
            raise _fail(shown, header_line, f"column {i + 1} has no name in the header")
        if len(column) > MAX_NAME_CHARS:
            raise _fail(shown, header_line, f"the name of column {i + 1} is longer than {MAX_NAME_CHARS} characters")
    if len(set(header)) != len(header):
        duplicate = next(c for c in header if header.count(c) > 1)
        raise _fail(shown, header_line, f"the column name {duplicate!r} appears twice in the header")
    if not rows:
        raise _fail(shown, header_line, "the header has no data rows after it")

    if target is None:
        target_index = len(header) - 1
    elif target in header:
        target_index = header.index(target)
    else:
        raise _fail(shown, header_line, f"no column named {target!r}; the columns are {', '.join(header)}")
    input_index = [i for i in range(len(header)) if i != target_index]

    inputs = np.empty((len(rows), len(input_index)), dtype=np.float64)
    target_text: list[str] = []
    for r, (record, line) in enumerate(zip(rows, row_lines)):
        if len(record) != len(header):
            raise _fail(shown, line, f"{len(record)} values, but the header has {len(header)} columns (ragged row)")
        for c, i in enumerate(input_index):
            cell = record[i].strip()
            if not cell:
                raise _fail(shown, line, f"missing value in column {header[i]!r}")
            value = _parse_number(cell)
            if value is None:
                raise _fail(shown, line, f"column {header[i]!r} holds {cell[:40]!r}, which is not a finite number")
            inputs[r, c] = value
        cell = record[target_index].strip()
        if not cell:
            raise _fail(shown, line, f"missing target value in column {header[target_index]!r}")
        target_text.append(cell)

    targets, task, class_names = _read_target(target_text, row_lines, shown, header[target_index], task)
    rng = np.random.default_rng(seed)
    if not 0.0 < train_fraction <= 1.0:
        raise ValueError(f"train fraction must be in (0, 1], got {train_fraction!r}")
    return Dataset(
        name=name,
        task=task,
        inputs=inputs,
        targets=targets,
        is_train=split_mask(len(rows), train_fraction, rng),
        input_names=tuple(header[i] for i in input_index),
        class_names=class_names,
        target_name=header[target_index],
    )


def _read_target(
    cells: list[str], lines: list[int], shown: str, column: str, task: str | None
) -> tuple[np.ndarray, str, tuple[str, ...]]:
    numbers = [_parse_number(c) for c in cells]
    all_numeric = all(v is not None for v in numbers)
    if task not in (None, CLASSIFICATION, REGRESSION):
        raise ValueError(f"task must be {CLASSIFICATION!r} or {REGRESSION!r}, got {task!r}")
    if task is None:
        integer_valued = all_numeric and all(float(v).is_integer() for v in numbers)  # type: ignore[arg-type]
        few = len(set(cells if not all_numeric else numbers)) <= MAX_INTEGER_CLASSES
        task = CLASSIFICATION if (not all_numeric or (integer_valued and few)) else REGRESSION

    if task == REGRESSION:
        if not all_numeric:
            bad = next(i for i, v in enumerate(numbers) if v is None)
            raise _fail(shown, lines[bad], f"target column {column!r} holds {cells[bad][:40]!r}, "
                        "which is not a finite number (needed for regression)")
        values = np.array(numbers, dtype=np.float64)
        if np.ptp(values) == 0:
            raise _fail(shown, None, f"unusable target: every value in column {column!r} is {values[0]!r}")
        return values, REGRESSION, ()

    # Classification: numeric labels sort numerically, text labels alphabetically.
    keys: list[object] = list(numbers) if all_numeric else cells
    distinct = sorted(set(keys))  # type: ignore[type-var]
    if len(distinct) < 2:
        raise _fail(shown, None, f"unusable target: column {column!r} has a single class ({cells[0]!r})")
    if len(distinct) > MAX_CLASSES:
        raise _fail(shown, None, f"unusable target: column {column!r} has {len(distinct)} classes; "
                    f"the limit is {MAX_CLASSES}")
    if not all_numeric:
        for cell, line in zip(cells, lines):
            if len(cell) > MAX_NAME_CHARS:
                raise _fail(shown, line, f"the class label {cell[:40]!r}… in column {column!r} is longer "
                            f"than {MAX_NAME_CHARS} characters")
    index = {k: i for i, k in enumerate(distinct)}
    labels = np.array([index[k] for k in keys], dtype=np.float64)
    names = tuple(_label_text(k) for k in distinct)
    return labels, CLASSIFICATION, names


def _label_text(key: object) -> str:
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)
