"""TensorFlow Playground links: real links open as equivalent sessions, what cannot be matched is
named, malformed links give clear errors, and a session's own link reads back to the same setup.

The links are real ones, copied from playground.tensorflow.org (the first is the page's own
default address).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.loading import open_path, open_workspace
from sandbox.session.playground import PlaygroundLinkError, is_playground_link, link_for, run_from_link

DEFAULT = ("https://playground.tensorflow.org/#activation=tanh&batchSize=10&dataset=circle&regDataset=reg-plane"
           "&learningRate=0.03&regularizationRate=0&noise=0&networkShape=4,2&seed=0.80000&showTestData=false"
           "&discretize=false&percTrainData=50&x=true&y=true&xTimesY=false&xSquared=false&ySquared=false"
           "&cosX=false&sinX=false&cosY=false&sinY=false&collectStats=false&problem=classification"
           "&initZero=false&hideText=false")
SPIRAL = ("https://playground.tensorflow.org/#activation=relu&batchSize=20&dataset=spiral&regDataset=reg-plane"
          "&learningRate=0.01&regularizationRate=0.001&noise=15&networkShape=8,8,5&seed=0.12345"
          "&showTestData=true&discretize=false&percTrainData=70&x=true&y=true&xTimesY=true&xSquared=true"
          "&ySquared=true&cosX=false&sinX=true&cosY=false&sinY=true&collectStats=false&problem=classification"
          "&initZero=false&hideText=false&regularization=L1")
REGRESSION = ("https://playground.tensorflow.org/#activation=linear&regularization=L2&batchSize=5"
              "&dataset=circle&regDataset=reg-gauss&learningRate=0.3&regularizationRate=0.03&noise=25"
              "&networkShape=&seed=0.50000&showTestData=false&discretize=false&percTrainData=30&x=true&y=false"
              "&xTimesY=false&xSquared=false&ySquared=false&cosX=true&sinX=false&cosY=false&sinY=false"
              "&collectStats=false&problem=regression&initZero=true&hideText=false")


def test_the_default_link_is_the_default_network_on_playgrounds_data():
    result = run_from_link(DEFAULT)
    run = result.run
    assert run.layer_sizes == (2, 4, 2, 1)
    assert run.features == ("x1", "x2")
    assert run.network_spec.hidden_activations == ("tanh", "tanh")
    assert run.network_spec.init == "uniform"
    assert run.hyper == Hyperparameters(optimizer="sgd", learning_rate=0.03, batch_size=10)
    assert run.data_spec == DataSpec(source="circle", n_points=500, noise=0.0, train_fraction=0.5, seed=80_000)
    # Playground's uniform initialisation: U(−0.5, 0.5).
    assert all(np.abs(w).max() <= 0.5 for w in run.weights)
    assert "seed 80000" in result.note and "tanh with squared error" in result.note
    assert "display settings" not in result.note, "defaults are not worth a note"
    assert result.note in run.description


def test_a_spiral_link_with_every_feature_and_l1():
    result = run_from_link(SPIRAL)
    run = result.run
    assert run.layer_sizes == (7, 8, 8, 5, 1)
    assert set(run.features) == {"x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"}
    assert run.network_spec.hidden_activations == ("relu",) * 3
    assert (run.hyper.l1, run.hyper.l2, run.hyper.batch_size, run.hyper.learning_rate) == (0.001, 0.0, 20, 0.01)
    assert run.data_spec.source == "spiral"
    assert run.data_spec.noise == pytest.approx(0.3)  # Playground's 15 of 50
    assert run.data_spec.train_fraction == pytest.approx(0.7)
    assert run.n_train == 350
    assert "showTestData" in result.note


def test_a_regression_link_without_hidden_layers_and_with_zero_init():
    result = run_from_link(REGRESSION)
    run = result.run
    assert run.layer_sizes == (1, 1)
    assert run.features == ("x1",)
    assert run.data_spec.source == "multigauss" and run.data_spec.n_points == 1200
    assert run.network_spec.init == "zeros" and run.network_spec.output_activation == "linear"
    assert (run.hyper.l1, run.hyper.l2) == (0.0, 0.03)
    assert "cos x1" in result.note, "an unmatched feature is named, never dropped silently"
    assert "squared error" not in result.note, "regression matches Playground's output and loss"


@pytest.mark.parametrize("url, fragment", [
    ("https://playground.tensorflow.org/", "no settings after '#'"),
    ("ftp://playground.tensorflow.org/#x=true", "https://"),
    ("https://playground.tensorflow.org/#learningRate=fast", "learningRate=fast is not a number"),
    ("https://playground.tensorflow.org/#dataset=moons", "dataset=moons is not one of"),
    ("https://playground.tensorflow.org/#networkShape=4,x", "networkShape=4,x"),
    ("https://playground.tensorflow.org/#networkShape=400", "at most"),
    ("https://playground.tensorflow.org/#noise=80", "noise=80 must be between 0 and 50"),
    ("https://playground.tensorflow.org/#x=maybe", "x=maybe must be true or false"),
    ("https://playground.tensorflow.org/#x=false&y=false", "every input feature off"),
    ("https://playground.tensorflow.org/#activation=softplus", "activation=softplus"),
    ("https://playground.tensorflow.org/#justtext", "not a key=value"),
])
def test_a_malformed_link_says_what_is_wrong(url, fragment):
    with pytest.raises(PlaygroundLinkError) as info:
        run_from_link(url)
    assert fragment in str(info.value) and str(info.value).startswith("Playground link: ")


def test_unknown_settings_are_named():
    assert "unknown settings ignored: tutorial2" in run_from_link(DEFAULT + "&tutorial2=yes").note


@pytest.mark.parametrize("url", [DEFAULT, SPIRAL, REGRESSION])
def test_a_sessions_own_link_reads_back_to_the_same_setup(url):
    run = run_from_link(url).run
    link, left_out = link_for(run)
    assert is_playground_link(link) and left_out == ["the trained weights (Playground starts afresh)"]
    again = run_from_link(link).run
    assert (again.data_spec, again.features, again.network_spec, again.hyper, again.seed) == \
           (run.data_spec, run.features, run.network_spec, run.hyper, run.seed)
    for a, b in zip(again.weights, run.weights):
        assert np.array_equal(a, b)


def test_what_playground_cannot_express_is_listed():
    run = TrainingRun.create(DataSpec(source="blobs"), network=NetworkSpec((4, 12), ("tanh", "relu")),
                             hyper=Hyperparameters(optimizer="adam", learning_rate=0.002, batch_size=64))
    _link, left_out = link_for(run)
    text = " | ".join(left_out)
    for fragment in ("blobs data", "per-layer activations", "6 × 8", "adam optimizer", "batch over", "xavier",
                     "learning rate outside"):
        assert fragment in text


def test_links_open_wherever_a_file_does():
    assert open_path(DEFAULT).layer_sizes == (2, 4, 2, 1)
    assert open_workspace(SPIRAL).run.layer_sizes == (7, 8, 8, 5, 1)
    assert not is_playground_link("session.json") and not is_playground_link("/tmp/a#b.json")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True, text=True, timeout=120)


def test_the_command_line_takes_a_link_as_its_file(tmp_path):
    info = _cli("info", DEFAULT)
    assert info.returncode == 0, info.stderr
    assert "Not matched from the Playground link" in info.stderr
    out = tmp_path / "from-link.json"
    train = _cli("train", SPIRAL, "--steps", "20", "--out", str(out))
    assert train.returncode == 0, train.stderr
    from sandbox.session.session_file import load

    assert load(out).step_count == 20 and load(out).layer_sizes == (7, 8, 8, 5, 1)
    refused = _cli("train", DEFAULT, "--steps", "5")
    assert refused.returncode == 2 and "give --out FILE" in refused.stderr
    bad = _cli("info", "https://playground.tensorflow.org/#noise=99")
    assert bad.returncode == 2 and "noise=99 must be between 0 and 50" in bad.stderr
    assert "Traceback" not in bad.stderr
