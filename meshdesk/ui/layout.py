"""Graph layout algorithms in plain Python (no Qt), so they run in a worker thread and can be
benchmarked alone.

Every function takes node ids and ``(source, target)`` pairs and returns the CENTRE of each node as
``{node_id: (x, y)}`` in scene units. ``sizes`` gives ``(width, height)`` per node (a default is used
for missing ones). ``fixed`` pins nodes to given centres: they come back unchanged and the other
nodes are laid out around them without covering them.

- :func:`layered`: left to right like Kiali's dagre layout: ranks by longest path after breaking
  cycles, dummy nodes on long edges, barycentre sweeps to reduce crossings, then each rank's
  vertical positions pulled towards their neighbours while keeping order and spacing. A graph too
  big to read in its view as it comes is shaped nearer the view's proportions: very tall ranks split
  into side-by-side columns, a very long row of ranks wrapped into bands, many boxes packed in rows.
- :func:`force`: a spring embedder (Fruchterman-Reingold) with repulsion only between nearby nodes
  (a spatial hash), started from the layered layout.
- :func:`grid`: neighbours next to each other in a square grid.
- :func:`place_new`: put nodes that just appeared next to their neighbours, on free cells only.

All take an optional ``should_stop`` callable; when it returns true the work stops early with
:class:`LayoutCancelled`, so a worker can drop a layout for a graph that is already outdated.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

Point = tuple[float, float]
Size = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1

DEFAULT_SIZE: Size = (110.0, 60.0)  # a node shape with its label under it
RANK_SEP = 70.0  # horizontal gap between ranks (plus the widest node of the rank)
NODE_SEP = 20.0  # vertical gap between nodes of a rank
COMPONENT_GAP = 80.0
# A big graph is shaped for the view it is shown in: laid out as it comes, a mesh of a few hundred
# workloads was many ranks wide and one namespace box high (or, in one namespace, a few ranks of fifty
# nodes each: a tall tower), and fitting that into a window took a zoom at which no name can be read.
VIEW_SIZE: Size = (1280.0, 800.0)  # the area a layout is shaped for when the caller does not say
MIN_VIEW: Size = (640.0, 400.0)  # a smaller view is taken as this big (in its own proportions)
RESHAPE_BELOW_ZOOM = 0.6  # a layout that fits its view at this zoom or closer is left as it comes
RESHAPE_GAIN = 1.3  # ... and one that reshaping would not show this much bigger (it costs the plain flow)
SUB_COLUMN_SEP = 30.0  # horizontal gap between the columns a tall rank is split into
BAND_SEP = 60.0  # vertical gap between the bands a wide layout is wrapped into


class LayoutCancelled(Exception):
    """Raised inside a layout when ``should_stop()`` said so."""


def _check(should_stop: Callable[[], bool] | None) -> None:
    if should_stop is not None and should_stop():
        raise LayoutCancelled()


def _prepare(
    nodes: Iterable[str], edges: Iterable[tuple[str, str]]
) -> tuple[list[str], dict[str, int], list[tuple[int, int]]]:
    """Unique node list, index map and unique directed edges between known nodes (no self loops)."""
    names: list[str] = []
    index: dict[str, int] = {}
    for n in nodes:
        if n not in index:
            index[n] = len(names)
            names.append(n)
    seen: set[tuple[int, int]] = set()
    out: list[tuple[int, int]] = []
    for s, t in edges:
        a = index.get(s)
        b = index.get(t)
        if a is None or b is None or a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        out.append((a, b))
    return names, index, out


def _components(n: int, edges: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Weakly connected components, each in node order, largest first (stable)."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra
    groups: dict[int, list[int]] = {}
    for v in range(n):
        groups.setdefault(find(v), []).append(v)
    comps = list(groups.values())
    comps.sort(key=lambda c: (-len(c), c[0]))
    return comps


def _size(sizes: Mapping[str, Size] | None, name: str) -> Size:
    if sizes is None:
        return DEFAULT_SIZE
    return sizes.get(name, DEFAULT_SIZE)


# --------------------------------------------------------------------------------------------
# layered


def _break_cycles(vs: Sequence[int], succ: dict[int, list[int]], indeg: dict[int, int]) -> set[tuple[int, int]]:
    """Edges to reverse so the component becomes acyclic (back edges of an iterative DFS that
    starts from the sources)."""
    state: dict[int, int] = {}  # 1 on stack, 2 done
    back: set[tuple[int, int]] = set()
    starts = [v for v in vs if indeg[v] == 0] + list(vs)
    for root in starts:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[int, int]] = [(root, 0)]
        while stack:
            v, i = stack[-1]
            children = succ[v]
            if i < len(children):
                stack[-1] = (v, i + 1)
                w = children[i]
                st = state.get(w)
                if st is None:
                    state[w] = 1
                    stack.append((w, 0))
                elif st == 1:
                    back.add((v, w))
            else:
                state[v] = 2
                stack.pop()
    return back


def _rank(vs: Sequence[int], dag: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Longest-path ranks from the sources, then sources pulled right next to their first target."""
    succ: dict[int, list[int]] = {v: [] for v in vs}
    pred: dict[int, list[int]] = {v: [] for v in vs}
    indeg = dict.fromkeys(vs, 0)
    for a, b in dag:
        succ[a].append(b)
        pred[b].append(a)
        indeg[b] += 1
    rank = dict.fromkeys(vs, 0)
    queue = deque(v for v in vs if indeg[v] == 0)
    while queue:
        v = queue.popleft()
        r = rank[v] + 1
        for w in succ[v]:
            if rank[w] < r:
                rank[w] = r
            indeg[w] -= 1
            if indeg[w] == 0:
                queue.append(w)
    for v in vs:
        if not pred[v] and succ[v]:
            rank[v] = min(rank[w] for w in succ[v]) - 1
    low = min(rank.values()) if rank else 0
    if low:
        for v in rank:
            rank[v] -= low
    return rank


def _pav(target: list[float], gaps: list[float]) -> list[float]:
    """Positions as close as possible (least squares) to ``target`` keeping ``y[i+1]-y[i] >= gaps[i]``
    (pool adjacent violators on the gap-free coordinates)."""
    n = len(target)
    if n == 0:
        return []
    offset = [0.0] * n
    for i in range(1, n):
        offset[i] = offset[i - 1] + gaps[i - 1]
    z = [target[i] - offset[i] for i in range(n)]
    # blocks of (sum, count)
    sums: list[float] = []
    counts: list[int] = []
    for val in z:
        s, c = val, 1
        while sums and sums[-1] / counts[-1] > s / c:
            s += sums.pop()
            c += counts.pop()
        sums.append(s)
        counts.append(c)
    out: list[float] = []
    for s, c in zip(sums, counts, strict=True):
        out.extend([s / c] * c)
    return [out[i] + offset[i] for i in range(n)]


