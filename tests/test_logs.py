"""Pod logs: the official client against the API emulator's log endpoint, following without
duplicates, the logs view (pods, containers with the sidecar, tail, follow, search) and demo logs."""

from __future__ import annotations

import dataclasses
import time

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from meshdesk.mesh.inventory import Container, Pod, Workload
from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.base import NotFound, SourceError
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.logs import KubePodLogs, LogFollower, LogLine
from meshdesk.ui.logs_view import LogsView
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

NS, POD = "shop", "reviews-v2-7d9f8-abcde"


def _pod_manifest() -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": POD, "namespace": NS, "labels": {"app": "reviews"}},
            "spec": {"containers": [{"name": "reviews", "image": "example/reviews:2"},
                                    {"name": "istio-proxy", "image": "istio/proxyv2:1.24.0"}]},
            "status": {"phase": "Running"}}


def _workload() -> Workload:
    pod = Pod(POD, NS, labels={"app": "reviews"}, phase="Running",
              containers=[Container("reviews", ready=True), Container("istio-proxy", ready=True)])
    return Workload("reviews-v2", NS, labels={"app": "reviews", "version": "v2"}, pods=[pod], replicas=1)


@pytest.fixture
def emu(kube_emulator: KubeEmulator) -> KubeEmulator:
    kube_emulator.add(_pod_manifest())
    now = time.time()
    kube_emulator.add_pod_log(NS, POD, "reviews", [f"INFO served review {i}" for i in range(50)], at=now - 30)
    kube_emulator.add_pod_log(NS, POD, "istio-proxy", [
        '"GET /reviews/0 HTTP/1.1" 200 - via_upstream', '"GET /reviews/1 HTTP/1.1" 503 UF via_upstream',
        '"GET /reviews/2 HTTP/1.1" 200 - via_upstream', '"GET /reviews/3 HTTP/1.1" 503 UF via_upstream'], at=now - 20)
    return kube_emulator


def test_reads_tail_and_errors_over_the_official_client(emu: KubeEmulator) -> None:
    logs = KubePodLogs(emu.api_client())
    lines = logs.pod_logs(NS, POD, "reviews", tail_lines=5)
    assert [ln.text for ln in lines] == [f"INFO served review {i}" for i in range(45, 50)]
    assert all(ln.timestamp.endswith("Z") and ln.unix > time.time() - 120 for ln in lines)
    proxy = logs.pod_logs(NS, POD, "istio-proxy", tail_lines=100)
    assert len(proxy) == 4 and "503 UF" in proxy[1].text
    with pytest.raises(SourceError) as err:
        logs.pod_logs(NS, POD, "", tail_lines=5)  # two containers: the API wants a name
    assert "container name must be specified" in str(err.value)
    with pytest.raises(NotFound):
        logs.pod_logs(NS, "gone-pod", "reviews")
    assert any(path.endswith(f"/pods/{POD}/log") for _, path in emu.calls)


def test_following_gets_only_new_lines(emu: KubeEmulator) -> None:
    follower = LogFollower(KubePodLogs(emu.api_client()), NS, POD, "reviews", tail_lines=3)
    assert [ln.text for ln in follower.start()] == ["INFO served review 47", "INFO served review 48",
                                                   "INFO served review 49"]
    assert follower.poll() == []
    emu.add_pod_log(NS, POD, "reviews", ["INFO new one", "WARN new two"])
    assert [ln.text for ln in follower.poll()] == ["INFO new one", "WARN new two"]
    assert follower.poll() == []


@pytest.mark.parametrize("behind_s", [8, 60, 3600])
def test_following_survives_a_clock_behind_the_cluster(emu: KubeEmulator, behind_s: int) -> None:
    """Our clock behind the cluster's (a laptop's drifted clock): the next lines are asked for from the
    last line's time by the cluster's clock (the API server's Date), so none are missed. A number of
    seconds worked out from our clock with a fixed margin missed them beyond the margin."""
    logs = KubePodLogs(emu.api_client(), clock=lambda: time.time() - behind_s)
    follower = LogFollower(logs, NS, POD, "reviews", tail_lines=1)
    assert [ln.text for ln in follower.start()] == ["INFO served review 49"]  # written 30 s ago
    emu.add_pod_log(NS, POD, "reviews", ["INFO between"], at=time.time() - 26)  # 4 s after it, by the node
    emu.add_pod_log(NS, POD, "reviews", ["INFO now"])
    assert [ln.text for ln in follower.poll()] == ["INFO between", "INFO now"]
    assert follower.poll() == []
    assert logs.server_offset == pytest.approx(behind_s, abs=2)


def test_follow_keeps_lines_whole(emu: KubeEmulator) -> None:
    """A carriage return or a Unicode separator inside a line is the container's text, not a new line
    (the part after it was lost while following)."""
    follower = LogFollower(KubePodLogs(emu.api_client()), NS, POD, "reviews", tail_lines=1)
    follower.start()
    odd = ["progress 10%\rprogress 100% done", "page\x0cbreak", "a\u2028b", "c\x85d", "e\x1cf"]
    emu.add_pod_log(NS, POD, "reviews", odd)
    assert [ln.text for ln in follower.poll()] == odd


