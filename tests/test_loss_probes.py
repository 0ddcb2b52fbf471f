"""The what-if maths against the engine: J at other values, the gradient check, the first-order
prediction, what-if edits and their markers.  No Qt."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sandbox.analysis import what_if as wi
from sandbox.engine import loss_and_gradients
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session import commands as cmd
from sandbox.session import loss_probes as lp
from sandbox.session.naming import BiasRef, WeightRef
from sandbox.session.session_file import loads_session, to_document
from sandbox.session.json_text import dumps
from sandbox.session.snapshot import HistoryCursor, make_snapshot

#: Sessions covering every loss, L1 and L2, and several activations.
SESSIONS = {
    "bce, tanh, l1 + l2": dict(data=DataSpec("circle", n_points=80, seed=1),
                               network=NetworkSpec((4, 3), ("tanh", "tanh")),
                               hyper=Hyperparameters(l1=0.003, l2=0.01)),
    "cross-entropy, sigmoid, l2": dict(data=DataSpec("blobs", n_points=90, seed=2),
                                       network=NetworkSpec((5,), ("sigmoid",)),
                                       hyper=Hyperparameters(l2=0.02, optimizer="adam", learning_rate=0.01)),
    "mse, softplus and swish, l1": dict(data=DataSpec("plane", n_points=60, seed=3),
                                        network=NetworkSpec((3, 3), ("softplus", "swish")),
                                        hyper=Hyperparameters(l1=0.01, optimizer="momentum")),
    "bce, elu, no penalty": dict(data=DataSpec("xor", n_points=60, seed=4),
                                 network=NetworkSpec((4,), ("elu",)), hyper=Hyperparameters()),
}


def make(name: str, steps: int = 7) -> TrainingRun:
    run = TrainingRun.create(**SESSIONS[name], seed=5)
    run.train(steps)
    return run


def every_parameter(run: TrainingRun):
    for layer, W in enumerate(run.weights):
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                yield WeightRef(layer, i, j)
        for j in range(W.shape[1]):
            yield BiasRef(layer, j)


def engine(run: TrainingRun, weights=None, biases=None):
    """(J, grad_weights, grad_biases) straight from the engine's public contract."""
    spec = run.network_spec
    return loss_and_gradients(
        run.weights if weights is None else weights, run.biases if biases is None else biases,
        spec.hidden_activations + (spec.output_activation,), spec.loss, run.X_train, run.Y_train,
        l1=run.hyper.l1, l2=run.hyper.l2,
    )


def engine_grad(run: TrainingRun, ref) -> float:
    _, gw, gb = engine(run)
    return float(gw[ref.layer][ref.i, ref.j]) if isinstance(ref, WeightRef) else float(gb[ref.layer][ref.j])


def engine_objective_at(run: TrainingRun, settings: dict) -> float:
    """J with some parameters set (a dict ref → value), from the engine, on copies."""
    weights = [W.copy() for W in run.weights]
    biases = [b.copy() for b in run.biases]
    for ref, value in settings.items():
        if isinstance(ref, WeightRef):
            weights[ref.layer][ref.i, ref.j] = value
        else:
            biases[ref.layer][ref.j] = value
    return float(engine(run, weights, biases)[0])


def snapshot_of(run: TrainingRun):
    return make_snapshot(run, generation=0, run_id=0, cursor=HistoryCursor(), grid_resolution=None)


# ------------------------------------------------------------------------ gradient check


@pytest.mark.parametrize("name", SESSIONS)
def test_the_finite_difference_matches_the_engines_gradient_to_1e_6(name):
    run = make(name)
    checked = 0
    for ref in every_parameter(run):
        result = lp.gradient_check(run, ref)
        analytic = engine_grad(run, ref)
        assert result.analytic == pytest.approx(analytic, rel=1e-12, abs=1e-15)
        if abs(analytic) < 1e-6:
            continue  # a relative error of a gradient that is nearly 0 measures rounding only
        assert abs(result.numeric - analytic) / abs(analytic) < 1e-6, ref.name
        assert result.relative_error < 1e-6
        checked += 1
    assert checked >= 10


def test_the_gradient_check_is_a_central_difference_of_the_engines_loss():
    run = make("bce, tanh, l1 + l2")
    ref = WeightRef(1, 2, 0)
    w = float(run.weights[1][2, 0])
    h = 1e-3
    result = lp.gradient_check(run, ref, h)
    by_hand = (engine_objective_at(run, {ref: w + h}) - engine_objective_at(run, {ref: w - h})) / (2 * h)
    assert result.numeric == pytest.approx(by_hand, rel=1e-9)
    assert result.h == h and result.value == w and result.step == run.step_count
    assert result.relative_error == pytest.approx(abs(result.numeric - result.analytic)
                                                  / max(abs(result.numeric), abs(result.analytic)))


