"""Divergence explained in the app: example 07 played until the non-finite guard stops it; the
banner names the step where the loss began to rise and the layer whose update-to-weight ratio
overshot (numbers from replaying the steps in the engine), and the loss plot marks that step."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from qt_helpers import wait_for_snapshot

from sandbox.formatting import format_number
from sandbox.resources import example_sessions
from sandbox.session.session_file import load

pytestmark = pytest.mark.gui


def replay_ratios(path, steps: int) -> np.ndarray:
    """‖ΔW_l‖/‖W_l‖ of each step, measured on the weights of a headless replay."""
    run = load(path)
    out = []
    for _ in range(steps):
        before = [w.copy() for w in run.weights]
        with np.errstate(all="ignore"):
            assert run.step()
        out.append([np.linalg.norm(a - b) / np.linalg.norm(b) for a, b in zip(run.weights, before)])
    return np.array(out)


def test_example_07_diverges_and_the_banner_and_loss_plot_explain_it(qtbot, window):
    (path,) = [p for p in example_sessions() if p.name.startswith("07-")]
    c = window.controller
    window.open_path(str(path), confirmed=True)
    wait_for_snapshot(qtbot, c, lambda s: s.hyper.learning_rate == 3.0 and s.step == 0)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Space)  # play
    snap = wait_for_snapshot(qtbot, c, lambda s: s.divergence is not None and not s.playing, timeout=10_000)
    qtbot.waitUntil(window.banner.isVisible)
    text = window.banner.label.text()

    ratios = replay_ratios(path, snap.step)
    k, layer = np.unravel_index(np.argmax(ratios), ratios.shape)
    assert snap.step == 5 and snap.divergence.step == 6
    assert "The mini-batch loss began to rise steadily at step 1 (" in text
    assert (f"The update that overshot most was layer {layer + 1}'s (W{layer + 1}) at step {k + 1}: "
            f"‖ΔW‖/‖W‖ = {format_number(ratios[k, layer])}") in text
    assert "ratio above 1) from step 1" in text

    # The loss plot (and the gradient-health plot) mark the step.
    assert window.loss_plot.divergence_mark() == 1 and window.gradient_health.divergence_mark() == 1
    assert window.loss_plot._rise_mark.line.isVisible()  # noqa: SLF001

    # A reset empties the history: the mark goes with it.
    window.training_bar.reset_action.trigger()
    wait_for_snapshot(qtbot, c, lambda s: s.step == 0 and s.divergence is None)
    qtbot.waitUntil(lambda: window.loss_plot.divergence_mark() is None)
    assert window.gradient_health.divergence_mark() is None
