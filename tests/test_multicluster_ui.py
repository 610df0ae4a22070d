"""What the window shows of a node with an inventory of several clusters (merged from them, as a
snapshot may hold), or of one cluster beside another cluster's telemetry (a shared Prometheus): a node
is shown with its own cluster's objects, never another cluster's of the same name."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.inventory import Inventory, IstioObject, Namespace, ServicePort
from meshdesk.ui.perf_views import selected_workload
from tests.graph_samples import http, snapshot
from tests.test_graph_multicluster_inventory import (
    CLUSTERS,
    _both,
    _by_cluster,
    _in,
    _inventory,
    _service,
    _traffic,
    _workload,
)


def test_a_selected_nodes_workload_is_its_own_clusters() -> None:
    """The logs and Envoy docks show the selected node's workload's pods: west's cart-v1 node showed
    east's pods (the first cart-v1 of the merged inventory)."""
    inv = _inventory(*_both("web-v1"), *_both("cart-v1"))
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload"))
    for cluster, node in _by_cluster(g, workload="cart-v1").items():
        w = selected_workload(g, inv, [node.id])
        assert w is not None and w.cluster == cluster and w.pods[0].name.startswith(f"cart-v1-{cluster}-")


def test_a_node_of_a_cluster_the_inventory_was_not_read_from_has_no_workload() -> None:
    """Connected to east, its Prometheus shared with west: west's cart-v1 node is not east's cart-v1, so
    its logs are not east's pods' (nothing of west was read)."""
    east = Inventory(cluster="east", namespaces=[Namespace("shop")],
                     workloads=[_workload(n, "") for n in ("web-v1", "cart-v1")])
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=east, graphType="workload"))
    nodes = _by_cluster(g, workload="cart-v1")
    assert set(nodes) == {"east", "west"}
    own = selected_workload(g, east, [nodes["east"].id])
    assert own is not None and own.name == "cart-v1"
    assert selected_workload(g, east, [nodes["west"].id]) is None


def test_the_details_panel_shows_a_nodes_own_clusters_objects(qtbot: QtBot) -> None:
    """cart-v1 runs 1 pod with a sidecar in east and 3 without one in west, and cart listens on 9080 in
    east, 9081 in west: west's workload, app and service details showed east's (its pods, its labels,
    its ports)."""
    from meshdesk.mesh.graph import model
    from meshdesk.ui.panels import SidePanel

    inv = _inventory(*_both("web-v1"), _workload("cart-v1", "east", labels={"site": "east"}),
                     _workload("cart-v1", "west", sidecar=False, pods=3, labels={"site": "west"}),
                     services=(_service("cart", "east"), replace(_service("cart", "west"), ports=[ServicePort("http", 9081)])))
    panel = SidePanel()
    qtbot.addWidget(panel)
    for graph_type, identity in (("workload", {"node_type": model.NODE_WORKLOAD, "workload": "cart-v1"}),
                                 ("versionedApp", {"node_type": model.NODE_APP, "app": "cart"}),
                                 ("app", {"node_type": model.NODE_SERVICE, "service": "cart"})):
        g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType=graph_type,
                           injectServiceNodes=True))
        nodes = _by_cluster(g, **identity)
        assert set(nodes) == {"east", "west"}, graph_type
        panel.set_data(g, inv)
        for cluster, node in nodes.items():
            other = "west" if cluster == "east" else "east"
            marks = {c: (f"site={c}", f"cart-v1-{c}-", f"{n}/{n} pods ready", f"http {port}/TCP")
                     for c, n, port in (("east", 1, 9080), ("west", 3, 9081))}
            panel.show_selection([node.id])
            text = panel.text()
            assert any(m in text for m in marks[cluster]), (graph_type, cluster, text)
            assert not any(m in text for m in marks[other]), (graph_type, cluster, text)


