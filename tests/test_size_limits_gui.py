"""At the size limits: the controls offer nothing bigger, and the window stays responsive."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer

from qt_helpers import small_run, wait_for_snapshot
from sandbox._qt.controls import ControlsPanel
from sandbox._qt.theme import ThemeManager
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.config import MAX_ACTIVATIONS, MAX_HIDDEN_LAYERS, MAX_LAYER_WIDTH, check_size

pytestmark = pytest.mark.gui

#: The event loop's worst gap allowed while playing at the limit.  The target is a p99 of 50 ms
#: (README, "Limits"), which this shared 2-core machine gives only borderline at the limit:
#: p99 47-58 ms alone on a quiet moment, several times that inside
#: the full suite under load.  So the test guards
#: against the stalls of many seconds an oversized network caused (30 s for 1500 × 1500), not
#: against the 50 ms target; the figure it measured is printed.
MAX_GAP_MS = 1500.0


def _panel(qtbot, qapp, make_controller, run):
    controller = make_controller(run)
    themes = ThemeManager(qapp, "light")
    panel = ControlsPanel(controller, themes)
    qtbot.addWidget(panel)
    panel.resize(260, 800)
    panel.show()
    wait_for_snapshot(qtbot, controller)
    qtbot.waitUntil(lambda: len(panel.layer_rows) == len(run.network_spec.hidden_sizes))
    return panel


def _fits(layer_sizes, n_examples) -> bool:
    try:
        check_size(tuple(layer_sizes), n_examples)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("hidden", [
    (MAX_LAYER_WIDTH,),  # as wide as allowed: no + on it, another layer fits
    (4,) * MAX_HIDDEN_LAYERS,  # as deep as allowed
    (52,) * 8,  # near the parameter budget: a neuron fits, a layer does not
    (64, 64, 64, 64, 64, 47),  # 65 parameters short of it: neither fits
    (4, 2),
])
def test_the_controls_offer_exactly_the_networks_within_the_limits(qtbot, qapp, make_controller, hidden):
    run = small_run(network=NetworkSpec(hidden, ("tanh",) * len(hidden)))
    panel = _panel(qtbot, qapp, make_controller, run)
    n_in, n_out, n = run.layer_sizes[0], run.layer_sizes[-1], len(run.dataset)
    for k, row in enumerate(panel.layer_rows):
        grown = hidden[:k] + (hidden[k] + 1,) + hidden[k + 1:]
        assert row.plus_button.isEnabled() is (hidden[k] < MAX_LAYER_WIDTH and _fits((n_in, *grown, n_out), n))
    deeper = hidden + (hidden[-1],)
    assert panel.add_layer_button.isEnabled() is (
        len(deeper) <= MAX_HIDDEN_LAYERS and _fits((n_in, *deeper, n_out), n))
    if hidden == (64, 64, 64, 64, 64, 47):
        assert not any(r.plus_button.isEnabled() for r in panel.layer_rows)
        assert not panel.add_layer_button.isEnabled()


def test_the_points_box_stops_where_the_network_would_be_refused(qtbot, qapp, make_controller):
    run = small_run(network=NetworkSpec((64, 64), ("tanh", "tanh")))
    panel = _panel(qtbot, qapp, make_controller, run)
    most = panel.points_spin.maximum()
    assert most == MAX_ACTIVATIONS // (64 + 64 + 1)
    check_size(run.layer_sizes, most)
    with pytest.raises(ValueError):
        check_size(run.layer_sizes, most + 1)


def test_the_window_stays_responsive_while_playing_at_the_limit(qtbot):
    """The benchmark's 2-64-64-64-1 on 2,000 points, at Max speed: a 60 Hz timer's gaps."""
    from sandbox._qt.app import make_application
    from sandbox._qt.main_window import MainWindow

    run = TrainingRun.create(DataSpec("circle", n_points=2000, noise=0.1, seed=1),
                             network=NetworkSpec((64, 64, 64), ("relu",) * 3),
                             hyper=Hyperparameters(batch_size=256))
    app = make_application()
    win = MainWindow(run, None, ThemeManager(app, "light"), persist_settings=False)
    qtbot.addWidget(win, before_close_func=lambda w: setattr(w, "skip_unsaved_prompt", True))
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    controller = win.controller
    start = time.perf_counter()
    wait_for_snapshot(qtbot, controller)
    assert time.perf_counter() - start < 5.0  # the first snapshot: seconds, not 30
    win.training_bar.speed_combo.setCurrentIndex(0)  # Max speed
    controller.play()
    wait_for_snapshot(qtbot, controller, lambda s: s.playing and s.step > 0)
    qtbot.wait(300)  # (not a sleep for a result: the worker learns how long frames take)

    gaps: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(16)
    last = [None]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        if last[0] is not None:
            gaps.append(max(0.0, now - last[0] - 16))
        last[0] = now

    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    qtbot.waitUntil(lambda: clock.elapsed() >= 2000, timeout=10_000)
    timer.stop()
    controller.pause()
    wait_for_snapshot(qtbot, controller, lambda s: not s.playing)
    p99 = float(np.percentile(gaps, 99))
    print(f"event-loop lateness at the limit: p99 {p99:.1f} ms, max {max(gaps):.1f} ms, {len(gaps)} ticks")
    assert gaps and max(gaps) <= MAX_GAP_MS
    win.skip_unsaved_prompt = True
    win.close()
