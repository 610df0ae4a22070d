"""Health tolerances: Kiali's defaults, and the rates a Kiali configuration sets (``health_config.rate``).

A tolerance says which response codes of which protocol and direction count against a node, and at
which share of its requests they make it Degraded or a Failure. Kiali judges every app, service and
workload by its default tolerances unless its configuration's ``health_config.rate`` list has an entry
whose ``namespace``, ``kind`` (``app``, ``service``, ``workload``) and ``name`` patterns all match it:
the first such entry's tolerances are used instead (Kiali appends its defaults as the last entry, so
anything no entry matches keeps them). A workload's or service's ``health.kiali.io/rate`` annotation
overrides both (``graph.health``).

    rates, problems = read_health_config(text)   # Kiali's CR, its ConfigMap, its config.yaml or the list
    request = GraphRequest(..., healthRates=tuple(rates))
    compiled = compile_rates(request.healthRates)
    compiled_tolerances(compiled, "shop", "service", "reviews")   # -> the tolerances of the first match

Patterns are regular expressions anchored and searched as Kiali does (``anchored``: in effect the whole
value, except around an alternation "a|b"); in a code
pattern ``X`` stands for any digit (``5XX``). Unlike Kiali, which logs a bad pattern and matches
anything with it, a bad entry is refused with what is wrong: a typo must not silently judge every
node by another rule.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml


@dataclass(frozen=True)
class Tolerance:
    code: re.Pattern[str]
    degraded: float
    failure: float
    protocol: re.Pattern[str]
    direction: re.Pattern[str]
    text: str = ""
    label: str = ""  # what a health reason calls the codes ("" : the code pattern as written)

    @property
    def codes_text(self) -> str:
        return self.label or self.text.split(",")[0] or "any code"  # (an empty code pattern matches them all)


def anchored(pattern: str, default: str = ".*") -> re.Pattern[str]:
    """``pattern`` as Kiali anchors it (``default`` when empty): "^" and "$" added where missing. Use it
    with ``search``, as Kiali's Go matcher looks for a match anywhere: in "prod|staging" the "^" binds
    to the first alternative and the "$" to the last, so "pre-staging" matches, as in Kiali. One that
    does not compile matches anything, as in Kiali (annotations: what is refused is refused before)."""
    pattern = pattern or default  # as Kiali: not trimmed (a spaced pattern matches what it says)
    if not pattern.startswith("^"):
        pattern = "^" + pattern
    if not pattern.endswith("$"):
        pattern += "$"
    try:
        return re.compile(pattern)
    except re.error:
        return re.compile("^.*$")


def code_pattern(code: str) -> str:
    """A code pattern as Kiali reads it: ``X`` (or ``x``) is any digit."""
    return code.replace("X", r"\d").replace("x", r"\d")


def as_float32(value: float) -> float | None:
    """``value`` as Kiali keeps a threshold: a 32-bit float (0.1 is then a hair above 0.1, so a share of
    exactly 0.1% stays under it); None when a 32-bit float cannot hold it (Kiali refuses it)."""
    try:
        held = float(struct.unpack("f", struct.pack("f", value))[0])
    except (OverflowError, struct.error):
        return None
    return None if math.isinf(held) and not math.isinf(value) else held


def held_threshold(value: float) -> float:
    """A threshold as Kiali holds it (``as_float32``), or as it is when too large for that."""
    held = as_float32(value)
    return value if held is None else held


def tolerance(code: str, degraded: float, failure: float, protocol: str, direction: str = ".*",
              label: str = "") -> Tolerance:
    """A tolerance, its thresholds held as Kiali holds them (``as_float32``; one too large for that is
    kept as it is: a share in percent never reaches it)."""
    return Tolerance(anchored(code_pattern(code)), held_threshold(degraded), held_threshold(failure),
                     anchored(protocol), anchored(direction),
                     f"{code},{degraded:g},{failure:g},{protocol},{direction}", label)


DEFAULT_TOLERANCES: tuple[Tolerance, ...] = (
    tolerance("5XX", 0, 10, "http"),
    tolerance("4XX", 10, 20, "http"),
    # Kiali's patterns; a health reason names them in words, not as regular expressions
    tolerance("^[1-9]$|^1[0-6]$", 0, 10, "grpc", label="errors (status 1-16)"),
    tolerance("^-$", 0, 10, "http|grpc", label="no response"),
)

KINDS = ("app", "service", "workload")  # what a rate's ``kind`` is matched against (Kiali's node types)
_RATE_KEYS = ("namespace", "kind", "name", "tolerance")
_TOLERANCE_KEYS = ("code", "degraded", "failure", "protocol", "direction")


@dataclass(frozen=True)
class HealthRate:
    """One entry of ``health_config.rate``, its patterns compiled."""

    namespace: re.Pattern[str]
    kind: re.Pattern[str]
    name: re.Pattern[str]
    tolerances: tuple[Tolerance, ...]

    def matches(self, namespace: str, kind: str, name: str) -> bool:
        return bool(self.namespace.search(namespace) and self.kind.search(kind) and self.name.search(name))


class HealthConfigError(ValueError):
    """A health configuration that cannot be used; its message names each problem."""


def _pattern_problem(pattern: str, code: bool = False) -> str:
    try:
        re.compile(code_pattern(pattern) if code else pattern)
    except re.error as e:
        return str(e)
    return ""


def _number(value: Any, where: str, problems: list[str]) -> float:
    if value is None:
        return 0.0  # as Kiali: a threshold left out is 0
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        problems.append(f"{where} must be a number of percent, not {value!r}")
        return 0.0
    try:
        number = float(value)
    except ValueError:
        problems.append(f"{where} must be a number of percent, not {value!r}")
        return 0.0
    # as Kiali: .inf is a threshold never reached ("never fail"); a negative share or NaN is refused (a
    # typo: Kiali would take a negative one as 0 and never reach NaN), and so is what a 32-bit float,
    # Kiali's threshold, cannot hold
    if math.isnan(number) or number < 0 or as_float32(number) is None:
        problems.append(f"{where} must be a share of requests in percent (0 or more), not {value!r}")
        return 0.0
    return number


def _text(value: Any, where: str, problems: list[str]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        problems.append(f"{where} must be a text (a regular expression), not {value!r}")
        return ""
    return str(value)  # a code written 500 in YAML is the text "500"


def _patterns(given: Mapping[Any, Any], what: str, fields: Sequence[str], patterns: Sequence[str], where: str,
              problems: list[str]) -> dict[str, Any]:
    """The pattern fields of a rate or a tolerance (``given``) as texts, each checked to be a regular
    expression (a code's ``X`` read as a digit); a problem for each field it has no such name for and
    each pattern that is none."""
    unknown = [str(k) for k in given if k not in fields]
    if unknown:
        problems.append(f"{where}: {', '.join(repr(k) for k in unknown)} is not a field of a {what} (they are "
                        f"{', '.join(fields)})")
    out: dict[str, Any] = {}
    for key in patterns:
        if given.get(key) is not None:
            text = _text(given[key], f"{where}.{key}", problems)
            bad = _pattern_problem(text, code=key == "code")
            if bad:
                problems.append(f"{where}.{key} {text!r} is not a regular expression: {bad}")
            out[key] = text
    return out


def normalize_rates(value: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """``health_config.rate`` as read from YAML or JSON, checked: each entry as a plain dict of the
    fields it gave (codes as texts, thresholds as numbers), and a message per problem (an entry with a
    problem is left out)."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        return [], [f"health_config.rate must be a list of rates, not {type(value).__name__}"]
    out: list[dict[str, Any]] = []
    problems: list[str] = []
    for i, rate in enumerate(value):
        where = f"rate[{i}]"
        mine: list[str] = []
        if not isinstance(rate, Mapping):
            problems.append(f"{where} must be a mapping with namespace, kind, name and tolerance")
            continue
        entry = _patterns(rate, "rate", _RATE_KEYS, ("namespace", "kind", "name"), where, mine)
        tolerances = rate.get("tolerance")
        if not isinstance(tolerances, list) or not tolerances:
            mine.append(f"{where} has no tolerance list: say which codes count against the apps, services or "
                        "workloads it matches (code, degraded, failure, protocol, direction)")
            tolerances = []
        entry["tolerance"] = []
        for j, t in enumerate(tolerances):
            at = f"{where}.tolerance[{j}]"
            if not isinstance(t, Mapping):
                mine.append(f"{at} must be a mapping with code, degraded, failure, protocol and direction")
                continue
            tol = _patterns(t, "tolerance", _TOLERANCE_KEYS, ("code", "protocol", "direction"), at, mine)
            for key in ("degraded", "failure"):
                tol[key] = _number(t.get(key), f"{at}.{key}", mine)
            entry["tolerance"].append(tol)
        if mine:
            problems += mine
        else:
            out.append(entry)
    return out, problems


def _rates_in(doc: Any) -> tuple[Any, str]:
    """Where a YAML document keeps the rate list: Kiali's CR (``spec.health_config``), its ConfigMap
    (``data["config.yaml"]``), a List of them (``kubectl get -o yaml``), its config (``health_config``), a
    ``rate`` mapping, or the list itself; (None, why) when it has none."""
    if isinstance(doc, list):
        return doc, ""
    if not isinstance(doc, Mapping):
        return None, "it holds no health_config.rate list"
    items = doc.get("items")
    if isinstance(items, list):  # kubectl get ... -o yaml of several (a List): the first that has rates
        for item in items:
            rates, why = _rates_in(item)
            if not why:
                return rates, ""
        return None, "none of its items holds a health_config.rate list"
    data = doc.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("config.yaml"), str):
        try:
            inner = yaml.safe_load(data["config.yaml"])
        except yaml.YAMLError as e:
            # where and what, not the YAML library's own text, which quotes the line: Kiali's config.yaml holds
            # Prometheus' and Grafana's passwords and tokens, and the line that did not parse may be one of them
            return None, f"its config.yaml is not YAML{_yaml_problem(e)}"
        return _rates_in(inner)
    spec = doc.get("spec")
    if isinstance(spec, Mapping) and "health_config" in spec:
        doc = spec
    config = doc.get("health_config")
    if isinstance(config, Mapping):
        doc = config
    if "rate" in doc:
        return doc["rate"], ""
    return None, "it holds no health_config.rate list"


