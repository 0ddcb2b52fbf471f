"""The main window: canvas in the centre, output view and loss plot on the right, controls on
the left, the inspector below, and the File / Training / View menus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QEventLoop, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QImage, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..resources import example_sessions, is_builtin
from ..session import TrainingRun
from ..session.snapshot import Snapshot
from .app import settings
from .controller import SessionController
from .controls import ControlsPanel
from .inspector import Inspector
from .loss_plot import LossPlot
from .canvas import NetworkCanvas
from .output_view import OutputView
from .theme import ThemeManager
from .training_bar import TrainingBar

SESSION_FILTER = "Backprop Sandbox sessions (*.json);;All files (*)"
MAX_RECENT = 10


class Banner(QFrame):
    """A message strip with action buttons under it, shown above the canvas."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 6, 6, 6)
        outer.setSpacing(4)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.label)
        self._layout = QHBoxLayout()
        self._layout.setSpacing(6)
        outer.addLayout(self._layout)
        self._buttons: list[QPushButton] = []
        self._layout.addStretch(1)
        self.close_button = QPushButton("Dismiss", self)
        self.close_button.clicked.connect(self.hide)
        self._layout.addWidget(self.close_button)
        self.hide()

    def show_message(self, text: str, actions: list[tuple[str, object]] = (), style: str = "") -> None:
        for button in self._buttons:
            button.deleteLater()
        self._buttons = []
        self.label.setText(text)
        for k, (label, slot) in enumerate(actions):
            button = QPushButton(label, self)
            button.clicked.connect(slot)
            self._layout.insertWidget(k, button)
            self._buttons.append(button)
        self.setStyleSheet(f"QFrame#banner {{ {style} }}")
        self.show()

    @property
    def buttons(self) -> list[QPushButton]:
        return list(self._buttons)


