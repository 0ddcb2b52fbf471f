"""Import a dataset from a CSV file, with errors that name the line and the problem.

Format: a header row, then one example per row.  Every column but the target is a numeric
input; the target is the last column unless named.  The target is read as

* class labels when any value is not a number, or when every value is an integer and there are
  at most ``MAX_INTEGER_CLASSES`` distinct values (0/1, 1/2/3 …);
* a regression target otherwise.

That choice is made only after every target value has been checked: ``nan``, ``NA``, ``N/A``,
``null``, ``inf`` or ``Infinity`` (any case or sign) in the target column is an error naming the
line, never a class of its own.

**Numbers.**  A number is plain ASCII decimal text: an optional sign, digits 0–9 with an
optional decimal point, and an optional exponent (``12``, ``-0.5``, ``.5``, ``3.``, ``1e-4``,
``+2.5E+03``); spaces around it are ignored.  Anything else Python's ``float()`` would also take
is refused with the line and the text: digit separators (``1_000``), other scripts' digits
(``١٢٣``, full-width ``１２３``), ``nan`` and ``inf``, and a decimal comma (``1,5``).  A number's
magnitude must be at most ``MAX_MAGNITUDE`` (1e50): the network takes inputs unscaled, and the
x², x1·x2 features (≤ 1e100), the squared-error loss and its gradients (≤ 1e200) then stay
finite for a first step of the default networks; larger values are refused, naming the line.

**Quotes.**  Values may be quoted (``"x 1"``, a doubled ``""`` inside is a quote).  A quote
that is never closed is reported as such, naming the line where it opens; text after a closing
quote (``"1"2``) is malformed CSV.

Comma, semicolon and tab delimiters are recognised from the header row.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from pathlib import Path

import numpy as np

from ..formatting import format_number
from .datasets import CLASSIFICATION, MAX_POINTS, REGRESSION, Dataset, split_mask
from .regular_file import read_regular

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_CLASSES = 20
MAX_INTEGER_CLASSES = 10
MAX_COLUMNS = 64
#: Longest column name or class label: names travel in session files, which read back short text.
MAX_NAME_CHARS = 200
#: Largest magnitude of a number read (inputs and targets); see the module docstring.
MAX_MAGNITUDE = 1e50

#: What a CSV number is: plain ASCII decimal or scientific notation.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: Target values that stand for "no value" (compared in lower case).
_MISSING = {"na", "n/a", "null"}
_PLAIN = "like 12, -0.5 or 3e-4"


class CsvError(ValueError):
    """A CSV file cannot be used; the message names the file, the line and the problem."""


def _fail(path: str, line: int | None, problem: str) -> CsvError:
    where = f"{path}, line {line}" if line is not None else path
    return CsvError(f"{where}: {problem}")


def _parse_number(text: str) -> float | None:
    """The number ``text`` holds, or None when it is not a CSV number (see the module)."""
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if abs(value) <= MAX_MAGNITUDE else None  # also refuses overflow to inf


def _float_or_none(text: str) -> float | None:
    """What Python's float() makes of ``text`` (more than a CSV number), or None."""
    try:
        return float(text)
    except ValueError:
        return None


def _number_problem(cell: str) -> str:
    """Why ``cell`` (an input value, or a number-like target) is not a CSV number."""
    if _NUMBER.fullmatch(cell):
        return (f"holds {cell[:40]!r}, which is larger than {format_number(MAX_MAGNITUDE)} in magnitude "
                "(the largest accepted, so that squares and the loss stay finite)")
    return f"holds {cell[:40]!r}, which is not a finite number in plain decimal form ({_PLAIN})"


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
    delimiter = _sniff_delimiter(first_line)
    # strict: a quote left open is an error at the end of the data instead of a value that
    # silently swallows the rest of the file (and is then reported as a ragged row).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    row_lines: list[tuple[int, int]] = []  # (first, last) line of each row
    last = 0
    try:
        for record in reader:
            first, last = last + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue  # blank lines carry no data
            if header is None:
                header, header_line = [cell.strip() for cell in record], first
                continue
            if len(rows) >= MAX_POINTS:
                raise _fail(shown, first, f"more than {MAX_POINTS:,} data rows; the limit is {MAX_POINTS:,}")
            rows.append(record)
            row_lines.append((first, last))
    except csv.Error as exc:
        opened = _open_quote_line(text, last + 1, delimiter)
        if opened is not None:
            raise _fail(shown, opened, "a quote opens here and is never closed") from None
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
    for r, (record, (line, end)) in enumerate(zip(rows, row_lines)):
        if len(record) != len(header):
            if end > line:
                raise _fail(shown, line, f"a quoted value runs from here to line {end}, leaving {len(record)} "
                            f"values where the header has {len(header)} columns; is a quote left open?")
            raise _fail(shown, line, f"{len(record)} values, but the header has {len(header)} columns (ragged row)")
        for c, i in enumerate(input_index):
            cell = record[i].strip()
            if not cell:
                raise _fail(shown, line, f"missing value in column {header[i]!r}")
            value = _parse_number(cell)
            if value is None:
                raise _fail(shown, line, f"column {header[i]!r} {_number_problem(cell)}")
            inputs[r, c] = value
        cell = record[target_index].strip()
        if not cell:
            raise _fail(shown, line, f"missing target value in column {header[target_index]!r}")
        target_text.append(cell)

    targets, task, class_names = _read_target(target_text, [first for first, _ in row_lines], shown,
                                              header[target_index], task)
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
    for cell, value, line in zip(cells, numbers, lines):
        if value is None:
            _check_target_label(cell, line, shown, column)
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


