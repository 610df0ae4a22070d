"""Traces in Jaeger's query API JSON, shaped as Istio's Envoy proxies report them (bookinfo-like calls:
the ingress gateway, productpage, details, reviews v1/v2 and ratings), for the core and view tests."""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count(1)


def _tags(**tags: Any) -> list[dict[str, Any]]:
    out = []
    for key, value in tags.items():
        key = key.replace("__", ".")
        kind = "bool" if isinstance(value, bool) else "int64" if isinstance(value, int) else "string"
        out.append({"key": key, "type": kind, "value": value})
    return out


POD_IPS = {"productpage-v1-6b7f-abcde": "10.1.0.5", "details-v1-5f4d-fghij": "10.1.0.6",
           "reviews-v1-7d9c-klmno": "10.1.0.7", "reviews-v2-7d9c-pqrst": "10.1.0.8",
           "ratings-v1-8c4b-uvwxy": "10.1.0.9", "istio-ingressgateway-5c8f-zzzzz": "10.1.0.2"}


def _span(trace_id: str, parent: str, pid: str, op: str, start: int, duration: int, *, kind: str,
          pod: str, ns: str, app: str, version: str, url: str, code: int, flags: str = "-",
          upstream: str = "", proxy: str = "sidecar") -> dict[str, Any]:
    span_id = f"{next(_ids):016x}"
    node_id = f"{proxy}~{POD_IPS.get(pod, '10.9.9.9')}~{pod}.{ns}~{ns}.svc.cluster.local"
    tags = dict(node_id=node_id, component="proxy", http__method="GET", http__url=url, http__protocol="HTTP/1.1",
                http__status_code=str(code), response_flags=flags, upstream_cluster=upstream,
                istio__canonical_service=app, istio__canonical_revision=version, istio__namespace=ns,
                istio__mesh_id="cluster.local", span__kind=kind)
    if code >= 500 or code == 0:
        tags["error"] = True
    return {"traceID": trace_id, "spanID": span_id,
            "references": [{"refType": "CHILD_OF", "traceID": trace_id, "spanID": parent}] if parent else [],
            "operationName": op, "startTime": start, "duration": duration, "tags": _tags(**tags),
            "processID": pid, "logs": [], "warnings": None}


def bookinfo_trace(start_us: int, *, reviews: str = "v2", ratings_code: int = 200, slow_ms: int = 0,
                   trace_id: str | None = None) -> dict[str, Any]:
    """One request through the ingress gateway to productpage, which calls details and reviews (v2 and v3
    call ratings): a client and a server span per hop, as sidecars report them."""
    tid = trace_id or f"{next(_ids):032x}"
    procs = {"p1": ("istio-ingressgateway.istio-system", "istio-ingressgateway-5c8f-zzzzz"),
             "p2": ("productpage.bookinfo", "productpage-v1-6b7f-abcde"),
             "p3": ("details.bookinfo", "details-v1-5f4d-fghij"),
             "p4": ("reviews.bookinfo", f"reviews-{reviews}-7d9c-{'klmno' if reviews == 'v1' else 'pqrst'}"),
             "p5": ("ratings.bookinfo", "ratings-v1-8c4b-uvwxy")}
    processes = {pid: {"serviceName": name, "tags": _tags(hostname=pod, ip=POD_IPS.get(pod, ""))}
                 for pid, (name, pod) in procs.items()}
    host = "{}.bookinfo.svc.cluster.local:9080/*"
    spans = []
    t = start_us
    ratings_ms = 5 + slow_ms
    reviews_ms = 12 + (ratings_ms if reviews != "v1" else 0)
    total_ms = 30 + reviews_ms
    gw = _span(tid, "", "p1", host.format("productpage"), t, total_ms * 1000, kind="client",
               pod=procs["p1"][1], ns="istio-system", app="istio-ingressgateway", version="latest",
               url="http://bookinfo.example.com/productpage", code=200 if ratings_code < 500 else 200,
               upstream="outbound|9080||productpage.bookinfo.svc.cluster.local", proxy="router")
    spans.append(gw)
    pp = _span(tid, gw["spanID"], "p2", host.format("productpage"), t + 300, (total_ms - 1) * 1000, kind="server",
               pod=procs["p2"][1], ns="bookinfo", app="productpage", version="v1",
               url="http://bookinfo.example.com/productpage", code=200, upstream="inbound|9080||")
    spans.append(pp)
    dc = _span(tid, pp["spanID"], "p2", host.format("details"), t + 1000, 6000, kind="client", pod=procs["p2"][1],
               ns="bookinfo", app="productpage", version="v1", url="http://details:9080/details/0", code=200,
               upstream="outbound|9080||details.bookinfo.svc.cluster.local")
    ds = _span(tid, dc["spanID"], "p3", host.format("details"), t + 1400, 5000, kind="server", pod=procs["p3"][1],
               ns="bookinfo", app="details", version="v1", url="http://details:9080/details/0", code=200,
               upstream="inbound|9080||")
    spans += [dc, ds]
    rstart = t + 8000
    rc = _span(tid, pp["spanID"], "p2", host.format("reviews"), rstart, reviews_ms * 1000, kind="client",
               pod=procs["p2"][1], ns="bookinfo", app="productpage", version="v1", url="http://reviews:9080/reviews/0",
               code=200, upstream=f"outbound|9080|{reviews}|reviews.bookinfo.svc.cluster.local")
    rs = _span(tid, rc["spanID"], "p4", host.format("reviews"), rstart + 300, reviews_ms * 1000 - 600, kind="server",
               pod=procs["p4"][1], ns="bookinfo", app="reviews", version=reviews, url="http://reviews:9080/reviews/0",
               code=200, upstream="inbound|9080||")
    spans += [rc, rs]
    if reviews != "v1":
        flags = "UO" if ratings_code == 503 else "-"
        qc = _span(tid, rs["spanID"], "p4", host.format("ratings"), rstart + 2000, ratings_ms * 1000, kind="client",
                   pod=procs["p4"][1], ns="bookinfo", app="reviews", version=reviews, url="http://ratings:9080/ratings/0",
                   code=ratings_code, flags=flags, upstream="outbound|9080||ratings.bookinfo.svc.cluster.local")
        spans.append(qc)
        if ratings_code != 503:
            qs = _span(tid, qc["spanID"], "p5", host.format("ratings"), rstart + 2300, ratings_ms * 1000 - 500,
                       kind="server", pod=procs["p5"][1], ns="bookinfo", app="ratings", version="v1",
                       url="http://ratings:9080/ratings/0", code=ratings_code, upstream="inbound|9080||")
            spans.append(qs)
    return {"traceID": tid, "spans": spans, "processes": processes, "warnings": None}


def jaeger_answer(*traces: dict[str, Any], errors: list[Any] | None = None) -> dict[str, Any]:
    return {"data": list(traces), "total": 0, "limit": 0, "offset": 0, "errors": errors}
