"""meshdesk's checks of a Sidecar's listeners beyond hosts and ports, as Istio's validation refuses them:
an ingress listener's default endpoint or bind (MDK1001), an egress listener's bind or capture mode
(MDK1002). A Sidecar the form writes has none of them; one written as YAML, or in the cluster from before
the webhook checked it, is marked."""

from __future__ import annotations

from typing import Any

import pytest

from meshdesk.mesh.inventory import Inventory, IstioObject, Namespace, Service, Workload
from meshdesk.mesh.security import EgressListener, IngressListener, build_sidecar
from meshdesk.mesh.validations import ERROR, validate


def _findings(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    sc = IstioObject("Sidecar", "sc", "bookinfo", spec={"workloadSelector": {"labels": {"app": "reviews"}}, **spec})
    inv = Inventory(namespaces=[Namespace("bookinfo")], istio=[sc],
                    workloads=[Workload("reviews", "bookinfo", labels={"app": "reviews"})],
                    services=[Service("reviews", "bookinfo", selector={"app": "reviews"})])
    return [(c.code, c.severity, c.path) for c in validate(inv)[("Sidecar", "bookinfo", "sc")].checks
            if c.code.startswith("MDK10")]


def test_what_the_form_writes_is_not_marked() -> None:
    sc = build_sidecar("sc", "bookinfo", [
        EgressListener(["./*"], "0", "HTTP", bind="unix:///var/run/out.sock", capture_mode="NONE"),
        EgressListener(["./*"], "9080", "HTTP", bind="::1", capture_mode="IPTABLES"),
        EgressListener(["istio-system/*"])], selector={"app": "reviews"},
        ingress=[IngressListener("9080", "HTTP", "http", "[::1]:8080", "0.0.0.0", "NONE"),
                 IngressListener("9443", default_endpoint="unix://@app")])
    assert _findings(sc.spec) == []


@pytest.mark.parametrize(("spec", "found"), [
    ({"ingress": [{"port": {"number": 9080}, "defaultEndpoint": "10.1.2.3:8080"}]},
     [("MDK1001", ERROR, "spec/ingress[0]/defaultEndpoint")]),
    ({"ingress": [{"port": {"number": 9080}, "defaultEndpoint": "unix://run/app.sock", "bind": "pod.local"}]},
     [("MDK1001", ERROR, "spec/ingress[0]/defaultEndpoint"), ("MDK1001", ERROR, "spec/ingress[0]/bind")]),
    ({"egress": [{"port": {"number": 0}, "bind": "127.0.0.1", "hosts": ["./*"]}]},
     [("MDK1002", ERROR, "spec/egress[0]/bind")]),
    ({"egress": [{"port": {"number": 0}, "bind": "unix:///x.sock", "captureMode": "IPTABLES", "hosts": ["./*"]}]},
     [("MDK1002", ERROR, "spec/egress[0]/captureMode")]),
    ({"egress": [{"port": {"number": 80}, "bind": "unix:///x.sock", "hosts": ["./*"]}]},
     [("MDK1002", ERROR, "spec/egress[0]/bind")]),
])
def test_a_listener_istio_refuses_is_an_error(spec: dict[str, Any], found: list[tuple[str, str, str]]) -> None:
    assert _findings(spec) == found
