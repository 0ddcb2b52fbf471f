"""The workspace: exact scrubbing, branching, earlier runs, undo and redo (Qt-free)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.session import Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session import commands as cmd
from sandbox.session.naming import BiasRef, WeightRef
from sandbox.session.workspace import Workspace


def small_run(seed: int = 3, **hyper) -> TrainingRun:
    return TrainingRun.create(seed=seed, hyper=Hyperparameters(**hyper) if hyper else None)


def test_scrubbing_shows_the_exact_state_the_run_had_at_every_step():
    run = small_run(optimizer="adam", learning_rate=0.01)
    ws = Workspace(run)
    seen = {0: run.capture()}
    for step in range(1, 2501):
        assert run.step()
        if step == 400:
            ws.apply(cmd.EditWeight(WeightRef(1, 2, 0), 1.25))
            ws.apply(cmd.EditBias(BiasRef(0, 1), -0.5))
        if step == 900:
            ws.apply(cmd.SetHyperparameters.of(learning_rate=0.003, batch_size=7))
        if step == 1700:
            ws.apply(cmd.SetHyperparameters.of(optimizer="momentum"))
        seen[step] = run.capture()  # the state after this step's edits
    for step in [0, 1, 15, 16, 17, 399, 400, 401, 899, 900, 901, 1234, 1699, 1700, 2499, 2500]:
        assert ws.state_at(step) == seen[step], step
        ws.apply(cmd.Scrub(step))
        shown = ws.shown_run()
        assert shown.capture() == seen[step]
        assert shown.history is run.history, "the views read the live run's history"
    assert ws.run.capture() == seen[2500], "scrubbing changed nothing"


def test_scrubbing_back_and_continuing_equals_never_having_gone_further():
    run = small_run()
    ws = Workspace(run)
    run.train(1000)
    ws.apply(cmd.Scrub(600))
    ws.apply(cmd.ContinueFromHere())
    branch = ws.run
    assert branch is not run and branch.step_count == 600
    branch.train(300)
    reference = small_run()
    reference.train(900)
    assert branch.capture() == reference.capture()
    # The abandoned future is an earlier run, with its curves; the branch's history ends at 600.
    (earlier,) = ws.view().runs.earlier
    assert earlier.curves.steps[-1, 0] == 1000 and earlier.has_state
    assert branch.history.steps.steps()[599] == 600 and len(branch.history.steps) == 900
    assert ws.live.info.parent == earlier.info.run_id and ws.live.info.branched_at == 600


def test_an_edit_while_scrubbed_back_branches_first_then_applies():
    run = small_run()
    ws = Workspace(run)
    run.train(500)
    ws.apply(cmd.Scrub(200))
    ws.apply(cmd.SetHyperparameters.of(learning_rate=0.003))
    assert ws.shown_step is None and ws.run.step_count == 200 and ws.run.hyper.learning_rate == 0.003
    assert run.step_count == 500 and run.hyper.learning_rate == 0.03, "the abandoned run is as it was"
    view = ws.view()
    assert view.runs.earlier[0].legend == "Run 1 · lr 0.03"
    assert view.runs.live.first_change == "learning rate 0.03 → 0.003 at step 200"
    assert view.undo_text == "set learning rate to 0.003"


def test_play_and_steps_return_to_the_live_end():
    run = small_run()
    ws = Workspace(run)
    run.train(100)
    ws.apply(cmd.Scrub(40))
    assert ws.shown_run().step_count == 40
    ws.apply(cmd.Step(2))
    assert ws.shown_step is None and ws.run.step_count == 102


def test_scrubbing_clips_to_the_runs_range_and_queries_are_about_the_shown_state():
    run = small_run()
    ws = Workspace(run)
    run.train(64)
    ws.apply(cmd.Scrub(10_000))
    assert ws.shown_step is None
    ws.apply(cmd.Scrub(-5))
    assert ws.shown_step == 0
    ref = WeightRef(0, 0, 0)
    at_start = small_run()
    answer = ws.apply(cmd.EvaluateLoss(ref, 0.5)).result
    assert answer == at_start.objective_with(ref, 0.5)
    ws.apply(cmd.ReturnToLive())
    with pytest.raises(ValueError, match="already at its live end"):
        ws.apply(cmd.ContinueFromHere())


def test_undo_of_an_architecture_change_brings_back_the_exact_old_run():
    run = small_run(optimizer="adam")
    ws = Workspace(run)
    run.train(300)
    before = run.capture()
    rows = len(run.history.steps)
    ws.apply(cmd.Reconfigure(network=NetworkSpec((5,), ("relu",))))
    assert ws.run.layer_sizes == (2, 5, 1) and ws.view().undo_text.startswith("change")
    ws.run.train(50)
    ws.apply(cmd.Undo())
    assert ws.run is run and ws.run.capture() == before and len(ws.run.history.steps) == rows
    assert ws.view().runs.earlier == (), "the undone run is on the redo stack, not an earlier run"
    ws.apply(cmd.Redo())
    assert ws.run.layer_sizes == (2, 5, 1) and ws.run.step_count == 50
    assert [r.info.run_id for r in ws.view().runs.earlier] == [1]


def test_reset_and_new_seed_keep_the_ended_runs_and_can_be_undone():
    run = small_run()
    ws = Workspace(run)
    run.train(200)
    ws.apply(cmd.Reset())
    assert ws.run.step_count == 0 and ws.run.capture() == small_run().capture()
    ws.apply(cmd.NewSeed(11))
    view = ws.view()
    assert [r.legend for r in view.runs.earlier] == ["Run 1 · seed 3", "Run 2 · seed 3"]
    ws.apply(cmd.SwitchToRun(2))
    assert ws.view().runs.earlier[-1].legend == "Run 3 · seed 11"
    ws.apply(cmd.Undo())
    assert view.undo_text == "new seed 11"
    ws.apply(cmd.Undo())
    ws.apply(cmd.Undo())
    assert ws.run is run and ws.run.step_count == 200


def test_switching_to_an_earlier_run_continues_it_exactly():
    run = small_run()
    ws = Workspace(run)
    run.train(150)
    ws.apply(cmd.NewSeed(5))
    ws.run.train(20)
    ws.apply(cmd.SwitchToRun(1))
    assert ws.run is run
    run.train(50)
    reference = small_run()
    reference.train(200)
    assert run.capture() == reference.capture()
    assert [r.info.run_id for r in ws.view().runs.earlier] == [2]
    ws.apply(cmd.SetRunVisible(2, False))
    assert ws.view().runs.earlier[0].visible is False
    ws.apply(cmd.ClearEarlierRuns())
    assert ws.view().runs.earlier == ()
    with pytest.raises(ValueError):
        ws.apply(cmd.SwitchToRun(2))


def test_a_slider_drag_is_one_undo_entry():
    run = small_run()
    ws = Workspace(run)
    ref = WeightRef(0, 1, 2)
    old = float(run.weights[0][1, 2])
    for value in (0.1, 0.2, 0.3, 0.4):
        ws.apply(cmd.EditWeight(ref, value))
    assert len(ws.undo) == 1 and ws.view().undo_text == "set w[1][2,3] to 0.4"
    ws.apply(cmd.Undo())
    assert float(ws.run.weights[0][1, 2]) == old
    assert ws.view().redo_text == "set w[1][2,3] to 0.4"


# ------------------------------------------------------------------- the property test

_REFS = [WeightRef(0, 0, 1), WeightRef(1, 3, 0), BiasRef(2, 0), BiasRef(0, 2)]
_actions = st.lists(
    st.one_of(
        st.tuples(st.just("steps"), st.integers(1, 40)),
        st.tuples(st.just("edit"), st.integers(0, len(_REFS) - 1),
                  st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3))),
        st.tuples(st.just("lr"), st.sampled_from([0.003, 0.01, 0.1])),
        st.tuples(st.just("optimizer"), st.sampled_from(["sgd", "momentum", "adam"])),
        st.tuples(st.just("undo"),),
        st.tuples(st.just("redo"),),
    ),
    min_size=1, max_size=25)


def _set(run: TrainingRun, ref, value) -> None:
    if isinstance(ref, WeightRef):
        run.set_weight(ref.layer, ref.i, ref.j, value)
    else:
        run.set_bias(ref.layer, ref.j, value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_actions)
def test_any_interleaving_of_steps_edits_undos_and_redos_equals_its_net_effect(actions):
    """The workspace against a model: a plain run where an undo sets the edited value back to the
    value it had before the edit, and a redo sets it again; and every state the live run passed
    through is what scrubbing to its step shows afterwards."""
    ws = Workspace(small_run())
    model = small_run()
    undo: list[tuple] = []  # (kind, what, old, new) of the model's edits
    redo: list[tuple] = []
    seen = {0: model.capture()}

    def model_apply(kind, what, value):
        if kind == "edit":
            _set(model, what, value)
        else:
            model.set_hyperparameters(**{kind: value})

    for action in actions:
        kind = action[0]
        if kind == "steps":
            ws.apply(cmd.Step(action[1]))
            model.train(action[1])
        elif kind == "edit":
            ref, value = _REFS[action[1]], action[2]
            command = cmd.EditWeight(ref, value) if isinstance(ref, WeightRef) else cmd.EditBias(ref, value)
            old = float(model.weights[ref.layer][ref.i, ref.j] if isinstance(ref, WeightRef)
                        else model.biases[ref.layer][ref.j])
            ws.apply(command)
            _set(model, ref, value)
            top = undo[-1] if undo else None
            if top and top[0] == "edit" and top[1] == ref and top[4] == model.step_count and not redo:
                undo[-1] = ("edit", ref, top[2], value, model.step_count)  # the same burst
            else:
                undo.append(("edit", ref, old, value, model.step_count))
            redo.clear()
        elif kind in ("lr", "optimizer"):
            name = "learning_rate" if kind == "lr" else "optimizer"
            old = getattr(model.hyper, name)
            ws.apply(cmd.SetHyperparameters.of(**{name: action[1]}))
            if old != action[1]:
                model.set_hyperparameters(**{name: action[1]})
                undo.append((name, name, old, action[1], model.step_count))
                redo.clear()
        else:  # undo puts the old value back, redo the new one
            command, source, target, value = ((cmd.Undo(), undo, redo, 2) if kind == "undo"
                                              else (cmd.Redo(), redo, undo, 3))
            if not source:
                with pytest.raises(ValueError):
                    ws.apply(command)
                continue
            ws.apply(command)
            entry = source.pop()
            model_apply(entry[0], entry[1], entry[value])
            target.append(entry)
        seen[model.step_count] = model.capture()
        assert ws.run.capture() == model.capture(), action
    for step, state in seen.items():
        assert ws.state_at(step) == state, step


def test_a_run_ended_again_by_a_redo_says_what_ended_it():
    ws = Workspace(small_run())
    ws.run.train(30)
    ws.apply(cmd.Reset())
    assert ws.catalog().earlier[0].info.ended == "until reset at step 30"
    ws.apply(cmd.Undo())
    assert not ws.catalog().earlier and ws.run.step_count == 30
    ws.apply(cmd.Redo())
    (earlier,) = ws.catalog().earlier
    assert earlier.info.ended == "until reset at step 30"
    assert ws.catalog().live.ended == ""
