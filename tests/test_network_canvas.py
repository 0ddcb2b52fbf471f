"""The network canvas, driven through real widgets: clicks, hovers, the view switch, layouts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QWidget
from qt_helpers import wait_for_snapshot

from sandbox.session.naming import NeuronRef, WeightRef
from sandbox._qt.canvas import NetworkCanvas
from sandbox._qt.canvas.layout import MIN_NODE
from sandbox.formatting import format_number
from sandbox.resources import EXAMPLES, default_run
from sandbox.session import DataSpec, NetworkSpec, TrainingRun
from sandbox.session.csv_import import parse_csv
from sandbox.session.session_file import load

pytestmark = pytest.mark.gui


def viewport_pos(canvas: NetworkCanvas, point: QPoint) -> QPoint:
    """A canvas-widget point in the coordinates of the view's viewport (which gets the mouse)."""
    return canvas.view.viewport().mapFrom(canvas, point)


def click(qtbot, canvas: NetworkCanvas, point: QPoint) -> None:
    qtbot.mouseClick(canvas.view.viewport(), Qt.MouseButton.LeftButton, pos=viewport_pos(canvas, point))


def hover(qtbot, canvas: NetworkCanvas, point: QPoint) -> None:
    qtbot.mouseMove(canvas.view.viewport(), viewport_pos(canvas, point))
    qtbot.waitUntil(lambda: canvas.hover_text() != "", timeout=2000)


def test_default_run_has_a_column_per_layer_with_the_right_node_count(make_canvas):
    canvas, controller = make_canvas(default_run())
    sizes = controller.snapshot.layer_sizes
    for layer, n in enumerate(sizes):
        rects = [canvas.node_rect(layer, unit) for unit in range(n)]
        assert len({round(r.left()) for r in rects}) == 1, "a layer's nodes share one column"
        assert all(r.width() >= MIN_NODE for r in rects)
        with pytest.raises(IndexError):
            canvas.node_rect(layer, n)
    lefts = [canvas.node_rect(layer, 0).left() for layer in range(len(sizes))]
    assert lefts == sorted(lefts) and len(set(lefts)) == len(sizes)
    assert not canvas.image_for_export().isNull()


def test_clicks_select_neurons_and_connections_and_empty_space_clears(qtbot, make_canvas):
    canvas, controller = make_canvas()
    with qtbot.waitSignal(controller.selectionChanged):
        click(qtbot, canvas, canvas.node_center(1, 2))
    assert controller.selection == NeuronRef(1, 2)

    click(qtbot, canvas, canvas.connection_point(1, 3, 1))
    assert controller.selection == WeightRef(1, 3, 1)  # W_1[3, 1]: j=1, i=3

    click(qtbot, canvas, canvas.node_center(0, 1))
    assert controller.selection == NeuronRef(0, 1)

    empty = QPoint(4, canvas.height() - 4)  # left of the input column, below everything
    click(qtbot, canvas, empty)
    assert controller.selection is None


def test_selection_from_elsewhere_is_drawn(qtbot, make_canvas):
    canvas, controller = make_canvas()
    before = canvas.image_for_export()
    controller.select(WeightRef(0, 0, 1))
    assert canvas.image_for_export() != before


def test_hover_shows_live_weight_and_follows_an_edit_without_moving(qtbot, make_canvas):
    canvas, controller = make_canvas()
    snap = controller.snapshot
    hover(qtbot, canvas, canvas.connection_point(0, 1, 2))
    text = canvas.hover_text()
    assert text.startswith("w[1][2,3]")  # 1-based, the same name the inspector and markers use
    assert f"w: {format_number(snap.weights[0][1, 2], signed=True)}" in text
    assert "∂J/∂w:" in text and "last Δw: none yet" in text

    controller.edit_weight(WeightRef(0, 1, 2), 0.5)
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[0][1, 2] == 0.5)
    qtbot.waitUntil(lambda: f"w: {format_number(0.5, signed=True)}" in canvas.hover_text())

    hover(qtbot, canvas, canvas.node_center(1, 0))
    text = canvas.hover_text()
    assert text.startswith("hidden 1, neuron 1")
    assert "bias:" in text and "mean activation:" in text and "mean δ:" in text

    hover(qtbot, canvas, canvas.node_center(0, 0))
    assert canvas.hover_text().startswith("x1") and "mean value:" in canvas.hover_text()


