"""Envoy access log lines read into their fields, and the Logs view's access log table: a sidecar's log
read as requests (code, flags and what they mean, duration, where each went), as Kiali's Logs tab reads
a proxy's lines. The lines come over the official client from the API emulator's pod log endpoint."""

from __future__ import annotations

import json
import time

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from meshdesk.mesh.access_log import RESPONSE_FLAGS, AccessEntry, parse, summary
from meshdesk.sources.logs import KubePodLogs
from meshdesk.ui.logs_view import ACCESS_COLUMNS, AccessLogModel, LogsView, display_text
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_logs import NS, POD, _pod_manifest, _workload

# Istio's default text format, an inbound request served, and an outbound one that found no healthy host
INBOUND = ('[2026-11-29T00:10:11.123Z] "GET /reviews/0 HTTP/1.1" 200 - via_upstream - "-" 0 295 24 23 "-" '
           '"Go-http-client/1.1" "7c1c9c1e-1f1a" "reviews:9080" "10.244.0.5:9080" inbound|9080|| 127.0.0.6:40313 '
           '10.244.0.5:9080 10.244.0.9:51866 outbound_.9080_.v2_.reviews.shop.svc.cluster.local default')
OUTBOUND = ('[2026-11-29T00:10:12.001Z] "GET /ratings/0 HTTP/1.1" 503 UH,URX no_healthy_upstream - "-" 0 19 3 - '
            '"-" "Go-http-client/1.1" "9d2e-22" "ratings:9080" "-" outbound|9080|v1|ratings.shop.svc.cluster.local '
            '- 10.96.0.12:9080 10.244.0.5:39842 - -')
TCP = ('[2026-11-29T00:10:13.500Z] "- - -" 0 - - - "-" 1500 31000 12001 - "-" "-" "-" "-" "10.244.0.7:27017" '
       'outbound|27017||mongodb.shop.svc.cluster.local 10.244.0.5:55010 10.96.0.40:27017 10.244.0.5:55008 - -')
ENVOY_DEFAULT = ('[2026-11-29T00:10:14.000Z] "POST /api HTTP/2" 404 NR 120 0 1 - "10.0.0.1" "curl/8.5" "r-1" '
                 '"api.example.com" "-"')
JSON_LINE = json.dumps({"start_time": "2026-11-29T00:10:15.000Z", "method": "PUT", "path": "/cart",
                        "protocol": "HTTP/1.1", "response_code": 504, "response_flags": "UT",
                        "duration": 15001, "upstream_cluster": "outbound|8080||cart.shop.svc.cluster.local",
                        "authority": "cart:8080", "request_id": "abc"})


def test_access_log_lines_are_read_into_their_fields() -> None:
    inbound = parse(INBOUND)
    assert inbound is not None
    assert (inbound.method, inbound.path, inbound.code, inbound.flags, inbound.duration_ms, inbound.direction) == \
        ("GET", "/reviews/0", 200, (), 24, "inbound")
    assert (inbound.upstream_ms, inbound.request_id, inbound.authority, inbound.route) == \
        (23, "7c1c9c1e-1f1a", "reviews:9080", "default")
    assert not inbound.failed
    outbound = parse(OUTBOUND)
    assert outbound is not None
    assert (outbound.code, outbound.flags, outbound.details, outbound.upstream_ms, outbound.direction) == \
        (503, ("UH", "URX"), "no_healthy_upstream", None, "outbound")
    assert outbound.upstream == "ratings.shop.svc.cluster.local:9080 (v1)" and outbound.failed
    tcp = parse(TCP)
    assert tcp is not None and (tcp.method, tcp.code, tcp.bytes_sent, tcp.duration_ms) == ("", 0, 31000, 12001)
    assert not tcp.failed, "a TCP connection's code 0 is no failed request"
    envoy = parse(ENVOY_DEFAULT)
    assert envoy is not None and (envoy.method, envoy.code, envoy.flags, envoy.bytes_received, envoy.authority) == \
        ("POST", 404, ("NR",), 120, "api.example.com")
    js = parse(JSON_LINE)
    assert js is not None and (js.method, js.code, js.flags, js.duration_ms, js.upstream) == \
        ("PUT", 504, ("UT",), 15001, "cart.shop.svc.cluster.local:8080")
    # the proxy's own messages, an app's lines, broken lines: not entries, never an exception
    for text in ("2026-11-29T00:00:00.000000Z\tinfo\txdsproxy\tconnected to upstream XDS server",
                 "INFO served review 3", "[2026] no request", '[x] "GET / HTTP/1.1" abc', "{not json", "{}",
                 '{"start_time": 1}', "", '[t] "GET', '[t] "GET /" 200'):
        got = parse(text)
        assert got is None or isinstance(got, AccessEntry), text
    assert parse('[t] "GET / HTTP/1.1" 200 -') == AccessEntry(start_time="t", method="GET", path="/",
                                                             protocol="HTTP/1.1", code=200)


