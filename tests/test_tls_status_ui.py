"""The mesh-wide mTLS lock in the status bar and each namespace's mTLS in the summary panel, on the
demo mesh, before and after a STRICT mesh-wide PeerAuthentication is applied to it."""

from __future__ import annotations

from meshdesk.mesh.inventory import IstioObject
from tests.ui_helpers import shown


def _mtls_rows(text: str) -> dict[str, str]:
    """The summary panel's "mTLS" row (the line after it) per "Namespace x" section."""
    out, ns = {}, ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Namespace "):
            ns = line.split(" ", 1)[1]
        elif line == "mTLS" and ns:
            out[ns] = lines[i + 1]
    return out


def test_the_window_shows_the_mesh_wide_lock_and_follows_a_strict_policy(qtbot, demo_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["hello", "shop"])
    shown(qtbot, w, lambda g: bool(g.nodes))
    lock = w.status_mtls
    qtbot.waitUntil(lambda: lock.isVisible() and lock.text() == "mTLS: automatic", timeout=10000)
    assert lock.status is not None and lock.status.icon == "hollow"
    assert lock.toolTip().startswith("Only automatic mTLS: nothing mesh-wide enforces mTLS")
    assert "no mesh-wide PeerAuthentication (in istio-system" in lock.toolTip()
    assert "automatic mTLS on" in lock.toolTip()
    qtbot.waitUntil(lambda: _mtls_rows(w.panel.text()).keys() == {"hello", "shop"}, timeout=10000)
    rows = _mtls_rows(w.panel.text())
    assert rows == {"hello": "Permissive (from the mesh)", "shop": "Strict"}
    assert "Mesh-wide mTLS\nOnly automatic mTLS" in w.panel.text()
    before = tmp_path / "before.json"
    assert w.save_snapshot(str(before))

    demo = w.poller.source
    demo.apply(IstioObject("PeerAuthentication", "default", "istio-system", api_version="security.istio.io/v1",
                           spec={"mtls": {"mode": "STRICT"}}))
    w.refresh_now()
    qtbot.waitUntil(lambda: lock.text() == "mTLS: enabled", timeout=10000)
    assert lock.status is not None and lock.status.icon == "full"
    assert lock.toolTip().startswith("Mesh-wide mTLS is enabled")
    assert "PeerAuthentication istio-system/default: STRICT" in lock.toolTip()
    qtbot.waitUntil(lambda: _mtls_rows(w.panel.text()).get("hello") == "Strict (from the mesh)", timeout=10000)
    assert _mtls_rows(w.panel.text())["shop"] == "Strict"
    assert "mesh-wide PeerAuthentication istio-system/default: STRICT" in w.panel.text()

    # a snapshot taken before says what the mesh was then, offline
    w.open_snapshot(str(before))
    qtbot.waitUntil(lambda: w.info is not None and not w.info.live and lock.text() == "mTLS: automatic",
                    timeout=10000)
    assert "no mesh-wide PeerAuthentication" in lock.toolTip()
