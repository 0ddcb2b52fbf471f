"""Helpers for the Qt tests: a controller on a real worker thread, and waiting for snapshots."""

from __future__ import annotations

from typing import Callable

from sandbox.session import DataSpec, Hyperparameters, NetworkSpec, TrainingRun


def small_run(**kw) -> TrainingRun:
    """The default session's configuration (circle, [4, 2] tanh, sgd 0.03, batch 10)."""
    return TrainingRun.create(
        kw.pop("data", DataSpec()),
        network=kw.pop("network", NetworkSpec((4, 2), ("tanh", "tanh"))),
        hyper=kw.pop("hyper", Hyperparameters()),
        **kw,
    )


def wait_for_snapshot(qtbot, controller, predicate: Callable = lambda s: True, timeout: int = 5000):
    """Wait until the controller's current snapshot satisfies ``predicate``; return it."""
    qtbot.waitUntil(lambda: controller.snapshot is not None and predicate(controller.snapshot), timeout=timeout)
    return controller.snapshot