def test_a_follow_poll_reads_a_bounded_amount_and_goes_on(emu: KubeEmulator, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One poll reads at most POLL_LIMIT_BYTES, cut at a whole line, and the next goes on from there;
    more than that in one second (which the API cannot start inside) is read whole, not stuck on."""
    from meshdesk.sources import logs as logs_module

    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo", "namespace": NS},
             "spec": {"containers": [{"name": "app", "image": "example/app:1"}]}, "status": {"phase": "Running"}})
    now = time.time()
    emu.add_pod_log(NS, "solo", "app", ["first"], at=now - 80)
    follower = LogFollower(KubePodLogs(emu.api_client()), NS, "solo", "app", tail_lines=1)
    assert [ln.text for ln in follower.start()] == ["first"]
    monkeypatch.setattr(logs_module, "POLL_LIMIT_BYTES", 200)
    # one every 5 s (more than the few seconds a poll reaches back), ~85 bytes each
    spread = [f"INFO line {i:03d} " + "x" * 40 for i in range(12)]
    emu.add_pod_log(NS, "solo", "app", spread, at=now - 75, spacing=5.0)
    got: list[str] = []
    while batch := follower.poll():
        assert len(batch) <= 2  # 200 bytes: the last line seen again and at most one more
        got += [ln.text for ln in batch]
    assert got == spread
    burst = [f"WARN burst {i:03d} " + "y" * 40 for i in range(10)]  # all in one millisecond
    emu.add_pod_log(NS, "solo", "app", burst, at=now - 5)
    got = []
    while batch := follower.poll():
        got += [ln.text for ln in batch]
    assert got == burst


def _solo_pod(emu: KubeEmulator) -> None:
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo", "namespace": NS},
             "spec": {"containers": [{"name": "app", "image": "example/app:1"}]}, "status": {"phase": "Running"}})


@pytest.mark.parametrize("lines", [
    ["STACK " + "z" * 300, "after the big one"],  # one line longer than the limit
    [f"警告 {i:03d} " + "日本語のログ" * 6 for i in range(10)],  # a burst of ~3-byte characters, one second
])
def test_follow_gets_past_what_fills_a_poll(emu: KubeEmulator, monkeypatch, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    """A read cut at its limit with nothing new in it (one line longer than the limit, or lines of the
    second already seen) is read again whole: following stopped for good there."""
    from meshdesk.sources import logs as logs_module

    _solo_pod(emu)
    now = time.time()
    emu.add_pod_log(NS, "solo", "app", ["first"], at=now - 60)
    follower = LogFollower(KubePodLogs(emu.api_client()), NS, "solo", "app", tail_lines=1)
    assert [ln.text for ln in follower.start()] == ["first"]
    monkeypatch.setattr(logs_module, "POLL_LIMIT_BYTES", 250)
    emu.add_pod_log(NS, "solo", "app", lines, at=now - 5)
    got: list[str] = []
    while batch := follower.poll():
        got += [ln.text for ln in batch]
    assert got == lines


@pytest.mark.parametrize("date", ["Fri, 27 Nov 2026 10:00:00 GMT", "Fri, 27 Nov 2026 10:00:00 -0000"])
def test_the_servers_clock_is_read_from_its_date_header(date: str) -> None:
    class Answer:
        headers = {"Date": date}

    logs = KubePodLogs(None, clock=lambda: 1_795_773_600.0 - 60)  # 2026-11-27T10:00:00Z, a minute behind
    logs._learn_server_clock(Answer())
    assert logs.server_offset == pytest.approx(60)


def test_lines_nanoseconds_apart_are_told_apart() -> None:
    class Source:
        answer: list[LogLine] = []

        def pod_logs(self, *args: object, **kwargs: object) -> list[LogLine]:
            return list(self.answer)

    src = Source()
    follower = LogFollower(src, NS, POD, "reviews")
    src.answer = [LogLine("2026-11-27T10:00:00.123456789Z", "tick")]
    assert [ln.text for ln in follower.start()] == ["tick"]
    src.answer = [LogLine("2026-11-27T10:00:00.123456789Z", "tick"), LogLine("2026-11-27T10:00:00.1234568Z", "tick")]
    assert [ln.timestamp for ln in follower.poll()] == ["2026-11-27T10:00:00.1234568Z"]
    assert follower.poll() == []


def _view(qtbot: QtBot, source: object) -> LogsView:
    view = LogsView(source, follow_ms=50)
    qtbot.addWidget(view)
    view.show()  # in sight: a view out of sight does not follow
    return view


def test_logs_view_tails_switches_container_follows_and_searches(qtbot: QtBot, emu: KubeEmulator) -> None:
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        view.tail.setValue(10)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        assert view.container.currentText() == "reviews"  # the app container first
        assert [view.container.itemText(i) for i in range(view.container.count())] == [
            "reviews", "istio-proxy", "all containers, by time"]
        assert len(view.lines) == 10 and "INFO served review 49" in view.text.toPlainText()
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(1)  # the sidecar
        assert "INFO served" not in view.text.toPlainText() and len(view.lines) == 4
        qtbot.keyClicks(view.search, "503 UF")
        assert view.matches.text() == "2 matches" and view.highlighted() == ["503 UF", "503 UF"]
        # the marks are readable in either theme: dark text on their yellow (the dark theme's white was not)
        marks = view.text.extraSelections()
        assert marks and all(m.format.foreground().style() != Qt.BrushStyle.NoBrush  # not the theme's text colour
                             and m.format.foreground().color().lightness() < 60
                             and m.format.background().color().lightness() > 150 for m in marks)
        assert view.find_next()
        view.follow.setChecked(True)
        emu.add_pod_log(NS, POD, "istio-proxy", ['"GET /reviews/9 HTTP/1.1" 503 UF via_upstream'])
        qtbot.waitUntil(lambda: len(view.lines) == 5, timeout=10000)
        assert view.matches.text() == "3 matches"
        assert view.text.toPlainText().count("/reviews/9") == 1
    finally:
        view.shutdown()


def test_logs_view_keeps_text_when_the_pod_goes(qtbot: QtBot, emu: KubeEmulator) -> None:
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        before = view.text.toPlainText()
        emu.delete("pods", NS, POD)
        with qtbot.waitSignal(view.failed, timeout=10000):
            view.follow.setChecked(True)
        view.follow.setChecked(False)
        assert view.text.toPlainText() == before
        assert view.status.text().startswith("Could not read the log:")
    finally:
        view.shutdown()


def test_demo_logs_in_the_view(qtbot: QtBot) -> None:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    workload = snap.inventory.workload("shop", "reviews-v3")
    assert workload is not None and workload.pods
    view = _view(qtbot, demo)
    try:
        view.tail.setValue(20)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(workload)
        assert len(view.lines) == 20
        # reviews logs the requests it serves (its callers' operations) and health checks, nothing else
        served = {ln.text.split(" handled ")[1].split(" in ")[0] for ln in view.lines}
        assert served == {"GET /reviews/4", "GET /healthz"}, served
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(view.container.findText("istio-proxy"))
        assert {ln.text.split('"')[1] for ln in view.lines} <= {"GET /reviews/4 HTTP/1.1", "GET /healthz HTTP/1.1"}
        with pytest.raises(NotFound):
            demo.pod_logs("shop", "no-such-pod", "istio-proxy")
    finally:
        view.shutdown()


class _FakeLogs:
    """A log source answering every pod and container with ``count`` numbered lines."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.asked: list[str] = []

    def pod_logs(self, namespace: str, pod: str, container: str, tail_lines: int | None = None,
                 since_seconds: int | None = None, since_time: str | None = None,
                 limit_bytes: int | None = None, previous: bool = False) -> list[LogLine]:
        self.asked.append(pod)
        if since_time is not None:
            return []
        return [LogLine(f"2026-11-27T10:00:{i % 60:02d}.{i:09d}Z", f"{pod} line {i}") for i in range(self.count)]


def _pod(name: str) -> Pod:
    return Pod(name, NS, labels={"app": "reviews"}, phase="Running", containers=[Container("reviews", ready=True)])


def test_logs_view_keeps_as_many_lines_as_it_shows(qtbot: QtBot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The text keeps the last MAX_LINES lines; the lines searched and counted are the same ones (the
    list behind kept every line ever followed), and a count past the marked matches says so."""
    from meshdesk.ui import logs_view

    monkeypatch.setattr(logs_view, "MAX_LINES", 100)
    monkeypatch.setattr(logs_view, "MAX_HIGHLIGHTS", 10)
    view = _view(qtbot, _FakeLogs(150))
    try:
        view.tail.setValue(150)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("reviews-v2", NS, pods=[_pod("p1")]))
        assert len(view.lines) == 100 == view.text.document().blockCount()
        assert view.lines[0].text == "p1 line 50"
        qtbot.keyClicks(view.search, "line")
        assert view.match_count() == 100
        assert view.matches.text() == "100 matches (the first 10 marked)"
    finally:
        view.shutdown()


def test_logs_view_offers_a_workloads_new_pods_after_a_rollout(qtbot: QtBot) -> None:
    src = _FakeLogs(3)
    view = _view(qtbot, src)
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("reviews-v2", NS, pods=[_pod("reviews-v2-old")]))
        text = view.text.toPlainText()
        view.update_pods(Workload("reviews-v2", NS, pods=[_pod("reviews-v2-new")]))
        items = [view.pod.itemText(i) for i in range(view.pod.count())]
        # the new pod is offered; the one being read stays chosen with what was read from it
        assert items == ["reviews-v2-new", "reviews-v2-old (gone)"]
        assert view.pod.currentText() == "reviews-v2-old (gone)" and view.text.toPlainText() == text
        # a pod gone is not followed any more (each poll failed, every two seconds): it says what to do
        asked = len(src.asked)
        view.follow.setChecked(True)
        view.timer.timeout.emit()
        assert view.isVisible()
        assert "reviews-v2-old is gone" in view.status.text() and "reviews-v2-new" in view.status.text()
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.pod.setCurrentIndex(0)
        assert "reviews-v2-new line 0" in view.text.toPlainText()
        assert "reviews-v2-old" not in src.asked[asked:]  # (the log thread takes its jobs in order)
        asked = len(src.asked)
        view.update_pods(Workload("reviews-v2", NS, pods=[_pod("reviews-v2-new")]))  # nothing changed
        assert len(src.asked) == asked and view.pod.currentText() == "reviews-v2-new"
    finally:
        view.shutdown()


def test_a_container_not_started_yet_is_said_so_and_followed_once_it_runs(qtbot: QtBot, emu: KubeEmulator) -> None:
    """A pending pod's container (image still pulling) has no log: the API's 400 was shown as "rejected
    as invalid", as if the request were wrong. Following picks the log up once the container runs."""
    waiting = {"name": "app", "ready": False, "restartCount": 0,
               "state": {"waiting": {"reason": "ContainerCreating"}}}
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "starting", "namespace": NS},
             "spec": {"containers": [{"name": "app", "image": "example/app:1"}]},
             "status": {"phase": "Pending", "containerStatuses": [waiting]}})
    with pytest.raises(SourceError) as err:
        KubePodLogs(emu.api_client()).pod_logs(NS, "starting", "app", tail_lines=10)
    assert str(err.value) == f"app in {NS}/starting has not started yet (ContainerCreating): it has no log until it runs"
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        pod = Pod("starting", NS, phase="Pending", containers=[Container("app", state="waiting:ContainerCreating")])
        with qtbot.waitSignal(view.failed, timeout=10000):
            view.set_workload(Workload("starting", NS, pods=[pod]))
        assert "rejected" not in view.status.text() and "has not started yet" in view.status.text()
        view.follow.setChecked(True)
        emu.get("pods", NS, "starting")["status"] = {"phase": "Running", "containerStatuses": [
            {**waiting, "ready": True, "state": {"running": {"startedAt": "2026-11-27T10:00:00Z"}}}]}
        emu.add_pod_log(NS, "starting", "app", ["INFO up"])
        qtbot.waitUntil(lambda: [ln.text for ln in view.lines] == ["INFO up"], timeout=10000)
        assert view.status.isHidden()
    finally:
        view.shutdown()