def test_the_details_panel_says_a_nodes_own_clusters_pods_are_not_available(qtbot: QtBot) -> None:
    """West's cart-v1 has none of its pods available, east's all, and both answer every request: west's
    cart v1 node (versioned app graph) said "Health: Healthy" beside "0/1 pods ready", as east's; its
    panel now says its pods fail, east's does not. A workload node and an app node are judged by their
    own cluster's pods."""
    from meshdesk.mesh.graph import model
    from meshdesk.ui.panels import SidePanel

    inv = _inventory(*_both("web-v1"), _workload("cart-v1", "east"), _workload("cart-v1", "west", available=0),
                     services=tuple(_service("cart", c) for c in CLUSTERS))
    panel = SidePanel()
    qtbot.addWidget(panel)
    for graph_type, identity in (("versionedApp", {"node_type": model.NODE_APP, "app": "cart"}),
                                 ("workload", {"node_type": model.NODE_WORKLOAD, "workload": "cart-v1"}),
                                 ("app", {"node_type": model.NODE_APP, "app": "cart"})):
        g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType=graph_type))
        nodes = _by_cluster(g, **identity)
        assert set(nodes) == {"east", "west"}, graph_type
        panel.set_data(g, inv)
        for cluster, node in nodes.items():
            panel.show_selection([node.id])
            text = panel.text()
            failing = "Failure" in text and "fewer available pods than wanted" in text
            assert failing == (cluster == "west"), (graph_type, cluster, text)
        if graph_type == "versionedApp":  # (the node's own health is its requests', as Kiali's)
            panel.show_selection([nodes["west"].id])
            assert "Pods\nFailure: workload has fewer available pods than wanted" in panel.text()


def test_the_details_panel_says_a_node_of_a_cluster_not_read_has_no_inventory(qtbot: QtBot) -> None:
    """Connected to east, its Prometheus shared with west: west's cart-v1 node showed east's pods."""
    from meshdesk.ui.panels import SidePanel

    east = Inventory(cluster="east", namespaces=[Namespace("shop")],
                     workloads=[_workload(n, "") for n in ("web-v1", "cart-v1")])
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=east, graphType="workload"))
    nodes = _by_cluster(g, workload="cart-v1")
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(g, east)
    panel.show_selection([nodes["west"].id])
    text = panel.text()
    assert "cart-v1--0" not in text and "not read: this node is in cluster west" in text, text
    panel.show_selection([nodes["east"].id])
    assert "cart-v1--0" in panel.text()


def test_list_rows_show_their_own_clusters_nodes_and_health() -> None:
    """cart-v1's requests fail in west only. The Workloads, Apps and Services lists' rows of east's
    cart showed the worst of both clusters' nodes (Failure) and selected west's nodes too; with an
    inventory of one cluster beside a Prometheus shared with west, east's rows did the same."""
    from meshdesk.ui.lists import APPS, SERVICES, WORKLOADS, build_rows

    samples = [_in(http("web-v1", "cart-v1", 10, "500" if c == "west" else "200"), c) for c in CLUSTERS]
    merged = _inventory(*_both("web-v1"), *_both("cart-v1"), services=tuple(_service("cart", c) for c in CLUSTERS))
    east = Inventory(cluster="east", namespaces=[Namespace("shop")],
                     workloads=[_workload(n, "") for n in ("web-v1", "cart-v1")], services=[_service("cart", "")])
    for inv, clusters in ((merged, CLUSTERS), (east, ("east",))):
        g = build(snapshot(samples, inventory=inv, graphType="versionedApp", injectServiceNodes=True))
        rows = build_rows(g, inv, {})
        for page, name in ((WORKLOADS, "cart-v1"), (APPS, "cart"), (SERVICES, "cart")):
            mine = [r for r in rows[page] if r.name == name]
            assert len(mine) == len(clusters), (page, mine)
            for cluster, row in zip(clusters, mine, strict=True):
                assert {g.nodes[i].cluster for i in row.node_ids} == {cluster}, (page, cluster)
                assert (row.health == "Failure") == (cluster == "west"), (page, cluster, row.health)


