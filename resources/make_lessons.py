"""Regenerate the lessons: ``python resources/make_lessons.py``.

A lesson is two files in ``resources/lessons/``: ``NN-name.json``, an ordinary session file (a
fresh, untrained run, as the examples are), and ``NN-name.lesson.json``, its text: a title, a
short explanation, numbered "try this" steps, a question to think about and the view it points
at (read by :mod:`sandbox.session.lessons`).  Each is set up so that its effect shows within a
minute of Play at the app's default speed; ``tests/test_lessons.py`` trains each one headless
and checks the effect it teaches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.datasets import Dataset, generate
from sandbox.session.lessons import LESSON_FORMAT, LESSON_VERSION, LESSON_SUFFIX
from sandbox.session.session_file import save

HERE = Path(__file__).resolve().parent
LESSONS_DIR = HERE / "lessons"
ALL_2D = ("x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2")


@dataclass(frozen=True)
class LessonSource:
    name: str
    title: str
    explanation: str
    steps: tuple[str, ...]
    question: str
    view: str
    run: TrainingRun


def lesson(name, title, explanation, steps, question, view, data, features, network, hyper, seed=0):
    run = TrainingRun.create(data, features=features, network=network, hyper=hyper, seed=seed)
    run.description = f"Lesson: {title}. {explanation}"
    return LessonSource(name, title, explanation, tuple(steps), question, view, run)


def mislabelled_gauss() -> tuple[Dataset, int]:
    """Two clean Gaussian clouds with one training point given the other cloud's label: the
    point nearest its own cloud's centre (so it is as wrong as a label can be).  Returns the
    dataset and that point's row among the training examples."""
    ds = generate("gauss", 200, 0.0, 0.5, 0)
    train = ds.train_indices
    centre = ds.inputs[train][ds.targets[train] == 0].mean(axis=0)
    distance = np.linalg.norm(ds.inputs[train] - centre, axis=1)
    distance[ds.targets[train] != 0] = np.inf
    row = int(np.argmin(distance))
    targets = ds.targets.copy()
    targets[train[row]] = 1.0
    flipped = Dataset(name="gauss with one wrong label", task=ds.task, inputs=ds.inputs, targets=targets,
                      is_train=ds.is_train, input_names=ds.input_names, class_names=ds.class_names)
    return flipped, row