class MainWindow(QMainWindow):
    """The Backprop Sandbox window.

    Parameters
    ----------
    run
        The session to open.
    path
        Its file, or None for a new (unsaved) session.  Built-in sessions are treated as
        unsaved: Save asks where to put a copy.
    themes
        The application's theme manager.
    """

    def __init__(self, run: TrainingRun, path: str | None, themes: ThemeManager, max_fps: float = 60.0,
                 persist_settings: bool = True) -> None:
        super().__init__()
        #: Whether window geometry is restored from and saved to the user's settings (off for
        #: screenshots, benchmarks and tests, so they are reproducible).
        self.persist_settings = persist_settings
        self.themes = themes
        self.controller = SessionController(run, parent=self, max_fps=max_fps)
        self._path: Path | None = Path(path) if path and not is_builtin(path) else None
        self._source_name = Path(path).name if path else "Untitled"
        self._pending_open: str | None = None
        self._last_divergence = None
        self._previous_snapshot: Snapshot | None = None
        self._expect_new_run = False  # set while a file opens: that new run needs no explaining
        self._closing = False
        self._sized_splitter = False
        #: Close without the unsaved-changes question (CI's smoke test sets it).
        self.skip_unsaved_prompt = False
        self.last_message_box: QMessageBox | None = None
        # No AnimatedDocks: it animates every relayout, which costs frames while training.
        self.setDockOptions(QMainWindow.DockOption.AllowTabbedDocks)

        # --- central: banner + description + canvas | output view over loss plot
        self.canvas = NetworkCanvas(self.controller, themes)
        self.output_view = OutputView(self.controller, themes)
        self.loss_plot = LossPlot(self.controller, themes)
        self.banner = Banner()
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setObjectName("description")
        self.description.setContentsMargins(8, 4, 8, 0)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(2)
        left_layout.addWidget(self.banner)
        left_layout.addWidget(self.description)
        left_layout.addWidget(self.canvas, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.output_view)
        right.addWidget(self.loss_plot)
        right.setStretchFactor(0, 11)
        right.setStretchFactor(1, 9)
        right.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        # --- docks and toolbar
        self.controls = ControlsPanel(self.controller, themes)
        self.controls_dock = self._dock("Controls", "controlsDock", self.controls, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector = Inspector(self.controller, themes)
        self.inspector_dock = self._dock("Inspector", "inspectorDock", self.inspector, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.training_bar = TrainingBar(self.controller, themes, self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.training_bar)

        self._build_menus()
        self.statusBar().showMessage("Press Space to train, → to step one batch.", 8000)

        # --- wiring
        c = self.controller
        c.snapshotChanged.connect(self._on_controller_snapshot_changed)
        c.commandFailed.connect(self._on_controller_command_failed)
        c.sessionLoaded.connect(self._on_controller_session_loaded)
        c.sessionSaved.connect(self._on_controller_session_saved)
        c.workerCrashed.connect(self._on_controller_worker_crashed)
        self.controls.importFailed.connect(self._on_controls_import_failed) if hasattr(self.controls, "importFailed") else None
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._on_themes_theme_changed(themes.theme)
        self._update_title(modified=False)
        self._restore_window_state()

    # ------------------------------------------------------------------------------ layout

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _restore_window_state(self) -> None:
        s = settings()
        geometry = s.value("window/geometry") if self.persist_settings else None
        state = s.value("window/state") if self.persist_settings else None
        restored = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            restored = self.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        if not restored:
            screen = self.screen().availableGeometry() if self.screen() else None
            width, height = 1280, 800
            if screen is not None:
                width, height = min(width, screen.width()), min(height, screen.height())
            self.resize(width, height)
            self.resizeDocks([self.controls_dock], [260], Qt.Orientation.Horizontal)
            self.resizeDocks([self.inspector_dock], [230], Qt.Orientation.Vertical)

    # ------------------------------------------------------------------------------- menus

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.new_action = self._action(file_menu, "&New", self.new_session, QKeySequence.StandardKey.New)
        self.open_action = self._action(file_menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.examples_menu = file_menu.addMenu("Open &Example")
        for path in example_sessions():
            act = self.examples_menu.addAction(example_title(path.stem))
            act.setToolTip(str(path))
            act.triggered.connect(lambda _=False, p=str(path): self.open_path(p))
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.save_action = self._action(file_menu, "&Save", self.save, QKeySequence.StandardKey.Save)
        self.save_as_action = self._action(file_menu, "Save &As…", self.save_as, QKeySequence.StandardKey.SaveAs)
        file_menu.addSeparator()
        self.import_action = self._action(file_menu, "&Import CSV…", self.import_csv_dialog)
        export = file_menu.addMenu("&Export Image")
        self._action(export, "&Network canvas…", lambda: self.export_image_dialog("canvas"))
        self._action(export, "&Output view…", lambda: self.export_image_dialog("output"))
        self._action(export, "&Loss plot…", lambda: self.export_image_dialog("loss"))
        self._action(export, "&Whole window…", lambda: self.export_image_dialog("window"))
        file_menu.addSeparator()
        self.quit_action = self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        training = bar.addMenu("&Training")
        tb = self.training_bar
        for act in (tb.play_action, tb.step_action, tb.epoch_action, tb.phase_action):
            training.addAction(act)
        training.addSeparator()
        training.addAction(tb.reset_action)
        training.addAction(tb.new_seed_action)

        view = bar.addMenu("&View")
        conn = view.addMenu("&Connections show")
        group = QActionGroup(self)
        self.view_mode_actions: dict[str, QAction] = {}
        for key, (mode, label) in enumerate((("weights", "&Weights w"), ("gradients", "&Gradients ∂J/∂w"),
                                            ("updates", "&Updates Δw")), start=1):
            act = conn.addAction(label)
            act.setCheckable(True)
            act.setShortcut(QKeySequence(f"Ctrl+{key}"))
            act.triggered.connect(lambda _=False, m=mode: self.canvas.set_view_mode(m))
            group.addAction(act)
            self.view_mode_actions[mode] = act
        self.view_mode_actions[self.canvas.view_mode].setChecked(True)
        self.canvas.viewModeChanged.connect(lambda m: self.view_mode_actions[m].setChecked(True))
        theme_menu = view.addMenu("&Theme")
        theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for mode, label in (("system", "Follow &system"), ("light", "&Light"), ("dark", "&Dark")):
            act = theme_menu.addAction(label)
            act.setCheckable(True)
            act.setChecked(self.themes.mode == mode)
            act.triggered.connect(lambda _=False, m=mode: self.set_theme(m))
            theme_group.addAction(act)
            self.theme_actions[mode] = act
        view.addSeparator()
        view.addAction(self.controls_dock.toggleViewAction())
        view.addAction(self.inspector_dock.toggleViewAction())

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "How to read the &canvas", self.show_help)
        self._action(help_menu, "&About Backprop Sandbox", self.show_about)

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        act = menu.addAction(text)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(lambda _=False: slot())
        return act

    # ------------------------------------------------------------------------- snapshots

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        before = self._previous_snapshot
        if before is not None and snap.run_id != before.run_id and not self._expect_new_run:
            self.statusBar().showMessage(
                "Fresh weights: changing the data, the features or the network starts training over.", 8000)
        self._expect_new_run = False
        self._follow_phase(self._previous_snapshot, snap)
        self._previous_snapshot = snap
        self._update_title(snap.modified)
        self._show_description(snap)
        if snap.divergence is not None and snap.divergence != self._last_divergence:
            self._show_divergence(snap)
        elif snap.divergence is None and self._last_divergence is not None:
            self.banner.hide()
        self._last_divergence = snap.divergence

    def _follow_phase(self, before: Snapshot | None, snap: Snapshot) -> None:
        """When the user steps one phase at a time, show what that phase produced."""
        if before is None or before.run_id != snap.run_id or snap.last_phase == before.last_phase:
            return
        optimizer = snap.hyper.optimizer
        batch = len(snap.batch_indices)
        if snap.last_phase == "forward":
            self.canvas.set_view_mode("weights")
            message = (f"Forward pass: the {batch} ringed examples went through the network with these "
                       "weights; every z and a = f(z) is computed. Next: backward.")
        elif snap.last_phase == "backward" and before.last_phase == "forward":
            self.canvas.set_view_mode("gradients")
            message = ("Backward pass: δ = ∂ℓ/∂z flowed back from the loss; the connections now show "
                       "this batch's ∂J/∂w. Next: update.")
        elif snap.last_phase == "update" and before.last_phase == "backward":
            self.canvas.set_view_mode("updates")
            message = (f"Update: {optimizer} moved every weight by the Δw the connections show now "
                       f"(sgd: Δw = −η·∂J/∂w). Step {snap.step} done.")
        else:
            return
        self.statusBar().showMessage(message, 15000)

    def _show_description(self, snap: Snapshot) -> None:
        text = snap.description.strip()
        self.description.setVisible(bool(text))
        if text != self.description.text():
            self.description.setText(text)

    def _show_divergence(self, snap: Snapshot) -> None:
        lr = snap.hyper.learning_rate
        lower = float(f"{lr / 10:.3g}")
        theme = self.themes.theme
        text = snap.divergence.message
        largest = max((float(np.abs(w).max()) for w in snap.weights if w.size), default=0.0)
        lower_only = (f"Lower learning rate to {lower:g}", lambda: self._lower_learning_rate(lower, reset=False))
        lower_reset = (f"Lower to {lower:g} and reset weights", lambda: self._lower_learning_rate(lower, reset=True))
        if largest > 1e6:
            # The last finite weights are often astronomically large by then: continuing from
            # them rarely recovers, so offer the fresh start first.
            text += f" The kept weights are huge (|w| up to {largest:.3g}); resetting them is probably needed."
            actions = [lower_reset, lower_only]
        else:
            actions = [lower_only, lower_reset]
        self.banner.show_message(
            text, actions,
            style=f"background: {_rgba(theme.negative, 0.18)}; border: 1px solid {theme.negative}; "
                  "border-radius: 4px;",
        )

    def _lower_learning_rate(self, value: float, reset: bool) -> None:
        self.controller.set_hyperparameters(learning_rate=value)
        if reset:
            self.controller.reset()
        self.banner.hide()
        done = "and the weights reset" if reset else "(the weights are the last finite ones)"
        self.statusBar().showMessage(f"Learning rate set to {value:g} {done}. Press Space to continue.", 8000)

    def _update_title(self, modified: bool) -> None:
        name = self._path.name if self._path else self._source_name
        title = f"{name}[*] — Backprop Sandbox"
        if self.windowTitle() != title:
            self.setWindowTitle(title)
        if self.isWindowModified() != bool(modified):
            self.setWindowModified(bool(modified))

    # ---------------------------------------------------------------------------- files

    @property
    def path(self) -> Path | None:
        return self._path

    def confirm_discard(self) -> bool:
        """Ask to save unsaved changes; False if the user cancelled."""
        snap = self.controller.snapshot
        if snap is None or not snap.modified:
            return True
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes",
                          f"Save the changes to {self._path.name if self._path else self._source_name}?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText("Your training progress and edits are lost if you don't save them.")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            return self.save(wait=True)
        return True

    def new_session(self) -> None:
        if not self.confirm_discard():
            return
        from ..resources import default_run

        self._expect_new_run = True
        self.controller.new_session(default_run())
        self._path, self._source_name = None, "Untitled"
        self._update_title(False)

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        start = str(self._path.parent) if self._path else str(settings().value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open session", start, SESSION_FILTER)
        if path:
            self.open_path(path, confirmed=True)

    def open_path(self, path: str, confirmed: bool = False) -> None:
        """Load ``path`` in the worker; on failure a dialog explains and nothing changes."""
        if not confirmed and not self.confirm_discard():
            return
        self._pending_open = str(path)
        self._expect_new_run = True
        self.controller.load(str(path))

    def _on_controller_session_loaded(self, path: str) -> None:
        self._pending_open = None
        builtin = is_builtin(path)
        self._path = None if builtin else Path(path)
        self._source_name = Path(path).name
        if not builtin:
            self._add_recent(path)
            settings().setValue("last_dir", str(Path(path).parent))
        self._update_title(False)
        self.statusBar().showMessage(f"Opened {path}", 5000)

    def save(self, wait: bool = False) -> bool:
        if self._path is None:
            return self.save_as(wait=wait)
        return self._save_to(str(self._path), wait)

    def save_as(self, wait: bool = False) -> bool:
        start_dir = settings().value("last_dir", "") or _documents_dir()
        suggested = str(Path(start_dir) / (Path(self._source_name).stem + ".json"))
        path, _ = QFileDialog.getSaveFileName(self, "Save session as", suggested, SESSION_FILTER)
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        if is_builtin(path):
            self.show_error("Could not save the session",
                            f"{path} is a built-in session and is never overwritten. Choose another name.")
            return False
        return self._save_to(path, wait)

    def _save_to(self, path: str, wait: bool) -> bool:
        self.controller.save(path)
        if not wait:
            return True
        # Closing the window: wait (bounded) for the worker to finish writing.
        loop = QEventLoop()
        result = {"ok": False}

        def done(ok: bool) -> None:
            result["ok"] = ok
            loop.quit()

        self.controller.sessionSaved.connect(lambda _p: done(True))
        self.controller.commandFailed.connect(lambda *_: done(False))
        QTimer.singleShot(30_000, loop.quit)
        loop.exec()
        return result["ok"]

    def _on_controller_session_saved(self, path: str) -> None:
        self._path = Path(path)
        self._source_name = self._path.name
        self._add_recent(path)
        settings().setValue("last_dir", str(self._path.parent))
        self._update_title(False)
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def import_csv_dialog(self) -> None:
        start = str(settings().value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Import CSV data", start, "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.controls.import_csv(path)

    def _add_recent(self, path: str) -> None:
        s = settings()
        recent = [p for p in (s.value("recent", []) or []) if p != path]
        s.setValue("recent", ([path] + recent)[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = [p for p in (settings().value("recent", []) or []) if Path(p).is_file()]
        if not recent:
            act = self.recent_menu.addAction("No recent files")
            act.setEnabled(False)
            return
        for path in recent:
            act = self.recent_menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.triggered.connect(lambda _=False, p=path: self.open_path(p))

    # --------------------------------------------------------------------------- export

    def export_image(self, what: str, path: str) -> None:
        """Save the canvas, output view, loss plot or whole window as a PNG; raises OSError."""
        image: QImage
        if what == "canvas":
            image = self.canvas.image_for_export()
        elif what == "output":
            image = self.output_view.image_for_export()
        elif what == "loss":
            image = self.loss_plot.image_for_export()
        else:
            image = self.grab().toImage()
        if not image.save(path, "PNG"):
            raise OSError(f"could not write {path}")

    def export_image_dialog(self, what: str) -> None:
        names = {"canvas": "network", "output": "output", "loss": "loss", "window": "window"}
        start = Path(str(settings().value("last_dir", "")) or _documents_dir())
        path, _ = QFileDialog.getSaveFileName(self, "Export image", str(start / f"{names[what]}.png"),
                                              "PNG images (*.png)")
        if not path:
            return
        if not path.lower().endswith(".png"):
            path += ".png"
        try:
            self.export_image(what, path)
        except OSError as exc:
            self.show_error("Could not export the image", f"{path}: {exc}")
            return
        self.statusBar().showMessage(f"Exported {path}", 5000)

    # -------------------------------------------------------------------------- messages

    def show_error(self, title: str, text: str, details: str | None = None) -> QMessageBox:
        """A window-modal error box that does not block the event loop (tests can find it)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        if details:
            box.setDetailedText(details)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.last_message_box = box
        return box

    def _on_controller_command_failed(self, title: str, message: str) -> None:
        self._expect_new_run = False
        if self._pending_open is not None and title.startswith("Could not open"):
            self._pending_open = None
        self.show_error(title, message)

    def _on_controls_import_failed(self, message: str) -> None:
        self.show_error("Could not import the CSV file", message)

    def _on_controller_worker_crashed(self, details: str) -> None:
        self.show_error(
            "Something went wrong",
            "An unexpected error stopped training. Your session is still open; training is paused. "
            "Saving now is safe. Please report the details below.",
            details,
        )

    def show_help(self) -> None:
        nb = "\u00a0"  # keeps a formula on one line
        QMessageBox.information(
            self,
            "How to read the canvas",
            "Each column is a layer: input features on the left, the output on the right. A "
            "neuron's picture is its output over the input plane (blue high, orange low; a curve "
            "for 1-D data). The small bar under a neuron is its bias: blue positive, orange "
            "negative, longer for larger.\n\n"
            "Connections are blue for positive and orange for negative values, thicker for larger "
            "ones, of what the view shows: the weight w, the gradient ∂J/∂w (how much the loss J "
            "blames that weight), or the last update Δw. In the Gradients view a neuron's glow is "
            "its mean |δ|, where δ = ∂ℓ/∂z is how much the loss ℓ of one example changes with "
            "the neuron's input z.\n\n"
            f"Gradient descent moves every weight against its gradient:{nb}w{nb}←{nb}w{nb}−{nb}η{nb}∂J/∂w. "
            "The rings in the output view mark the examples of the next mini-batch. Click any "
            "connection or neuron to inspect and edit it; the loss plot marks every edit.",
        )

    def show_about(self) -> None:
        from .. import __version__

        QMessageBox.about(self, "About Backprop Sandbox",
                          f"Backprop Sandbox {__version__}\n\nSee, step and edit every gradient of a small "
                          "neural network.")

    # ---------------------------------------------------------------------------- theme

    def set_theme(self, mode: str) -> None:
        self.themes.set_mode(mode)
        settings().setValue("theme", mode)

    def _on_themes_theme_changed(self, theme) -> None:
        self.description.setStyleSheet(f"color: {theme.muted};")
        if self.controller.snapshot is not None and self.controller.snapshot.divergence is not None:
            self._show_divergence(self.controller.snapshot)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._sized_splitter:
            # The canvas gets two thirds; the output view and loss plot the last third.
            self._sized_splitter = True
            total = max(self.splitter.width(), 600)
            self.splitter.setSizes([total * 2 // 3, total - total * 2 // 3])

    # ---------------------------------------------------------------------------- close

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self._closing and not self.skip_unsaved_prompt and not self.confirm_discard():
            event.ignore()
            return
        self._closing = True
        if self.persist_settings:
            s = settings()
            s.setValue("window/geometry", self.saveGeometry())
            s.setValue("window/state", self.saveState())
        self.controller.shutdown()
        event.accept()


def _rgba(hex_color: str, alpha: float) -> str:
    """A style-sheet colour with transparency (8-digit hex would read as #AARRGGBB)."""
    c = QColor(hex_color)
    return f"rgba({c.red()}, {c.green()}, {c.blue()}, {alpha})"


def example_title(stem: str) -> str:
    """``02-xor-with-a-product-feature`` → ``XOR with a product feature``."""
    words = stem.split("-")[1:] if stem[:2].isdigit() else stem.split("-")
    fixed = {"xor": "XOR", "6x8": "6×8", "softmax": "softmax"}
    words = [fixed.get(w, w) for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _documents_dir() -> str:
    try:
        from platformdirs import user_documents_dir

        return user_documents_dir()
    except Exception:  # noqa: BLE001 - any failure falls back to home
        return str(Path.home())
