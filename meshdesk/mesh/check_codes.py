"""Validation check codes a user leaves out (Kiali's ``validations.ignore``): read from text, with
Kiali's default. Small and import-free, for the settings store and the commands."""

from __future__ import annotations

import re

# Kiali's default ``validations.ignore``: KIA1301 (a workload no AuthorizationPolicy covers) is made
# only when a user takes it out of the list
IGNORED_BY_DEFAULT: tuple[str, ...] = ("KIA1301",)
_CODE = re.compile(r"[A-Z]{3}[0-9]{4}")


def is_check_code(text: str) -> bool:
    """Whether ``text`` is one check code (any case, e.g. KIA1301, mdk1209)."""
    return bool(_CODE.fullmatch(text.strip().upper()))


def checks_left_out(text: str) -> tuple[str, ...]:
    """The check codes of ``text`` ("KIA1301, kia0101" or one per line), upper-cased, in order, each
    once. Raises ValueError naming the first word that is no check code (three letters, four digits,
    as KIA1301 or MDK1209)."""
    out: list[str] = []
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        code = word.upper()
        if not _CODE.fullmatch(code):
            raise ValueError(f"{word!r} is not a check code (three letters and four digits, such as KIA1301)")
        if code not in out:
            out.append(code)
    return tuple(out)


__all__ = ["IGNORED_BY_DEFAULT", "checks_left_out", "is_check_code"]
