"""The command line, run as a user runs it: in a subprocess, checking output and exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sandbox.engine import compiled
from sandbox.resources import DEFAULT_SESSION, EXAMPLES
from sandbox.session.session_file import load

ENV = dict(os.environ, QT_QPA_PLATFORM="offscreen")


def cli(*args: str, cwd: Path | None = None, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True, text=True,
                          timeout=300, env=dict(ENV, **(env_extra or {})), cwd=cwd)


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, never a traceback
    assert lines[0].startswith("backprop-sandbox: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_train_from_the_default_session_saves_to_out(tmp_path):
    out = tmp_path / "trained.json"
    result = cli("train", "--steps", "120", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "trained 120 steps" in result.stdout
    run = load(out)
    assert run.step_count == 120
    assert load(DEFAULT_SESSION).step_count == 0  # the built-in file is untouched


def test_train_continues_a_file_and_saves_over_it(tmp_path):
    path = tmp_path / "s.json"
    assert cli("train", "--steps", "30", "--out", str(path)).returncode == 0
    result = cli("train", str(path), "--steps", "20")
    assert result.returncode == 0, result.stderr
    assert load(path).step_count == 50


def test_train_in_two_runs_equals_one_run(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert cli("train", "--steps", "70", "--out", str(a)).returncode == 0
    assert cli("train", str(a), "--steps", "30").returncode == 0
    assert cli("train", "--steps", "100", "--out", str(b)).returncode == 0
    ra, rb = load(a), load(b)
    assert ra.step_count == rb.step_count == 100
    assert np.array_equal(ra.flat.view(np.int64), rb.flat.view(np.int64))


def test_train_refuses_to_overwrite_built_in_sessions(tmp_path):
    assert_user_error(cli("train", "--steps", "5"), "--out")
    example = str(next(EXAMPLES.glob("*.json")))
    assert_user_error(cli("train", example, "--steps", "5"), "built-in")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("train", "--steps", "x"), "--steps"),
        (("train",), "--steps"),
        (("info", "no-such-session.json"), "no-such-session.json"),
        (("bench", "--frobnicate"), "--frobnicate"),
        (("screenshot", "--out", "x.png", "--size", "big"), "--size"),
        (("nonexistent-file.json",), "no such file"),
    ],
)
def test_bad_flags_and_missing_files_are_one_line_errors(args, fragment):
    assert_user_error(cli(*args), fragment)


def test_bad_session_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "backprop-sandbox-session", "version": 99}')
    assert_user_error(cli("info", str(bad)), "broken.json", "newer")
    assert_user_error(cli("train", str(bad), "--steps", "3"), "broken.json")


def test_csv_starts_a_session_and_a_bad_csv_is_a_one_line_error(tmp_path):
    good = tmp_path / "data.csv"
    good.write_text("a,b,c,label\n" + "".join(f"{i},{i % 3},{i % 5},{'yes' if i % 2 else 'no'}\n" for i in range(40)))
    out = tmp_path / "from_csv.json"
    result = cli("train", str(good), "--steps", "25", "--out", str(out))
    assert result.returncode == 0, result.stderr
    run = load(out)
    assert run.dataset.input_names == ("a", "b", "c") and run.dataset.class_names == ("no", "yes")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n2,oops,y\n")
    assert_user_error(cli("train", str(bad), "--steps", "3", "--out", str(out)), "bad.csv, line 3", "oops")
    assert_user_error(cli("train", str(good), "--steps", "3"), "--out")


def test_divergence_saves_the_last_finite_state_and_exits_1(tmp_path):
    out = tmp_path / "diverged.json"
    example = str(EXAMPLES / "07-learning-rate-too-high.json")
    result = cli("train", example, "--steps", "500", "--out", str(out))
    assert result.returncode == 1
    assert "learning rate 3" in result.stderr and "Traceback" not in result.stderr
    run = load(out)
    assert run.divergence is not None and run.step_count < 500
    assert np.isfinite(run.flat).all()


def test_info_json_has_the_documented_keys(tmp_path):
    result = cli("info", str(DEFAULT_SESSION), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    for key in ("step", "epoch", "layer_sizes", "activations", "loss", "optimizer", "train_loss",
                "test_loss", "train_accuracy", "test_accuracy", "grad_norms"):
        assert key in info
    assert info["layer_sizes"] == [2, 4, 2, 1]
    assert info["activations"] == ["tanh", "tanh", "sigmoid"]
    assert info["loss"] == "bce" and info["optimizer"] == "sgd"
    assert len(info["grad_norms"]) == 3 and all(g >= 0 for g in info["grad_norms"])
    regression = json.loads(cli("info", str(EXAMPLES / "04-sine-regression.json"), "--json").stdout)
    assert regression["train_accuracy"] is None and regression["test_accuracy"] is None


def test_info_prints_a_summary_for_a_person():
    result = cli("info", str(DEFAULT_SESSION))
    assert result.returncode == 0
    assert "circle" in result.stdout and "2 → 4 → 2 → 1" in result.stdout and "‖∂J/∂W‖" in result.stdout


def test_bench_json_reports_every_config_with_ratios():
    result = cli("bench", "--quick", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    configs = {r["config"]: r for r in report["engine"]}
    assert set(configs) == {"a", "b", "c"}
    for r in configs.values():
        assert r["engine_steps_per_s"] > 0 and r["minimal_steps_per_s"] > 0
        assert r["engine_time_ratio_vs_minimal"] > 0
        assert r["grid_100x100_all_neurons_ms"] > 0
    assert configs["b"]["layer_sizes"] == [7, 8, 8, 8, 8, 8, 8, 1]
    assert configs["c"]["layer_sizes"] == [2, 64, 64, 64, 1]


@pytest.mark.gui
def test_screenshot_writes_a_png_of_the_requested_size(tmp_path):
    out = tmp_path / "shot.png"
    result = cli("screenshot", "--out", str(out), "--size", "1000x700", "--steps", "20")
    assert result.returncode == 0, result.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 700)


def test_python_m_sandbox_and_the_console_script_are_the_same_entry_point():
    import sandbox.__main__  # noqa: F401 - importable without side effects
    from importlib.metadata import entry_points

    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("backprop-sandbox") == "sandbox.cli:main"
    assert "from .cli import main" in Path(sandbox.__main__.__file__).read_text()


# ------------------------------------------------------------------ defects, each with its test


def test_train_records_one_evaluation_per_step(tmp_path):
    # The default session has 250 training points in batches of 10: an epoch ends at step 50,
    # where the epoch's evaluation and the one train records at its end used to be two rows.
    out = tmp_path / "trained.json"
    result = cli("train", "--steps", "50", "--out", str(out))
    assert result.returncode == 0, result.stderr
    steps = list(load(out).history.evaluations.steps())
    assert steps and steps[-1] == 50
    assert len(steps) == len(set(steps)), steps
    # Training on, by a number of steps that does not end an epoch, still records the end.
    assert cli("train", str(out), "--steps", "7").returncode == 0
    steps = list(load(out).history.evaluations.steps())
    assert steps[-1] == 57 and len(steps) == len(set(steps)), steps
    # And no steps at all adds no second row for the same step.
    assert cli("train", str(out), "--steps", "0").returncode == 0
    assert list(load(out).history.evaluations.steps()) == steps


def test_info_without_a_file_describes_the_built_in_default():
    result = cli("info")
    assert result.returncode == 0, result.stderr
    assert "built-in default" in result.stdout and "2 → 4 → 2 → 1" in result.stdout
    as_json = json.loads(cli("info", "--json").stdout)
    assert as_json == json.loads(cli("info", str(DEFAULT_SESSION), "--json").stdout)


def cp1252_cli(*args: str) -> subprocess.CompletedProcess:
    """The command with its output in cp1252, as on a Windows console or redirect."""
    env = dict(ENV, PYTHONIOENCODING="cp1252")
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True,
                          encoding="cp1252", timeout=300, env=env)


def test_info_prints_in_ascii_where_the_output_is_not_utf8():
    result = cp1252_cli("info", str(DEFAULT_SESSION))
    assert result.returncode == 0, result.stderr
    assert "UnicodeEncodeError" not in result.stderr
    assert "2 -> 4 -> 2 -> 1" in result.stdout and "||dJ/dW||" in result.stdout


def test_bench_prints_in_ascii_where_the_output_is_not_utf8():
    result = cp1252_cli("bench", "--quick")
    assert result.returncode == 0, result.stderr
    assert "UnicodeEncodeError" not in result.stderr
    assert "ratio <=1.25" in result.stdout and "vs torch >=1.5" in result.stdout
    # Which path each configuration's steps took, and whether the compiler is there at all.
    assert "engine path: " in result.stdout
    assert all(f"({key}) " in result.stdout for key in "abc")
    assert ("compiled" in result.stdout) == compiled.available()


def test_bench_says_when_the_numpy_fallback_is_in_use():
    result = cli("bench", "--quick", "--json", env_extra={compiled.NO_COMPILE_ENV: "1"})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["environment"]["engine_path"].startswith("numpy fallback")
    assert {r["path"] for r in report["engine"]} == {"numpy"}


def test_numbers_are_written_by_the_one_formatter(tmp_path):
    from sandbox.formatting import format_number

    out = tmp_path / "trained.json"
    result = cli("train", "--steps", "30", "--out", str(out))
    assert result.returncode == 0, result.stderr
    ev = load(out).evaluate()
    assert f"train loss {format_number(ev.train_loss)}, test loss {format_number(ev.test_loss)}" in result.stdout


def test_the_app_without_a_display_is_a_one_line_error():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "sandbox"], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert_user_error(result, "DISPLAY")


def test_a_missing_xcb_library_is_a_one_line_error(tmp_path):
    pytest.importorskip("PySide6")
    from sandbox._qt.app import check_platform
    from sandbox.errors import UserError

    fake_plugin = tmp_path / "libqxcb.so"
    fake_plugin.write_text("not a shared library")
    with pytest.raises(UserError, match="xcb platform plugin cannot load") as caught:
        check_platform({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, plugin=str(fake_plugin))
    assert "\n" not in str(caught.value)
    check_platform({"QT_QPA_PLATFORM": "offscreen"}, plugin=str(fake_plugin))  # no display needed
