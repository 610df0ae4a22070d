"""Kiali's graph Find/Hide expression language, evaluated on a ``TrafficGraph``. No Qt.

An expression is one or more conditions joined by ``AND``/``OR`` (case-insensitive). As in Kiali, OR
splits first and AND binds within each OR clause (``a AND b OR c`` is ``(a AND b) OR c``); there are
no parentheses. One AND clause may not mix node and edge conditions (use OR for that), and ``name``
may not be ANDed because it already stands for an OR over several names.

Conditions::

    <operand> <op> <value>     app = reviews, rt > 1000, %httperr >= 5, node = svc, ns != istio-system
    [!|not] [is|has] <unary>   idle, !sc, not healthy, has cb, is outside, !traffic

Operators: ``=`` ``!=`` ``>`` ``<`` ``>=`` ``<=`` on numbers and text; ``contains``/``*=``,
``startswith``/``^=``, ``endswith``/``$=`` and their negations ``!contains``/``not contains``/``!*=``
(and so on) on text only. Text comparisons are case-sensitive, like Kiali's. ``<number operand> = NaN``
tests for no activity and ``!= NaN`` for any.

Missing values follow Kiali's newer (PatternFly) graph: an absent rate of the element's own protocol
counts as 0; a rate of another protocol, a response time or throughput that was not computed, or a
rank that was not computed never satisfies ``=``, ``<``, ``>``, ``<=`` or ``>=`` and always satisfies
``!=``. A missing text field is the empty string. Box nodes (cluster/namespace/app boxes) are never
matched; ``Matcher.hidden`` hides a box when everything in it is hidden, as Kiali does.

meshdesk extensions beyond Kiali's operands: ``degraded``, ``failure`` (``failing``), ``health <op>
<status>``, ``dr``/``destinationrule`` and ``gateway``/``gw``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from meshdesk.mesh.graph.model import (
    DEGRADED,
    FAILURE,
    HEALTHY,
    NO_HEALTH,
    NODE_AGGREGATE,
    NODE_APP,
    NODE_BOX,
    NODE_SERVICE,
    NODE_UNKNOWN,
    NODE_WORKLOAD,
    NOT_READY,
    Edge,
    Node,
    TrafficGraph,
)

Target = Literal["node", "edge"]
Element = Node | Edge


_QUOTE_LIMIT = 60


def _q(text: str) -> str:
    """``text`` as a message quotes it: whole when short, else its start and end around an ellipsis (a
    pasted 2,000-character expression would fill the window with one error)."""
    text = str(text)
    return text if len(text) <= _QUOTE_LIMIT else f"{text[:40]}…{text[-15:]}"


class FindSyntaxError(ValueError):
    """An expression that cannot be understood; ``message`` says why in one plain sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ----------------------------------------------------------------------------------------------- presets

FIND_PRESETS: list[tuple[str, str]] = [
    ("Slow edges (response time over 1 s)", "rt > 1000"),
    ("Unhealthy nodes", "! healthy"),
    ("Unknown nodes", "name = unknown"),
    ("Edges with 5% or more HTTP errors", "%httperr >= 5"),
    ("Edges with half or more of their source's HTTP requests", "%httptraffic >= 50"),
    ("Edges with traffic but without mTLS", "traffic AND !mtls"),
    ("Nodes without a sidecar", "sc"),
    ("Nodes with a VirtualService", "vs"),
    ("Nodes with a circuit breaker", "cb"),
    ("Idle nodes", "idle"),
    ("Traffic sources", "root"),
]

# what the Find and Hide boxes' tooltips offer as examples (a test compiles each)
FIND_EXAMPLES = ("http > 1", "name = reviews")
HIDE_EXAMPLES = ("idle", "http < 1")

HIDE_PRESETS: list[tuple[str, str]] = [
    ("Healthy nodes", "healthy"),
    ("Unknown nodes", "name = unknown"),
    ("Idle nodes", "idle"),
    ("Edges without traffic", "!traffic"),
    ("Nodes outside the selected namespaces", "outside"),
    ("Operation nodes", "node = op"),
]

# ----------------------------------------------------------------------------------------------- operands

NUMERIC_OPS = ("=", "!=", ">", "<", ">=", "<=")
TEXT_OPS = ("=", "!=", "*=", "!*=", "^=", "!^=", "$=", "!$=")
_OP_WORDS = {"*=": "contains", "!*=": "!contains", "^=": "startswith", "!^=": "!startswith",
             "$=": "endswith", "!$=": "!endswith"}

