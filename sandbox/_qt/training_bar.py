"""The training toolbar: play/pause, stepping, reset, speed, and the always-visible counters."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFont, QFontDatabase, QFontMetrics, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QToolBar, QWidget

from ..session.snapshot import Snapshot
from .controller import SessionController
from .icons import training_icon
from .theme import Theme, ThemeManager

#: Speed presets: label → steps per second (None = as fast as the machine allows).
#: Play starts at this many steps per second: a boundary forms over seconds, so a learner can
#: watch it; "Max speed" is one click away.
DEFAULT_SPEED = 300.0

SPEEDS: list[tuple[str, float | None]] = [
    ("Max speed", None),
    ("1000 steps/s", 1000.0),
    ("300 steps/s", 300.0),
    ("100 steps/s", 100.0),
    ("30 steps/s", 30.0),
    ("10 steps/s", 10.0),
    ("3 steps/s", 3.0),
    ("1 step/s", 1.0),
]


def _fmt_loss(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.4g}"


def _fmt_pct(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.1f}"


def _fmt_accuracy(train: float | None, test: float | None) -> str:
    if test is None or not math.isfinite(test):
        return f"{_fmt_pct(train)}% / –"
    return f"{_fmt_pct(train)} / {_fmt_pct(test)}%"


def _fmt_rate(rate: float) -> str:
    return "1 step/s" if round(rate) == 1 else f"{rate:,.0f} steps/s"


class TrainingBar(QToolBar):
    """Training actions and counters.

    The actions (``play_action``, ``step_action`` …) carry the window-wide shortcuts
    (Space, →, Shift+→, Alt+→, R) and are reused by the main window's Training menu.
    """

    def __init__(self, controller: SessionController, themes: ThemeManager, parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        self.setObjectName("trainingBar")
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._controller = controller
        self._themes = themes
        self._icons: dict[QAction, str] = {}

        def action(text: str, icon: str, shortcut, tip: str, slot) -> QAction:
            act = QAction(text, self)
            self._icons[act] = icon
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                tip = f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
            act.setToolTip(tip)
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.play_action = action("Play", "play", Qt.Key.Key_Space,
                                  "Train continuously / pause", controller.toggle_play)
        self.step_action = action("Step", "step", Qt.Key.Key_Right,
                                  "Train on one mini-batch", lambda: controller.step())
        self.epoch_action = action("Epoch", "epoch", QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_Right),
                                   "Train until the epoch completes", controller.step_epoch)
        self.phase_action = action("Phase", "phase", QKeySequence(Qt.Modifier.ALT | Qt.Key.Key_Right),
                                   "Run one phase of the next step: forward → backward → update",
                                   controller.step_phase)
        self.addSeparator()
        self.reset_action = action("Reset", "reset", Qt.Key.Key_R,
                                   "Back to step 0 with the same initial weights (same seed)", controller.reset)
        self.new_seed_action = action("New seed", "seed", None,
                                      "Draw new initial weights and a new shuffle order", lambda: controller.new_seed())
        # "Pause" is wider than "Play": size the button for both so the toolbar never shifts.
        play_button = self.widgetForAction(self.play_action)
        self.play_action.setText("Pause")
        widest = play_button.sizeHint().width()
        self.play_action.setText("Play")
        play_button.setMinimumWidth(max(widest, play_button.sizeHint().width()))
        self.addSeparator()
        self.speed_combo = QComboBox(self)
        for label, value in SPEEDS:
            self.speed_combo.addItem(label, value)
        self.speed_combo.setToolTip("How fast Play trains. Slow speeds let you watch every step.")
        self.speed_combo.currentIndexChanged.connect(self._on_speed_changed)
        self.speed_combo.setCurrentIndex(self.speed_combo.findData(DEFAULT_SPEED))
        self.addWidget(self.speed_combo)

        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(spacer)

        # Each counter is a muted title and a value of fixed width: changing digits then never
        # resize the toolbar (which would relayout and repaint the whole window every frame).
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        value_font = QFont(mono.family(), self.font().pointSize())
        value_font.setBold(True)
        metrics = QFontMetrics(value_font)
        self.counters: dict[str, QLabel] = {}
        self._titles: list[QLabel] = []
        for key, title, widest, tip in (
            ("step", "Step", "9,999,999", "Mini-batch updates applied"),
            ("epoch", "Epoch", "999,999", "Complete passes over the training set"),
            ("loss", "Loss", "0.0000 / 0.0000", "Loss over the whole training set / the test set "
                                                 "(without the L1/L2 penalty)"),
            ("accuracy", "Accuracy", "100.0 / 100.0%", "Share classified correctly: training / test set"),
            ("rate", "", "99,999 steps/s", "Training steps per second"),
        ):
            if title:
                name = QLabel(title, self)
                name.setContentsMargins(6, 0, 2, 0)
                name.setToolTip(tip)
                self._titles.append(name)
                self.addWidget(name)
            value = QLabel("–", self)
            value.setFont(value_font)
            value.setToolTip(tip)
            value.setFixedSize(metrics.horizontalAdvance(widest) + 6, metrics.height() + 4)
            self.addWidget(value)
            self.counters[key] = value
        self._playing: bool | None = None
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._on_themes_theme_changed(themes.theme)

    # -------------------------------------------------------------------------- updates

    def _set_counter(self, key: str, value: str) -> None:
        label = self.counters[key]
        if label.text() != value:
            label.setText(value)

    def counter_text(self, key: str) -> str:
        """The value shown for ``step``, ``epoch``, ``loss``, ``accuracy`` or ``rate``."""
        return self.counters[key].text()

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        if snap.playing != self._playing:
            self._playing = snap.playing
            self._icons[self.play_action] = "pause" if snap.playing else "play"
            self.play_action.setIcon(training_icon(self._icons[self.play_action], self._themes.theme.text))
            self.play_action.setText("Pause" if snap.playing else "Play")
        ev = snap.evaluation
        self._set_counter("step", f"{snap.step:,}")
        self._set_counter("epoch", f"{snap.epoch:,}")
        self._set_counter("loss", f"{_fmt_loss(ev.train_loss)} / {_fmt_loss(ev.test_loss)}")
        if snap.is_classification:
            self._set_counter("accuracy", _fmt_accuracy(ev.train_accuracy, ev.test_accuracy))
        else:
            self._set_counter("accuracy", "–")
        self._set_counter("rate", _fmt_rate(snap.steps_per_second) if snap.playing else "paused")

    def _on_speed_changed(self, index: int) -> None:
        self._controller.set_speed(self.speed_combo.itemData(index))

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        for label in self._titles:
            label.setStyleSheet(f"color: {theme.muted};")
        for act, icon in self._icons.items():
            act.setIcon(training_icon(icon, theme.text))
