"""The loss plot: series from snapshot deltas, edit markers, log scale, hover readout."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sandbox.session.naming import BiasRef, WeightRef
from PySide6.QtCore import QPointF, Qt
from qt_helpers import small_run, wait_for_snapshot

from sandbox._qt.loss_plot import LossPlot
from sandbox.formatting import format_number
from sandbox._qt.theme import DARK
from sandbox.session.history import History, Marker
from sandbox.session.run import Evaluation
from sandbox.session.snapshot import SeriesDelta

pytestmark = pytest.mark.gui

#: What a snapshot at step 0 measures: nothing to add to the curves.
NO_EVALUATION = dict(workspace=None, step=0, evaluation=Evaluation(float("nan"), None, None, None))


def make_plot(qtbot, controller, themes) -> LossPlot:
    plot = LossPlot(controller, themes)
    qtbot.addWidget(plot)
    plot.resize(330, 260)
    plot.show()
    return plot


def train_for(qtbot, controller, steps: int):
    """Play until at least ``steps`` steps, pause, and wait for the paused snapshot.

    Paced at 1,000 steps/s: flat out, a busy machine may publish the first snapshot past 4,096
    steps, where the history starts merging old rows and no longer holds one row per step."""
    controller.set_speed(1000.0)
    controller.play()
    wait_for_snapshot(qtbot, controller, lambda s: s.step >= steps, timeout=10_000)
    controller.pause()
    return wait_for_snapshot(qtbot, controller, lambda s: not s.playing)


def wait_until_drawn(qtbot, plot: LossPlot, step: int) -> None:
    """Until the batch curve reaches ``step`` and the view's range includes it."""
    curve = plot._curves["batch"]  # noqa: SLF001 - the drawn data, not the buffer

    def drawn() -> bool:
        x, _ = curve.getData()
        if x is None or len(x) == 0 or x[-1] < step:
            return False
        plot.plot_widget.grab()  # paint: the view auto-ranges lazily, just before painting
        return plot.plot_widget.getPlotItem().getViewBox().viewRange()[0][1] >= step

    qtbot.waitUntil(drawn, timeout=5000)


def test_playing_fills_the_series(qtbot, make_controller, themes):
    controller = make_controller(small_run())
    plot = make_plot(qtbot, controller, themes)
    snap = train_for(qtbot, controller, 120)
    qtbot.waitUntil(lambda: plot.series("batch")[0].size == snap.step)
    steps, loss = plot.series("batch")
    assert np.all(np.diff(steps) > 0) and steps[-1] == snap.step
    assert np.all(np.isfinite(loss))
    for name in ("train", "test"):
        x, y = plot.series(name)
        assert len(x) >= snap.step // snap.steps_per_epoch
        assert np.all(np.diff(x) > 0) and np.all(np.isfinite(y))
    # The legend lies under the plot (never over the curves) and says what each figure is.
    assert plot.plot_widget.getPlotItem().legend is None
    plot_rect = plot.plot_widget.geometry()
    for name, label in plot.legend_labels.items():
        host = label.parentWidget().geometry()
        assert not host.intersects(plot_rect) and host.top() >= plot_rect.bottom()
    assert [plot.legend_text(n).split(" ")[0:2] for n in ("train", "test")] == [["train", "set"], ["test", "set"]]
    assert plot.legend_text("batch").startswith("mini-batch")
    # Its full-set figures are the toolbar's: the snapshot's evaluation, in the one format.
    shown = controller.snapshot
    qtbot.waitUntil(lambda: plot.legend_text("train") == f"train set {format_number(controller.snapshot.evaluation.train_loss)}")
    qtbot.waitUntil(lambda: plot.readout_text().startswith(f"step {controller.snapshot.step:,}"))
    assert shown.step <= controller.snapshot.step
    image = plot.image_for_export()
    assert not image.isNull() and image.width() > 100


def test_an_edit_adds_a_marker_and_hover_shows_values(qtbot, make_controller, themes):
    controller = make_controller(small_run())
    plot = make_plot(qtbot, controller, themes)
    controller.step(60)
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.step == 60)
    controller.edit_weight(WeightRef(0, 0, 0), 0.5)
    qtbot.waitUntil(lambda: len(plot.marker_steps()) == 1)
    assert plot.marker_steps()[0] == snap.step
    controller.step(60)
    wait_for_snapshot(qtbot, controller, lambda s: s.step == 120)
    wait_until_drawn(qtbot, plot, 120)

    view_box = plot.plot_widget.getPlotItem().getViewBox()

    def hover(x: float, y: float) -> None:
        scene_pos = view_box.mapViewToScene(QPointF(x, y))
        qtbot.mouseMove(plot.plot_widget.viewport(), plot.plot_widget.mapFromScene(scene_pos))

    steps, loss = plot.series("batch")
    hover(steps[30], loss[30])
    qtbot.waitUntil(lambda: plot.readout_text().startswith(f"step {int(steps[30]):,} ·"))
    assert "train" in plot.readout_text() and "batch" in plot.readout_text()
    assert "edit" not in plot.readout_text()

    qtbot.wait(30)  # pyqtgraph drops mouse moves that come within 10 ms of the last one
    hover(60, float(np.mean(loss)))
    qtbot.waitUntil(lambda: "w[1][1,1]" in plot.readout_text())


