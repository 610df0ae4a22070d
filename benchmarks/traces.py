"""How long do the most traces the Traces dock asks for take to read and show? (prints numbers; asserts nothing)

    QT_QPA_PLATFORM=offscreen python -m benchmarks.traces [traces, default 500] [hops, default 12]

A Jaeger query API answer of that many traces (the dock's largest limit), each a chain of ``hops``
sidecar hops (a client and a server span per hop, Istio's tags on each), is

- decoded with ``json.loads`` (for scale) and read into traces (``parse_jaeger``);
- handed to the real ``TracesView`` by a source that answers at once: the time from asking until the
  chart and table are filled, and the longest gap of a 5 ms heartbeat timer on the UI thread meanwhile
  (the longest the window was frozen);
- the trace with the most spans chosen: its span tree and tags filled.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MESHDESK_CONFIG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "meshdesk-bench"))

from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def answer(n_traces: int, hops: int, end_us: int) -> dict:
    data = []
    for t in range(n_traces):
        tid = f"{t + 1:032x}"
        start = end_us - (t + 1) * 1_000_000
        spans, processes, parent = [], {}, ""
        for h in range(hops):
            app = f"svc{h}"
            processes[f"p{h}"] = {"serviceName": f"{app}.bench", "tags": [{"key": "hostname", "value": f"{app}-v1-abc"}]}
            for kind in ("client", "server"):
                sid = f"{t:08x}{h:04x}{kind == 'server':04x}"
                who = h if kind == "client" else h + 1
                code = 503 if (t % 17 == 0 and h == hops - 1) else 200
                tags = [{"key": k, "type": "string", "value": v} for k, v in (
                    ("node_id", f"sidecar~10.0.{who // 250}.{who % 250}~svc{who}-v1-abc.bench~bench.svc.cluster.local"),
                    ("span.kind", kind), ("http.method", "GET"), ("http.url", f"http://svc{h + 1}:8080/api/{t}"),
                    ("http.status_code", str(code)), ("response_flags", "-"), ("component", "proxy"),
                    ("upstream_cluster", f"outbound|8080||svc{h + 1}.bench.svc.cluster.local"),
                    ("istio.canonical_service", f"svc{who}"), ("istio.namespace", "bench"))]
                if code >= 500:
                    tags.append({"key": "error", "type": "bool", "value": True})
                spans.append({"traceID": tid, "spanID": sid, "operationName": f"svc{h + 1}.bench.svc.cluster.local:8080/*",
                              "references": [{"refType": "CHILD_OF", "traceID": tid, "spanID": parent}] if parent else [],
                              "startTime": start + h * 1000 + (kind == "server") * 100, "duration": (hops - h) * 2000,
                              "tags": tags, "processID": f"p{who if who < hops else h}", "logs": []})
                parent = sid
        data.append({"traceID": tid, "spans": spans, "processes": processes})
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}


def main(argv: list[str]) -> int:
    n_traces = int(argv[0]) if argv else 500
    hops = int(argv[1]) if len(argv) > 1 else 12
    app = QApplication.instance() or QApplication([])

    from meshdesk.mesh import traces as tr
    from meshdesk.ui.traces_view import TracesView

    end = time.time()
    body = json.dumps(answer(n_traces, hops, int(end * 1e6))).encode()
    t0 = time.perf_counter()
    doc = json.loads(body)
    t1 = time.perf_counter()
    found = tr.parse_jaeger(doc)
    t2 = time.perf_counter()
    spans = sum(len(t.spans) for t in found.traces)
    print(f"{n_traces} traces x {hops} hops = {spans} spans, {len(body) / 2**20:.1f} MB of JSON")
    print(f"json.loads {1000 * (t1 - t0):.0f} ms; parse_jaeger {1000 * (t2 - t1):.0f} ms")

    class Source:
        def find_traces(self, query: tr.TraceQuery, cancelled: object = None) -> tr.TraceSet:
            return tr.parse_jaeger(doc)

        def trace(self, trace_id: str) -> None:
            return None

    view = TracesView()
    view.resize(1400, 700)
    view.set_end(end)
    view.set_source(Source())
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bench", "svc0", "svc0"))
    gaps: list[float] = []
    clock = QElapsedTimer()
    beat = QTimer()
    beat.setInterval(5)

    def tick() -> None:
        gaps.append(clock.restart())

    beat.timeout.connect(tick)
    done: list[float] = []
    view.loaded.connect(lambda _f: done.append(time.perf_counter()))

    def timed(start) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        done.clear()
        gaps.clear()
        clock.start()
        beat.start()
        asked = time.perf_counter()
        start()
        while not done:
            app.processEvents()
        beat.stop()
        return done[0] - asked, max(gaps, default=0.0)

    first, first_gap = timed(view.show)
    again, again_gap = timed(view.refresh.click)
    print(f"Traces dock, first shown: asked to filled {1000 * first:.0f} ms (the read on the worker thread "
          f"included), longest UI gap meanwhile {first_gap:.0f} ms (the dock's first layout and paint too)")
    print(f"Traces dock, Refresh: asked to filled {1000 * again:.0f} ms, longest UI gap meanwhile {again_gap:.0f} ms; "
          f"{view.table.rowCount()} rows")
    t3 = time.perf_counter()
    view.table.selectRow(0)
    app.processEvents()
    chosen = time.perf_counter() - t3
    print(f"a trace chosen: span tree of {len(view.trace.spans) if view.trace else 0} spans and tags in "
          f"{1000 * chosen:.0f} ms")
    view.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
