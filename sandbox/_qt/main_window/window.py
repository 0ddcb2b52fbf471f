"""The main window: canvas in the centre, output view and loss plot on the right, controls on
the left, the inspector below, and the File / Training / View menus."""

from __future__ import annotations


from PySide6.QtCore import QByteArray, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (QApplication, QDialog, QDockWidget, QLabel, QMainWindow, QMessageBox, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from ...engine import compiled
from ...session import TrainingRun
from ...session.snapshot import Snapshot
from ...session.workspace import Workspace
from ..app_settings import animate_phase_steps, settings
from ..autosave import AUTOSAVE_INTERVAL_MS, AutosaveController
from ..blame_ranking import BlameRanking
from ..controller import SessionController
from ..controls import ControlsPanel
from ..inspector import Inspector
from ..gradient_health import GradientHealthPlot
from ..histograms_window import HistogramsWindow
from ..lessons_panel import add_lessons_dock
from ..history_scrubber import HistoryScrubber
from ..loss_plot import LossPlot
from ..canvas import NetworkCanvas
from ..output_view import OutputView
from ..theme import ThemeManager
from ..training_bar import TrainingBar
from .banner import Banner, DivergenceAdvice
from .conveniences import ShortcutsDialog, dropped_path
from .history_banner import HistoryBanner
from .files import SessionFiles, file_and_name
from .menus import build_menus
from .messages import HELP_TEXT, phase_message


#: The version of the saved dock layout; bump it when docks are added or removed.
WINDOW_STATE_VERSION = 3


class MainWindow(SessionFiles, QMainWindow):
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
    autosave_interval_ms
        How often unsaved changes are autosaved (see :mod:`sandbox._qt.autosave`).
    """

    def __init__(self, run: TrainingRun | Workspace, path: str | None, themes: ThemeManager, max_fps: float = 60.0,
                 persist_settings: bool = True, autosave_interval_ms: int = AUTOSAVE_INTERVAL_MS) -> None:
        super().__init__()
        #: Whether window geometry is restored from and saved to the user's settings (off for
        #: screenshots, benchmarks and tests, so they are reproducible).
        self.persist_settings = persist_settings
        self.themes = themes
        self.controller = SessionController(run, parent=self, max_fps=max_fps)
        self._path, self._source_name = file_and_name(path)
        self._pending_open: str | None = None
        self._last_divergence = None
        self._previous_snapshot: Snapshot | None = None
        self._expect_new_run = False  # set while a file opens: that new run needs no explaining
        self._closing = False
        #: Saves sent to the worker that have not replied: request id → path.
        self._pending_saves: dict[int, str] = {}
        #: A close waits for the running saves, then closes (unless one fails).
        self._close_when_saved = False
        #: The unsaved-changes question was answered for this close (not asked again when the
        #: close resumes after the saves).
        self._close_confirmed = False
        self._sized_splitter = False
        #: View ▸ Histograms… (made the first time it is asked for).
        self.histograms_window: HistogramsWindow | None = None
        #: Close without the unsaved-changes question (CI's smoke test sets it).
        self.skip_unsaved_prompt = False
        self.last_message_box: QMessageBox | None = None
        self._crash_box: QMessageBox | None = None
        # No AnimatedDocks: it animates every relayout, which costs frames while training.
        self.setDockOptions(QMainWindow.DockOption.AllowTabbedDocks)

        # --- central: banner + description + canvas | output view over loss plot
        self.canvas = NetworkCanvas(self.controller, themes)
        self.canvas.phase_overlay.set_enabled(animate_phase_steps())
        self.output_view = OutputView(self.controller, themes)
        self.loss_plot = LossPlot(self.controller, themes)
        self.gradient_health = GradientHealthPlot(self.controller, themes)
        # Beside the loss plot, as a tab: side by side, each would be ~200 px wide at 1280×800.
        self.plot_tabs = QTabWidget()
        self.plot_tabs.setDocumentMode(True)
        self.plot_tabs.addTab(self.loss_plot, "Loss")
        self.plot_tabs.addTab(self.gradient_health, "Gradient health")
        self.history_scrubber = HistoryScrubber(self.controller)
        plots = QWidget()
        plots_layout = QVBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.setSpacing(0)
        plots_layout.addWidget(self.plot_tabs, 1)
        plots_layout.addWidget(self.history_scrubber)
        self.banner = Banner()
        self.history_banner = HistoryBanner(self.controller, themes)
        self.divergence_advice = DivergenceAdvice(self.controller, self.banner, themes)
        self.divergence_advice.applied.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setObjectName("description")
        self.description.setContentsMargins(8, 4, 8, 0)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(2)
        left_layout.addWidget(self.history_banner)
        left_layout.addWidget(self.banner)
        left_layout.addWidget(self.description)
        left_layout.addWidget(self.canvas, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.output_view)
        right.addWidget(plots)
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
        self.blame_ranking = BlameRanking(self.controller, themes)
        self.blame_dock = self._dock("Blame ranking", "blameDock", self.blame_ranking, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.controls_dock, self.blame_dock)
        self.lessons_dock = add_lessons_dock(self)  # a third tab; keeps self.lessons_panel
        self.controls_dock.raise_()
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.training_bar = TrainingBar(self.controller, themes, self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.training_bar)
        self.controls.confirm_replace = self.confirm_discard

        build_menus(self)
        self.statusBar().showMessage("Press Space to train, → to step one batch.", 8000)

        # --- wiring
        c = self.controller
        c.snapshotChanged.connect(self._on_controller_snapshot_changed)
        c.commandFailed.connect(self._on_controller_command_failed)
        c.sessionLoaded.connect(self._on_controller_session_loaded)
        c.sessionSaved.connect(self._on_controller_session_saved)
        c.saveFinished.connect(self._on_controller_save_finished)
        c.workerCrashed.connect(self._on_controller_worker_crashed)
        c.noted.connect(self._show_note)
        self.autosave = AutosaveController(c, lambda: (str(self._path) if self._path else None, self._source_name),
                                           parent=self, interval_ms=autosave_interval_ms)
        self.autosave.noted.connect(lambda text: self.statusBar().showMessage(text, 15000))
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._on_themes_theme_changed(themes.theme)
        self._update_title(modified=False)
        self.setAcceptDrops(True)  # a session or CSV file dropped on the window opens
        #: The dock layout as built, for View ▸ Reset Layout.
        self._default_state = self.saveState(WINDOW_STATE_VERSION)
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
            # A layout saved by a build with other docks would split the new ones in beside
            # the old (the blame ranking squeezed under the controls): the default layout instead.
            self.restoreState(state, WINDOW_STATE_VERSION)
        if not restored:
            self._apply_default_size()

    def _apply_default_size(self) -> None:
        screen = self.screen().availableGeometry() if self.screen() else None
        width, height = 1280, 800
        if screen is not None:
            width, height = min(width, screen.width()), min(height, screen.height())
        if self.isMaximized() or self.isFullScreen():
            self.showNormal()
        self.resize(width, height)
        self.resizeDocks([self.controls_dock], [260], Qt.Orientation.Horizontal)
        self.resizeDocks([self.inspector_dock], [250], Qt.Orientation.Vertical)

    def reset_layout(self) -> None:
        """View ▸ Reset Layout: every dock back where it started, the default window size and
        splitter proportions (the next start remembers this layout)."""
        self.restoreState(self._default_state, WINDOW_STATE_VERSION)
        for dock in (self.controls_dock, self.inspector_dock, self.blame_dock, self.lessons_dock):
            dock.setFloating(False)
            dock.show()
        self.controls_dock.raise_()
        self._apply_default_size()
        total = max(self.splitter.width(), 600)
        self.splitter.setSizes([total * 2 // 3, total - total * 2 // 3])
        self.statusBar().showMessage("The window layout is back to its default.", 5000)

    # ------------------------------------------------------------------- drag and drop

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        path = dropped_path(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # After the drop returns: the unsaved-changes question must not run inside the drag.
        QTimer.singleShot(0, lambda: self.open_path(path))

    def show_shortcuts(self) -> ShortcutsDialog:
        """Help ▸ Keyboard Shortcuts (non-modal; returned for tests)."""
        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.shortcuts_dialog = dialog
        return dialog

    # ------------------------------------------------------------------------------- menus

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
        self._show_undo_texts(snap)
        self._show_description(snap)
        if snap.divergence is not None and snap.divergence != self._last_divergence:
            self._show_divergence(snap)
        elif snap.divergence is None and self._last_divergence is not None:
            self.banner.hide()
        self._last_divergence = snap.divergence

    def _follow_phase(self, before: Snapshot | None, snap: Snapshot) -> None:
        """When the user steps one phase at a time, show what that phase produced."""
        shown = phase_message(before, snap)
        if shown is not None:
            mode, message = shown
            self.canvas.set_view_mode(mode.value)
            self.statusBar().showMessage(message, 15000)

    def _show_undo_texts(self, snap: Snapshot) -> None:
        """Edit ▸ Undo / Redo name what they would undo ("Undo set w[2][1,3] to 0.5")."""
        ws = snap.workspace
        for action, verb, text in ((self.undo_action, "&Undo", ws.undo_text if ws else ""),
                                   (self.redo_action, "&Redo", ws.redo_text if ws else "")):
            label = f"{verb} {text}" if text else verb
            if action.text() != label:
                action.setText(label)
                action.setEnabled(bool(text))
        scrubbed = ws is not None and ws.shown_step is not None
        if self.continue_action.isEnabled() != scrubbed:
            self.continue_action.setEnabled(scrubbed)
            self.back_to_live_action.setEnabled(scrubbed)

    def _show_description(self, snap: Snapshot) -> None:
        text = snap.description.strip()
        self.description.setVisible(bool(text))
        if text != self.description.text():
            self.description.setText(text)

    def _show_divergence(self, snap: Snapshot) -> None:
        self.divergence_advice.show(snap)
        explanation = self.divergence_advice.explanation
        rise = None if explanation is None else explanation.rise_step
        self.loss_plot.mark_divergence(rise)
        self.gradient_health.mark_divergence(rise)

    def _update_title(self, modified: bool) -> None:
        name = self._path.name if self._path else self._source_name
        title = f"{name}[*] — Backprop Sandbox"
        if self.windowTitle() != title:
            self.setWindowTitle(title)
        if self.isWindowModified() != bool(modified):
            self.setWindowModified(bool(modified))

    # ---------------------------------------------------------------------------- files

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

    def _on_controller_worker_crashed(self, details: str) -> None:
        # One dialog at a time: a crash while its dialog is still open adds to its details.
        if self._crash_box is not None and self._crash_box.isVisible():
            self._crash_box.setDetailedText(self._crash_box.detailedText() + "\n" + details)
            return
        self._crash_box = self.show_error(
            "Something went wrong",
            "An unexpected error stopped training. Your session is still open; training is paused. "
            "Saving now is safe. Please report the details below.",
            details,
        )

    def show_chain_rule(self) -> None:
        """Bring the inspector's chain-rule tab to the front."""
        self.inspector_dock.show()
        self.inspector_dock.raise_()
        self.inspector.tabs.setCurrentWidget(self.inspector.chain_rule)

    def show_histograms(self) -> None:
        """Open (or raise) the non-modal histograms window."""
        if self.histograms_window is None:
            self.histograms_window = HistogramsWindow(self.controller, self.themes, self)
        self.histograms_window.show()
        self.histograms_window.raise_()
        self.histograms_window.activateWindow()

    def show_help(self) -> None:
        QMessageBox.information(self, "How to read the canvas", HELP_TEXT)

    def _show_note(self, text: str) -> None:
        # The compiled engine's "preparing" note stays until the worker says it is ready.
        self.statusBar().showMessage(text, 0 if text == compiled.PREPARING_NOTE else 8000)

    def show_about(self) -> None:
        from ... import __version__

        QMessageBox.about(self, "About Backprop Sandbox", about_text(__version__, compiled.describe()))

    # ---------------------------------------------------------------------------- theme

    def set_theme(self, mode: str) -> None:
        self.themes.set_mode(mode)
        settings().setValue("theme", mode)

    def _on_view_state_log_scale(self, new: bool, old: bool | None = None) -> None:
        blocker = QSignalBlocker(self.log_scale_action)  # a model → widget update, not an edit
        self.log_scale_action.setChecked(bool(new))
        del blocker

    def _on_themes_theme_changed(self, theme) -> None:
        self.description.setStyleSheet(f"color: {theme.muted};")
        self.divergence_advice.restyle()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._sized_splitter:
            # The canvas gets two thirds; the output view and loss plot the last third.
            self._sized_splitter = True
            total = max(self.splitter.width(), 600)
            self.splitter.setSizes([total * 2 // 3, total - total * 2 // 3])

    # ---------------------------------------------------------------------------- close

    def interrupt(self) -> None:
        """Ctrl+C in the terminal: close without the unsaved-changes question (the terminal
        asked to stop; nobody may be at the window to answer), but only after any running save
        has finished.  A question or file dialog that is open is cancelled first."""
        self.skip_unsaved_prompt = True
        modal = QApplication.activeModalWidget()
        if modal is not None and modal is not self.saving_dialog and isinstance(modal, QDialog):
            modal.reject()
        QTimer.singleShot(0, self.close)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Close once no save is running: a save is never aborted (the worker thread would be
        destroyed while it writes).  While one runs the window stays open and says that it is
        saving; it closes when the last save has finished, or stays open if one fails."""
        if self._closing:
            event.accept()
            return
        if self._save_wait is not None:
            # An Open or New is waiting for the save the user chose; quit once it is done.
            self._close_when_saved = True
            event.ignore()
            return
        if not (self._close_confirmed or self.skip_unsaved_prompt):
            if not self.confirm_discard(wait=False):
                event.ignore()
                return
            self._close_confirmed = True
        if self.saves_running:
            self._close_when_saved = True
            self._show_saving(next(reversed(self._pending_saves.values())), closing=True)
            event.ignore()
            return
        self._closing = True
        if self.persist_settings:
            s = settings()
            s.setValue("window/geometry", self.saveGeometry())
            s.setValue("window/state", self.saveState(WINDOW_STATE_VERSION))
        self.controller.shutdown()
        self.autosave.shutdown()  # a normal close: the autosave goes
        event.accept()


def about_text(version: str, engine: str) -> str:
    """Help ▸ About: the version, what the app is, and which training path runs (the numpy
    fallback says so)."""
    from ...versions import version_lines

    lines = version_lines()
    lines[0] = f"Backprop Sandbox {version}"
    return ("See, step and edit every gradient of a small neural network.\n\n" + "\n".join(lines)
            + f"\n\nTraining engine: {engine}.")
