"""The output view: decision boundary, regression surface, 1-D curve, predicted vs actual."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from qt_helpers import small_run, wait_for_snapshot

from sandbox._qt.output_view import OutputView
from sandbox._qt.theme import DARK, LIGHT
from sandbox.session import DataSpec, NetworkSpec, TrainingRun
from sandbox.session.csv_import import parse_csv

pytestmark = pytest.mark.gui


def make_view(qtbot, controller, themes) -> OutputView:
    view = OutputView(controller, themes)
    qtbot.addWidget(view)
    view.resize(330, 330)
    view.show()
    return view


def wait_for_mode(qtbot, view: OutputView, mode: str, controller) -> None:
    wait_for_snapshot(qtbot, controller)
    qtbot.waitUntil(lambda: view.mode == mode, timeout=5000)


def csv_dataset(task: str, n: int = 120):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 4))
    if task == "regression":
        y = [f"{v:.5f}" for v in X @ np.array([1.0, -2.0, 0.5, 0.3])]
    else:
        y = [str(int(v)) for v in (X[:, 0] + X[:, 1] > 0)]
    lines = ["a,b,c,d,target"] + [",".join(f"{v:.5f}" for v in row) + f",{t}" for row, t in zip(X, y)]
    return parse_csv("\n".join(lines), name="four.csv")


def test_classification_2d_heatmap_and_points(qtbot, make_controller, themes):
    controller = make_controller(small_run())
    view = make_view(qtbot, controller, themes)
    wait_for_mode(qtbot, view, "classification2d", controller)
    snap = controller.snapshot
    r = snap.grid.resolution
    image = view.image_item.image
    assert image.shape == (r, r) and image.dtype == np.float32 and image.flags.c_contiguous
    assert np.allclose(image, snap.grid.image(len(snap.layer_sizes) - 1, 0))
    assert view.image_item.isVisible()
    assert view.point_count("train") == len(snap.dataset.train_indices)
    assert view.point_count("test") == 0 and not view.test_points_visible()
    axis = view.plot_widget.getPlotItem().getAxis("bottom")
    assert axis.labelText == snap.dataset.input_names[0]

    qtbot.mouseClick(view.show_test_checkbox, Qt.MouseButton.LeftButton)
    assert view.show_test_checkbox.isChecked()
    assert view.test_points_visible()
    assert view.point_count("test") == len(snap.dataset.test_indices)

    qtbot.mouseClick(view.show_test_checkbox, Qt.MouseButton.LeftButton)
    assert not view.test_points_visible()


def test_discretize_shows_hard_classes(qtbot, make_controller, themes):
    controller = make_controller(small_run())
    view = make_view(qtbot, controller, themes)
    wait_for_mode(qtbot, view, "classification2d", controller)
    soft = view.image_item.image.copy()
    assert len(np.unique(soft)) > 2

    qtbot.mouseClick(view.discretize_checkbox, Qt.MouseButton.LeftButton)
    assert view.discretize_checkbox.isChecked()
    hard = view.image_item.image
    assert set(np.unique(hard)) <= {0.0, 1.0}
    assert np.array_equal(hard, (soft > 0.5).astype(np.float32))

    # A new snapshot keeps the discretized picture.
    controller.step(5)
    wait_for_snapshot(qtbot, controller, lambda s: s.step >= 5)
    qtbot.waitUntil(lambda: set(np.unique(view.image_item.image)) <= {0.0, 1.0})


def test_three_blobs_blend_class_colours(qtbot, make_controller, themes):
    run = small_run(data=DataSpec("blobs", n_points=300), network=NetworkSpec((6,), ("tanh",)))
    controller = make_controller(run)
    view = make_view(qtbot, controller, themes)
    wait_for_mode(qtbot, view, "classification2d", controller)
    controller.step(150)
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.step >= 150)
    r = snap.grid.resolution
    qtbot.waitUntil(lambda: view.image_item.image.shape == (r, r, 4))
    assert view.image_item.image.dtype == np.uint8
    assert view.point_count("train") == len(snap.dataset.train_indices)

    qtbot.mouseClick(view.discretize_checkbox, Qt.MouseButton.LeftButton)
    colours = np.unique(view.image_item.image.reshape(-1, 4), axis=0)
    assert 1 <= len(colours) <= 3


def test_sine_draws_a_fitted_curve(qtbot, make_controller, themes):
    run = small_run(data=DataSpec("sine", n_points=200, noise=0.2), network=NetworkSpec((8,), ("tanh",)))
    controller = make_controller(run)
    view = make_view(qtbot, controller, themes)
    wait_for_mode(qtbot, view, "curve1d", controller)
    snap = controller.snapshot
    r = snap.grid.resolution
    x, y = view.curve_item.getData()
    assert len(x) == r and len(y) == r
    assert x[0] == pytest.approx(snap.grid.extent[0]) and x[-1] == pytest.approx(snap.grid.extent[1])
    assert np.allclose(y, snap.grid.activations[-1][:, 0])
    assert not view.image_item.isVisible()
    assert view.point_count("train") == len(snap.dataset.train_indices)
    assert not view.discretize_checkbox.isEnabled()


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_four_input_csv_plots_predicted_vs_actual(qtbot, make_controller, themes, task):
    run = TrainingRun.create(csv_dataset(task), network=NetworkSpec((3,), ("tanh",)))
    controller = make_controller(run)
    view = make_view(qtbot, controller, themes)
    wait_for_mode(qtbot, view, "predicted_vs_actual", controller)
    snap = controller.snapshot
    assert snap.grid is None
    assert view.point_count("train") == len(snap.dataset.train_indices)
    left = view.plot_widget.getPlotItem().getAxis("left").labelText
    assert ("predicted" in left) if task == "regression" else ("P(class" in left)

    qtbot.mouseClick(view.show_test_checkbox, Qt.MouseButton.LeftButton)
    assert view.point_count("test") == len(snap.dataset.test_indices)


def test_new_run_rebuilds_and_theme_recolours(qtbot, make_controller, themes):
    controller = make_controller(small_run())
    view = make_view(qtbot, controller, themes)
    wait_for_mode(qtbot, view, "classification2d", controller)
    assert view.plot_widget.backgroundBrush().color().name() == LIGHT.base

    themes.set_mode("dark")
    assert view.plot_widget.backgroundBrush().color().name() == DARK.base

    controller.new_session(small_run(data=DataSpec("multigauss", n_points=200)))
    wait_for_mode(qtbot, view, "regression2d", controller)
    levels = view.image_item.getLevels()
    assert levels[0] == pytest.approx(-levels[1])

    image = view.image_for_export()
    assert not image.isNull() and image.width() > 100


def test_the_heatmap_covers_the_whole_plane_while_playing_and_paused(qtbot, make_controller, themes):
    """The worker sends a coarser grid while playing; the image must still span the extent."""
    controller = make_controller()
    view = make_view(qtbot, controller, themes)
    wait_for_snapshot(qtbot, controller)

    def covered():
        snap = controller.snapshot
        x0, x1, y0, y1 = snap.grid.extent
        rect = view.image_item.mapRectToParent(view.image_item.boundingRect())
        return rect.left() <= x0 and rect.right() >= x1 and rect.top() <= y0 and rect.bottom() >= y1

    assert covered()
    controller.play()
    wait_for_snapshot(qtbot, controller, lambda s: s.playing and s.grid.resolution != 100)
    qtbot.waitUntil(covered, timeout=2000)
    controller.pause()
    wait_for_snapshot(qtbot, controller, lambda s: not s.playing)
    qtbot.waitUntil(covered, timeout=2000)