LESSONS = [
    lesson(
        "01-xor-needs-a-hidden-layer",
        "XOR needs a hidden layer",
        "Opposite corners share a class, so no single straight line separates the two colours. "
        "This network has no hidden layer: its output is one line through the plane, and the "
        "loss stalls near ln 2 ≈ 0.69, the loss of a coin flip.",
        ("Press Play and watch the loss plot flatten out near 0.69.",
         "Switch on the x1·x2 feature and press Reset: the product is positive in two corners and "
         "negative in the other two, so one line in feature space now suffices.",
         "Or open the next lesson, which adds a hidden layer of four neurons instead."),
        "Why can a product feature replace a whole hidden layer here, and why does that not work "
        "for every dataset?",
        "output",
        DataSpec(source="xor", noise=0.0), ("x1", "x2"), NetworkSpec((), ()),
        Hyperparameters(learning_rate=0.03, batch_size=10),
    ),
    lesson(
        "02-xor-with-a-hidden-layer",
        "XOR with a hidden layer",
        "The same XOR data with four tanh neurons between the inputs and the output. Each hidden "
        "neuron draws its own line; the output combines them into the two diagonal regions.",
        ("Press Play: within a few hundred steps the accuracy passes 90%.",
         "Look at the hidden neurons' thumbnails on the canvas: each is one soft line.",
         "Remove neurons with − until the network fails again."),
        "What is the smallest hidden layer that still solves XOR, and why?",
        "output",
        DataSpec(source="xor", noise=0.0), ("x1", "x2"), NetworkSpec((4,), ("tanh",)),
        Hyperparameters(learning_rate=0.1, batch_size=10),
    ),
    lesson(
        "03-vanishing-gradients-sigmoid",
        "Vanishing gradients in a deep sigmoid network",
        "Eight hidden layers of sigmoid neurons. The sigmoid's slope is at most 1/4, and backprop "
        "multiplies one slope per layer, so the gradient that reaches the first layer is thousands "
        "of times smaller than the last layer's. The first layers barely learn.",
        ("Press Play; the Gradient health tab shows ‖∂J/∂W‖ per layer on a log scale.",
         "Compare the first layer's line with the last: several orders of magnitude apart.",
         "Switch every hidden activation to relu (or open the next lesson) and compare."),
        "Why does the product of many slopes below 1 shrink so fast, and what does that do to the "
        "first layer's weights?",
        "gradient_health",
        DataSpec(source="circle", noise=0.0), ("x1", "x2"), NetworkSpec((6,) * 8, ("sigmoid",) * 8),
        Hyperparameters(learning_rate=0.1, batch_size=10),
    ),
    lesson(
        "04-deep-relu-gradients-flow",
        "The same deep network with ReLU",
        "The eight-layer network of the last lesson with relu instead of sigmoid. ReLU's slope is 1 "
        "wherever a neuron is active, so the gradient reaches the first layer at about the same "
        "size as the last, and the network learns the circle.",
        ("Press Play and watch the Gradient health tab: the layers' lines stay close together.",
         "Compare the loss with the sigmoid lesson after the same number of steps.",
         "Raise the learning rate to 1 and see what happens to the lines."),
        "ReLU's slope is exactly 0 for a negative input: when can that hurt as much as a small "
        "slope does?",
        "gradient_health",
        DataSpec(source="circle", noise=0.0), ("x1", "x2"), NetworkSpec((6,) * 8, ("relu",) * 8),
        Hyperparameters(learning_rate=0.1, batch_size=10),
    ),
    lesson(
        "05-learning-rate-diverges",
        "A learning rate that diverges",
        "Gradient descent takes a step of size learning rate × gradient. On this regression surface "
        "a rate of 3 overshoots the minimum by more than it started from, so every step makes the "
        "weights larger; within a few steps they overflow and the non-finite guard stops training "
        "with the last finite weights.",
        ("Press Play: the loss explodes and a banner explains what stopped training.",
         "Use the banner's suggestion (or set the learning rate to 0.03) and press Play again.",
         "Find the largest learning rate that still converges."),
        "Why does a step that is too large make the next gradient larger instead of smaller?",
        "loss",
        DataSpec(source="plane", noise=0.1), ("x1", "x2"), NetworkSpec((4,), ("linear",)),
        Hyperparameters(learning_rate=3.0, batch_size=10),
    ),
    lesson(
        "06-dead-relus",
        "Dead ReLUs",
        "A ReLU neuron whose input is negative for every example outputs 0 everywhere, and its "
        "slope there is 0, so no gradient ever reaches its weights again: it is dead. A learning "
        "rate of 3 kicks most of these eight neurons into that state within a hundred steps.",
        ("Press Play and watch the hidden neurons' thumbnails go flat, one after another.",
         "Click a flat neuron: the inspector shows a zero activation and a zero gradient.",
         "Press Reset, set the learning rate to 0.1 and train again: every neuron stays alive."),
        "Once a neuron is dead, what could ever bring it back?",
        "canvas_weights",
        DataSpec(source="circle", noise=0.0), ("x1", "x2"), NetworkSpec((8,), ("relu",), init="he"),
        Hyperparameters(learning_rate=3.0, batch_size=10),
    ),
    lesson(
        "07-l1-exact-zeros",
        "L1 drives weights to exactly zero",
        "L1 regularisation adds l1·Σ|w| to the loss: a constant pull towards zero, whatever the "
        "weight's size. As in TensorFlow Playground, a weight that this pull carries across zero "
        "stops at exactly 0, so the weights of features the data does not need vanish from the "
        "canvas.",
        ("Press Play and watch connections from the input features disappear.",
         "Hover over a vanished connection: its weight is exactly 0.",
         "Compare with the next lesson, which uses L2 at a similar strength."),
        "Why does a constant pull reach zero when a pull proportional to the weight (L2) does not?",
        "canvas_weights",
        DataSpec(source="circle", noise=0.1), ALL_2D, NetworkSpec((6,), ("tanh",)),
        Hyperparameters(learning_rate=0.1, batch_size=10, l1=0.01),
    ),
    lesson(
        "08-l2-shrinks-weights",
        "L2 shrinks weights but keeps them",
        "L2 regularisation adds (l2/2)·Σw² to the loss: a pull towards zero proportional to the "
        "weight. Large weights shrink fast and small ones ever more slowly, so weights get small "
        "but almost never exactly zero.",
        ("Press Play and compare the connections with the L1 lesson: thinner, but all still there.",
         "Raise L2 to 0.1 and watch every weight shrink together.",
         "Set L2 to 0 and L1 to 0.01 to see the difference in the same session."),
        "Which would you choose to find out which input features matter, and why?",
        "canvas_weights",
        DataSpec(source="circle", noise=0.1), ALL_2D, NetworkSpec((6,), ("tanh",)),
        Hyperparameters(learning_rate=0.1, batch_size=10, l2=0.01),
    ),
    lesson(
        "09-sin-features-spiral",
        "Sin features make the spiral easy",
        "Two interleaved spirals are hard to carve out of x1 and x2 alone. The features sin x1 and "
        "sin x2 already wave back and forth across the plane, so a small network only has to "
        "combine a few waves.",
        ("Press Play: the accuracy passes 95% within a thousand steps.",
         "Switch sin x1 and sin x2 off and press Reset: the same network struggles for much longer.",
         "Try x1² and x2² instead of the sines."),
        "What does a feature do that a hidden neuron would otherwise have to learn?",
        "output",
        DataSpec(source="spiral", noise=0.0), ("x1", "x2", "sin_x1", "sin_x2"),
        NetworkSpec((8, 8), ("tanh", "tanh")),
        Hyperparameters(learning_rate=0.1, batch_size=10),
    ),
    lesson(
        "10-plain-sgd",
        "Plain SGD takes its time",
        "Plain stochastic gradient descent moves each weight by learning rate × gradient. Where the "
        "loss surface is flat the gradient is small and so is every step: at a learning rate of "
        "0.01 this circle takes thousands of steps.",
        ("Press Play for about 500 steps and note the loss.",
         "Open the next lesson (the same data, network and learning rate with Adam) and compare.",
         "Switch the optimizer to momentum here and press Reset."),
        "Why does a small gradient slow plain SGD down but not Adam?",
        "loss",
        DataSpec(source="circle", noise=0.1), ("x1", "x2"), NetworkSpec((8, 8), ("tanh", "tanh")),
        Hyperparameters(optimizer="sgd", learning_rate=0.01, batch_size=10),
    ),
    lesson(
        "11-adam",
        "Adam on the same problem",
        "Adam keeps running averages of each weight's gradient and squared gradient and divides "
        "one by the root of the other, so every weight moves by about the learning rate, however "
        "small its gradient. On the data of the last lesson the loss falls many times faster.",
        ("Press Play for about 500 steps and compare the loss with plain SGD's.",
         "Switch to momentum: it also speeds up, by accumulating steps that agree.",
         "Raise Adam's learning rate to 0.1 and watch the loss become noisy."),
        "When could moving every weight by about the same amount be a bad idea?",
        "loss",
        DataSpec(source="circle", noise=0.1), ("x1", "x2"), NetworkSpec((8, 8), ("tanh", "tanh")),
        Hyperparameters(optimizer="adam", learning_rate=0.01, batch_size=10),
    ),
    lesson(
        "12-zero-init-symmetry",
        "The symmetry of zero initialisation",
        "Every weight starts at zero, so the neurons of a hidden layer compute the same thing, "
        "receive the same blame ∂J/∂w and take the same step. They stay identical forever: four "
        "neurons acting as one.",
        ("Press Play: the thumbnails within each hidden layer stay identical.",
         "Show the connections as Gradients (Ctrl+2): the blame of each neuron's weights matches.",
         "Switch initialisation to xavier and press Reset to break the symmetry."),
        "Would starting every weight at the same non-zero value help?",
        "canvas_gradients",
        DataSpec(source="circle"), ("x1", "x2"), NetworkSpec((4, 4), ("sigmoid", "sigmoid"), init="zeros"),
        Hyperparameters(learning_rate=0.5, batch_size=10),
    ),
    lesson(
        "14-overfitting",
        "Overfitting: train and test loss part ways",
        "Twenty noisy training points and a network of two layers of sixteen neurons on every "
        "feature: far more weights than points. The network first learns the two clouds, then "
        "memorises the noise: the training loss keeps falling while the test loss turns and rises.",
        ("Press Play and watch the two curves of the loss plot part ways after a few hundred steps.",
         "Add L2 regularisation (try 0.01) and press Reset: the test loss rises much less.",
         "Or raise the number of points to 400 and see the gap close."),
        "At which step would you have stopped training, and how could you know it without the test "
        "set?",
        "loss",
        DataSpec(source="gauss", n_points=40, noise=0.5, train_fraction=0.5), ALL_2D,
        NetworkSpec((16, 16), ("tanh", "tanh")),
        Hyperparameters(optimizer="adam", learning_rate=0.001, batch_size=10),
    ),
]

