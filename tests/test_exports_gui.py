"""File ▸ Export in the real main window: the menu actions with a patched file dialog, checked
against the state the app shows (the newest snapshot) and the files they wrote."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from qt_helpers import wait_for_snapshot, worker_barrier
from sandbox._qt.main_window.exports import CODE_FILTERS, IMAGE_FILTERS, WEIGHTS_FILTERS
from sandbox.session.exports import HistoryTables, read_history_csv, read_weights_json

pytestmark = pytest.mark.gui

FILTER_OF = {v: k for k, v in {**WEIGHTS_FILTERS, **CODE_FILTERS}.items()}
IMAGE_FILTER_OF = {v: k for k, v in IMAGE_FILTERS.items()}


def choose(monkeypatch, path, chosen_filter: str = "") -> list:
    """Make every save dialog answer ``path`` with ``chosen_filter``; returns what they offered."""
    offered = []

    def dialog(parent, title, start, filters, *args, **kwargs):
        offered.append((title, start, filters))
        return str(path), chosen_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return offered


@pytest.fixture
def trained(window, qtbot):
    """The window after 35 steps, paused, with the worker idle."""
    c = window.controller
    c.step(35)
    wait_for_snapshot(qtbot, c, lambda s: s.step == 35)
    worker_barrier(qtbot, c)
    return window


def bits(arr) -> np.ndarray:
    return np.ascontiguousarray(arr, dtype=np.float64).view(np.int64)


def test_export_weights_as_npz_holds_the_shown_weights(trained, qtbot, monkeypatch, tmp_path):
    offered = choose(monkeypatch, tmp_path / "weights", FILTER_OF[".npz"])
    trained.export_weights_action.trigger()
    assert "NumPy archive (*.npz)" in offered[0][2] and "JSON (*.json)" in offered[0][2]
    snap = trained.controller.snapshot
    with np.load(tmp_path / "weights.npz") as archive:  # the filter's suffix was added
        assert sorted(archive.files) == ["W1", "W2", "W3", "b1", "b2", "b3"]
        for l in range(3):
            assert np.array_equal(bits(archive[f"W{l + 1}"]), bits(snap.weights[l]))
            assert np.array_equal(bits(archive[f"b{l + 1}"]), bits(snap.biases[l]))
    assert "Exported the weights" in trained.statusBar().currentMessage()


def test_export_weights_as_json_by_the_chosen_filter(trained, monkeypatch, tmp_path):
    choose(monkeypatch, tmp_path / "weights", FILTER_OF[".json"])
    trained.export_weights_action.trigger()
    params = read_weights_json((tmp_path / "weights.json").read_text(encoding="utf-8"))
    snap = trained.controller.snapshot
    assert np.array_equal(bits(params["W2"]), bits(snap.weights[1]))
    assert not (tmp_path / "weights.npz").exists()


def test_export_code_for_numpy_predicts_what_the_app_shows(trained, monkeypatch, tmp_path):
    choose(monkeypatch, tmp_path / "network", FILTER_OF["numpy"])
    trained.export_code_action.trigger()
    snap = trained.controller.snapshot
    raw = snap.dataset.inputs[snap.dataset.train_indices]
    np.save(tmp_path / "raw.npy", raw)
    code = ("import runpy, sys, numpy as np; sys.modules['sandbox'] = None; "
            f"out = runpy.run_path({str(tmp_path / 'network.py')!r})['predict'](np.load({str(tmp_path / 'raw.npy')!r})); "
            f"np.save({str(tmp_path / 'out.npy')!r}, out)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert np.max(np.abs(np.load(tmp_path / "out.npy") - snap.train_outputs)) <= 1e-12


def test_export_code_for_pytorch_by_the_chosen_filter(trained, monkeypatch, tmp_path):
    choose(monkeypatch, tmp_path / "network.py", FILTER_OF["torch"])
    trained.export_code_action.trigger()
    text = (tmp_path / "network.py").read_text(encoding="utf-8")
    assert "nn.Sequential(" in text and "import numpy" not in text
    assert repr(float(trained.controller.snapshot.weights[0][1, 2])) in text


def test_export_loss_history_equals_the_history_the_app_holds(trained, qtbot, monkeypatch, tmp_path):
    choose(monkeypatch, tmp_path / "history")
    trained.export_history_action.trigger()
    exported = read_history_csv((tmp_path / "history.csv").read_text(encoding="utf-8"))
    worker_history = trained.controller._worker._run.history
    for tables in (HistoryTables.of(trained.controller.history), HistoryTables.of(worker_history)):
        assert np.array_equal(exported.step_rows, tables.step_rows, equal_nan=True)
        assert np.array_equal(exported.evaluation_rows, tables.evaluation_rows, equal_nan=True)
    assert len(exported.step_rows) == 35


@pytest.mark.parametrize("what", ["canvas", "output", "loss"])
def test_png_export_at_scale_2_has_twice_the_pixels_each_way(trained, monkeypatch, tmp_path, what):
    choose(monkeypatch, tmp_path / "one", IMAGE_FILTER_OF[1])
    trained.export_image_actions[what].trigger()
    choose(monkeypatch, tmp_path / "two", IMAGE_FILTER_OF[2])
    trained.export_image_actions[what].trigger()
    one, two = QImage(str(tmp_path / "one.png")), QImage(str(tmp_path / "two.png"))
    assert one.width() > 100 and one.height() > 100
    assert (two.width(), two.height()) == (2 * one.width(), 2 * one.height())
    # Drawn at the higher resolution, not an enlarged copy: more distinct colours at edges.
    assert len(set(_pixels(two))) > len(set(_pixels(one)))


def _pixels(image: QImage) -> list[int]:
    return [image.pixel(x, y) for y in range(0, image.height(), 3) for x in range(0, image.width(), 3)]


@pytest.mark.parametrize("what", ["canvas", "output", "loss"])
def test_svg_export_is_an_svg_document_with_the_view_in_it(trained, monkeypatch, tmp_path, what):
    choose(monkeypatch, tmp_path / "picture", IMAGE_FILTER_OF[0])
    trained.export_image_actions[what].trigger()
    path = tmp_path / "picture.svg"
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    shapes = [e for e in root.iter() if e.tag.split("}")[1] in ("path", "polyline", "image", "rect", "text")]
    assert len(shapes) > 10
    if what == "canvas":
        # One picture per neuron (2 inputs, 4 + 2 hidden, 1 output), each its own tile.
        images = [e for e in root.iter() if e.tag.endswith("}image")]
        assert len(images) >= 9
        for element in images:
            href = element.get("{http://www.w3.org/1999/xlink}href")
            picture = QImage.fromData(base64.b64decode(href.split(",", 1)[1]))
            assert picture.width() == picture.height() > 4  # a square tile, not the strip of all
    # Text stays text (an axis label, a layer title), not pixels.
    texts = {(e.text or "").strip() for e in root.iter() if e.tag.endswith("}text")}
    assert {"canvas": "Hidden 1 · tanh", "output": "x1", "loss": "step"}[what] in texts


def test_an_unwritable_export_path_shows_an_error_naming_it(trained, qtbot, monkeypatch, tmp_path):
    target = tmp_path / "no such folder" / "weights.npz"
    choose(monkeypatch, target, FILTER_OF[".npz"])
    trained.export_weights_action.trigger()
    box = trained.last_message_box
    qtbot.waitUntil(box.isVisible)
    assert box.windowTitle() == "Could not export the weights"
    assert str(target) in box.text()
    box.close()
    assert not os.path.exists(target)


def test_a_cancelled_dialog_writes_nothing(trained, monkeypatch, tmp_path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    for action in (trained.export_weights_action, trained.export_code_action, trained.export_history_action,
                   *trained.export_image_actions.values()):
        action.trigger()
    assert list(tmp_path.iterdir()) == []


def test_the_export_menu_keeps_every_image_and_adds_the_network_exports(window):
    texts = [a.text() for a in window.export_menu.actions()]
    assert texts == ["&Weights…", "&Code…", "Loss &History (CSV)…", "&Image"]
    assert sorted(window.export_image_actions) == ["canvas", "health", "loss", "output", "window"]


def test_while_scrubbed_back_the_weights_of_the_shown_step_are_exported(trained, qtbot, monkeypatch, tmp_path):
    from qt_helpers import small_run

    c = trained.controller
    c.scrub(10)
    wait_for_snapshot(qtbot, c, lambda s: s.step == 10)
    choose(monkeypatch, tmp_path / "weights.npz", FILTER_OF[".npz"])
    trained.export_weights_action.trigger()
    headless = small_run()
    headless.train(10)
    with np.load(tmp_path / "weights.npz") as archive:
        for l in range(3):
            assert np.array_equal(bits(archive[f"W{l + 1}"]), bits(headless.weights[l]))
