"""Traffic graph building: ``build(snapshot) -> TrafficGraph`` (see ``builder`` for the passes)."""

from meshdesk.mesh.graph.builder import build

__all__ = ["build"]