_NODE_TYPES = {"app": NODE_APP, "operation": NODE_AGGREGATE, "op": NODE_AGGREGATE, "aggregate": NODE_AGGREGATE,
               "service": NODE_SERVICE, "svc": NODE_SERVICE, "workload": NODE_WORKLOAD, "wl": NODE_WORKLOAD,
               "unknown": NODE_UNKNOWN}

_HEALTH_WORDS = {"healthy": HEALTHY, "degraded": DEGRADED, "failure": FAILURE, "failing": FAILURE,
                 "na": NO_HEALTH, "n/a": NO_HEALTH, "none": NO_HEALTH, "notready": NOT_READY,
                 "not-ready": NOT_READY}


def _health(node: Node) -> str:
    return node.health.status if node.health is not None else NO_HEALTH


# text operands: name -> (target, getter)
_TEXT_NODE: dict[str, Callable[[Node], str]] = {
    "app": lambda n: n.app,
    "cluster": lambda n: n.cluster,
    "namespace": lambda n: n.namespace,
    "ns": lambda n: n.namespace,
    "operation": lambda n: n.aggregate_value,
    "op": lambda n: n.aggregate_value,
    "service": lambda n: n.service,
    "svc": lambda n: n.service,
    "version": lambda n: n.version,
    "workload": lambda n: n.workload,
    "wl": lambda n: n.workload,
}
_TEXT_EDGE: dict[str, Callable[[Edge], str]] = {
    "protocol": lambda e: e.protocol,
    "destprincipal": lambda e: e.dest_principal,
    "sourceprincipal": lambda e: e.source_principal,
}
_NAME_FIELDS: tuple[Callable[[Node], str], ...] = (
    lambda n: n.aggregate_value, lambda n: n.app, lambda n: n.service, lambda n: n.workload)


def _node_rate(proto: str, rate: str) -> Callable[[Node], float | None]:
    return lambda n: n.traffic.get(proto, {}).get(rate, 0.0)


def _edge_rate(proto: str, rate: str) -> Callable[[Edge], float | None]:
    return lambda e: e.rates.get(rate, 0.0) if e.protocol == proto else None


def _rank(n: Node) -> float | None:
    value = n.extra.get("rank")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


_NUM_NODE: dict[str, Callable[[Node], float | None]] = {
    "httpin": _node_rate("http", "httpIn"),
    "httpout": _node_rate("http", "httpOut"),
    "grpcin": _node_rate("grpc", "grpcIn"),
    "grpcout": _node_rate("grpc", "grpcOut"),
    "tcpin": _node_rate("tcp", "tcpIn"),
    "tcpout": _node_rate("tcp", "tcpOut"),
    "rank": _rank,
}
_NUM_EDGE: dict[str, Callable[[Edge], float | None]] = {
    "http": _edge_rate("http", "http"),
    "%httperr": _edge_rate("http", "httpPercentErr"),
    "%httperror": _edge_rate("http", "httpPercentErr"),
    "%httptraffic": _edge_rate("http", "httpPercentReq"),
    "grpc": _edge_rate("grpc", "grpc"),
    "%grpcerr": _edge_rate("grpc", "grpcPercentErr"),
    "%grpcerror": _edge_rate("grpc", "grpcPercentErr"),
    "%grpctraffic": _edge_rate("grpc", "grpcPercentReq"),
    "tcp": _edge_rate("tcp", "tcp"),
    "rt": lambda e: e.response_time,
    "responsetime": lambda e: e.response_time,
    "throughput": lambda e: e.throughput,
}


def _flag(key: str) -> Callable[[Node], bool]:
    return lambda n: bool(n.extra.get(key))


def _has_traffic(e: Edge) -> bool:
    return any(e.rates.get(p, 0.0) > 0 for p in ("http", "grpc", "tcp"))


