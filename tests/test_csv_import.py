"""CSV import: good files become datasets; every bad file gives an error naming line and problem."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.formatting import format_number
from sandbox.session.csv_import import (
    MAX_CLASSES,
    MAX_INTEGER_CLASSES,
    MAX_MAGNITUDE,
    CsvError,
    load_csv,
    parse_csv,
)
from sandbox.session.datasets import CLASSIFICATION, MAX_POINTS, REGRESSION


def write(tmp_path, text: str | bytes, name: str = "data.csv"):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def load_error(tmp_path, text, **kwargs) -> str:
    path = write(tmp_path, text)
    with pytest.raises(CsvError) as info:
        load_csv(path, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{path}"), message
    assert isinstance(info.value, ValueError)
    return message


# -------------------------------------------------------------------------------- good files


def test_integer_target_with_few_values_is_classification(tmp_path):
    ds = load_csv(write(tmp_path, "x1,x2,y\n0.5,1,0\n-2,3.25,1\n4,5,1\n7e-1,-0,0\n"))
    assert ds.task == CLASSIFICATION
    assert ds.name == "data.csv"
    assert ds.input_names == ("x1", "x2") and ds.target_name == "y"
    assert ds.class_names == ("0", "1")
    np.testing.assert_array_equal(ds.inputs, [[0.5, 1], [-2, 3.25], [4, 5], [0.7, -0.0]])
    np.testing.assert_array_equal(ds.targets, [0, 1, 1, 0])
    assert ds.inputs.dtype == np.float64 and ds.targets.dtype == np.float64


def test_numeric_labels_sort_numerically_and_map_to_indices(tmp_path):
    ds = load_csv(write(tmp_path, "a,b,label\n1,1,3\n2,2,10\n3,3,2\n4,4,2.0\n"))
    assert ds.task == CLASSIFICATION
    assert ds.class_names == ("2", "3", "10")  # 2.0 and 2 are the same class
    np.testing.assert_array_equal(ds.targets, [1, 2, 0, 0])


def test_many_integer_values_or_fractions_make_a_regression_target(tmp_path):
    many = "x,y\n" + "".join(f"{i},{i}\n" for i in range(MAX_INTEGER_CLASSES + 1))
    ds = load_csv(write(tmp_path, many))
    assert ds.task == REGRESSION and ds.class_names == ()
    np.testing.assert_array_equal(ds.targets, np.arange(MAX_INTEGER_CLASSES + 1.0))
    few = "x,y\n" + "".join(f"{i},{i}\n" for i in range(MAX_INTEGER_CLASSES))
    assert load_csv(write(tmp_path, few, "few.csv")).task == CLASSIFICATION
    frac = load_csv(write(tmp_path, "x,y\n1,0.5\n2,1\n3,1.5\n", "frac.csv"))
    assert frac.task == REGRESSION
    np.testing.assert_array_equal(frac.targets, [0.5, 1.0, 1.5])


def test_text_labels_are_classes_sorted_alphabetically(tmp_path):
    ds = load_csv(write(tmp_path, "petal,sepal,species\n1,2,virginica\n3,4,setosa\n5,6, versicolor \n7,8,setosa\n"))
    assert ds.task == CLASSIFICATION
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(ds.targets, [2, 0, 1, 0])
    assert ds.n_classes == 3


def test_named_target_column_and_forced_task(tmp_path):
    path = write(tmp_path, "y,x1,x2\n1,0.5,2\n0,1.5,3\n1,2.5,4\n")
    ds = load_csv(path, target="y")
    assert ds.input_names == ("x1", "x2") and ds.target_name == "y"
    np.testing.assert_array_equal(ds.inputs, [[0.5, 2], [1.5, 3], [2.5, 4]])
    assert ds.task == CLASSIFICATION
    reg = load_csv(path, target="y", task=REGRESSION)
    assert reg.task == REGRESSION
    np.testing.assert_array_equal(reg.targets, [1, 0, 1])
    by_name = load_csv(path, target="x2")
    assert by_name.input_names == ("y", "x1") and by_name.task == CLASSIFICATION


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_recognised(tmp_path, delimiter):
    text = "\n".join(delimiter.join(row) for row in [["a", "b", "y"], ["1", "2", "0"], ["3", "4", "1"]])
    ds = load_csv(write(tmp_path, text + "\n"))
    np.testing.assert_array_equal(ds.inputs, [[1, 2], [3, 4]])


def test_bom_crlf_blank_lines_and_quotes_are_handled(tmp_path):
    text = '\ufeff"x 1",x2,y\r\n1,2,0\r\n\r\n"3",4,1\r\n'
    ds = load_csv(write(tmp_path, text))
    assert ds.input_names == ("x 1", "x2")
    np.testing.assert_array_equal(ds.inputs, [[1, 2], [3, 4]])
    # parse_csv given already-decoded text with a BOM gives the same column names.
    assert parse_csv(text).input_names == ("x 1", "x2")


def test_split_is_seeded_and_respects_the_fraction(tmp_path):
    text = "x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(100))
    path = write(tmp_path, text)
    a = load_csv(path, train_fraction=0.7, seed=3)
    b = load_csv(path, train_fraction=0.7, seed=3)
    c = load_csv(path, train_fraction=0.7, seed=4)
    assert a.is_train.sum() == 70
    assert np.array_equal(a.is_train, b.is_train)
    assert not np.array_equal(a.is_train, c.is_train)
    assert load_csv(path, train_fraction=1.0).is_train.all()
    with pytest.raises(ValueError, match="train fraction"):
        load_csv(path, train_fraction=0.0)


def test_exactly_the_row_limit_is_accepted(tmp_path):
    text = "x,y\n" + "1,0\n2,1\n" * (MAX_POINTS // 2)
    assert len(load_csv(write(tmp_path, text))) == MAX_POINTS


def test_parse_csv_names_its_source():
    with pytest.raises(CsvError, match=r"^pasted: the file is empty"):
        parse_csv("", shown="pasted")
    with pytest.raises(CsvError, match=r"^data\.csv, line 2: "):
        parse_csv("a,y\n1\n")


# -------------------------------------------------------------------------------- bad files


def test_missing_value_in_an_input_column(tmp_path):
    msg = load_error(tmp_path, "x1,x2,y\n1,2,0\n3,,1\n")
    assert "line 3" in msg and "missing value" in msg and "'x2'" in msg


def test_missing_target_value(tmp_path):
    msg = load_error(tmp_path, "x1,x2,y\n1,2,0\n3,4,1\n5,6, \n")
    assert "line 4" in msg and "missing target value" in msg and "'y'" in msg


@pytest.mark.parametrize("cell", ["abc", "1.2.3", "nan", "inf", "-Infinity", "0x10"])
def test_non_numeric_text_in_an_input_column(tmp_path, cell):
    msg = load_error(tmp_path, f"x1,x2,y\n1,2,0\n\n1,{cell},1\n")
    assert "line 4" in msg and "'x2'" in msg and "not a finite number" in msg
    assert repr(cell) in msg


def test_non_numeric_regression_target_when_forced(tmp_path):
    msg = load_error(tmp_path, "x,y\n1,0.5\n2,high\n", task=REGRESSION)
    assert "line 3" in msg and "not a finite number" in msg and "regression" in msg


@pytest.mark.parametrize("row, count", [("1,2", 2), ("1,2,3,4", 4)])
def test_ragged_row(tmp_path, row, count):
    msg = load_error(tmp_path, f"x1,x2,y\n1,2,0\n{row}\n5,6,1\n")
    assert "line 3" in msg and "ragged" in msg and f"{count} values" in msg and "3 columns" in msg


def test_header_without_rows(tmp_path):
    msg = load_error(tmp_path, "x1,x2,y\n\n\n")
    assert "line 1" in msg and "no data rows" in msg


@pytest.mark.parametrize("text", ["", "\n\n  \n", "\ufeff"])
def test_empty_file(tmp_path, text):
    msg = load_error(tmp_path, text)
    assert "empty" in msg


def test_too_many_rows(tmp_path):
    text = "x,y\n" + "1,0\n2,1\n" * (MAX_POINTS // 2) + "3,1\n"
    msg = load_error(tmp_path, text)
    assert f"line {MAX_POINTS + 2}" in msg and "100,000" in msg


def test_single_class_target(tmp_path):
    msg = load_error(tmp_path, "x,y\n1,1\n2,1\n3,1\n")
    assert "unusable target" in msg and "single class" in msg and "'y'" in msg
    msg = load_error(tmp_path, "x,y\n1,cat\n2,cat\n")
    assert "single class" in msg and "'cat'" in msg


def test_constant_regression_target(tmp_path):
    msg = load_error(tmp_path, "x,y\n1,0.25\n2,0.25\n3,0.25\n")
    assert "unusable target" in msg and "every value" in msg and "0.25" in msg


def test_too_many_classes(tmp_path):
    labels = [f"class{k}" for k in range(MAX_CLASSES + 1)]
    text = "x,y\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels))
    msg = load_error(tmp_path, text)
    assert "unusable target" in msg and f"{MAX_CLASSES + 1} classes" in msg and f"limit is {MAX_CLASSES}" in msg
    # Exactly the limit is fine.
    ok = "x,y\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels[:-1]))
    assert load_csv(write(tmp_path, ok, "ok.csv")).n_classes == MAX_CLASSES


def test_duplicate_header_names(tmp_path):
    msg = load_error(tmp_path, "a,b,a\n1,2,0\n3,4,1\n")
    assert "line 1" in msg and "'a' appears twice" in msg


def test_missing_header_name(tmp_path):
    msg = load_error(tmp_path, "a,,y\n1,2,0\n3,4,1\n")
    assert "line 1" in msg and "column 2 has no name" in msg


def test_single_column_header(tmp_path):
    msg = load_error(tmp_path, "y\n1\n0\n")
    assert "line 1" in msg and "one column" in msg


def test_unknown_target_column(tmp_path):
    msg = load_error(tmp_path, "a,b,y\n1,2,0\n3,4,1\n", target="z")
    assert "line 1" in msg and "no column named 'z'" in msg and "a, b, y" in msg


def test_bad_utf8_names_the_line(tmp_path):
    msg = load_error(tmp_path, b"x,y\n1,0\n2,1\n\xff\xfe3,0\n")
    assert "line 4" in msg and "not UTF-8" in msg


def test_nul_bytes(tmp_path):
    msg = load_error(tmp_path, b"x,y\n1,0\x00\n")
    assert "NUL" in msg


def test_unreadable_path(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(CsvError) as info:
        load_csv(missing)
    assert str(info.value).startswith(str(missing)) and "cannot read" in str(info.value)


def test_oversized_file_is_rejected_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)
    from pathlib import Path

    def no_reading(self):  # pragma: no cover - must not be called
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    with pytest.raises(CsvError, match=re.escape(str(path)) + ".*limit is 64 MB"):
        load_csv(path)


def test_every_error_is_a_csv_error_naming_the_file(tmp_path):
    """A mixed bag of broken files: each message starts with the path and names a problem."""
    cases = [
        "a;b;y\n1;2\n",
        'a,b,y\n"1,2,0\n',
        "a,b,y\n1,2,0\n,,\n3,x,1\n",
    ]
    for k, text in enumerate(cases):
        path = write(tmp_path, text, f"case{k}.csv")
        with pytest.raises(CsvError) as info:
            load_csv(path)
        assert str(info.value).startswith(f"{path}")
        assert len(str(info.value)) > len(str(path)) + 10


def test_names_and_labels_longer_than_200_characters_are_rejected(tmp_path):
    long = "n" * 201
    msg = load_error(tmp_path, f"x,{long}\n1,0\n2,1\n")
    assert "line 1" in msg and "column 2" in msg and "longer than 200" in msg
    msg = load_error(tmp_path, f"x,y\n1,a\n2,{long}\n3,a\n")
    assert "line 3" in msg and "class label" in msg and "longer than 200" in msg
    ok = load_csv(write(tmp_path, f"x,{'n' * 200}\n1,{'L' * 200}\n2,b\n", "ok.csv"))
    assert ok.target_name == "n" * 200 and ok.class_names == ("L" * 200, "b")


# ------------------------------------------------------------------------ targets and numbers


NON_FINITE_TARGETS = ["nan", "NaN", "-nan", "NA", "n/a", "N/A", "null", "NULL", "inf", "-inf", "+Inf",
                      "Infinity", "-infinity", "1e999", "-1e400"]


@pytest.mark.parametrize("cell", NON_FINITE_TARGETS)
@pytest.mark.parametrize("kind", ["binary", "regression", "text labels"])
def test_a_non_finite_target_is_an_error_naming_the_line(tmp_path, kind, cell):
    """Not a class of its own (a 0/1 target with a third class "nan"), nor text that turns a
    regression target into 15 classes."""
    values = {"binary": ["0", "1"] * 7, "regression": [f"{0.37 * k:.3f}" for k in range(14)],
              "text labels": ["cat", "dog"] * 7}[kind]
    values.insert(9, f" {cell} ")
    text = "x,y\n" + "".join(f"{k},{v}\n" for k, v in enumerate(values))
    msg = load_error(tmp_path, text)
    assert "line 11: the target is not a finite number" in msg and repr(cell) in msg


ACCEPTED_NUMBERS = {"12": 12.0, "-0.5": -0.5, ".5": 0.5, "3.": 3.0, "1e-4": 1e-4, "+2.5E+03": 2500.0,
                    "-0": -0.0, " 7 ": 7.0, "0001.250": 1.25, "1E50": 1e50}


def test_the_accepted_number_forms(tmp_path):
    text = "x,y\n" + "".join(f"{cell},{k % 2}\n" for k, cell in enumerate(ACCEPTED_NUMBERS))
    ds = load_csv(write(tmp_path, text))
    assert bits_of(ds.inputs[:, 0]) == bits_of(np.array(list(ACCEPTED_NUMBERS.values())))


def bits_of(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(values, dtype=np.float64).view(np.int64).tobytes()


#: Digits of other scripts that Python's float() reads as 0-9.
OTHER_DIGITS = [0x0660, 0x06F0, 0x0966, 0x09E6, 0xFF10, 0x1D7CE, 0x0E50]


def _other_script(text: str, zero: int) -> str:
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)


number_texts = st.from_regex(r"\A[+-]?(?:[0-9]{1,6}(?:\.[0-9]{0,4})?|\.[0-9]{1,4})(?:[eE][+-]?[0-3]?[0-9])?\Z")  # below 1e50


@settings(max_examples=150, deadline=None, database=None)
@given(number=number_texts, column=st.sampled_from(["input", "target"]), zero=st.sampled_from(OTHER_DIGITS),
       form=st.sampled_from(["other digits", "underscore", "float-only words"]))
def test_only_plain_ascii_numbers_are_read(number, column, zero, form):
    """Every plain ASCII decimal reads as float() reads it; the same number written in any
    other form that float() also takes is refused, in an input or the target column."""
    ok = parse_csv(f"x,y\n{number},0\n1,1\n") if column == "input" else None
    if ok is not None:
        assert bits_of(ok.inputs[0]) == bits_of(np.array([float(number)]))
    if form == "other digits":
        other = _other_script(number, zero)
    elif form == "underscore":
        digits = [k for k, c in enumerate(number) if c.isdigit()]
        if len(digits) < 2 or digits[1] != digits[0] + 1:
            return
        other = number[: digits[1]] + "_" + number[digits[1]:]
    else:
        other = {"+": "+inf", "-": "-Infinity"}.get(number[0], " nan ")
    float(other)  # Python would take it
    rows = f"{other},0\n1,1\n" if column == "input" else f"1,{other}\n2,1\n3,0\n"
    with pytest.raises(CsvError, match="line 2: ") as info:
        parse_csv("x,y\n" + rows)
    assert repr(other.strip()) in str(info.value)
    assert "plain decimal form" in str(info.value) or "not a finite number" in str(info.value)


@pytest.mark.parametrize("cell", ["1e51", "-1.0000001e50", "1e999", "-1e400", "1" + "0" * 60])
@pytest.mark.parametrize("column", ["input", "target"])
def test_numbers_beyond_the_largest_magnitude_are_refused(tmp_path, cell, column):
    rows = f"{cell},0\n1,1\n" if column == "input" else f"1,{cell}\n2,1.5\n3,0\n"
    msg = load_error(tmp_path, "x,y\n" + rows)
    assert "line 2: " in msg and repr(cell[:40]) in msg
    if column == "input" or abs(float(cell)) < math.inf:
        assert f"larger than {format_number(MAX_MAGNITUDE)} in magnitude" in msg
    else:
        assert "the target is not a finite number" in msg


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the second step overflows, on purpose
@pytest.mark.parametrize("task", [CLASSIFICATION, REGRESSION])
def test_data_at_the_largest_magnitude_takes_a_finite_first_step(task):
    """Inputs (and a regression target) at ±MAX_MAGNITUDE, every feature switched on (x², x1·x2),
    every hidden activation, up to six layers: the first step is applied with finite loss and
    weights; what follows is ordinary divergence, which the guard refuses without an error."""
    from sandbox.engine import HIDDEN_ACTIVATIONS
    from sandbox.session import NetworkSpec, TrainingRun
    from sandbox.session.features import available_features

    B = format_number(MAX_MAGNITUDE).replace("+", "")
    corners = [(B, f"-{B}"), (f"-{B}", B), (B, B), (f"-{B}", f"-{B}"), ("0", "1"), ("1", "0")]
    targets = ["0", "1", "1", "0", "0", "1"] if task == CLASSIFICATION else [B, f"-{B}", "0.5", "0", "3", "1"]
    ds = parse_csv("a,b,y\n" + "".join(f"{a},{b},{t}\n" for (a, b), t in zip(corners, targets)))
    assert ds.task == task and np.abs(ds.inputs).max() == MAX_MAGNITUDE
    features = [f.key for f in available_features(ds.input_names)]
    for act in HIDDEN_ACTIVATIONS:
        for hidden in [(), (4,), (8, 8), (8,) * 6]:
            for init in ("xavier", "uniform"):
                run = TrainingRun.create(ds, features=features,
                                         network=NetworkSpec(hidden, (act,) * len(hidden), init=init))
                assert run.step(), (act, hidden, init)
                assert np.isfinite(run.flat).all() and np.isfinite(run.history.steps.last()).all()
                run.train(3)  # either trains or stops on the guard
                assert np.isfinite(run.flat).all()


# ------------------------------------------------------------------------------------ quotes


@pytest.mark.parametrize("text, line", [
    ('a,b,y\n"1,2,0\n3,4,1\n5,6,0\n', 2),
    ('a,b,y\n1,2,0\n3,"4,1\n5,6,0\n', 3),
    ('a,b,y\n1,2,0\n3,4,1\n5,6,"0\n', 4),
    ('a,b,y\n1,2,"0"\n3,"4\nstill four",1\n5,6,"0\n7,8,1\n', 5),  # after a legal multi-line value
    ('a,b,"y\n1,2,0\n3,4,1\n', 1),
    ('a;b;y\r\n1;2;0\r\n"3;4;1\r\n', 3),
    ('a,b,y\n1,2,"a ""quoted"" word\n3,4,1\n', 2),  # doubled quotes inside do not close it
])
def test_an_unclosed_quote_is_reported_where_it_opens(tmp_path, text, line):
    msg = load_error(tmp_path, text)
    assert msg.endswith(f"line {line}: a quote opens here and is never closed"), msg
    assert "ragged" not in msg


@settings(max_examples=100, deadline=None, database=None)
@given(rows=st.lists(st.tuples(st.integers(-99, 99), st.integers(-99, 99), st.integers(0, 1)), min_size=2,
                     max_size=12),
       where=st.tuples(st.integers(0, 11), st.integers(0, 2)))
def test_an_opening_quote_added_anywhere_is_reported_as_unclosed(rows, where):
    """The class: one quote at the start of any value of a quote-free file."""
    row, col = where[0] % len(rows), where[1]
    cells = [[str(v) for v in r] for r in rows]
    cells[row][col] = '"' + cells[row][col]
    text = "a,b,y\n" + "".join(",".join(r) + "\n" for r in cells)
    with pytest.raises(CsvError) as info:
        parse_csv(text)
    assert str(info.value) == f"data.csv, line {row + 2}: a quote opens here and is never closed"


def test_a_quote_closed_in_the_wrong_place_is_not_called_ragged(tmp_path):
    msg = load_error(tmp_path, 'a,b,y\n1,"2,0\n3,4",1,9\n5,6,0\n')
    assert "line 2: a quoted value runs from here to line 3" in msg and "quote left open" in msg
    assert "ragged" not in msg
    msg = load_error(tmp_path, 'a,b,y\n1,2,"0"x\n')
    assert "line 2: malformed CSV" in msg
