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
    lost = threading.Event()

    def watchdog() -> None:  # a lost Ctrl+C would train for ever: fail in seconds instead
        lost.set()
        os.kill(os.getpid(), signal.SIGINT)

    for trial in range(24):
        out = tmp_path / f"out{trial}.json"
        timer = threading.Timer(float(rng.uniform(0.03, 0.25)), os.kill, (os.getpid(), signal.SIGINT))
        rescue = threading.Timer(30, watchdog)
        timer.start()
        rescue.start()
        try:
            status = cli.main(["train", str(source), "--steps", "100000000", "--out", str(out)])
        finally:
            timer.join()
            rescue.cancel()
        assert not lost.is_set(), f"trial {trial}: the Ctrl+C was lost and training went on"
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
    assert checked >= 16


def test_ctrl_c_while_loading_is_never_lost(tmp_path, monkeypatch, capsys):
    """A Ctrl+C that lands while the session loads stops ``train`` before it trains, even when
    it lands in a finaliser, where a KeyboardInterrupt would be swallowed."""
    out = tmp_path / "out.json"
    real_load = cli._load_workspace

    class InterruptedOnCollection:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(10))  # a few bytecodes: the handler runs here, inside the finaliser

    def load_and_interrupt(path):
        InterruptedOnCollection()  # collected at once
        return real_load(path)

    monkeypatch.setattr(cli, "_load_workspace", load_and_interrupt)
    status = cli.main(["train", str(EXAMPLES / "02-spiral-deep.json"), "--steps", "2000", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 130, err
    assert "interrupted before training; nothing saved" in err
    assert not out.exists()


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


# ---------------------------------------------------------------- not a regular file


@pytest.fixture
def irregular(tmp_path):
    """Paths that are not regular files: a named pipe (also one named like a CSV), a folder
    (also one named like a session), a device."""
    fifo, fifo_csv = tmp_path / "pipe.json", tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    os.mkfifo(fifo_csv)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    paths = {"named pipe": [fifo, fifo_csv], "folder": [folder, tmp_path], "device": [Path(os.devnull)]}
    if os.path.exists("/dev/zero"):
        paths["device"].append(Path("/dev/zero"))
    yield paths
    for path in (fifo, fifo_csv):  # release a reader that blocked on a pipe (without the fix)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


@pytest.mark.parametrize("command", [("info",), ("info", "--json"), ("train", "--steps", "3", "--out", "x.json")])
def test_info_and_train_refuse_what_is_not_a_regular_file_at_once(irregular, tmp_path, command):
    for kind, paths in irregular.items():
        for path in paths:
            args = [command[0], str(path), *command[1:]]
            if command[0] == "train":
                args[-1] = str(tmp_path / "x.json")
            result = run_cli(*args, timeout=30)  # a blocked read would time out here
            assert result.returncode == 2, (path, result.stderr)
            one_line_error(result.stderr, str(path), kind)
    assert not (tmp_path / "x.json").exists()


# --------------------------------------------------------------- checks before training


@pytest.fixture
def no_training(monkeypatch):
    """Makes any training step fail the test: the checks must refuse before the first one."""
    from sandbox.session.run import TrainingRun

    def step(self):
        raise AssertionError("train stepped before refusing")

    monkeypatch.setattr(TrainingRun, "step", step)
    monkeypatch.setattr(TrainingRun, "train", lambda self, *a, **k: step(self))


def cli_error(capsys, *args: str) -> str:
    status = cli.main(list(args))
    err = capsys.readouterr().err
    assert status == 2, err
    one_line_error(err)
    return err


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder no new file can be created in: a read-only tmpfs for root (whom permissions do
    not stop), a mode-0555 folder otherwise."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a read-only file system here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_train_refuses_an_out_it_cannot_write_before_training(tmp_path, read_only_folder, no_training, capsys):
    regular = tmp_path / "file.txt"
    regular.write_text("x")
    read_only = tmp_path / "read-only.json"
    read_only.write_text("{}")
    read_only.chmod(0o444)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    cases = {
        str(read_only_folder / "x.json"): "cannot be saved",
        str(tmp_path / "missing" / "x.json"): "does not exist",
        str(regular / "x.json"): "does not exist",
        str(tmp_path): "is a folder",
        str(fifo): "is a named pipe",
        str(read_only): "read-only",
        str(tmp_path / ("n" * 300 + ".json")): "too long",
    }
    before = sorted(os.listdir(tmp_path))
    for out, fragment in cases.items():
        err = cli_error(capsys, "train", str(DEFAULT_SESSION), "--steps", "200000", "--out", out)
        assert fragment in err and out in err, err
    assert sorted(os.listdir(tmp_path)) == before and os.listdir(read_only_folder) == []
    assert read_only.read_text() == "{}"


def test_the_write_check_leaves_nothing_behind_when_it_passes(tmp_path, capsys):
    out = tmp_path / "new.json"
    assert cli.main(["train", "--steps", "3", "--out", str(out)]) == 0
    assert sorted(os.listdir(tmp_path)) == ["new.json"]
    assert cli.main(["train", str(out), "--steps", "3"]) == 0  # over an existing session
    assert sorted(os.listdir(tmp_path)) == ["new.json"] and load(out).step_count == 6


def test_train_refuses_to_save_over_its_csv_input(tmp_path, monkeypatch, no_training, capsys):
    data = tmp_path / "data.csv"
    data.write_text("a,b,label\n1,2,x\n2,1,y\n3,3,x\n0,1,y\n")
    (tmp_path / "link.csv").symlink_to(data)
    text = data.read_text()
    for out in (str(data), str(tmp_path / "." / "data.csv"), str(tmp_path / "link.csv")):
        err = cli_error(capsys, "train", str(data), "--steps", "10", "--out", out)
        assert "input data file" in err and "--out" in err
    monkeypatch.chdir(tmp_path)
    assert "input data file" in cli_error(capsys, "train", "data.csv", "--steps", "10", "--out", "data.csv")
    assert data.read_text() == text


def wide_session(optimizer: str = "adam"):
    from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun

    return TrainingRun.create(DataSpec("circle", n_points=60), network=NetworkSpec((64, 64), ("tanh", "tanh")),
                              hyper=Hyperparameters(optimizer=optimizer, batch_size=10))


def real_size_after(run, steps: int) -> int:
    from sandbox.session.json_text import dumps

    with np.errstate(all="ignore"):
        run.train(steps)
        run.evaluate(record=True)
    return len(dumps(session_file.to_document(run)).encode())


def test_train_refuses_a_session_that_training_would_push_over_the_limit(tmp_path, monkeypatch, capsys):
    """The "50 MB session": it fits now (zeroed optimizer buffers, no last update) but not after
    training.  Refused before training, and the message names what takes the room."""
    source = tmp_path / "wide.json"
    save(wide_session("adam"), source)
    now = source.stat().st_size
    after = real_size_after(load(source), 10)
    assert after > 1.5 * now  # the buffers and the last update fill up
    limit = (now + after) // 2
    monkeypatch.setattr(session_file, "MAX_FILE_BYTES", limit)
    stepped = []
    from sandbox.session.run import TrainingRun

    real_step = TrainingRun.step
    monkeypatch.setattr(TrainingRun, "step", lambda self: stepped.append(1) or real_step(self))
    err = cli_error(capsys, "train", str(source), "--steps", "10", "--out", str(tmp_path / "out.json"))
    assert not stepped and not (tmp_path / "out.json").exists()
    assert "the session would be up to" in err
    assert "parameters take" in err
    assert "stored 4 times: the weights, the adam optimizer's 2 buffers and the last update" in err
    assert "use a smaller network, or sgd" in err
    # The advice holds: with sgd the same network stores 2 copies, and fits.
    sgd = tmp_path / "sgd.json"
    save(wide_session("sgd"), sgd)
    assert real_size_after(load(sgd), 10) < limit
    assert cli.main(["train", str(sgd), "--steps", "10", "--out", str(tmp_path / "sgd-out.json")]) == 0
    assert (tmp_path / "sgd-out.json").stat().st_size <= limit


def test_train_refuses_data_too_large_for_a_session_with_the_right_advice(tmp_path, monkeypatch, no_training, capsys):
    """A CSV of short numbers (1e9 is 4 characters; in a session it is 1000000000.0) makes a
    session several times its size: refused before training, naming the data."""
    data = tmp_path / "data.csv"
    columns = 20
    rows = ["".join(f"x{c}," for c in range(columns)) + "y"]
    rows += [",".join("1e9" if (r + c) % 3 else "-2e9" for c in range(columns)) + f",{r % 2}" for r in range(600)]
    data.write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(session_file, "MAX_FILE_BYTES", 2 * data.stat().st_size)
    err = cli_error(capsys, "train", str(data), "--steps", "5", "--out", str(tmp_path / "out.json"))
    assert "the data takes" in err and err.index("the data takes") < err.index("parameters take")
    assert err.rstrip().endswith("use fewer data points or input columns")


def test_train_trains_when_the_bound_fits_and_the_saved_size_is_within_it(tmp_path, monkeypatch, capsys):
    from sandbox.session.save_checks import bound_after_training
    from sandbox.session.save_image import image_of

    source = tmp_path / "wide.json"
    save(wide_session("adam"), source)
    workspace = session_file.load_workspace(source)
    run = workspace.run
    # What train saves: the run and its runs section (format 4).
    document = session_file.image_document(image_of(workspace))
    bound = bound_after_training(document, 25, run.steps_per_epoch).total
    monkeypatch.setattr(session_file, "MAX_FILE_BYTES", bound)
    out = tmp_path / "out.json"
    assert cli.main(["train", str(source), "--steps", "25", "--out", str(out)]) == 0, capsys.readouterr().err
    assert out.stat().st_size <= bound


# ------------------------------------------------------------------------ stale stop


def test_a_stop_stored_in_the_file_does_not_fail_training_that_does_not_diverge(tmp_path):
    from test_guard import stale_stop_session

    path = tmp_path / "stale.json"
    stale_stop_session(path)
    assert load(path).divergence is not None
    result = run_cli("train", str(path), "--steps", "50")
    assert result.returncode == 0, result.stderr
    assert "Training stopped" not in result.stderr and result.stderr == ""
    saved = load(path)
    assert saved.step_count == 50 and saved.divergence is None
    # A run that does diverge still says so and exits 1 (see test_cli for the whole case).
    result = run_cli("train", str(EXAMPLES / "07-learning-rate-too-high.json"), "--steps", "500",
                     "--out", str(tmp_path / "diverged.json"))
    assert result.returncode == 1 and "Training stopped" in result.stderr
    # Continuing a stopped session by zero steps trains nothing, so nothing stopped it: exit 0,
    # with the stop still in the file (the state it describes is unchanged).
    result = run_cli("train", str(tmp_path / "diverged.json"), "--steps", "0")
    assert result.returncode == 0 and result.stderr == ""
    assert load(tmp_path / "diverged.json").divergence is not None


# ------------------------------------------------------------------------ info warnings


@pytest.mark.parametrize("source", [DEFAULT_SESSION, *sorted(EXAMPLES.glob("*.json"))], ids=lambda p: p.name)
def test_info_prints_no_runtime_warnings_on_huge_weights(source, tmp_path, capsys):
    import warnings

    run = load(source)
    for layer, W in enumerate(run.weights):
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                run.set_weight(layer, i, j, 1e300 if (i + j) % 2 else -1.7e308)
    path = tmp_path / "huge.json"
    save(run, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning fails the command (and so the test)
        for args in (["info", str(path)], ["info", str(path), "--json"]):
            assert cli.main(args) == 0
            assert capsys.readouterr().err == ""