_UNARY_NODE: dict[str, Callable[[Node], bool]] = {
    "cb": _flag("hasCB"), "circuitbreaker": _flag("hasCB"),
    "dead": lambda n: n.is_dead,
    "fi": _flag("hasFaultInjection"), "faultinjection": _flag("hasFaultInjection"),
    "inaccessible": lambda n: n.is_inaccessible,
    "idle": lambda n: n.is_idle,
    "mirroring": _flag("hasMirroring"),
    "outside": lambda n: n.is_outside, "outsider": lambda n: n.is_outside,
    "rr": _flag("hasRequestRouting"), "requestrouting": _flag("hasRequestRouting"),
    "rto": _flag("hasRequestTimeout"), "requesttimeout": _flag("hasRequestTimeout"),
    "se": lambda n: n.is_service_entry is not None, "serviceentry": lambda n: n.is_service_entry is not None,
    # as Kiali's parser has it (isOutOfMesh truthy): "sc" finds nodes missing their sidecar, "!sc" the others
    "sc": lambda n: n.has_missing_sidecar, "sidecar": lambda n: n.has_missing_sidecar,
    "tcpts": _flag("hasTCPTrafficShifting"), "tcptrafficshifting": _flag("hasTCPTrafficShifting"),
    "ts": _flag("hasTrafficShifting"), "trafficshifting": _flag("hasTrafficShifting"),
    "root": lambda n: n.is_root, "trafficsource": lambda n: n.is_root,
    "vs": lambda n: n.has_virtual_service, "virtualservice": lambda n: n.has_virtual_service,
    "we": _flag("hasWorkloadEntry"), "workloadentry": _flag("hasWorkloadEntry"),
    # meshdesk extensions
    "dr": lambda n: n.has_destination_rule, "destinationrule": lambda n: n.has_destination_rule,
    "gateway": lambda n: n.is_gateway, "gw": lambda n: n.is_gateway,
    "waypoint": _flag("isWaypoint"), "wp": _flag("isWaypoint"),
    "degraded": lambda n: _health(n) == DEGRADED,
    "failure": lambda n: _health(n) == FAILURE, "failing": lambda n: _health(n) == FAILURE,
}
_UNARY_EDGE: dict[str, Callable[[Edge], bool]] = {
    "mtls": lambda e: (e.is_mtls or 0.0) > 0,
    "traffic": _has_traffic,
}

OPERANDS: tuple[str, ...] = tuple(sorted(
    {*_TEXT_NODE, *_TEXT_EDGE, *_NUM_NODE, *_NUM_EDGE, *_UNARY_NODE, *_UNARY_EDGE,
     "name", "node", "health", "healthy", "label:"}))
_KNOWN = frozenset(OPERANDS) - {"label:"}
_SOME_OPERANDS = ("name", "app", "ns", "http", "rt", "%httperr", "idle", "healthy")

# ----------------------------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Condition:
    """One parsed condition: what it is about and the test."""

    target: Target
    text: str
    test: Callable[[Element], bool]
    operand: str


_OP_RE = re.compile(
    r"^(?P<field>[^\s!=<>*^$]+)\s*"
    r"(?P<op>!\s*\*=|!\s*\^=|!\s*\$=|!=|>=|<=|\*=|\^=|\$=|=|>|<|"
    r"(?:!\s*|not\s+)?(?:contains|startswith|endswith)\b)"
    r"\s*(?P<value>.*)$",
    re.IGNORECASE,
)
_UNARY_RE = re.compile(r"^(?P<neg>!|not\s+)?\s*(?:(?:is|has)\s+)?(?P<name>\S+)$", re.IGNORECASE)
# an operator with a space inside, e.g. "app ! = reviews" or "rt > = 5"
_SPLIT_OP = re.compile(r"^[^\s!=<>*^$]+\s*(?P<op>[!<>*^$])\s+=")
# an operand followed by a run of operator signs that may be no operator, e.g. "name!~review", "app =~ x"
_BAD_OP = re.compile(r"^(?P<field>[^\s!=<>*^$~]+)\s*(?P<op>[!=<>*^$~]+)\s*(?P<value>.*)$")
_OPERATORS = "=, !=, >, <, >=, <=, contains, startswith, endswith, !contains, !startswith, !endswith"
# the operators written with signs only: a run of signs that is none of these is no operator (Kiali
# splits "rt =< 5" at "=" and looks for the value "< 5"; "ns == shop" for the value "")
_WORD_OP = re.compile(r"(?:contains|startswith|endswith)\b", re.IGNORECASE)
_SIGN_OPERATORS = frozenset(("=", "!=", ">", "<", ">=", "<=", "*=", "^=", "$=", "!*=", "!^=", "!$="))
_TWICE = re.compile(r"^(?:!|not\s)\s*(?:!|not\s)\s*(?P<rest>\S+)$", re.IGNORECASE)


def _normalise_op(op: str) -> str:
    op = re.sub(r"\s+", "", op.lower())
    op = op.replace("not", "!")
    return {"contains": "*=", "!contains": "!*=", "startswith": "^=", "!startswith": "!^=",
            "endswith": "$=", "!endswith": "!$="}.get(op, op)


def _text_test(op: str, value: str, what: str, expression: str) -> Callable[[str], bool]:
    """The test of a text operand (``what`` names it in the message when ``op`` compares numbers)."""
    if op in (">", "<", ">=", "<="):
        raise FindSyntaxError(f"{what} is text: use =, !=, contains, startswith or endswith in '{_q(expression)}'")
    tests: dict[str, Callable[[str], bool]] = {
        "=": lambda s: s == value,
        "!=": lambda s: s != value,
        "*=": lambda s: value in s,
        "!*=": lambda s: value not in s,
        "^=": lambda s: s.startswith(value),
        "!^=": lambda s: not s.startswith(value),
        "$=": lambda s: s.endswith(value),
        "!$=": lambda s: not s.endswith(value),
    }
    return tests[op]


