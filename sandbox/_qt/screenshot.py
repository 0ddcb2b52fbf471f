"""``backprop-sandbox screenshot``: render the main window offscreen to a PNG."""

from __future__ import annotations

import os
import time

import numpy as np

from ..session import TrainingRun


def wait_until(predicate, timeout_s: float = 10.0) -> bool:
    """Run the event loop until ``predicate()`` holds (or the timeout); True if it held."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.perf_counter() + timeout_s
    loop = QEventLoop()
    while not predicate():
        if time.perf_counter() > deadline:
            return False
        QTimer.singleShot(10, loop.quit)
        loop.exec()
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
    from ..analysis.blame import most_blamed
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
    best = most_blamed(controller.snapshot, 1)
    if best:
        controller.select(best[0])
    settle(300)
    image = window.grab().toImage()
    window.skip_unsaved_prompt = True
    window.close()
    if not image.save(out, "PNG"):
        raise OSError(f"could not write {out}")
