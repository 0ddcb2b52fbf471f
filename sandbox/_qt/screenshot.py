"""``backprop-sandbox screenshot``: render the main window offscreen to a PNG."""

from __future__ import annotations

import os
import time

import numpy as np

from ..session import TrainingRun


def wait_until(predicate, timeout_s: float = 10.0) -> bool:
    """Run the event loop until ``predicate()`` holds (or the timeout); True if it held."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    deadline = time.perf_counter() + timeout_s
    # The predicate is checked after every event (a snapshot arriving wakes the wait at once);
    # the timer only bounds the wait when no event comes, so timings built on this are not
    # rounded up to a polling interval.
    wake = QTimer()
    wake.start(10)
    try:
        while not predicate():
            if time.perf_counter() > deadline:
                return False
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    finally:
        wake.stop()
    return True


def settle(ms: int = 100) -> None:
    """Let queued events (layouts, repaints) run for ``ms`` milliseconds."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def take_screenshot(
    run: TrainingRun,
    file: str | None,
    out: str,
    size: tuple[int, int] = (1400, 900),
    steps: int = 0,
    theme: str = "light",
    view: str = "weights",
) -> None:
    """Train ``steps`` steps headless, open the window at ``size``, and save it to ``out``.

    The canvas shows ``view`` (weights, gradients or updates) and the inspector the weight
    with the largest |∂J/∂w|.  Raises OSError if the image cannot be written.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .app import make_application
    from ..analysis import most_blamed
    from .main_window import MainWindow
    from .theme import ThemeManager

    if steps:
        with np.errstate(all="ignore"):
            run.train(steps)
            run.evaluate(record=True)
    app = make_application()
    themes = ThemeManager(app, theme)
    window = MainWindow(run, file, themes, persist_settings=False)
    window.resize(*size)
    window.show()
    controller = window.controller
    wait_until(lambda: controller.snapshot is not None)
    window.canvas.set_view_mode(view)
    blamed = most_blamed(controller.snapshot, 1)
    if blamed:
        controller.select(blamed[0])
    settle(300)
    image = window.grab().toImage()
    window.skip_unsaved_prompt = True
    window.close()
    if not image.save(out, "PNG"):
        raise OSError(f"could not write {out}")
