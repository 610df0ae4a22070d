"""The Kubernetes Gateway API's CRDs as a cluster serves them, for the API emulator.

Istio's CRD file (``../shared/fixtures/istio/crds``) does not hold them: clusters install them from the
Gateway API's own release. Only what the emulator reads is given (group, names, scope and the versions
served, best first as discovery lists them), after the Gateway API v1.2 experimental channel: Gateway,
GatewayClass and HTTPRoute in v1 and v1beta1, GRPCRoute in v1, ReferenceGrant in v1beta1 (and the
deprecated v1alpha2), TCPRoute and TLSRoute in v1alpha2 only.
"""

from __future__ import annotations

from typing import Any

GROUP = "gateway.networking.k8s.io"

# kind -> (plural, served versions, namespaced)
SERVED: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "GatewayClass": ("gatewayclasses", ("v1", "v1beta1"), False),
    "Gateway": ("gateways", ("v1", "v1beta1"), True),
    "HTTPRoute": ("httproutes", ("v1", "v1beta1"), True),
    "GRPCRoute": ("grpcroutes", ("v1",), True),
    "ReferenceGrant": ("referencegrants", ("v1beta1", "v1alpha2"), True),
    "TCPRoute": ("tcproutes", ("v1alpha2",), True),
    "TLSRoute": ("tlsroutes", ("v1alpha2",), True),
}


def crd(kind: str) -> dict[str, Any]:
    plural, versions, namespaced = SERVED[kind]
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {"group": GROUP, "scope": "Namespaced" if namespaced else "Cluster",
                 "names": {"plural": plural, "kind": kind, "singular": kind.lower()},
                 "versions": [{"name": v, "served": True, "storage": i == 0} for i, v in enumerate(versions)]},
    }


def install(emu: Any, kinds: tuple[str, ...] = tuple(SERVED)) -> None:
    """Serve the Gateway API kinds ``kinds`` (all by default) from the emulator."""
    for kind in kinds:
        emu.add_crd(crd(kind))
