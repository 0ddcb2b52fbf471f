"""The status-bar sentence after a stepped update names the rule of the optimizer that ran."""

from __future__ import annotations

import pytest

from sandbox._qt.main_window.messages import phase_message
from sandbox.viewstate import ViewMode

from test_analysis import make_run, snap_of

pytestmark = pytest.mark.gui  # imports the Qt app package


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_the_update_sentence_names_the_optimizers_rule(optimizer):
    run = make_run(steps=2)
    run.set_hyperparameters(optimizer=optimizer)
    run.forward()
    run.backward()
    before = snap_of(run)
    run.update()
    mode, text = phase_message(before, snap_of(run))
    assert mode == ViewMode.UPDATES and text.startswith(f"Update: {optimizer} moved")
    assert ("Δw = −η·∂J/∂w)" in text) == (optimizer == "sgd")
