"""The command line checks before it trains (the target, the size, input and output), stops
cleanly on Ctrl+C, refuses files that are not regular files at once, and ignores a stale stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from sandbox import cli
from sandbox.resources import DEFAULT_SESSION, EXAMPLES
from sandbox.session import session_file
from sandbox.session.session_file import load, save

ENV = dict(os.environ, QT_QPA_PLATFORM="offscreen")


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def one_line_error(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backprop-sandbox: error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def state_and_history(run) -> tuple:
    """Everything a saved session continues from, as comparable bytes."""
    return (
        run.flat.tobytes(), run.opt_state.t,
        tuple((k, v[0].tobytes()) for k, v in sorted(run.opt_state.buffers.items())),
        run.permutation.tobytes(), run.cursor, run.step_count, run.epoch,
        None if run.last_update is None else run.last_update.tobytes(),
        str(run.shuffle_rng.bit_generator.state),
        run.history.steps.array().tobytes(), run.history.evaluations.array().tobytes(),
    )


# ------------------------------------------------------------------------------ Ctrl+C


def expected_after(source: Path, steps: int):
    """The session ``train`` saves after exactly ``steps`` steps (and its closing evaluation)."""
    run = load(source)
    with np.errstate(all="ignore"):
        assert run.train(steps) == steps
        last = run.history.evaluations.last()
        run.evaluate(record=last is None or float(last[0]) != run.step_count)
    return run


def test_ctrl_c_at_any_moment_saves_a_consistent_session_and_an_exact_count(tmp_path, capsys):
    """SIGINT lands at varied moments of training, many times: every saved session equals the
    one an uninterrupted run of the printed number of steps saves, counters, cursor, optimizer
    state and history alike."""
    source = tmp_path / "start.json"
    start = load(EXAMPLES / "02-spiral-deep.json")
    start.set_hyperparameters(optimizer="adam", batch_size=7, learning_rate=0.01)
    assert start.train(3) == 3
    save(start, source)
    rng = np.random.default_rng(7)
    checked = 0
    for trial in range(30):
        out = tmp_path / f"out{trial}.json"
        timer = threading.Timer(float(rng.uniform(0.05, 0.4)), os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            status = cli.main(["train", str(source), "--steps", "100000000", "--out", str(out)])
        finally:
            timer.join()
        err = capsys.readouterr().err
        assert status == 130, err
        found = re.search(r"interrupted after (\d+) steps; progress saved", err)
        if found is None:  # it landed before training started: nothing is saved then
            assert "interrupted" in err and not out.exists()
            continue
        steps = int(found.group(1))
        saved = load(out)
        assert saved.step_count == 3 + steps
        assert state_and_history(saved) == state_and_history(expected_after(source, steps)), trial
        checked += 1
    assert checked >= 20


def test_ctrl_c_in_a_terminal_stops_train_and_saves(tmp_path):
    """The real thing: a separate process in a terminal, interrupted once its progress bar shows
    that it trains."""
    import pty
    import select
    import time

    out = tmp_path / "out.json"
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "train", str(EXAMPLES / "02-spiral-deep.json"),
                             "--steps", "100000000", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=follower, text=True, env=ENV)
    os.close(follower)
    terminal = b""
    try:
        deadline = time.monotonic() + 60
        while b"steps/s" not in terminal and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if ready:
                terminal += os.read(leader, 4096)
        assert b"steps/s" in terminal, terminal  # the progress bar: it trains
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=60)
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = terminal.decode("utf-8", "replace")
    assert proc.returncode == 130, stderr
    steps = int(re.search(r"interrupted after (\d+) steps; progress saved", stderr).group(1))
    assert "Traceback" not in stderr and f"saved {out}" in stdout
    saved = load(out)
    assert saved.step_count == steps
    assert state_and_history(saved) == state_and_history(expected_after(EXAMPLES / "02-spiral-deep.json", steps))