def test_validation_badges_mark_the_nodes_of_the_objects_cluster_only() -> None:
    """A VirtualService of east's shop routes cart to a subset no DestinationRule defines (a warning):
    east's cart node is badged; west's was too, though nothing of west routes it (an inventory merged
    from both, and east's inventory beside a Prometheus shared with west)."""
    from meshdesk.mesh.graph import model
    from meshdesk.mesh.validation_badges import node_badges

    vs = IstioObject("VirtualService", "cart", "shop", spec={"hosts": ["cart"], "http": [
        {"route": [{"destination": {"host": "cart", "subset": "v9"}}]}]})
    merged = _inventory(*_both("web-v1"), *_both("cart-v1"), services=tuple(_service("cart", c) for c in CLUSTERS),
                        istio=(replace(vs, cluster="east"),))
    east = Inventory(cluster="east", namespaces=[Namespace("shop")], istio=[vs], services=[_service("cart", "")],
                     workloads=[_workload(n, "") for n in ("web-v1", "cart-v1")])
    for inv in (merged, east):
        g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="versionedApp",
                           injectServiceNodes=True))
        badges = node_badges(g, inv)
        services = _by_cluster(g, node_type=model.NODE_SERVICE, service="cart")
        assert {c: badges.get(n.id) for c, n in services.items()} == {"east": "warning", "west": None}


def test_actions_on_another_clusters_node_are_not_offered(tmp_path: Path, qtbot: QtBot) -> None:
    """Connected to east, its Prometheus shared with west: west's cart-v1 node offered "Restart cart-v1"
    and routing for cart, which change east's objects of that name. The menu says why it offers
    nothing; east's node keeps its actions."""
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.store.settings import Settings
    from meshdesk.ui.actions import ActionsController

    east = Inventory(cluster="east", namespaces=[Namespace("shop")], services=[_service("cart", "")],
                     workloads=[_workload(n, "") for n in ("web-v1", "cart-v1")])
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=east, graphType="workload"))
    nodes = _by_cluster(g, workload="cart-v1")
    parent = QWidget()
    qtbot.addWidget(parent)
    ctl = ActionsController(DemoCluster(clock=lambda: 1_767_000_000.0), Settings(tmp_path / "settings.json"), parent)
    own = [a.objectName() for a in ctl.menu_for(nodes["east"], g, east).actions()]
    assert "restart" in own and "traffic-shifting" in own
    menu = ctl.menu_for(nodes["west"], g, east)
    texts = [a.text() for a in menu.actions()]
    assert len(texts) == 1 and "is in cluster west: meshdesk is connected to east" in texts[0], texts
    assert not menu.actions()[0].isEnabled()


def test_the_lists_tell_two_clusters_rows_of_one_name_apart(qtbot: QtBot) -> None:
    """An inventory merged from east and west: the Workloads list had two rows "cart-v1 shop" alike in
    every cell, one the other's twin for the selection kept across refreshes. Each says its cluster, in a
    Cluster column of its own (it was said in the Namespace cell, "shop (cluster west)": neither sorted
    nor filtered by itself)."""
    from meshdesk.ui.lists import APPS, CONFIG, SERVICES, WORKLOADS, MeshLists

    vs = IstioObject("VirtualService", "cart", "shop", spec={"hosts": ["cart"]})
    inv = _inventory(*_both("web-v1"), *_both("cart-v1"), services=tuple(_service("cart", c) for c in CLUSTERS),
                     istio=tuple(replace(vs, cluster=c) for c in CLUSTERS))
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload"))
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(g, inv)
    for title, name in ((WORKLOADS, "cart-v1"), (APPS, "cart"), (SERVICES, "cart"), (CONFIG, "cart")):
        page = lists.pages[title]
        model = page.model
        namespace, cluster = model.columns.index("Namespace"), model.columns.index("Cluster")
        assert not page.table.isColumnHidden(cluster)
        cells = sorted((model.data(model.index(r, namespace)), model.data(model.index(r, cluster)))
                       for r, row in enumerate(model.rows) if row.name == name)
        assert cells == [("shop", "east"), ("shop", "west")], (title, cells)
        identities = [row.identity for row in model.rows if row.name == name]
        assert len(set(identities)) == 2, (title, identities)
        # sorted by cluster: west's rows after east's, and back
        page.table.sortByColumn(cluster, Qt.SortOrder.DescendingOrder)
        shown = [page.proxy.index(r, cluster).data() for r in range(page.proxy.rowCount())]
        assert shown == sorted(shown, reverse=True) and shown[0] == "west", (title, shown)
        # filtered by it: west's rows alone
        page.filter.setText("west")
        qtbot.waitUntil(lambda page=page, cluster=cluster: {page.proxy.index(r, cluster).data()
                                                            for r in range(page.proxy.rowCount())} == {"west"})
        page.filter.setText("")
    # one cluster's inventory: no Cluster column
    alone = _inventory(*(w for w in _both("cart-v1") if w.cluster == "east"), namespaces=(Namespace("shop", cluster="east"),))
    lists.set_data(build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=alone, graphType="workload")), alone)
    page = lists.pages[WORKLOADS]
    assert page.table.isColumnHidden(page.model.columns.index("Cluster"))


