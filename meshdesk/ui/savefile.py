"""Asking where to save a file: Qt's save dialog, then the suffix a name typed without one gets, and
the question the dialog could not ask (it asked about the name typed, not the suffixed one)."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from meshdesk.fileio import with_default_suffix


def replace_ok(parent: QWidget, path: str, named: str) -> str:
    """``named`` (``path`` with its suffix added), or "" when that is another, existing file the user
    does not want replaced."""
    if named != path and os.path.exists(named):
        answer = QMessageBox.question(parent, "Replace the file?", f"{named} exists already. Replace it?")
        if answer != QMessageBox.StandardButton.Yes:
            return ""
    return named


def ask_save_path(parent: QWidget, title: str, suggested: str, name_filter: str, suffix: str) -> str:
    """The file chosen in the save dialog, ``suffix`` (".log") added to a name typed without an
    extension; "" when the user cancels or keeps an existing file of the suffixed name."""
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, name_filter)
    return replace_ok(parent, path, with_default_suffix(path, suffix)) if path else ""


__all__ = ["ask_save_path", "replace_ok"]