def _parse_number(text: str) -> float | None:
    """A number, or None for NaN or anything that is not a number (Kiali's isNaN)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) else value


def _numeric_test(operand: str, op: str, value_text: str, get: Callable[[Element], float | None],
                  expression: str) -> Callable[[Element], bool]:
    number = _parse_number(value_text)
    if op not in NUMERIC_OPS:
        raise FindSyntaxError(f"'{operand}' is a number: use =, !=, >, <, >= or <= "
                              f"(not '{_OP_WORDS.get(op, op)}') in '{_q(expression)}'")
    if number is None:
        if op == "=":  # no activity
            return lambda el: not get(el)
        if op == "!=":  # any activity
            return lambda el: bool(get(el))
        raise FindSyntaxError(f"'{_q(value_text)}' is not a number in '{_q(expression)}' (use '.' for decimals)")
    compare: dict[str, Callable[[float], bool]] = {
        "=": lambda v: v == number, ">": lambda v: v > number, "<": lambda v: v < number,
        ">=": lambda v: v >= number, "<=": lambda v: v <= number,
    }
    if op == "!=":
        def not_equal(el: Element) -> bool:
            v = get(el)
            return v is None or v != number
        return not_equal
    check = compare[op]

    def test(el: Element) -> bool:
        v = get(el)
        return v is not None and check(v)
    return test


def _node_only(test: Callable[[Node], bool]) -> Callable[[Element], bool]:
    return lambda el: isinstance(el, Node) and test(el)


def _edge_only(test: Callable[[Edge], bool]) -> Callable[[Element], bool]:
    return lambda el: isinstance(el, Edge) and test(el)


def _labels(n: Node) -> dict[str, str]:
    labels = n.extra.get("labels")
    return labels if isinstance(labels, dict) else {}


def _known_operand(key: str) -> bool:
    return key in _KNOWN or (key.startswith("label:") and len(key) > len("label:"))


def _unknown_operand(field: str) -> str:
    """What to say of an operand that is none: the nearest real one, or a few to choose from."""
    if field.lower() == "label:":
        return "write the label's name after 'label:', e.g. label:region"
    close = difflib.get_close_matches(field.lower(), _KNOWN, n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else f"operands are e.g. {', '.join(_SOME_OPERANDS)}"


# a word that may be a workload's, app's or service's name (a DNS label or subdomain)
_NAME_LIKE = re.compile(r"[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?", re.IGNORECASE)

# text operands whose values are Kubernetes names or label values, none of which holds a comma
_NO_COMMA = frozenset(("app", "namespace", "ns", "service", "svc", "version", "workload", "wl", "protocol"))
_QUOTES = "\"'\u2018\u2019\u201c\u201d`"


def _comparison(expression: str, field: str, op: str, value: str, conjunctive: bool) -> Condition:
    """``expression`` is the condition as the user typed it (what messages quote)."""
    key = field.lower()
    if not _known_operand(key):  # said first: a value would not make it one
        raise FindSyntaxError(f"unknown operand '{_q(field)}' in '{_q(expression)}' ({_unknown_operand(field)})")
    if not value:
        raise FindSyntaxError(f"'{_q(expression)}' has no value after '{_OP_WORDS.get(op, op)}'")
    if any(q in value for q in _QUOTES):
        # no name, namespace, label value, protocol or number holds one: the expression found nothing
        # (as in Kiali, which reads no quoting either), and the window said "nothing shown matches"
        bare = "".join(c for c in value if c not in _QUOTES).strip()
        raise FindSyntaxError(f"'{_q(expression)}' has quotes in its value, which no name, label or number holds: "
                              f"write '{_q(field)} {_OP_WORDS.get(op, op)} {_q(bare) or '...'}'")
    if "," in value and (key in _NO_COMMA or key.startswith("label:")):
        # one value per condition (as in Kiali): "ns = shop,travel" compared the namespace with the
        # text "shop,travel", which no Kubernetes name or label value can be, and silently found nothing
        parts = [p.strip() for p in value.split(",") if p.strip()]
        word = _OP_WORDS.get(op, op)
        either = (" AND " if op.startswith("!") else " OR ").join(f"{field} {word} {p}" for p in parts)
        raise FindSyntaxError(f"'{_q(expression)}' has a comma in its value, which no name or label value "
                              f"holds; a condition takes one value: write '{_q(either) if parts else field + ' = ...'}'")
    if key == "name":
        if conjunctive:
            raise FindSyntaxError("cannot use AND with the 'name' operand (it already means app, service, "
                                  "workload or operation name)")
        text_test = _text_test(op, value, "'name'", expression)
        if op.startswith("!"):  # negated: none of the names may match the positive form
            def name_test(n: Node) -> bool:
                return all(text_test(f(n)) for f in _NAME_FIELDS)
        else:
            def name_test(n: Node) -> bool:
                return any(text_test(f(n)) for f in _NAME_FIELDS)
        return Condition("node", expression, _node_only(name_test), key)
    if key == "node":
        if op not in ("=", "!="):
            raise FindSyntaxError(f"'node' takes = or != and a node type in '{_q(expression)}'")
        node_type = _NODE_TYPES.get(value.lower())
        if node_type is None:
            raise FindSyntaxError(f"unknown node type '{_q(value)}': expected app, operation, service, unknown "
                                  "or workload")
        same = op == "="
        return Condition("node", expression, _node_only(lambda n: (n.node_type == node_type) == same), key)
    if key == "health":
        status = _HEALTH_WORDS.get(value.lower())
        if status is None or op not in ("=", "!="):
            raise FindSyntaxError(f"'health' takes = or != and one of healthy, degraded, failure, notready or "
                                  f"n/a (na) in '{_q(expression)}'")
        same = op == "="
        return Condition("node", expression, _node_only(lambda n: (_health(n) == status) == same), key)
    if key == "rank":
        number = _parse_number(value)
        if number is None or not 1 <= number <= 100:
            raise FindSyntaxError(f"rank must be a number between 1 and 100, not '{_q(value)}'")
    if key in _TEXT_NODE:
        get_text = _TEXT_NODE[key]
        tt = _text_test(op, value, f"'{_q(field)}'", expression)
        return Condition("node", expression, _node_only(lambda n: tt(get_text(n))), key)
    if key in _TEXT_EDGE:
        get_edge_text = _TEXT_EDGE[key]
        tt = _text_test(op, value, f"'{_q(field)}'", expression)
        return Condition("edge", expression, _edge_only(lambda e: tt(get_edge_text(e))), key)
    if key in _NUM_NODE:
        get_node_num = _NUM_NODE[key]
        test = _numeric_test(field, op, value, lambda el: get_node_num(el) if isinstance(el, Node) else None,
                             expression)
        return Condition("node", expression, lambda el: isinstance(el, Node) and test(el), key)
    if key in _NUM_EDGE:
        get_edge_num = _NUM_EDGE[key]
        test = _numeric_test(field, op, value, lambda el: get_edge_num(el) if isinstance(el, Edge) else None,
                             expression)
        return Condition("edge", expression, lambda el: isinstance(el, Edge) and test(el), key)
    if key.startswith("label:") and len(key) > len("label:"):
        label = field[len("label:"):]
        tt = _text_test(op, value, "a label", expression)
        return Condition("node", expression, _node_only(lambda n: tt(str(_labels(n).get(label, "")))), key)
    # what is left: a word that stands alone (an unknown operand was turned away above)
    raise FindSyntaxError(f"'{_q(field)}' takes no operator or value: write '{_q(field)}' or '!{_q(field)}'")


def _unary(expression: str, typed: str) -> Condition:
    """``expression`` as prepared for parsing, ``typed`` as the user wrote it."""
    m = _UNARY_RE.match(expression)
    assert m is not None  # checked by the caller
    negated = bool(m.group("neg"))
    name = m.group("name")
    key = name.lower()
    if key == "healthy":
        if negated:  # Kiali: not healthy means degraded or failing (no health data does not count)
            def unhealthy(n: Node) -> bool:
                return _health(n) not in (HEALTHY, NO_HEALTH, NOT_READY)
            return Condition("node", typed, _node_only(unhealthy), key)
        return Condition("node", typed, _node_only(lambda n: _health(n) == HEALTHY), key)
    if key in _UNARY_NODE:
        flag = _UNARY_NODE[key]
        return Condition("node", typed, _node_only(lambda n: flag(n) != negated), key)
    if key in _UNARY_EDGE:
        eflag = _UNARY_EDGE[key]
        return Condition("edge", typed, _edge_only(lambda e: eflag(e) != negated), key)
    if key.startswith("label:") and len(key) > len("label:"):
        label = name[len("label:"):]
        return Condition("node", typed, _node_only(lambda n: (label in _labels(n)) != negated), key)
    if key in _TEXT_NODE or key in _TEXT_EDGE or key in _NUM_NODE or key in _NUM_EDGE or key in (
            "name", "node", "health"):
        raise FindSyntaxError(f"'{_q(name)}' needs an operator and a value, e.g. '{_q(name)} = ...'")
    hint = _unknown_operand(name)
    if not negated and not hint.startswith("did you mean") and _NAME_LIKE.fullmatch(name):
        # a first search is often a name alone ("reviews"), as in a search box: say how to ask for it
        hint = f"to find a node by its name, write 'name = {_q(name)}'; {hint}"
    raise FindSyntaxError(f"unknown node or edge operand '{_q(name)}' ({hint})")


def _check_operator(expression: str, typed: str, parsed: bool) -> None:
    """Say so when a real operand is followed by signs that are no operator: regular-expression
    operators (``!~``, ``=~``, ``~``; "app =~ x" would otherwise look for the value "~ x", which no
    name or label value can be), or any run of signs no operator reads (``name!review``). Quoted as
    the user typed it; an operand that is none is left to the messages that name it."""
    bad = _BAD_OP.match(expression)
    if bad is None:
        return
    field, op = bad.group("field"), bad.group("op")
    if not _known_operand(field.lower()):
        if not parsed and field in typed:  # the operand is what is wrong first: "bogus!~x"
            raise FindSyntaxError(f"unknown operand '{_q(field)}' in '{_q(typed)}' ({_unknown_operand(field)})")
        return
    if parsed and (op in _SIGN_OPERATORS or _WORD_OP.match(bad.group("value"))):  # "app !contains x"
        return
    if op not in typed:  # the rewriting of "not" made these signs: the user did not type them
        return
    message = f"'{op}' is not an operator in '{_q(typed)}' (operators are {_OPERATORS})"
    if "~" in op:
        instead = "!contains" if op.startswith("!") else "contains"
        message += f": there are no regular expressions; '{instead}' may do"
    elif (meant := _meant_operator(op)) is not None:
        message += f": did you mean '{meant}'?"
    raise FindSyntaxError(message)


def _meant_operator(signs: str) -> str | None:
    """The operator a run of signs that is none most likely meant: the signs the other way round
    (``=<``, ``=>``, ``=!``) or with the ``=`` doubled (``==``, ``!==``, ``>==``)."""
    for candidate in (signs[::-1], re.sub("=+", "=", signs), re.sub("=+", "=", signs)[::-1]):
        if candidate in _SIGN_OPERATORS:
            return candidate
    return None


def _condition(expression: str, conjunctive: bool, typed: str) -> Condition:
    """One condition: ``expression`` as prepared for parsing (``_mnemonics``), ``typed`` as the user
    wrote it, which is what messages quote."""
    split = _SPLIT_OP.match(expression)
    if split is not None:  # e.g. "app ! = reviews": not "!=" but an operand "app !"
        op = split.group("op")
        raise FindSyntaxError(f"'{op} =' is not an operator: write '{op}=' without the space in '{_q(typed)}'")
    m = _OP_RE.match(expression)
    _check_operator(expression, typed, parsed=m is not None)
    if m is not None:
        field, op = m.group("field"), _normalise_op(m.group("op"))
        return _comparison(typed, field, op, m.group("value").strip(), conjunctive)
    twice = _TWICE.match(expression)
    if twice is not None:  # e.g. "not not healthy", "!!idle"
        rest = twice.group("rest")
        raise FindSyntaxError(f"'{_q(typed)}' negates twice: write '{_q(rest)}' or 'not {_q(rest)}'")
    if _UNARY_RE.match(expression):
        return _unary(expression, typed)
    if re.match(r"^(?:!|not\s)\s*label:\S+\s*(?:[=<>]|!=)", expression, re.IGNORECASE):
        raise FindSyntaxError("a leading '!' only tests that a label exists: write 'label:region != east'")
    if re.match(r"^(?:!|not\s)", expression, re.IGNORECASE):
        raise FindSyntaxError(f"a leading '!' or 'not' only goes with a single word (like !idle); "
                              f"use '!=' or 'not contains' in '{_q(typed)}'")
    if re.match(r"^[=<>*^$]", expression):  # "= 3"; not "app !> 3", whose operand is there
        raise FindSyntaxError(f"'{_q(typed)}' is missing an operand before its operator")
    raise FindSyntaxError(f"no valid operator in '{_q(typed)}' (expected e.g. app = reviews, rt > 500, "
                          "or a single word like idle)")


# ----------------------------------------------------------------------------------------------- matcher


@dataclass(frozen=True)
class Matcher:
    """A compiled expression: an OR of AND clauses of conditions."""

    text: str
    clauses: tuple[tuple[Condition, ...], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.clauses

    def _matches(self, element: Element, target: Target) -> bool:
        return any(clause[0].target == target and all(c.test(element) for c in clause)
                   for clause in self.clauses)

    def matches_node(self, node: Node) -> bool:
        return node.node_type != NODE_BOX and self._matches(node, "node")

    def matches_edge(self, edge: Edge) -> bool:
        return self._matches(edge, "edge")

    def nodes(self, graph: TrafficGraph) -> set[str]:
        """Ids of the (non-box) nodes the expression selects. An expression about ``rank`` ranks the
        graph's nodes first (``assign_ranks``), as Kiali turns ranking on for it."""
        if not any(clause[0].target == "node" for clause in self.clauses):
            return set()
        if any(c.operand == "rank" for clause in self.clauses for c in clause):
            assign_ranks(graph)
        test = self._test_of("node")
        return {nid for nid, n in graph.nodes.items() if n.node_type != NODE_BOX and test(n)}

    def edges(self, graph: TrafficGraph) -> set[str]:
        """Ids of the edges the expression selects."""
        if not any(clause[0].target == "edge" for clause in self.clauses):
            return set()
        test = self._test_of("edge")
        return {eid for eid, e in graph.edges.items() if test(e)}

    def _test_of(self, target: Target) -> Callable[[Element], bool]:
        """``_matches`` for one target, as one function: a big mesh's 12,000 edges were each put through
        every clause's target check and two generators (a third of a Find's time on the UI thread)."""
        clauses = [tuple(c.test for c in clause) for clause in self.clauses if clause[0].target == target]
        if len(clauses) == 1 and len(clauses[0]) == 1:
            return clauses[0][0]  # the usual expression: one condition

        def test(el: Element) -> bool:  # (loops: a generator made per element and clause cost as much again)
            for tests in clauses:
                for t in tests:
                    if not t(el):
                        break
                else:
                    return True
            return False
        return test

    def hidden(self, graph: TrafficGraph) -> tuple[set[str], set[str]]:
        """(node ids, edge ids) to hide when this is the Hide expression, by Kiali's rules: hiding a node
        hides its edges; hiding edges also hides nodes left with only hidden edges (idle nodes stay,
        as showing them is an explicit choice); a box is hidden when everything inside it is."""
        hidden_nodes = self.nodes(graph)
        hidden_edges = self.edges(graph)
        if hidden_edges:
            # the nodes with an edge, and those with an edge still shown: one pass over the edges, not
            # a look-up of each node's edges (4,000 nodes and 12,000 edges: ~0.1 s at every refresh)
            with_edges: set[str] = set()
            with_shown: set[str] = set()
            for eid, e in graph.edges.items():
                with_edges.add(e.source)
                with_edges.add(e.target)
                if eid not in hidden_edges:
                    with_shown.add(e.source)
                    with_shown.add(e.target)
            for nid in with_edges - with_shown:
                n = graph.nodes.get(nid)
                if n is not None and n.node_type != NODE_BOX and not n.is_idle:
                    hidden_nodes.add(nid)
        for eid, e in graph.edges.items():
            if e.source in hidden_nodes or e.target in hidden_nodes:
                hidden_edges.add(eid)
        hidden_nodes |= _empty_boxes(graph, hidden_nodes)
        return hidden_nodes, hidden_edges