def _check_target_label(cell: str, line: int, shown: str, column: str) -> None:
    """Refuse a target value that is not a number yet is no class label either: a missing or
    non-finite marker, or number-like text in a form the reader does not take."""
    value = _float_or_none(cell)
    if cell.lower() in _MISSING or (value is not None and not math.isfinite(value)):
        raise _fail(shown, line, f"the target is not a finite number (column {column!r} holds {cell[:40]!r})")
    if value is not None:
        raise _fail(shown, line, f"the target column {column!r} {_number_problem(cell)}")


def _open_quote_line(text: str, start_line: int, delimiter: str) -> int | None:
    """The line of a quote that opens a value and is never closed, looking from the start of
    ``start_line`` (the record the reader stopped in) to the end; None if every quote closes.

    It follows the reader's rules: a quote opens a value only at the value's start, and inside
    a quoted value a doubled quote is a quote.
    """
    breaks = [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    pos = breaks[start_line - 2] if 2 <= start_line <= len(breaks) + 1 else 0
    if start_line > len(breaks) + 1:
        return None
    separators = re.compile(f"[{re.escape(delimiter)}\r\n]")
    while pos < len(text):
        if text[pos] == '"':
            opened = pos
            pos += 1
            while True:
                close = text.find('"', pos)
                if close < 0:
                    return 1 + sum(1 for b in breaks if b <= opened)
                if text.startswith('""', close):
                    pos = close + 2
                    continue
                pos = close + 1
                break
        found = separators.search(text, pos)
        if found is None:
            return None
        pos = found.end()
    return None


def _label_text(key: object) -> str:
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


#: Bytes read for a preview: enough for a header and a screenful of rows of any sane file.
PREVIEW_BYTES = 256 * 1024


def preview_csv(path: str | os.PathLike[str], rows: int = 8) -> tuple[list[str], list[list[str]]]:
    """The header and the first ``rows`` data rows of a CSV file, as text, for the import
    dialog's preview (nothing is checked here: :func:`load_csv` does that on import).

    Raises
    ------
    CsvError
        If the file cannot be read or is not UTF-8 text.
    """
    shown = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(PREVIEW_BYTES)
    except OSError as exc:
        raise _fail(shown, None, f"cannot read the file ({exc.strerror or exc})") from None
    text = _decode_prefix(raw, shown)
    lines = text.splitlines()
    if len(raw) == PREVIEW_BYTES and lines:
        lines = lines[:-1]  # the last line read may be cut short
    delimiter = _sniff_delimiter(lines[0] if lines else "")
    reader = csv.reader(lines, delimiter=delimiter)
    header: list[str] = []
    body: list[list[str]] = []
    try:
        for record in reader:
            if not record or all(not cell.strip() for cell in record):
                continue
            if not header:
                header = [cell.strip() for cell in record]
            elif len(body) < rows:
                body.append([cell.strip() for cell in record])
            else:
                break
    except csv.Error:
        pass  # the preview shows what it could read; the import names the problem
    return header, body


def _decode_prefix(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 3:  # a character cut by the preview's byte limit
            return raw[: exc.start].decode("utf-8-sig")
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(shown, line, "the file is not UTF-8 text") from None
