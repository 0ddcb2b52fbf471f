"""The training toolbar: play/pause, stepping, reset, speed, and the always-visible counters."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFont, QFontDatabase, QFontMetrics, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QToolBar, QWidget

from ..formatting import format_number, format_percent
from ..session.snapshot import Snapshot
from .controller import SessionController
from .icons import training_icon
from .theme import Theme, ThemeManager

#: Speed presets: label → steps per second (None = as fast as the machine allows).
#: Play starts at this many steps per second: a boundary forms over seconds, so a learner can
#: watch it; "Max speed" is one click away.
DEFAULT_SPEED = 300.0

LOSS_TITLE = "Full-set loss"
KEPT_LOSS_TITLE = "Loss at kept weights"
LOSS_TIP = ("Data loss over the whole training set / the whole test set (without the L1/L2 "
            "penalty), for the weights shown; the loss plot's legend shows the same figures. "
            "After a divergence these are the figures of the last finite weights, which were kept.")

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


def _fmt_accuracy(train: float | None, test: float | None) -> str:
    return f"{format_percent(train, sign=False)} / {format_percent(test)}"


def _fmt_rate(rate: float) -> str:
    return "1 step/s" if round(rate) == 1 else f"{rate:,.0f} steps/s"


class _Counter(QLabel):
    """A counter's value.  Its width only grows (to the widest text shown so far, starting
    from a typical one), so changing digits never resize the toolbar every frame (a relayout
    and repaint of the whole window), and yet no figure is ever cut."""

    def __init__(self, typical: str, parent: QWidget) -> None:
        super().__init__("–", parent)
        self._typical = typical
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def setFont(self, font: QFont) -> None:  # noqa: N802 - Qt API
        super().setFont(font)
        metrics = QFontMetrics(font)
        self.setFixedHeight(metrics.height() + 4)
        self.setMinimumWidth(metrics.horizontalAdvance(self._typical) + 6)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        if text == self.text():
            return
        needed = self.fontMetrics().horizontalAdvance(text) + 6
        if needed > self.minimumWidth():
            self.setMinimumWidth(needed)
        super().setText(text)


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
        self._title_actions: dict[str, QAction] = {}
        self._value_actions: dict[str, QAction] = {}

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

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        value_font = QFont(mono.family(), self.font().pointSize())
        value_font.setBold(True)
        self.counters: dict[str, QLabel] = {}
        self.counter_titles: dict[str, QLabel] = {}
        for key, title, typical, tip in (
            ("step", "Step", "99,999", "Mini-batch updates applied"),
            ("epoch", "Epoch", "9,999", "Complete passes over the training set"),
            ("loss", LOSS_TITLE, "0.6523 / 0.6611", LOSS_TIP),
            ("accuracy", "Accuracy", "100.0 / 100.0%", "Share classified correctly: training set / test set"),
            ("rate", "", "9,999 steps/s", "Training steps per second"),
        ):
            if title:
                name = QLabel(title, self)
                name.setContentsMargins(6, 0, 2, 0)
                name.setToolTip(tip)
                self.counter_titles[key] = name
                self._title_actions[key] = self.addWidget(name)
            value = _Counter(typical, self)
            value.setFont(value_font)
            value.setToolTip(tip)
            self._value_actions[key] = self.addWidget(value)
            self.counters[key] = value
        self._playing: bool | None = None
        controller.snapshotChanged.connect(self._on_controller_snapshot_changed)
        themes.themeChanged.connect(self._on_themes_theme_changed)
        self._on_themes_theme_changed(themes.theme)

    # -------------------------------------------------------------------------- updates

    def _set_counter(self, key: str, value: str) -> None:
        self.counters[key].setText(value)

    def _on_controller_snapshot_changed(self, snap: Snapshot) -> None:
        if snap.playing != self._playing:
            self._playing = snap.playing
            self._icons[self.play_action] = "pause" if snap.playing else "play"
            self.play_action.setIcon(training_icon(self._icons[self.play_action], self._themes.theme.text))
            self.play_action.setText("Pause" if snap.playing else "Play")
        ev = snap.evaluation
        self._set_counter("step", f"{snap.step:,}")
        self._set_counter("epoch", f"{snap.epoch:,}")
        self._set_counter("loss", f"{format_number(ev.train_loss)} / {format_number(ev.test_loss)}")
        # After a divergence the figures are those of the kept (last finite) weights: say so.
        title = KEPT_LOSS_TITLE if snap.divergence is not None else LOSS_TITLE
        if self.counter_titles["loss"].text() != title:
            self.counter_titles["loss"].setText(title)
        # Regression has no accuracy: the counter is hidden, not shown as "–".
        classification = snap.is_classification
        if self._value_actions["accuracy"].isVisible() != classification:
            self._title_actions["accuracy"].setVisible(classification)
            self._value_actions["accuracy"].setVisible(classification)
        if classification:
            self._set_counter("accuracy", _fmt_accuracy(ev.train_accuracy, ev.test_accuracy))
        self._set_counter("rate", _fmt_rate(snap.steps_per_second) if snap.playing else "paused")

    def _on_speed_changed(self, index: int) -> None:
        self._controller.set_speed(self.speed_combo.itemData(index))

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        for label in self.counter_titles.values():
            label.setStyleSheet(f"color: {theme.muted};")
        for act, icon in self._icons.items():
            act.setIcon(training_icon(icon, theme.text))
        self._fix_play_width()

    def _fix_play_width(self) -> None:
        """"Pause" is wider than "Play": the button gets the width of the wider, icon
        included, so the buttons after it never shift when it toggles."""
        button = self.widgetForAction(self.play_action)
        text, icon = self.play_action.text(), self.play_action.icon()
        widths = []
        for label, name in (("Play", "play"), ("Pause", "pause")):
            self.play_action.setText(label)
            self.play_action.setIcon(training_icon(name, self._themes.theme.text))
            button.setMinimumWidth(0)
            widths.append(button.sizeHint().width())
        self.play_action.setText(text)
        self.play_action.setIcon(icon)
        button.setFixedWidth(max(widths))