def test_a_summary_counts_failures_and_says_what_the_flags_mean() -> None:
    entries = [e for e in (parse(INBOUND), parse(OUTBOUND), parse(OUTBOUND), parse(JSON_LINE)) if e is not None]
    text = summary(entries)
    assert text.startswith("4 requests; 3 5xx (75.0%); flags UH 2, URX 2, UT 1; duration p50 3 ms, p95 15001 ms")
    assert "upstream" in RESPONSE_FLAGS["UF"] and summary([]) == "no access log entries"


def test_the_logs_view_reads_a_sidecars_log_as_a_table(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """A sidecar's log is a wall of quoted fields; the table reads it as requests, failures in red, the
    flags' meaning a hover away, and says why an app container's log has none."""
    emu = kube_emulator
    emu.add(_pod_manifest())
    now = time.time()
    emu.add_pod_log(NS, POD, "reviews", ["INFO served review 1"], at=now - 30)
    emu.add_pod_log(NS, POD, "istio-proxy", [
        "2026-11-29T00:00:00.000000Z\tinfo\tEnvoy proxy is ready", INBOUND, OUTBOUND, TCP], at=now - 20)
    view = LogsView(KubePodLogs(emu.api_client()), follow_ms=50)
    qtbot.addWidget(view)
    view.show()  # in sight: a view out of sight does not follow
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        view.access.setChecked(True)
        assert view.pages.currentIndex() == 1
        assert view.access_model.rowCount() == 0
        assert "accessLogFile" in view.access_summary.text()  # the app's log: why there are none
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(1)  # the sidecar
        model = view.access_model
        rows = [[model.data(model.index(r, c)) for c in range(len(ACCESS_COLUMNS))] for r in range(model.rowCount())]
        assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows] == [
            ("inbound", "GET", "/reviews/0", "200", ""), ("outbound", "GET", "/ratings/0", "503", "UH,URX"),
            ("outbound", "", "", "0", "")]
        failed = model.data(model.index(1, 4), role=Qt.ItemDataRole.ForegroundRole)
        assert failed is not None and failed.name() == "#c9190b"
        tip = model.data(model.index(1, 5), role=Qt.ItemDataRole.ToolTipRole)
        assert tip.startswith("UH: no healthy upstream")
        assert view.access_summary.text().startswith("3 requests; 1 5xx (33.3%); flags UH 1, URX 1")
        # following adds to the table; "Only matching lines" narrows it as it narrows the text
        view.follow.setChecked(True)
        emu.add_pod_log(NS, POD, "istio-proxy", [OUTBOUND.replace("/ratings/0", "/ratings/7")])
        qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=10000)
        view.only_matching.setChecked(True)
        view.search.setText("/ratings/")
        assert [model.data(model.index(r, 3)) for r in range(model.rowCount())] == ["/ratings/0", "/ratings/7"]
        view.access.setChecked(False)
        assert view.pages.currentIndex() == 0 and "/ratings/7" in view.text.toPlainText()
    finally:
        view.shutdown()


