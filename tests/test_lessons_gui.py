"""The lessons panel (choose a lesson, start it: its session opens and the view it points at
comes to the front) and classroom mode (the chosen panels hide, the font grows and comes back)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QGroupBox

from qt_helpers import small_run, wait_for_snapshot
from sandbox._qt.app_settings import classroom_enabled, classroom_hidden, set_classroom, settings
from sandbox._qt.classroom import DEFAULT_HIDDEN, FONT_SCALE
from sandbox.resources import lessons

pytestmark = pytest.mark.gui


def start(qtbot, window, name: str):
    """Choose the lesson ``name`` in the panel, click Start and wait for its session."""
    window.lessons_dock.show()
    window.lessons_dock.raise_()
    panel = window.lessons_panel
    panel.choose(name)
    assert panel.title.text() == panel.current.title
    with qtbot.waitSignal(window.controller.sessionLoaded, timeout=10000):
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    lesson = panel.current
    run = lesson.load_run()
    snap = wait_for_snapshot(qtbot, window.controller,
                             lambda s: s.description == run.description and s.step == 0, timeout=10000)
    return lesson, snap


def test_the_panel_lists_every_lesson_with_its_text(qtbot, window):
    panel = window.lessons_panel
    shipped = lessons()
    assert panel.list.count() == len(shipped) >= 10
    assert panel.list.item(0).text() == f"1. {shipped[0].title}"
    panel.choose(shipped[4].name)
    lesson = shipped[4]
    assert panel.explanation.text() == lesson.explanation
    assert [label.text() for label in panel.step_labels] == [f"{k}. {s}" for k, s in enumerate(lesson.steps, 1)]
    assert lesson.question in panel.question.text()
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert window.lessons_dock.toggleViewAction() in view.actions()  # View ▸ Lessons toggles it
    assert window.classroom_action in view.actions() and window.classroom_action.isCheckable()


def test_starting_a_lesson_opens_it_and_shows_the_gradient_health_plot(qtbot, window):
    window.plot_tabs.setCurrentWidget(window.loss_plot)
    lesson, snap = start(qtbot, window, "03-vanishing-gradients-sigmoid")
    assert snap.network_spec.hidden_activations == ("sigmoid",) * 8
    assert window.plot_tabs.currentWidget() is window.gradient_health
    assert lesson.session_path.name in window.windowTitle()
    assert window.path is None  # a built-in session: Save asks where to put a copy
    qtbot.waitUntil(lambda: "Lesson started" in window.statusBar().currentMessage())


def test_the_blame_lesson_shows_the_example_focus_and_the_zero_init_one_the_gradients(qtbot, window):
    window.inspector_dock.hide()
    start(qtbot, window, "13-one-examples-blame")
    assert window.inspector_dock.isVisible()
    assert window.inspector.tabs.currentWidget() is window.inspector.example_view
    window.canvas.set_view_mode("weights")
    start(qtbot, window, "12-zero-init-symmetry")
    assert window.canvas.view_mode == "gradients"


def test_starting_a_lesson_asks_about_unsaved_changes_and_a_cancel_keeps_the_session(qtbot, window, monkeypatch):
    asked = []
    monkeypatch.setattr(window, "confirm_discard", lambda wait=True: asked.append(wait) or False)
    before = window.controller.snapshot
    window.lessons_panel.choose("01-xor-needs-a-hidden-layer")
    qtbot.mouseClick(window.lessons_panel.start_button, Qt.MouseButton.LeftButton)
    assert asked  # the window's ordinary open path asked
    assert window._pending_open is None and window.lesson_starter._waiting is None
    assert window.controller.snapshot.run_id == before.run_id


# ----------------------------------------------------------------------------- classroom mode


@pytest.fixture
def classroom_settings():
    """Classroom mode's settings start from nothing and are cleared again afterwards."""
    s = settings()
    s.remove("classroom")
    yield
    s.remove("classroom")


def _speed_visible(window) -> bool:
    bar = window.training_bar
    return next(a for a in bar.actions() if bar.widgetForAction(a) is bar.speed_combo).isVisible()


