"""The command line as a finished tool: help lists every command, a typo gets a suggestion,
--version names what it runs on, the progress bar fits 80 columns."""

from __future__ import annotations

import io
import subprocess
import sys

from sandbox.cli import COMMANDS
from sandbox.terminal import Progress
from sandbox.session import TrainingRun


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_command_with_one_line_each():
    result = _cli("--help")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    start = lines.index("commands:")
    listed = [line.split()[0] for line in lines[start + 1 : start + 1 + len(COMMANDS)]]
    assert listed == list(COMMANDS)
    assert max(len(line) for line in lines) <= 100


def test_a_mistyped_command_suggests_the_nearest():
    result = _cli("trian", "--steps", "5")
    assert result.returncode == 2
    assert "did you mean 'train'?" in result.stderr and "Traceback" not in result.stderr
    assert "did you mean 'export'?" in _cli("exprot").stderr
    nothing = _cli("zzzzqqq")
    assert nothing.returncode == 2 and "neither a command" in nothing.stderr


def test_version_names_the_app_python_numpy_qt_and_pyqtgraph():
    result = _cli("--version")
    assert result.returncode == 0
    import numpy
    import pyqtgraph

    text = result.stdout
    for fragment in ("Backprop Sandbox", f"Python {sys.version.split()[0]}", f"numpy {numpy.__version__}",
                     "Qt (PySide6) 6.", f"pyqtgraph {pyqtgraph.__version__}"):
        assert fragment in text


def test_the_progress_bar_shows_percent_rate_times_and_the_last_evaluations_loss_in_80_columns():
    run = TrainingRun.create()
    stream = io.StringIO()
    progress = Progress(600, stream=stream)
    for done in range(1, 601):
        run.step()
        if done % 50 == 0:
            progress.show(done, run)
    progress.finish()
    frames = [f for f in stream.getvalue().replace("\r", "\n").split("\n") if f.strip()]
    last = frames[-1]
    evaluation = run.history.evaluations.last()
    from sandbox.formatting import format_number

    assert last.startswith("100%") and "600/600" in last and "steps/s" in last
    assert f"loss {format_number(float(evaluation[2]))}" in last, "the full-set loss at the last evaluation"
    assert "<" in last  # elapsed < remaining
    assert all(len(frame) <= 80 for frame in frames)


def _fake_report():
    from sandbox.bench import CONFIGS, GUI_TARGETS

    engine = []
    for cfg in CONFIGS:
        sizes = [len(cfg.features), *cfg.hidden, 1]
        engine.append({"config": cfg.key, "title": cfg.title, "path": "compiled", "layer_sizes": sizes, "activation": cfg.activation,
                       "batch_size": cfg.batch, "engine_steps_per_s": 123456.0, "minimal_steps_per_s": 98765.0,
                       "engine_time_ratio_vs_minimal": 0.27, "torch_steps_per_s": 12345.0,
                       "engine_speedup_vs_torch": 9.99, "grid_100x100_all_neurons_ms": 1.23,
                       "full_evaluation_ms": 0.45})
    gui = {name: {metric: 12.345 for metric in GUI_TARGETS} for name in ("default", "largest_7x6x8", "deep_8x16")}
    env = {"python": "3.11.7", "numpy": "2.4.6", "torch": "2.5.1+cpu", "engine_path": "compiled (numba 0.68.1)"}
    return {"engine": engine, "environment": env, "gui": gui}


def test_the_bench_table_fits_100_columns_and_the_wide_one_has_more():
    from sandbox.bench import format_table, short_sizes

    assert short_sizes([7, 8, 8, 8, 8, 8, 8, 1]) == "7-8×6-1" and short_sizes([2, 8, 8, 1]) == "2-8-8-1"
    narrow = format_table(_fake_report())
    assert max(len(line) for line in narrow.splitlines()) <= 100, narrow
    assert "(b) 7-8×6-1 tanh, batch 500" in narrow and "grid 100² ms" not in narrow and "bench --wide" in narrow
    wide = format_table(_fake_report(), wide=True)
    assert "grid 100² ms" in wide and "eval ms" in wide and "7-8-8-8-8-8-8-1 tanh, batch 500" in wide
    assert max(len(line) for line in wide.splitlines()) > 100