def test_view_switch_buttons_set_the_mode_and_emit(qtbot, make_canvas):
    canvas, controller = make_canvas()
    assert canvas.view_mode == "weights"
    with qtbot.waitSignal(canvas.viewModeChanged) as signal:
        qtbot.mouseClick(canvas.mode_buttons["gradients"], Qt.MouseButton.LeftButton)
    assert signal.args == ["gradients"]
    assert canvas.view_mode == "gradients"
    assert "∂J/∂w" in canvas.caption_text()

    with qtbot.waitSignal(canvas.viewModeChanged) as signal:
        qtbot.mouseClick(canvas.mode_buttons["updates"], Qt.MouseButton.LeftButton)
    assert signal.args == ["updates"]
    assert canvas.caption_text() == "no update applied yet"

    controller.step()
    wait_for_snapshot(qtbot, controller, lambda s: s.last_update is not None)
    qtbot.waitUntil(lambda: canvas.caption_text().startswith("Δw"))

    with qtbot.assertNotEmitted(canvas.viewModeChanged):
        canvas.set_view_mode("updates")
    canvas.set_view_mode("weights")
    assert canvas.mode_buttons["weights"].isChecked()
    with pytest.raises(ValueError):
        canvas.set_view_mode("bogus")


def test_phase_strip_follows_step_phase(qtbot, make_canvas):
    canvas, controller = make_canvas()
    assert canvas.phase_strip.text() == "forward → backward → update"
    assert canvas.phase_strip.highlighted() == ""
    assert canvas.phase_strip.states() == ("next", "", "")
    canvas.set_view_mode("gradients")
    for phase, ran in (("forward", "forward"), ("backward", "backward"), ("idle", "update")):
        controller.step_phase()
        wait_for_snapshot(qtbot, controller, lambda s, p=phase: s.phase == p and s.generation == controller.generation)
        assert canvas.phase_strip.highlighted() == ran
        if phase == "backward":
            assert "of the batch" in canvas.caption_text()
            assert canvas.phase_strip.states() == ("done", "ran", "next")
    assert "full training set" in canvas.caption_text()


def test_a_change_between_phases_drops_them_and_the_strip_says_so(qtbot, make_canvas):
    canvas, controller = make_canvas()
    for phase in ("forward", "backward"):
        controller.step_phase()
        wait_for_snapshot(qtbot, controller, lambda s, p=phase: s.phase == p and s.generation == controller.generation)
    controller.set_hyperparameters(learning_rate=0.1)
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.generation == controller.generation)
    assert snap.phase == "idle" and snap.last_phase is None and snap.step == 0
    assert canvas.phase_strip.highlighted() == ""  # no update ran: nothing to claim


def test_wide_network_keeps_nodes_legible_and_scrolls(qtbot, make_canvas):
    run = TrainingRun.create(DataSpec(source="spiral", n_points=200), network=NetworkSpec((16,) * 8, ("relu",) * 8))
    canvas, controller = make_canvas(run, size=(700, 480))
    assert canvas.view.verticalScrollBar().maximum() > 0, "16 nodes at ≥ 22 px do not fit 480 px: scroll"
    visible = canvas.view.geometry()
    for layer, n in enumerate(controller.snapshot.layer_sizes):
        for unit in range(n):
            rect = canvas.node_rect(layer, unit)  # scrolls it into view
            assert rect.width() >= MIN_NODE
            assert visible.contains(rect.toRect()), (layer, unit, rect, visible)
    # A click still selects after scrolling.
    click(qtbot, canvas, canvas.connection_point(8, 15, 0))
    assert controller.selection == WeightRef(8, 15, 0)

    small = canvas.node_rect(1, 0).width()
    canvas.resize(1200, 1000)
    qtbot.waitUntil(lambda: canvas.node_rect(1, 0).width() > small)