def test_the_summary_tells_each_clusters_namespace(qtbot: QtBot) -> None:
    """An inventory merged from east and west, shop ambient in west only, cart-v1 failing in west: the
    summary's one "Namespace shop" section counted both clusters' workloads (4), said nothing of west's
    ambient mode and joined both clusters' health. Each cluster's shop has its own section."""
    from meshdesk.ui.panels import SidePanel

    samples = [_in(http("web-v1", "cart-v1", 10, "500" if c == "west" else "200"), c) for c in CLUSTERS]
    namespaces = (Namespace("shop", cluster="east"),
                  Namespace("shop", labels={"istio.io/dataplane-mode": "ambient"}, cluster="west"))
    inv = _inventory(*_both("web-v1"), *_both("cart-v1"), namespaces=namespaces)
    g = build(snapshot(samples, inventory=inv, graphType="workload"))
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(g, inv)
    panel.show_selection([])
    text = panel.text()
    east = text[text.index("Namespace shop (cluster east)"):text.index("Namespace shop (cluster west)")]
    west = text[text.index("Namespace shop (cluster west)"):]
    for section in (east, west):
        assert "Workloads\n2\n" in section, section
    assert "Data plane" not in east and "Data plane" in west
    assert "Failure" not in east and "Failure" in west


def test_a_nodes_traces_are_asked_by_its_own_clusters_app_label() -> None:
    """The Traces dock asks a workload's traces under its app label: west's cart-v1, labelled app=basket
    there, was asked under east's cart-v1's app label (the first cart-v1 of the merged inventory)."""
    from meshdesk.ui.perf_views import trace_target

    inv = _inventory(*_both("web-v1"), _workload("cart-v1", "east"),
                     _workload("cart-v1", "west", labels={"app": "basket"}))
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload"))
    nodes = _by_cluster(g, workload="cart-v1")
    west, _why = trace_target(g, inv, [nodes["west"].id])
    east, _why = trace_target(g, inv, [nodes["east"].id])
    assert west is not None and west.app == "basket"
    assert east is not None and east.app == "cart"


def _two_carts() -> Inventory:
    """east and west each have a VirtualService shop/cart: east's routes to a subset no DestinationRule
    defines (KIA1107, a warning), west's to the service itself (sound)."""
    broken = IstioObject("VirtualService", "cart", "shop", cluster="east", spec={"hosts": ["cart"], "http": [
        {"route": [{"destination": {"host": "cart", "subset": "v9"}}]}]})
    sound = IstioObject("VirtualService", "cart", "shop", cluster="west", spec={"hosts": ["cart"], "http": [
        {"route": [{"destination": {"host": "cart"}}]}]})
    return _inventory(*_both("web-v1"), *_both("cart-v1"), services=tuple(_service("cart", c) for c in CLUSTERS),
                      istio=(broken, sound))


