"""Read the Kubernetes Gateway API's config (gateway.networking.k8s.io) beside Istio's.

Istio implements the Gateway API and recommends it for ingress and, in ambient mode, for mesh routing;
Kiali lists its Gateways, routes and ReferenceGrants with the Istio config and validates them. They are
read here the way the Istio kinds are (``InventoryReader._safe_list``: one cluster-wide list filtered
to the selection, namespace by namespace where that is forbidden, and what stays forbidden or is not
served recorded in ``Inventory.hidden``, never fatal) and kept in ``Inventory.istio`` under Kiali's
kind names (``K8sHTTPRoute`` ...). Each kind is read in the best version the cluster serves: the
experimental TCPRoute and TLSRoute are only served as v1alpha2 (or v1alpha3), ReferenceGrant as
v1beta1 in most releases; the version discovery is ``InventoryReader.istio_versions``.

Their ``hidden`` keys use the resources' full names (``httproutes.gateway.networking.k8s.io``, as
kubectl names them), so the Gateway API's ``gateways`` are never taken for Istio's.

The cluster's GatewayClasses (cluster-scoped) are read too, into ``Inventory.gateway_classes``: what
a Gateway's ``gatewayClassName`` is judged against (KIA1504).

This module is a helper of ``meshdesk.sources.inventory`` (it drives an ``InventoryReader``); the
Gateway API's Gateways that mark gateway nodes in the graph are still read there, cluster-wide
(``Inventory.k8s_gateways``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING

from meshdesk.mesh.inventory import GATEWAY_API_GROUP, K8S_GATEWAY
from meshdesk.mesh.readers import as_dict as _d
from meshdesk.sources.base import Cancelled, Forbidden, NotFound, SourceError, Unauthorized

if TYPE_CHECKING:
    from meshdesk.sources.inventory import InventoryReader, _Listing

# (kind, group, plural) of the Gateway API config listed with the Istio config
GATEWAY_API_CONFIG: tuple[tuple[str, str, str], ...] = (
    (K8S_GATEWAY, GATEWAY_API_GROUP, "gateways"),
    ("K8sHTTPRoute", GATEWAY_API_GROUP, "httproutes"),
    ("K8sGRPCRoute", GATEWAY_API_GROUP, "grpcroutes"),
    ("K8sTCPRoute", GATEWAY_API_GROUP, "tcproutes"),
    ("K8sTLSRoute", GATEWAY_API_GROUP, "tlsroutes"),
    ("K8sReferenceGrant", GATEWAY_API_GROUP, "referencegrants"),
)
GATEWAY_CLASS = "K8sGatewayClass"  # only for version discovery: classes are kept by name, not as objects
GATEWAY_CLASSES = f"gatewayclasses.{GATEWAY_API_GROUP}"
# the kinds whose versions ``InventoryReader.istio_versions`` discovers for this module (the Gateway
# kind, which the graph needs, is discovered there already)
GATEWAY_API_DISCOVERED: tuple[tuple[str, str, str], ...] = (
    *(k for k in GATEWAY_API_CONFIG if k[0] != K8S_GATEWAY), (GATEWAY_CLASS, GATEWAY_API_GROUP, "gatewayclasses"))


def resource_label(plural: str) -> str:
    """What ``Inventory.hidden`` names a Gateway API resource by: ``httproutes.gateway.networking.k8s.io``."""
    return f"{plural}.{GATEWAY_API_GROUP}"


def submit_lists(reader: InventoryReader, pool: Executor, names: Sequence[str],
                 versions: Mapping[str, tuple[str, str]]) -> list[tuple[str, str, str, Future[_Listing]]]:
    """Start listing each Gateway API config kind the cluster serves in ``names``: (kind, group,
    version, the listing to come), as ``InventoryReader.read`` lists the Istio kinds."""
    out = []
    for kind, _group, plural in GATEWAY_API_CONFIG:
        served = versions.get(kind)
        if served is None:
            continue  # the Gateway API (or this kind of it) is not installed: nothing to list
        group, version = served
        out.append((kind, group, version, pool.submit(reader._safe_list, f"/apis/{group}/{version}", plural,
                                                      names, resource_label(plural))))
    return out


def read_gateway_classes(reader: InventoryReader, versions: Mapping[str, tuple[str, str]]) -> None:
    """``Inventory.gateway_classes`` from the cluster's GatewayClasses (one call). Left None, and said
    in ``hidden``, when they cannot be listed (the classes of Gateways are then not judged); left None
    quietly when the Gateway API is not installed."""
    served = versions.get(GATEWAY_CLASS)
    if served is None:
        return
    group, version = served
    try:
        items = reader.http.list_items(f"/apis/{group}/{version}/gatewayclasses", what=f"list {GATEWAY_CLASSES}")
    except (Unauthorized, Cancelled):
        raise
    except SourceError as e:
        if not isinstance(e, Forbidden | NotFound) and getattr(e, "http_status", 0) < 500:
            raise  # network failures and timeouts concern every kind (as ``InventoryReader._safe_list``)
        reader.inv.hidden[f"*/{GATEWAY_CLASSES}"] = f"{e.kind}: {e.message} (Gateways' classes are not checked)"
        return
    classes: dict[str, str] = {}
    for item in items:
        meta, spec = _d(item.get("metadata")), _d(item.get("spec"))
        if isinstance(meta.get("name"), str) and meta["name"]:
            controller = spec.get("controllerName")
            classes[meta["name"]] = controller if isinstance(controller, str) else ""
    reader.inv.gateway_classes = dict(sorted(classes.items()))
