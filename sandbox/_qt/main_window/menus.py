"""The main window's menu bar: File, Training, View and Help."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from ...resources import example_sessions
from ...viewstate import ViewMode
from ..app_settings import set_animate_phase_steps
from ..classroom import build_classroom_menu
from .example_keys import build_example_menu
from .exports import build_export_menu
from .messages import example_title


def build_menus(self) -> None:
    """Fill ``self``'s (a MainWindow's) menu bar; keeps the actions tests and views need."""
    bar = self.menuBar()
    file_menu = bar.addMenu("&File")
    self.new_action = _action(file_menu, "&New", self.new_session, QKeySequence.StandardKey.New)
    self.open_action = _action(file_menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
    self.examples_menu = file_menu.addMenu("Open &Example")
    for path in example_sessions():
        act = self.examples_menu.addAction(example_title(path.stem))
        act.setToolTip(str(path))
        act.triggered.connect(lambda _=False, p=str(path): self.open_path(p))
    self.open_link_action = _action(file_menu, "Open &Playground Link…", self.open_playground_link_dialog)
    self.open_link_action.setToolTip("Open a TensorFlow Playground address as a session")
    self.copy_link_action = _action(file_menu, "&Copy Playground Link", self.copy_playground_link)
    self.copy_link_action.setToolTip("Copy this session's setup as a TensorFlow Playground address")
    self.recent_menu = file_menu.addMenu("Open &Recent")
    self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
    file_menu.addSeparator()
    self.save_action = _action(file_menu, "&Save", self.save, QKeySequence.StandardKey.Save)
    self.save_as_action = _action(file_menu, "Save &As…", self.save_as, QKeySequence.StandardKey.SaveAs)
    file_menu.addSeparator()
    self.import_action = _action(file_menu, "&Import CSV…", self.import_csv_dialog)
    self.export_menu = build_export_menu(self, file_menu)
    file_menu.addSeparator()
    self.quit_action = _action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

    edit = bar.addMenu("&Edit")
    self.undo_action = _action(edit, "&Undo", self.controller.undo, QKeySequence.StandardKey.Undo)
    self.redo_action = _action(edit, "&Redo", self.controller.redo, QKeySequence("Ctrl+Shift+Z"))
    for act in (self.undo_action, self.redo_action):
        act.setEnabled(False)
    self.undo_action.setToolTip("Undo the last edit: a weight, a bias, a setting, the data or the network "
                                "(training steps are not undone: use the history scrubber)")

    training = bar.addMenu("&Training")
    tb = self.training_bar
    for act in (tb.play_action, tb.step_action, tb.epoch_action, tb.phase_action):
        training.addAction(act)
    training.addSeparator()
    training.addAction(tb.reset_action)
    training.addAction(tb.new_seed_action)

    training.addSeparator()
    self.continue_action = _action(training, "&Continue from Here", self.controller.continue_from_here)
    self.continue_action.setToolTip("Make the step shown by the history scrubber the live end of the run; "
                                    "its later steps are kept as an earlier run")
    self.back_to_live_action = _action(training, "Back to &Live", self.controller.return_to_live)
    for act in (self.continue_action, self.back_to_live_action):
        act.setEnabled(False)

    self.runs_menu = bar.addMenu("&Runs")
    self.runs_menu.aboutToShow.connect(lambda: fill_runs_menu(self))
    fill_runs_menu(self)

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
    self.view_mode_actions[ViewMode(self.canvas.view_mode).value].setChecked(True)
    self.canvas.viewModeChanged.connect(lambda m: self.view_mode_actions[ViewMode(m).value].setChecked(True))
    self.animate_phases_action = view.addAction("&Animate phase steps")
    self.animate_phases_action.setCheckable(True)
    self.animate_phases_action.setChecked(self.canvas.phase_overlay.enabled)
    self.animate_phases_action.setToolTip("Animate what a phase step (Alt+→) did: forward, backward, update")
    self.animate_phases_action.toggled.connect(lambda on: (self.canvas.phase_overlay.set_enabled(on),
                                                           set_animate_phase_steps(on)))
    view_state = self.controller.view_state
    self.log_scale_action = view.addAction("&Log-scale widths and glow")
    self.log_scale_action.setCheckable(True)
    self.log_scale_action.setChecked(view_state.log_scale)
    self.log_scale_action.setToolTip("Connection widths and the gradient glow on a log scale over 6 decades, "
                                     "so values that differ by orders of magnitude all stay visible")
    self.log_scale_action.toggled.connect(lambda on: setattr(view_state, "log_scale", on))
    view_state.events.log_scale.connect(self._on_view_state_log_scale)
    self.histograms_action = _action(view, "&Histograms…", self.show_histograms)
    self.histograms_action.setToolTip("Per-layer histograms of the weights, gradients and activations")
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
    build_example_menu(self, view)
    view.addSeparator()
    self.chain_rule_action = _action(view, "Chain rule of the selection", self.show_chain_rule)
    self.back_action = _action(view, "&Back along the chain rule", self.inspector.chain_rule.back,
                               QKeySequence("Alt+Left"))
    view.addSeparator()
    view.addAction(self.controls_dock.toggleViewAction())
    view.addAction(self.inspector_dock.toggleViewAction())
    view.addAction(self.blame_dock.toggleViewAction())
    view.addAction(self.lessons_dock.toggleViewAction())
    build_classroom_menu(self, view)
    self.reset_layout_action = _action(view, "&Reset Layout", self.reset_layout)
    self.reset_layout_action.setToolTip("Put every panel back where it started, at the default window size")

    help_menu = bar.addMenu("&Help")
    _action(help_menu, "How to read the &canvas", self.show_help)
    self.shortcuts_action = _action(help_menu, "&Keyboard Shortcuts", self.show_shortcuts,
                                    QKeySequence.StandardKey.HelpContents)
    _action(help_menu, "&About Backprop Sandbox", self.show_about)


def fill_runs_menu(self) -> None:
    """The Runs menu from the newest snapshot: show or hide each earlier run's curves, switch to
    one that still has its weights, clear them all."""
    menu = self.runs_menu
    menu.clear()
    snap = self.controller.snapshot
    catalog = None if snap is None or snap.workspace is None else snap.workspace.runs
    earlier = () if catalog is None else catalog.earlier
    if catalog is not None:
        live = menu.addAction(f"{catalog.live.label} (live)")
        live.setEnabled(False)
    if not earlier:
        note = menu.addAction("No earlier runs yet: Reset, a new seed, a new network or "
                              "Continue from Here keeps the old run's curves here")
        note.setEnabled(False)
    self.run_actions: dict[int, QAction] = {}
    for run in earlier:
        act = menu.addAction(f"Show {run.legend}")
        act.setCheckable(True)
        act.setChecked(run.visible)
        act.setToolTip(run.info.ended)
        act.toggled.connect(lambda on, r=run.info.run_id: self.controller.set_run_visible(r, on))
        self.run_actions[run.info.run_id] = act
    if earlier:
        switch = menu.addMenu("&Switch To")
        for run in earlier:
            act = switch.addAction(run.legend)
            act.setEnabled(run.has_state)
            if not run.has_state:
                act.setText(f"{run.legend} (curves only: loaded from a file)")
            act.triggered.connect(lambda _=False, r=run.info.run_id: self.controller.switch_to_run(r))
        menu.addSeparator()
        _action(menu, "&Clear Earlier Runs", self.controller.clear_earlier_runs)


def _action(menu, text: str, slot, shortcut=None) -> QAction:
    act = menu.addAction(text)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    act.triggered.connect(lambda _=False: slot())
    return act
