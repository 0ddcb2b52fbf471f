"""The canvas marks dead and saturated neurons (outline and tag), counts them in its legend, and
says why in the hover tooltip; the marked neurons are those the engine's pass shows."""

from __future__ import annotations

import numpy as np
import pytest

from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun
from sandbox.session.naming import NeuronRef

pytestmark = pytest.mark.gui


def hand_built_run() -> TrainingRun:
    """relu then tanh; hidden 1 neuron 2 silenced (z = −1: dead), hidden 2 neuron 3 pinned (z = 9)."""
    run = TrainingRun.create(
        data=DataSpec("circle", n_points=80, noise=0.1, train_fraction=0.5, seed=1),
        network=NetworkSpec((3, 3), ("relu", "tanh")),
        hyper=Hyperparameters(learning_rate=0.1, batch_size=8), seed=4)
    for layer, j, bias in ((0, 1, -1.0), (1, 2, 9.0)):
        for i in range(run.weights[layer].shape[0]):
            run.set_weight(layer, i, j, 0.0)
        run.set_bias(layer, j, bias)
    return run


def test_dead_and_saturated_neurons_are_tagged_counted_and_explained(qtbot, make_canvas):
    canvas, controller = make_canvas(hand_built_run())
    snap = controller.snapshot
    a1 = snap.train_pass.forward.activations[1][:, 1]
    d1 = snap.train_pass.backward.grad_pre_activations[0][:, 1]
    a2 = snap.train_pass.forward.activations[2][:, 2]
    assert (a1 == 0).all() and (d1 == 0).all() and (np.abs(a2) > 0.99).all()  # as built

    assert canvas.health_marks() == {NeuronRef(1, 1): "dead", NeuronRef(2, 2): "saturated"}
    assert canvas.legend_text().endswith("1 dead and 1 saturated (tagged)")
    before = canvas.view.viewport().grab().toImage()

    viewport = canvas.view.viewport()
    qtbot.mouseMove(viewport, viewport.mapFrom(canvas, canvas.node_center(1, 1)))
    qtbot.waitUntil(lambda: "health: dead: zero activation and zero δ on every training example" in canvas.hover_text())
    qtbot.mouseMove(viewport, viewport.mapFrom(canvas, canvas.node_center(2, 2)))
    qtbot.waitUntil(lambda: "health: saturated: output pinned near its limits on 100 % of examples"
                    in canvas.hover_text())
    qtbot.mouseMove(viewport, viewport.mapFrom(canvas, canvas.node_center(2, 0)))
    qtbot.waitUntil(lambda: canvas.hover_text().startswith("hidden 2, neuron 1"))
    assert "health" not in canvas.hover_text()

    # Reviving the dead neuron (a positive bias) takes its mark away, and the picture changes.
    from sandbox.session.naming import BiasRef

    controller.edit_bias(BiasRef(0, 1), 0.5)
    qtbot.waitUntil(lambda: NeuronRef(1, 1) not in canvas.health_marks())
    assert canvas.health_marks() == {NeuronRef(2, 2): "saturated"}
    assert canvas.legend_text().endswith("1 saturated (tagged)")
    # (The viewport, not image_for_export: on main that returns the cached item's stale picture.)
    qtbot.waitUntil(lambda: canvas.view.viewport().grab().toImage() != before)


def test_a_healthy_network_has_no_marks(qtbot, make_canvas):
    canvas, _ = make_canvas()
    assert canvas.health_marks() == {} and "tagged" not in canvas.legend_text()