def assign_ranks(graph: TrafficGraph) -> None:
    """Rank nodes as Kiali's graph does when a Find/Hide expression uses ``rank`` (by inbound and
    outbound edges): a node's score is its share of the graph's edges it is the target of plus its
    share it is the source of; equal scores share a rank, 1 the highest; ranks are then spread over
    1..100 (at most) with Kiali's formula and kept in ``node.extra["rank"]``."""
    total = len(graph.edges)
    count: dict[str, int] = {}
    for e in graph.edges.values():
        count[e.target] = count.get(e.target, 0) + 1
        count[e.source] = count.get(e.source, 0) + 1
    scores = {nid: (count.get(nid, 0) / total if total else 0.0) for nid in graph.nodes}
    ranks: dict[str, int] = {}
    rank, previous = 1, None
    for nid in sorted(scores, key=lambda i: -scores[i]):
        if previous is not None and previous > scores[nid]:
            rank += 1
        ranks[nid], previous = rank, scores[nid]
    top = max(ranks.values(), default=0)
    upper = min(top, 100)
    for nid, r in ranks.items():
        graph.nodes[nid].extra["rank"] = 1 if top <= 1 else math.ceil((1 + (r - 1) * (upper - 1)) / (top - 1))


def _empty_boxes(graph: TrafficGraph, hidden: set[str]) -> set[str]:
    """Boxes whose every (non-box) descendant is hidden, nested boxes included."""
    children: dict[str, list[str]] = {}
    for nid, n in graph.nodes.items():
        if n.parent:
            children.setdefault(n.parent, []).append(nid)
    out: set[str] = set()

    def leaves(box: str, seen: set[str]) -> Iterable[str]:
        for child in children.get(box, []):
            if child in seen:
                continue
            seen.add(child)
            if graph.nodes[child].node_type == NODE_BOX:
                yield from leaves(child, seen)
            else:
                yield child

    for nid, n in graph.nodes.items():
        if n.node_type == NODE_BOX:
            inside = list(leaves(nid, set()))
            if not inside or all(c in hidden for c in inside):
                out.add(nid)
    return out