class _Lines:
    """A log source answering every container with the given lines (stamped a millisecond apart)."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def pod_logs(self, namespace: str, pod: str, container: str, tail_lines: int | None = None,
                 since_seconds: int | None = None, since_time: str | None = None,
                 limit_bytes: int | None = None) -> list[LogLine]:
        if since_time is not None:
            return []
        return [LogLine(f"2026-11-27T10:00:00.{i:03d}Z", t) for i, t in enumerate(self.texts)][-(tail_lines or 0):]


def test_one_log_line_is_one_line_of_text(qtbot: QtBot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A carriage return (a progress bar), a Unicode paragraph separator or Qt's own frame marks in a line
    broke it in two in the text: the second part without its timestamp, as if another line, and the
    text, which keeps MAX_LINES lines of text, kept fewer log lines than the view searched and counted."""
    from meshdesk.ui import logs_view

    monkeypatch.setattr(logs_view, "MAX_LINES", 6)
    odd = ["progress 10%\rprogress 100%", "one\u2029two", "a\ufdd0b\ufdd1c", "three\u2028four"]
    view = _view(qtbot, _Lines([f"plain {i}" for i in range(6)] + odd))
    try:
        view.tail.setValue(10)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("reviews-v2", NS, pods=[_pod("p1")]))
        shown = view.text.toPlainText().split("\n")
        assert len(view.lines) == 6 == view.text.document().blockCount() == len(shown)
        assert [s.split(" ", 1)[0] for s in shown] == [ln.timestamp for ln in view.lines]
        assert shown[-4:] == ["2026-11-27T10:00:00.006Z progress 10%\u240dprogress 100%",
                              "2026-11-27T10:00:00.007Z one\u00b6two", "2026-11-27T10:00:00.008Z a\ufffdb\ufffdc",
                              "2026-11-27T10:00:00.009Z three\u2424four"]
        assert view.lines[-4].text == odd[0]  # the lines themselves as the container wrote them
    finally:
        view.shutdown()


