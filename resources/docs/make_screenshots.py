"""Regenerate the README's "Understanding the display" screenshots.

Run it in a real X session (or under Xvfb) from the repository root::

    xvfb-run -s "-screen 0 1280x800x24" python resources/docs/make_screenshots.py

Each image is one part of a 1280×800 window in the light theme, in a state that shows one
idea: the chain-rule tab, the example focus, the loss along a weight, and gradient health.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from sandbox._qt.app import make_application  # noqa: E402
from sandbox._qt.main_window import MainWindow  # noqa: E402
from sandbox._qt.screenshot import settle, wait_until  # noqa: E402
from sandbox._qt.theme import ThemeManager  # noqa: E402
from sandbox.resources import EXAMPLES  # noqa: E402
from sandbox.session.loading import open_path  # noqa: E402
from sandbox.session.naming import WeightRef  # noqa: E402


def window_on(example: str, steps: int, themes: ThemeManager) -> MainWindow:
    run = open_path(str(EXAMPLES / example))
    with np.errstate(all="ignore"):
        run.train(steps)
        run.evaluate(record=True)
    window = MainWindow(run, None, themes, persist_settings=False)
    window.resize(1280, 800)
    window.show()
    wait_until(lambda: window.controller.snapshot is not None)
    settle(300)
    return window


def save(widget, name: str) -> None:
    path = HERE / name
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    print(f"wrote {path.relative_to(ROOT)}")


def close(window: MainWindow) -> None:
    window.skip_unsaved_prompt = True
    window.close()
    settle(100)


def main() -> None:
    app = make_application()
    themes = ThemeManager(app, "light")

    # 1. The chain rule of one weight, walked one step downstream.
    window = window_on("02-spiral-deep.json", 300, themes)
    window.controller.select(WeightRef(1, 2, 1))
    window.show_chain_rule()
    settle(400)
    save(window.inspector_dock, "chain-rule.png")

    # 2. One example followed through the network: its values on the canvas, its ring.
    window.canvas.set_view_mode("gradients")
    window.controller.focus_largest_loss()
    window.inspector.tabs.setCurrentWidget(window.inspector.example_view)
    settle(600)
    save(window.splitter, "example-focus.png")

    # 3. The loss along a weight: the gradient is the slope.
    window.controller.view_state.pinned = WeightRef(2, 0, 0)  # the heatmap's second weight
    window.controller.select(WeightRef(2, 1, 0))
    window.inspector.tabs.setCurrentWidget(window.inspector.what_if)
    wait_until(lambda: False, 1.5)  # let the worker answer the what-if queries
    save(window.inspector_dock, "loss-along-a-weight.png")
    close(window)

    # 4. Gradient health on a deep sigmoid network: the first layers' gradients vanish.
    window = window_on("05-vanishing-gradients.json", 400, themes)
    window.plot_tabs.setCurrentWidget(window.gradient_health)
    settle(800)
    save(window.plot_tabs, "gradient-health.png")
    close(window)


if __name__ == "__main__":
    main()
