"""Opening, saving, importing and exporting: the File menu's actions of the main window.

A mixin of :class:`~sandbox._qt.main_window.window.MainWindow`: it uses the window's
``controller``, ``controls``, ``statusBar()`` and ``show_error``.

Saves run in the worker.  Each one has a request id (``controller.save`` returns it, and its
``saveFinished`` reply carries it); the window keeps the ids of the saves still running, so
waiting for a save waits for *that* save's reply, and closing waits until none is running
(see ``MainWindow.closeEvent``).  While the window waits it says so, in the status bar and in
a small "Saving …" dialog.  A save that fails cancels the quit or the open waiting for it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox, QProgressDialog

from ...resources import is_builtin
from ...session import commands as cmd
from ...session.loading import is_csv
from ...session.playground import is_playground_link, link_for
from ..app_settings import documents_dir, settings
from . import exports

def file_and_name(path: str | None) -> tuple[Path | None, str]:
    """The file Save writes to for a session opened from ``path``, and the window title's name.

    A built-in session, a CSV file (its data starts a new session, as on the command line) and a
    Playground link are untitled: Save asks where to put them."""
    if not path:
        return None, "Untitled"
    if is_playground_link(path):
        return None, "Playground link"
    untitled = is_builtin(path) or is_csv(path)
    return (None if untitled else Path(path)), Path(path).name


SESSION_FILTER = "Backprop Sandbox sessions (*.json);;All files (*)"
#: File ▸ Open takes a CSV as the command line does (it starts a fresh session on its data).
OPEN_FILTER = ("Sessions and CSV data (*.json *.csv *.tsv *.txt);;Backprop Sandbox sessions (*.json);;"
               "CSV data (*.csv *.tsv *.txt);;All files (*)")
CSV_FILTER = "CSV files (*.csv *.tsv *.txt);;All files (*)"
MAX_RECENT = 10
#: A wait shorter than this shows no "Saving …" dialog (the status bar says it at once).
SAVING_DIALOG_DELAY_MS = 200


class SessionFiles:
    """New, open, save, save as, recent files, CSV import and image export."""

    #: While a caller waits for one save: (its request id, the event loop that waits).
    _save_wait: tuple[int, QEventLoop] | None = None
    _save_result: bool | None = None
    #: The "Saving …" dialog (made on first use).
    saving_dialog: QProgressDialog | None = None

    @property
    def path(self) -> Path | None:
        return self._path

    def confirm_discard(self, wait: bool = True) -> bool:
        """Ask to save unsaved changes; False if the user cancelled (or, with ``wait``, the
        save failed).  Without ``wait`` a chosen save is only started: the caller waits for
        ``saves_running`` to end (closing does)."""
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
            return self.save(wait=wait)
        return True

    @property
    def saves_running(self) -> bool:
        """True while a save sent to the worker has not replied."""
        return bool(self._pending_saves)

    def new_session(self) -> None:
        if not self.confirm_discard():
            return
        from ...resources import default_run

        self._expect_new_run = True
        self.controller.new_session(default_run())
        self._path, self._source_name = None, "Untitled"
        self._update_title(False)

    def show_recovered(self, name: str) -> None:
        """The session is a recovered autosave: marked unsaved (Save writes to its original
        file, or asks where), and called ``name`` if it has no file."""
        if self._path is None:
            self._source_name = name
        self.controller.send(cmd.MarkModified())
        self._update_title(True)
        self.statusBar().showMessage(f"Recovered {name}. Save it to keep it.", 10000)

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        start = str(self._path.parent) if self._path else str(settings().value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open session", start, OPEN_FILTER)
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
        self._path, self._source_name = file_and_name(path)
        if is_playground_link(path):
            message = "Opened a TensorFlow Playground link: its description says what could not be matched."
        else:
            message = f"Opened {path}"
            if not is_builtin(path):
                self._add_recent(path)
                settings().setValue("last_dir", str(Path(path).parent))
        self._update_title(False)
        self.statusBar().showMessage(message, 8000)

    def open_playground_link_dialog(self) -> None:
        """File ▸ Open Playground Link…: paste a playground.tensorflow.org address."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Open Playground Link")
        dialog.setLabelText("Paste a TensorFlow Playground address (https://playground.tensorflow.org/#…):")
        dialog.setTextValue(QApplication.clipboard().text() if is_playground_link(QApplication.clipboard().text()) else "")
        dialog.resize(560, dialog.sizeHint().height())
        dialog.textValueSelected.connect(self._open_link_text)
        dialog.open()
        self.link_dialog = dialog

    def _open_link_text(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if not is_playground_link(text):
            self.show_error("Could not open the link",
                            "That is not a Playground link: it starts with https:// and has its settings after '#'.")
            return
        self.open_path(text)

    def copy_playground_link(self) -> None:
        """File ▸ Copy Playground Link: the setup as a link (never the weights), and what it left out."""
        snap = self.controller.snapshot
        if snap is None:
            return
        url, left_out = link_for(snap)
        QApplication.clipboard().setText(url)
        self.statusBar().showMessage("Copied a Playground link. Left out: " + "; ".join(left_out) + ".", 15000)

    def save(self, wait: bool = False) -> bool:
        if self._path is None:
            return self.save_as(wait=wait)
        return self._save_to(str(self._path), wait)

    def save_as(self, wait: bool = False) -> bool:
        start_dir = settings().value("last_dir", "") or documents_dir()
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
        request = self.controller.save(path)
        self._pending_saves[request] = path
        self.statusBar().showMessage(f"Saving {path}…")
        if not wait:
            return True
        # Opening or starting over after "Save": wait for this save's own reply (an earlier
        # save's must not end the wait), however long it takes; it arrives through
        # _on_controller_save_finished, connected once in __init__.
        self._save_wait = (request, QEventLoop())
        self._save_result = None
        self._show_saving(path)
        self._save_wait[1].exec()
        self._save_wait = None
        return bool(self._save_result)

    def _on_controller_save_finished(self, request: int, path: str, ok: bool, _message: str) -> None:
        self._pending_saves.pop(request, None)
        if self._save_wait is not None and self._save_wait[0] == request:
            self._save_result = ok
            self._save_wait[1].quit()
        if not ok:
            self.statusBar().clearMessage()
            # The quit waiting for the saves is off: the user sees why and decides again.
            self._close_when_saved = False
            self._close_confirmed = False
        if not self._pending_saves:
            self._hide_saving()
            if self._close_when_saved:
                self._close_when_saved = False
                QTimer.singleShot(0, self.close)

    def _show_saving(self, path: str, closing: bool = False) -> None:
        """Say that the window waits for a save: a busy dialog (after a short delay)."""
        if self.saving_dialog is None:
            dialog = QProgressDialog(self)
            dialog.setWindowTitle("Saving")
            dialog.setCancelButton(None)  # a save is never aborted half way
            dialog.setRange(0, 0)
            dialog.setWindowModality(Qt.WindowModality.WindowModal)
            dialog.setAutoClose(False)
            dialog.setAutoReset(False)
            dialog.reset()  # no automatic show until asked
            self.saving_dialog = dialog
        dialog = self.saving_dialog
        text = f"Saving {Path(path).name}…"
        if closing:
            text += "\nBackprop Sandbox closes when the save is done."
            self.statusBar().showMessage(f"Saving {path}… Backprop Sandbox closes when the save is done.")
        dialog.setLabelText(text)
        dialog.setMinimumDuration(SAVING_DIALOG_DELAY_MS)
        if not dialog.isVisible():
            dialog.setValue(0)  # shows it once the delay has passed, unless hidden before

    def _hide_saving(self) -> None:
        if self.saving_dialog is not None:
            self.saving_dialog.reset()
            self.saving_dialog.hide()

    def _on_controller_session_saved(self, path: str) -> None:
        self._path = Path(path)
        self._source_name = self._path.name
        self._add_recent(path)
        settings().setValue("last_dir", str(self._path.parent))
        self._update_title(False)
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def import_csv_dialog(self) -> None:
        # Importing replaces the network and its training: ask first, as Open does.
        if not self.confirm_discard():
            return
        start = str(settings().value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Import CSV data", start, CSV_FILTER)
        if path:
            self.controls.import_csv_with_dialog(path)

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

    def export_image(self, what: str, path: str, scale: float = 1.0) -> None:
        """Save the canvas, output view, loss plot, gradient health plot or whole window as a PNG
        at ``scale`` (an SVG if ``path`` ends in ``.svg``); raises ExportError (a ValueError)."""
        exports.export_image(self, what, path, scale)

    def export_image_dialog(self, what: str) -> None:
        exports.export_image_dialog(self, what)