def test_one_clusters_broken_object_is_not_the_other_clusters_finding() -> None:
    """Of a snapshot of east and west, east's VirtualService cart routes to a missing subset: west's cart
    service node was badged too, and west's sound VirtualService counted east's warning, as their findings
    were kept under one name."""
    from meshdesk.mesh.graph import model
    from meshdesk.mesh.validation_badges import counts, node_badges
    from meshdesk.mesh.validations import validate
    from meshdesk.ui.lists import CONFIG, build_rows

    inv = _two_carts()
    found = validate(inv)
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="versionedApp",
                       injectServiceNodes=True))
    badges = node_badges(g, inv, found)
    services = _by_cluster(g, node_type=model.NODE_SERVICE, service="cart")
    assert {c: badges.get(n.id) for c, n in services.items()} == {"east": "warning", "west": None}
    key = ("VirtualService", "shop", "cart")
    assert counts(found, [key], cluster="east") == (0, 1)
    assert counts(found, [key], cluster="west") == (0, 0)
    rows = {r.cluster: r for r in build_rows(g, inv, found)[CONFIG] if r.name == "cart"}
    assert (rows["east"].warnings, rows["west"].warnings) == (1, 0)
    # each row selects its own cluster's nodes (those its object concerns)
    for cluster, row in rows.items():
        assert row.node_ids and {g.nodes[i].cluster for i in row.node_ids} == {cluster}, (cluster, row.node_ids)


def test_the_config_view_shows_each_clusters_object_of_one_name(qtbot: QtBot) -> None:
    """The Istio config view of a snapshot of east and west listed "VirtualService shop/cart" twice,
    alike, and picking either showed east's YAML and findings. Each entry names its cluster and shows its
    own object; picking west's row in the Lists dock shows west's."""
    from meshdesk.ui.config_view import ConfigView
    from meshdesk.ui.lists import CONFIG, MeshLists

    inv = _two_carts()
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(inv)
    texts = sorted(view.objects.item(i).text() for i in range(view.objects.count()))
    assert texts == ["VirtualService shop/cart (east)  [1 warning]", "VirtualService shop/cart (west)  [ok]"], texts
    for i in range(view.objects.count()):
        item = view.objects.item(i)
        view.objects.setCurrentItem(item)
        west = "(west)" in item.text()
        assert ("subset: v9" in view.yaml_text) != west, (item.text(), view.yaml_text)
        assert ("KIA1107" in " ".join(" ".join(r) for r in view.finding_rows())) != west
        assert ("in cluster west" if west else "in cluster east") in view.title.text()

    lists = MeshLists()
    qtbot.addWidget(lists)
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload"))
    lists.set_data(g, inv)
    lists.configSelected.connect(view.show_object)
    page = lists.pages[CONFIG]
    for cluster in CLUSTERS:
        row = next(r for r in page.model.rows if r.name == "cart" and r.cluster == cluster)
        with qtbot.waitSignal(lists.configSelected):
            page.select_identities([row.identity])
        assert ("subset: v9" in view.yaml_text) == (cluster == "east"), cluster
        assert f"in cluster {cluster}" in view.title.text()


def test_a_panels_config_link_opens_its_own_clusters_object(qtbot: QtBot) -> None:
    """West's cart service panel links its VirtualService cart: the link opened east's (the first of
    that name), whose YAML and finding are not west's. It opens west's."""
    from PySide6.QtCore import QUrl

    from meshdesk.mesh.graph import model
    from meshdesk.mesh.validations import validate
    from meshdesk.ui.config_view import ConfigView
    from meshdesk.ui.panels import SidePanel

    inv = _two_carts()
    g = build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="versionedApp",
                       injectServiceNodes=True))
    g.validations = validate(inv)
    panel, view = SidePanel(), ConfigView()
    qtbot.addWidget(panel)
    qtbot.addWidget(view)
    panel.set_data(g, inv)
    view.set_data(inv, g.validations)
    panel.configRequested.connect(view.show_object)
    for cluster, node in _by_cluster(g, node_type=model.NODE_SERVICE, service="cart").items():
        panel.show_selection([node.id])
        href = next(h for _t, h in panel.links() if "VirtualService/shop/cart" in h)
        with qtbot.waitSignal(view.objectShown):
            panel.body.anchorClicked.emit(QUrl(href))
        assert f"in cluster {cluster}" in view.title.text()
        assert ("subset: v9" in view.yaml_text) == (cluster == "east"), cluster


