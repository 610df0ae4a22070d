"""Building PromQL safely: every value that lands in a query goes through here.

Namespace, workload, app and service names come from the cluster and from the user; a value such as
``x"} or vector(1) or {a="`` must select only series whose label equals that text, never change the
query. ``quote`` makes a PromQL double-quoted string literal; ``regex_escape`` makes a value match
itself literally inside an RE2 regular expression (Prometheus anchors label regexes at both ends);
``regex_alternation`` does both for an ``=~"a|b"`` list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
# RE2 metacharacters; everything else (including non-ASCII) stands for itself.
_REGEX_META = frozenset("\\.+*?()|[]{}^$")
_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(value: str) -> str:
    """``value`` as a PromQL double-quoted string literal that stands for exactly ``value``."""
    out = ['"']
    for ch in str(value):
        esc = _SIMPLE_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def regex_escape(value: str) -> str:
    """``value`` as an RE2 pattern matching exactly that text (not yet quoted)."""
    return "".join("\\" + ch if ch in _REGEX_META else ch for ch in str(value))


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(str(v), None)
    return list(seen)


def regex_union(values: Iterable[str]) -> str:
    """An unquoted RE2 alternation ``a|b|c`` of the escaped, de-duplicated values (order kept).
    Wrap it in ``(?:...)`` when it is part of a longer pattern."""
    items = _unique(values)
    if not items:
        raise ValueError("an alternation needs at least one value")
    return "|".join(regex_escape(v) for v in items)


def regex_alternation(values: Iterable[str]) -> str:
    """The quoted right-hand side of ``label=~...`` matching exactly one of ``values``."""
    return quote(regex_union(values))


def label_name(name: str) -> str:
    if not _LABEL_NAME.match(name):
        raise ValueError(f"not a Prometheus label name: {name!r}")
    return name


def metric_name(name: str) -> str:
    if not _METRIC_NAME.match(name):
        raise ValueError(f"not a Prometheus metric name: {name!r}")
    return name


def eq(label: str, value: str) -> str:
    """``label="value"``."""
    return f"{label_name(label)}={quote(value)}"


def ne(label: str, value: str) -> str:
    """``label!="value"``."""
    return f"{label_name(label)}!={quote(value)}"


def one_of(label: str, values: Iterable[str]) -> str:
    """``label="v"`` for one value, ``label=~"a|b"`` for several (each matched literally)."""
    return _literal_set(label, values, eq, "=~", "match")


def none_of(label: str, values: Iterable[str]) -> str:
    """``label!="v"`` for one value, ``label!~"a|b"`` for several (each matched literally)."""
    return _literal_set(label, values, ne, "!~", "differ from")


def _literal_set(label: str, values: Iterable[str], single: Callable[[str, str], str], regex_op: str,
                 verb: str) -> str:
    items = _unique(values)
    if not items:
        raise ValueError(f"{label} must {verb} at least one value")
    if len(items) == 1:
        return single(label, items[0])
    return f"{label_name(label)}{regex_op}{regex_alternation(items)}"


def matches(label: str, pattern: str) -> str:
    """``label=~"pattern"`` for a pattern the caller built from escaped parts."""
    return f"{label_name(label)}=~{quote(pattern)}"


def selector(metric: str, matchers: Sequence[str]) -> str:
    """``metric{m1,m2}`` from matchers made by ``eq``/``ne``/``one_of``/``matches``."""
    return f"{metric_name(metric)}{{{','.join(matchers)}}}"


def by(labels: Iterable[str]) -> str:
    """A ``by (...)`` label list, validated."""
    return ",".join(label_name(lbl) for lbl in labels)
