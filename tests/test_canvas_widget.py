"""The canvas's defects, tested through real events: picking connections, hover, tooltips,
and what the colours and widths of the connections say."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QToolTip
from qt_helpers import wait_for_snapshot
from test_canvas_encoding import wcag_contrast
from test_canvas_hit_testing import distance

from sandbox.session import DataSpec, NetworkSpec, TrainingRun
from sandbox.session.naming import NeuronRef, WeightRef
from sandbox.viewstate import ViewMode

pytestmark = pytest.mark.gui


def vp_point(canvas, scene_xy) -> QPoint:
    """Scene coordinates → the viewport's (which gets the mouse)."""
    return canvas.view.mapFromScene(QPointF(*scene_xy))


def move(qtbot, canvas, scene_xy) -> None:
    qtbot.mouseMove(canvas.view.viewport(), vp_point(canvas, scene_xy))


def click(qtbot, canvas, scene_xy) -> None:
    qtbot.mouseClick(canvas.view.viewport(), Qt.MouseButton.LeftButton, pos=vp_point(canvas, scene_xy))


def off_line_points(lay, c, offset):
    """Integer scene points ``offset`` px (±0.7) from connection c's curve, with every other
    connection at least ``offset`` + 2 px away."""
    x0, x1 = lay.conn_x[c, 0], lay.conn_x[c, -1]
    y0, y1 = lay.conn_y[c, 0], lay.conn_y[c, -1]
    found = []
    for s in np.linspace(0.15, 0.85, 15):
        px, py = x0 + (x1 - x0) * s, y0 + (y1 - y0) * (3 * s**2 - 2 * s**3)
        tx, ty = x1 - x0, (y1 - y0) * 6 * s * (1 - s)
        n = np.hypot(tx, ty)
        for side in (1, -1):
            q = (round(px - side * offset * ty / n), round(py + side * offset * tx / n))
            d = distance(lay, c, *q)
            others = min(distance(lay, k, *q) for k in range(lay.conn_x.shape[0]) if k != c)
            if abs(d - offset) <= 0.7 and others >= offset + 2:
                found.append(q)
    return found


@pytest.mark.parametrize("offset", [3, 4, 5])
def test_a_click_a_few_pixels_off_a_connection_selects_it(qtbot, make_canvas, offset):
    canvas, controller = make_canvas()
    lay = canvas._layout
    picked = 0
    for ref in (WeightRef(0, 1, 2), WeightRef(1, 3, 1), WeightRef(2, 0, 0)):
        c = lay.connection_index(ref.layer, ref.i, ref.j)
        for q in off_line_points(lay, c, offset)[:3]:
            controller.select(None)
            click(qtbot, canvas, q)
            assert controller.view_state.selection == ref, (ref, q)
            picked += 1
    assert picked >= 6


def crossing_points(lay, a, b):
    """Integer scene points near where connections a and b cross, with which one is nearer
    (by ≥ 1 px) and within 6 px."""
    x = np.linspace(lay.conn_x[a, 0], lay.conn_x[a, -1], 2001)
    s = (x - x[0]) / (x[-1] - x[0])
    h = 3 * s**2 - 2 * s**3
    ya = lay.conn_y[a, 0] + (lay.conn_y[a, -1] - lay.conn_y[a, 0]) * h
    yb = lay.conn_y[b, 0] + (lay.conn_y[b, -1] - lay.conn_y[b, 0]) * h
    k = int(np.argmin(np.abs(ya - yb)))
    mx, my = x[k], ya[k]
    points = []
    for dx in range(-8, 9, 2):
        for dy in range(-5, 6):
            q = (round(mx) + dx, round(my) + dy)
            d = {r: distance(lay, lay.connection_index(r.layer, r.i, r.j), *q)
                 for r in (lay.connection_ref(a), lay.connection_ref(b))}
            others = min(distance(lay, c, *q) for c in range(lay.conn_x.shape[0]) if c not in (a, b))
            (ra, da), (rb, db) = sorted(d.items(), key=lambda t: t[1])
            if db - da >= 1.0 and da <= 5.0 and others > da + 1.0:
                points.append((q, ra))
    return points


