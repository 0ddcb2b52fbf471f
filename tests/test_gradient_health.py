"""The gradient-health plot: per-layer ‖∂J/∂W‖ and ‖ΔW‖/‖W‖ against step, in a tab beside the
loss plot, checked against a headless run of the same session; idle while hidden."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from qt_helpers import small_run, wait_for_snapshot

from sandbox._qt.gradient_health import GradientHealthPlot
from sandbox.analysis.trends import log_smooth, smoothing_window
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.history import History
from sandbox.session.run import Evaluation
from sandbox.session.snapshot import SeriesDelta

pytestmark = pytest.mark.gui


def deep_sigmoid_run() -> TrainingRun:
    """Five sigmoid layers: the textbook case of vanishing gradients."""
    return TrainingRun.create(
        DataSpec("circle", n_points=200, seed=3),
        network=NetworkSpec((6, 6, 6, 6), ("sigmoid",) * 4),
        hyper=Hyperparameters(optimizer="sgd", learning_rate=0.1, batch_size=10),
        seed=5,
    )


def engine_columns(run: TrainingRun, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """‖∂J/∂W_l‖ and ‖ΔW_l‖/‖W_l‖ of each of ``steps`` steps, from the engine's own passes and
    the weights before and after each step (not from the history)."""
    norms, ratios = [], []
    for _ in range(steps):
        before = [w.copy() for w in run.weights]
        back = run.backward()
        assert run.step()
        norms.append([np.linalg.norm(g) for g in back.grad_weights])
        ratios.append([np.linalg.norm(a - b) / np.linalg.norm(b) for a, b in zip(run.weights, before)])
    return np.array(norms), np.array(ratios)


def show_health_tab(qtbot, window) -> GradientHealthPlot:
    tabs = window.plot_tabs
    index = tabs.indexOf(window.gradient_health)
    assert tabs.tabText(index) == "Gradient health" and tabs.tabText(tabs.indexOf(window.loss_plot)) == "Loss"
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    qtbot.waitUntil(window.gradient_health.isVisible)
    return window.gradient_health


def test_the_plot_draws_every_layers_norm_and_ratio_as_the_engine_computes_them(qtbot, window):
    plot = show_health_tab(qtbot, window)
    window.controller.step(60)
    wait_for_snapshot(qtbot, window.controller, lambda s: s.step == 60)
    qtbot.waitUntil(lambda: len(plot.drawn("grad_norm", 0)[0]) == 60, timeout=5000)

    norms, ratios = engine_columns(small_run(), 60)  # the window's session, headless
    window_rows = smoothing_window(60)
    assert plot.n_layers == norms.shape[1] == 3
    for kind, columns in (("grad_norm", norms), ("update_ratio", ratios)):
        for layer in range(3):
            x, y = plot.drawn(kind, layer)
            np.testing.assert_array_equal(x, np.arange(1, 61))
            np.testing.assert_allclose(y, log_smooth(columns[:, layer], window_rows), rtol=1e-9)
    # The readout names every layer's newest (smoothed) values.
    text = plot.readout_text()
    assert text.startswith("step 60 · ‖∂J/∂W‖: W1 ") and "‖ΔW‖ / ‖W‖: W1 " in text and "W3" in text
    assert [plot.legend_label.text().count(f"W{k}") for k in (1, 2, 3)] == [1, 1, 1]


def test_hidden_it_draws_nothing_and_catches_up_when_shown(qtbot, window):
    plot = window.gradient_health
    assert not plot.isVisible()  # the loss tab is the first
    scheduled = []  # connected after the plot: sees whether it scheduled a redraw
    window.controller.snapshotTaken.connect(lambda _s: scheduled.append(plot._timer.isActive()))  # noqa: SLF001
    window.controller.step(25)
    wait_for_snapshot(qtbot, window.controller, lambda s: s.step == 25)
    assert scheduled and not any(scheduled)
    assert len(plot.drawn("grad_norm", 0)[0]) == 0
    show_health_tab(qtbot, window)
    assert len(plot.drawn("grad_norm", 0)[0]) == 25  # drawn as it is shown, no wait


def test_hovering_reads_out_the_step_under_the_mouse(qtbot, window):
    plot = show_health_tab(qtbot, window)
    window.controller.step(40)
    wait_for_snapshot(qtbot, window.controller, lambda s: s.step == 40)
    qtbot.waitUntil(lambda: len(plot.drawn("grad_norm", 0)[0]) == 40)
    widget = plot.plots["grad_norm"]
    vb = widget.getPlotItem().getViewBox()
    widget.grab()
    scene = vb.mapViewToScene(QPointF(10.0, -2.0))
    qtbot.mouseMove(widget.viewport(), widget.mapFromScene(scene))
    qtbot.waitUntil(lambda: plot.readout_text().startswith("step 10 · "))
    qtbot.mouseMove(window.canvas, QPoint(5, 5))
    qtbot.waitUntil(lambda: plot.readout_text().startswith("step 40 · "))


def test_vanishing_gradients_show_as_a_fan_ordered_by_depth(qtbot, make_controller, themes):
    """On a deep sigmoid network each layer's gradient norm lies below the next one's, and the
    first layer's by more than an order of magnitude below the last: what the plot is for."""
    controller = make_controller(deep_sigmoid_run())
    plot = GradientHealthPlot(controller, themes)
    qtbot.addWidget(plot)
    plot.resize(420, 320)
    plot.show()
    controller.step(200)
    wait_for_snapshot(qtbot, controller, lambda s: s.step == 200)
    qtbot.waitUntil(lambda: len(plot.drawn("grad_norm", 4)[0]) == 200)
    last = [plot.drawn("grad_norm", l)[1][-1] for l in range(5)]
    assert all(a < b for a, b in zip(last, last[1:])), last
    assert last[-1] / last[0] > 10