@pytest.mark.parametrize("h", [0.0, -1e-5, math.nan, math.inf, True])
def test_a_bad_step_is_refused(h):
    with pytest.raises(ValueError, match="finite-difference step"):
        lp.gradient_check(make("bce, elu, no penalty"), WeightRef(0, 0, 0), h)


# ------------------------------------------------------------------- J at other values


def test_j_along_a_weight_in_a_one_weight_network_is_the_hand_computed_parabola():
    """One linear unit, mse, inputs 1 and 2, targets 0: J(w) = ½·((w + b)² + (2w + b)²)/2 + l2/2·w²."""
    run = TrainingRun.create(DataSpec("plane", n_points=40, seed=0), features=("x1",),
                             network=NetworkSpec((), ()), hyper=Hyperparameters(l2=0.5))
    run.X_train = np.array([[1.0], [2.0]])
    run.Y_train = np.zeros((2, 1))
    b, w = float(run.biases[0][0]), float(run.weights[0][0, 0])
    v = np.linspace(-1, 1, 11)
    losses = lp.objectives_at(run, [WeightRef(0, 0, 0)], v[:, None])
    np.testing.assert_allclose(losses, 0.5 * ((v + b) ** 2 + (2 * v + b) ** 2) / 2 + 0.25 * v**2, rtol=1e-13)
    losses = lp.objectives_at(run, [BiasRef(0, 0)], v[:, None])
    np.testing.assert_allclose(losses, 0.5 * ((w + v) ** 2 + (2 * w + v) ** 2) / 2 + 0.25 * w**2, rtol=1e-13)
    both = lp.objectives_at(run, [WeightRef(0, 0, 0), BiasRef(0, 0)], np.array([[0.5, -1.0], [2.0, 0.25]]))
    np.testing.assert_allclose(both, [0.5 * (0.25 + 0.0) / 2 + 0.0625, 0.5 * (2.25**2 + 4.25**2) / 2 + 1.0], rtol=1e-13)


@pytest.mark.parametrize("name", SESSIONS)
def test_j_along_every_parameter_matches_the_engine_at_each_value(name, monkeypatch):
    run = make(name)
    monkeypatch.setattr(lp, "MAX_STACKED", 700)  # many chunks, a few variants each
    for ref in list(every_parameter(run))[::3]:
        curve = lp.loss_along(run, ref, np.linspace(-2, 2, 9))
        expected = [engine_objective_at(run, {ref: v}) for v in curve.values]
        np.testing.assert_allclose(curve.losses, expected, rtol=1e-12, err_msg=ref.name)


def test_a_loss_curve_holds_the_current_point_the_slope_and_the_next_step():
    run = make("cross-entropy, sigmoid, l2")
    ref = WeightRef(0, 1, 3)
    w = float(run.weights[0][1, 3])
    curve = lp.loss_along(run, ref, wi.offsets(1.0, 5))
    assert w in curve.values and np.all(np.diff(curve.values) > 0)
    assert curve.value == w
    assert curve.objective == pytest.approx(float(engine(run)[0]), rel=1e-13)
    assert curve.losses[list(curve.values).index(w)] == pytest.approx(curve.objective, rel=1e-13)
    assert curve.gradient == pytest.approx(engine_grad(run, ref), rel=1e-12)
    step = run.update_by_layer(run.preview_update())[0][0][1, 3]
    assert curve.next_value == w + step
    assert curve.next_objective == pytest.approx(engine_objective_at(run, {ref: w + step}), rel=1e-12)


@pytest.mark.parametrize("pair", [
    (WeightRef(0, 0, 1), WeightRef(1, 2, 0)),  # different layers
    (WeightRef(1, 0, 0), BiasRef(1, 0)),  # same unit: a weight and its bias
    (BiasRef(0, 2), WeightRef(0, 1, 2)),  # the later parameter first
])
def test_j_over_two_parameters_matches_the_engine_at_every_grid_point(pair):
    run = make("bce, tanh, l1 + l2")
    a, b = pair
    result = lp.loss_surface(run, a, b, np.linspace(-1, 1, 4), np.linspace(-0.5, 0.5, 3))
    assert result.losses.shape == (4, 3)
    for p, va in enumerate(result.values_a):
        for q, vb in enumerate(result.values_b):
            assert result.losses[p, q] == pytest.approx(engine_objective_at(run, {a: va, b: vb}), rel=1e-12)
    assert result.gradient == pytest.approx((engine_grad(run, a), engine_grad(run, b)), rel=1e-12)


