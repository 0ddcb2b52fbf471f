"""The controls panel drives a real worker: data, features and network reconfigure the run,
training settings change hyperparameters without touching the weights."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from qt_helpers import show_view, small_run, wait_for_snapshot, worker_barrier
from sandbox._qt.controls import data_section as controls_module  # where import_csv warns
from sandbox._qt.controls import ControlsPanel
from sandbox._qt.theme import ThemeManager
from sandbox.session import NetworkSpec
from sandbox.session.config import MAX_BATCH_SIZE
from sandbox.session.datasets import GENERATORS

pytestmark = pytest.mark.gui


@pytest.fixture
def setup(qtbot, qapp, make_controller):
    controller = make_controller(small_run())
    themes = ThemeManager(qapp, "light")
    panel = ControlsPanel(controller, themes)
    show_view(qtbot, controller, panel, 260, 800)
    qtbot.waitUntil(lambda: panel.dataset_combo.currentData() == "circle")
    yield panel, controller
    themes.setParent(None)


def _click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _click_checkbox(qtbot, box) -> None:
    # On the indicator: a check box in a grid cell can be wider than its text.
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def _type_rate(qtbot, combo, text: str) -> None:
    edit = combo.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_widgets_show_the_session(setup):
    panel, controller = setup
    combo = panel.dataset_combo
    names = [combo.itemData(i) for i in range(combo.count()) if combo.itemData(i)]
    assert names == list(GENERATORS)
    xor = combo.findData("xor")
    assert combo.itemData(xor, Qt.ItemDataRole.ToolTipRole) == GENERATORS["xor"].description
    assert combo.findData("csv") < 0  # only shown for imported data
    assert panel.noise_spin.value() == 0 and panel.train_percent_spin.value() == 50
    assert panel.points_spin.value() == 500 and panel.data_seed_spin.value() == 0
    assert [k for k, box in panel.feature_checkboxes.items() if box.isChecked()] == ["x1", "x2"]
    assert len(panel.feature_checkboxes) == 7
    assert [row.size_label.text() for row in panel.layer_rows] == ["4", "2"]
    assert [row.activation_combo.currentText() for row in panel.layer_rows] == ["tanh", "tanh"]
    assert panel.output_combo.currentData() == "sigmoid" and panel.loss_combo.currentData() == "bce"
    assert panel.init_combo.currentData() == "xavier"
    assert panel.optimizer_combo.currentText() == "sgd"
    assert panel.learning_rate_combo.currentText() == "0.03"
    assert panel.batch_spin.value() == 10 and panel.batch_spin.maximum() == 250
    assert panel.l1_combo.currentText() == "0" and panel.l2_combo.currentText() == "0"


def test_dataset_combo_reconfigures(qtbot, setup):
    panel, controller = setup
    panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("xor"))
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.dataset.name == "xor")
    assert snap.data_spec.n_points == 500
    # A three-class dataset gets the output that fits it, since sigmoid + bce was the default.
    panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("blobs"))
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.dataset.name == "blobs")
    assert snap.network_spec.output_activation == "softmax"
    qtbot.waitUntil(lambda: panel.output_combo.currentData() == "softmax")


def test_data_spins_and_regenerate(qtbot, setup):
    panel, controller = setup
    panel.noise_spin.setValue(30)
    panel.points_spin.setValue(200)  # both arrive in one debounced reconfigure
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.data_spec.n_points == 200)
    assert snap.data_spec.noise == pytest.approx(0.3)
    old = snap.dataset.inputs.copy()
    _click(qtbot, panel.regenerate_button)
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.data_spec.seed == 1)
    assert panel.data_seed_spin.value() == 1
    assert not np.array_equal(snap.dataset.inputs, old)
    assert panel.batch_spin.maximum() == 100  # 50 % of 200 points


def test_layers_and_neurons(qtbot, setup):
    panel, controller = setup
    _click(qtbot, panel.add_layer_button)
    wait_for_snapshot(qtbot, controller, lambda s: s.layer_sizes == (2, 4, 2, 2, 1))
    assert len(panel.layer_rows) == 3
    # Two quick clicks build on each other, not on the last snapshot.
    _click(qtbot, panel.layer_rows[0].plus_button)
    _click(qtbot, panel.layer_rows[0].plus_button)
    wait_for_snapshot(qtbot, controller, lambda s: s.layer_sizes == (2, 6, 2, 2, 1))
    assert panel.layer_rows[0].size_label.text() == "6"
    _click(qtbot, panel.layer_rows[2].minus_button)
    wait_for_snapshot(qtbot, controller, lambda s: s.layer_sizes == (2, 6, 2, 1, 1))
    assert not panel.layer_rows[2].minus_button.isEnabled()  # one neuron is the minimum
    panel.layer_rows[1].activation_combo.setCurrentText("relu")
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.network_spec.hidden_activations == ("tanh", "relu", "tanh"))
    assert snap.activation_names[1] == "relu"
    _click(qtbot, panel.remove_layer_button)
    wait_for_snapshot(qtbot, controller, lambda s: s.layer_sizes == (2, 6, 2, 1))
    assert len(panel.layer_rows) == 2


def test_output_loss_and_init(qtbot, setup):
    panel, controller = setup
    assert [panel.loss_combo.itemData(i) for i in range(panel.loss_combo.count())] == ["bce", "mse"]
    panel.output_combo.setCurrentIndex(panel.output_combo.findData("tanh"))
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.network_spec.output_activation == "tanh")
    assert snap.network_spec.loss == "mse"
    assert [panel.loss_combo.itemData(i) for i in range(panel.loss_combo.count())] == ["mse"]
    panel.output_combo.setCurrentIndex(panel.output_combo.findData("sigmoid"))  # back to the default
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.network_spec.output_activation == "sigmoid")
    assert snap.network_spec.loss == "bce"
    panel.loss_combo.setCurrentIndex(panel.loss_combo.findData("mse"))
    wait_for_snapshot(qtbot, controller, lambda s: s.network_spec.loss == "mse")
    panel.init_combo.setCurrentIndex(panel.init_combo.findData("zeros"))
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.network_spec.init == "zeros")
    assert not np.any(snap.weights[0])


def test_learning_rate_keeps_weights(qtbot, setup):
    panel, controller = setup
    before = controller.snapshot
    assert not before.playing
    _type_rate(qtbot, panel.learning_rate_combo, "0.1")
    after = wait_for_snapshot(qtbot, controller, lambda s: s.hyper.learning_rate == 0.1)
    assert after.run_id == before.run_id and after.step == before.step
    for w0, w1 in zip(before.weights, after.weights):
        assert np.array_equal(w0, w1)
    # Out of range: refused in the panel, visibly (the text stays, framed, with the reason).
    generation = controller.generation
    _type_rate(qtbot, panel.learning_rate_combo, "0")
    assert controller.generation == generation
    assert panel.learning_rate_combo.currentText() == "0"
    assert "stays 0.1" in panel.learning_rate_combo.refusal()
    # A typed value not among the presets, with an exponent.
    _type_rate(qtbot, panel.learning_rate_combo, "2e-4")
    wait_for_snapshot(qtbot, controller, lambda s: s.hyper.learning_rate == 2e-4)
    assert panel.learning_rate_combo.currentText() == "0.0002"


def test_training_settings(qtbot, setup):
    panel, controller = setup
    panel.optimizer_combo.setCurrentText("adam")
    wait_for_snapshot(qtbot, controller, lambda s: s.hyper.optimizer == "adam")
    panel.l2_combo.setCurrentIndex(panel.l2_combo.findText("0.003"))
    panel.l2_combo.activated.emit(panel.l2_combo.currentIndex())  # what picking from the list emits
    wait_for_snapshot(qtbot, controller, lambda s: s.hyper.l2 == 0.003)
    _type_rate(qtbot, panel.l1_combo, "0.001")
    wait_for_snapshot(qtbot, controller, lambda s: s.hyper.l1 == 0.001)
    panel.batch_spin.setValue(panel.batch_spin.maximum())
    wait_for_snapshot(qtbot, controller, lambda s: s.hyper.batch_size == MAX_BATCH_SIZE)
    assert panel.batch_spin.text() == "all"
    # Changes made elsewhere (a loaded session, the CLI …) show up here.
    controller.set_hyperparameters(learning_rate=0.3, batch_size=25)
    qtbot.waitUntil(lambda: panel.learning_rate_combo.currentText() == "0.3" and panel.batch_spin.value() == 25)


def test_feature_checkboxes(qtbot, setup):
    panel, controller = setup
    boxes = panel.feature_checkboxes
    assert boxes["x1_sq"].text() == "x1²"
    _click_checkbox(qtbot, boxes["x1_sq"])
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.features == ("x1", "x2", "x1_sq"))
    assert snap.layer_sizes[0] == 3
    _click_checkbox(qtbot, boxes["x1"])
    _click_checkbox(qtbot, boxes["x1_sq"])
    wait_for_snapshot(qtbot, controller, lambda s: s.features == ("x2",))
    generation = controller.generation
    _click_checkbox(qtbot, boxes["x2"])  # the last one cannot be switched off
    assert boxes["x2"].isChecked()
    assert controller.generation == generation


def _write(path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_csv(qtbot, setup, tmp_path):
    panel, controller = setup
    rows = "\n".join(f"{i * 0.1:.2f},{(i % 7) * 0.5:.2f},{i % 3},{'ab'[i % 2]}" for i in range(40))
    good = _write(tmp_path / "pairs.csv", "height,width,depth,kind\n" + rows + "\n")
    assert panel.import_csv(good)
    snap = wait_for_snapshot(qtbot, controller, lambda s: s.data_spec.source == "csv")
    assert snap.dataset.name == "pairs.csv" and snap.dataset.class_names == ("a", "b")
    qtbot.waitUntil(lambda: panel.dataset_combo.currentData() == "csv")
    assert list(panel.feature_checkboxes) == ["height", "width", "depth"]  # raw columns (> 2 inputs)
    assert snap.features == ("height", "width", "depth")
    assert not panel.noise_spin.isEnabled()
    # Back to a generator: the CSV entry goes away again.
    panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("moons"))
    wait_for_snapshot(qtbot, controller, lambda s: s.dataset.name == "moons")
    qtbot.waitUntil(lambda: panel.dataset_combo.findData("csv") < 0)


def test_import_bad_csv_shows_error_and_changes_nothing(qtbot, setup, tmp_path, monkeypatch):
    panel, controller = setup
    shown = []
    monkeypatch.setattr(
        controls_module.QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append((title, text)))
    )
    bad = _write(tmp_path / "bad.csv", "a,b,label\n1,2,x\n3,oops,y\n")
    before, generation = controller.snapshot, controller.generation
    assert not panel.import_csv(bad)
    assert len(shown) == 1
    assert "line 3" in shown[0][1] and "oops" in shown[0][1]
    assert controller.generation == generation
    worker_barrier(qtbot, controller)
    assert controller.snapshot.dataset is before.dataset
    assert panel.dataset_combo.currentData() == "circle"


def test_fits_the_dock_without_horizontal_scrolling(qtbot, setup):
    panel, controller = setup
    controller.reconfigure(network=NetworkSpec((16,) * 8, ("leaky_relu",) * 8))
    wait_for_snapshot(qtbot, controller, lambda s: len(s.layer_sizes) == 10)
    qtbot.waitUntil(lambda: len(panel.layer_rows) == 8)
    panel.resize(260, 600)
    qtbot.waitUntil(lambda: panel.scroll_area.verticalScrollBar().isVisible())
    viewport = panel.scroll_area.viewport().width()
    assert panel.scroll_area.widget().minimumSizeHint().width() <= viewport