def test_colour_codes_are_not_shown(qtbot: QtBot) -> None:
    """A container logging in colour (many do, with a terminal or FORCE_COLOR) showed its escape codes
    as "[32mINFO[0m" around an unprintable character; the lines kept are still the container's own."""
    coloured = ["\x1b[32mINFO\x1b[0m ready", "\x1b[1;31mERROR\x1b[m failed \x1b]8;;https://x.example/\x1b\\link\x1b]8;;\x1b\\",
                "\x1b[2K\x1b[1Gdone", "no [32m escape"]
    view = _view(qtbot, _Lines(coloured))
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("reviews-v2", NS, pods=[_pod("p1")]))
        assert [s.split(" ", 1)[1] for s in view.text.toPlainText().split("\n")] == [
            "INFO ready", "ERROR failed link", "done", "no [32m escape"]
        assert "\x1b" not in view.text.toPlainText() and [ln.text for ln in view.lines] == coloured
        qtbot.keyClicks(view.search, "32m")
        assert view.matches.text() == "1 match" and view.match_count() == 1
    finally:
        view.shutdown()


def test_a_count_past_the_marked_matches_counts_what_is_marked(qtbot: QtBot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Searching for a time ("T10:00") marks the timestamps; past MAX_HIGHLIGHTS the count was taken
    from the lines' text alone and said "0 matches (the first 5000 marked)"."""
    from meshdesk.ui import logs_view

    monkeypatch.setattr(logs_view, "MAX_HIGHLIGHTS", 10)
    view = _view(qtbot, _Lines([f"served {i}" for i in range(30)]))
    try:
        view.tail.setValue(30)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("reviews-v2", NS, pods=[_pod("p1")]))
        qtbot.keyClicks(view.search, "t10:00:00.0")
        assert view.matches.text() == "30 matches (the first 10 marked)"
    finally:
        view.shutdown()


