"""Small wording helpers for what users read."""

from __future__ import annotations


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``1 change``, ``3 changes``, ``0 errors`` (``plural`` when adding an s will not do)."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"
