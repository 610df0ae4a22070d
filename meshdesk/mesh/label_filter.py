"""Label selectors as ``kubectl get -l`` reads them, for the lists' filter: ``app=reviews``,
``version!=v1``, ``app in (reviews, ratings)``, ``tier notin (db)``, ``app`` (has the label), ``!version``
(has it not); terms joined by commas must all hold.

    selector = parse_label_selector("app=reviews,version!=v1")   # None: the text is no selector
    selector.matches({"app": "reviews", "version": "v2"})        # True

A text is taken as a selector only when one of its terms has an operator (``=``, ``!=``, ``!``, ``in``,
``notin``): a bare word is a name to look for, not "has this label". An app's labels have several
values (its workloads' and services', joined by commas, which no label value holds): ``version=v1``
holds when one of them is ``v1``, ``version!=v1`` when none is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_KEY = r"[A-Za-z0-9][A-Za-z0-9_./-]*"
_VALUE = r"[A-Za-z0-9_.-]*"
_EQUALS = re.compile(rf"^({_KEY})\s*(!=|==|=)\s*({_VALUE})$")
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^()]*)\)$")
_HAS = re.compile(rf"^(!?)\s*({_KEY})$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "in" (=, ==, in), "notin" (!=, notin), "exists", "!" (does not exist)
    values: frozenset[str] = frozenset()

    def holds(self, labels: Mapping[str, str]) -> bool:
        have = labels.get(self.key)
        if self.op == "exists":
            return have is not None
        if self.op == "!":
            return have is None
        found = have is not None and any(v in self.values for v in have.split(","))
        return found if self.op == "in" else not found


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.holds(labels) for r in self.requirements)


def _terms(text: str) -> list[str]:
    """The comma-separated terms, commas inside ``( )`` kept in their term."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [t.strip() for t in out]


def parse_label_selector(text: str) -> LabelSelector | None:
    """The selector ``text`` writes, or None when it writes none (no term with an operator, or a term
    kubectl would refuse)."""
    requirements = []
    operator = False
    for term in _terms(text.strip()):
        if m := _EQUALS.match(term):
            key, op, value = m.groups()
            requirements.append(Requirement(key, "notin" if op == "!=" else "in", frozenset((value,))))
            operator = True
        elif m := _SET.match(term):
            key, op, values = m.groups()
            parts = frozenset(v.strip() for v in values.split(","))
            if not all(re.fullmatch(_VALUE, v) for v in parts):
                return None
            requirements.append(Requirement(key, op, parts))
            operator = True
        elif m := _HAS.match(term):
            negated, key = m.groups()
            requirements.append(Requirement(key, "!" if negated else "exists"))
            operator = operator or bool(negated)
        else:
            return None
    return LabelSelector(tuple(requirements)) if operator else None