def test_the_previous_run_of_a_restarted_container(qtbot: QtBot, emu: KubeEmulator) -> None:
    """A crash-looping container's reason is in the log of its run before the restart (kubectl logs
    --previous, k9s and Lens offer it); there was no way to read it. One that has not restarted says so."""
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crashy", "namespace": NS},
             "spec": {"containers": [{"name": "app", "image": "example/app:1"}]},
             "status": {"phase": "Running", "containerStatuses": [
                 {"name": "app", "ready": False, "restartCount": 3,
                  "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                  "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}})
    now = time.time()
    emu.add_pod_log(NS, "crashy", "app", ["starting", "panic: no database"], at=now - 60, previous=True)
    emu.add_pod_log(NS, "crashy", "app", ["starting again"], at=now - 5)
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        pod = Pod("crashy", NS, phase="Running", containers=[Container("app", restarts=3, state="waiting:CrashLoopBackOff")])
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("crashy", NS, pods=[pod]))
        assert [ln.text for ln in view.lines] == ["starting again"]
        view.follow.setChecked(True)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.previous.setChecked(True)
        assert [ln.text for ln in view.lines] == ["starting", "panic: no database"]
        assert not view.follow.isChecked() and not view.follow.isEnabled()  # an ended run writes no more
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.previous.setChecked(False)
        assert [ln.text for ln in view.lines] == ["starting again"] and view.follow.isEnabled()
    finally:
        view.shutdown()
    with pytest.raises(SourceError) as err:  # the reviews container never restarted
        KubePodLogs(emu.api_client()).pod_logs(NS, POD, "reviews", tail_lines=5, previous=True)
    assert str(err.value) == f"reviews in {NS}/{POD} has not restarted: there is no previous run's log"


def test_the_demo_says_it_keeps_no_previous_run(qtbot: QtBot) -> None:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    with pytest.raises(SourceError, match="has not restarted|keeps no previous run"):
        demo.pod_logs("shop", _demo_pod(demo), "istio-proxy", tail_lines=5, previous=True)


def _demo_pod(demo: DemoCluster) -> str:
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    workload = snap.inventory.workload("shop", "reviews-v3")
    assert workload is not None
    return workload.pods[0].name


def test_the_log_shown_is_saved_as_the_container_wrote_it(qtbot: QtBot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Lens and k9s save a log to a file; the Logs dock could not (copying 50 000 lines by hand was the
    way). The file has the lines kept, each after its timestamp, with the container's own bytes."""
    texts = ["\x1b[32mINFO\x1b[0m ready", "progress 10%\rprogress 100%", "日本語 ok"]
    view = _view(qtbot, _Lines(texts))
    try:
        assert not view.save.isEnabled()
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("reviews-v2", NS, pods=[_pod("reviews-v2-abc")]))
        assert view.save.isEnabled() and view.default_file_name() == "reviews-v2-abc-reviews.log"
        path = tmp_path / view.default_file_name()
        path.write_text("an older save\n")
        view.save_log(str(path))
        assert path.read_bytes().decode() == "".join(f"2026-11-27T10:00:00.{i:03d}Z {t}\n" for i, t in enumerate(texts))
        assert [p.name for p in tmp_path.iterdir()] == [path.name]  # written whole, no temporary left
        # with "Only matching lines" the matching lines are shown, and saved: all of them were written
        view.search.setText("PROGRESS")
        view.only_matching.setChecked(True)
        view.save_log(str(path))
        assert path.read_bytes().decode() == f"2026-11-27T10:00:00.001Z {texts[1]}\n"
    finally:
        view.shutdown()


def test_leaving_the_tail_box_unchanged_keeps_the_lines_followed(qtbot: QtBot) -> None:
    """Qt says "editing finished" when the box only loses focus: the log was read again, and the lines
    followed so far were gone."""
    src = _FakeLogs(3)
    view = _view(qtbot, src)
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("reviews-v2", NS, pods=[_pod("p1")]))
        asked = len(src.asked)
        view.tail.editingFinished.emit()  # focus left the box, the number as it was
        assert len(src.asked) == asked and len(view.lines) == 3
        view.tail.setValue(2)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.tail.editingFinished.emit()
        assert len(src.asked) == asked + 1
    finally:
        view.shutdown()