def test_log_scale_survives_zero_and_negative_losses(qtbot, make_controller, themes):
    controller = make_controller(small_run())
    plot = make_plot(qtbot, controller, themes)
    wait_for_snapshot(qtbot, controller)
    qtbot.mouseClick(plot.log_checkbox, Qt.MouseButton.LeftButton)
    assert plot.plot_widget.getPlotItem().getAxis("left").logMode

    # A made-up run whose losses include 0, a negative value, NaN and inf.
    steps_cols = History.empty(1).steps.columns
    rows = np.array([[1, 1, 0.5, 0, 0], [2, 1, 0.0, 0, 0], [3, 1, -1.0, 0, 0], [4, 1, np.nan, 0, 0],
                     [5, 1, np.inf, 0, 0]])
    evals = np.array([[2, 1, 0.0, 0.3, np.nan, np.nan], [4, 1, 0.2, -0.1, np.nan, np.nan]])
    fake = SimpleNamespace(
        run_id=-7,
        generation=-1,  # older than any command: taken for its history only
        history_steps=SeriesDelta(steps_cols, rows, replace=True),
        history_evaluations=SeriesDelta(History.EVALUATION_COLUMNS, evals, replace=True),
        markers=(Marker(3, "b[1][1]: 0 → 1"),),
        **NO_EVALUATION,
    )
    controller.receive(fake)
    qtbot.waitUntil(lambda: plot.series("batch")[0].size == 5)
    assert not plot.grab().isNull()  # painting in log mode raises nothing
    assert list(plot.marker_steps()) == [3]

    qtbot.mouseClick(plot.log_checkbox, Qt.MouseButton.LeftButton)
    assert not plot.plot_widget.getPlotItem().getAxis("left").logMode


def test_partial_replacement_keeps_the_prefix(qtbot, make_controller, themes):
    """After the model merges old history, a delta re-sends the rows from ``start`` on."""
    controller = make_controller(small_run())
    plot = make_plot(qtbot, controller, themes)
    wait_for_snapshot(qtbot, controller)
    cols = History.empty(1).steps.columns
    no_evals = SeriesDelta(History.EVALUATION_COLUMNS, np.zeros((0, 6)), replace=False, start=0)

    def emit(rows, replace, start=0):
        rows = np.array([[s, 1, v, 0, 0] for s, v in rows], dtype=float).reshape(-1, 5)
        delta = SeriesDelta(cols, rows, replace=replace, start=start)
        controller.receive(SimpleNamespace(run_id=-9, generation=-1, history_steps=delta,
                                                      history_evaluations=no_evals, markers=None,
                                                      **NO_EVALUATION))

    emit([(s, 1.0 / s) for s in range(1, 9)], replace=True)
    emit([(9, 0.1)], replace=False, start=8)
    emit([(3.5, 0.3), (5.5, 0.2), (7.5, 0.15), (9, 0.1), (10, 0.09)], replace=False, start=2)
    steps, loss = plot.series("batch")
    assert list(steps) == [1, 2, 3.5, 5.5, 7.5, 9, 10]
    assert loss[-1] == pytest.approx(0.09)


def test_new_run_clears_the_plot_and_theme_recolours(qtbot, make_controller, themes):
    controller = make_controller(small_run())
    plot = make_plot(qtbot, controller, themes)
    controller.step(40)
    wait_for_snapshot(qtbot, controller, lambda s: s.step == 40)
    controller.edit_bias(BiasRef(0, 0), 1.0)
    qtbot.waitUntil(lambda: plot.series("batch")[0].size == 40 and len(plot.marker_steps()) == 1)
    first_run = controller.snapshot.run_id

    controller.new_session(small_run(seed=5))
    wait_for_snapshot(qtbot, controller, lambda s: s.run_id != first_run)
    qtbot.waitUntil(lambda: plot.series("batch")[0].size == 0)
    assert plot.series("train")[0].size == 0 and plot.marker_steps().size == 0
    qtbot.waitUntil(lambda: "No steps yet" in plot.readout_text())

    themes.set_mode("dark")
    assert plot.plot_widget.backgroundBrush().color().name() == DARK.base


def test_the_curves_end_at_the_values_the_toolbar_shows(qtbot, make_controller, themes):
    """History samples full-set losses once an epoch; the curves still end at the newest
    snapshot's values, so the plot and the toolbar never disagree."""
    controller = make_controller(small_run())
    plot = make_plot(qtbot, controller, themes)
    controller.step(7)  # less than an epoch: nothing recorded yet
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.step == 7)
    qtbot.waitUntil(lambda: plot.series("train")[0].size == 1)
    steps, train = plot.series("train")
    assert steps[-1] == 7 and train[-1] == snap.evaluation.train_loss
    assert plot.series("test")[1][-1] == snap.evaluation.test_loss


def test_a_diverged_run_with_astronomical_losses_still_draws(qtbot, make_controller, themes):
    from sandbox.resources import EXAMPLES
    from sandbox.session.session_file import load

    run = load(EXAMPLES / "07-learning-rate-too-high.json")
    with np.errstate(all="ignore"):
        run.train(100)  # refused at step 6
        run.evaluate(record=True)  # an overflowed loss, kept as the largest double
    controller = make_controller(run)
    plot = make_plot(qtbot, controller, themes)
    qtbot.waitUntil(lambda: plot.series("batch")[0].size == 5)
    assert not plot.grab().isNull()
    qtbot.mouseClick(plot.log_checkbox, Qt.MouseButton.LeftButton)
    assert not plot.grab().isNull()
