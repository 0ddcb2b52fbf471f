"""The shipped lessons: each reads, opens as a session, and — trained headless for fewer steps
than a minute of Play at the app's default speed (300 steps/s) — shows the effect it teaches."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from sandbox.resources import LESSONS, is_builtin, lessons
from sandbox.session.datasets import generate
from sandbox.session.lessons import (LESSON_SUFFIX, MAX_STEPS, MIN_STEPS, VIEWS, Lesson, LessonError,
                                     read_lesson, read_lessons)
from sandbox.session.run import TrainingRun

#: A minute of Play at the default speed.
MINUTE_OF_STEPS = 60 * 300

EXPECTED = [
    "01-xor-needs-a-hidden-layer", "02-xor-with-a-hidden-layer", "03-vanishing-gradients-sigmoid",
    "04-deep-relu-gradients-flow", "05-learning-rate-diverges", "06-dead-relus", "07-l1-exact-zeros",
    "08-l2-shrinks-weights", "09-sin-features-spiral", "10-plain-sgd", "11-adam", "12-zero-init-symmetry",
    "13-one-examples-blame", "14-overfitting",
]


def by_name() -> dict[str, Lesson]:
    return {lesson.name: lesson for lesson in lessons()}


def trained(name: str, steps: int) -> TrainingRun:
    assert steps <= MINUTE_OF_STEPS
    run = by_name()[name].load_run()
    assert run.step_count == 0  # a lesson starts untrained
    with np.errstate(all="ignore"):  # the divergence lesson overflows on purpose
        run.train(steps)
    return run


def column(series, name: str) -> np.ndarray:
    return series.array()[:, 2 + series.columns.index(name)]


# ------------------------------------------------------------------------------ the files


def test_there_are_at_least_ten_lessons_and_each_is_complete():
    found = lessons()
    assert [lesson.name for lesson in found] == EXPECTED
    for lesson in found:
        assert lesson.title and lesson.question and lesson.view in VIEWS
        sentences = lesson.explanation.count(". ") + 1
        assert 2 <= sentences <= 4, (lesson.name, sentences)
        assert MIN_STEPS <= len(lesson.steps) <= MAX_STEPS
        assert lesson.session_path.is_file() and is_builtin(lesson.session_path)
        run = lesson.load_run()
        assert lesson.title in run.description  # the window's description line names the lesson


def test_the_lessons_point_at_the_views_the_brief_asks_for():
    views = {name: lesson.view for name, lesson in by_name().items()}
    assert views["03-vanishing-gradients-sigmoid"] == views["04-deep-relu-gradients-flow"] == "gradient_health"
    assert views["13-one-examples-blame"] == "example_focus"


def _write(folder, name, doc) -> str:
    (folder / f"{name}.json").write_text("{}", encoding="utf-8")
    path = folder / f"{name}{LESSON_SUFFIX}"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(path)


GOOD = {"format": "backprop-sandbox-lesson", "version": 1, "title": "T", "explanation": "E. F.",
        "steps": ["a", "b"], "question": "Q?", "view": "loss"}


@pytest.mark.parametrize("change, message", [
    ({"format": "something"}, "format must be"),
    ({"version": 99}, "newer than this app"),
    ({"steps": ["only one"]}, "steps must have 2"),
    ({"steps": ["a", "b", "c", "d", "e"]}, "at most 4"),
    ({"steps": ["a", 3]}, "steps[1] must be text"),
    ({"view": "everything"}, "view must be one of"),
    ({"title": "   "}, "title is empty"),
    ({"extra": 1}, "unknown field"),
    ({"question": None}, "question must be text"),
])
def test_a_bad_lesson_file_is_refused_with_a_clear_message(tmp_path, change, message):
    path = _write(tmp_path, "01-x", {**GOOD, **change})
    with pytest.raises(LessonError, match="01-x.lesson.json") as info:
        read_lesson(path)
    assert message in str(info.value)


@pytest.mark.parametrize("text, message", [
    ("{", "Expecting"), ('{"a": NaN}', "NaN"), (b"\xff\xfe", "not UTF-8"), ("x" * 70_000, "bytes"),
])
def test_hostile_lesson_text_is_refused(tmp_path, text, message):
    path = tmp_path / f"01-x{LESSON_SUFFIX}"
    (tmp_path / "01-x.json").write_text("{}", encoding="utf-8")
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(LessonError, match="01-x.lesson.json"):
        read_lesson(path)


def test_a_lesson_without_its_session_is_refused(tmp_path):
    path = _write(tmp_path, "02-y", GOOD)
    (tmp_path / "02-y.json").unlink()
    with pytest.raises(LessonError, match="02-y.json is missing"):
        read_lesson(path)


def test_read_lessons_lists_a_folder_in_order(tmp_path):
    for name in ("02-b", "01-a"):
        _write(tmp_path, name, GOOD)
    assert [lesson.name for lesson in read_lessons(tmp_path)] == ["01-a", "02-b"]
    assert read_lessons(tmp_path / "missing") == []


def test_the_shipped_lessons_are_what_make_lessons_writes(tmp_path, monkeypatch):
    """resources/make_lessons.py regenerates exactly the files in resources/lessons/."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_lessons", LESSONS.parent / "make_lessons.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_lessons", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "LESSONS_DIR", tmp_path)
    module.main()
    shipped = sorted(p.name for p in LESSONS.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == shipped
    for name in shipped:
        fresh, old = json.loads((tmp_path / name).read_text("utf-8")), json.loads((LESSONS / name).read_text("utf-8"))
        fresh.pop("app_version", None), old.pop("app_version", None)
        assert fresh == old, name


# ------------------------------------------------------------------------ what each teaches


def test_xor_without_a_hidden_layer_fails_and_with_one_succeeds():
    flat = trained("01-xor-needs-a-hidden-layer", 1000).evaluate()
    assert flat.train_accuracy < 0.8 and flat.train_loss > 0.6  # stuck near a coin flip (ln 2)
    hidden = trained("02-xor-with-a-hidden-layer", 1000).evaluate()
    assert hidden.train_accuracy >= 0.95 and hidden.test_accuracy >= 0.9


def _first_over_last(run: TrainingRun) -> np.ndarray:
    steps = run.history.steps
    last = len(run.layer_sizes) - 2
    return column(steps, "grad_norm_0") / column(steps, f"grad_norm_{last}")


def test_a_deep_sigmoid_networks_first_layer_gradient_vanishes_and_relus_does_not():
    sigmoid = _first_over_last(trained("03-vanishing-gradients-sigmoid", 200))
    assert np.median(sigmoid) <= 1e-2  # at least 100× smaller
    relu = _first_over_last(trained("04-deep-relu-gradients-flow", 200))
    assert np.median(relu) > 1e-1


def test_a_learning_rate_that_diverges_is_caught_by_the_guard():
    run = trained("05-learning-rate-diverges", 200)
    assert run.divergence is not None and run.step_count < 200
    assert np.all(np.isfinite(run.flat))  # the last finite weights are kept


def test_a_large_learning_rate_kills_most_relus():
    run = trained("06-dead-relus", 100)
    assert run.divergence is None
    hidden = run.network.forward(run.weights, run.biases, run.X_train).activations[1]
    dead = np.all(hidden == 0.0, axis=0)  # zero activation on every training example
    assert dead.sum() >= hidden.shape[1] // 2


def test_l1_drives_weights_to_exactly_zero_and_l2_only_shrinks_them():
    l1 = trained("07-l1-exact-zeros", 1000)
    assert sum(int(np.count_nonzero(w == 0.0)) for w in l1.weights) >= 5
    l2 = trained("08-l2-shrinks-weights", 1000)
    assert all(np.count_nonzero(w == 0.0) == 0 for w in l2.weights)


def test_sin_features_make_the_spiral_easy():
    run = trained("09-sin-features-spiral", 1000)
    assert run.evaluate().train_accuracy >= 0.95


def test_adam_beats_plain_sgd_after_the_same_steps():
    sgd = trained("10-plain-sgd", 500).evaluate()
    adam = trained("11-adam", 500).evaluate()
    assert adam.train_loss < sgd.train_loss / 3


def test_zero_initialisation_keeps_a_layers_neurons_identical():
    run = trained("12-zero-init-symmetry", 500)
    for W in run.weights[:-1]:  # the incoming weights of each hidden layer
        assert np.any(W != 0.0)
        np.testing.assert_allclose(W, np.repeat(W[:, :1], W.shape[1], axis=1), rtol=1e-12, atol=1e-15)


def test_one_wrong_label_has_by_far_the_largest_loss():
    run = trained("13-one-examples-blame", 500)
    clean = generate("gauss", 200, 0.0, 0.5, 0)
    assert np.array_equal(run.dataset.inputs, clean.inputs)
    wrong = np.flatnonzero(run.dataset.targets[run.dataset.train_indices] != clean.targets[clean.train_indices])
    assert len(wrong) == 1
    fwd = run.network.forward(run.weights, run.biases, run.X_train)
    losses = run.network.loss.per_example(fwd.pre_activations[-1], fwd.output, run.Y_train)
    assert int(np.argmax(losses)) == wrong[0]
    assert losses[wrong[0]] > 10 * np.sort(losses)[-2]
    # Its share a_i·δ_j of each first-layer weight's gradient is the largest for most of them.
    deltas = run.network.backward(run.weights, fwd, run.Y_train).deltas[0]
    terms = np.abs(fwd.activations[0][:, :, None] * deltas[:, None, :])
    assert np.mean(terms.argmax(axis=0) == wrong[0]) > 0.5


def test_overfitting_the_test_loss_rises_while_the_train_loss_falls():
    run = trained("14-overfitting", 2000)
    evals = run.history.evaluations
    train, test = column(evals, "train_loss"), column(evals, "test_loss")
    best = int(np.argmin(test))
    assert 0 < best < len(test) - 1
    assert test[-1] > 2 * test[best]  # the test loss turned and rose …
    assert train[-1] < train[best] / 10  # … while the training loss kept falling


def test_the_readme_lists_every_lesson():
    readme = (LESSONS.parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Lessons\n", 1)[1].split("\n## ", 1)[0]
    for number, lesson in enumerate(lessons(), start=1):
        assert f"| {number} | {lesson.title} |" in section, lesson.title
    assert "Classroom Mode" in section
