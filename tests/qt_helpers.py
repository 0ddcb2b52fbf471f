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


_barrier_requests = iter(range(1_000_000, 2_000_000))


def worker_barrier(qtbot, controller, timeout: int = 5000) -> None:
    """Wait until the worker has applied every command sent so far (and published what they
    produced): it answers a query only after the commands queued before it, in order."""
    from sandbox.session.naming import WeightRef

    request = next(_barrier_requests)
    value = float(controller.snapshot.weights[0][0, 0])
    with qtbot.waitSignal(controller.resultReady, timeout=timeout,
                          check_params_cb=lambda command, _value: getattr(command, "request", None) == request):
        controller.evaluate_loss(WeightRef(0, 0, 0), value, request)
    # Signals from one thread arrive in order: every snapshot published before the answer has
    # been taken by now.


def show_view(qtbot, controller, view, width: int, height: int):
    """Add ``view`` to the test, size and show it, and wait until it is exposed and the
    controller has its first snapshot; returns the view."""
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    wait_for_snapshot(qtbot, controller)
    return view
