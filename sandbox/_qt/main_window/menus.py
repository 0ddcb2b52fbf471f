"""The main window's menu bar: File, Training, View and Help."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from ...resources import example_sessions
from ...viewstate import ViewMode
from ..app_settings import set_animate_phase_steps
from .example_keys import build_example_menu
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
    self.recent_menu = file_menu.addMenu("Open &Recent")
    self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
    file_menu.addSeparator()
    self.save_action = _action(file_menu, "&Save", self.save, QKeySequence.StandardKey.Save)
    self.save_as_action = _action(file_menu, "Save &As…", self.save_as, QKeySequence.StandardKey.SaveAs)
    file_menu.addSeparator()
    self.import_action = _action(file_menu, "&Import CSV…", self.import_csv_dialog)
    export = file_menu.addMenu("&Export Image")
    _action(export, "&Network canvas…", lambda: self.export_image_dialog("canvas"))
    _action(export, "&Output view…", lambda: self.export_image_dialog("output"))
    _action(export, "&Loss plot…", lambda: self.export_image_dialog("loss"))
    _action(export, "&Gradient health plot…", lambda: self.export_image_dialog("health"))
    _action(export, "&Whole window…", lambda: self.export_image_dialog("window"))
    file_menu.addSeparator()
    self.quit_action = _action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

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

    help_menu = bar.addMenu("&Help")
    _action(help_menu, "How to read the &canvas", self.show_help)
    _action(help_menu, "&About Backprop Sandbox", self.show_about)


def _action(menu, text: str, slot, shortcut=None) -> QAction:
    act = menu.addAction(text)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    act.triggered.connect(lambda _=False: slot())
    return act
