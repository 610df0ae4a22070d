"""The Envoy dock: selecting a workload on the demo shows its proxy's clusters, listeners, routes and
bootstrap; the filter narrows the tables; a workload without a proxy says why; over a cluster (the
emulator) the view reads through the port-forward when the pod proxy is refused."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, Signal, Slot
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph.model import NODE_APP, NODE_WORKLOAD
from meshdesk.mesh.inventory import Container, Pod, Workload
from meshdesk.sources.envoy import KubeEnvoyAdmin
from meshdesk.ui.envoy_view import EnvoyView
from tests.envoy_samples import PRIVATE_KEY_B64, sidecar_dump
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.ui_helpers import DEMO_NOW, open_windows, shown

pytestmark = [pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")]


def _select(w, workload: str) -> None:  # type: ignore[no-untyped-def]
    node = next(n for n in w.graph.nodes.values()
                if n.node_type in (NODE_APP, NODE_WORKLOAD) and n.workload == workload)
    w.view.select([node.id])


def _demo_window_with_docks(qtbot: QtBot):  # type: ignore[no-untyped-def]
    """Windows on the demo at a fixed clock, with the performance views (their docks) as the app has them."""
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.mainwindow import DEMO, MainWindow
    from meshdesk.ui.perf_views import PerformanceViews

    def new_window() -> MainWindow:
        w = MainWindow(context=DEMO, namespaces=["shop", "hello", "travel"],
                       factories={DEMO: lambda: DemoCluster(clock=lambda: DEMO_NOW)})
        w.add_extension(PerformanceViews(w, poll_ms=0))
        return w

    return open_windows(qtbot, new_window)


def _envoy_dock_shown(qtbot: QtBot, w):  # type: ignore[no-untyped-def]
    """The window's performance views and Envoy view, the dock open on productpage-v1's proxy."""
    shown(qtbot, w, lambda g: any(n.workload == "reviews-v2" for n in g.nodes.values()))
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    _select(w, "productpage-v1")
    with qtbot.waitSignal(perf.envoy.loaded, timeout=20000):
        perf.docks["Envoy"].show()
    return perf, perf.envoy


def test_selecting_a_workload_and_opening_the_envoy_dock_shows_its_clusters(qtbot: QtBot) -> None:
    windows = _demo_window_with_docks(qtbot)
    try:
        _envoy_dock_on_the_demo(qtbot, next(windows)())
    finally:
        next(windows, None)


def _envoy_dock_on_the_demo(qtbot: QtBot, w) -> None:  # type: ignore[no-untyped-def]
    shown(qtbot, w, lambda g: any(n.workload == "reviews-v2" for n in g.nodes.values()))
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    envoy = perf.envoy
    assert "Envoy" in perf.docks and perf.docks["Envoy"].isHidden()
    _select(w, "productpage-v1")
    assert envoy.config is None, "nothing is read while the dock is closed"
    with qtbot.waitSignal(envoy.loaded, timeout=20000):
        perf.docks["Envoy"].show()
    assert envoy.pod.count() == 1 and envoy.pod.currentText().startswith("productpage-v1-")
    clusters = envoy.clusters.visible_rows()
    hosts = {c.host for c in clusters}
    # every service of the demo mesh is a cluster of the sidecar, with the DestinationRule's subsets
    assert {"reviews.shop.svc.cluster.local", "helloworld.hello.svc.cluster.local",
            "api.payments.example.com"} <= hosts
    reviews = [c for c in clusters if c.host == "reviews.shop.svc.cluster.local"]
    assert sorted(c.subset for c in reviews) == ["", "v1", "v2", "v3"]
    assert {c.destination_rule for c in reviews} == {"shop/reviews"}
    assert envoy.tabs.tabText(0) == f"Clusters ({len(clusters)})"
    # the VirtualService's weights are the reviews route
    route = next(r for r in envoy.routes.visible_rows() if r.virtual_service == "shop/reviews")
    assert "v1|reviews.shop.svc.cluster.local (50)" in route.destination
    assert any(b.name == "Proxy type" and b.value == "sidecar" for b in envoy.bootstrap.visible_rows())

    # filtering: any column, case-insensitive, and the count says how many of how many
    qtbot.keyClicks(envoy.clusters.filter, "REVIEWS")
    assert {c.host for c in envoy.clusters.visible_rows()} == {"reviews.shop.svc.cluster.local"}
    assert envoy.clusters.count.text() == f"4 of {len(clusters)}"
    envoy.clusters.filter.setText("v3")
    assert [(c.host, c.subset) for c in envoy.clusters.visible_rows()] == [("reviews.shop.svc.cluster.local", "v3")]
    envoy.clusters.filter.clear()
    assert len(envoy.clusters.visible_rows()) == len(clusters)
    # sorted by a column header: ports as numbers
    envoy.clusters.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    ports = [c.port for c in envoy.clusters.visible_rows()]
    assert ports == sorted(ports, reverse=True)
    # the raw config: shown when its tab is opened, without key material
    envoy.tabs.setCurrentIndex(4)
    text = envoy.raw.toPlainText()
    assert '"dynamic_active_secrets"' in text and "[redacted by meshdesk]" in text
    envoy.raw_find.setText("BlackHoleCluster")
    assert envoy.find_next()

    # another workload: its own proxy (the ingress gateway, in a namespace not chosen, too); a
    # workload without one says why (and reads nothing)
    with qtbot.waitSignal(envoy.loaded, timeout=20000):
        _select(w, "istio-ingressgateway")
    assert any(b.name == "Proxy type" and b.value == "router" for b in envoy.bootstrap.visible_rows())
    _select(w, "mongodb-v1")
    assert envoy.pod.count() == 0 and envoy.config is None
    assert "no istio-proxy container" in envoy.status.text() and not envoy.refresh.isEnabled()
    _select(w, "search-v1")
    assert "ambient" in envoy.status.text() and "waypoint" in envoy.status.text()
    with qtbot.waitSignal(envoy.loaded, timeout=20000):
        _select(w, "waypoint")
    assert {c.direction for c in envoy.clusters.visible_rows()} >= {"inbound-vip"}


def _pod(name: str) -> Pod:
    return Pod(name, "shop", labels={"app": "productpage"}, phase="Running",
               containers=[Container("productpage", ready=True), Container("istio-proxy", ready=True)])


def test_the_view_reads_a_cluster_pod_and_says_what_went_wrong(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    emu.add_namespace("shop")
    for name in ("productpage-v1-7d9f-abcde", "productpage-v1-7d9f-fghij"):
        emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop"},
                 "spec": {"containers": [{"name": "productpage"}, {"name": "istio-proxy"}]}})
    emu.serve_envoy_admin("shop", "productpage-v1-7d9f-abcde", sidecar_dump())
    emu.forbid(namespace="shop", resource="pods/proxy")
    view = EnvoyView(KubeEnvoyAdmin(emu.api_client(), timeout=10))
    qtbot.addWidget(view)
    try:
        view.show()
        with qtbot.waitSignal(view.loaded, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde"),
                                                                       _pod("productpage-v1-7d9f-fghij")]))
        assert len(view.clusters.visible_rows()) == 10
        assert view.summary.text().endswith("read through the port-forward")
        assert "listeners: 1" not in view.status.text() and "Shown in part" in view.status.text()
        view.tabs.setCurrentIndex(4)
        assert PRIVATE_KEY_B64 not in view.raw.toPlainText()
        # the second pod's proxy is not listening: said, nothing else shown
        with qtbot.waitSignal(view.failed, timeout=20000):
            view.pod.setCurrentIndex(1)
        assert "nothing answers on port 15000" in view.status.text()
        assert view.clusters.visible_rows() == []
        # a rollout took the first pod away: it stays chosen, marked gone
        view.pod.setCurrentIndex(0)
        qtbot.waitUntil(lambda: view.config is not None, timeout=20000)
        view.update_pods(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-fghij")]))
        assert view.pod.currentText() == "productpage-v1-7d9f-abcde (gone)" and view.config is not None
    finally:
        view.shutdown()


def test_offline_the_envoy_view_says_it_is_not_available(qtbot: QtBot) -> None:
    view = EnvoyView()
    qtbot.addWidget(view)
    try:
        view.show()
        view.set_source(None, unavailable="Not available in an offline snapshot")
        view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        assert view.status.text() == "Not available in an offline snapshot"
        assert not view.pod.isEnabled() and not view.refresh.isEnabled()
    finally:
        view.shutdown()


@pytest.mark.parametrize("way", ["pod proxy", "port-forward"])
def test_no_secret_reaches_the_view_its_tables_or_the_log(qtbot: QtBot, kube_emulator: KubeEmulator,
                                                          caplog: pytest.LogCaptureFixture, way: str) -> None:
    """A dump seeded with every kind of secret (proxyMetadata, call credentials, camelCase names, the
    secrets section...), read through either way: none of the secret values is in the Config tab's
    text, the text kept for Save, the tables' rows, the labels, or a log line."""
    from tests.envoy_samples import secrets_everywhere_dump

    dump, secrets = secrets_everywhere_dump()
    emu = kube_emulator
    emu.add_namespace("shop")
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "productpage-v1-7d9f-abcde", "namespace": "shop"},
             "spec": {"containers": [{"name": "productpage"}, {"name": "istio-proxy"}]}})
    emu.serve_envoy_admin("shop", "productpage-v1-7d9f-abcde", dump)
    if way == "port-forward":
        emu.forbid(namespace="shop", resource="pods/proxy")
    caplog.set_level(logging.DEBUG)
    view = EnvoyView(KubeEnvoyAdmin(emu.api_client(), timeout=10))
    qtbot.addWidget(view)
    try:
        view.show()
        with qtbot.waitSignal(view.loaded, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        view.tabs.setCurrentIndex(4)
        qtbot.waitUntil(lambda: view.raw.toPlainText().rstrip().endswith("}"), timeout=20000)  # all laid out
        shown = view.raw.toPlainText()
        assert "[redacted by meshdesk]" in shown and "sek-" not in shown and "PRIVATE KEY" not in shown
        held = [shown, view._raw_text, repr(view.config), view.summary.text(), view.status.text(), caplog.text]
        for table in (view.clusters, view.listeners, view.routes, view.bootstrap):
            held.append(repr(table.model.rows))
            held += [table.model.index(r, c).data() or "" for r in range(table.model.rowCount())
                     for c in range(table.model.columnCount())]
        everything = "\n".join(held)
        assert [s for s in secrets if s in everything] == []
    finally:
        view.shutdown()


def test_an_answer_nested_without_end_says_not_a_config_dump_and_logs_nothing(
        qtbot: QtBot, kube_emulator: KubeEmulator, caplog: pytest.LogCaptureFixture) -> None:
    emu = kube_emulator
    emu.add_namespace("shop")
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "productpage-v1-7d9f-abcde", "namespace": "shop"},
             "spec": {"containers": [{"name": "productpage"}, {"name": "istio-proxy"}]}})
    emu.serve_envoy_admin("shop", "productpage-v1-7d9f-abcde", b'{"configs":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    caplog.set_level(logging.DEBUG)
    view = EnvoyView(KubeEnvoyAdmin(emu.api_client(), timeout=10))
    qtbot.addWidget(view)
    try:
        view.show()
        with qtbot.waitSignal(view.failed, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        status = view.status.text()
        assert "not with a config dump" in status and "shop/productpage-v1-7d9f-abcde" in status
        assert "Recursion" not in status and "API server" not in status
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
    finally:
        view.shutdown()


def test_a_big_table_is_sorted_and_filtered_without_asking_for_each_cell(qtbot: QtBot,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Tens of thousands of clusters: filling, sorting and filtering the table ask the model only for
    the cells on screen (a proxy model asked for every cell, on the UI thread, for each), and the
    filter waits for typing to pause."""
    from meshdesk.ui import envoy_view
    from tests.envoy_samples import sidecar_dump

    asked = {"n": 0}
    data = envoy_view.RowsModel.data

    def counted(self, index, role=Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        asked["n"] += 1
        return data(self, index, role)

    monkeypatch.setattr(envoy_view.RowsModel, "data", counted)
    dump = sidecar_dump(extra_clusters=30_000)

    class Source:
        def config_dump(self, namespace: str, pod: str) -> object:
            return dump

    view = EnvoyView(Source())
    qtbot.addWidget(view)
    try:
        view.resize(900, 500)
        view.show()
        with qtbot.waitSignal(view.loaded, timeout=60000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        table = view.clusters
        assert view.tabs.tabText(0) == "Clusters (30010)" and table.count.text() == "30010"
        table.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        assert table.visible_rows()[0].host == "svc29999.load.svc.cluster.local"  # numbers by value
        table.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        ports = [c.port for c in table.visible_rows()]
        assert ports == sorted(ports)
        qtbot.wait(1)  # let the view paint what it shows
        assert asked["n"] < 20_000, f"the model was asked for {asked['n']} cells"
        qtbot.keyClicks(table.filter, "SVC2999")
        assert table.count.text() == "30010", "a big table is not filtered at each key"
        qtbot.waitUntil(lambda: table.count.text() == "11 of 30010", timeout=10000)  # svc2999, svc29990..29999
        assert {c.host for c in table.visible_rows()} == {f"svc{n}.load.svc.cluster.local"
                                                          for n in [2999, *range(29990, 30000)]}
        qtbot.wait(1)
        assert asked["n"] < 20_000, f"the model was asked for {asked['n']} cells"
    finally:
        view.shutdown()


def test_the_config_tab_lays_out_a_big_dump_in_slices_and_saves_it_whole(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The raw text is laid out a slice per turn of the event loop (the window stays live), up to
    MAX_RAW_CHARS in whole lines, with a note; Save to file writes all of it."""
    import json

    from meshdesk.ui import envoy_view
    from tests.envoy_samples import sidecar_dump

    monkeypatch.setattr(envoy_view, "MAX_RAW_CHARS", 1_000_000)
    monkeypatch.setattr(envoy_view, "RAW_TURN_MS", 0)  # one slice per turn
    dump = sidecar_dump(extra_clusters=20_000)

    class Source:
        def config_dump(self, namespace: str, pod: str) -> object:
            return dump

    view = EnvoyView(Source())
    qtbot.addWidget(view)
    try:
        view.show()
        with qtbot.waitSignal(view.loaded, timeout=60000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        assert view.raw.document().isEmpty(), "laid out only when looked at"
        view.tabs.setCurrentIndex(4)
        first = len(view.raw.toPlainText())
        assert 0 < first < 1_000_000 and "Laying out" in view.raw_note.text()
        with qtbot.waitSignal(view.raw_shown, timeout=60000):
            pass
        shown = view.raw.toPlainText()
        assert len(shown) <= 1_000_000 and view._raw_text.startswith(shown) and shown.endswith("\n")
        assert view.raw_note.text().startswith("Showing the first") and "Save to file" in view.raw_note.text()
        view.raw_find.setText("svc19999.")
        assert not view.find_next() and "not in the first" in view.raw_note.text()
        path = tmp_path / "dump.json"
        view.save_raw(str(path))
        assert json.loads(path.read_text()) == dump
    finally:
        view.shutdown()


def test_matchers_plugin_config_and_odd_numbers_are_safe_in_the_text_and_the_saved_file(
        qtbot: QtBot, kube_emulator: KubeEmulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """QA's dump: an RBAC filter matching ``x-api-key`` (an AuthorizationPolicy's ``request.headers``), a
    route matching ``authorization``, a Wasm plugin's JSON configuration with an API key, an
    ``ISTIO_META_*`` password, 1e400 and NaN. No secret in the Config text or the saved file, and the
    file is strict JSON (``jq`` and ``JSON.parse`` read it)."""
    import json

    from tests.envoy_samples import sidecar_dump

    dump = sidecar_dump()
    rbac = {"name": "envoy.filters.http.rbac", "typed_config": {"rules": {"policies": {"ns[shop]-policy[apikey]-rule[0]": {
        "permissions": [{"any": True}], "principals": [{"and_ids": {"ids": [
            {"header": {"name": "x-api-key", "string_match": {"exact": "SEKRET-APIKEY-1"}}}]}}]}}}}}
    route = {"match": {"prefix": "/", "headers": [{"name": "authorization", "string_match": {"exact": "SEKRET-2"}}]},
             "route": {"cluster": "inbound|9080||"}}
    dump["configs"].append({"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "dynamic_listeners": [
        {"name": "virtualInbound", "active_state": {"listener": {"name": "virtualInbound", "filter_chains": [
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
                "http_filters": [rbac], "route_config": {"name": "inbound|9080||", "virtual_hosts": [
                    {"name": "inbound|http|9080", "domains": ["*"], "routes": [route]}]}}}]}]}}}]})
    dump["configs"].append({"@type": "type.googleapis.com/envoy.admin.v3.EcdsConfigDump", "ecds_filters": [
        {"ecds_filter": {"name": "shop.apikey-plugin", "typed_config": {"config": {"configuration": {
            "@type": "type.googleapis.com/google.protobuf.StringValue", "value": '{"api_key":"SEKRET-WASM-3"}'}}}}}]})
    dump["configs"].append({"@type": "x", "metadata": {"ISTIO_META_DB_PASS": "SEKRET-4"}, "env": [
        {"name": "AWS_SECRET_ACCESS_KEY", "value": "SEKRET-5"}]})
    body = json.dumps(dump)[:-2] + ', {"@type": "y", "big": 1e400, "nan": NaN}]}'
    emu = kube_emulator
    emu.add_namespace("shop")
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "productpage-v1-7d9f-abcde", "namespace": "shop"},
             "spec": {"containers": [{"name": "productpage"}, {"name": "istio-proxy"}]}})
    emu.serve_envoy_admin("shop", "productpage-v1-7d9f-abcde", body.encode())
    view = EnvoyView(KubeEnvoyAdmin(emu.api_client(), timeout=10))
    qtbot.addWidget(view)
    try:
        view.show()
        with qtbot.waitSignal(view.loaded, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        view.tabs.setCurrentIndex(4)
        qtbot.waitUntil(lambda: view.raw.toPlainText().rstrip().endswith("}"), timeout=20000)
        path = tmp_path / "dump.json"
        view.save_raw(str(path))
        saved = path.read_text()
        for text in (view.raw.toPlainText(), saved):
            assert "SEKRET" not in text and '"x-api-key"' in text and "shop.apikey-plugin" in text

        def refuse(constant: str) -> None:
            raise ValueError(f"not strict JSON: {constant}")

        doc = json.loads(saved, parse_constant=refuse)
        assert doc["configs"][-1] == {"@type": "y", "big": "1e400", "nan": "NaN"}
    finally:
        view.shutdown()


def test_a_source_with_nan_and_infinity_saves_strict_json(qtbot: QtBot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.envoy_samples import sidecar_dump

    dump = sidecar_dump()
    dump["configs"].append({"@type": "y", "big": float("inf"), "nan": float("nan"), "small": -float("inf")})

    class Source:
        def config_dump(self, namespace: str, pod: str) -> object:
            return dump

    view = EnvoyView(Source())
    qtbot.addWidget(view)
    try:
        view.show()
        with qtbot.waitSignal(view.loaded, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        path = tmp_path / "dump.json"
        view.save_raw(str(path))

        def refuse(constant: str) -> None:
            raise ValueError(f"not strict JSON: {constant}")

        doc = json.loads(path.read_text(), parse_constant=refuse)
        assert doc["configs"][-1] == {"@type": "y", "big": "Infinity", "nan": "NaN", "small": "-Infinity"}
        assert len(doc["configs"]) == len(dump["configs"])
    finally:
        view.shutdown()


def test_save_the_config_dump_adds_json_to_a_name_typed_without_it(qtbot: QtBot, tmp_path,  # type: ignore[no-untyped-def]
                                                                   monkeypatch) -> None:
    """"Save the config dump" wrote "mydump" as typed, which File > Open's "*.json" filter and other
    tools then miss: it adds ".json" as File > Save snapshot does; a name that exists already is kept as
    typed, and another file the suffix would replace is asked about first."""
    import json

    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from tests.envoy_samples import sidecar_dump

    dump = sidecar_dump()

    class Source:
        def config_dump(self, namespace: str, pod: str) -> object:
            return dump

    typed: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (typed.pop(0), "JSON (*.json)"))
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked: list[str] = []

    def question(_parent, _title, text, *a, **k):  # type: ignore[no-untyped-def]
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    view = EnvoyView(Source())
    qtbot.addWidget(view)
    try:
        view.show()
        with qtbot.waitSignal(view.loaded, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        qtbot.waitUntil(lambda: view.raw_save.isEnabled(), timeout=20000)
        typed.append(str(tmp_path / "mydump"))
        view.raw_save.click()
        assert json.loads((tmp_path / "mydump.json").read_text()) == dump
        assert not (tmp_path / "mydump").exists() and not asked, "a new file: nothing to ask"
        # "mydump.json" is there now: the same name typed again asks first; declined, it stays as it was
        (tmp_path / "mydump.json").write_text("the user's own file")
        typed.append(str(tmp_path / "mydump"))
        view.raw_save.click()
        assert asked == [f"{tmp_path / 'mydump.json'} exists already. Replace it?"]
        assert (tmp_path / "mydump.json").read_text() == "the user's own file"
        typed.append(str(tmp_path / "mydump"))
        view.raw_save.click()
        assert len(asked) == 2 and json.loads((tmp_path / "mydump.json").read_text()) == dump
        # a file chosen in the dialog under a name without an extension is replaced as chosen
        (tmp_path / "plain").write_text("old")
        typed.append(str(tmp_path / "plain"))
        view.raw_save.click()
        assert json.loads((tmp_path / "plain").read_text()) == dump and not (tmp_path / "plain.json").exists()
        assert len(asked) == 2
        # a "folder" that is a file: said naming the file chosen, not meshdesk's temporary one
        typed.append(str(tmp_path / "plain" / "dump.json"))
        view.raw_save.click()
        said = view.status.text()
        assert said.startswith(f"Could not save the config dump to {tmp_path / 'plain' / 'dump.json'}: ")
        assert ".tmp" not in said
    finally:
        view.shutdown()


def test_the_stats_tab_reads_the_proxys_statistics_when_opened(qtbot: QtBot) -> None:
    """Kiali's Envoy tab has the proxy's metrics: the Stats tab reads ``/stats`` of the chosen pod when
    it is opened (not before), shows them as a sortable, filterable table, reads them again on Refresh
    and for another pod, and a source without statistics says so."""
    windows = _demo_window_with_docks(qtbot)
    try:
        w = next(windows)()
        perf, envoy = _envoy_dock_shown(qtbot, w)
        assert envoy.stats.visible_rows() == [], "statistics are read when their tab is opened"
        with qtbot.waitSignal(envoy.stats_loaded, timeout=20000) as got:
            envoy.tabs.setCurrentIndex(5)
        n = got.args[0]
        rows = envoy.stats.visible_rows()
        assert n == len(rows) > 20 and envoy.tabs.tabText(5) == f"Stats ({n})"
        names = {r.name for r in rows}
        assert "server.live" in names and "cluster.outbound|9080||reviews.shop.svc.cluster.local.upstream_rq_total" in names
        assert f"{n} statistics" in envoy.stats_note.text()
        # a histogram's quantiles are shown as Envoy writes them
        assert any(r.value.startswith("P0(") for r in rows)
        # filtering and sorting, as the other tables
        qtbot.keyClicks(envoy.stats.filter, "reviews.shop")
        assert envoy.stats.visible_rows() and all("reviews.shop" in r.name for r in envoy.stats.visible_rows())
        envoy.stats.filter.clear()
        envoy.stats.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        shown_names = [r.name for r in envoy.stats.visible_rows()]
        assert shown_names[0] > shown_names[-1]
        # Refresh while the tab is open reads them again; another pod's replace them
        with qtbot.waitSignal(envoy.stats_loaded, timeout=20000):
            envoy.refresh.click()
        with qtbot.waitSignal(envoy.stats_loaded, timeout=20000):
            _select(w, "istio-ingressgateway")
        assert not any("inbound|9080||" in r.name for r in envoy.stats.visible_rows())

        # a source that has no statistics to give (only config dumps) says so
        class DumpOnly:
            def config_dump(self, namespace: str, pod: str) -> object:
                return sidecar_dump()

        envoy.set_source(DumpOnly())
        envoy.load_stats()
        assert "cannot read a proxy's statistics" in envoy.stats_note.text() and envoy.stats.visible_rows() == []
    finally:
        next(windows, None)


def test_the_proxys_log_level_is_set_once_confirmed_and_never_in_read_only_mode(qtbot: QtBot) -> None:
    """Kiali can set a proxy's log level: the dock does, after asking (it changes the running proxy
    until it restarts); declined, nothing is asked of the proxy; in read-only mode the control is not
    there and a call is refused."""
    windows = _demo_window_with_docks(qtbot)
    try:
        w = next(windows)()
        perf, envoy = _envoy_dock_shown(qtbot, w)
        pod = envoy.pod.currentData()
        demo = envoy.source
        assert envoy.set_level.isVisible() and envoy.set_level.isEnabled() and envoy.level.isVisible()
        # the level the proxy runs at now is read (POST /logging, no level) and shown beside the control
        qtbot.waitUntil(lambda: envoy.level_note.text() == "currently warning", timeout=20000)
        asked: list[str] = []
        envoy.confirm = lambda text: asked.append(text) is None and False  # the user says no
        assert not envoy.change_log_level("debug")
        assert demo.log_level(pod.namespace, pod.name) == "warning" and len(asked) == 1
        assert pod.name in asked[0] and "until the proxy restarts" in asked[0] and "set it back" in asked[0]
        envoy.confirm = lambda text: True
        envoy.level.setCurrentText("info")
        with qtbot.waitSignal(envoy.log_level_set, timeout=20000) as got:
            envoy.set_level.click()
        assert got.args == ["info"] and demo.log_level(pod.namespace, pod.name) == "info"
        assert envoy.level_note.text() == "set to info"
        # the level is the pod's: another proxy's is its own, and this one's is still info after
        with qtbot.waitSignal(envoy.log_level_read, timeout=20000) as read:
            _select(w, "reviews-v2")
        assert read.args == ["warning"] and envoy.level_note.text() == "currently warning"
        with qtbot.waitSignal(envoy.log_level_read, timeout=20000) as read:
            _select(w, "productpage-v1")
        assert read.args == ["info"] and envoy.level_note.text() == "currently info"

        # read-only mode: saving the setting takes the control away at once, and a call is refused
        w.settings.read_only = True
        w._on_settings_saved(w.settings)
        assert not envoy.set_level.isVisible() and not envoy.level.isVisible() and not envoy.level_label.isVisible()
        assert envoy.level_note.text() == ""
        assert not envoy.change_log_level("debug") and demo.log_level(pod.namespace, pod.name) == "info"
        assert envoy.level_note.text() == "Read-only: the proxy is not changed"
        # and it is still gone when the dock is shown again
        perf.docks["Envoy"].hide()
        perf.docks["Envoy"].show()
        assert not envoy.set_level.isVisible()
        # read-only off: the control is back, with the level read again
        w.settings.read_only = False
        with qtbot.waitSignal(envoy.log_level_read, timeout=20000) as read:
            w._on_settings_saved(w.settings)
        assert envoy.set_level.isVisible() and read.args == ["info"]
    finally:
        next(windows, None)


def test_a_clusters_destination_rule_and_a_routes_virtual_service_open_in_the_config_view(qtbot: QtBot) -> None:
    """A row of the clusters or routes table names the Istio object behind it: double-clicked, that
    object opens in the Istio config dock; a row naming none opens nothing."""
    windows = _demo_window_with_docks(qtbot)
    try:
        w = next(windows)()
        perf, envoy = _envoy_dock_shown(qtbot, w)
        config = perf.config
        envoy.clusters.filter.setText("reviews")
        rows = envoy.clusters.visible_rows()
        row = next(i for i, c in enumerate(rows) if c.destination_rule == "shop/reviews")
        index = envoy.clusters.model.index(row, 0)
        with qtbot.waitSignal(config.objectShown, timeout=5000) as got:
            envoy.clusters.table.doubleClicked.emit(index)
        assert got.args == [("DestinationRule", "shop", "reviews")]
        assert perf.docks["Istio config"].isVisible() and "kind: DestinationRule" in config.yaml_text
        route = next(i for i, r in enumerate(envoy.routes.visible_rows()) if r.virtual_service == "shop/reviews")
        with qtbot.waitSignal(config.objectShown, timeout=5000):
            envoy.routes.table.doubleClicked.emit(envoy.routes.model.index(route, 0))
        assert "kind: VirtualService" in config.yaml_text and "reviews" in config.title.text()
        # a cluster no DestinationRule shapes (BlackHoleCluster) opens nothing
        envoy.clusters.filter.setText("BlackHole")
        with qtbot.assertNotEmitted(envoy.configRequested):
            envoy.clusters.table.doubleClicked.emit(envoy.clusters.model.index(0, 0))
    finally:
        next(windows, None)


# a popup menu on Qt's offscreen platform: it cannot raise windows or grab the keyboard (not ours to fix)
@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")
def test_a_clusters_menu_shows_its_service_in_the_graph(qtbot: QtBot) -> None:
    """A cluster was not a way to its service: a row's menu (right click or the Menu key) offers its
    DestinationRule and its service, which is selected in the graph; a route's menu its VirtualService
    and the services of its clusters; Envoy's own clusters name no service; a service with no node in
    the graph shown says so."""
    from meshdesk.mesh.graph.model import NODE_SERVICE

    windows = _demo_window_with_docks(qtbot)
    try:
        w = next(windows)()
        perf, envoy = _envoy_dock_shown(qtbot, w)
        envoy.clusters.filter.setText("reviews")
        rows = envoy.clusters.visible_rows()
        row = next(i for i, c in enumerate(rows) if c.destination_rule == "shop/reviews" and c.subset == "v2")
        menu = envoy.menu_for(envoy.clusters, row)
        assert menu is not None
        texts = [a.text() for a in menu.actions()]
        assert texts == ["Open DestinationRule shop/reviews", "Show service reviews (shop) in the graph"]
        with qtbot.waitSignal(w.view.selectionChanged, timeout=5000):
            menu.actions()[1].trigger()
        reviews = w.graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
        assert reviews is not None and w.view.selected_ids() == [reviews.id]
        assert envoy.workload is not None and envoy.workload.name == "productpage-v1"  # the dock stays on its proxy
        with qtbot.waitSignal(perf.config.objectShown, timeout=5000) as got:
            menu.actions()[0].trigger()
        assert got.args == [("DestinationRule", "shop", "reviews")]

        # the Menu key on the current row opens the same menu
        envoy.clusters.table.setCurrentIndex(envoy.clusters.model.index(row, 0))
        envoy.row_menu = None
        envoy.clusters.table.customContextMenuRequested.emit(QPoint(-1, -1))
        assert envoy.row_menu is not None and envoy.row_menu.actions()[0].text() == "Open DestinationRule shop/reviews"
        envoy.row_menu.close()

        # a ServiceEntry's host: its node, whatever the ServiceEntry is called
        envoy.clusters.filter.setText("api.payments.example.com")
        menu = envoy.menu_for(envoy.clusters, 0)
        assert menu is not None and menu.actions()[1].text() == "Show service api.payments.example.com in the graph"
        with qtbot.waitSignal(w.view.selectionChanged, timeout=5000):
            menu.actions()[1].trigger()
        [entry] = [w.graph.nodes[i] for i in w.view.selected_ids()]
        assert entry.is_service_entry is not None and "api.payments.example.com" in entry.is_service_entry.hosts

        envoy.clusters.filter.setText("BlackHole")
        menu = envoy.menu_for(envoy.clusters, 0)
        assert menu is not None and [a.text() for a in menu.actions()] == ["No DestinationRule shapes this cluster"]
        assert not menu.actions()[0].isEnabled()

        route = next(i for i, r in enumerate(envoy.routes.visible_rows()) if r.virtual_service == "shop/reviews")
        menu = envoy.menu_for(envoy.routes, route)
        assert menu is not None
        texts = [a.text() for a in menu.actions()]
        assert texts[0] == "Open VirtualService shop/reviews" and "Show service reviews (shop) in the graph" in texts

        # a service the graph has no node of: said, the selection kept
        w.view.select([reviews.id])
        assert not perf.show_service(("nowhere", "ghost"))
        assert "ghost (nowhere) has no node in the graph shown" in envoy.status.text()
        assert w.view.selected_ids() == [reviews.id]
    finally:
        next(windows, None)


def _cluster_view(qtbot: QtBot, emu: KubeEmulator, stats: str) -> EnvoyView:
    """An Envoy view over the emulator, shown on productpage's pod, its config read."""
    emu.add_namespace("shop")
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "productpage-v1-7d9f-abcde", "namespace": "shop"},
             "spec": {"containers": [{"name": "productpage"}, {"name": "istio-proxy"}]}})
    emu.serve_envoy_admin("shop", "productpage-v1-7d9f-abcde", sidecar_dump(), stats=stats)
    view = EnvoyView(KubeEnvoyAdmin(emu.api_client(), timeout=10))
    qtbot.addWidget(view)
    view.confirm = lambda text: True
    view.show()
    return view


