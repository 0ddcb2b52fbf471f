"""Typed commands and edit events (sandbox.session.commands): frozen, exact, invertible.

No Qt: commands are applied with :func:`sandbox.session.commands.apply`, the path the worker
and the command line share.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sandbox.formatting import format_number
from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session import commands as cmd
from sandbox.session.commands import (
    Configuration,
    DescriptionChanged,
    EditBias,
    EditWeight,
    EvaluateLoss,
    SuggestLearningRate,
    HyperparametersChanged,
    ParameterEdited,
    Reconfigure,
    Reconfigured,
    SetDescription,
    SetHyperparameters,
    apply,
    configuration,
)
from sandbox.session.naming import BiasRef, WeightRef

SPEC = DataSpec("circle", n_points=60, noise=0.1, train_fraction=0.5, seed=3)
NETWORK = NetworkSpec((4, 2), ("tanh", "tanh"))
HYPER = Hyperparameters(batch_size=6)
SEED = 11


def make_run() -> TrainingRun:
    """A small run; every call gives a bit-identical one."""
    return TrainingRun.create(SPEC, network=NETWORK, hyper=HYPER, seed=SEED)


@pytest.fixture
def run() -> TrainingRun:
    r = make_run()
    r.train(7)  # not at the initial weights, and mid-epoch
    return r


def state(run: TrainingRun) -> tuple:
    """What an edit could change, as comparable values (parameters bit for bit)."""
    return (run.flat.tobytes(), run.version, run.hyper, run.step_count, run.description,
            tuple(run.history.markers), run.layer_sizes, run.network_spec)


# ---------------------------------------------------------------------------- frozen


def _all_subclasses(base: type) -> list[type]:
    out = []
    for sub in base.__subclasses__():
        out.append(sub)
        out.extend(_all_subclasses(sub))
    return out


#: One instance of every command the GUI can send.
EXAMPLES = [
    cmd.Play(), cmd.Pause(), cmd.TogglePlay(), cmd.SetSpeed(12.0), cmd.Quit(),
    cmd.Step(3), cmd.StepEpoch(), cmd.StepPhase(), cmd.Reset(), cmd.NewSeed(5),
    EditWeight(WeightRef(0, 1, 2), 0.5), EditBias(BiasRef(1, 0), -0.25),
    SetHyperparameters.of(learning_rate=0.1), Reconfigure(network=NETWORK), SetDescription("hi"),
    cmd.NewSession(None), cmd.Load("a.json"), cmd.Save("b.json"), cmd.Autosave("c.json", "c.json"),
    cmd.MarkModified(),
    EvaluateLoss(WeightRef(0, 0, 0), 1.0, request=4),
    SuggestLearningRate(from_reset=True, request=5),
    cmd.LossAlong(WeightRef(0, 0, 0), (-1.0, 1.0), request=6), cmd.GradientCheck(BiasRef(0, 1), 1e-5, request=7),
    cmd.LossSurface(WeightRef(0, 0, 0), BiasRef(0, 1), (0.0,), (0.0,), request=8),
    cmd.Scrub(10), cmd.ReturnToLive(), cmd.ContinueFromHere(), cmd.Undo(), cmd.Redo(),
    cmd.SetRunVisible(1, False), cmd.ClearEarlierRuns(), cmd.SwitchToRun(1),
]


def test_examples_cover_every_command_class():
    assert {type(c) for c in EXAMPLES} == set(_all_subclasses(cmd.Command))


@pytest.mark.parametrize("command", EXAMPLES, ids=lambda c: type(c).__name__)
def test_every_command_is_a_frozen_dataclass(command):
    assert dataclasses.is_dataclass(command)
    assert type(command).__dataclass_params__.frozen
    fields = [f.name for f in dataclasses.fields(command)]
    for name in fields or ["anything"]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(command, name, None)


@pytest.mark.parametrize("event_type", _all_subclasses(cmd.EditEvent) + [cmd.EditEvent, Configuration, cmd.Outcome])
def test_events_are_frozen_dataclasses(event_type):
    assert dataclasses.is_dataclass(event_type)
    assert event_type.__dataclass_params__.frozen


def test_commands_compare_and_hash_by_value():
    assert EditWeight(WeightRef(0, 1, 2), 0.5) == EditWeight(WeightRef(0, 1, 2), 0.5)
    assert SetHyperparameters.of(l2=0.1, learning_rate=0.2) == SetHyperparameters.of(learning_rate=0.2, l2=0.1)
    assert len({cmd.Play(), cmd.Play(), cmd.Pause()}) == 2


# ----------------------------------------------------------------- edit events: old / new


def test_edit_weight_event_has_old_and_new(run):
    ref = WeightRef(0, 1, 2)
    before = float(run.weights[0][1, 2])
    outcome = apply(run, EditWeight(ref, 0.5))
    event = outcome.event
    assert outcome.run is run and outcome.result is None
    assert isinstance(event, ParameterEdited)
    assert event.ref == ref and event.step == run.step_count == 7
    assert event.old == before
    assert event.new == 0.5 == run.weights[0][1, 2]


def test_edit_bias_event_has_old_and_new(run):
    ref = BiasRef(1, 1)
    before = float(run.biases[1][1])
    event = apply(run, EditBias(ref, -1.25)).event
    assert isinstance(event, ParameterEdited)
    assert event.ref == ref
    assert event.old == before
    assert event.new == -1.25 == run.biases[1][1]


def test_set_hyperparameters_event_has_old_and_new(run):
    before = run.hyper
    event = apply(run, SetHyperparameters.of(learning_rate=0.1, batch_size=7, optimizer="adam")).event
    assert isinstance(event, HyperparametersChanged)
    assert event.old == before == HYPER
    assert event.new == run.hyper == dataclasses.replace(HYPER, learning_rate=0.1, batch_size=7, optimizer="adam")
    assert event.changed == ("optimizer", "learning_rate", "batch_size")


def test_set_description_event_has_old_and_new(run):
    run.description = "before"
    event = apply(run, SetDescription("after")).event
    assert isinstance(event, DescriptionChanged)
    assert (event.old, event.new) == ("before", "after")
    assert run.description == "after"


def test_reconfigure_event_has_old_and_new_configurations(run):
    before = configuration(run)
    network = NetworkSpec((3,), ("relu",))
    outcome = apply(run, Reconfigure(network=network, features=("x1", "x2", "x1_x2")))
    new = outcome.run
    event = outcome.event
    assert new is not run
    assert isinstance(event, Reconfigured)
    assert event.old == before
    assert event.new == configuration(new)
    assert new.layer_sizes == (3, 3, 1)
    assert new.features == ("x1", "x2", "x1_x2")
    assert new.hyper == run.hyper  # the training settings are kept
    assert event.describe() == "features x1, x2, x1_x2; new architecture"


# ------------------------------------------------------------------------------ inverses


def test_edit_weight_inverse_restores_bit_identical_parameters(run):
    flat = run.flat.tobytes()
    event = apply(run, EditWeight(WeightRef(1, 3, 1), 123.456)).event
    assert run.flat.tobytes() != flat
    inverse = event.inverse()
    assert inverse == EditWeight(WeightRef(1, 3, 1), event.old)
    apply(run, inverse)
    assert run.flat.tobytes() == flat


def test_edit_bias_inverse_restores_bit_identical_parameters(run):
    flat = run.flat.tobytes()
    event = apply(run, EditBias(BiasRef(2, 0), 1e-7)).event
    inverse = event.inverse()
    assert inverse == EditBias(BiasRef(2, 0), event.old)
    apply(run, inverse)
    assert run.flat.tobytes() == flat


def test_set_hyperparameters_inverse_restores_them_exactly(run):
    flat = run.flat.tobytes()
    event = apply(run, SetHyperparameters.of(learning_rate=0.5, l2=0.01, optimizer="momentum", momentum=0.5)).event
    assert isinstance(event.inverse(), SetHyperparameters)
    back = apply(run, event.inverse()).event
    assert run.hyper == HYPER
    assert (back.old, back.new) == (event.new, event.old)
    assert run.flat.tobytes() == flat  # hyperparameters never touch the weights


def test_set_description_inverse_restores_it(run):
    run.description = "the original"
    event = apply(run, SetDescription("changed")).event
    assert event.inverse() == SetDescription("the original")
    apply(run, event.inverse())
    assert run.description == "the original"


def test_reconfigured_inverse_rebuilds_the_old_configuration():
    original = make_run()
    before = configuration(original)
    outcome = apply(original, Reconfigure(data=DataSpec("xor", n_points=40, seed=2),
                                          network=NetworkSpec((5, 3, 2), ("relu", "relu", "tanh"))))
    changed = outcome.run
    assert configuration(changed) != before
    restored = apply(changed, outcome.event.inverse())
    assert isinstance(restored.event, Reconfigured)
    back = restored.run
    assert configuration(back) == before
    assert (back.data_spec, back.features, back.network_spec, back.layer_sizes) == (
        original.data_spec, original.features, original.network_spec, original.layer_sizes)
    assert back.hyper == original.hyper and back.seed == original.seed
    # The same data and the same seed's initial weights, bit for bit.
    assert np.array_equal(back.X_train, original.X_train) and np.array_equal(back.Y_train, original.Y_train)
    assert back.flat.tobytes() == make_run().flat.tobytes()


def test_reconfigured_inverse_of_a_feature_change_restores_the_features(run):
    before = configuration(run)
    outcome = apply(run, Reconfigure(features=("x1_sq", "x2_sq")))
    assert outcome.run.features == ("x1_sq", "x2_sq")
    back = apply(outcome.run, outcome.event.inverse()).run
    assert configuration(back) == before
    assert back.layer_sizes == run.layer_sizes


# -------------------------------------------------------------------------------- queries


@pytest.mark.parametrize("ref, value", [(WeightRef(0, 1, 2), 0.5), (WeightRef(2, 1, 0), -3.0),
                                        (BiasRef(0, 3), 2.0)])
def test_evaluate_loss_equals_the_objective_with_the_parameter_set(run, ref, value):
    flat, version, markers = run.flat.tobytes(), run.version, list(run.history.markers)
    outcome = apply(run, EvaluateLoss(ref, value, request=9))
    assert outcome.event is None and outcome.run is run

    twin = make_run()
    twin.train(7)
    assert twin.flat.tobytes() == flat
    if isinstance(ref, WeightRef):
        twin.set_weight(ref.layer, ref.i, ref.j, value)
    else:
        twin.set_bias(ref.layer, ref.j, value)
    expected = twin.inspect().backward.objective
    assert outcome.result == expected
    assert outcome.result != run.inspect().backward.objective  # the value did matter

    # Nothing changed: parameters bit-identical, version and markers as they were.
    assert run.flat.tobytes() == flat
    assert run.version == version
    assert run.history.markers == markers


def test_evaluate_loss_with_a_bad_reference_raises_value_error(run):
    before = state(run)
    with pytest.raises(ValueError):
        apply(run, EvaluateLoss(WeightRef(0, 5, 0), 1.0))
    with pytest.raises(ValueError):
        apply(run, EvaluateLoss(BiasRef(0, 0), float("nan")))
    assert state(run) == before


# -------------------------------------------------------------------------------- markers


def test_slider_burst_leaves_one_marker_from_first_old_to_last_new(run):
    ref = WeightRef(0, 1, 2)
    first_old = float(run.weights[0][1, 2])
    markers_before = len(run.history.markers)
    events = [apply(run, EditWeight(ref, v)).event for v in (0.1, 0.2, 0.3)]
    assert len(run.history.markers) == markers_before + 1
    marker = run.history.markers[-1]
    assert marker.step == run.step_count
    assert marker.text == f"w[1][2,3]: {format_number(first_old)} \u2192 {format_number(0.3)}"
    # The last event describes the whole burst, so undoing it goes back to before the drag.
    assert (events[-1].old, events[-1].new) == (first_old, 0.3)
    assert events[-1].describe() == marker.text


def test_edits_at_different_steps_or_parameters_make_separate_markers(run):
    n = len(run.history.markers)
    apply(run, EditWeight(WeightRef(0, 1, 2), 0.1))
    apply(run, EditWeight(WeightRef(0, 1, 3), 0.2))  # another weight
    apply(run, cmd.Step(1))
    apply(run, EditWeight(WeightRef(0, 1, 3), 0.3))  # the same weight, a later step
    assert len(run.history.markers) == n + 3


def test_marker_text_uses_one_based_names_and_format_number(run):
    old_w = float(run.weights[0][1, 2])
    apply(run, EditWeight(WeightRef(0, 1, 2), 12345.678))
    assert run.history.markers[-1].text == f"w[1][2,3]: {format_number(old_w)} \u2192 {format_number(12345.678)}"
    assert "1.235e+04" in run.history.markers[-1].text  # the formatter's own scientific form

    old_b = float(run.biases[1][0])
    apply(run, EditBias(BiasRef(1, 0), -0.5))
    assert run.history.markers[-1].text == f"b[2][1]: {format_number(old_b)} \u2192 \u22120.5"

    apply(run, SetHyperparameters.of(learning_rate=0.1))
    assert run.history.markers[-1].text == f"learning_rate {format_number(HYPER.learning_rate)} \u2192 {format_number(0.1)}"


# ------------------------------------------------------------------------- invalid edits


@pytest.mark.parametrize("command", [
    EditWeight(WeightRef(0, 2, 0), 0.5),  # i out of range (2 inputs)
    EditWeight(WeightRef(0, 0, 4), 0.5),  # j out of range (4 units)
    EditWeight(WeightRef(3, 0, 0), 0.5),  # no such layer
    EditWeight(WeightRef(0, 0, 0), float("nan")),
    EditWeight(WeightRef(0, 0, 0), float("inf")),
    EditBias(BiasRef(1, 2), 0.5),
    EditBias(BiasRef(-1, 0), 0.5),
    EditBias(BiasRef(0, 0), float("-inf")),
    SetHyperparameters.of(learning_rate=-0.1),
    SetHyperparameters.of(batch_size=0),
    SetHyperparameters.of(optimizer="nope"),
    SetHyperparameters.of(learning_rate=0.2, l2=float("nan")),
    Reconfigure(features=("no_such_feature",)),
    cmd.NewSeed(-1),
], ids=repr)
def test_an_invalid_edit_raises_value_error_and_leaves_the_run_unchanged(run, command):
    before = state(run)
    with pytest.raises(ValueError):
        apply(run, command)
    assert state(run) == before


def test_apply_refuses_commands_that_are_not_about_the_run(run):
    before = state(run)
    for command in (cmd.Play(), cmd.Pause(), cmd.Save("x.json"), cmd.Quit()):
        with pytest.raises(TypeError):
            apply(run, command)
    assert state(run) == before
