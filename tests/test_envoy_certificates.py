"""The proxy's certificates (``istioctl proxy-config secret``): the Envoy dock's Certificates tab reads
the workload certificate and the mesh's root from the config dump, with the SPIFFE identity and how long
each is valid; an expired or not-yet-valid one is said. Certificates made here with ``cryptography``,
served by the Kubernetes API emulator's pod proxy as a real proxy's admin port answers."""

from __future__ import annotations

import base64
import datetime
import time
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from pytestqt.qtbot import QtBot

from meshdesk.mesh.envoy import (
    EnvoyConfig,
    certificate_rows,
    parse_config_dump,
    parse_secrets,
    redact_secrets,
)
from meshdesk.mesh.inventory import Container, Pod, Workload
from meshdesk.sources.envoy import KubeEnvoyAdmin
from meshdesk.ui.envoy_view import EnvoyView
from tests.envoy_samples import PRIVATE_KEY_B64, sidecar_dump
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

NOW = float(int(time.time()))  # whole seconds, as certificates keep their times
SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"


def _cert(identity: str, start_h: float, hours: float, issuer: tuple[Any, x509.Certificate] | None = None) -> tuple[Any, x509.Certificate]:
    """A key and certificate valid from ``start_h`` hours from now for ``hours``; a CA when no issuer."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = datetime.datetime.fromtimestamp(NOW + start_h * 3600, datetime.UTC)
    builder = x509.CertificateBuilder().public_key(key.public_key()).serial_number(x509.random_serial_number()) \
        .not_valid_before(start).not_valid_after(start + datetime.timedelta(hours=hours))
    if issuer is None:
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, identity)])
        cert = builder.subject_name(name).issuer_name(name) \
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256())
    else:
        cert = builder.subject_name(x509.Name([])).issuer_name(issuer[1].subject) \
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]), critical=True) \
            .sign(issuer[0], hashes.SHA256())
    return key, cert


def _pem(*certs: x509.Certificate) -> str:
    return base64.b64encode(b"".join(c.public_bytes(Encoding.PEM) for c in certs)).decode()


ROOT = _cert("cluster.local", -24, 24 * 3650)
LEAF = _cert("spiffe://cluster.local/ns/shop/sa/productpage", -5, 24, ROOT)
EXPIRED = _cert("spiffe://cluster.local/ns/shop/sa/productpage", -30, 24, ROOT)  # its agent stopped renewing it


def _secrets(leaf: x509.Certificate, warming: x509.Certificate | None = None) -> dict[str, Any]:
    def entry(name: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "secret": {"@type": SECRET_TYPE, "name": name, **body}}

    out: dict[str, Any] = {"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump", "dynamic_active_secrets": [
        entry("default", {"tls_certificate": {"certificate_chain": {"inline_bytes": _pem(leaf, ROOT[1])},
                                              "private_key": {"inline_bytes": PRIVATE_KEY_B64}}}),
        entry("ROOTCA", {"validation_context": {"trusted_ca": {"inline_bytes": _pem(ROOT[1])}}}),
        entry("file-cert", {"tls_certificate": {"certificate_chain": {"filename": "/etc/certs/cert-chain.pem"}}}),
    ]}
    if warming is not None:
        out["dynamic_warming_secrets"] = [entry("default", {"tls_certificate": {
            "certificate_chain": {"inline_bytes": _pem(warming)}}})]
    return out


def test_certificates_are_read_with_their_identity_and_validity() -> None:
    out = EnvoyConfig()
    parse_secrets(_secrets(LEAF[1], warming=EXPIRED[1]), out, now=NOW)
    rows = [(r.secret, r.kind, r.identity, r.state) for r in out.secrets]
    assert rows == [
        ("default", "certificate", "spiffe://cluster.local/ns/shop/sa/productpage", "valid, 19h left"),
        ("default", "issuer certificate", "O=cluster.local", "valid, 3649d left"),
        ("ROOTCA", "trusted CA", "O=cluster.local", "valid, 3649d left"),
        ("default (warming)", "certificate", "spiffe://cluster.local/ns/shop/sa/productpage", "EXPIRED 6h ago"),
    ]  # (a secret read from a file is not in the dump: no row)
    leaf = out.secrets[0]
    assert leaf.issuer == "O=cluster.local" and leaf.serial == f"{LEAF[1].serial_number:x}"
    assert leaf.not_after == LEAF[1].not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S")
    later = _cert("spiffe://cluster.local/ns/shop/sa/productpage", 2, 24, ROOT)[1]  # a clock behind the CA's
    assert certificate_rows("default", "certificate", later.public_bytes(Encoding.PEM), NOW)[0].state == \
        "not valid yet (for 2h)"
    # what is no certificate says so, never a traceback
    assert [r.state for r in certificate_rows("default", "certificate", b"demo placeholder\n", NOW)] == \
        ["not a certificate"]
    broken = b"-----BEGIN CERTIFICATE-----\nTUFERVVQ\n-----END CERTIFICATE-----\n"
    assert certificate_rows("x", "certificate", broken, NOW)[0].state.startswith("unreadable certificate")
    odd = EnvoyConfig()
    parse_secrets({"dynamic_active_secrets": [None, {"name": "x"}, {"secret": {"tls_certificate": {
        "certificate_chain": {"inline_bytes": "%%%not base64"}}}}]}, odd, now=NOW)
    assert [r.state for r in odd.secrets] == ["not a certificate"] and odd.skipped == {"secrets": 2}
    # a dump without secrets (an Envoy outside Istio) is not "shown in part" for it
    assert "secrets" not in parse_config_dump({"configs": []}).missing


def test_the_envoy_dock_shows_an_expired_workload_certificate(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """mTLS failing to one pod: its agent stopped renewing the certificate. The Certificates tab says it
    expired, and when; the private key is never among what is shown."""
    emu = kube_emulator
    emu.add_namespace("shop")
    name = "productpage-v1-7d9f-abcde"
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop"},
             "spec": {"containers": [{"name": "productpage"}, {"name": "istio-proxy"}]}})
    dump = sidecar_dump()
    dump["configs"] = [c for c in dump["configs"] if not str(c.get("@type", "")).endswith("SecretsConfigDump")]
    dump["configs"].append(_secrets(EXPIRED[1]))
    emu.serve_envoy_admin("shop", name, dump)
    view = EnvoyView(KubeEnvoyAdmin(emu.api_client(), timeout=10))
    qtbot.addWidget(view)
    try:
        view.show()
        with qtbot.waitSignal(view.loaded, timeout=20000):
            view.set_workload(Workload("productpage-v1", "shop", pods=[Pod(
                name, "shop", phase="Running",
                containers=[Container("productpage", ready=True), Container("istio-proxy", ready=True)])]))
        tab = next(i for i in range(view.tabs.count()) if view.tabs.tabText(i) == "Certificates")
        view.tabs.setCurrentIndex(tab)
        model = view.secrets.model
        cells = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
        assert cells[0][:4] == ["default", "certificate", "spiffe://cluster.local/ns/shop/sa/productpage",
                                "EXPIRED 6h ago"]
        shown = repr(cells) + repr(view.config)
        assert PRIVATE_KEY_B64 not in shown and "PRIVATE KEY" not in shown
    finally:
        view.shutdown()


def test_the_demo_proxies_hold_a_certificate_of_their_identity() -> None:
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster

    demo = DemoCluster()
    inv = demo.snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    reviews = inv.workload("shop", "reviews-v2")
    assert reviews is not None
    dump, _ = redact_secrets(demo.config_dump("shop", reviews.pods[0].name))
    leaf = parse_config_dump(dump).secrets[0]
    assert leaf.identity == f"spiffe://cluster.local/ns/shop/sa/{reviews.pods[0].service_account}"
    assert leaf.state.startswith("valid, ") and leaf.issuer == "O=cluster.local"
