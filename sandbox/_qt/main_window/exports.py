"""File ▸ Export: the trained weights, a Python script, the loss history and images of the views.

Functions of the main window (``window``): they read the newest snapshot (the state the app
shows, whose arrays are read-only, so the GUI thread reads them while the worker trains on) and
the controller's history mirror, and write in the GUI thread (the files are small).  Each file
dialog's filter chooses the format: ``.npz`` or JSON weights, a numpy or a PyTorch script, a PNG
at 1×, 2× or 4× or an SVG.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu

from ...session.exports import (ExportError, ExportedNetwork, HistoryTables, write_code, write_history,
                                write_npz, write_weights_json)
from ..app_settings import documents_dir, settings
from ..image_export import PNG_SCALES, widget_painting, write_image

WEIGHTS_FILTERS = {"NumPy archive (*.npz)": ".npz", "JSON (*.json)": ".json"}
CODE_FILTERS = {"Python script for numpy (*.py)": "numpy", "Python script for PyTorch (*.py)": "torch"}
HISTORY_FILTER = "CSV files (*.csv)"
IMAGE_FILTERS = {**{("PNG image (*.png)" if s == 1 else f"PNG image at {s}\u00d7 (*.png)"): s for s in PNG_SCALES},
                 "SVG image (*.svg)": 0}

#: Image targets: (menu text, file name stem, status-bar name).
IMAGES = {
    "canvas": ("&Network canvas…", "network", "network canvas"),
    "output": ("&Output view…", "output", "output view"),
    "loss": ("&Loss plot…", "loss", "loss plot"),
    "health": ("&Gradient health plot…", "gradient-health", "gradient health plot"),
    "window": ("&Whole window…", "window", "window"),
}


def build_export_menu(window, file_menu: QMenu) -> QMenu:
    """File ▸ Export ▸ Weights…, Code…, Loss History (CSV)…, Image ▸ …; keeps the actions on the
    window (``export_weights_action`` …, ``export_image_actions[what]``)."""
    menu = file_menu.addMenu("&Export")
    window.export_weights_action = _action(menu, "&Weights…", lambda: export_weights_dialog(window),
                                           "The trained weights and biases as a NumPy .npz or as JSON")
    window.export_code_action = _action(menu, "&Code…", lambda: export_code_dialog(window),
                                        "A standalone Python script (numpy or PyTorch) whose predict(inputs) "
                                        "runs the trained network")
    window.export_history_action = _action(menu, "Loss &History (CSV)…", lambda: export_history_dialog(window),
                                           "Every step's loss and gradient norms, and the evaluations, as CSV")
    images = menu.addMenu("&Image")
    window.export_image_actions = {
        what: _action(images, text, lambda w=what: export_image_dialog(window, w), "PNG at 1×, 2× or 4×, or SVG")
        for what, (text, _, _) in IMAGES.items()
    }
    return menu


def _action(menu: QMenu, text: str, slot, tip: str) -> QAction:
    act = menu.addAction(text)
    act.setToolTip(tip)
    act.setStatusTip(tip)
    act.triggered.connect(lambda _=False: slot())
    return act


def _ask(window, title: str, stem: str, filters: list[str]) -> tuple[str, str] | None:
    """The path and filter the user chose (None if cancelled)."""
    start = Path(str(settings().value("last_dir", "")) or documents_dir())
    path, chosen = QFileDialog.getSaveFileName(window, title, str(start / stem), ";;".join(filters))
    return (path, chosen) if path else None


def _with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else path + suffix


def _done(window, path: str, what: str) -> None:
    window.statusBar().showMessage(f"Exported {what} to {path}", 5000)


def _network(window) -> ExportedNetwork | None:
    snap = window.controller.snapshot
    return None if snap is None else ExportedNetwork.of(snap)


def export_weights(window, path: str) -> None:
    """Write the shown weights to ``path``: JSON if it ends in ``.json``, else ``.npz``."""
    network = _network(window)
    if network is None:
        raise ExportError(f"{path}: there is no network to export yet")
    if path.lower().endswith(".json"):
        write_weights_json(network, path)
    else:
        write_npz(network, path)


def export_weights_dialog(window) -> None:
    answer = _ask(window, "Export weights", "weights.npz", list(WEIGHTS_FILTERS))
    if answer is None:
        return
    path, chosen = answer
    suffix = WEIGHTS_FILTERS.get(chosen) or (".json" if path.lower().endswith(".json") else ".npz")
    path = _with_suffix(path, suffix)
    _run(window, "Could not export the weights", lambda: export_weights(window, path), path, "the weights")


def export_code(window, path: str, torch: bool = False) -> None:
    network = _network(window)
    if network is None:
        raise ExportError(f"{path}: there is no network to export yet")
    write_code(network, path, torch=torch)


def export_code_dialog(window) -> None:
    answer = _ask(window, "Export code", "network.py", list(CODE_FILTERS))
    if answer is None:
        return
    path, chosen = answer
    torch = CODE_FILTERS.get(chosen) == "torch"
    path = _with_suffix(path, ".py")
    what = "a PyTorch script" if torch else "a numpy script"
    _run(window, "Could not export the code", lambda: export_code(window, path, torch), path, what)


def export_history(window, path: str) -> None:
    write_history(HistoryTables.of(window.controller.history), path)


def export_history_dialog(window) -> None:
    answer = _ask(window, "Export loss history", "loss-history.csv", [HISTORY_FILTER])
    if answer is None:
        return
    path = _with_suffix(answer[0], ".csv")
    _run(window, "Could not export the loss history", lambda: export_history(window, path), path, "the loss history")


def export_image(window, what: str, path: str, scale: float = 1.0) -> None:
    """Write a picture of a view (``canvas``, ``output``, ``loss``, ``health``) or of the whole
    window: an SVG if ``path`` ends in ``.svg``, else a PNG at ``scale``."""
    if what == "canvas":
        canvas = window.canvas
        size, paint = canvas.export_size(), canvas.paint_for_export
    else:
        widget = {"output": lambda: window.output_view.plot_widget, "loss": lambda: window.loss_plot.plot_widget,
                  "health": lambda: window.gradient_health, "window": lambda: window}[what]()
        size, paint = widget_painting(widget)
    write_image(path, size, paint, f"Backprop Sandbox: {IMAGES[what][2]}", scale)


def export_image_dialog(window, what: str) -> None:
    answer = _ask(window, "Export image", f"{IMAGES[what][1]}.png", list(IMAGE_FILTERS))
    if answer is None:
        return
    path, chosen = answer
    scale = IMAGE_FILTERS.get(chosen, 1)
    if scale == 0 or path.lower().endswith(".svg"):
        path, scale = _with_suffix(path, ".svg"), 1
    else:
        path = _with_suffix(path, ".png")
    _run(window, "Could not export the image", lambda: export_image(window, what, path, scale), path,
         f"the {IMAGES[what][2]}")


def _run(window, title: str, write, path: str, what: str) -> None:
    try:
        write()
    except ExportError as exc:  # the message names the file and the problem
        window.show_error(title, str(exc))
        return
    settings().setValue("last_dir", str(Path(path).parent))
    _done(window, path, what)