BIG = 1.7976931348623157e308


@pytest.mark.parametrize("values", [[0.5, BIG, BIG, 0.0, BIG], [math.nan, math.inf, -math.inf, 0.3, math.nan],
                                    [5e-324, 0.0, 5e-324, 1e-300, 5e-324], [0.0] * 5])
def test_extreme_and_missing_values_draw(qtbot, make_controller, themes, values):
    """Overflowed, zero, subnormal and NaN values (a diverged run, a dead layer, a file without
    ratios) draw without raising, and the view range stays finite."""
    controller = make_controller(small_run(network=NetworkSpec((2,), ("tanh",))))
    plot = GradientHealthPlot(controller, themes)
    qtbot.addWidget(plot)
    plot.resize(330, 260)
    plot.show()
    wait_for_snapshot(qtbot, controller)
    columns = History.empty(2).steps.columns
    rows = np.array([[s + 1, 1, 0.5, v, v, v, v] for s, v in enumerate(values)])
    controller.receive(SimpleNamespace(
        run_id=-12, generation=-1, history_steps=SeriesDelta(columns, rows, replace=True),
        history_evaluations=SeriesDelta(History.EVALUATION_COLUMNS, np.zeros((0, 6)), replace=True),
        markers=None, step=6, evaluation=Evaluation(0.5, None, None, None)))
    qtbot.waitUntil(lambda: len(plot.drawn("grad_norm", 0)[0]) in (0, 5) and not plot._dirty)  # noqa: SLF001
    assert not plot.grab().isNull()
    for widget in plot.plots.values():
        (x0, x1), (y0, y1) = widget.getPlotItem().getViewBox().viewRange()
        assert all(math.isfinite(v) for v in (x0, x1, y0, y1))


def test_the_dark_theme_recolours_curves_legend_and_background(qtbot, make_controller, qapp):
    from sandbox._qt.gradient_health import layer_colors
    from sandbox._qt.theme import DARK, LIGHT, ThemeManager

    themes = ThemeManager(qapp, "light")
    controller = make_controller(small_run())
    plot = GradientHealthPlot(controller, themes)
    qtbot.addWidget(plot)
    plot.show()
    controller.step(5)
    qtbot.waitUntil(lambda: len(plot.drawn("grad_norm", 0)[0]) == 5)
    light = [c.name() for c in layer_colors(3, LIGHT)]
    assert [plot._curves["grad_norm"][l].opts["pen"].color().name() for l in range(3)] == light  # noqa: SLF001
    themes.set_mode("dark")
    dark = [c.name() for c in layer_colors(3, DARK)]
    assert dark != light
    assert [plot._curves["update_ratio"][l].opts["pen"].color().name() for l in range(3)] == dark  # noqa: SLF001
    assert all(c in plot.legend_label.text() for c in dark)
    assert plot.plots["grad_norm"].backgroundBrush().color().name() == DARK.base


def test_a_long_history_is_drawn_from_evenly_sampled_smoothed_rows(qtbot, make_controller, themes):
    """5,000 rows: at most MAX_POINTS points a curve, the first and last step among them, each
    the smoothed value of the whole history at that row (smoothing sees every row)."""
    from sandbox._qt.gradient_health import MAX_POINTS
    from sandbox.analysis.trends import sample_rows

    controller = make_controller(small_run(network=NetworkSpec((2,), ("tanh",))))
    plot = GradientHealthPlot(controller, themes)
    qtbot.addWidget(plot)
    plot.resize(330, 260)
    plot.show()
    wait_for_snapshot(qtbot, controller)
    n = 5000
    rng = np.random.default_rng(1)
    values = np.exp(rng.normal(-3, 1, (n, 4)))
    columns = History.empty(2).steps.columns
    rows = np.column_stack([np.arange(1, n + 1), np.ones(n), np.full(n, 0.5), values])
    controller.receive(SimpleNamespace(
        run_id=-13, generation=-1, history_steps=SeriesDelta(columns, rows, replace=True),
        history_evaluations=SeriesDelta(History.EVALUATION_COLUMNS, np.zeros((0, 6)), replace=True),
        markers=None, step=n, evaluation=Evaluation(0.5, None, None, None)))
    qtbot.waitUntil(lambda: len(plot.drawn("grad_norm", 0)[0]) > 0)
    x, y = plot.drawn("update_ratio", 1)
    assert len(x) <= MAX_POINTS and x[0] == 1 and x[-1] == n
    kept = sample_rows(n, MAX_POINTS)
    np.testing.assert_array_equal(x, kept + 1)
    np.testing.assert_allclose(y, log_smooth(values[:, 3], smoothing_window(n))[kept], rtol=1e-9)
    assert sample_rows(10, MAX_POINTS).tolist() == list(range(10))
