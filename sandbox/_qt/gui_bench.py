"""``backprop-sandbox bench --gui``: the desktop app's responsiveness, measured offscreen.

For each session (the default one, the largest example, 7 features and six hidden layers of 8
tanh, the widest network the size limits allow with room, the engine benchmark's
2-64-64-64-1 relu on 2,000 points, and the deepest one issue 8 asks to follow one example
through: 8 hidden layers of 16 tanh on 1,000 training examples) it reports:

==============================  ==============================================================
gui_vs_headless_throughput      steps/s with the window open and live ÷ steps/s of a headless
                                loop in the same process; alternated, medians
event_loop_p99_ms               99th percentile lateness of a 16 ms (60 Hz) timer on the GUI
                                thread while training at full speed
redraw_median_ms                applying one snapshot to every view and handling every update and
                                paint it causes (canvas with every heatmap, output view, loss plot)
edit_refresh_p95_ms             from typing a weight into the inspector (paused) to the
                                inspector showing the recomputed gradient
chain_rule_refresh_p95_ms       from selecting another weight (paused) to the inspector's
                                chain-rule tab showing its tables, painted
focus_refresh_p95_ms            from pressing ] (focus the next example; Gradients view, a weight
                                selected, the inspector's Examples tab shown) to every view having
                                handled it and repainted
scrub_p95_ms                    from moving the history scrubber to a random earlier step of a
                                100,000-step run (default session only) to every view showing
                                that step's state, painted
startup_median_s                from starting ``python -m sandbox`` to the window being shown
                                (the sessions that have a file)
==============================  ==============================================================
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import TextIO

import numpy as np

from ..resources import EXAMPLES, default_run
from ..session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from ..session.session_file import load

LARGEST = EXAMPLES / "09-largest-seven-features-6x8.json"


def _widest_run() -> TrainingRun:
    """The engine benchmark's config c (README, "Limits": the app must serve it smoothly)."""
    return TrainingRun.create(
        DataSpec(source="circle", n_points=2000, noise=0.1, train_fraction=0.5, seed=1),
        network=NetworkSpec((64, 64, 64), ("relu",) * 3),
        hyper=Hyperparameters(optimizer="sgd", learning_rate=0.03, batch_size=256),
    )


def _deep_run() -> TrainingRun:
    """Issue 8's case for following one example: 8 hidden layers × 16, 1,000 training examples."""
    return TrainingRun.create(
        DataSpec(source="spiral", n_points=2000, noise=0.1, train_fraction=0.5, seed=1),
        network=NetworkSpec((16,) * 8, ("tanh",) * 8),
        hyper=Hyperparameters(optimizer="adam", learning_rate=0.003, batch_size=32),
    )


#: Session name → (how to build the run, the file to launch the app with, or "" for no
#: start-up timing).
SESSIONS = {
    "default": (default_run, None),
    "largest_7x6x8": (lambda: load(LARGEST), str(LARGEST)),
    "widest_2x64x3": (_widest_run, ""),
    "deep_8x16": (_deep_run, ""),
}


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


def _headless_rate(make_run, seconds: float) -> float:
    run: TrainingRun = make_run()
    run.train(50)
    start = time.perf_counter()
    steps = 0
    with np.errstate(all="ignore"):
        while time.perf_counter() - start < seconds:
            steps += run.train(50)
    return steps / (time.perf_counter() - start)


