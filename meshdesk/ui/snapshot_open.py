"""Opening a snapshot file without giving up what the window shows, and saying plainly when a file
cannot be opened or written.

``SnapshotOpener`` reads and checks a file on a thread of its own (a big file takes a moment; a
network drive may take longer) and reports ``opened(path, Snapshot)`` or ``failed(path, error)`` on
the UI thread. The window switches to the snapshot only once it is known to be one it can show; a
file that is not stays a dialog, not a context. A newer ``open()`` supersedes an older one whose
answer has not come yet, and ``cancel()`` (the user chose something else to show meanwhile) drops it:
a file read slowly never takes the window from what the user picked after asking for it.

``file_problem(parent, title, text, advice)`` is that dialog: window-modal, but not a nested event
loop (``QMessageBox.open``), so the window's timers and workers go on and tests can read and close it.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from meshdesk.mesh.snapshot import Snapshot
from meshdesk.sources.base import SnapshotFileError, SourceError

log = logging.getLogger(__name__)


def reason_of(error: SourceError) -> str:
    """What is wrong, without the file's name (the dialog names it first)."""
    return error.reason if isinstance(error, SnapshotFileError) else str(error)


class SnapshotOpener(QObject):
    opened = Signal(str, object)  # path, Snapshot
    failed = Signal(str, object)  # path, SourceError (a SnapshotFileError for a file that is not one)
    busyChanged = Signal(bool)
    readEnded = Signal(str)  # path: a read's answer came, whether it was used or dropped (superseded, cancelled)

    _answer = Signal(int, str, object, object)  # generation, path, Snapshot | None, SourceError | None

    def __init__(self, parent: QObject | None = None, *, max_bytes: int | None = None) -> None:
        super().__init__(parent)
        from meshdesk.sources.snapshot import APP_MAX_BYTES

        self.max_bytes = APP_MAX_BYTES if max_bytes is None else max_bytes
        self._generation = 0
        self._waiting: int | None = None  # the generation whose answer is awaited
        self._threads: list[threading.Thread] = []
        self._stopped = False
        self._answer.connect(self._on_answer)  # queued: emitted on the reading thread

    @property
    def busy(self) -> bool:
        return self._waiting is not None

    def open(self, path: str) -> None:
        if self._stopped:
            return
        self._generation += 1
        self._waiting = self._generation
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=self._read, args=(self._generation, path), daemon=True,
                                  name="meshdesk-snapshot-open")
        self._threads.append(thread)
        thread.start()
        self.busyChanged.emit(True)

    def cancel(self) -> None:
        """Forget the read awaited, if any: its answer, when it comes, is dropped (the thread is left to
        end on its own; a file read ends soon)."""
        self._generation += 1
        if self._waiting is not None:
            self._waiting = None
            self.busyChanged.emit(False)

    def _read(self, generation: int, path: str) -> None:
        from meshdesk.sources.snapshot import load_snapshot

        snapshot, error = None, None
        try:
            snapshot = load_snapshot(path, regular_only=True, max_bytes=self.max_bytes, beside_ui=True)
        except SourceError as e:
            error = e
        except Exception as e:  # a bug or a library surprise: said like any other problem with the file
            log.exception("reading the snapshot %s failed", path)
            error = SnapshotFileError(path, f"{type(e).__name__}: {e}", f"snapshot file {path}: {e}")
        if error is not None:  # no traceback: it would keep the file's text alive
            error.__traceback__ = error.__cause__ = error.__context__ = None
        if self._stopped:
            return
        try:
            self._answer.emit(generation, path, snapshot, error)
        except RuntimeError:  # the window was closed and deleted meanwhile
            pass

    def _on_answer(self, generation: int, path: str, snapshot: object, error: object) -> None:
        if generation != self._waiting or self._stopped:
            self.readEnded.emit(path)
            return  # another file was asked for meanwhile, or something else was chosen
        self._waiting = None
        self.busyChanged.emit(False)
        if isinstance(error, SourceError):
            self.failed.emit(path, error)
        else:
            self.opened.emit(path, snapshot)
        self.readEnded.emit(path)

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Answers that come later are dropped; reads still running are waited for (a file read ends
        soon), up to ``timeout_s`` each."""
        self._stopped = True
        self._waiting = None
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = [t for t in self._threads if t.is_alive()]


class SnapshotSaver(QObject):
    """Writes snapshot files on threads of their own and reports ``saved(path, error)`` (error None when
    written) on the UI thread. A big mesh's snapshot (60 000 samples, 58 MB) took some 4 s to turn into
    JSON and write, the window frozen meanwhile; the JSON writer gives the UI thread its turns."""

    saved = Signal(str, object)  # path, SourceError | None

    _answer = Signal(str, object)  # path, SourceError | None (emitted on the writing thread)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads: list[threading.Thread] = []
        self._stopped = False
        self._answer.connect(self._on_answer)  # queued: emitted on the writing thread

    def save(self, snapshot: Snapshot, path: str) -> None:
        if self._stopped:
            return
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=self._write, args=(snapshot, path), daemon=True,
                                  name="meshdesk-snapshot-save")
        self._threads.append(thread)
        thread.start()

    def _write(self, snapshot: Snapshot, path: str) -> None:
        from meshdesk.sources.base import SnapshotWriteError
        from meshdesk.sources.snapshot import save_snapshot

        error: SourceError | None = None
        try:
            save_snapshot(snapshot, path)
        except SourceError as e:
            error = e
        except Exception as e:  # a bug or a library surprise: said like any other file that was not written
            log.exception("writing the snapshot %s failed", path)
            error = SnapshotWriteError(path, f"{type(e).__name__}: {e}", f"cannot write snapshot file {path}: {e}")
        if error is not None:
            error.__traceback__ = error.__cause__ = error.__context__ = None
        if self._stopped:
            return
        try:
            self._answer.emit(path, error)
        except RuntimeError:  # the window was closed and deleted meanwhile
            pass

    def _on_answer(self, path: str, error: object) -> None:
        if not self._stopped:
            self.saved.emit(path, error)

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Writes still running are waited for (a file half written is never left as the file: the write
        is atomic; what was asked is finished), up to ``timeout_s`` each; answers are no longer reported."""
        for thread in self._threads:
            thread.join(timeout_s)
        self._stopped = True
        self._threads = [t for t in self._threads if t.is_alive()]


def file_problem(parent: QWidget, title: str, text: str, advice: str = "") -> QMessageBox:
    """Show a warning about a file (open, not exec: no nested event loop) and return the box."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("fileProblem")
    box.setTextFormat(Qt.TextFormat.PlainText)  # a path is text, whatever characters it has
    if advice:
        box.setInformativeText(advice)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # to copy the path
    box.open()
    return box
