"""Hand-made Istio telemetry for graph tests: a few label sets a user would recognise."""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.mesh.telemetry import Sample

CLUSTER = "east"


def labels(src: str | None, dst: str | None, *, ns: str = "shop", src_ns: str | None = None,
           dst_ns: str | None = None, service: str | None = None, reporter: str = "destination",
           **extra: str) -> dict[str, str]:
    """Labels of a series from workload ``src`` (None = unknown source) to workload ``dst`` behind
    ``service`` (None = service named after the workload without its version; dst None = no workload
    served it). Workloads are named ``<app>-<version>``."""
    src_ns = src_ns or ns
    dst_ns = dst_ns or ns
    out: dict[str, str] = {"reporter": reporter}
    if src is None:
        out.update(source_cluster=UNKNOWN_S, source_workload_namespace=UNKNOWN_S, source_workload=UNKNOWN_S,
                   source_canonical_service=UNKNOWN_S, source_canonical_revision=UNKNOWN_S)
    else:
        app, _, ver = src.rpartition("-")
        out.update(source_cluster=CLUSTER, source_workload_namespace=src_ns, source_workload=src,
                   source_canonical_service=app or src, source_canonical_revision=ver if app else "latest")
    svc = service or (dst.rpartition("-")[0] or dst if dst else "unknown")
    out.update(destination_cluster=CLUSTER, destination_service_namespace=dst_ns,
               destination_service=f"{svc}.{dst_ns}.svc.cluster.local", destination_service_name=svc)
    if dst is None:
        out.update(destination_workload_namespace=UNKNOWN_S, destination_workload=UNKNOWN_S,
                   destination_canonical_service=UNKNOWN_S, destination_canonical_revision=UNKNOWN_S)
    else:
        app, _, ver = dst.rpartition("-")
        out.update(destination_workload_namespace=dst_ns, destination_workload=dst,
                   destination_canonical_service=app or dst, destination_canonical_revision=ver if app else "latest")
    out.update(extra)
    return out


UNKNOWN_S = "unknown"


def http(src: str | None, dst: str | None, value: float, code: str = "200", *, flags: str = "-",
         protocol: str = "http", grpc_status: str = "0", **kw: Any) -> Sample:
    lab = labels(src, dst, **kw)
    lab.update(request_protocol=protocol, response_code=code, grpc_response_status=grpc_status,
               response_flags=flags)
    return Sample("istio_requests_total", lab, value)


def grpc(src: str | None, dst: str | None, value: float, status: str = "0", **kw: Any) -> Sample:
    return http(src, dst, value, "200", protocol="grpc", grpc_status=status, **kw)


def tcp(src: str | None, dst: str | None, value: float, metric: str = "istio_tcp_received_bytes_total",
        **kw: Any) -> Sample:
    lab = labels(src, dst, **kw)
    lab["response_flags"] = "-"
    return Sample(metric, lab, value)


def snapshot(samples: list[Sample], inventory: Inventory | None = None, **request: Any) -> Snapshot:
    request.setdefault("namespaces", ("shop",))
    request.setdefault("graphType", "workload")
    request.setdefault("cluster", CLUSTER)
    request.setdefault("injectServiceNodes", False)
    if isinstance(request.get("namespaces"), list):
        request["namespaces"] = tuple(request["namespaces"])
    return Snapshot(GraphRequest(**request), samples, inventory)
