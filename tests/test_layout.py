"""Layout algorithms (pure Python): left-to-right ranks, no overlaps, pinned nodes kept, new nodes
placed beside their neighbours without covering anyone, and cancellation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from meshdesk.ui import layout
from tests.synthetic_mesh import mesh_shape

ROOT = Path(__file__).resolve().parent.parent


def _mesh(n: int = 300, e: int = 700) -> tuple[list[str], list[tuple[str, str]]]:
    shape, pairs = mesh_shape(n, e)
    nodes = [f"{ns}/{name}" for ns, name, _ in shape]
    return nodes, [(nodes[a], nodes[b]) for a, b in pairs]


def test_layered_puts_callers_left_of_callees() -> None:
    nodes = ["gateway", "productpage", "reviews", "ratings", "details"]
    edges = [("gateway", "productpage"), ("productpage", "reviews"), ("reviews", "ratings"),
             ("productpage", "details")]
    pos = layout.layered(nodes, edges)
    assert set(pos) == set(nodes)
    for s, t in edges:
        assert pos[s][0] < pos[t][0], (s, t)
    # reviews and details are both called by productpage: same rank, different heights
    assert pos["reviews"][0] == pos["details"][0]
    assert pos["reviews"][1] != pos["details"][1]
    assert not layout.overlaps(pos)


def test_layered_survives_cycles_self_loops_and_unknown_endpoints() -> None:
    nodes = ["a", "b", "c", "d"]
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "c"), ("c", "ghost"), ("d", "d")]
    pos = layout.layered(nodes, edges)
    assert set(pos) == {"a", "b", "c", "d"}
    assert not layout.overlaps(pos)
    # the cycle is drawn as a chain, not piled up
    assert len({pos["a"][0], pos["b"][0], pos["c"][0]}) == 3


@pytest.mark.parametrize("algorithm", ["layered", "force", "grid"])
def test_no_node_covers_another_on_a_mesh_shaped_graph(algorithm: str) -> None:
    nodes, edges = _mesh()
    sizes = {n: (90.0 + (i % 3) * 30, 50.0) for i, n in enumerate(nodes)}
    pos = layout.ALGORITHMS[algorithm](nodes, edges, sizes)
    assert set(pos) == set(nodes)
    assert layout.overlaps(pos, sizes) == []


@pytest.mark.parametrize("algorithm", ["layered", "force", "grid"])
def test_pinned_nodes_stay_and_others_do_not_cover_them(algorithm: str) -> None:
    nodes, edges = _mesh(60, 120)
    pinned = {nodes[0]: (5000.0, 5000.0), nodes[5]: (-300.0, 40.0)}
    pos = layout.ALGORITHMS[algorithm](nodes, edges, fixed=pinned)
    assert pos[nodes[0]] == (5000.0, 5000.0)
    assert pos[nodes[5]] == (-300.0, 40.0)
    assert layout.overlaps(pos) == []


def test_layered_empty_and_single() -> None:
    assert layout.layered([], []) == {}
    assert set(layout.layered(["x"], [])) == {"x"}


def test_place_new_beside_its_neighbour_without_covering_existing_nodes() -> None:
    nodes, edges = _mesh(80, 160)
    existing = layout.layered(nodes, edges)
    anchor = nodes[3]
    new_edges = edges + [(anchor, "newcomer"), ("newcomer", "newcomer-db"), ("lonely", "lonely")]
    placed = layout.place_new(["newcomer", "newcomer-db", "lonely"], new_edges, existing)
    assert set(placed) == {"newcomer", "newcomer-db", "lonely"}
    everything = {**existing, **placed}
    assert layout.overlaps(everything) == []
    # close to its caller: nearer to it than the average node is
    ax, ay = existing[anchor]
    nx_, ny_ = placed["newcomer"]
    dist = ((nx_ - ax) ** 2 + (ny_ - ay) ** 2) ** 0.5
    assert dist < 4 * (layout.DEFAULT_SIZE[0] + layout.RANK_SEP)
    # the chain continues to the right
    assert placed["newcomer-db"][0] > placed["newcomer"][0]


@pytest.mark.parametrize("far", [1e308, -1.7e308, float("inf"), float("nan")])
def test_place_new_beside_a_node_too_far_out_does_not_raise(far: float) -> None:
    """The store refuses such positions; should one reach the canvas anyway, placing nodes next to it
    (its grid cells: 1e308 / 50 is infinity as a whole number) raised OverflowError at every refresh."""
    # two callers there: their mean overflows to infinity, as the demo's saved [1e308, 0] did
    placed = layout.place_new(["b", "c"], [("a", "b"), ("z", "b")], {"a": (far, 0.0), "z": (far, 300.0)})
    assert set(placed) == {"b", "c"}
    assert all(abs(y) < 1e6 for _x, y in placed.values())


def test_a_node_joining_a_box_hemmed_in_on_every_side_still_gets_a_place_of_its_own() -> None:
    """A box with no room to grow (other boxes against it on every side): its new member went where
    its box's middle is, on the member already there, after every place on the plane was tried."""
    wall = 1e6
    hemmed = [(-wall, -wall, -60.0, wall), (60.0, -wall, wall, wall), (-60.0, -wall, 60.0, -35.0), (-60.0, 35.0, 60.0, wall)]
    joined = layout.BoxJoined("box", (-55.0, -30.0, 55.0, 30.0), (0.0, 0.0, 0.0, 0.0), [(r, "") for r in hemmed])
    placed = layout.place_new(["b"], [], {"a": (0.0, 0.0)}, anchors={"b": (0.0, 0.0)}, joins={"b": [joined]})
    assert layout.overlaps({"a": (0.0, 0.0), **placed}) == []