def test_all_containers_merged_by_time_and_the_proxys_access_log_among_them(
        qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """Kiali's Logs tab shows the app's and the proxy's lines side by side: the app's error and the
    request that caused it, one under the other. The merged log marks each line with its container, in
    time order, follows both, and its proxy lines still read as an access log."""
    from meshdesk.sources.logs import ALL_CONTAINERS

    emu = kube_emulator
    emu.add(_pod_manifest())
    now = time.time()
    emu.add_pod_log(NS, POD, "reviews", ["INFO starting"], at=now - 40)
    emu.add_pod_log(NS, POD, "istio-proxy", [OUTBOUND], at=now - 30)
    emu.add_pod_log(NS, POD, "reviews", ["ERROR ratings unavailable"], at=now - 20)
    view = LogsView(KubePodLogs(emu.api_client()), follow_ms=50)
    qtbot.addWidget(view)
    view.show()  # in sight: a view out of sight does not follow
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        choices = [view.container.itemData(i) for i in range(view.container.count())]
        assert choices == ["reviews", "istio-proxy", ALL_CONTAINERS]
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(2)
        assert [ln.text[:40] for ln in view.lines] == [
            "[reviews] INFO starting", OUTBOUND.join(("[istio-proxy] ", ""))[:40], "[reviews] ERROR ratings unavailable"]
        assert view.default_file_name() == f"{POD}-all.log"
        view.access.setChecked(True)
        assert [e.path for e in view.access_entries()] == ["/ratings/0"]  # the proxy's line, its mark taken off
        view.follow.setChecked(True)
        emu.add_pod_log(NS, POD, "istio-proxy", [INBOUND])
        qtbot.waitUntil(lambda: view.access_model.rowCount() == 2, timeout=10000)
        assert view.lines[-1].text.startswith("[istio-proxy] [2026-11-29T00:10:11.123Z]")
    finally:
        view.shutdown()


def test_all_containers_leave_out_one_that_cannot_be_read_and_say_so(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """The previous run of all containers, when only the app restarted: the proxy has no previous run.
    The app's crash was read and the proxy named as not read; before, one container's error lost them all."""
    emu = kube_emulator
    manifest = _pod_manifest()
    manifest["status"] = {"phase": "Running", "containerStatuses": [
        {"name": "reviews", "ready": True, "restartCount": 1, "state": {"running": {}},
         "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}},
        {"name": "istio-proxy", "ready": True, "restartCount": 0, "state": {"running": {}}}]}
    emu.add(manifest)
    emu.add_pod_log(NS, POD, "reviews", ["panic: ratings client nil"], previous=True)
    view = LogsView(KubePodLogs(emu.api_client()), follow_ms=50)
    qtbot.addWidget(view)
    view.show()  # in sight: a view out of sight does not follow
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        view.previous.setChecked(False)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(2)  # all containers
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.previous.setChecked(True)
        assert [ln.text for ln in view.lines] == ["[reviews] panic: ratings client nil"]
        assert view.status.text() == (f"Not read: istio-proxy in {NS}/{POD} has not restarted: there is no previous "
                                      "run's log")
    finally:
        view.shutdown()


def test_the_demos_proxy_log_is_an_access_log_of_requests_into_the_pod() -> None:
    """The demo's sidecar lines read as Istio's access log: inbound requests to the pod's own address
    (it named a different address on each line) for its app's service."""
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster

    demo = DemoCluster(clock=lambda: 1_790_000_000.0)
    inv = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    pod = inv.workload("shop", "ratings-v1").pods[0]  # type: ignore[union-attr]
    entries = [parse(ln.text) for ln in demo.pod_logs("shop", pod.name, "istio-proxy", tail_lines=30)]
    assert entries and all(e is not None for e in entries)
    assert {(e.direction, e.upstream_host, e.authority) for e in entries if e is not None} == \
        {("inbound", f"{pod.ip}:9080", "ratings:9080")}


def test_odd_digits_and_a_line_that_ends_at_its_code_are_read_not_raised() -> None:
    """A number field holding a digit Python calls a digit but int() refuses ("²", "１２") read as no
    number (it raised ValueError in the logs view); a custom format that stops at the response code keeps
    it (the line was dropped)."""
    odd = INBOUND.replace(" 0 295 24 23 ", " 0 ² 24 23 ")
    entry = parse(odd)
    assert entry is not None and entry.bytes_sent is None and entry.duration_ms == 24
    doc = json.loads(JSON_LINE)
    entry = parse(json.dumps({**doc, "duration": "²", "bytes_sent": "１２"}))
    assert entry is not None and entry.duration_ms is None and entry.bytes_sent is None and entry.code == 504
    short = parse('[2026-11-29T00:10:16.000Z] "GET /é HTTP/1.1" 200')
    assert short is not None and (short.method, short.path, short.code, short.flags) == ("GET", "/é", 200, ())


def test_only_matching_lines_narrows_the_table_when_turned_on_and_says_when_the_search_leaves_none(
        qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """Turning "Only matching lines" on after typing the search narrows the table as it narrows the text
    (the table kept every entry); a search that leaves no entry says so, not that the proxy writes no
    access log (it told the user to set accessLogFile)."""
    emu = kube_emulator
    emu.add(_pod_manifest())
    emu.add_pod_log(NS, POD, "istio-proxy", [INBOUND, OUTBOUND, TCP], at=time.time() - 20)
    view = LogsView(KubePodLogs(emu.api_client()), follow_ms=50)
    qtbot.addWidget(view)
    view.show()  # in sight: a view out of sight does not follow
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(1)  # the sidecar
        view.access.setChecked(True)
        model = view.access_model
        assert model.rowCount() == 3
        view.search.setText("/ratings/")
        assert model.rowCount() == 3  # a search alone highlights, it does not filter
        view.only_matching.setChecked(True)
        assert [model.data(model.index(r, 3)) for r in range(model.rowCount())] == ["/ratings/0"]
        view.search.setText("<b>no-such-path</b>")
        assert model.rowCount() == 0
        assert "accessLogFile" not in view.access_summary.text()
        assert view.access_summary.text() == ("No access log entries with \u201c<b>no-such-path</b>\u201d "
                                              "(\u201cOnly matching lines\u201d is on)")
        view.only_matching.setChecked(False)
        assert model.rowCount() == 3
    finally:
        view.shutdown()


def test_json_numbers_written_as_floats_are_read() -> None:
    """A JSON encoder that writes numbers as floats (200.0, 12.5): they read as blank before."""
    e = parse(json.dumps({"start_time": "t", "method": "GET", "response_code": 200.0, "duration": 12.5,
                          "bytes_sent": 3.0, "upstream_cluster": "inbound|80||", "response_flags": "-"}))
    assert e is not None and (e.code, e.duration_ms, e.bytes_sent) == (200, 12, 3)
    bad = parse(json.dumps({"start_time": "t", "method": "GET", "response_code": -1.0, "duration": float("nan"),
                            "upstream_cluster": "x"}).replace("NaN", "1e999"))
    assert bad is not None and (bad.code, bad.duration_ms) == (None, None)


def test_a_quote_inside_a_quoted_field_is_read_as_part_of_it(qtbot: QtBot) -> None:
    """Envoy writes a field's value as it is, quotes included: a user agent ``curl/8 "x"`` or a path with
    a quoted query shifted every field after it (the response code became the path's tail, the request
    ID the user agent's) or dropped the line from the table. A closing quote is one followed by a space
    and the next field, or the end of the line."""
    agent = INBOUND.replace('"Go-http-client/1.1"', '"curl/8 "x""')
    path = OUTBOUND.replace('/ratings/0', '/ratings?q="a b"&id=7')
    both = INBOUND.replace('/reviews/0', '/say/"hi"').replace('"Go-http-client/1.1"', '"Mozilla/5.0 "x" y"')
    at_end = ENVOY_DEFAULT.replace('"-"', '"10.0.0.2"').replace('"api.example.com" "10.0.0.2"',
                                                                '"api.example.com" "a"b"')
    entries = [parse(line) for line in (agent, path, both, at_end)]
    assert all(e is not None for e in entries)
    e_agent, e_path, e_both, e_end = entries
    assert e_agent is not None and e_path is not None and e_both is not None and e_end is not None
    assert (e_agent.user_agent, e_agent.request_id, e_agent.authority, e_agent.upstream_cluster, e_agent.route) == \
        ('curl/8 "x"', "7c1c9c1e-1f1a", "reviews:9080", "inbound|9080||", "default")
    assert (e_path.method, e_path.path, e_path.protocol, e_path.code, e_path.flags, e_path.upstream) == \
        ("GET", '/ratings?q="a b"&id=7', "HTTP/1.1", 503, ("UH", "URX"), "ratings.shop.svc.cluster.local:9080 (v1)")
    assert (e_both.path, e_both.code, e_both.duration_ms, e_both.user_agent, e_both.request_id) == \
        ('/say/"hi"', 200, 24, 'Mozilla/5.0 "x" y', "7c1c9c1e-1f1a")
    assert (e_end.authority, e_end.upstream_host, e_end.code) == ("api.example.com", 'a"b', 404)
    # and as the table shows them
    model = AccessLogModel()
    model.set_entries([e for e in entries if e is not None])
    rows = [[model.data(model.index(r, c)) for c in range(len(ACCESS_COLUMNS))] for r in range(model.rowCount())]
    assert [(r[1], r[3], r[4], r[9]) for r in rows] == [
        ("inbound", "/reviews/0", "200", "7c1c9c1e-1f1a"), ("outbound", '/ratings?q="a b"&id=7', "503", "9d2e-22"),
        ("inbound", '/say/"hi"', "200", "7c1c9c1e-1f1a"), ("", "/api", "404", "r-1")]
    # a quoted field the line cut short keeps what it has
    cut = parse('[2026-11-29T00:10:11.123Z] "GET /a HTTP/1.1" 200 - via_upstream - "-" 0 295 24 23 "-" "curl/8 "x')
    assert cut is not None and cut.user_agent == 'curl/8 "x' and cut.code == 200


def test_only_matching_lines_keeps_the_same_lines_in_the_text_and_the_table(
        qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """The text matched the line as shown (its timestamp first), the table the raw line: a search for a
    line's timestamp kept it in the text and left the table empty. Both test the line as the text shows
    it, with the timestamp only while Timestamps is on, and the tooltip says so."""
    emu = kube_emulator
    emu.add(_pod_manifest())
    emu.add_pod_log(NS, POD, "istio-proxy", [INBOUND, OUTBOUND, TCP], at=time.time() - 20, spacing=1.0)
    view = LogsView(KubePodLogs(emu.api_client()), follow_ms=50)
    qtbot.addWidget(view)
    view.show()  # in sight: a view out of sight does not follow
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(1)  # the sidecar
        stamp = view.lines[1].timestamp[:19]  # the API's timestamp of the outbound request, to the second
        assert stamp and stamp not in OUTBOUND
        view.access.setChecked(True)
        view.only_matching.setChecked(True)
        view.search.setText(stamp)
        model = view.access_model
        assert [model.data(model.index(r, 3)) for r in range(model.rowCount())] == ["/ratings/0"]
        view.access.setChecked(False)
        assert [ln for ln in view.text.toPlainText().splitlines() if ln] == [display_text(view.lines[1])]
        # without timestamps shown, neither keeps a line for it
        view.timestamps.setChecked(False)
        assert view.text.toPlainText().strip() == ""
        view.access.setChecked(True)
        assert model.rowCount() == 0 and view.access_summary.text().startswith("No access log entries with")
        view.timestamps.setChecked(True)
        assert model.rowCount() == 1
        # a field of the line itself: the same rows in both
        view.search.setText("inbound|9080")
        assert [model.data(model.index(r, 3)) for r in range(model.rowCount())] == ["/reviews/0"]
        view.access.setChecked(False)
        assert len([ln for ln in view.text.toPlainText().splitlines() if ln]) == 1
        assert "timestamp" in view.only_matching.toolTip() and "access log table" in view.search.toolTip()
    finally:
        view.shutdown()


def test_a_line_of_json_nested_past_any_access_log_does_not_stop_the_table(
        qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """An app logging a deeply nested JSON document in its line (with the fields of an access log entry)
    raised out of the access log table (Python's JSON reader gives up on depth with another error than
    for bad JSON): the table was left empty, and each poll raised again. The line is no entry; the
    others are read."""
    emu = kube_emulator
    emu.add(_pod_manifest())
    nested = '{"start_time": "t", "method": "GET", "response_code": 200, "body": ' + "[" * 50_000 + "]" * 50_000 + "}"
    emu.add_pod_log(NS, POD, "istio-proxy", [INBOUND, nested, OUTBOUND], at=time.time() - 20)
    view = LogsView(KubePodLogs(emu.api_client()), follow_ms=50)
    qtbot.addWidget(view)
    view.show()  # in sight: a view out of sight does not follow
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(1)  # the sidecar
        view.access.setChecked(True)
        model = view.access_model
        assert [model.data(model.index(r, 3)) for r in range(model.rowCount())] == ["/reviews/0", "/ratings/0"]
        assert view.access_summary.text().startswith("2 requests")
    finally:
        view.shutdown()