def test_a_rows_details_open_its_own_clusters_object(qtbot: QtBot) -> None:
    """Each cluster's cart service names its VirtualService cart in its Details; opened from west's row,
    the config view shows west's object (sound), from east's, east's (its missing subset), and only east's
    Config cell says the finding."""
    from meshdesk.ui.config_view import ConfigView
    from meshdesk.ui.lists import SERVICES, MeshLists

    inv = _two_carts()
    view = ConfigView()
    qtbot.addWidget(view)
    view.set_data(inv)
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.configSelected.connect(view.show_object)
    lists.set_data(build(snapshot(_traffic(("web-v1", "cart-v1")), inventory=inv, graphType="workload")), inv)
    page = lists.pages[SERVICES]
    lists.setCurrentWidget(page)
    details, config = page.model.columns.index("Details"), page.model.columns.index("Config")
    for cluster in CLUSTERS:
        row = next(r for r in range(page.proxy.rowCount())
                   if page.proxy.index(r, page.model.columns.index("Cluster")).data() == cluster
                   and page.proxy.index(r, 0).data() == "cart")
        cell = page.proxy.index(row, details)
        assert cell.data() == "VirtualService cart"
        tip = page.proxy.index(row, config).data(Qt.ItemDataRole.ToolTipRole)
        assert (tip is not None and "KIA1107" in str(tip)) == (cluster == "east"), (cluster, tip)
        page.table.setFocus()
        page.table.setCurrentIndex(cell)
        with qtbot.waitSignal(lists.configSelected) as opened:
            qtbot.keyClick(page.table, Qt.Key.Key_Return)
        assert opened.args == [("VirtualService", "shop", "cart", cluster)]
        assert ("subset: v9" in view.yaml_text) == (cluster == "east") and f"in cluster {cluster}" in view.title.text()


def test_the_namespaces_list_has_a_row_per_cluster_of_a_namespace(qtbot: QtBot) -> None:
    """A snapshot of east and west: shop was one row, with the labels of whichever cluster came first and
    both clusters' apps and config counted together. Each cluster's shop is its own row: west's on istiod
    revision canary with its failing cart, east's with its VirtualService's warning."""
    from meshdesk.mesh.validations import validate
    from meshdesk.ui.lists import NAMESPACES, MeshLists

    samples = [_in(http("web-v1", "cart-v1", 10, "500" if c == "west" else "200"), c) for c in CLUSTERS]
    namespaces = (Namespace("shop", labels={"istio-injection": "enabled"}, cluster="east"),
                  Namespace("shop", labels={"istio.io/rev": "canary"}, cluster="west"))
    inv = replace(_two_carts(), namespaces=list(namespaces))
    g = build(snapshot(samples, inventory=inv, graphType="versionedApp"))
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(g, inv, validate(inv))
    model = lists.pages[NAMESPACES].model
    rows = {model.data(model.index(r, 1)): {c: model.data(model.index(r, i)) for i, c in enumerate(model.columns)}
            for r in range(model.rowCount())}
    assert set(rows) == {"east", "west"} and {row["Namespace"] for row in rows.values()} == {"shop"}
    east, west = rows["east"], rows["west"]
    assert east["Mesh"] == "sidecar injection (istio-injection=enabled)"
    assert west["Mesh"] == "sidecar injection, revision canary (istio.io/rev=canary)"
    assert east["Istio config"] == "1 object: 1 with warnings" and west["Istio config"] == "1 object, all valid"
    assert "Failure" in west["App health"] and "Failure" not in east["App health"]
    # two rows, each kept as its own across refreshes (its selection with it)
    assert sorted(r.identity for r in model.rows) == [("shop", "shop", "east"), ("shop", "shop", "west")]