def test_place_new_leaves_existing_alone_and_skips_known_nodes() -> None:
    existing = {"a": (0.0, 0.0), "b": (200.0, 0.0)}
    placed = layout.place_new(["a", "c"], [("a", "c")], existing)
    assert set(placed) == {"c"}
    assert existing == {"a": (0.0, 0.0), "b": (200.0, 0.0)}
    assert layout.overlaps({**existing, **placed}) == []


def test_a_layout_can_be_cancelled() -> None:
    nodes, edges = _mesh()
    for name in ("layered", "force", "grid"):
        with pytest.raises(layout.LayoutCancelled):
            layout.ALGORITHMS[name](nodes, edges, should_stop=lambda: True)


def test_layout_module_runs_without_qt() -> None:
    """layout.py imports no Qt, so it can run in any thread or process (``meshdesk.ui`` itself loads
    Qt, so the file is loaded on its own here)."""
    script = (
        "import sys, importlib.util\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'): raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "spec = importlib.util.spec_from_file_location('layout_alone', 'meshdesk/ui/layout.py')\n"
        "l = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(l)\n"
        "print(len(l.layered(['a', 'b'], [('a', 'b')])))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "2"


def test_groups_are_laid_out_apart() -> None:
    """With groups (namespace boxes), each group's nodes occupy a region no other group's node enters."""
    nodes, edges = _mesh(200, 450)
    groups = {n: n.split("/")[0] for n in nodes}
    pos = layout.layered(nodes, edges, groups=groups)
    assert layout.overlaps(pos) == []
    boxes: dict[str, list[float]] = {}
    for n, (x, y) in pos.items():
        b = boxes.setdefault(groups[n], [x, y, x, y])
        b[0], b[1], b[2], b[3] = min(b[0], x), min(b[1], y), max(b[2], x), max(b[3], y)
    for n, (x, y) in pos.items():
        for g, (x0, y0, x1, y1) in boxes.items():
            if g != groups[n]:
                assert not (x0 <= x <= x1 and y0 <= y <= y1), (n, g)


def test_nested_groups_never_overlap() -> None:
    """namespace > app boxes: boxes of one level are disjoint, and each inner box sits in its outer one."""
    nodes, edges = _mesh(160, 380)
    paths = {n: (n.split("/")[0], n.split("/")[0] + ":" + str(int(n.split("-")[-1]) % 3)) for n in nodes}
    # a few nodes sit directly in the namespace box, outside any app box
    for n in nodes[::11]:
        paths[n] = paths[n][:1]
    pos = layout.layered(nodes, edges, groups=paths)
    assert layout.overlaps(pos) == []
    half_w, half_h = layout.DEFAULT_SIZE[0] / 2, layout.DEFAULT_SIZE[1] / 2

    def boxes(level: int) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for n, (x, y) in pos.items():
            if len(paths[n]) > level:
                b = out.setdefault(paths[n][level], [x - half_w, y - half_h, x + half_w, y + half_h])
                b[0], b[1] = min(b[0], x - half_w), min(b[1], y - half_h)
                b[2], b[3] = max(b[2], x + half_w), max(b[3], y + half_h)
        return out

    for level in (0, 1):
        bs = list(boxes(level).items())
        for i, (a, ra) in enumerate(bs):
            for b, rb in bs[i + 1:]:
                apart = ra[2] <= rb[0] or rb[2] <= ra[0] or ra[3] <= rb[1] or rb[3] <= ra[1]
                assert apart, (level, a, b)
    # nodes directly in a namespace box are not inside one of its app boxes
    inner = boxes(1)
    for n in nodes[::11]:
        x, y = pos[n]
        assert not any(r[0] <= x <= r[2] and r[1] <= y <= r[3] for r in inner.values()), n


def test_drawn_boxes_with_their_padding_never_overlap() -> None:
    """Boxes drawn as the canvas draws them: an app box around its nodes, a namespace box around its
    nodes and its app boxes, each padded (``GROUP_PAD_*``). An app box at the edge of its namespace makes
    the namespace box bigger; the namespace boxes must still stay apart."""
    # a gateway calls into two namespaces, whose boxes then stand one above the other; in each, the
    # nodes sit in app boxes (one app's versions), right at the namespace box's edges
    nodes = ["gateway"] + [f"{ns}/{app}-v{v}" for ns in ("shop", "hello") for app in ("front", "back") for v in (1, 2)]
    edges = [("gateway", "shop/front-v1"), ("gateway", "hello/front-v1")]
    edges += [(f"{ns}/front-v{v}", f"{ns}/back-v{w}") for ns in ("shop", "hello") for v in (1, 2) for w in (1, 2)]
    paths: dict[str, tuple[str, ...]] = {n: (n.split("/")[0], n.split("/")[0] + ":" + n.split("/")[1].split("-")[0])
                                         for n in nodes[1:]}
    pos = layout.layered(nodes, edges, groups=paths)
    half_w, half_h = layout.DEFAULT_SIZE[0] / 2, layout.DEFAULT_SIZE[1] / 2

    def padded(r: list[float]) -> list[float]:
        return [r[0] - layout.GROUP_PAD_X, r[1] - layout.GROUP_PAD_TOP, r[2] + layout.GROUP_PAD_X,
                r[3] + layout.GROUP_PAD_BOTTOM]

    def grow(box: list[float] | None, r: list[float]) -> list[float]:
        if box is None:
            return list(r)
        return [min(box[0], r[0]), min(box[1], r[1]), max(box[2], r[2]), max(box[3], r[3])]

    app_content: dict[str, list[float]] = {}
    ns_content: dict[str, list[float]] = {}
    for n, (x, y) in pos.items():
        r = [x - half_w, y - half_h, x + half_w, y + half_h]
        if n not in paths:
            continue
        if len(paths[n]) > 1:
            app_content[paths[n][1]] = grow(app_content.get(paths[n][1]), r)
        else:
            ns_content[paths[n][0]] = grow(ns_content.get(paths[n][0]), r)
    app_boxes = {a: padded(r) for a, r in app_content.items()}
    for a, r in app_boxes.items():
        ns = a.split(":")[0]
        ns_content[ns] = grow(ns_content.get(ns), r)
    ns_boxes = {ns: padded(r) for ns, r in ns_content.items()}

    def apart(ra: list[float], rb: list[float]) -> bool:
        return ra[2] <= rb[0] or rb[2] <= ra[0] or ra[3] <= rb[1] or rb[3] <= ra[1]

    for level in (ns_boxes, app_boxes):
        items = sorted(level.items())
        for i, (a, ra) in enumerate(items):
            for b, rb in items[i + 1:]:
                assert apart(ra, rb), (a, b, ra, rb)


def test_boxes_without_traffic_are_not_stacked_into_one_tall_column() -> None:
    """Idle nodes shown with no traffic at all (the empty view's "Show idle nodes"): every app box is
    alone in its namespace. Stacked in one column, as a few lone nodes are, the namespace became a
    tower the view could only fit at a zoom that hides every name; boxes are packed in rows."""
    nodes, groups = [], {}
    for ns in ("hello", "shop", "travel"):
        for app in range(8):
            for version in ("svc", "v1"):
                name = f"{ns}/app{app}/{version}"
                nodes.append(name)
                groups[name] = (ns, f"{ns}/app{app}")
    pos = layout.layered(nodes, [], groups=groups)
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    assert height < 3 * width, (width, height)
    # a few lone nodes (an app box's versions) still stand in one column, as one rank would
    versions = layout.layered(["v1", "v2", "v3"], [])
    assert len({x for x, _ in versions.values()}) == 1


def _aspect(pos: dict[str, tuple[float, float]]) -> float:
    w, h = layout.DEFAULT_SIZE
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    return (max(xs) - min(xs) + w) / (max(ys) - min(ys) + h)


@pytest.mark.parametrize("boxes", [False, True])
def test_a_big_mesh_is_laid_out_in_the_proportions_of_its_view(boxes: bool) -> None:
    """300 workloads in 7 namespaces came out as a row of namespace boxes about eight times as wide as
    high (in one namespace, without boxes: ranks of fifty nodes, twice as high as wide): fitted into a
    1280x800 window, that took a zoom of about 0.14, where no name can be read. Too big for its view, a
    layout is shaped near the view's proportions, for a tall view as for a wide one, and still covers
    no node with another or one namespace's nodes with another's."""
    nodes, edges = _mesh(300, 700)
    groups = {n: n.split("/")[0] for n in nodes} if boxes else None
    wide = layout.layered(nodes, edges, groups=groups, view=(1280.0, 800.0))
    assert 1.6 / 1.5 < _aspect(wide) < 1.6 * 1.5
    assert layout.overlaps(wide) == []
    tall = layout.layered(nodes, edges, groups=groups, view=(800.0, 1280.0))
    assert 0.625 / 1.5 < _aspect(tall) < 0.625 * 1.5
    assert layout.overlaps(tall) == []
    if groups is not None:
        for pos in (wide, tall):
            spans = {}
            for n, (x, y) in pos.items():
                s = spans.setdefault(groups[n], [x, y, x, y])
                s[0], s[1], s[2], s[3] = min(s[0], x), min(s[1], y), max(s[2], x), max(s[3], y)
            for n, (x, y) in pos.items():
                assert not any(g != groups[n] and s[0] <= x <= s[2] and s[1] <= y <= s[3] for g, s in spans.items())


def test_a_graph_that_fits_its_view_is_not_reshaped() -> None:
    """A graph the view shows readably as it comes keeps its plain left-to-right ranks (bookinfo's
    chain stays one row, however wide for its height)."""
    nodes = [f"n{i}" for i in range(7)]
    edges = [(f"n{i}", f"n{i + 1}") for i in range(6)]
    pos = layout.layered(nodes, edges, view=(1280.0, 800.0))
    assert len({y for _, y in pos.values()}) == 1
    assert [pos[n][0] for n in nodes] == sorted(pos[n][0] for n in nodes)
    # the same chain in a small window is wrapped into bands, read left to right, top to bottom
    small = layout.layered(nodes, edges, view=(400.0, 300.0))
    assert len({y for _, y in small.values()}) > 1
    assert layout.overlaps(small) == []
    assert sorted(nodes, key=lambda n: (small[n][1], small[n][0])) == nodes


def test_an_ordinary_namespace_keeps_its_flow_in_a_small_view() -> None:
    """In a small window a mesh of a few namespaces is too big to read whole; shaping each namespace
    for the whole window packed one's app boxes in rows (productpage above reviews above ratings), its
    traffic no longer flowing left to right, and the picture got no bigger. A box inside is shaped
    only when it alone is far too big for the view; here nothing changes."""
    apps = {"productpage": ["details", "reviews", "inventory"], "reviews": ["ratings"], "ratings": ["mongodb"],
            "inventory": ["payments"]}
    nodes, edges, groups = ["gateway"], [("gateway", "shop/productpage/svc")], {}
    for app in ["productpage", "details", "reviews", "inventory", "ratings", "mongodb", "payments"]:
        versions = ["v1", "v2", "v3"] if app == "reviews" else ["v1"]
        nodes.append(f"shop/{app}/svc")
        for v in versions:
            nodes.append(f"shop/{app}/{v}")
            edges.append((f"shop/{app}/svc", f"shop/{app}/{v}"))
            edges += [(f"shop/{app}/{v}", f"shop/{callee}/svc") for callee in apps.get(app, [])]
    for ns in ("hello", "travel"):
        nodes += [f"{ns}/front/v1", f"{ns}/back/svc", f"{ns}/back/v1"]
        edges += [(f"{ns}/front/v1", f"{ns}/back/svc"), (f"{ns}/back/svc", f"{ns}/back/v1")]
    edges.append(("gateway", "hello/front/v1"))
    for n in nodes[1:]:
        ns, app, _ = n.split("/")
        groups[n] = (ns, f"{ns}/{app}")
    small = layout.layered(nodes, edges, groups=groups, view=(545.0, 530.0))
    assert small == layout.layered(nodes, edges, groups=groups, shape=False)
    assert small["shop/productpage/v1"][0] < small["shop/reviews/v1"][0] < small["shop/ratings/v1"][0]


def test_a_canvas_squeezed_small_does_not_reshape_a_small_graph() -> None:
    """The layout is shaped for the canvas's size when it runs: a canvas squeezed to 300x200 for a
    moment (a small window, wide docks) made a chain of five calls "too big" and wrapped it into bands,
    which stayed when the window grew. A small canvas gives its proportions, not its size."""
    nodes = [f"n{i}" for i in range(5)]
    edges = [(f"n{i}", f"n{i + 1}") for i in range(4)]
    pos = layout.layered(nodes, edges, view=(300.0, 200.0))
    assert len({y for _, y in pos.values()}) == 1
