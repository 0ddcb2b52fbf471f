"""The What-if tab, driven through its widgets against a real worker; numbers checked against
the engine (never against the code under test)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from qt_helpers import show_view, small_run, wait_for_snapshot, worker_barrier
from sandbox._qt.inspector import Inspector
from sandbox._qt.inspector import what_if as what_if_module
from sandbox.engine import loss_and_gradients
from sandbox.formatting import format_number
from sandbox.session import Hyperparameters
from sandbox.session import commands as cmd
from sandbox.session.naming import BiasRef, NeuronRef, WeightRef

pytestmark = pytest.mark.gui

WEIGHT = WeightRef(0, 1, 2)  # from x2 to hidden-1 neuron 3
OTHER = WeightRef(1, 3, 0)


@pytest.fixture
def setup(qtbot, make_controller, themes):
    run = small_run(hyper=Hyperparameters(l1=0.003, l2=0.01))
    controller = make_controller(run)
    controller.test_run = run  # its (read-only) training data, for the engine checks
    inspector = Inspector(controller, themes)
    show_view(qtbot, controller, inspector, 1200, 240)
    tab_bar = inspector.tabs.tabBar()
    index = next(i for i in range(inspector.tabs.count()) if inspector.tabs.tabText(i) == "What if")
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(index).center())
    view = inspector.tabs.widget(index)
    assert inspector.tabs.currentIndex() == index and view.isVisible()
    yield view, controller, inspector


def engine(controller, snap, settings=None):
    """(J, grad_weights, grad_biases) from the engine at the snapshot's parameters, with
    ``settings`` (ref → value) changed."""
    run = controller.test_run
    weights = [W.copy() for W in snap.weights]
    biases = [b.copy() for b in snap.biases]
    for ref, value in (settings or {}).items():
        if isinstance(ref, WeightRef):
            weights[ref.layer][ref.i, ref.j] = value
        else:
            biases[ref.layer][ref.j] = value
    spec = run.network_spec
    return loss_and_gradients(weights, biases, spec.hidden_activations + (spec.output_activation,), spec.loss,
                              run.X_train, run.Y_train, l1=snap.hyper.l1, l2=snap.hyper.l2)


def grad(controller, snap, ref) -> float:
    _, gw, gb = engine(controller, snap)
    return float(gw[ref.layer][ref.i, ref.j] if isinstance(ref, WeightRef) else gb[ref.layer][ref.j])


def value(snap, ref) -> float:
    return float(snap.weights[ref.layer][ref.i, ref.j] if isinstance(ref, WeightRef) else snap.biases[ref.layer][ref.j])


def type_delta(qtbot, view, text: str) -> None:
    spin = view.delta_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)


def wait_for_curve(qtbot, view, controller, ref):
    """Wait until the loss-along plot shows ``ref`` at the current snapshot's step; returns
    (curve, snapshot)."""
    qtbot.waitUntil(lambda: view.along_plot.curve is not None and view.along_plot.curve.ref == ref
                    and view.along_plot.curve.step == controller.snapshot.step, timeout=10_000)
    return view.along_plot.curve, controller.snapshot


# ----------------------------------------------------------------------- the field


def test_typing_a_change_shows_the_predicted_change_at_once(qtbot, setup):
    view, controller, _ = setup
    controller.select(WEIGHT)
    snap = controller.snapshot
    g = grad(controller, snap, WEIGHT)
    assert "w[1][2,3]" in view.title_label.text()
    for text, delta in (("0.05", 0.05), ("-1.5", -1.5)):
        type_delta(qtbot, view, text)  # no Enter: every keystroke updates the prediction
        shown = view.predicted_label.text()
        assert shown.endswith(format_number(g * delta, 6, signed=True)), shown
        assert format_number(g, 6, signed=True) in shown
        # The loss-along plot marks w + Δw, where tangent and curve can be compared.
        line = view.along_plot.what_if_line
        assert line.isVisible() and line.value() == value(snap, WEIGHT) + delta


def test_apply_makes_the_edit_and_shows_the_actual_change_beside_the_prediction(qtbot, setup):
    view, controller, _ = setup
    controller.select(WEIGHT)
    before = controller.snapshot
    w = value(before, WEIGHT)
    type_delta(qtbot, view, "0.2")
    qtbot.mouseClick(view.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.actual_label.text().startswith("Actual"), timeout=5000)
    after = wait_for_snapshot(qtbot, controller, lambda s: value(s, WEIGHT) != w)
    assert value(after, WEIGHT) == w + 0.2
    j_before = float(engine(controller, before)[0])
    actual = float(engine(controller, before, {WEIGHT: w + 0.2})[0]) - j_before
    predicted = grad(controller, before, WEIGHT) * 0.2
    assert after.objective - before.objective == pytest.approx(actual, rel=1e-9)
    text = view.actual_label.text()
    assert format_number(actual, 6, signed=True) in text
    assert format_number(predicted, 6, signed=True) in text
    assert text.endswith(format_number(actual / predicted))
    # The loss plot's marker for the edit (its text is the history's) states both.
    qtbot.waitUntil(lambda: controller.history.markers and "predicted" in controller.history.markers[-1].text)
    marker = controller.history.markers[-1].text
    assert marker.startswith(f"{WEIGHT.name}: {format_number(w)} \u2192 {format_number(w + 0.2)}")
    assert f"predicted {format_number(predicted, signed=True)}" in marker
    assert f"actual {format_number(actual, signed=True)}" in marker


def test_an_input_has_no_bias_and_a_neuron_means_its_bias(qtbot, setup):
    view, controller, _ = setup
    controller.select(NeuronRef(0, 1))
    assert "input has no bias" in view.title_label.text()
    assert not view.apply_button.isEnabled() and not view.delta_spin.isEnabled()
    controller.select(NeuronRef(2, 1))
    assert view.title_label.text() == "What if the bias b[2][2] changes?" and view.apply_button.isEnabled()
    curve, snap = wait_for_curve(qtbot, view, controller, BiasRef(1, 1))
    assert curve.gradient == pytest.approx(grad(controller, snap, BiasRef(1, 1)), rel=1e-12)
    controller.select(None)
    assert "Select a weight" in view.title_label.text() and not view.apply_button.isEnabled()


# -------------------------------------------------------------- loss along the weight


def test_the_loss_along_the_weight_is_the_engines_with_its_tangent_and_next_step(qtbot, setup):
    view, controller, _ = setup
    controller.select(WEIGHT)
    curve, snap = wait_for_curve(qtbot, view, controller, WEIGHT)
    w = value(snap, WEIGHT)
    xs, ys = view.along_plot.curve_item.getData()
    assert len(xs) > 50 and xs[0] < w < xs[-1]
    for k in (0, len(xs) // 3, len(xs) - 1):
        assert ys[k] == pytest.approx(float(engine(controller, snap, {WEIGHT: xs[k]})[0]), rel=1e-12)
    # The tangent touches the curve at (w, J) with slope ∂J/∂w.
    tx, ty = view.along_plot.tangent_item.getData()
    g = grad(controller, snap, WEIGHT)
    assert (ty[1] - ty[0]) / (tx[1] - tx[0]) == pytest.approx(g, rel=1e-9)
    assert ty[0] + g * (w - tx[0]) == pytest.approx(snap.objective, rel=1e-9)
    (cx,), (cy,) = view.along_plot.current_item.getData()
    assert (cx, cy) == (w, pytest.approx(snap.objective, rel=1e-12))
    # The next step's landing place: w + the optimizer's next Δw.
    (nx,), (ny,) = view.along_plot.next_item.getData()
    step = float(snap.next_update[0][WEIGHT.layer][WEIGHT.i, WEIGHT.j])
    assert nx == w + step and view.along_plot.next_line.value() == nx
    assert ny == pytest.approx(float(engine(controller, snap, {WEIGHT: w + step})[0]), rel=1e-12)
    assert format_number(g, signed=True) in view.along_plot.caption.text()


def test_it_follows_every_step_while_paused(qtbot, setup):
    view, controller, _ = setup
    controller.select(WEIGHT)
    wait_for_curve(qtbot, view, controller, WEIGHT)
    for expected in (1, 4):
        controller.step(3 if expected == 4 else 1)
        wait_for_snapshot(qtbot, controller, lambda s: s.step == expected)
        curve, snap = wait_for_curve(qtbot, view, controller, WEIGHT)
        assert curve.step == expected and curve.value == value(snap, WEIGHT)


def test_while_training_it_refreshes_a_few_times_a_second_not_every_snapshot(qtbot, setup):
    view, controller, _ = setup
    controller.select(WEIGHT)
    wait_for_curve(qtbot, view, controller, WEIGHT)
    sent: list[float] = []
    snapshots: list[int] = []
    original = controller.send

    def spy(command):
        if isinstance(command, cmd.LossAlong):
            sent.append(time.monotonic())
        original(command)

    controller.send = spy
    controller.snapshotChanged.connect(lambda s: snapshots.append(s.step) if s.playing else None)
    start = time.monotonic()
    controller.play()
    try:
        qtbot.waitUntil(lambda: len(sent) >= 4 and len(snapshots) >= 20, timeout=20_000)
    finally:
        controller.pause()
        controller.send = original
    elapsed = time.monotonic() - start
    gaps = np.diff(sent)
    assert len(sent) <= elapsed / (what_if_module.REFRESH_MS / 1000) + 2
    assert gaps.min() >= 0.9 * what_if_module.REFRESH_MS / 1000
    assert len(snapshots) > len(sent)  # not one query per snapshot
    worker_barrier(qtbot, controller)
    curve, snap = wait_for_curve(qtbot, view, controller, WEIGHT)  # caught up once paused
    assert not snap.playing
    assert curve.value == value(snap, WEIGHT)


def test_slow_answers_space_the_queries_out_further_while_training(qtbot, setup, monkeypatch):
    """A network whose queries take long (a slow loss_along here) is asked less often, so the
    queries hold up only a fraction of training."""
    import sandbox.session.loss_probes as lp

    view, controller, _ = setup
    controller.select(WEIGHT)
    wait_for_curve(qtbot, view, controller, WEIGHT)
    original_along = lp.loss_along
    # Slow, in the worker's thread: a deliberate cost to measure against, not a wait in the test.
    monkeypatch.setattr(lp, "loss_along", lambda *a: (time.sleep(0.15), original_along(*a))[1])
    sent: list[float] = []
    original = controller.send
    controller.send = lambda command: (sent.append(time.monotonic()) if isinstance(command, cmd.LossAlong) else None,
                                       original(command))
    controller.play()
    try:
        qtbot.waitUntil(lambda: len(sent) >= 4, timeout=20_000)
    finally:
        controller.pause()
        controller.send = original
    assert view.round_trip >= 0.15
    gaps = np.diff(sent[1:])  # the first went out before the slow answers were measured
    assert gaps.min() >= what_if_module.THROTTLE * 0.15 * 0.9


def test_a_hidden_tab_asks_nothing_and_catches_up_when_shown(qtbot, setup):
    view, controller, inspector = setup
    controller.select(WEIGHT)
    wait_for_curve(qtbot, view, controller, WEIGHT)
    inspector.tabs.setCurrentIndex(0)
    assert not view.isVisible()
    sent = []
    original = controller.send
    controller.send = lambda command: (sent.append(command), original(command))
    controller.step(2)
    wait_for_snapshot(qtbot, controller, lambda s: s.step == 2)
    controller.select(OTHER)
    assert not [c for c in sent if isinstance(c, cmd.WHAT_IF_QUERIES)]
    inspector.tabs.setCurrentWidget(view)
    curve, snap = wait_for_curve(qtbot, view, controller, OTHER)
    assert curve.step == 2
    controller.send = original


@pytest.mark.parametrize("query", [
    cmd.LossAlong(WEIGHT, (-0.5, 0.5)), cmd.GradientCheck(WEIGHT), cmd.EvaluateLoss(WEIGHT, 0.25),
    cmd.LossSurface(WEIGHT, OTHER, (0.0, 0.1), (0.0, 0.1)),
])
@pytest.mark.parametrize("before", [cmd.Step(1), cmd.Pause(), cmd.EditWeight(OTHER, 0.5)])
def test_a_query_does_not_swallow_the_snapshot_a_command_before_it_needs(qtbot, query, before):
    """A step (or pause, or edit) and a query applied in one batch: the step's snapshot is
    still published (a query used to cancel it, and a paused view then never caught up), and
    published before the query is answered."""
    from sandbox._qt.worker import TrainingWorker

    worker = TrainingWorker(small_run())
    snapshots = []
    answers = []
    order = []
    worker.snapshotReady.connect(lambda: (snapshots.append(worker.take()), order.append("snapshot")),
                                 Qt.ConnectionType.DirectConnection)
    worker.resultReady.connect(lambda c, v: (answers.append(v), order.append("answer")),
                               Qt.ConnectionType.DirectConnection)
    # Queued before the thread starts, so the worker applies both in its first batch.
    worker.submit(before, 1)
    worker.submit(query, 1)
    worker.start()
    try:
        qtbot.waitUntil(lambda: bool(answers and snapshots and snapshots[-1] is not None), timeout=5000)
        snap = snapshots[-1]
        if isinstance(before, cmd.Step):
            assert snap.step == 1
        if isinstance(before, cmd.EditWeight):
            assert snap.weights[1][3, 0] == 0.5
        assert snap.generation == 1
        # ... and before the answer: a query answered means what came before it is on screen
        # (qt_helpers.worker_barrier relies on it).
        assert order == ["snapshot", "answer"]
    finally:
        assert worker.stop()


# ---------------------------------------------------------------------- gradient check


def test_the_gradient_check_row_matches_the_engine(qtbot, setup):
    view, controller, _ = setup
    for ref in (WEIGHT, BiasRef(0, 2), WeightRef(2, 1, 0)):
        controller.select(ref)
        snap = controller.snapshot
        qtbot.waitUntil(lambda: view.check_result is not None and view.check_result.ref == ref, timeout=10_000)
        check = view.check_result
        w, h = value(snap, ref), check.h
        fd = (float(engine(controller, snap, {ref: w + h})[0]) - float(engine(controller, snap, {ref: w - h})[0])) / (2 * h)
        analytic = grad(controller, snap, ref)
        assert check.numeric == pytest.approx(fd, rel=1e-8)
        assert check.analytic == pytest.approx(analytic, rel=1e-12)
        assert abs(fd - analytic) / abs(analytic) < 1e-6 and check.relative_error < 1e-6
        text = view.check_label.text()
        assert format_number(check.numeric, 6, signed=True) in text
        assert format_number(check.analytic, 6, signed=True) in text
        assert format_number(check.relative_error, 2) in text


# ----------------------------------------------------------------------- two weights


def test_pinning_a_weight_shows_j_over_both_with_the_descent_arrow_and_the_path(qtbot, setup):
    view, controller, _ = setup
    controller.select(WEIGHT)
    assert "Pin a parameter" in view.surface_plot.caption.text()
    qtbot.mouseClick(view.pin_button, Qt.MouseButton.LeftButton)
    assert controller.view_state.pinned == WEIGHT
    assert view.pin_button.text() == f"Unpin {WEIGHT.name}"
    assert "select another" in view.surface_plot.caption.text()
    controller.step()
    wait_for_snapshot(qtbot, controller, lambda s: s.step == 1)
    controller.select(OTHER)
    qtbot.waitUntil(lambda: view.surface_plot.result is not None, timeout=15_000)
    result = view.surface_plot.result
    snap = controller.snapshot
    assert result.refs == (WEIGHT, OTHER) and result.step == snap.step
    assert result.point == (value(snap, WEIGHT), value(snap, OTHER))
    n = len(result.values_a)
    for p, q in ((0, 0), (n // 2, n - 1), (3, 7)):
        expected = float(engine(controller, snap, {WEIGHT: result.values_a[p], OTHER: result.values_b[q]})[0])
        assert result.losses[p, q] == pytest.approx(expected, rel=1e-12)
    # The heatmap shows these numbers, J over the pinned (x) and the selected (y) weight.
    image = view.surface_plot.image.image
    assert image.shape == (len(result.values_b), n)
    assert float(image[7, 3]) == pytest.approx(result.losses[3, 7], rel=1e-6)
    # The arrow starts at the current point and points along −∇J.
    (x0, x1), (y0, y1) = view.surface_plot.arrow_line.getData()
    ga, gb = grad(controller, snap, WEIGHT), grad(controller, snap, OTHER)
    assert (x0, y0) == result.point
    direction = np.array([x1 - x0, y1 - y0])
    assert np.dot(direction, [-ga, -gb]) / np.linalg.norm(direction) / np.hypot(ga, gb) == pytest.approx(1.0)
    assert view.surface_plot.arrow_head.isVisible()
    # The path: the two weights over the snapshots received, the current point last.
    for k in (2, 3, 4):
        controller.step()
        wait_for_snapshot(qtbot, controller, lambda s: s.step == k)
        qtbot.waitUntil(lambda: view.surface_plot.trail[-1] == (value(controller.snapshot, WEIGHT),
                                                                value(controller.snapshot, OTHER)))
    trail = view.surface_plot.trail
    assert len(trail) >= 4  # steps 0 (before pinning), 1, 2, 3, 4
    xs, ys = view.surface_plot.trail_item.getData()
    assert (xs[-1], ys[-1]) == trail[-1]
    qtbot.mouseClick(view.pin_button, Qt.MouseButton.LeftButton)
    assert controller.view_state.pinned is None and view.surface_plot.result is None
    assert view.pin_button.text() == "Pin for the 2-D view"


def test_a_new_run_forgets_the_pinned_weight(qtbot, setup):
    view, controller, _ = setup
    controller.select(WEIGHT)
    qtbot.mouseClick(view.pin_button, Qt.MouseButton.LeftButton)
    assert controller.view_state.pinned == WEIGHT
    controller.new_session(small_run())
    qtbot.waitUntil(lambda: controller.view_state.pinned is None)
    assert view.title_label.text().startswith("Select a weight")