def test_the_queries_leave_the_run_bit_identical():
    run = make("cross-entropy, sigmoid, l2")
    run.forward()  # halfway through a step: the pending pass must survive too
    before = run.capture()
    version, phase = run.version, run.phase
    ref, other = WeightRef(1, 2, 1), BiasRef(0, 3)
    for command in (cmd.LossAlong(ref, wi.offsets(1.0, 7)), cmd.GradientCheck(ref),
                    cmd.LossSurface(ref, other, (-0.1, 0.0, 0.1), (-0.2, 0.2)), cmd.GradientCheck(other, 1e-4)):
        outcome = cmd.apply(run, command)
        assert outcome.run is run and outcome.event is None and outcome.result is not None
    assert run.capture() == before
    assert run.version == version and run.phase == phase
    run.step()
    fresh = make("cross-entropy, sigmoid, l2")
    fresh.step()
    np.testing.assert_array_equal(run.flat, fresh.flat)  # the future is unchanged too


def test_a_query_about_a_parameter_the_network_no_longer_has_answers_none():
    run = make("bce, elu, no penalty")  # 2-4-1
    for command in (cmd.LossAlong(WeightRef(0, 0, 7), (0.0,)), cmd.GradientCheck(BiasRef(3, 0)),
                    cmd.LossSurface(WeightRef(0, 0, 0), WeightRef(2, 0, 0), (0.0,), (0.0,))):
        assert cmd.apply(run, command).result is None


def test_bad_values_are_refused():
    run = make("bce, elu, no penalty")
    with pytest.raises(ValueError, match="finite"):
        lp.loss_along(run, WeightRef(0, 0, 0), (0.0, math.nan))
    with pytest.raises(ValueError, match="different"):
        lp.loss_surface(run, WeightRef(0, 0, 0), WeightRef(0, 0, 0), (0.0,), (0.0,))
    with pytest.raises(ValueError, match="at most"):
        lp.loss_along(run, WeightRef(0, 0, 0), np.zeros(lp.MAX_VALUES + 1))


# ------------------------------------------------------------------------ the prediction


@pytest.mark.parametrize("name", SESSIONS)
def test_the_predicted_change_is_right_to_first_order(name):
    """|actual − predicted| shrinks like Δw²: a tenth of Δw, a hundredth of the error."""
    run = make(name)
    snap = snapshot_of(run)
    for ref in (WeightRef(0, 1, 0), BiasRef(0, 0), WeightRef(len(run.weights) - 1, 0, 0)):
        w = wi.value_of(snap, ref)
        j0 = engine_objective_at(run, {})
        errors = []
        for delta in (1e-1, 1e-2, 1e-3):
            p = wi.predict(snap, ref, delta)
            assert p.predicted_change == pytest.approx(engine_grad(run, ref) * delta, rel=1e-12)
            actual = engine_objective_at(run, {ref: w + delta}) - j0
            errors.append(abs(actual - p.predicted_change))
            if delta == 1e-3:
                assert wi.ratio(actual, p.predicted_change) == pytest.approx(1.0, abs=0.05)
        assert errors[1] < 0.02 * errors[0] + 1e-13
        assert errors[2] < 0.02 * errors[1] + 1e-13


def test_a_what_if_edit_records_the_prediction_and_the_actual_change():
    run = make("bce, tanh, l1 + l2")
    ref = WeightRef(0, 1, 2)
    w = float(run.weights[0][1, 2])
    j_before = float(engine(run)[0])
    outcome = cmd.apply(run, cmd.EditWeight(ref, w + 0.25, predicted_change=0.0123))
    event = outcome.event
    assert event.predicted_change == 0.0123
    assert event.actual_change == pytest.approx(float(engine(run)[0]) - j_before, rel=1e-12, abs=1e-15)
    text = run.history.markers[-1].text
    assert text == event.describe()
    assert "predicted +0.0123" in text and "actual" in text
    assert cmd.format_number(event.actual_change, signed=True) in text
    bias = cmd.apply(run, cmd.EditBias(BiasRef(1, 0), 0.5, predicted_change=-0.002)).event
    assert bias.actual_change is not None and "predicted \u22120.002" in run.history.markers[-1].text


