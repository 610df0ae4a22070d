"""Every path meshdesk writes to, in one place. ``MESHDESK_CONFIG_DIR`` overrides the base (tests use it),
so no test ever touches a real home."""

from __future__ import annotations

import os
import re
from pathlib import Path

APP = "meshdesk"


def config_dir() -> Path:
    """``$MESHDESK_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/meshdesk``, else ``~/.config/meshdesk``
    (``%APPDATA%\\meshdesk`` on Windows, ``~/Library/Application Support/meshdesk`` on macOS)."""
    override = os.environ.get("MESHDESK_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / APP
    if os.uname().sysname == "Darwin":
        return Path.home() / "Library" / "Application Support" / APP
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / APP


def settings_file() -> Path:
    return config_dir() / "settings.json"


def layouts_dir() -> Path:
    return config_dir() / "layouts"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sanitize(name: str, limit: int = 80) -> str:
    """A context or cluster name made safe as one folder/file name (k9s-style): unsafe characters
    become ``_``, dots and dashes at the ends are trimmed, empty becomes ``_``."""
    cleaned = _UNSAFE.sub("_", name).strip("._-")[:limit]
    return cleaned or "_"


def context_dir(context: str) -> Path:
    """Per-context state lives under ``contexts/<sanitised context>/``."""
    return config_dir() / "contexts" / sanitize(context)
