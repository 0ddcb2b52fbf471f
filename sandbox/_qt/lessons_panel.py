"""The lessons panel: the shipped lessons, each with its explanation, numbered "try this" steps
and a question, and a button that opens its session and shows the view it points at.

A dock ("Lessons"), tabbed with the controls and the blame ranking on the left (the controls
stay in front; View ▸ Lessons toggles it).  "Start this lesson" opens the lesson's session
through the window's ordinary open path, which asks about unsaved changes first; once the
session has loaded, the view the lesson points at is brought to the front.
"""

from __future__ import annotations

import html
from typing import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QDockWidget, QLabel, QListWidget, QListWidgetItem, QPushButton, QScrollArea,
                               QSplitter, QVBoxLayout, QWidget)

from ..resources import lessons as shipped_lessons
from ..session.lessons import Lesson, LessonError

#: What each lesson view name brings to the front (see :func:`show_lesson_view`).
VIEW_TITLES = {
    "loss": "the loss plot",
    "gradient_health": "the gradient-health plot",
    "output": "the output view",
    "example_focus": "the inspector's Examples tab",
    "canvas_weights": "the canvas, showing weights",
    "canvas_gradients": "the canvas, showing gradients",
}


class LessonsPanel(QWidget):
    """A list of lessons above the chosen lesson's text and a Start button.

    Parameters
    ----------
    lessons
        The lessons to list (the shipped ones by default).

    Signals
    -------
    startRequested(object)
        The user asked to start the chosen :class:`~sandbox.session.lessons.Lesson`.
    """

    startRequested = Signal(object)

    def __init__(self, lessons: Sequence[Lesson] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error: str | None = None
        if lessons is None:
            try:
                lessons = shipped_lessons()
            except LessonError as exc:  # a damaged installation: say so in the panel
                lessons, self.error = [], str(exc)
        self.lessons: list[Lesson] = list(lessons)

        self.list = QListWidget()
        for number, lesson in enumerate(self.lessons, start=1):
            item = QListWidgetItem(f"{number}. {lesson.title}")
            item.setToolTip(lesson.explanation)
            self.list.addItem(item)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.currentRowChanged.connect(self._show)
        self.list.itemActivated.connect(lambda _item: self.start())

        self.title = self._label()
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.explanation = self._label()
        self.steps_title = self._label()
        self.steps_title.setText("<b>Try this</b>")
        #: One label per numbered step ("1. …"), made for the chosen lesson.
        self.step_labels: list[QLabel] = []
        self._steps = QVBoxLayout()
        self._steps.setContentsMargins(0, 0, 0, 0)
        self._steps.setSpacing(2)
        self.question = self._label()
        self.question.setTextFormat(Qt.TextFormat.RichText)
        self.view_note = self._label()
        self.start_button = QPushButton("Start this lesson")
        self.start_button.setToolTip("Open this lesson's session (asks to save unsaved changes first)")
        self.start_button.clicked.connect(self.start)

        text = QWidget()
        column = QVBoxLayout(text)
        column.setContentsMargins(6, 6, 6, 6)
        for widget in (self.title, self.explanation, self.steps_title):
            column.addWidget(widget)
        column.addLayout(self._steps)
        for widget in (self.question, self.view_note):
            column.addWidget(widget)
        column.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(text)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(scroll)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        if self.lessons:
            self.list.setCurrentRow(0)
        else:
            self._show(-1)

    @staticmethod
    def _label() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    @property
    def current(self) -> Lesson | None:
        """The chosen lesson, or None."""
        row = self.list.currentRow()
        return self.lessons[row] if 0 <= row < len(self.lessons) else None

    def choose(self, name: str) -> None:
        """Choose the lesson called ``name`` (its file stem)."""
        names = [lesson.name for lesson in self.lessons]
        self.list.setCurrentRow(names.index(name))

    def start(self) -> None:
        """Ask to start the chosen lesson."""
        if self.current is not None:
            self.startRequested.emit(self.current)

    def _show(self, row: int) -> None:
        lesson = self.current
        self.start_button.setEnabled(lesson is not None)
        for label in self.step_labels:
            self._steps.removeWidget(label)
            label.hide()  # until it is deleted, it would still be drawn over its successor
            label.deleteLater()
        self.step_labels = []
        self.steps_title.setVisible(lesson is not None)
        if lesson is None:
            self.title.setText("No lessons found")
            self.explanation.setText(self.error or "")
            for label in (self.question, self.view_note):
                label.clear()
            return
        self.title.setText(lesson.title)
        self.explanation.setText(lesson.explanation)
        for number, step in enumerate(lesson.steps, start=1):
            label = self._label()
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setText(f"{number}. {step}")
            label.setContentsMargins(8, 0, 0, 0)
            self._steps.addWidget(label)
            self.step_labels.append(label)
        self.question.setText(f"<b>Think about it:</b> <i>{html.escape(lesson.question)}</i>")
        self.view_note.setText(f"Starting shows {VIEW_TITLES[lesson.view]}.")


def show_lesson_view(window, view: str) -> None:
    """Bring the view a lesson points at to the front of ``window`` (a MainWindow)."""
    if view == "loss":
        window.plot_tabs.setCurrentWidget(window.loss_plot)
    elif view == "gradient_health":
        window.plot_tabs.setCurrentWidget(window.gradient_health)
    elif view == "example_focus":
        window.inspector_dock.show()
        window.inspector_dock.raise_()
        window.inspector.tabs.setCurrentWidget(window.inspector.example_view)
    elif view in ("canvas_weights", "canvas_gradients"):
        window.canvas.set_view_mode(view.removeprefix("canvas_"))
    # "output": the output view is always in sight.


class LessonStarter:
    """Opens a lesson in ``window`` and, once its session has loaded, shows its view."""

    def __init__(self, window) -> None:
        self._window = window
        self._waiting: Lesson | None = None
        window.controller.sessionLoaded.connect(self._on_controller_session_loaded)

    def start(self, lesson: Lesson) -> None:
        path = str(lesson.session_path)
        self._waiting = lesson
        self._window.open_path(path)  # asks about unsaved changes; may be cancelled
        if self._window._pending_open != path:
            self._waiting = None  # the user cancelled: nothing will load

    def _on_controller_session_loaded(self, path: str) -> None:
        lesson, self._waiting = self._waiting, None
        if lesson is not None and str(lesson.session_path) == path:
            show_lesson_view(self._window, lesson.view)
            # After the window's own "Opened …" note (its slot runs after this one).
            QTimer.singleShot(0, lambda: self._window.statusBar().showMessage(
                f"Lesson started: {lesson.title}. Press Space to train.", 8000))


def add_lessons_dock(window) -> QDockWidget:
    """Make ``window``'s lessons panel and its dock, tabbed behind the controls; returns the dock
    (the window keeps the panel as ``lessons_panel``)."""
    window.lessons_panel = LessonsPanel()
    window.lesson_starter = LessonStarter(window)
    window.lessons_panel.startRequested.connect(window.lesson_starter.start)
    dock = window._dock("Lessons", "lessonsDock", window.lessons_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
    window.tabifyDockWidget(window.blame_dock, dock)
    return dock
