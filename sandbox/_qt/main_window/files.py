"""Opening, saving, importing and exporting: the File menu's actions of the main window.

A mixin of :class:`~sandbox._qt.main_window.window.MainWindow`: it uses the window's
``controller``, ``controls``, ``statusBar()`` and ``show_error``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ...resources import is_builtin
from ..app_settings import settings

SESSION_FILTER = "Backprop Sandbox sessions (*.json);;All files (*)"
MAX_RECENT = 10


class SessionFiles:
    """New, open, save, save as, recent files, CSV import and image export."""

    _save_wait: QEventLoop | None = None
    _save_result: bool | None = None

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
        from ...resources import default_run

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
        # Closing the window: wait (bounded) for the worker to finish writing.  The answer
        # arrives through _on_controller_save_finished, connected once in __init__.
        self._save_wait = loop = QEventLoop()
        self._save_result = None
        QTimer.singleShot(30_000, loop.quit)
        loop.exec()
        self._save_wait = None
        return bool(self._save_result)

    def _on_controller_save_finished(self, path: str, ok: bool, _message: str) -> None:
        self._save_result = ok
        if self._save_wait is not None:
            self._save_wait.quit()

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


def _documents_dir() -> str:
    try:
        from platformdirs import user_documents_dir

        return user_documents_dir()
    except Exception:  # noqa: BLE001 - any failure falls back to home
        return str(Path.home())
