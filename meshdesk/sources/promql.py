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


# --- a Prometheus' query scope ------------------------------------------------------------------------
# Kiali's ``external_services.prometheus.query_scope``: labels every query is kept to, so that one Prometheus
# (Thanos, Mimir) holding several meshes' or clusters' telemetry answers for one. They are added to each
# vector selector of a query as it is sent, so that no query can be written without them.

Scope = tuple[tuple[str, str], ...]

_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|(?:[0-9]*\.)?[0-9]+(?:[eE][+-]?[0-9]+)?[a-zA-Z0-9_.]*")
# words that are never a metric: binary operators, modifiers, grouping, and the number words
_NOT_METRICS = frozenset({"and", "or", "unless", "atan2", "bool", "offset", "by", "without", "on", "ignoring",
                          "group_left", "group_right", "inf", "nan"})
# aggregations: ``sum by (x) (...)`` puts the grouping between the name and its parenthesis
_AGGREGATIONS = frozenset({"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                           "bottomk", "topk", "quantile", "limitk", "limit_ratio"})
# words followed by a list of label names, not of selectors
_LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})


def _string_end(query: str, i: int) -> int:
    """The index after the string literal opening at ``i`` (the end of the query when it is not closed)."""
    mark, j, n = query[i], i + 1, len(query)
    while j < n:
        ch = query[j]
        if ch == "\\" and mark != "`":
            j += 2
            continue
        if ch == mark:
            return j + 1
        j += 1
    return n


def _closing(query: str, i: int, opener: str, closer: str) -> int:
    """The index after the ``closer`` matching the ``opener`` at ``i``, string literals passed over."""
    depth, j, n = 0, i, len(query)
    while j < n:
        ch = query[j]
        if ch in "\"'`":
            j = _string_end(query, j)
            continue
        if ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return n


def scoped(query: str, scope: Scope) -> str:
    """``query`` with the ``scope``'s matchers (``label="value"``, each value quoted: it can never change the
    query's meaning) added to every vector selector: inside each ``{...}``, and as ``{...}`` after a metric
    name written bare. Strings, durations, function names and label lists are left as they are."""
    if not scope:
        return query
    matchers = ",".join(eq(k, v) for k, v in scope)
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in "\"'`":
            j = _string_end(query, i)
        elif ch == "#":  # a comment, to the end of its line
            j = query.find("\n", i)
            j = n if j < 0 else j
        elif ch == "{":
            j = _closing(query, i, "{", "}")
            inner = query[i + 1:j - 1] if query[j - 1:j] == "}" else query[i + 1:j]
            out.append("{" + matchers + ("," + inner if inner.strip() else "") + "}")
            i = j
            continue
        elif ch == "[":  # a range or subquery: durations only
            j = query.find("]", i)
            j = n if j < 0 else j + 1
        elif ch.isdigit() or (ch == "." and query[i + 1:i + 2].isdigit()):
            found = _NUMBER.match(query, i)
            j = found.end() if found else i + 1
        elif ch.isalpha() or ch in "_:":
            found = _IDENT.match(query, i)
            j = found.end() if found else i + 1
            name = query[i:j]
            k = j
            while k < n and query[k].isspace():
                k += 1
            follows = query[k:k + 1]
            word = name.lower()
            if word in _LABEL_LISTS and follows == "(":
                j = _closing(query, k, "(", ")")
            elif follows not in ("(", "{") and word not in _NOT_METRICS and word not in _AGGREGATIONS:
                out.append(name + "{" + matchers + "}")  # a bare metric name: a selector of its own
                i = j
                continue
        else:
            j = i + 1
        out.append(query[i:j])
        i = j
    return "".join(out)