def _gui_rate(window, seconds: float) -> tuple[float, list[float]]:
    """Play at full speed for ``seconds``; steps/s and the GUI timer's lateness (ms)."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    from .screenshot import settle, wait_until

    controller = window.controller
    controller.reset()
    wait_until(lambda: controller.snapshot is not None and controller.snapshot.step == 0 and not controller.snapshot.playing)
    lateness: list[float] = []
    clock = QElapsedTimer()
    interval = 16  # a 60 Hz animation timer: what a user would notice stalling
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(interval)
    last = {"t": None}

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        if last["t"] is not None:
            lateness.append(max(0.0, now - last["t"] - interval))
        last["t"] = now

    timer.timeout.connect(tick)
    window.training_bar.speed_combo.setCurrentIndex(0)  # "Max speed": training flat out
    controller.play()
    wait_until(lambda: controller.snapshot.playing and controller.snapshot.step > 0)
    settle(500)  # let the worker learn how long the GUI takes per frame
    first = controller.snapshot
    t0 = time.perf_counter()
    clock.start()
    timer.start()
    settle(int(seconds * 1000))
    timer.stop()
    last_snap = controller.snapshot
    t1 = time.perf_counter()
    controller.pause()
    wait_until(lambda: not controller.snapshot.playing)
    rate = (last_snap.step - first.step) / (t1 - t0)
    return rate, lateness


def _redraw_times(window, repeats: int) -> list[float]:
    """Apply alternating snapshots to every view and paint everything they changed.

    The clock stops only when every event the snapshot caused has been handled: plot scenes
    post their updates and the window posts its paint, so those are flushed too.
    """
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from .screenshot import wait_until

    controller = window.controller
    controller.step(25)
    wait_until(lambda: controller.snapshot.step >= 25)
    a = controller.snapshot
    controller.step(25)
    wait_until(lambda: controller.snapshot.step >= 50)
    b = controller.snapshot
    app = QCoreApplication.instance()
    times = []
    for k in range(repeats):
        snap = a if k % 2 else b
        app.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        start = time.perf_counter()
        controller.receive(snap)
        # Scene updates post the viewport paints, which post the window's paint: three rounds.
        for _ in range(3):
            app.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        times.append((time.perf_counter() - start) * 1e3)
    return times


def _edit_refresh_times(window, repeats: int) -> list[float]:
    """Type a weight into the inspector; time until it shows the recomputed gradient."""
    from ..session.naming import WeightRef
    from .screenshot import settle, wait_until

    controller = window.controller
    inspector = window.inspector
    controller.select(WeightRef(0, 0, 0))
    settle(50)
    times = []
    base = float(controller.snapshot.weights[0][0, 0])
    for k in range(repeats):
        value = round(base + 0.05 * (k + 1) * (-1) ** k, 6)
        spin = inspector.value_spin
        spin.setFocus()
        spin.selectAll()
        start = time.perf_counter()
        generation = controller.generation
        spin.setValue(value)
        spin.editingFinished.emit()
        ok = wait_until(lambda: controller.snapshot.generation > generation
                        and float(controller.snapshot.weights[0][0, 0]) == value, 5.0)
        times.append((time.perf_counter() - start) * 1e3 if ok else float("inf"))
        spin.clearFocus()
    return times


def _chain_rule_refresh_times(window, repeats: int) -> list[float]:
    """Select weights one after another with the chain-rule tab open; time until it has
    redrawn its formulas and tables and every paint that caused is done."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from ..session.naming import WeightRef
    from .screenshot import settle

    controller = window.controller
    window.show_chain_rule()
    settle(50)
    sizes = controller.snapshot.layer_sizes
    middle = max(0, len(sizes) // 2 - 1)  # a weight into a hidden neuron in the middle
    refs = [WeightRef(middle, i % sizes[middle], (i * 7 + 1) % sizes[middle + 1]) for i in range(repeats)]
    app = QCoreApplication.instance()
    times = []
    for ref in refs:
        app.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        start = time.perf_counter()
        controller.select(ref)
        for _ in range(3):
            app.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        times.append((time.perf_counter() - start) * 1e3)
    window.inspector.tabs.setCurrentIndex(0)
    return times


def _focus_refresh_times(window, repeats: int) -> list[float]:
    """Press ] (the real shortcut) to focus the next example; time until every view has handled
    the change and repainted (the canvas redraws once the event loop is back, the plots post
    their paints: three rounds of events, as in :func:`_redraw_times`)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
    from PySide6.QtTest import QTest

    from ..session.naming import WeightRef
    from .screenshot import settle

    controller = window.controller
    controller.pause()
    controller.select(WeightRef(1, 0, 0))
    window.canvas.set_view_mode("gradients")
    window.inspector.tabs.setCurrentWidget(window.inspector.example_view)
    window.activateWindow()
    settle(100)
    app = QCoreApplication.instance()
    flags = QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents
    times = []
    for _ in range(repeats):
        app.processEvents(flags)
        before = controller.view_state.focused_example
        start = time.perf_counter()
        QTest.keyClick(window, Qt.Key.Key_BracketRight)
        for _ in range(3):
            app.processEvents(flags)
        elapsed = (time.perf_counter() - start) * 1e3
        changed = controller.view_state.focused_example != before
        times.append(elapsed if changed else float("inf"))  # a key that did nothing fails the target
    window.inspector.tabs.setCurrentIndex(0)
    controller.focus_example(None)
    return times


def _scrub_times(make_run, themes, repeats: int, steps: int = 100_000) -> list[float]:
    """Train ``steps`` headless with checkpoints (as the app keeps them), open a window on that
    workspace, and scrub to random earlier steps: time from the command to the views having
    drawn the state at that step."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from ..session import commands as cmd
    from ..session.workspace import Workspace
    from .main_window import MainWindow
    from .screenshot import settle, wait_until

    workspace = Workspace(make_run())
    with np.errstate(all="ignore"):
        workspace.run.train(steps)
    window = MainWindow(workspace, None, themes, persist_settings=False)
    window.resize(1400, 900)
    window.show()
    wait_until(lambda: window.controller.snapshot is not None)
    settle(200)
    controller = window.controller
    app = QCoreApplication.instance()
    flags = QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents
    rng = np.random.default_rng(7)
    times = []
    for target in rng.integers(0, steps, repeats):
        target = int(target)
        app.processEvents(flags)
        start = time.perf_counter()
        controller.send(cmd.Scrub(target))
        ok = wait_until(lambda: controller.snapshot.step == target
                        and controller.snapshot.workspace.shown_step == target, 5.0)
        for _ in range(3):
            app.processEvents(flags)
        times.append((time.perf_counter() - start) * 1e3 if ok else float("inf"))
    window.skip_unsaved_prompt = True
    window.close()
    settle(50)
    return times


def _startup_times(path: str | None, repeats: int) -> list[float]:
    import tempfile

    # An autosave folder of its own: a killed app's autosave in the user's folder would put the
    # recovery offer (a modal dialog) in front of every timed start.
    env = dict(os.environ, BACKPROP_SANDBOX_STARTUP_PROBE="1", QT_QPA_PLATFORM="offscreen",
               BACKPROP_SANDBOX_AUTOSAVE_DIR=tempfile.mkdtemp(prefix="backprop-sandbox-bench-"))
    command = [sys.executable, "-m", "sandbox"] + ([path] if path else [])
    times = []
    for _ in range(repeats):
        start = time.time()
        out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        shown = [line for line in out.stdout.splitlines() if line.startswith("window-shown ")]
        times.append(float(shown[-1].split()[1]) - start if shown else float("inf"))
    return times


def bench_gui(quick: bool = False, log: TextIO | None = None) -> dict:
    """Measure every session; returns {session name: {metric: value}}."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .app import make_application
    from .main_window import MainWindow
    from .screenshot import settle, wait_until
    from .theme import ThemeManager

    app = make_application()
    themes = ThemeManager(app, "light")
    seconds = 2.0 if quick else 4.0
    rounds = 1 if quick else 2
    results: dict[str, dict[str, float]] = {}
    for name, (make_run, path) in SESSIONS.items():
        if log:
            print(f"timing the app on the {name} session …", file=log)
        window = MainWindow(make_run(), None, themes, persist_settings=False)
        window.resize(1400, 900)
        window.show()
        wait_until(lambda: window.controller.snapshot is not None)
        settle(200)
        ratios, lateness = [], []
        for _ in range(rounds):
            headless = _headless_rate(make_run, seconds)
            gui, late = _gui_rate(window, seconds)
            ratios.append(gui / headless)
            lateness += late
        redraw = _redraw_times(window, 15 if quick else 40)
        edits = _edit_refresh_times(window, 10 if quick else 30)
        chain = _chain_rule_refresh_times(window, 10 if quick else 30)
        focus = _focus_refresh_times(window, 20 if quick else 60)
        window.skip_unsaved_prompt = True
        window.close()
        settle(50)
        results[name] = {
            "gui_vs_headless_throughput": statistics.median(ratios),
            "event_loop_p99_ms": _percentile(lateness, 99),
            "redraw_median_ms": statistics.median(redraw),
            "edit_refresh_p95_ms": _percentile(edits, 95),
            "chain_rule_refresh_p95_ms": _percentile(chain, 95),
            "focus_refresh_p95_ms": _percentile(focus, 95),
            "scrub_p95_ms": (_percentile(_scrub_times(make_run, themes, 15 if quick else 40,
                                                      20_000 if quick else 100_000), 95)
                             if name == "default" else float("nan")),
            "startup_median_s": (statistics.median(_startup_times(path, 2 if quick else 5))
                                 if path != "" else float("nan")),
        }
    return results