@pytest.mark.parametrize("sizes", [(6,), (16,) * 8])
def test_the_layout_follows_the_canvas_size_not_its_scroll_bars(qtbot, make_canvas, sizes):
    # A layout that followed the viewport could show and hide the scroll bars forever: each
    # bar shrinks the viewport, the smaller layout fits, the bar hides, the bigger one does not.
    run = TrainingRun.create(DataSpec(source="blobs"), network=NetworkSpec(sizes, ("relu",) * len(sizes)))
    canvas, _ = make_canvas(run, size=(640, 430))
    viewport = canvas.view.viewport()
    scene = canvas._scene.sceneRect()
    layout = canvas._layout
    # What a scroll bar showing or hiding does to the view: its viewport shrinks or grows.
    for dw, dh in ((-15, 0), (0, -15), (-15, -15), (0, 0)):
        size = viewport.size()
        viewport.resize(size.width() + dw, size.height() + dh)
        qtbot.waitUntil(lambda: viewport.size().width() == size.width() + dw)
        assert canvas._scene.sceneRect() == scene and canvas._layout is layout, (dw, dh)
        viewport.resize(size)
    canvas.resize(700, 480)
    qtbot.waitUntil(lambda: canvas._layout is not layout)


def test_relayout_when_the_architecture_changes(qtbot, make_canvas):
    canvas, controller = make_canvas()
    controller.reconfigure(network=NetworkSpec((3, 5, 2), ("tanh", "relu", "tanh")))
    wait_for_snapshot(qtbot, controller, lambda s: s.layer_sizes[1:4] == (3, 5, 2))
    qtbot.waitUntil(lambda: canvas._layout.sizes == controller.snapshot.layer_sizes)
    canvas.node_rect(2, 4)
    with pytest.raises(IndexError):
        canvas.node_rect(2, 5)


def test_one_dimensional_data_draws_curves(qtbot, make_canvas):
    canvas, controller = make_canvas(load(EXAMPLES / "04-sine-regression.json"))
    assert controller.snapshot.grid is not None and not controller.snapshot.grid.is_2d
    assert canvas._frame.curves is not None
    hover(qtbot, canvas, canvas.node_center(2, 3))
    assert "mean activation:" in canvas.hover_text()
    assert not canvas.grab().isNull()


def test_csv_data_with_four_inputs_draws_plain_nodes(qtbot, make_canvas):
    rows = ["a,b,c,d,label"] + [f"{i % 7},{(i * 3) % 5},{i / 10},{(i % 4) - 2},{'yes' if i % 3 else 'no'}"
                                for i in range(40)]
    dataset = parse_csv("\n".join(rows), name="four.csv")
    canvas, controller = make_canvas(TrainingRun.create(dataset))
    snap = controller.snapshot
    assert snap.grid is None and snap.layer_sizes[0] == 4
    assert canvas._frame.node_fill is not None
    hover(qtbot, canvas, canvas.node_center(0, 2))
    assert canvas.hover_text().startswith("c")
    click(qtbot, canvas, canvas.connection_point(0, 3, 0))
    assert controller.selection == WeightRef(0, 3, 0)


def test_theme_switch_recolours(qtbot, make_canvas, themes):
    canvas, _ = make_canvas()
    light = canvas.image_for_export()
    themes.set_mode("dark")
    dark = canvas.image_for_export()
    assert dark.pixelColor(2, 2).lightness() < 80 < light.pixelColor(2, 2).lightness()
    themes.set_mode("light")


def test_canvas_is_a_widget_taking_controller_and_themes(make_controller, themes, qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    canvas = NetworkCanvas(make_controller(), themes, parent)
    assert canvas.parent() is parent
    assert canvas.hover_text() == ""
