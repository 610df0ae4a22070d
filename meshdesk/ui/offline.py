"""A snapshot file opened as an offline MeshSource: the same window, no cluster behind it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from meshdesk.mesh.inventory import Namespace
from meshdesk.mesh.istio_status import ComponentStatus
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot, inventory_read_apart
from meshdesk.sources.base import SourceInfo


class SnapshotSource:
    """``snapshot()`` answers with the file's samples and inventory, shaped by the user's request
    (graph type, toggles); the namespaces default to the file's (``preferred_namespaces``). What the
    samples were queried for stays the file's: its time window, HTTP/gRPC/TCP rate choices, response
    time quantile and throughput kind (another choice would read data the file does not have and show
    wrong numbers). ``request`` is the file's, for the window to show the graph as it was saved.
    ``info().live`` is False."""

    def __init__(self, path: str | os.PathLike[str], snapshot: Snapshot | None = None) -> None:
        self.path = Path(path)
        if snapshot is None:
            from meshdesk.sources.snapshot import APP_MAX_BYTES, load_snapshot

            snapshot = load_snapshot(self.path, regular_only=True, max_bytes=APP_MAX_BYTES, beside_ui=True)
        self._snap = snapshot
        self._traffic_namespaces: list[str] | None = None

    def info(self) -> SourceInfo:
        meta = self._snap.meta or {}
        apart = inventory_read_apart(meta)
        # a snapshot saved while replaying: its traffic is of that moment, its workloads and config of
        # when it was saved (the file said the one moment, and a colleague took the inventory for its)
        read = ""
        if apart is not None:  # (the day once when both are of one day: the status bar is short)
            taken, inventory = apart
            read = f"; inventory read {inventory[11:] if inventory[:10] == taken[:10] else inventory}"
        return SourceInfo(
            context=f"snapshot {self.path.name}",
            cluster=str(meta.get("cluster") or self._snap.request.cluster),
            prometheus=f"none (offline snapshot, taken {self.taken() or 'at an unknown time'}{read})",
            live=False,
        )

    def recorded_addons(self) -> tuple[ComponentStatus, ...] | None:
        """The addons' states the window recorded when it saved the snapshot (Prometheus, the tracing
        backend, Grafana); None when it recorded none (one saved by an older meshdesk, or by the command
        line): they are then not known."""
        from meshdesk.ui.istio_status import RECORDED_ADDONS, from_recorded

        return from_recorded((self._snap.meta or {}).get(RECORDED_ADDONS))

    def taken(self) -> str:
        """When the snapshot was taken, as a person reads it ("2026-11-28 01:47 UTC"); "" when unknown."""
        meta = self._snap.meta or {}
        return _when(meta.get("taken_at") or meta.get("takenAt"))

    @property
    def request(self) -> GraphRequest:
        return self._snap.request

    def preferred_namespaces(self) -> list[str]:
        """The namespaces the graph was saved for (shown first, before any choice). A snapshot whose
        request names none (one made by hand, a conformance case) holds the traffic of every namespace
        its telemetry has workloads in, and its graph shows them all (as ``meshdesk graph --snapshot``
        draws it): those. A node graph's is its node's namespace."""
        saved = self._snap.request
        if saved.namespaces:
            return list(saved.namespaces)
        if saved.node is not None:
            return [saved.node.namespace]
        return list(self._names_in_traffic())

    def namespaces(self) -> list[Namespace]:
        """What the Namespaces menu offers: the request's, the inventory's, and for a request naming
        none, those its telemetry names (the menu was empty, with nothing to narrow the graph by). A node
        graph naming none was taken for its node's namespace: the other namespaces of its traffic are
        the node's neighbours, and one picked alone drew a part of that graph as if it were all."""
        inv = self._snap.inventory
        names = self.preferred_namespaces()
        if inv is not None:
            names += [n.name for n in inv.namespaces if n.name not in names]
        if not self._snap.request.namespaces and self._snap.request.node is None:
            names += [n for n in self._names_in_traffic() if n not in names]
        # with their labels where the file holds them (the Namespaces list says whether each is in the mesh)
        held = {n.name: n for n in inv.namespaces} if inv is not None else {}
        return [held.get(n) or Namespace(n) for n in names]

    def labelled_namespaces(self) -> list[str]:
        """The namespaces whose labels the file holds (those its inventory read); of the others, named by
        its request or its traffic alone, whether they are in the mesh is not known."""
        inv = self._snap.inventory
        return [n.name for n in inv.namespaces] if inv is not None else []

    def _names_in_traffic(self) -> list[str]:
        """The namespaces the telemetry has workloads in, as the graph picks them when none is chosen."""
        if self._traffic_namespaces is None:
            from meshdesk.mesh.graph import traffic

            self._traffic_namespaces = list(traffic.namespaces_in(
                traffic.index_samples(self._snap.samples, self._snap.request)))
        return list(self._traffic_namespaces)

    def snapshot(self, request: GraphRequest, *, with_inventory: bool = True,
                 cancelled: Callable[[], bool] | None = None) -> Snapshot:
        namespaces = request.namespaces or self._snap.request.namespaces
        saved = self._snap.request
        req = replace(request, namespaces=namespaces, queryTime=saved.queryTime, duration=saved.duration,
                      cluster=saved.cluster, rateHttp=saved.rateHttp, rateGrpc=saved.rateGrpc, rateTcp=saved.rateTcp,
                      responseTimeQuantile=saved.responseTimeQuantile, throughputType=saved.throughputType,
                      namespaceDurations=saved.namespaceDurations,
                      # the extensions whose series it was taken with (it holds no other's)
                      extensions=saved.extensions,
                      # the Prometheus query scope it was read with (saved again, the file still says it)
                      queryScope=saved.queryScope,
                      # judged as whoever saved it saw it (their cluster's Kiali tolerances); one saved with
                      # Kiali's defaults by the window's general ones
                      healthRates=saved.healthRates or request.healthRates,
                      # app boxes it asked for (the toolbar has no toggle of them), as the command line draws it
                      boxBy=request.boxBy + (("app",) if "app" in saved.boxBy and "app" not in request.boxBy
                                             else ()))
        inventory = self._snap.inventory
        if inventory is not None and request.namespaces:  # the chosen namespaces only, as a live read
            inventory = inventory.within(namespaces)
        return replace(self._snap, request=req, inventory=inventory if with_inventory else None)

    def close(self) -> None:
        pass


def _when(taken: object) -> str:
    """When a snapshot was taken, as a person reads it: its unix time (the demo writes one) or its ISO
    time (a cluster writes "2026-11-28T01:47:55Z") as UTC, other text as it is; "" when unknown."""
    if isinstance(taken, bool) or taken in (None, ""):
        return ""
    if isinstance(taken, int | float):
        try:
            return datetime.fromtimestamp(float(taken), tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        except (OverflowError, OSError, ValueError):
            return ""
    text = str(taken)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return text
    if at.tzinfo is None:
        return text  # a local time of some machine: said as written
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
