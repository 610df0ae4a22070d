"""``meshdesk graph`` on a namespace calling a ServiceEntry's host, as a user runs it (a real subprocess on
a snapshot file): the table names the entry's node as a ServiceEntry, and a node graph asked of an entry
says why there is none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from meshdesk.mesh.inventory import IstioObject
from meshdesk.sources.snapshot import save_snapshot
from tests.graph_samples import http, snapshot
from tests.ui_helpers import small_inventory

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshdesk", "graph", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def _file(tmp_path: Path) -> Path:
    """frontend -> api.stripe.com (3 rps, reported by frontend only), a host of ServiceEntry shop/stripe;
    frontend -> cart (5 rps)."""
    inv = small_inventory("shop")
    inv.istio.append(IstioObject("ServiceEntry", "stripe", "shop", spec={
        "hosts": ["api.stripe.com"], "location": "MESH_EXTERNAL", "resolution": "DNS",
        "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}]}))
    stripe = http("frontend-v1", None, 3.0, service="api.stripe.com", reporter="source",
                  destination_service="api.stripe.com", destination_cluster="unknown")
    path = tmp_path / "shop.json"
    save_snapshot(snapshot([stripe, http("frontend-v1", "cart-v1", 5.0)], inv, graphType="versionedApp"), path)
    return path


def test_the_table_names_a_service_entrys_node_a_service_entry(tmp_path: Path) -> None:
    """It printed "shop/stripe (service)", the kind of a Kubernetes Service."""
    out = run("--snapshot", str(_file(tmp_path)))
    assert out.returncode == 0, out.stderr
    row = next(ln for ln in out.stdout.splitlines() if "stripe" in ln)
    assert row.split()[3:6] == ["shop/stripe", "(ServiceEntry)", "http"] and "3.00 rps" in row, row
    cart = next(ln for ln in out.stdout.splitlines() if "cart" in ln)
    assert "shop/cart v1 (app)" in cart


def test_a_node_graph_of_a_service_entry_says_there_is_none(tmp_path: Path) -> None:
    """``--node-service stripe`` answered "no traffic in the requested window", while 3 rps went to the
    entry's host: a ServiceEntry has no node graph (the window opens none for its node, as Kiali)."""
    path = str(_file(tmp_path))
    out = run("--snapshot", path, "--node-service", "stripe")
    assert out.returncode == 2 and out.stdout == ""
    assert "no traffic" not in out.stderr
    assert out.stderr.strip() == (
        "meshdesk graph: shop/stripe is a ServiceEntry (hosts: api.stripe.com), not a service: a ServiceEntry "
        "has no node graph, as in Kiali. Graph namespace shop (without --node-service) to see the requests to "
        "its hosts")
    # a service's node graph is as it was; a name that is neither says what the namespace has
    assert "shop/cart v1 (app)" in run("--snapshot", path, "--node-service", "cart").stdout
    unknown = run("--snapshot", path, "--node-service", "nowhere")
    assert unknown.returncode == 2 and unknown.stderr.strip() == \
        "meshdesk graph: shop has no service nowhere (services: cart, frontend)"
