"""What every pass may read while a graph is built."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.graph.traffic import SampleIndex
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.telemetry import Sample, SampleWarnings


@dataclass
class PassContext:
    request: GraphRequest
    samples: list[Sample]
    index: SampleIndex
    inventory: Inventory | None = None
    warnings: SampleWarnings = field(default_factory=SampleWarnings)
    notes: list[str] = field(default_factory=list)  # non-sample warnings (e.g. unknown appender names)
    caches: dict[str, dict[Any, Any]] = field(default_factory=dict)  # label-set decisions, per build

    @property
    def namespaces(self) -> tuple[str, ...]:
        if self.request.node is not None:
            return (self.request.node.namespace,)
        return self.request.namespaces
