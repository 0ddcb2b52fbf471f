"""Values pyqtgraph cannot range never break a plot.

Data near ±1.8e308, a loss of 1.797e308, NaN, inf and subnormals are fed to the output view (in
each of its pictures) and to the loss plot.  pytest-qt fails a test on any exception raised in a
Qt virtual method or slot (``Cannot set range [-inf, inf]`` was one), so each test also checks
that the view still paints and that its range is finite.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from qt_helpers import wait_for_snapshot

from sandbox._qt.loss_plot import LossPlot
from sandbox._qt.output_view import OutputView
from sandbox.session import TrainingRun
from sandbox.session.csv_import import parse_csv
from sandbox.session.history import History
from sandbox.session.run import Evaluation
from sandbox.session.snapshot import SeriesDelta

pytestmark = pytest.mark.gui

BIG = 1.7976931348623157e308  # the largest double
TINY = 5e-324  # the smallest subnormal

#: Finite values a CSV can hold (NaN and inf are refused on import; the network produces them).
DATA_VALUES = {
    "largest": [BIG, -BIG, BIG, -BIG, 0.0, 1.0],
    "mixed": [1e308, -1e308, 1.0, -1e308, 1e308, 0.5],
    "subnormal": [TINY, -TINY, 0.0, TINY, 0.0, -TINY],
}
#: Inputs → picture: 1 → curve1d, 2 → the 2-D heatmap, 4 → predicted vs actual.
INPUT_COUNTS = (1, 2, 4)


def _csv_run(values: list[float], n_inputs: int, task: str) -> TrainingRun:
    """A run on 12 rows cycling through ``values``.

    The CSV reader refuses magnitudes above ``MAX_MAGNITUDE`` (1e50), so the rows are read
    with placeholder values and the extreme ones put in the dataset afterwards: the views must
    cope with whatever a dataset holds, not only with what today's readers let in."""
    inputs = np.array([[values[(k + j) % len(values)] for j in range(n_inputs)] for k in range(12)])
    targets = np.array([values[(k + 3) % len(values)] if task == "regression" else k % 2
                        for k in range(12)], dtype=np.float64)
    rows = [",".join(f"{k + j}" for j in range(n_inputs)) + f",{k % 2 if task != 'regression' else k + 0.5}"
            for k in range(12)]
    text = ",".join(f"x{j}" for j in range(n_inputs)) + ",y\n" + "\n".join(rows)
    dataset = dataclasses.replace(parse_csv(text, name="extreme.csv"), inputs=inputs, targets=targets)
    with np.errstate(all="ignore"):
        return TrainingRun.create(dataset)


def _huge_weights(run: TrainingRun) -> TrainingRun:
    """Every weight ±BIG: the outputs overflow to ±inf and inf − inf gives NaN."""
    with np.errstate(all="ignore"):
        for layer, w in enumerate(run.weights):
            for i in range(w.shape[0]):
                for j in range(w.shape[1]):
                    run.set_weight(layer, i, j, BIG if (i + j) % 2 == 0 else -BIG)
    return run


def _assert_finite_range(view_box) -> None:
    """The view's range is finite and not empty, and so are the bounds of what it holds (the
    "A" button and pyqtgraph's auto-range would range the view to those)."""
    for lo, hi in view_box.viewRange():
        assert math.isfinite(lo) and math.isfinite(hi) and lo < hi, view_box.viewRange()
    with np.errstate(all="ignore"):
        bounds = view_box.childrenBounds()
    for axis in bounds:
        assert axis is None or all(math.isfinite(v) for v in axis), bounds


@pytest.mark.parametrize("n_inputs", INPUT_COUNTS)
@pytest.mark.parametrize("task", ["regression", "classification"])
@pytest.mark.parametrize("case", [*DATA_VALUES, "overflowing outputs"])
def test_the_output_view_draws_extreme_data_and_outputs(qtbot, make_controller, themes, case, task, n_inputs):
    if case == "overflowing outputs":
        run = _huge_weights(_csv_run([0.5, -1.0, 2.0, 0.0, -3.0, 1.5], n_inputs, task))
    else:
        run = _csv_run(DATA_VALUES[case], n_inputs, task)
    controller = make_controller(run)
    view = OutputView(controller, themes)
    qtbot.addWidget(view)
    view.resize(330, 330)
    view.show()
    wait_for_snapshot(qtbot, controller)
    qtbot.waitUntil(lambda: view.mode != "")
    qtbot.mouseClick(view.show_test_checkbox, Qt.MouseButton.LeftButton)
    if view.discretize_checkbox.isEnabled():
        qtbot.mouseClick(view.discretize_checkbox, Qt.MouseButton.LeftButton)
    assert not view.grab().isNull()  # paints: bounds, ticks and the image from those values
    _assert_finite_range(view.plot_widget.getPlotItem().getViewBox())


#: Loss columns of made-up history rows: the overflow-prone values, alone and mixed.
LOSS_VALUES = {
    "largest": [0.5, BIG, BIG, -BIG, BIG],
    "mixed": [1e308, -1e308, 1e308, 0.1, -1e308],
    "non-finite": [math.nan, math.inf, -math.inf, 0.3, math.nan],
    "subnormal": [TINY, -TINY, 0.0, TINY, TINY],
    "all at once": [BIG, math.nan, -1e308, TINY, math.inf],
}


@pytest.mark.parametrize("log", [False, True], ids=["linear", "log"])
@pytest.mark.parametrize("case", LOSS_VALUES)
def test_the_loss_plot_draws_extreme_losses(qtbot, make_controller, themes, case, log):
    from qt_helpers import small_run

    controller = make_controller(small_run())
    plot = LossPlot(controller, themes)
    qtbot.addWidget(plot)
    plot.resize(330, 260)
    plot.show()
    wait_for_snapshot(qtbot, controller)
    if log:
        qtbot.mouseClick(plot.log_checkbox, Qt.MouseButton.LeftButton)
    values = LOSS_VALUES[case]
    steps = np.array([[s + 1, 1, v, 0, 0] for s, v in enumerate(values)], dtype=float)
    evals = np.array([[s + 1, 1, v, values[-1 - s], math.nan, math.nan] for s, v in enumerate(values)])
    controller.receive(SimpleNamespace(
        run_id=-11, generation=-1,  # older than any command: taken for its history only
        history_steps=SeriesDelta(History.empty(1).steps.columns, steps, replace=True),
        history_evaluations=SeriesDelta(History.EVALUATION_COLUMNS, evals, replace=True),
        markers=None, step=len(values) + 1, workspace=None,
        evaluation=Evaluation(values[0], None, values[-1], None),  # the live end of the curves
    ))
    qtbot.waitUntil(lambda: plot.series("batch")[0].size == len(values))
    assert not plot.grab().isNull()
    _assert_finite_range(plot.plot_widget.getPlotItem().getViewBox())
    # Toggling the scale re-ranges from the same values.
    qtbot.mouseClick(plot.log_checkbox, Qt.MouseButton.LeftButton)
    assert not plot.grab().isNull()
    _assert_finite_range(plot.plot_widget.getPlotItem().getViewBox())


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_the_extreme_runs_have_the_task_and_values_asked_for(task):
    run = _csv_run(DATA_VALUES["largest"], 2, task)
    assert run.dataset.task == task
    assert np.abs(run.dataset.inputs).max() == BIG