_SPLIT_OR = re.compile(r"\s+or\s+", re.IGNORECASE)
_SPLIT_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_DANGLING = re.compile(r"^(?:and|or)\s", re.IGNORECASE)


_MNEMONIC = re.compile(r" (?:is|has) ", re.IGNORECASE)
_NEGATED_MNEMONIC = re.compile(r" !\s*(?:is|has) ", re.IGNORECASE)
_NOT = re.compile(r" not ", re.IGNORECASE)


def _mnemonics(text: str) -> str:
    """The words Kiali reads as decoration or shorthand, rewritten as Kiali rewrites them before it
    parses: "is"/"has" before a word are dropped ("has cb", "is not healthy"), and "not" becomes "!"
    ("app not = reviews" is "app != reviews", "not contains" is "!contains")."""
    text = _MNEMONIC.sub(" ", f" {text}")
    text = _MNEMONIC.sub(" ", text)  # a second pass for "is has x": the first shares the space
    text = _NEGATED_MNEMONIC.sub(" ! ", text)
    return _NOT.sub(" !", text).strip()


def compile_expression(text: str) -> Matcher:
    """Parse a Find/Hide expression. Empty text gives a matcher that selects nothing. Raises
    ``FindSyntaxError`` with a plain message for anything it cannot understand."""
    typed = " ".join(str(text).split())
    prepared = _mnemonics(typed)
    if not prepared:
        return Matcher(text)
    if _DANGLING.match(prepared) or re.search(r"\s(?:and|or)$", prepared, re.IGNORECASE) or \
            prepared.lower() in ("and", "or"):
        raise FindSyntaxError(f"AND/OR needs a condition on both sides in '{_q(typed)}'")
    joined = re.search(r"&&|\|\|", typed)
    if joined:
        # a programmer's "and": it was read as part of a value ("protocol = http && rt > 5" found no protocol
        # "http && rt > 5", without a word) or said to be no number
        word = "AND" if joined.group() == "&&" else "OR"
        raise FindSyntaxError(f"join conditions with {word}, not '{joined.group()}', in '{_q(typed)}'")
    clause_texts = [_SPLIT_AND.split(c) for c in _SPLIT_OR.split(prepared)]
    # each condition as the user wrote it, for the messages (the whole text when the rewriting moved
    # a boundary, as "x is and y" would)
    as_typed = [_SPLIT_AND.split(c) for c in _SPLIT_OR.split(typed)]
    if [len(c) for c in as_typed] != [len(c) for c in clause_texts]:
        as_typed = [[typed] * len(c) for c in clause_texts]
    clauses: list[tuple[Condition, ...]] = []
    for expressions, typed_expressions in zip(clause_texts, as_typed, strict=True):
        if any(not e.strip() or re.search(r"(?:^|\s)(?:and|or)$|^(?:and|or)(?:\s|$)", e.strip(), re.IGNORECASE)
               for e in expressions):
            raise FindSyntaxError(f"AND/OR needs a condition on both sides in '{_q(typed)}'")
        conjunctive = len(expressions) > 1
        conditions = [_condition(e.strip(), conjunctive, t.strip())
                      for e, t in zip(expressions, typed_expressions, strict=True)]
        targets = {c.target for c in conditions}
        if len(targets) > 1:
            node_c = next(c for c in conditions if c.target == "node")
            edge_c = next(c for c in conditions if c.target == "edge")
            raise FindSyntaxError(f"cannot AND node and edge conditions ('{_q(node_c.text)}' is about nodes, "
                                  f"'{_q(edge_c.text)}' about edges): use OR to combine them")
        clauses.append(tuple(conditions))
    return Matcher(text, tuple(clauses))


def validate(text: str) -> str | None:
    """The error message for ``text``, or None when it compiles (for live feedback while typing)."""
    try:
        compile_expression(text)
    except FindSyntaxError as exc:
        return exc.message
    return None