def test_near_a_crossing_hover_highlights_the_nearer_line_and_a_click_picks_it(qtbot, make_canvas):
    canvas, controller = make_canvas()
    lay = canvas._layout
    a = lay.connection_index(0, 0, 3)  # x1 → hidden 4 and x2 → hidden 1 cross mid-way
    b = lay.connection_index(0, 1, 0)
    points = crossing_points(lay, a, b)
    assert len({r for _, r in points}) == 2 and len(points) >= 8
    blank = canvas.grab().toImage()
    for q, nearer in points[:: max(1, len(points) // 8)]:
        move(qtbot, canvas, q)
        qtbot.waitUntil(lambda n=nearer: controller.view_state.hover == n)
        assert canvas.grab().toImage() != blank  # the hovered line is outlined
        click(qtbot, canvas, q)
        assert controller.view_state.selection == nearer
        assert controller.view_state.hover == nearer  # the highlight was what the click picked


def test_hover_goes_through_the_view_state_as_typed_refs(qtbot, make_canvas):
    canvas, controller = make_canvas()
    seen = []
    controller.view_state.events.hover.connect(lambda new, old=None: seen.append(new))
    qtbot.mouseMove(canvas.view.viewport(), canvas.view.viewport().mapFrom(canvas, canvas.node_center(1, 2)))
    qtbot.waitUntil(lambda: controller.view_state.hover == NeuronRef(1, 2))
    qtbot.mouseMove(canvas.view.viewport(), canvas.view.viewport().mapFrom(canvas, canvas.connection_point(1, 3, 1)))
    qtbot.waitUntil(lambda: controller.view_state.hover == WeightRef(1, 3, 1))
    assert seen[-2:] == [NeuronRef(1, 2), WeightRef(1, 3, 1)]
    # A hover set elsewhere (another view) is drawn too.
    before = canvas.image_for_export()
    controller.view_state.selection = WeightRef(0, 0, 0)
    assert canvas.image_for_export() != before


def test_hover_and_selection_repaint_only_their_marks_not_the_network(qtbot, make_canvas, monkeypatch):
    """The network is a cached pixmap: moving the pointer over it paints the marks again, never
    every connection (which costs tens of ms on a wide network)."""
    from sandbox._qt.canvas import widget as canvas_module

    canvas, controller = make_canvas()
    calls = {"network": 0, "marks": 0}
    paint_network, paint_marks = canvas_module.paint_network, canvas_module.paint_marks

    def counted(name, real):
        def paint(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return paint

    monkeypatch.setattr(canvas_module, "paint_network", counted("network", paint_network))
    monkeypatch.setattr(canvas_module, "paint_marks", counted("marks", paint_marks))
    canvas.view.viewport().repaint()
    qtbot.waitUntil(lambda: calls["marks"] > 0)
    calls.update(network=0, marks=0)
    for k in range(4):
        viewport = canvas.view.viewport()
        qtbot.mouseMove(viewport, viewport.mapFrom(canvas, canvas.connection_point(1, k % 4, k % 2)))
        qtbot.waitUntil(lambda k=k: controller.view_state.hover == WeightRef(1, k % 4, k % 2))
        controller.view_state.selection = NeuronRef(1, k % 4)
        canvas.view.viewport().repaint()
    assert calls["marks"] >= 4
    assert calls["network"] == 0
    # a new frame (a snapshot) paints the network again
    controller.step(1)
    qtbot.waitUntil(lambda: calls["network"] > 0)


def test_the_tooltip_hides_and_hover_clears_when_the_pointer_leaves(qtbot, make_canvas):
    canvas, controller = make_canvas()
    viewport = canvas.view.viewport()
    target = viewport.mapFrom(canvas, canvas.connection_point(0, 1, 2))

    # Leaving the view for the canvas's own bar (the mode buttons).
    qtbot.mouseMove(viewport, target)
    qtbot.waitUntil(lambda: QToolTip.isVisible() and controller.view_state.hover == WeightRef(0, 1, 2))
    qtbot.mouseMove(canvas.mode_buttons["gradients"])
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    assert controller.view_state.hover is None and canvas.hover_text() == ""

    # Leaving the window: the viewport gets a Leave event.
    qtbot.mouseMove(viewport, target)
    qtbot.waitUntil(lambda: QToolTip.isVisible() and controller.view_state.hover == WeightRef(0, 1, 2))
    QApplication.sendEvent(viewport, QEvent(QEvent.Type.Leave))
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    assert controller.view_state.hover is None and canvas.hover_text() == ""

    # A new snapshot after leaving does not bring the tooltip back.
    controller.step()
    wait_for_snapshot(qtbot, controller, lambda s: s.step == 1)
    qtbot.waitUntil(lambda: canvas._snapshot is controller.snapshot)
    assert not QToolTip.isVisible() and controller.view_state.hover is None
    # (QTest still has the pointer over the viewport: really move it off, so the next test's
    # first move to the same point is a move.)
    qtbot.mouseMove(canvas.mode_buttons["weights"])


def test_view_mode_lives_in_the_view_state_and_model_updates_do_not_echo(qtbot, make_canvas):
    canvas, controller = make_canvas()
    vs = controller.view_state
    edits = []
    vs.events.view_mode.connect(lambda new, old=None: edits.append(new))
    clicked = []
    canvas._mode_group.idClicked.connect(clicked.append)
    canvas._mode_group.idToggled.connect(lambda i, on: clicked.append((i, on)))

    qtbot.mouseClick(canvas.mode_buttons["gradients"], Qt.MouseButton.LeftButton)
    assert vs.view_mode is ViewMode.GRADIENTS and canvas.view_mode == "gradients"
    assert edits == [ViewMode.GRADIENTS]

    clicked.clear()
    with qtbot.waitSignal(canvas.viewModeChanged) as signal:
        vs.view_mode = ViewMode.UPDATES  # model → widget
    assert signal.args == ["updates"]
    assert canvas.mode_buttons["updates"].isChecked() and not canvas.mode_buttons["gradients"].isChecked()
    assert clicked == []  # the buttons changed without a signal: nothing echoes back
    assert edits == [ViewMode.GRADIENTS, ViewMode.UPDATES]
    assert canvas.caption_text() == "no update applied yet"

    canvas.set_view_mode("weights")
    assert vs.view_mode is ViewMode.WEIGHTS and canvas.mode_buttons["weights"].isChecked()
    controller.set_view_mode("gradients")
    assert canvas.view_mode == "gradients" and "∂J/∂w" in canvas.caption_text()


# ----------------------------------------------------------------------- colours and widths


def edited_canvas(qtbot, make_canvas, themes, mode):
    """2 → 2 → 1 with W0 = [[+2, −2], [0.05, +0.1]] and W1 = [[0.3], [−0.3]], in ``mode``."""
    themes.set_mode(mode)
    run = TrainingRun.create(DataSpec(), network=NetworkSpec((2,), ("tanh",)))
    canvas, controller = make_canvas(run)
    values = {WeightRef(0, 0, 0): 2.0, WeightRef(0, 0, 1): -2.0, WeightRef(0, 1, 0): 0.05,
              WeightRef(0, 1, 1): 0.1, WeightRef(1, 0, 0): 0.3, WeightRef(1, 1, 0): -0.3}
    for ref, v in values.items():
        controller.edit_weight(ref, v)
    wait_for_snapshot(qtbot, controller, lambda s: s.weights[1][1, 0] == -0.3 and s.weights[0][0, 0] == 2.0,
                      timeout=15000)
    qtbot.waitUntil(lambda: canvas._snapshot is controller.snapshot)
    return canvas, canvas.image_for_export()


def column(image, x, y, half=14):
    """Colours of the pixels x, y−half … y+half."""
    return [image.pixelColor(x, yy) for yy in range(y - half, y + half + 1)]


def ink(colors, base: QColor):
    """How many pixels visibly differ from the background."""
    b = np.array([base.red(), base.green(), base.blue()])
    return sum(np.abs(np.array([c.red(), c.green(), c.blue()]) - b).max() > 24 for c in colors)


def strongest(colors, base: QColor) -> QColor:
    b = np.array([base.red(), base.green(), base.blue()])
    return max(colors, key=lambda c: np.abs(np.array([c.red(), c.green(), c.blue()]) - b).sum())


def nearer(color: QColor, a: str, b: str, base: str) -> str:
    """Which of the hex colours a, b ``color`` is a faded version of: the direction from the
    background to the pixel against the directions to a and b (cosine similarity)."""
    o = np.array(QColor(base).getRgb()[:3], float)
    c = np.array([color.red(), color.green(), color.blue()], float) - o
    va, vb = (np.array(QColor(h).getRgb()[:3], float) - o for h in (a, b))
    cos = [float(c @ v / (np.linalg.norm(c) * np.linalg.norm(v) + 1e-9)) for v in (va, vb)]
    return a if cos[0] > cos[1] else b


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_a_big_positive_weight_is_drawn_thick_in_the_positive_colour(qtbot, make_canvas, themes, mode):
    canvas, image = edited_canvas(qtbot, make_canvas, themes, mode)
    t = themes.theme
    base = QColor(t.base)
    lay = canvas._layout

    def at(ref):
        x, y = canvas._connection_scene_point(ref.layer, ref.i, ref.j)
        return column(image, int(x), int(y))

    big, small, neg = at(WeightRef(0, 0, 0)), at(WeightRef(0, 1, 1)), at(WeightRef(0, 0, 1))
    # +2 and +0.1 are level lines (x1 → h1, x2 → h2): the column crosses them at right angles.
    assert lay.conn_y[lay.connection_index(0, 0, 0), 0] == lay.conn_y[lay.connection_index(0, 0, 0), -1]
    assert nearer(strongest(big, base), t.positive, t.negative, t.base) == t.positive
    assert nearer(strongest(small, base), t.positive, t.negative, t.base) == t.positive
    assert nearer(strongest(neg, base), t.positive, t.negative, t.base) == t.negative
    # |w| = 2 is the largest: drawn at the full width (1.3·node / 2, capped at 6 px) …
    assert ink(big, base) >= 5
    # … and far thicker than |w| = 0.1 (width level 0: a hairline of 1–2 pixels).
    assert ink(big, base) >= ink(small, base) + 3
    assert 1 <= ink(small, base) <= 3


def test_the_thinnest_negative_line_keeps_3_to_1_contrast_in_the_dark_theme(qtbot, make_canvas, themes):
    canvas, image = edited_canvas(qtbot, make_canvas, themes, "dark")
    base = QColor(themes.theme.base)
    # W1[1, 0] = −0.3 and W0[1, 0] = 0.05 are the faintest negative / positive lines drawn.
    for ref in (WeightRef(0, 1, 0), WeightRef(1, 1, 0)):
        x, y = canvas._connection_scene_point(ref.layer, ref.i, ref.j)
        c = strongest(column(image, int(x), int(y), half=3), base)
        contrast = wcag_contrast((c.red(), c.green(), c.blue()), themes.theme.base)
        assert contrast >= 3.0, (ref, c.name(), contrast)
    themes.set_mode("light")


def test_the_exported_image_follows_an_edit(qtbot, make_canvas):
    """The cached network never leaks a stale picture into an export."""
    from qt_helpers import small_run
    from sandbox.session.naming import BiasRef

    canvas, controller = make_canvas(small_run())
    before = canvas.image_for_export()
    controller.edit_bias(BiasRef(0, 1), 3.0)
    wait_for_snapshot(qtbot, controller, lambda s: s.biases[0][1] == 3.0)
    qtbot.waitUntil(lambda: canvas._snapshot.biases[0][1] == 3.0)
    assert canvas.image_for_export() != before
