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
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from ...resources import is_builtin
from ...session import commands as cmd
from ...session.loading import is_csv
from ..app_settings import settings

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
        builtin = is_builtin(path)
        # A CSV starts an untitled session, as on the command line: Save asks where to put it.
        self._path = None if builtin or is_csv(path) else Path(path)
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
        elif what == "health":
            image = self.gradient_health.image_for_export()
        else:
            image = self.grab().toImage()
        if not image.save(path, "PNG"):
            raise OSError(f"could not write {path}")

    def export_image_dialog(self, what: str) -> None:
        names = {"canvas": "network", "output": "output", "loss": "loss", "health": "gradient-health",
                 "window": "window"}
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


def _documents_dir() -> str:
    try:
        from platformdirs import user_documents_dir

        return user_documents_dir()
    except Exception:  # noqa: BLE001 - any failure falls back to home
        return str(Path.home())