def test_a_very_long_line_is_shown_cut_and_saved_whole(qtbot: QtBot, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A container dumping a whole JSON document on one line (megabytes) stalled the window: Qt lays a
    line of text out whole. The view shows its start with how much is left; Save writes it whole."""
    from meshdesk.ui import logs_view

    monkeypatch.setattr(logs_view, "MAX_LINE_CHARS", 50)
    big = '{"dump": "' + "x" * 2000 + '"}'
    view = _view(qtbot, _Lines(["short", big]))
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("reviews-v2", NS, pods=[_pod("p1")]))
        shown = view.text.toPlainText().split("\n")
        assert shown[1] == f"2026-11-27T10:00:00.001Z {big[:50]} … [1,962 more characters: Save keeps the line whole]"
        view.save_log(str(tmp_path / "out.log"))
        assert (tmp_path / "out.log").read_text().splitlines()[1] == f"2026-11-27T10:00:00.001Z {big}"
    finally:
        view.shutdown()


def test_a_pod_stuck_in_init_offers_its_init_containers(qtbot: QtBot, emu: KubeEmulator) -> None:
    """A pod stuck in Init:CrashLoopBackOff (a migration that fails, istio-init without its rights) says
    why only in its init container's log, which the Logs dock did not offer (only native sidecars)."""
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "migrating", "namespace": NS},
             "spec": {"initContainers": [{"name": "migrate", "image": "example/migrate:1"}],
                      "containers": [{"name": "app", "image": "example/app:1"},
                                     {"name": "istio-proxy", "image": "istio/proxyv2:1.24.0"}]},
             "status": {"phase": "Pending", "initContainerStatuses": [
                 {"name": "migrate", "ready": False, "restartCount": 2, "state": {"running": {}}}]}})
    emu.add_pod_log(NS, "migrating", "migrate", ["ERROR relation \"users\" does not exist"])
    pod = Pod("migrating", NS, phase="Pending",
              containers=[Container("app", state="waiting:PodInitializing"),
                          Container("istio-proxy", state="waiting:PodInitializing")],
              init_containers=[Container("migrate", restarts=2, state="waiting:CrashLoopBackOff")])
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("migrating", NS, pods=[pod]))
        assert [view.container.itemText(i) for i in range(view.container.count())] == [
            "app", "istio-proxy", "all containers, by time", "migrate (init)"]
        assert view.container.currentText() == "migrate (init)"  # what the pod waits on
        assert [ln.text for ln in view.lines] == ['ERROR relation "users" does not exist']
        assert view.default_file_name() == "migrating-migrate.log"
    finally:
        view.shutdown()


def test_a_refresh_brings_the_pods_details_up_to_date(qtbot: QtBot) -> None:
    """Pods kept under the same names kept their details from when the workload was picked: a pod
    that was stuck in Init and runs now still opened on its init container, and the pod shown did not
    offer a container added since."""
    def stuck(name: str) -> Pod:
        return Pod(name, NS, phase="Pending", containers=[Container("app", state="waiting:PodInitializing")],
                   init_containers=[Container("migrate", restarts=2, state="waiting:CrashLoopBackOff")])

    def running(name: str, *extra: str) -> Pod:
        return Pod(name, NS, phase="Running",
                   containers=[Container("app", ready=True, state="running"),
                               *(Container(c, ready=True, state="running") for c in extra)],
                   init_containers=[Container("migrate", state="terminated:Completed")])

    src = _FakeLogs(3)
    view = _view(qtbot, src)
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("app", NS, pods=[running("app-a"), stuck("app-b")]))
        asked = len(src.asked)
        # the next poll: app-b's migration went through; app-a has a second container now
        view.update_pods(Workload("app", NS, pods=[running("app-a", "istio-proxy"), running("app-b")]))
        assert [view.container.itemText(i) for i in range(view.container.count())] == [
            "app", "istio-proxy", "all containers, by time", "migrate (init)"]
        assert view.container.currentText() == "app" and len(src.asked) == asked  # the log shown stays
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.pod.setCurrentIndex(1)
        assert view.container.currentText() == "app"  # it runs: not the init container it waited on
    finally:
        view.shutdown()