def test_over_a_cluster_the_stats_sort_by_value_and_the_log_level_is_read_then_set(
        qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """Through the API server: the Stats tab shows /stats (odd lines left out and counted), values
    sort as numbers (a 64-bit counter past 10^12 after a small one); the proxy's level is read, set,
    and the change is what the proxy got."""
    stats = ("cluster.inbound|9080||.upstream_cx_rx_bytes_total: 1234567890123\n"
             "cluster.inbound|9080||.upstream_rq_total: 999999999999\n"
             "server.live: 1\n"
             "this line is no statistic\n"
             "cluster.xds-grpc.upstream_cx_length_ms: No recorded values\n")
    view = _cluster_view(qtbot, kube_emulator, stats)
    try:
        with qtbot.waitSignal(view.log_level_read, timeout=20000) as read:
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        assert read.args == ["warning"] and view.level_note.text() == "currently warning"
        with qtbot.waitSignal(view.stats_loaded, timeout=20000):
            view.tabs.setCurrentWidget(view._stats_page)
        rows = view.stats.visible_rows()
        assert len(rows) == 4 and "1 line that was no “name: value” left out" in view.stats_note.text()
        assert "read through the API server pod proxy" in view.stats_note.text()
        view.stats.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        values = [r.value for r in view.stats.visible_rows()]
        assert values[:3] == ["No recorded values", "1234567890123", "999999999999"], values
        qtbot.keyClicks(view.stats.filter, "rx_bytes")
        assert [r.value for r in view.stats.visible_rows()] == ["1234567890123"]

        view.level.setCurrentText("debug")
        with qtbot.waitSignal(view.log_level_set, timeout=20000):
            view.set_level.click()
        assert view.level_note.text() == "set to debug"
        assert kube_emulator.envoy_log_levels[("shop", "productpage-v1-7d9f-abcde")] == ["debug"]
    finally:
        view.shutdown()


def test_a_denied_request_says_which_right_is_missing(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """Neither the pod proxy nor a port-forward allowed: the Stats tab and the log-level change each
    say what was not allowed and which rights would do; no level is shown for a proxy not read, and
    nothing is changed."""
    emu = kube_emulator
    emu.forbid(namespace="shop", resource="pods/proxy")
    emu.forbid(namespace="shop", resource="pods/portforward")
    view = _cluster_view(qtbot, emu, "server.live: 1\n")
    try:
        with qtbot.waitSignal(view.failed, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        with qtbot.waitSignal(view.stats_failed, timeout=20000):
            view.tabs.setCurrentWidget(view._stats_page)
        note = view.stats_note.text()
        assert note.startswith("Could not read the statistics") and view.stats.visible_rows() == []
        assert "not allowed to get pods/proxy nor to create pods/portforward in shop" in note
        assert "`get` on `pods/proxy` or `create` on `pods/portforward`" in note

        with qtbot.waitSignal(view.log_level_failed, timeout=20000):
            view.set_level.click()
        said = view.status.text()
        assert view.status.isVisible() and said.startswith("Could not set the proxy's log level")
        assert "not allowed to create pods/proxy nor to create pods/portforward in shop" in said
        assert "`create` on `pods/proxy` or on `pods/portforward`" in said
        assert view.level_note.text() == "" and emu.envoy_log_levels[("shop", "productpage-v1-7d9f-abcde")] == []
    finally:
        view.shutdown()


def test_the_view_is_freed_when_let_go_not_left_to_the_cyclic_collector(qtbot: QtBot) -> None:
    """A widget in a reference cycle is freed whenever the cyclic collector runs, on whatever thread
    runs it: a worker thread parsing a dump then destroys a Qt widget, and the app crashes. The view
    keeps no such cycle (slots are methods; the confirmation is no bound method kept on it)."""
    import gc
    import weakref

    view = EnvoyView()
    ref = weakref.ref(view)
    view.confirm = None
    view.shutdown()
    enabled = gc.isenabled()
    gc.disable()
    try:
        del view
        assert ref() is None, "something still holds the view: a reference cycle"
    finally:
        if enabled:
            gc.enable()


def test_another_pods_certificates_are_not_shown_as_this_ones(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """The Certificates tab kept the pod read before: choosing a pod whose proxy did not answer, a
    workload without a proxy, or going offline emptied every tab but that one, so it showed the first
    pod's SPIFFE identity and validity as if they were the one chosen."""
    emu = kube_emulator
    emu.add_namespace("shop")
    for name in ("productpage-v1-7d9f-abcde", "productpage-v1-7d9f-fghij"):
        emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop"},
                 "spec": {"containers": [{"name": "productpage"}, {"name": "istio-proxy"}]}})
    emu.serve_envoy_admin("shop", "productpage-v1-7d9f-abcde", sidecar_dump())
    view = EnvoyView(KubeEnvoyAdmin(emu.api_client(), timeout=10))
    qtbot.addWidget(view)
    try:
        view.show()
        with qtbot.waitSignal(view.loaded, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde"),
                                                                       _pod("productpage-v1-7d9f-fghij")]))
        view.tabs.setCurrentWidget(view.secrets)
        assert {s.secret for s in view.secrets.visible_rows()} == {"default", "ROOTCA"}
        with qtbot.waitSignal(view.failed, timeout=20000):  # its proxy is not listening
            view.pod.setCurrentIndex(1)
        assert view.secrets.visible_rows() == [] and view.secrets.count.text() == "0"
        with qtbot.waitSignal(view.loaded, timeout=20000):
            view.pod.setCurrentIndex(0)
        assert len(view.secrets.visible_rows()) == 2
        view.set_workload(Workload("mongodb-v1", "shop", pods=[]))  # no proxy to read
        assert view.secrets.visible_rows() == []
        with qtbot.waitSignal(view.loaded, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        view.set_source(None, unavailable="Not available in an offline snapshot")
        assert view.secrets.visible_rows() == [] and not view.secrets.isEnabled()
    finally:
        view.shutdown()


def test_a_log_level_change_that_fails_after_another_pod_is_chosen_is_not_said_of_that_pod(
        qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """A log level change failing after the user had chosen another pod said "Could not set the proxy's
    log level" over that pod's config, as if its proxy had refused."""
    emu = kube_emulator
    emu.add_namespace("shop")
    for name in ("productpage-v1-7d9f-abcde", "productpage-v1-7d9f-fghij"):
        emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop"},
                 "spec": {"containers": [{"name": "productpage"}, {"name": "istio-proxy"}]}})
    emu.serve_envoy_admin("shop", "productpage-v1-7d9f-fghij", sidecar_dump())  # the first one's proxy is down
    view = EnvoyView(KubeEnvoyAdmin(emu.api_client(), timeout=10))
    qtbot.addWidget(view)
    view.confirm = lambda text: True
    try:
        view.show()
        with qtbot.waitSignal(view.failed, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde"),
                                                                       _pod("productpage-v1-7d9f-fghij")]))
        release, held = emu.hold_requests("/api/v1/namespaces/shop/pods/productpage-v1-7d9f-abcde/")
        assert view.change_log_level("debug")
        assert held.wait(10)
        with qtbot.waitSignal(view.loaded, timeout=20000):  # the second pod's config
            view.pod.setCurrentIndex(1)
        said = view.status.text()
        # the change fails; then the second pod's level is read (the same thread, after the change)
        with qtbot.waitSignals([view.log_level_failed, view.log_level_read], timeout=20000):
            release.set()
        assert view.level_note.text() == "currently warning" and view.status.text() == said
    finally:
        view.shutdown()