_flipped, MISLABELLED_ROW = mislabelled_gauss()
LESSONS.insert(12, lesson(
    "13-one-examples-blame",
    "One example's blame",
    "The loss is an average over examples, and so is its gradient: each example adds its own share "
    "of blame to every weight. One point here carries the other cloud's label; once the network "
    "has learnt the clouds, that single example has by far the largest loss and pulls on the "
    "weights on its own.",
    ("Press Play for a few hundred steps, then press L to follow the example with the largest loss.",
     "The Examples tab shows that example's loss and its share of each weight's gradient.",
     "Click a first-layer weight: the Examples tab lists the examples that drive it most; for most "
     "of these weights the wrong one comes first."),
    "Should a network ever fit that one point? What would it have to give up?",
    "example_focus",
    _flipped, None, NetworkSpec((4,), ("tanh",)),
    Hyperparameters(learning_rate=0.1, batch_size=10),
))


def lesson_document(source: LessonSource) -> dict:
    return {"format": LESSON_FORMAT, "version": LESSON_VERSION, "title": source.title,
            "explanation": source.explanation, "steps": list(source.steps), "question": source.question,
            "view": source.view}


def main() -> None:
    LESSONS_DIR.mkdir(exist_ok=True)
    for source in LESSONS:
        save(source.run, LESSONS_DIR / f"{source.name}.json")
        text = json.dumps(lesson_document(source), ensure_ascii=False, indent=2) + "\n"
        (LESSONS_DIR / f"{source.name}{LESSON_SUFFIX}").write_text(text, encoding="utf-8")
    print(f"wrote {len(LESSONS)} lessons to {LESSONS_DIR}")


if __name__ == "__main__":
    main()