def test_the_first_read_is_bounded_and_keeps_the_newest_lines(qtbot: QtBot, emu: KubeEmulator, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """"last 50000 lines" of a container writing long lines read the whole answer into memory (hundreds
    of MB). It is bounded now; the API's byte limit counts from the oldest line asked for, so the view
    asks for fewer of the newest until they fit, and says that older lines were left out."""
    from meshdesk.sources import logs as logs_module

    _solo_pod(emu)
    written = [f"INFO request {i:03d} " + "x" * 90 for i in range(100)]  # ~140 bytes a line, stamped
    emu.add_pod_log(NS, "solo", "app", written, at=time.time() - 60)
    monkeypatch.setattr(logs_module, "TAIL_LIMIT_BYTES", 2000)
    follower = LogFollower(KubePodLogs(emu.api_client()), NS, "solo", "app", tail_lines=50)
    got = [ln.text for ln in follower.start()]
    assert got and got == written[-len(got):]  # the newest, in order, none missing at the end
    assert len(got) < 50 and follower.limited
    # under the limit: all asked for, nothing said
    whole = LogFollower(KubePodLogs(emu.api_client()), NS, "solo", "app", tail_lines=5)
    assert [ln.text for ln in whole.start()] == written[-5:] and not whole.limited

    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        view.tail.setValue(50)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(Workload("solo", NS, pods=[Pod("solo", NS, phase="Running",
                                                             containers=[Container("app", state="running")])]))
        assert view.lines[-1].text == written[-1]
        assert view.status.text().startswith("Older lines left out: the last 50 lines are more than ")
        assert not view.status.isHidden()
    finally:
        view.shutdown()


def test_the_lines_asked_for_are_no_more_than_the_view_keeps(qtbot: QtBot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """"last 100000 lines" read them all and showed the last MAX_LINES, without a word."""
    from meshdesk.ui import logs_view

    monkeypatch.setattr(logs_view, "MAX_LINES", 100)
    view = _view(qtbot, _FakeLogs(3))
    try:
        view.tail.setValue(100_000)
        assert view.tail.value() == 100 == view.tail.maximum()
    finally:
        view.shutdown()


def test_only_matching_lines_and_timestamps_off(qtbot: QtBot, emu: KubeEmulator) -> None:
    """Kiali filters a log to the lines that match and can hide the timestamps; the Logs dock only
    marked matches in all 50 000 lines, each behind a nanosecond timestamp."""
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(1)  # the sidecar
        qtbot.keyClicks(view.search, "503 uf")
        view.only_matching.setChecked(True)
        assert [t.split(" ", 1)[1] for t in view.text.toPlainText().split("\n")] == [
            '"GET /reviews/1 HTTP/1.1" 503 UF via_upstream', '"GET /reviews/3 HTTP/1.1" 503 UF via_upstream']
        assert view.matches.text() == "2 matches" and len(view.lines) == 4  # the others are kept
        view.follow.setChecked(True)
        emu.add_pod_log(NS, POD, "istio-proxy", ['"GET /reviews/8 HTTP/1.1" 200 - via_upstream',
                                                 '"GET /reviews/9 HTTP/1.1" 503 UF via_upstream'])
        qtbot.waitUntil(lambda: len(view.lines) == 6, timeout=10000)
        view.follow.setChecked(False)
        view.timestamps.setChecked(False)
        assert view.text.toPlainText().split("\n") == [
            '"GET /reviews/1 HTTP/1.1" 503 UF via_upstream', '"GET /reviews/3 HTTP/1.1" 503 UF via_upstream',
            '"GET /reviews/9 HTTP/1.1" 503 UF via_upstream']
        view.search.clear()
        assert view.text.document().blockCount() == 6 and view.matches.text() == ""
    finally:
        view.shutdown()


def test_the_pod_box_shows_the_whole_pod_name(qtbot: QtBot) -> None:
    """The pod box was sized while empty: "reviews-v3-…" read "reviews-" in the dock. It fits the
    name (a very long one up to a bound, the whole of it in the tooltip)."""
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    workload = snap.inventory.workload("shop", "reviews-v3")
    assert workload is not None and workload.pods
    view = _view(qtbot, demo)
    try:
        view.resize(1200, 400)
        view.show()
        qtbot.waitExposed(view)
        view.layout().activate()  # laid out empty, as the Logs dock is when first shown in the window
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(workload)
        name = workload.pods[0].name
        assert view.pod.currentText() == name
        qtbot.waitUntil(lambda: view.pod.width() >= view.pod.fontMetrics().horizontalAdvance(name) + 20)
        assert view.pod.toolTip() == name
        long = dataclasses.replace(workload, pods=[dataclasses.replace(workload.pods[0], name="p" * 200)])
        view.set_workload(long)
        assert view.pod.toolTip() == "p" * 200
        # bounded: the dock (and the window) does not grow to fit it, nor to fit the message that names it
        # (the demo has no such pod: the line under the boxes says so, with its name)
        qtbot.waitUntil(lambda: view.pod.width() == view.pod.maximumWidth())
        qtbot.waitUntil(lambda: "p" * 200 in view.status.text() and "not found" in view.status.text())
        assert view.minimumSizeHint().width() < 1200 and view.width() == 1200
        assert view.status.toolTip() == view.status.text()  # the whole message, where it is cut
    finally:
        view.shutdown()


def test_a_container_restarting_while_followed_keeps_the_lines_of_the_run_that_ended(
        qtbot: QtBot, emu: KubeEmulator) -> None:
    """Following a container that crashed lost its last lines, the ones saying why (written after the
    last poll, they were only in its previous run's log once the kubelet started it again): the
    follow went on with the new run. They come now, before the new run's, and the view says so."""
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        # between two polls: its last line, the crash, the kubelet starting it again, the new run's first line
        emu.add_pod_log(NS, POD, "reviews", ["FATAL out of memory: killed"], at=time.time() - 3)
        emu.restart_container(NS, POD, "reviews")
        emu.add_pod_log(NS, POD, "reviews", ["INFO starting again"], at=time.time() - 1)
        view.follow.setChecked(True)
        qtbot.waitUntil(lambda: "INFO starting again" in view.text.toPlainText(), timeout=10000)
        texts = [ln.text for ln in view.lines]
        assert texts[-2:] == ["FATAL out of memory: killed", "INFO starting again"]
        assert texts.count("FATAL out of memory: killed") == 1
        assert view.status.text().startswith("reviews restarted while followed")
        # following goes on in the new run, each line once
        emu.add_pod_log(NS, POD, "reviews", ["INFO ready"])
        qtbot.waitUntil(lambda: view.lines[-1].text == "INFO ready", timeout=10000)
        assert [ln.text for ln in view.lines][-3:] == ["FATAL out of memory: killed", "INFO starting again",
                                                       "INFO ready"]
    finally:
        view.shutdown()



def test_the_view_says_it_is_reading_until_the_lines_come(qtbot: QtBot, emu: KubeEmulator) -> None:
    """A log read waiting on a node that is slow to answer (up to the request's timeout) left the view
    blank, saying nothing: as if the container had no log. It says it is reading, until the lines come."""
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        release, held = emu.hold_requests(f"/api/v1/namespaces/{NS}/pods/{POD}/log")
        view.set_workload(_workload())
        assert held.wait(10)
        assert view.text.placeholderText() == f"Reading the log of {POD} (reviews)…"
        assert view.text.toPlainText() == ""
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            release.set()
        assert view.text.placeholderText() == "" and "INFO served review 49" in view.text.toPlainText()
        # one that fails: the reason, not "reading"
        emu.delete("pods", NS, POD)
        with qtbot.waitSignal(view.failed, timeout=10000):
            view.reload.click()
        assert view.text.placeholderText() == "" and view.status.text().startswith("Could not read the log")
    finally:
        view.shutdown()


def test_a_logs_view_out_of_sight_does_not_follow_and_catches_up_when_shown(qtbot: QtBot, emu: KubeEmulator) -> None:
    """With Follow on, the Logs dock asked the API for new lines every two seconds while it was closed,
    for as long as the app ran. Out of sight it asks nothing; shown again, it reads what was written
    meanwhile at once."""
    view = LogsView(KubePodLogs(emu.api_client()), follow_ms=50)
    qtbot.addWidget(view)  # never shown yet: a closed dock
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        view.follow.setChecked(True)
        asked = len(emu.calls)
        emu.add_pod_log(NS, POD, "reviews", ["INFO written while closed"])
        for _ in range(5):  # five turns of the follow timer
            with qtbot.waitSignal(view.timer.timeout, timeout=5000):
                pass
        assert len(emu.calls) == asked and "written while closed" not in view.text.toPlainText()
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.show()
        assert view.lines[-1].text == "INFO written while closed"
    finally:
        view.shutdown()


def test_all_containers_stay_in_time_order_when_a_line_comes_a_poll_late(qtbot: QtBot, emu: KubeEmulator) -> None:
    """All containers merged "by time" showed a line after a newer one of another container when it came
    a poll later (the containers are read one after the other: the app's line written just before the
    proxy's, after the app was read). It is put where it belongs, in the text and in what Save writes."""
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(2)  # all containers, by time
        view.follow.setChecked(True)
        now = time.time()
        emu.add_pod_log(NS, POD, "istio-proxy", ['"GET /reviews/7 HTTP/1.1" 200 - via_upstream'], at=now - 1)
        qtbot.waitUntil(lambda: "/reviews/7" in view.text.toPlainText(), timeout=10000)
        emu.add_pod_log(NS, POD, "reviews", ["INFO served late review 7"], at=now - 1.5)  # written first, read late
        qtbot.waitUntil(lambda: "served late review 7" in view.text.toPlainText(), timeout=10000)
        shown = view.text.toPlainText().splitlines()
        assert shown[-2].endswith("[reviews] INFO served late review 7")
        assert shown[-1].endswith('[istio-proxy] "GET /reviews/7 HTTP/1.1" 200 - via_upstream')
        assert [ln.text for ln in view.lines[-2:]] == [
            "[reviews] INFO served late review 7", '[istio-proxy] "GET /reviews/7 HTTP/1.1" 200 - via_upstream']
        assert len(shown) == len(view.lines) == 56 and len(set(shown)) == 56
        stamps = [ln.unix for ln in view.lines]
        assert stamps == sorted(stamps)
        # with only the matching lines shown (the proxy's not among them), the text loses none of them
        view.search.setText("late review")
        view.only_matching.setChecked(True)
        emu.add_pod_log(NS, POD, "istio-proxy", ['"GET /reviews/8 HTTP/1.1" 200 - via_upstream'], at=now - 0.5)
        qtbot.waitUntil(lambda: view.lines[-1].text.endswith("/reviews/8 HTTP/1.1\" 200 - via_upstream"),
                        timeout=10000)
        emu.add_pod_log(NS, POD, "reviews", ["INFO served late review 8"], at=now - 0.7)
        qtbot.waitUntil(lambda: "served late review 8" in view.text.toPlainText(), timeout=10000)
        assert [s.split("] ", 1)[1] for s in view.text.toPlainText().splitlines()] == [
            "INFO served late review 7", "INFO served late review 8"]
        assert [ln.text for ln in view.lines[-2:]] == [
            "[reviews] INFO served late review 8", '[istio-proxy] "GET /reviews/8 HTTP/1.1" 200 - via_upstream']
    finally:
        view.shutdown()
