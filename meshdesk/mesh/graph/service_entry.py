"""Placeholder."""

from __future__ import annotations

from typing import Any


def apply(tm: Any, ctx: Any) -> None:
    return None