def _layered_component(
    vs: list[int],
    edges: list[tuple[int, int]],
    wh: list[Size],
    sweeps: int,
    should_stop: Callable[[], bool] | None,
    view: Size | None = None,
) -> dict[int, Point]:
    """Layered layout of one connected component; coordinates start near (0, 0). With ``view`` (the
    area it is to be shown in), a component that would fit that area only at a zoom below
    ``RESHAPE_BELOW_ZOOM`` is shaped nearer its proportions, when that shows it ``RESHAPE_GAIN`` times
    bigger: ranks much taller than that are split into side-by-side columns, and a row of ranks much
    wider is wrapped into bands, one under the other."""
    if len(vs) == 1:
        return {vs[0]: (0.0, 0.0)}
    succ0: dict[int, list[int]] = {v: [] for v in vs}
    indeg0 = dict.fromkeys(vs, 0)
    for a, b in edges:
        succ0[a].append(b)
        indeg0[b] += 1
    back = _break_cycles(vs, succ0, indeg0)
    dag: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    for a, b in edges:
        e = (b, a) if (a, b) in back else (a, b)
        if e not in seen:
            seen.add(e)
            dag.append(e)
    rank = _rank(vs, dag)
    _check(should_stop)

    # dummy vertices on edges that span more than one rank; ids after the real ones
    next_id = len(wh)
    dummy_rank: dict[int, int] = {}
    up: dict[int, list[int]] = {v: [] for v in vs}  # neighbours one rank to the left
    down: dict[int, list[int]] = {v: [] for v in vs}  # neighbours one rank to the right
    for a, b in dag:
        ra, rb = rank[a], rank[b]
        prev = a
        for r in range(ra + 1, rb):
            d = next_id
            next_id += 1
            dummy_rank[d] = r
            up[d] = []
            down[d] = []
            down[prev].append(d)
            up[d].append(prev)
            prev = d
        down[prev].append(b)
        up[b].append(prev)
    nranks = max(rank.values()) + 1
    layers: list[list[int]] = [[] for _ in range(nranks)]

    # initial order: DFS from the rank-0 vertices so that related vertices start close
    visited: set[int] = set()
    order_seq: list[int] = []
    for root in sorted(vs, key=lambda v: rank[v]):
        if root in visited:
            continue
        stack = [root]
        while stack:
            v = stack.pop()
            if v in visited:
                continue
            visited.add(v)
            order_seq.append(v)
            stack.extend(reversed(down[v]))
    for v in order_seq:
        layers[rank[v] if v in rank else dummy_rank[v]].append(v)
    pos: dict[int, float] = {}
    for layer in layers:
        for i, v in enumerate(layer):
            pos[v] = float(i)

    def sweep(ranks: Iterable[int], nbrs: dict[int, list[int]]) -> None:
        for r in ranks:
            layer = layers[r]
            keyed = []
            for i, v in enumerate(layer):
                ns = nbrs[v]
                if ns:
                    keyed.append((sum(pos[w] for w in ns) / len(ns), i, v))
                else:
                    keyed.append((pos[v], i, v))
            keyed.sort()
            layer[:] = [v for _, _, v in keyed]
            for i, v in enumerate(layer):
                pos[v] = float(i)

    for _ in range(sweeps):
        sweep(range(1, nranks), up)
        sweep(range(nranks - 2, -1, -1), down)
        _check(should_stop)

    def height(v: int) -> float:
        return wh[v][1] if v < len(wh) else 10.0

    def width(v: int) -> float:
        return wh[v][0] if v < len(wh) else 0.0

    # columns: one per rank, or several side by side for a rank split to suit the view
    splits = _rank_splits(layers, height, width, view) if view is not None else [1] * nranks
    columns: list[list[int]] = []
    same_rank: list[bool] = []  # a column continues the rank of the one before it
    for layer, parts in zip(layers, splits, strict=True):
        for i in range(parts):
            columns.append(layer[i::parts])  # taken in turn: the order down the rank stays, roughly
            same_rank.append(i > 0)
    layers = columns
    nranks = len(layers)
    column_of = {v: c for c, layer in enumerate(layers) for v in layer}
    # x: one column per rank
    xs: list[float] = []
    x = 0.0
    for r, layer in enumerate(layers):
        w = max((width(v) for v in layer), default=0.0)
        if r:
            x += w / 2
        xs.append(x)
        x += w / 2 + (SUB_COLUMN_SEP if r + 1 < nranks and same_rank[r + 1] else RANK_SEP)
    # y: packed, then pulled towards neighbours (alternating directions) with order kept
    y: dict[int, float] = {}
    for layer in layers:
        total = sum(height(v) for v in layer) + NODE_SEP * (len(layer) - 1)
        cur = -total / 2
        for v in layer:
            h = height(v)
            y[v] = cur + h / 2
            cur += h + NODE_SEP
    for it in range(2 * sweeps):
        ranks = range(1, nranks) if it % 2 == 0 else range(nranks - 2, -1, -1)
        nbrs = up if it % 2 == 0 else down
        for r in ranks:
            layer = layers[r]
            target = []
            for v in layer:
                ns = nbrs[v]
                if ns:
                    ys = sorted(y[w] for w in ns)
                    m = len(ys)
                    target.append(ys[m // 2] if m % 2 else (ys[m // 2 - 1] + ys[m // 2]) / 2)
                else:
                    target.append(y[v])
            gaps = [(height(layer[i]) + height(layer[i + 1])) / 2 + NODE_SEP for i in range(len(layer) - 1)]
            for v, yy in zip(layer, _pav(target, gaps), strict=True):
                y[v] = yy
        _check(should_stop)
    out = {v: (xs[column_of[v]], y[v]) for v in vs}
    if view is not None:
        out = _wrap_wide(out, column_of, wh, view)
    return out


def _view_size(view: Size | None) -> Size:
    """The area to shape a layout for: ``view`` when it is a real area, else ``VIEW_SIZE``."""
    if view is None:
        return VIEW_SIZE
    w, h = float(view[0]), float(view[1])
    if not (math.isfinite(w) and math.isfinite(h)) or w < 50 or h < 50:
        return VIEW_SIZE  # a view not shown yet, or a nonsense size
    # a canvas squeezed small for a moment (docks, a small window) shapes its proportions, not the
    # size a graph is judged too big at: bookinfo is not wrapped into bands for a 300-pixel canvas
    grow = max(1.0, MIN_VIEW[0] / w, MIN_VIEW[1] / h)
    return (w * grow, h * grow)


def _fit_zoom(w: float, h: float, view: Size) -> float:
    return min(view[0] / max(w, 1.0), view[1] / max(h, 1.0))


def _rank_splits(layers: Sequence[Sequence[int]], height: Callable[[int], float], width: Callable[[int], float],
                 view: Size) -> list[int]:
    """Into how many side-by-side columns to split each rank so that a layout much taller than its
    view's proportions (a few ranks of many nodes each) comes nearer them: the tallest ranks are split
    until the whole is about as wide, for its height, as the view. All ones: nothing to split."""
    heights = [sum(height(v) for v in layer) + NODE_SEP * (len(layer) - 1) for layer in layers]
    widths = [max((width(v) for v in layer), default=0.0) for layer in layers]
    ones = [1] * len(layers)
    tall = max(heights, default=0.0)
    wide = sum(widths) + RANK_SEP * (len(layers) - 1)
    aspect = view[0] / view[1]
    if tall <= 0 or wide / tall >= aspect or _fit_zoom(wide, tall, view) >= RESHAPE_BELOW_ZOOM:
        return ones
    best, best_miss, best_zoom = ones, abs(math.log(wide / tall / aspect)), _fit_zoom(wide, tall, view)
    for k in range(2, 65):
        limit = tall / k  # no column taller than this (but a node's own height)
        parts = [max(1, min(len(layer), math.ceil(h / limit))) for layer, h in zip(layers, heights, strict=True)]
        w = sum(p * wd + (p - 1) * SUB_COLUMN_SEP for p, wd in zip(parts, widths, strict=True)) + \
            RANK_SEP * (len(layers) - 1)
        h = max(hh / p for hh, p in zip(heights, parts, strict=True))
        miss = abs(math.log(w / h / aspect))
        if miss < best_miss:
            best, best_miss, best_zoom = parts, miss, _fit_zoom(w, h, view)
        if w / h >= aspect:
            break
    return best if best_zoom >= RESHAPE_GAIN * _fit_zoom(wide, tall, view) else ones


def _wrap_wide(pos: dict[int, Point], column_of: Mapping[int, int], wh: Sequence[Size],
               view: Size) -> dict[int, Point]:
    """A layout much wider than its view's proportions (a long row of ranks: namespace boxes called
    one after the other, a long chain of calls) wrapped into bands of consecutive ranks, each band
    under the one before and starting at the left, as text wraps, so that the whole comes nearer the
    view's proportions. Unchanged when it fits the view well enough already."""
    if len(pos) < 2:
        return pos
    ncols = max(column_of[v] for v in pos) + 1
    col_x0 = [math.inf] * ncols
    col_x1 = [-math.inf] * ncols
    col_y0 = [math.inf] * ncols
    col_y1 = [-math.inf] * ncols
    for v, (x, y) in pos.items():
        c = column_of[v]
        w, h = wh[v]
        col_x0[c], col_x1[c] = min(col_x0[c], x - w / 2), max(col_x1[c], x + w / 2)
        col_y0[c], col_y1[c] = min(col_y0[c], y - h / 2), max(col_y1[c], y + h / 2)
    cols = [c for c in range(ncols) if col_x0[c] <= col_x1[c]]  # columns of dummy nodes only: none
    if len(cols) < 2:
        return pos
    wide = col_x1[cols[-1]] - col_x0[cols[0]]
    tall = max(col_y1[c] for c in cols) - min(col_y0[c] for c in cols)
    aspect = view[0] / view[1]
    if wide / tall <= aspect or _fit_zoom(wide, tall, view) >= RESHAPE_BELOW_ZOOM:
        return pos

    def bands_of(k: int) -> list[list[int]]:
        """Consecutive columns in ``k`` bands (at most) of about equal width."""
        target = wide / k
        out: list[list[int]] = [[]]
        start = col_x0[cols[0]]
        for c in cols:
            if out[-1] and col_x1[c] - start > target and len(out) < k:
                out.append([])
                start = col_x0[c]
            out[-1].append(c)
        return out

    def extent(band: list[int]) -> tuple[float, float]:
        return (col_x1[band[-1]] - col_x0[band[0]],
                max(col_y1[c] for c in band) - min(col_y0[c] for c in band))

    best: list[list[int]] = [cols]
    best_miss, best_zoom = abs(math.log(wide / tall / aspect)), _fit_zoom(wide, tall, view)
    for k in range(2, len(cols) + 1):
        bands = bands_of(k)
        sizes = [extent(b) for b in bands]
        w = max(s[0] for s in sizes)
        h = sum(s[1] for s in sizes) + BAND_SEP * (len(bands) - 1)
        miss = abs(math.log(w / h / aspect))
        if miss < best_miss:
            best, best_miss, best_zoom = bands, miss, _fit_zoom(w, h, view)
        if w / h <= aspect:
            break
    if len(best) < 2 or best_zoom < RESHAPE_GAIN * _fit_zoom(wide, tall, view):
        return pos
    shift: dict[int, Point] = {}
    top = min(col_y0[c] for c in best[0])
    for band in best:
        y0 = min(col_y0[c] for c in band)
        dx, dy = col_x0[cols[0]] - col_x0[band[0]], top - y0
        for c in band:
            shift[c] = (dx, dy)
        top += max(col_y1[c] for c in band) - y0 + BAND_SEP
    return {v: (x + shift[column_of[v]][0], y + shift[column_of[v]][1]) for v, (x, y) in pos.items()}


COLUMN_LIMIT = 8  # up to this many lone nodes are stacked in one column (like one rank)
# ... while the column is no taller than that many nodes would be: lone boxes (the app boxes of a
# namespace without traffic, idle nodes shown) are shelf-packed, not stacked into a tower
COLUMN_MAX_HEIGHT = COLUMN_LIMIT * (DEFAULT_SIZE[1] + NODE_SEP)


def _pack(comps: list[dict[int, Point]], wh: list[Size], gap: float = COMPONENT_GAP, *,
          column: bool = True) -> dict[int, Point]:
    """Shelf-pack component layouts: rows of components, about as wide as the whole is tall. A few
    lone nodes (e.g. the versions inside an app box) are stacked in a column instead, as one rank
    of a layered layout would be (unless ``column`` is False: a grid keeps to rows)."""
    if (column and 1 < len(comps) <= COLUMN_LIMIT and all(len(c) == 1 for c in comps)
            and sum(wh[v][1] + NODE_SEP for c in comps for v in c) <= COLUMN_MAX_HEIGHT + NODE_SEP):
        out_col: dict[int, Point] = {}
        y = 0.0
        for c in comps:
            (v,) = c
            h = wh[v][1]
            out_col[v] = (0.0, y + h / 2)
            y += h + NODE_SEP
        return out_col
    boxes = []
    area = 0.0
    for c in comps:
        x0 = min(p[0] - wh[v][0] / 2 for v, p in c.items())
        x1 = max(p[0] + wh[v][0] / 2 for v, p in c.items())
        y0 = min(p[1] - wh[v][1] / 2 for v, p in c.items())
        y1 = max(p[1] + wh[v][1] / 2 for v, p in c.items())
        boxes.append((x0, y0, x1 - x0, y1 - y0))
        area += (x1 - x0 + gap) * (y1 - y0 + gap)
    row_width = max(max((b[2] for b in boxes), default=0.0), math.sqrt(area) * 1.3)
    out: dict[int, Point] = {}
    cx = cy = row_h = 0.0
    for c, (x0, y0, w, h) in zip(comps, boxes, strict=True):
        if cx > 0 and cx + w > row_width:
            cx = 0.0
            cy += row_h + gap
            row_h = 0.0
        dx, dy = cx - x0, cy - y0
        for v, (px, py) in c.items():
            out[v] = (px + dx, py + dy)
        cx += w + gap
        row_h = max(row_h, h)
    return out


def layered(
    nodes: Iterable[str],
    edges: Iterable[tuple[str, str]],
    sizes: Mapping[str, Size] | None = None,
    fixed: Mapping[str, Point] | None = None,
    *,
    groups: Mapping[str, str | tuple[str, ...]] | None = None,
    sweeps: int = 4,
    should_stop: Callable[[], bool] | None = None,
    view: Size | None = None,
    shape: bool = True,
) -> dict[str, Point]:
    """Left-to-right layered layout (sources on the left). See the module text.

    ``groups`` (node -> group name, or a path of nested group names outermost first, e.g. its
    namespace box then its app box) lays out each group on its own and packs the groups side by
    side inside their parent group, so boxes drawn around groups do not overlap.

    ``view`` (width, height; default ``VIEW_SIZE``) is the area the layout is for: a graph too big to
    be read there as it comes is shaped nearer the view's proportions (see :func:`_layered_component`);
    not with ``shape`` False."""
    names, _index, es = _prepare(nodes, edges)
    if not names:
        return {}
    wh = [_size(sizes, n) for n in names]
    area = _view_size(view) if shape else None

    def arrange(vs: list[int], es_: list[tuple[int, int]], wh_: list[Size], sweeps_: int,
                should_stop_: Callable[[], bool] | None, view: Size | None = area) -> dict[int, Point]:
        return _layout_components(vs, es_, wh_, sweeps_, should_stop_, view)

    if groups:
        paths: list[tuple[str, ...]] = []
        for n in names:
            g = groups.get(n, ())
            paths.append((g,) if isinstance(g, str) else tuple(g))
        packed, _covers = _layout_groups(list(range(len(names))), es, wh, paths, 0, sweeps, should_stop, arrange,
                                         area)
    else:
        paths = [()] * len(names)
        packed = arrange(list(range(len(names))), es, wh, sweeps, should_stop)
    packed = _clear_crossings(packed, es, wh, paths, should_stop)
    result = {names[v]: p for v, p in packed.items()}
    return _respect_fixed(result, fixed, names, es, sizes)


GROUP_PAD_X = 22.0  # room a drawn box needs around its members, per side
GROUP_PAD_TOP = 36.0  # ... and above them (its title)
GROUP_PAD_BOTTOM = 22.0


def _layout_groups(
    vs: list[int],
    es: list[tuple[int, int]],
    wh: list[Size],
    paths: list[tuple[str, ...]],
    depth: int,
    sweeps: int,
    should_stop: Callable[[], bool] | None,
    arrange: Callable[..., dict[int, Point]] | None = None,
    view: Size | None = None,
) -> tuple[dict[int, Point], Rect]:
    """Compound layout for nested groups (e.g. namespace box > app box), like dagre's compound
    graphs: each inner group is laid out first, then stands as one big node in its parent's layout
    (edges to and from its members become edges to it), so traffic still flows left to right
    across boxes and no two boxes overlap. Also returns what the layout covers (x0, y0, x1, y1): its
    nodes, and its inner groups' boxes with their padding (an inner group at the edge of its parent
    makes the parent's box that much bigger). ``arrange`` places a level's nodes and group boxes
    (default: the layered layout of each component, packed). With ``view``, a level of boxes that the
    view could show only at a zoom too small to read (many namespaces calling one another: a long row
    of boxes) is packed in rows instead, in the order the layout gave them, when that fits the view
    much better (see :func:`_rows_in_order`)."""
    place = arrange if arrange is not None else _layout_components
    # a box inside is only part of what the view shows: shaped only when it alone would be fitted at
    # half the zoom that shapes the whole (a namespace of hundreds of workloads among others, not the
    # app boxes of an ordinary one, whose flow from left to right is worth more)
    inner_view = (2 * view[0], 2 * view[1]) if view is not None else None
    if all(len(paths[v]) <= depth for v in vs):
        flat = place(vs, es, wh, sweeps, should_stop) if view is None else \
            place(vs, es, wh, sweeps, should_stop, view=view)
        return flat, _covered([(p, wh[v]) for v, p in flat.items()])
    members: dict[str, list[int]] = {}
    direct: list[int] = []
    for v in vs:
        if len(paths[v]) > depth:
            members.setdefault(paths[v][depth], []).append(v)
        else:
            direct.append(v)
    # meta graph: the direct members, then one node per inner group (its box: what it covers, padded)
    meta_of: dict[int, int] = {}
    meta_wh: list[Size] = []
    for v in direct:
        meta_of[v] = len(meta_wh)
        meta_wh.append(wh[v])
    inner: list[tuple[int, dict[int, Point], float, float]] = []  # meta id, layout, centre x, y
    for _key, group in sorted(members.items()):
        inside = set(group)
        sub, (x0, y0, x1, y1) = _layout_groups(group, [(a, b) for a, b in es if a in inside and b in inside], wh,
                                               paths, depth + 1, sweeps, should_stop, arrange, inner_view)
        mid = len(meta_wh)
        for v in group:
            meta_of[v] = mid
        meta_wh.append((x1 - x0 + 2 * GROUP_PAD_X, y1 - y0 + GROUP_PAD_TOP + GROUP_PAD_BOTTOM))
        inner.append((mid, sub, (x0 + x1) / 2, (y0 + y1) / 2))
    seen: set[tuple[int, int]] = set()
    meta_es: list[tuple[int, int]] = []
    for a, b in es:
        e = (meta_of[a], meta_of[b])
        if e[0] != e[1] and e not in seen:
            seen.add(e)
            meta_es.append(e)
    _check(should_stop)
    if view is not None and inner:
        # a level of boxes is laid out as it comes, then packed in rows in that order if the view
        # shows them bigger so (boxes are big and few: rows fill the view better than ranks do)
        meta_pos = _rows_in_order(place(list(range(len(meta_wh))), meta_es, meta_wh, sweeps, should_stop, view=None),
                                  meta_wh, view)
    else:
        meta_pos = place(list(range(len(meta_wh))), meta_es, meta_wh, sweeps, should_stop)
    out: dict[int, Point] = {v: meta_pos[meta_of[v]] for v in direct}
    # members sit below the box's title: the box (members and padding) is centred on its meta node
    shift_y = (GROUP_PAD_TOP - GROUP_PAD_BOTTOM) / 2
    for mid, sub, cx, cy in inner:
        mx, my = meta_pos[mid]
        for v, (x, y) in sub.items():
            out[v] = (x - cx + mx, y - cy + my + shift_y)
    return out, _covered([(meta_pos[m], meta_wh[m]) for m in range(len(meta_wh))])


CLEAR_MAX_NODES = 150  # lines are kept off nodes in graphs up to this size (the pass is quadratic) ...
CLEAR_BUDGET = 120_000  # ... and until this many line-and-node tests are made (a dense graph stops early)
CLEAR_MARGIN = 8.0  # how far a line is kept from a node it passes
CLEAR_STEP = 8.0  # how far a node is tried further up or down, each time
CLEAR_TRIES = 16  # ... and how many times each way


def _crosses(p: Point, q: Point, r: Rect) -> bool:
    """Whether the segment ``p``-``q`` passes through the rectangle ``r`` (x0, y0, x1, y1)."""
    (x0, y0, x1, y1), (px, py), (qx, qy) = r, p, q
    t0, t1 = 0.0, 1.0
    dx, dy = qx - px, qy - py
    for d, lo, hi, start in ((dx, x0, x1, px), (dy, y0, y1, py)):
        if d == 0:
            if not lo < start < hi:
                return False
            continue
        a, b = (lo - start) / d, (hi - start) / d
        if a > b:
            a, b = b, a
        t0, t1 = max(t0, a), min(t1, b)
        if t0 >= t1:
            return False
    return True


def _clear_crossings(pos: dict[int, Point], es: list[tuple[int, int]], wh: list[Size],
                     paths: list[tuple[str, ...]], should_stop: Callable[[], bool] | None) -> dict[int, Point]:
    """Keep lines off the nodes they do not join. Lines are drawn straight, but ranked as if they bent
    round what stands between: a box is laid out on its own, its members in ranks by the edges between
    them, before the layout around it is known, so an edge from outside (a client calling a waypoint's
    workloads, a waypoint of another namespace) ran straight through the members on its row ranked
    before the one it goes to; and a line over several ranks (a client to a waypoint) through the nodes
    of the ranks it skips. An end of such a line, in the same box as a node it runs through, is moved
    up or down, the least that clears the line (its box grows to hold it), when that makes its lines
    cross fewer nodes and it covers no node and no box it is not in. Nodes only move up and down, so
    what lies in a stretch of x is found by bisection."""
    n = len(wh)
    if n > CLEAR_MAX_NODES or not es:
        return pos
    pos = dict(pos)
    margin = (CLEAR_MARGIN, CLEAR_MARGIN)

    def rect(v: int, at: Point | None = None, pad: Size = (0.0, 0.0)) -> Rect:
        (x, y), (w, h) = at or pos[v], wh[v]
        return (x - w / 2 - pad[0], y - h / 2 - pad[1], x + w / 2 + pad[0], y + h / 2 + pad[1])

    def overlap(r: Rect, o: Rect) -> bool:
        return r[0] < o[2] and o[0] < r[2] and r[1] < o[3] and o[1] < r[3]

    by_x = sorted(range(n), key=lambda v: pos[v][0])
    xs = [pos[v][0] for v in by_x]
    reach = max(w for w, _h in wh) / 2 + GROUP_PAD_X * max(map(len, paths), default=0) + CLEAR_MARGIN + NODE_SEP

    def near(x0: float, x1: float) -> list[int]:
        """The nodes whose rectangles (padded as far as a box's) may reach into x0..x1."""
        return by_x[bisect_left(xs, x0 - reach):bisect_right(xs, x1 + reach)]

    tests = [0]  # line-and-node tests made

    def through(p: Point, q: Point, skip: tuple[int, ...], among: Iterable[int] | None = None) -> list[int]:
        """The nodes (of ``among``, else all) the line p-q passes through, but those of ``skip``."""
        candidates = near(min(p[0], q[0]), max(p[0], q[0])) if among is None else among
        lo, hi = min(p[1], q[1]), max(p[1], q[1])
        out = []
        for u in candidates:
            r = rect(u, None, margin)
            if r[3] < lo or r[1] > hi or u in skip:  # not level with the line
                continue
            tests[0] += 1
            if _crosses(p, q, r):
                out.append(u)
        return out

    incident: dict[int, list[int]] = {}
    for a, b in es:
        incident.setdefault(a, []).append(b)
        incident.setdefault(b, []).append(a)
    # the edges over each stretch of x (their ends keep their x)
    span = RANK_SEP * 2
    cells: dict[int, list[tuple[int, int]]] = {}
    for a, b in es:
        lo, hi = sorted((pos[a][0], pos[b][0]))
        for c in range(math.floor(lo / span), math.floor(hi / span) + 1):
            cells.setdefault(c, []).append((a, b))
    members: dict[tuple[str, ...], list[int]] = {}
    for v, path in enumerate(paths):
        for i in range(1, len(path) + 1):
            members.setdefault(path[:i], []).append(v)

    def box(prefix: tuple[str, ...], moved: int, at: Point) -> Rect:
        """The box ``prefix`` is drawn as, with ``moved`` at ``at``: its members and inner boxes, padded."""
        x0 = y0 = math.inf
        x1 = y1 = -math.inf
        for v in members[prefix]:
            depth = len(paths[v]) - len(prefix) + 1
            r = rect(v, at if v == moved else None, (GROUP_PAD_X * depth, 0.0))
            x0, x1 = min(x0, r[0]), max(x1, r[2])
            y0, y1 = min(y0, r[1] - GROUP_PAD_TOP * depth), max(y1, r[3] + GROUP_PAD_BOTTOM * depth)
        return (x0, y0, x1, y1)

    def fits(v: int, at: Point) -> bool:
        """``v`` at ``at`` covers no other node, and its boxes (grown) no node or box outside them."""
        mine = rect(v, at, (NODE_SEP / 2, NODE_SEP / 2))
        if any(u != v and overlap(mine, rect(u)) for u in near(mine[0], mine[2])):
            return False
        for i in range(1, len(paths[v]) + 1):
            own = paths[v][:i]
            grown = box(own, v, at)
            if any(paths[u][:i] != own and overlap(grown, rect(u)) for u in near(grown[0], grown[2])):
                return False
            for q in members:
                if q[:i] != own and q[:len(own)] != own and own[:len(q)] != q and overlap(grown, box(q, v, at)):
                    return False
        return True

    def crossings(v: int, at: Point) -> int:
        """The nodes the lines of ``v`` (at ``at``) pass through, and the lines that pass through ``v``."""
        count = sum(len(through(at, pos[w], (v, w))) for w in incident.get(v, ()))
        mine = rect(v, at, margin)
        seen: set[tuple[int, int]] = set()
        for c in range(math.floor(mine[0] / span), math.floor(mine[2] / span) + 1):
            for a, b in cells.get(c, ()):
                if v not in (a, b) and (a, b) not in seen:
                    seen.add((a, b))
                    tests[0] += 1
                    count += _crosses(pos[a], pos[b], mine)
        return count

    for a, b in es:
        _check(should_stop)
        if tests[0] > CLEAR_BUDGET:
            break
        crossed_any = through(pos[a], pos[b], (a, b))
        for end, other in ((a, b), (b, a)):
            crossed = [u for u in crossed_any if paths[u] == paths[end]]
            if not crossed:
                continue
            # the nearest place that clears the line, the one with fewer crossings of two as near
            now, (x, y) = crossings(end, pos[end]), pos[end]
            best: tuple[int, Point] | None = None
            for k in range(1, CLEAR_TRIES + 1):
                for at in ((x, y + k * CLEAR_STEP), (x, y - k * CLEAR_STEP)):
                    if through(at, pos[other], (a, b), crossed):
                        continue
                    c = crossings(end, at)
                    if c < (now if best is None else best[0]) and fits(end, at):
                        best = (c, at)
                if best is not None:
                    break
            if best is not None:
                pos[end] = best[1]
                crossed_any = through(pos[a], pos[b], (a, b))
    return pos


def _zoom_of(pos: Mapping[int, Point], wh: Sequence[Size], view: Size) -> float:
    """The zoom at which ``view`` shows all of ``pos`` (boxes of sizes ``wh``)."""
    x0, y0, x1, y1 = _covered([(p, wh[v]) for v, p in pos.items()])
    return _fit_zoom(x1 - x0, y1 - y0, view)


def _rows_in_order(pos: dict[int, Point], wh: Sequence[Size], view: Size) -> dict[int, Point]:
    """``pos`` (a level of group boxes and nodes), or, when the view could show that only at a zoom
    below ``RESHAPE_BELOW_ZOOM``, the same boxes packed in rows as wide as suits the view's proportions,
    in reading order of ``pos`` (left to right, then top to bottom: callers still come before what they
    call, row after row), when the view shows them ``RESHAPE_GAIN`` times bigger so. Boxes are big and
    few: a layered layout of them leaves much of its area empty."""
    zoom = _zoom_of(pos, wh, view)
    if len(pos) < 2 or zoom >= RESHAPE_BELOW_ZOOM:
        return pos
    order = sorted(pos, key=lambda v: (pos[v][0], pos[v][1]))
    gap = 2 * NODE_SEP
    area = sum((wh[v][0] + gap) * (wh[v][1] + gap) for v in order)
    widest = max(wh[v][0] for v in order)
    best, best_zoom = pos, zoom
    for factor in (0.8, 0.9, 1.0, 1.1, 1.25, 1.4):
        limit = max(widest, math.sqrt(area * view[0] / view[1]) * factor)
        out: dict[int, Point] = {}
        x = y = row_h = 0.0
        row: list[int] = []
        right = 0.0
        for v in [*order, -1]:  # -1: the end, which closes the last row
            w, h = wh[v] if v >= 0 else (0.0, 0.0)
            if v < 0 or (row and x + w > limit):
                for u in row:  # the row's boxes centred on its middle line
                    out[u] = (out[u][0], y + row_h / 2)
                right = max(right, x - gap)
                y += row_h + gap
                x = row_h = 0.0
                row = []
                if v < 0:
                    break
            out[v] = (x + w / 2, 0.0)
            x += w + gap
            row_h = max(row_h, h)
            row.append(v)
        z = _fit_zoom(right, y - gap, view)
        if z > best_zoom and z >= RESHAPE_GAIN * zoom:
            best, best_zoom = out, z
    return best


def _covered(boxes: Iterable[tuple[Point, Size]]) -> Rect:
    """The rectangle (x0, y0, x1, y1) that boxes of these centres and sizes cover together."""
    x0 = y0 = math.inf
    x1 = y1 = -math.inf
    for (x, y), (w, h) in boxes:
        x0, y0 = min(x0, x - w / 2), min(y0, y - h / 2)
        x1, y1 = max(x1, x + w / 2), max(y1, y + h / 2)
    return (x0, y0, x1, y1)


def _layout_components(
    vs: list[int],
    es: list[tuple[int, int]],
    wh: list[Size],
    sweeps: int,
    should_stop: Callable[[], bool] | None,
    view: Size | None = None,
) -> dict[int, Point]:
    """Lay out each connected component of ``vs`` and pack them (each shaped for ``view``, see
    :func:`_layered_component`)."""
    local = {v: i for i, v in enumerate(vs)}
    comps = _components(len(vs), [(local[a], local[b]) for a, b in es])
    comp_of: dict[int, int] = {}
    for ci, c in enumerate(comps):
        for i in c:
            comp_of[vs[i]] = ci
    by_comp: dict[int, list[tuple[int, int]]] = {}
    for a, b in es:
        by_comp.setdefault(comp_of[a], []).append((a, b))
    laid = []
    for ci, c in enumerate(comps):
        laid.append(_layered_component([vs[i] for i in c], by_comp.get(ci, []), wh, sweeps, should_stop, view))
    return _pack(laid, wh)


def _respect_fixed(
    result: dict[str, Point],
    fixed: Mapping[str, Point] | None,
    names: list[str],
    es: list[tuple[int, int]],
    sizes: Mapping[str, Size] | None,
) -> dict[str, Point]:
    """Keep pinned nodes where they are: shift the computed layout onto them (mean offset) and
    move any free node that would cover a pinned one to the nearest free cell."""
    if not fixed:
        return result
    pinned = {n: (float(p[0]), float(p[1])) for n, p in fixed.items() if n in result}
    if not pinned:
        return result
    dx = sum(pinned[n][0] - result[n][0] for n in pinned) / len(pinned)
    dy = sum(pinned[n][1] - result[n][1] for n in pinned) / len(pinned)
    grid_ = _Occupancy(sizes)
    for n, p in pinned.items():
        grid_.occupy(n, p)
    out: dict[str, Point] = dict(pinned)
    for n in names:
        if n in pinned:
            continue
        want = (result[n][0] + dx, result[n][1] + dy)
        p = grid_.free_near(n, want)
        grid_.occupy(n, p)
        out[n] = p
    return out


# --------------------------------------------------------------------------------------------
# free-cell search used by place_new and fixed handling


_CELL_LIMIT = 1e12  # grid cells (of half a node) this far out are all one cell: room for any real graph


def _cell_index(q: float) -> int:
    """``floor(q)`` for a position divided by a cell's size, which cannot raise: a position too far out
    to hold as a whole number (1e308 / 50 overflowed to infinity, and floor raised at every start), or
    no number at all, counts as the outermost cell."""
    if math.isnan(q):
        return 0
    return math.floor(max(-_CELL_LIMIT, min(_CELL_LIMIT, q)))


class BoxJoined(NamedTuple):
    """A known box a new node goes into (for :func:`place_new`): ``area``, what its content covers now;
    ``margin`` (left, top, right, bottom), what the node takes of it beyond its own size (the frames of
    the boxes between them); ``avoid``, rectangles the box must not grow over (another box's, with the
    id of that box so that it grows as that box does, or a node's outside it, id empty)."""

    box: str
    area: Rect
    margin: Rect
    avoid: Sequence[tuple[Rect, str]]


def _grown(rect: Rect, now: Rect | None, before: Rect | None) -> Rect:
    """``rect`` (a box's, to keep out of) widened by what the box grew from ``before`` to ``now``."""
    if now is None or before is None:
        return rect
    return (rect[0] - (before[0] - now[0]), rect[1] - (before[1] - now[1]),
            rect[2] + (now[2] - before[2]), rect[3] + (now[3] - before[3]))


def _covers_any(rect: Rect, others: Iterable[Rect]) -> bool:
    x0, y0, x1, y1 = rect
    return any(x0 < r[2] and r[0] < x1 and y0 < r[3] and r[1] < y1 for r in others)


class _Occupancy:
    """Occupied cells of a uniform grid; a node covers every cell its box touches."""

    def __init__(self, sizes: Mapping[str, Size] | None, cell: Size | None = None) -> None:
        self.sizes = sizes
        self.cw, self.ch = cell or (DEFAULT_SIZE[0] / 2, DEFAULT_SIZE[1] / 2)
        self.cells: set[tuple[int, int]] = set()

    def _cells(self, name: str, p: Point) -> list[tuple[int, int]]:
        w, h = _size(self.sizes, name)
        w += NODE_SEP
        h += NODE_SEP / 2
        x0 = _cell_index((p[0] - w / 2) / self.cw)
        x1 = _cell_index((p[0] + w / 2 - 1e-6) / self.cw)
        y0 = _cell_index((p[1] - h / 2) / self.ch)
        y1 = _cell_index((p[1] + h / 2 - 1e-6) / self.ch)
        return [(i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1)]

    def occupy(self, name: str, p: Point) -> None:
        self.cells.update(self._cells(name, p))

    def is_free(self, name: str, p: Point, keep_out: Sequence[Rect] = (),
                joins: Sequence[tuple[Rect, Rect, Sequence[Rect]]] = ()) -> bool:
        if any(c in self.cells for c in self._cells(name, p)):
            return False
        if keep_out or joins:
            w, h = _size(self.sizes, name)
            x0, y0, x1, y1 = p[0] - w / 2, p[1] - h / 2, p[0] + w / 2, p[1] + h / 2
            if _covers_any((x0, y0, x1, y1), keep_out):
                return False
            for a, pad, avoid in joins:  # each box it joins, stretched from its members to it
                hull = (min(x0 - pad[0], a[0]), min(y0 - pad[1], a[1]), max(x1 + pad[2], a[2]), max(y1 + pad[3], a[3]))
                if _covers_any(hull, avoid):
                    return False
        return True

    def free_near(self, name: str, want: Point, max_radius: int = 400, keep_out: Sequence[Rect] = (),
                  joins: Sequence[tuple[Rect, Rect, Sequence[Rect]]] = ()) -> Point:
        """The nearest position to ``want`` (spiral over grid steps) where the node covers nobody
        (and no ``keep_out`` rectangle; nor does any box it ``joins``: (the area the box's content
        covers now, the node's margin in it, rectangles the box grown to take the node in must not
        cover)). With no room near ``want`` for the boxes to grow into, the node alone keeps out (a
        box hemmed in on every side would otherwise have every place on the plane tried)."""
        if self.is_free(name, want, keep_out, joins):
            return want
        spiral = _spiral(self.cw, self.ch)
        for i, j in spiral[:_JOINED_TRIES] if joins else spiral:
            p = (want[0] + i * self.cw, want[1] + j * self.ch)
            if self.is_free(name, p, keep_out, joins):
                return p
        if joins:
            return self.free_near(name, want, max_radius, keep_out)
        for r in range(_SPIRAL_RADIUS + 1, max_radius):
            ring: list[tuple[int, int]] = []
            for i in range(-r, r + 1):
                ring.extend(((i, -r), (i, r)))
            for j in range(-r + 1, r):
                ring.extend(((-r, j), (r, j)))
            ring.sort(key=lambda d: d[0] * d[0] * self.cw * self.cw + d[1] * d[1] * self.ch * self.ch)
            for i, j in ring:
                p = (want[0] + i * self.cw, want[1] + j * self.ch)
                if self.is_free(name, p, keep_out):
                    return p
        return want


_SPIRAL_RADIUS = 30
_JOINED_TRIES = 800  # places nearest first where a node's boxes may grow (about 14 cells around)
_spirals: dict[tuple[float, float], list[tuple[int, int]]] = {}


def _spiral(cw: float, ch: float) -> list[tuple[int, int]]:
    """Grid offsets within the spiral radius, nearest first (computed once per cell size)."""
    key = (cw, ch)
    offsets = _spirals.get(key)
    if offsets is None:
        r = _SPIRAL_RADIUS
        offsets = [(i, j) for i in range(-r, r + 1) for j in range(-r, r + 1) if (i, j) != (0, 0)]
        offsets.sort(key=lambda d: (d[0] * d[0] * cw * cw + d[1] * d[1] * ch * ch, d[0] < 0, d))
        _spirals[key] = offsets
    return offsets


def place_new(
    new_nodes: Iterable[str],
    edges: Iterable[tuple[str, str]],
    existing_positions: Mapping[str, Point],
    sizes: Mapping[str, Size] | None = None,
    *,
    anchors: Mapping[str, Point] | None = None,
    keep_out: Mapping[str, Sequence[Rect]] | None = None,
    joins: Mapping[str, Sequence[BoxJoined]] | None = None,
    keep_out_boxes: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Point]:
    """Centres for ``new_nodes`` only: each goes next to its already placed neighbours (right of its
    sources, left of its targets) on the nearest cell where it covers no existing or newly placed
    node. A node without placed neighbours goes near its ``anchors`` entry (e.g. the middle of its
    box), else in a column right of everything. ``keep_out`` lists, per node, rectangles it must not
    cover (other boxes), widened by the frames that will grow around it; ``keep_out_boxes`` names the
    box each stands for: as a box grows with the nodes placed into it, the rectangle grows too, so
    that two boxes growing towards each other do not meet. ``joins`` lists, per node, the known boxes
    it goes into (:class:`BoxJoined`): each, grown from what it holds to take the node in, must not
    cover another box nor a node outside it (one it covers already is the user's doing, and left to
    them). Existing nodes never move."""
    new = [n for n in dict.fromkeys(new_nodes) if n not in existing_positions]
    if not new:
        return {}
    pos: dict[str, Point] = {n: (float(p[0]), float(p[1])) for n, p in existing_positions.items()}
    succ: dict[str, list[str]] = {}
    pred: dict[str, list[str]] = {}
    for s, t in edges:
        if s == t:
            continue
        succ.setdefault(s, []).append(t)
        pred.setdefault(t, []).append(s)
    occ = _Occupancy(sizes)
    for n, p in pos.items():
        occ.occupy(n, p)
    if pos:
        right = max(p[0] + _size(sizes, n)[0] / 2 for n, p in pos.items())
        top = min(p[1] - _size(sizes, n)[1] / 2 for n, p in pos.items())
    else:
        right, top = 0.0, 0.0
    step = DEFAULT_SIZE[0] + RANK_SEP
    out: dict[str, Point] = {}
    areas: dict[str, Rect] = {}  # the boxes new nodes join, as they grow
    first: dict[str, Rect] = {}  # ... and as they were
    pending = deque(new)
    stalled = 0
    lonely_y = top
    while pending:
        n = pending.popleft()
        wants: list[Point] = []
        for s in pred.get(n, []):
            if s in pos:
                wants.append((pos[s][0] + step, pos[s][1]))
        for t in succ.get(n, []):
            if t in pos:
                wants.append((pos[t][0] - step, pos[t][1]))
        if not wants and anchors is not None and n in anchors:
            wants.append(anchors[n])
        if not wants:
            if stalled < len(pending) + 1 and pending:
                # a neighbour may get placed first; come back to this one later
                pending.append(n)
                stalled += 1
                continue
            w, h = _size(sizes, n)
            want = (right + RANK_SEP + w / 2, lonely_y + h / 2)
            lonely_y += h + NODE_SEP
        else:
            want = (sum(p[0] for p in wants) / len(wants), sum(p[1] for p in wants) / len(wants))
        stalled = 0
        out_of = keep_out.get(n, ()) if keep_out else ()
        if areas and keep_out_boxes and n in keep_out_boxes:
            out_of = [_grown(r, areas.get(b), first.get(b)) for r, b in zip(out_of, keep_out_boxes[n], strict=False)]
        levels = []
        for j in (joins.get(n, ()) if joins else ()):
            area = areas.get(j.box, j.area)
            avoid = [_grown(r, areas.get(b), first.get(b)) if b else r for r, b in j.avoid]
            # what the box covers already (the user's doing) is left as it is
            levels.append((area, j.margin, [r for r in avoid if not _covers_any(area, (r,))]))
        p = occ.free_near(n, want, keep_out=out_of, joins=levels)
        w, h = _size(sizes, n)
        for j, (area, m, _avoid) in zip(joins.get(n, ()) if joins else (), levels, strict=False):
            first.setdefault(j.box, j.area)  # the box's next new member sees it grown
            areas[j.box] = (min(area[0], p[0] - w / 2 - m[0]), min(area[1], p[1] - h / 2 - m[1]),
                            max(area[2], p[0] + w / 2 + m[2]), max(area[3], p[1] + h / 2 + m[3]))
        occ.occupy(n, p)
        pos[n] = p
        out[n] = p
    return out


# --------------------------------------------------------------------------------------------
# grid


def _neighbour_order(names: list[str], es: list[tuple[int, int]]) -> list[int]:
    """Node indices by components, breadth first from the node with most edges, so neighbours
    end up close to each other."""
    adj: list[list[int]] = [[] for _ in names]
    for a, b in es:
        adj[a].append(b)
        adj[b].append(a)
    order: list[int] = []
    seen: set[int] = set()
    for comp in _components(len(names), es):
        start = max(comp, key=lambda v: len(adj[v]))
        queue = deque([start])
        seen.add(start)
        while queue:
            v = queue.popleft()
            order.append(v)
            for w in adj[v]:
                if w not in seen:
                    seen.add(w)
                    queue.append(w)
    return order


def _grid_arrange(vs: list[int], es: list[tuple[int, int]], wh: list[Size], _sweeps: int,
                  should_stop: Callable[[], bool] | None) -> dict[int, Point]:
    """One level of a grouped grid: its nodes and group boxes in rows, neighbours next to each other
    (breadth first from the busiest), each in the room its size needs."""
    _check(should_stop)
    local = {v: i for i, v in enumerate(vs)}
    order = _neighbour_order([str(v) for v in vs], [(local[a], local[b]) for a, b in es if a in local and b in local])
    return _pack([{vs[i]: (0.0, 0.0)} for i in order], wh, gap=NODE_SEP * 2, column=False)


def grid(
    nodes: Iterable[str],
    edges: Iterable[tuple[str, str]],
    sizes: Mapping[str, Size] | None = None,
    fixed: Mapping[str, Point] | None = None,
    *,
    groups: Mapping[str, str | tuple[str, ...]] | None = None,
    should_stop: Callable[[], bool] | None = None,
    view: Size | None = None,
) -> dict[str, Point]:
    """A square grid, filled row by row in breadth-first order so neighbours sit together. With
    ``groups`` each group (box) is a grid of its own, and the groups are packed in rows inside their
    parent, so boxes do not overlap or take in nodes that are not theirs. (``view`` is taken as the
    other layouts take it; a grid is square whatever the view.)"""
    names, _index, es = _prepare(nodes, edges)
    if not names:
        return {}
    if groups:
        wh = [_size(sizes, n) for n in names]
        paths = [(g,) if isinstance(g := groups.get(n, ()), str) else tuple(g) for n in names]
        packed, _covers = _layout_groups(list(range(len(names))), es, wh, paths, 0, 0, should_stop,
                                         arrange=_grid_arrange)
        return _respect_fixed({names[v]: p for v, p in packed.items()}, fixed, names, es, sizes)
    order = _neighbour_order(names, es)
    _check(should_stop)
    cw = max(_size(sizes, n)[0] for n in names) + NODE_SEP * 2
    ch = max(_size(sizes, n)[1] for n in names) + NODE_SEP * 2
    cols = max(1, math.ceil(math.sqrt(len(names) * ch / cw)))
    result = {names[v]: ((i % cols) * cw, (i // cols) * ch) for i, v in enumerate(order)}
    return _respect_fixed(result, fixed, names, es, sizes)


# --------------------------------------------------------------------------------------------
# force


def force(
    nodes: Iterable[str],
    edges: Iterable[tuple[str, str]],
    sizes: Mapping[str, Size] | None = None,
    fixed: Mapping[str, Point] | None = None,
    *,
    groups: Mapping[str, str | tuple[str, ...]] | None = None,
    iterations: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    view: Size | None = None,
) -> dict[str, Point]:
    """Spring embedder started from the layered layout; repulsion only between nodes closer than
    a few ideal edge lengths (found through a spatial hash), so one step costs about O(n + e). It
    starts from the layered layout as it comes, not shaped for ``view`` (taken as the other layouts
    take it): the springs pulled a big graph shaped compact into a heap whose overlaps took seconds to
    clear."""
    names, _index, es = _prepare(nodes, edges)
    if not names:
        return {}
    n = len(names)
    start = layered(names, [(names[a], names[b]) for a, b in es], sizes, groups=groups, should_stop=should_stop,
                    sweeps=2, shape=False)
    xs = [start[v][0] for v in names]
    ys = [start[v][1] for v in names]
    k = max(DEFAULT_SIZE) * 1.3  # ideal edge length
    reach = 2.5 * k
    k2 = k * k
    if iterations is None:
        iterations = max(12, min(60, int(60000 / (n + len(es) + 1))))
    temp = k * 2.0
    cool = temp / (iterations + 1)
    for _it in range(iterations):
        _check(should_stop)
        dx = [0.0] * n
        dy = [0.0] * n
        buckets: dict[tuple[int, int], list[int]] = {}
        for v in range(n):
            buckets.setdefault((_cell_index(xs[v] / reach), _cell_index(ys[v] / reach)), []).append(v)
        for (cx, cy), members in buckets.items():
            near: list[int] = []
            for ox in (-1, 0, 1):
                for oy in (-1, 0, 1):
                    bucket = buckets.get((cx + ox, cy + oy))
                    if bucket:
                        near.extend(bucket)
            for v in members:
                xv, yv = xs[v], ys[v]
                fx = fy = 0.0
                for w in near:
                    if w == v:
                        continue
                    ddx = xv - xs[w]
                    ddy = yv - ys[w]
                    d2 = ddx * ddx + ddy * ddy
                    if d2 < 1e-2:
                        ddx, ddy, d2 = 0.1 * ((v * 7 + w) % 5 - 2) + 0.05, 0.1, 0.02
                    f = k2 / d2
                    fx += ddx * f
                    fy += ddy * f
                dx[v] += fx
                dy[v] += fy
        for a, b in es:
            ddx = xs[a] - xs[b]
            ddy = ys[a] - ys[b]
            d = math.sqrt(ddx * ddx + ddy * ddy) or 0.01
            f = d / k
            fx, fy = ddx * f, ddy * f
            dx[a] -= fx
            dy[a] -= fy
            dx[b] += fx
            dy[b] += fy
        for v in range(n):
            d = math.sqrt(dx[v] * dx[v] + dy[v] * dy[v])
            if d > 0:
                s = min(d, temp) / d
                xs[v] += dx[v] * s
                ys[v] += dy[v] * s
        temp = max(temp - cool, 1.0)
    result = _separate({names[v]: (xs[v], ys[v]) for v in range(n)}, sizes)
    return _respect_fixed(result, fixed, names, es, sizes)


def _separate(positions: dict[str, Point], sizes: Mapping[str, Size] | None) -> dict[str, Point]:
    """Move nodes that cover one another to the nearest free spot (left to right, so the
    overall picture stays)."""
    occ = _Occupancy(sizes)
    out: dict[str, Point] = {}
    for name, p in sorted(positions.items(), key=lambda kv: (kv[1][0], kv[1][1])):
        q = occ.free_near(name, p)
        occ.occupy(name, q)
        out[name] = q
    return out


ALGORITHMS: dict[str, Callable[..., dict[str, Point]]] = {"layered": layered, "force": force, "grid": grid}


def overlaps(positions: Mapping[str, Point], sizes: Mapping[str, Size] | None = None) -> list[tuple[str, str]]:
    """Pairs of nodes whose boxes intersect (a check for tests and benchmarks; O(n log n)-ish)."""
    items = sorted(positions.items(), key=lambda kv: kv[1][0])
    widest = max((_size(sizes, n)[0] for n in positions), default=0.0)
    out: list[tuple[str, str]] = []
    for i, (a, pa) in enumerate(items):
        wa, ha = _size(sizes, a)
        for b, pb in items[i + 1:]:
            if pb[0] - pa[0] >= (wa + widest) / 2:
                break
            wb, hb = _size(sizes, b)
            if abs(pb[0] - pa[0]) >= (wa + wb) / 2:
                continue
            if abs(pb[1] - pa[1]) < (ha + hb) / 2:
                out.append((a, b))
    return out
