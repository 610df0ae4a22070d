"""Help > About: what meshdesk is and exactly which versions are running (for bug reports)."""

from __future__ import annotations

import platform
import sys

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from meshdesk import __version__
from meshdesk.ui.theme import app_icon

DESCRIPTION = (
    "See and steer an Istio service mesh from your desktop: the traffic graph of your workloads, "
    "apps and services, built from your kubeconfig and Prometheus, live or from a snapshot."
)
LICENSE = "Apache-2.0"


def version_info() -> dict[str, str]:
    """The versions shown in the dialog, in order; also what "Copy" puts on the clipboard."""
    return {
        "meshdesk": __version__,
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "Platform": f"{platform.system()} {platform.release()} {platform.machine()}".strip(),
    }


def version_text() -> str:
    return "\n".join(f"{key}: {value}" for key, value in version_info().items())


class AboutDialog(QDialog):
    """Modal dialog: icon, name, description, versions (selectable, with a Copy button), licence."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About meshdesk")
        self.setObjectName("aboutDialog")

        icon_label = QLabel()
        icon_label.setPixmap(app_icon().pixmap(96, 96))
        icon_label.setAlignment(Qt.AlignmentFlag.AlignTop)

        title = QLabel(f"meshdesk {__version__}")
        title.setObjectName("aboutTitle")
        title.setProperty("role", "heading")
        description = QLabel(DESCRIPTION)
        description.setWordWrap(True)
        description.setObjectName("aboutDescription")

        self.versions = QFormLayout()
        self._value_labels: dict[str, QLabel] = {}
        for key, value in version_info().items():
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setObjectName(f"version_{key}")
            self._value_labels[key] = label
            self.versions.addRow(f"{key}:", label)

        licence = QLabel(f"Licensed under {LICENSE}.")
        licence.setProperty("role", "hint")

        text = QVBoxLayout()
        text.addWidget(title)
        text.addWidget(description)
        text.addLayout(self.versions)
        text.addWidget(licence)
        text.addStretch(1)

        top = QHBoxLayout()
        top.addWidget(icon_label)
        top.addLayout(text, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy version info")
        self.copy_button.setToolTip("Copy the versions above, for a bug report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_versions)
        buttons.rejected.connect(self.reject)

        outer = QVBoxLayout(self)
        outer.addLayout(top)
        outer.addWidget(buttons)
        self.setMinimumWidth(460)

    def value(self, key: str) -> str:
        """The text shown for one version line (``meshdesk``, ``Qt``, ``PySide6``, ``Python``, ``Platform``)."""
        return self._value_labels[key].text()

    def copy_versions(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(version_text())


def show_about(parent: QWidget | None = None) -> int:
    """Open the About dialog modally (what Help > About calls)."""
    if QApplication.instance() is None:  # pragma: no cover - a caller bug, not a user path
        raise RuntimeError("show_about needs a running QApplication")
    return AboutDialog(parent).exec()


if __name__ == "__main__":  # pragma: no cover - manual look at the dialog
    application = QApplication(sys.argv)
    sys.exit(show_about())