def _section(window, title: str) -> QGroupBox:
    return next(g for g in window.controls.findChildren(QGroupBox) if g.title() == title)


def test_classroom_mode_hides_the_chosen_panels_and_enlarges_the_font(qtbot, window, classroom_settings):
    app = QApplication.instance()
    font_before = QFont(app.font())
    axis = window.loss_plot.plot_widget.getPlotItem().getAxis("bottom")
    ticks_before = QFont(axis.style["tickFont"])
    window.controls_dock.raise_()
    assert window.inspector_dock.isVisible() and _speed_visible(window)
    assert set(DEFAULT_HIDDEN) == {"inspector", "blame", "speed"}
    window.classroom_action.trigger()
    try:
        assert window.classroom.enabled and window.classroom_action.isChecked()
        assert app.font().pointSizeF() == pytest.approx(font_before.pointSizeF() * FONT_SCALE)
        qtbot.waitUntil(lambda: window.canvas.font().pointSizeF() > font_before.pointSizeF())  # widgets follow
        assert axis.style["tickFont"].pointSizeF() == pytest.approx(ticks_before.pointSizeF() * FONT_SCALE)
        assert not window.inspector_dock.isVisible() and not window.blame_dock.toggleViewAction().isChecked()
        assert not _speed_visible(window)
        assert _section(window, "Data").isVisible()
        # Choose more to hide while it is on: it applies at once.
        window.classroom_hide_actions["data"].trigger()
        assert not _section(window, "Data").isVisible() and _section(window, "Training").isVisible()
        assert classroom_enabled() and "data" in classroom_hidden(())
    finally:
        window.classroom_action.trigger()
    assert not window.classroom.enabled
    assert app.font() == font_before and app.font().pointSizeF() == font_before.pointSizeF()  # exactly back
    assert axis.style["tickFont"] == ticks_before
    assert window.inspector_dock.isVisible() and window.blame_dock.toggleViewAction().isChecked()
    assert _speed_visible(window) and _section(window, "Data").isVisible()
    assert not classroom_enabled() and "data" in classroom_hidden(())  # the choice is remembered


def test_a_window_starts_in_classroom_mode_if_it_was_left_on(qtbot, classroom_settings):
    from sandbox._qt.app import make_application
    from sandbox._qt.main_window import MainWindow
    from sandbox._qt.theme import ThemeManager

    app = make_application()
    font_before = QFont(app.font())
    set_classroom(True, ("inspector", "lessons"), ("inspectorDock",))
    s = settings()
    saved_layout = s.value("window/state"), s.value("window/geometry")
    win = MainWindow(small_run(), None, ThemeManager(app, "light"), persist_settings=True)
    qtbot.addWidget(win, before_close_func=lambda w: setattr(w, "skip_unsaved_prompt", True))
    try:
        win.show()
        qtbot.waitExposed(win)
        qtbot.waitUntil(lambda: win.classroom.enabled)
        assert win.classroom_action.isChecked() and not win.inspector_dock.isVisible()
        assert not win.lessons_dock.toggleViewAction().isChecked()
        assert win.classroom_hide_actions["lessons"].isChecked() and not win.classroom_hide_actions["blame"].isChecked()
        win.classroom.set_enabled(False)
        assert win.inspector_dock.isVisible() and win.lessons_dock.toggleViewAction().isChecked()
        assert app.font() == font_before
    finally:
        win.classroom.set_enabled(False)
        win.skip_unsaved_prompt = True
        win.persist_settings = False  # leave the stored layout alone
        win.close()
        for key, value in zip(("window/state", "window/geometry"), saved_layout):
            s.remove(key) if value is None else s.setValue(key, value)


def test_a_panel_without_lessons_says_so_and_cannot_start(qtbot):
    from sandbox._qt.lessons_panel import LessonsPanel

    panel = LessonsPanel([])
    qtbot.addWidget(panel)
    assert panel.title.text() == "No lessons found" and not panel.start_button.isEnabled()
    with qtbot.assertNotEmitted(panel.startRequested):
        panel.start()