def test_a_what_if_edit_keeps_a_marker_of_its_own_between_slider_edits():
    run = make("bce, tanh, l1 + l2")
    ref = WeightRef(0, 0, 0)
    run.set_weight(0, 0, 0, 0.1)  # a slider drag …
    run.set_weight(0, 0, 0, 0.2)
    assert len(run.history.markers) == 1
    run.set_weight(0, 0, 0, 0.3, predicted_change=0.01)  # … then Apply: its own marker
    run.set_weight(0, 0, 0, 0.4)  # a drag after it must not rewrite it
    texts = [m.text for m in run.history.markers]
    assert len(texts) == 3
    assert "predicted" in texts[1] and texts[1].startswith(f"{ref.name}: 0.2 \u2192 0.3")
    assert "predicted" not in texts[2]


def test_what_if_markers_survive_saving_and_loading():
    run = make("bce, tanh, l1 + l2")
    cmd.apply(run, cmd.EditWeight(WeightRef(1, 0, 0), 0.7, predicted_change=-0.004))
    text = run.history.markers[-1].text
    loaded = loads_session(dumps(to_document(run)))
    assert loaded.history.markers[-1].text == text


def test_an_edit_without_a_prediction_reads_as_before():
    event = cmd.ParameterEdited(3, WeightRef(0, 0, 1), 0.5, -0.25)
    assert event.describe() == "w[1][1,2]: 0.5 \u2192 \u22120.25"


# ------------------------------------------------------------------------ plot helpers


def test_plot_helpers():
    assert wi.half_width(0.3) == 1.0 and wi.half_width(-1.7) == 2.0 and wi.half_width(0.1, 0.4) == 2.0
    assert wi.half_width(math.inf) == 1.0
    assert wi.offsets(2.0, 5) == (-2.0, -1.0, 0.0, 1.0, 2.0)
    np.testing.assert_allclose(wi.tangent([0.0, 2.0], 1.0, 0.5, 0.25), [0.25, 0.75])
    end = wi.descent_arrow((1.0, 2.0), (0.3, -0.4), (1.0, 1.0))
    assert end == pytest.approx((1.0 - 0.3, 2.0 + 0.4))  # along −∇, half a half-width long
    assert wi.descent_arrow((0.0, 0.0), (0.0, 0.0), (1.0, 1.0)) is None
    assert wi.ratio(0.5, 0.0) is None and wi.ratio(0.5, 0.25) == 2.0
    assert wi.parameter_of(BiasRef(0, 1)) == BiasRef(0, 1)
    from sandbox.session.naming import NeuronRef

    assert wi.parameter_of(NeuronRef(2, 1)) == BiasRef(1, 1) and wi.parameter_of(NeuronRef(0, 1)) is None


def test_big_networks_get_fewer_values_so_a_query_stays_quick():
    small = snapshot_of(make("bce, tanh, l1 + l2"))  # 40 examples × 8 neurons
    assert wi.affordable_points(small, wi.CURVE_POINTS, 15) == wi.CURVE_POINTS
    assert wi.affordable_points(small, wi.SURFACE_POINTS, 7, per_axis=True) == wi.SURFACE_POINTS
    big_run = TrainingRun.create(DataSpec("spiral", n_points=4000, seed=1),
                                 network=NetworkSpec((64, 64, 64), ("relu",) * 3))
    big = snapshot_of(big_run)  # 2,000 examples × (8,512 weights + 193 neurons): 17 M a value
    curve = wi.affordable_points(big, wi.CURVE_POINTS, 15)
    side = wi.affordable_points(big, wi.SURFACE_POINTS, 7, per_axis=True)
    assert (curve, side) == (15, 7)  # the floors: a coarse picture rather than none
    middling_run = TrainingRun.create(DataSpec("spiral", n_points=4000, seed=1),
                                      network=NetworkSpec((16, 16), ("tanh",) * 2))
    middling = snapshot_of(middling_run)
    sizes = middling.layer_sizes
    cost = 2000 * (sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + sum(sizes[1:]))  # a forward pass
    curve = wi.affordable_points(middling, wi.CURVE_POINTS, 15)
    side = wi.affordable_points(middling, wi.SURFACE_POINTS, 7, per_axis=True)
    assert 15 < curve < wi.CURVE_POINTS and curve * cost <= wi.BUDGET_PAUSED
    assert side % 2 == 1 and side < wi.SURFACE_POINTS and side * side * cost <= wi.BUDGET_PAUSED
    import dataclasses

    playing = dataclasses.replace(big, playing=True)
    assert wi.affordable_points(playing, wi.CURVE_POINTS, 15) == 15