def _yaml_problem(e: yaml.YAMLError) -> str:
    """`` (line 5, column 27): mapping values are not allowed here``: where and what, never the line itself."""
    mark = getattr(e, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{where}: {getattr(e, 'problem', None) or 'it cannot be read'}"


def read_health_config(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The rate list of a Kiali configuration given as YAML or JSON text (Kiali's CR, its ConfigMap, its
    ``config.yaml``, a ``health_config`` or ``rate`` mapping, or the list), checked as
    ``normalize_rates`` does; an empty text is no rates."""
    if not text.strip():
        return [], []
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        return [], [f"not YAML{_yaml_problem(e)}"]
    if doc is None:
        return [], []
    rates, why = _rates_in(doc)
    if why:
        return [], [why]
    return normalize_rates(rates)


def _compile_rate(rate: Mapping[str, Any]) -> HealthRate:
    tolerances = tuple(tolerance(str(t.get("code", "")), float(t.get("degraded", 0.0)), float(t.get("failure", 0.0)),
                                 str(t.get("protocol", "")), str(t.get("direction", "")))
                       for t in rate.get("tolerance", ()))
    return HealthRate(anchored(str(rate.get("namespace", ""))), anchored(str(rate.get("kind", ""))),
                      anchored(str(rate.get("name", ""))), tolerances)


@lru_cache(maxsize=16)
def _compiled(text: str) -> tuple[HealthRate, ...]:
    rates, problems = normalize_rates(json.loads(text))
    if problems:
        raise HealthConfigError("; ".join(problems))
    return tuple(_compile_rate(r) for r in rates)


def compile_rates(rates: Sequence[Mapping[str, Any]]) -> tuple[HealthRate, ...]:
    """The rates compiled (the same tuple, and so the same tolerance objects, for the same rates: a
    node's tolerances are compared by identity); raises HealthConfigError naming each problem."""
    if not rates:
        return ()
    try:
        text = json.dumps(list(rates), sort_keys=True)
    except (TypeError, ValueError) as e:
        raise HealthConfigError(f"health rates must be plain YAML or JSON data: {e}") from None
    return _compiled(text)


def rate_scope(rate: Mapping[str, Any]) -> str:
    """What a rate (as written) is about, in words: "shop \u00b7 service \u00b7 reviews", "any" for a
    field it leaves out."""
    return " \u00b7 ".join(str(rate.get(k) or "any") for k in ("namespace", "kind", "name"))


def compiled_tolerances(rates: Sequence[HealthRate], namespace: str, kind: str, name: str) -> tuple[Tolerance, ...]:
    """The tolerances of the first rate matching (namespace, kind, name); Kiali's defaults when none does."""
    for rate in rates:
        if rate.matches(namespace, kind, name):
            return rate.tolerances
    return DEFAULT_TOLERANCES
