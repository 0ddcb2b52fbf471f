"""Regenerate the built-in sessions: ``python resources/make_examples.py``.

The default session is what the app opens with; the examples appear under File ▸ Open Example.
Each is a fresh (untrained) run, so opening one shows the network before any learning.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.session_file import save

HERE = Path(__file__).resolve().parent
ALL_2D = ("x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2")


def default_session() -> TrainingRun:
    """Circle data, x1 and x2, hidden [4, 2] tanh, sigmoid + bce, sgd at 0.03, batch 10."""
    run = TrainingRun.create(
        DataSpec(source="circle", n_points=500, noise=0.0, train_fraction=0.5, seed=0),
        features=("x1", "x2"),
        network=NetworkSpec((4, 2), ("tanh", "tanh"), "sigmoid", "bce", "xavier"),
        hyper=Hyperparameters(optimizer="sgd", learning_rate=0.03, batch_size=10),
        seed=0,
    )
    run.description = (
        "The default session: a disc inside a ring. Press Play and watch the hidden neurons "
        "learn curved boundaries. Switch the connections to Gradients to see which weights "
        "the loss blames most."
    )
    return run


def example(name: str, description: str, data: DataSpec, features, network: NetworkSpec,
            hyper: Hyperparameters, seed: int = 0) -> tuple[str, TrainingRun]:
    run = TrainingRun.create(data, features=features, network=network, hyper=hyper, seed=seed)
    run.description = description
    return name, run


EXAMPLES = [
    example(
        "01-xor-with-a-product-feature",
        "XOR with no hidden layer: impossible from x1 and x2 alone, easy once the x1·x2 "
        "feature is switched on. Toggle the feature and press Reset to compare.",
        DataSpec(source="xor", noise=0.1),
        ("x1", "x2", "x1_x2"),
        NetworkSpec((), ()),
        Hyperparameters(learning_rate=0.03, batch_size=10),
    ),
    example(
        "02-spiral-deep",
        "Two spirals need depth and every feature. Adam at 0.01 gets there in a few thousand "
        "steps; try sgd to feel the difference.",
        DataSpec(source="spiral", noise=0.1, n_points=600),
        ALL_2D,
        NetworkSpec((8, 8, 6), ("tanh", "tanh", "tanh")),
        Hyperparameters(optimizer="adam", learning_rate=0.01, batch_size=10),
    ),
    example(
        "03-three-blobs-softmax",
        "Three classes: the output layer is softmax with cross-entropy, one output neuron per "
        "class.",
        DataSpec(source="blobs", noise=0.2),
        ("x1", "x2"),
        NetworkSpec((6,), ("relu",)),
        Hyperparameters(learning_rate=0.03, batch_size=10),
    ),
    example(
        "04-sine-regression",
        "1-D regression: fit y = sin x. Each neuron's thumbnail is a curve over x.",
        DataSpec(source="sine", noise=0.1, n_points=300),
        ("x",),
        NetworkSpec((8, 8), ("tanh", "tanh")),
        Hyperparameters(optimizer="adam", learning_rate=0.01, batch_size=10),
    ),
    example(
        "05-vanishing-gradients",
        "Eight sigmoid layers: the gradient norms shrink layer by layer towards the input. "
        "Open the Gradients view and compare the first and last layers; then switch the "
        "activations to relu.",
        DataSpec(source="circle", noise=0.0),
        ("x1", "x2"),
        NetworkSpec((6,) * 8, ("sigmoid",) * 8),
        Hyperparameters(learning_rate=0.1, batch_size=10),
    ),
    example(
        "06-zero-init-symmetry",
        "Every weight starts at zero. The neurons of a hidden layer then receive exactly the "
        "same blame (the same ∂J/∂w) and move in lockstep forever: four neurons acting as one, "
        "with identical pictures. Switch initialisation to xavier to break the symmetry.",
        DataSpec(source="circle"),
        ("x1", "x2"),
        NetworkSpec((4, 4), ("sigmoid", "sigmoid"), init="zeros"),
        Hyperparameters(learning_rate=0.5, batch_size=10),
    ),
    example(
        "07-learning-rate-too-high",
        "A learning rate of 3 on a regression surface: the loss explodes within a few steps "
        "and the non-finite guard stops training with the last finite weights.",
        DataSpec(source="plane", noise=0.1),
        ("x1", "x2"),
        NetworkSpec((4,), ("linear",)),
        Hyperparameters(learning_rate=3.0, batch_size=10),
    ),
    example(
        "08-multigauss-regression",
        "A 2-D regression surface of six bumps. The output view shows the fitted surface.",
        DataSpec(source="multigauss", noise=0.0),
        ("x1", "x2"),
        NetworkSpec((8, 8), ("tanh", "tanh")),
        Hyperparameters(optimizer="adam", learning_rate=0.01, batch_size=10),
    ),
    example(
        "09-largest-seven-features-6x8",
        "The largest network the benchmark uses: all seven input features and six hidden "
        "layers of eight tanh neurons.",
        DataSpec(source="spiral", noise=0.1),
        ALL_2D,
        NetworkSpec((8,) * 6, ("tanh",) * 6),
        Hyperparameters(optimizer="adam", learning_rate=0.01, batch_size=10),
    ),
]


def main() -> None:
    save(default_session(), HERE / "default.json")
    for name, run in EXAMPLES:
        save(run, HERE / "examples" / f"{name}.json")
    print(f"wrote default.json and {len(EXAMPLES)} examples")


if __name__ == "__main__":
    main()