class _Relay(QObject):
    """Hears a worker's signal on the UI thread (a slot of an object living there), and says so."""

    heard = Signal()

    @Slot(int, object)
    def relay(self, _generation: int, _result: object) -> None:
        self.heard.emit()


def test_statistics_read_for_a_pod_no_longer_chosen_are_not_shown(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """The Stats tab showed the statistics of the pod chosen before when they came after the user had
    chosen a workload without a proxy: a table of one proxy's counters under "no istio-proxy container"."""
    view = _cluster_view(qtbot, kube_emulator, "server.live: 1\ncluster.inbound|9080||.upstream_rq_total: 7\n")
    try:
        with qtbot.waitSignal(view.loaded, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[_pod("productpage-v1-7d9f-abcde")]))
        release, held = kube_emulator.hold_requests("/api/v1/namespaces/shop/pods/productpage-v1-7d9f-abcde")
        view.tabs.setCurrentWidget(view._stats_page)  # the statistics are asked for, and held
        assert held.wait(10)
        view.set_workload(Workload("mongodb-v1", "shop", pods=[Pod("mongodb-v1-abc", "shop", phase="Running",
                                                                   containers=[Container("mongodb", ready=True)])]))
        assert "no istio-proxy container" in view.status.text()
        heard = _Relay()  # the read's answer, heard on the UI thread after the view heard it
        view._stats_worker.done.connect(heard.relay)
        with qtbot.waitSignal(heard.heard, timeout=20000):
            release.set()
        assert view.stats.visible_rows() == [] and view.tabs.tabText(view.tabs.indexOf(view._stats_page)) == "Stats"
        assert "Reading the statistics" not in view.stats_note.text()
    finally:
        view.shutdown()


def test_return_in_the_log_level_question_does_not_change_the_proxy(qtbot: QtBot) -> None:
    """Asked whether to set a running proxy's log level (a write to the cluster), a Return typed on said
    Yes: the question's default button is No, as for any change a keystroke should not confirm."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    view = EnvoyView()
    qtbot.addWidget(view)
    pressed: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        pressed.append(box.defaultButton().text() if box.defaultButton() is not None else "")
        qtbot.keyClick(box, Qt.Key.Key_Return)

    QTimer.singleShot(0, answer)
    try:
        assert view._ask("Set every logger of the Envoy proxy of shop/web-v1-abc to debug?") is False
        assert pressed and pressed[0].replace("&", "") == "No"
    finally:
        view.shutdown()
