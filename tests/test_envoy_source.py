"""Reading a pod's Envoy ``/config_dump`` over HTTP from the Kubernetes API emulator: the pod proxy,
the port-forward when the proxy is refused or cannot reach the port, and the typed errors (pod gone,
no sidecar, forbidden with the rights that would do, timeout). No secret comes back."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest
import yaml

from meshdesk.mesh.envoy import parse_config_dump
from meshdesk.sources.base import Forbidden, Timeout, Unreachable
from meshdesk.sources.envoy import KubeEnvoyAdmin, NoEnvoyAdmin, PodGone
from meshdesk.sources.kubeconfig import load_kubeconfig
from meshdesk.sources.portforward import open_port_forward
from tests.envoy_samples import PRIVATE_KEY_B64, sidecar_dump
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

NS, POD = "shop", "productpage-v1-7d9f-abcde"


def _pod(emu: KubeEmulator, name: str = POD, sidecar: bool = True) -> None:
    containers = [{"name": "productpage", "image": "example/productpage:1"}]
    if sidecar:
        containers.append({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.2"})
    emu.add_namespace(NS, {"istio-injection": "enabled"})
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": {"app": "x"}},
             "spec": {"containers": containers}, "status": {"phase": "Running"}})


def _port_forwards(emu: KubeEmulator) -> list[str]:
    return [p for _, p in emu.calls if p.endswith("/portforward")]


def test_read_through_the_pod_proxy(kube_emulator: KubeEmulator, caplog: pytest.LogCaptureFixture) -> None:
    emu = kube_emulator
    _pod(emu)
    asked = emu.serve_envoy_admin(NS, POD, sidecar_dump())
    caplog.set_level(logging.DEBUG)
    admin = KubeEnvoyAdmin(emu.api_client(), timeout=10)
    dump = admin.config_dump(NS, POD)
    assert asked == ["/config_dump"]
    assert admin.last_way == "API server pod proxy" and not _port_forwards(emu)
    assert any(p == f"/api/v1/namespaces/{NS}/pods/{POD}:15000/proxy/config_dump" for _, p in emu.calls)
    cfg = parse_config_dump(dump)
    assert len(cfg.clusters) == 10 and cfg.routes and cfg.listeners and cfg.bootstrap
    # the private key never leaves the source: not in what it returns, not in a log line
    assert PRIVATE_KEY_B64 not in json.dumps(dump)
    assert PRIVATE_KEY_B64 not in caplog.text


@pytest.mark.parametrize("refusal", ["forbidden", "unreachable"])
def test_falls_back_to_a_port_forward(kube_emulator: KubeEmulator, refusal: str) -> None:
    """Forbidden pod proxy, or one that cannot reach the port (Istio binds Envoy's admin to the pod's
    localhost): the port-forward reads it, and the next read goes straight there."""
    emu = kube_emulator
    _pod(emu)
    asked = emu.serve_envoy_admin(NS, POD, sidecar_dump())
    if refusal == "forbidden":
        emu.forbid(namespace=NS, resource="pods/proxy")
    else:
        emu._pod_proxies.clear()  # the API server answers 503 "connection refused"
    admin = KubeEnvoyAdmin(emu.api_client(), timeout=10)
    dump = admin.config_dump(NS, POD)
    assert admin.last_way == "port-forward" and _port_forwards(emu)
    assert len(parse_config_dump(dump).clusters) == 10
    assert PRIVATE_KEY_B64 not in json.dumps(dump)
    emu.calls.clear()
    admin.config_dump(NS, POD)
    assert not any("/proxy/" in p for _, p in emu.calls) and len(_port_forwards(emu)) == 1
    assert asked == ["/config_dump", "/config_dump"]  # each read asked Envoy once


def test_both_ways_forbidden_names_the_rights(kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, sidecar_dump())
    emu.forbid(namespace=NS, resource="pods/proxy")
    emu.forbid(namespace=NS, resource="pods/portforward")
    with pytest.raises(Forbidden) as err:
        KubeEnvoyAdmin(emu.api_client(), timeout=10).config_dump(NS, POD)
    text = str(err.value)
    assert "pods/proxy" in text and "pods/portforward" in text and NS in text


def test_a_pod_that_is_gone(kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    _pod(emu)
    with pytest.raises(PodGone) as err:
        KubeEnvoyAdmin(emu.api_client(), timeout=10).config_dump(NS, "productpage-v1-7d9f-gone1")
    assert "no longer exists" in str(err.value)
    # the same through the port-forward (the proxy not allowed)
    emu.forbid(namespace=NS, resource="pods/proxy")
    with pytest.raises(PodGone):
        KubeEnvoyAdmin(emu.api_client(), timeout=10).config_dump(NS, "productpage-v1-7d9f-gone1")


def test_a_pod_without_a_sidecar(kube_emulator: KubeEmulator) -> None:
    """Nothing listens on 15000: neither the proxy nor the port-forward reach an Envoy."""
    emu = kube_emulator
    _pod(emu, sidecar=False)
    with pytest.raises(NoEnvoyAdmin) as err:
        KubeEnvoyAdmin(emu.api_client(), timeout=10).config_dump(NS, POD)
    assert "nothing answers on port 15000" in str(err.value) and "sidecar" in str(err.value)


def test_a_proxy_that_does_not_answer_in_time(kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, sidecar_dump())
    emu.slow(3)
    with pytest.raises(Timeout):
        KubeEnvoyAdmin(emu.api_client(), timeout=0.5).config_dump(NS, POD)


def test_an_answer_that_is_not_a_dump(kube_emulator: KubeEmulator) -> None:
    from meshdesk.sources.base import SourceError

    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, b"<html>admin</html>")
    with pytest.raises(SourceError) as err:
        KubeEnvoyAdmin(emu.api_client(), timeout=10).config_dump(NS, POD)
    assert "not JSON" in str(err.value)


# closing a forward with bytes unread resets it, and the kubernetes client's relay thread then fails
# (the app's thread hook keeps that off the terminal; pytest reports it as a warning)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize("way", ["pod proxy", "port-forward"])
def test_the_size_limit_holds_both_ways(kube_emulator: KubeEmulator, way: str) -> None:
    """A dump larger than the limit is not read whole, through the pod proxy as through the
    port-forward, and the message names the limit; one under it reads."""
    from meshdesk.sources.base import TooLarge

    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, sidecar_dump())  # about 17 kB
    if way == "port-forward":
        emu.forbid(namespace=NS, resource="pods/proxy")
    with pytest.raises(TooLarge) as err:
        KubeEnvoyAdmin(emu.api_client(), timeout=10, max_bytes=4096).config_dump(NS, POD)
    assert "larger than 4096 bytes" in str(err.value) and f"{NS}/{POD}" in str(err.value)
    admin = KubeEnvoyAdmin(emu.api_client(), timeout=10, max_bytes=1_000_000)
    assert len(parse_config_dump(admin.config_dump(NS, POD)).clusters) == 10
    assert admin.last_way == ("port-forward" if way == "port-forward" else "API server pod proxy")


def test_a_big_answer_is_read_in_pieces_and_stopped_at_the_limit(kube_emulator: KubeEmulator) -> None:
    """The pod proxy's answer: one that says its length is refused before it is read; one that does
    not (chunked, as Envoy sends it) is read in pieces and dropped past the limit, never taken whole."""
    from types import SimpleNamespace

    from meshdesk.sources.base import TooLarge
    from meshdesk.sources.inventory import RawApi

    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, b'{"configs": []' + b" " * 8_000_000 + b"}")
    raw = RawApi(emu.api_client(), 10, None)
    path = f"/api/v1/namespaces/{NS}/pods/{POD}:15000/proxy/config_dump"
    with pytest.raises(TooLarge) as err:
        raw.get_bytes(path, max_bytes=2 * 2**20, what="read it")
    assert str(err.value) == "read it: the answer is larger than 2 MB, the most meshdesk reads"
    assert len(raw.get_bytes(path, max_bytes=9_000_000, what="read it")) == 8_000_015

    class Endless:
        """An answer without a length that never ends."""

        status, reason, headers = 200, "OK", {"Transfer-Encoding": "chunked"}
        read_bytes, closed = 0, False

        def read(self, amt: int, decode_content: bool = True) -> bytes:
            self.read_bytes += amt
            return b" " * amt

        def isclosed(self) -> bool:
            return self.closed

        def close(self) -> None:
            self.closed = True

    endless = Endless()
    pool = SimpleNamespace(request=lambda *a, **k: endless)
    api = SimpleNamespace(configuration=SimpleNamespace(host="https://k8s", auth_settings=dict),
                          rest_client=SimpleNamespace(pool_manager=pool), default_headers={})
    with pytest.raises(TooLarge):
        RawApi(api, 10, None).get_bytes(path, max_bytes=5 * 2**20, what="read it")
    assert endless.read_bytes <= 6 * 2**20 and endless.closed


_ODD = {"html": b"<html>admin</html>", "empty": b"", "list": b"[1, 2]", "null": b"null",
        "no configs": b'{"configs": {"a": 1}}', "truncated": json.dumps(sidecar_dump()).encode()[:5000],
        "deep": b'{"configs":' + b"[" * 100_000 + b"]" * 100_000 + b"}"}


@pytest.mark.parametrize("way", ["pod proxy", "port-forward"])
@pytest.mark.parametrize("answer", sorted(_ODD))
def test_an_odd_answer_is_not_a_config_dump(kube_emulator: KubeEmulator, caplog: pytest.LogCaptureFixture,
                                            way: str, answer: str) -> None:
    """Whatever the proxy answers that is not a dump (HTML, nothing, JSON nested without end...), the
    message says so and names the pod, not the API server; nothing is logged."""
    from meshdesk.sources.base import SourceError

    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, _ODD[answer])
    if way == "port-forward":
        emu.forbid(namespace=NS, resource="pods/proxy")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as err:  # NotADump, a SourceError (never a RecursionError)
        KubeEnvoyAdmin(emu.api_client(), timeout=10).config_dump(NS, POD)
    assert err.value.kind == "not-a-dump"
    text = str(err.value)
    assert f"read the Envoy config of {NS}/{POD}: the proxy answered, but not with a config dump" in text
    assert "API server" not in text and "Recursion" not in text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def test_numbers_json_has_not_are_read_as_their_text(kube_emulator: KubeEmulator) -> None:
    """A proxy's dump with 1e400, NaN or Infinity (Python's JSON reads them, strict JSON has none): they
    come back as their text, so what is shown and saved is strict JSON."""
    emu = kube_emulator
    _pod(emu)
    body = json.dumps(sidecar_dump())[:-1] + ', "big": 1e400, "nan": NaN, "inf": -Infinity, "ok": 0.25}'
    emu.serve_envoy_admin(NS, POD, body.encode())
    dump = KubeEnvoyAdmin(emu.api_client(), timeout=10).config_dump(NS, POD)
    assert (dump["big"], dump["nan"], dump["inf"], dump["ok"]) == ("1e400", "NaN", "-Infinity", 0.25)
    json.dumps(dump, allow_nan=False)


STATS = ("cluster.outbound|9080||reviews.shop.svc.cluster.local.upstream_rq_total: 1234\n"
         "cluster.outbound|9080||reviews.shop.svc.cluster.local.upstream_rq_5xx: 7\n"
         "server.live: 1\n"
         "cluster.xds-grpc.upstream_cx_length_ms: P0(nan,1) P25(nan,1.025) P100(nan,1.1)\n")


@pytest.mark.parametrize("refusal", [None, "forbidden", "unreachable"])
def test_statistics_are_read_the_same_two_ways(kube_emulator: KubeEmulator, refusal: str | None) -> None:
    """The Stats tab's ``/stats?usedonly`` comes through the pod proxy, or the port-forward when the
    proxy is refused or cannot reach the port, as the config dump does."""
    from meshdesk.mesh.envoy import parse_stats

    emu = kube_emulator
    _pod(emu)
    asked = emu.serve_envoy_admin(NS, POD, sidecar_dump(), stats=STATS)
    if refusal == "forbidden":
        emu.forbid(namespace=NS, resource="pods/proxy")
    elif refusal == "unreachable":
        emu._pod_proxies.clear()
    admin = KubeEnvoyAdmin(emu.api_client(), timeout=10)
    text = admin.stats(NS, POD)
    assert [p.split("=")[0] for p in asked] == ["/stats?usedonly"]
    assert admin.last_way == ("API server pod proxy" if refusal is None else "port-forward")
    parsed = parse_stats(text)
    assert [(s.name, s.value) for s in parsed.stats][1:3] == [
        ("cluster.outbound|9080||reviews.shop.svc.cluster.local.upstream_rq_5xx", "7"), ("server.live", "1")]
    assert parsed.stats[3].value.startswith("P0(nan,1) P25") and parsed.skipped == 0


# closing a forward with bytes unread resets it, and the kubernetes client's relay thread then fails
# (the app's thread hook keeps that off the terminal; pytest reports it as a warning)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_statistics_beyond_the_limit_are_not_read(kube_emulator: KubeEmulator) -> None:
    from meshdesk.sources.base import TooLarge

    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, sidecar_dump(), stats="server.live: 1\n" * 2000)
    for refusal in (False, True):
        if refusal:
            emu.forbid(namespace=NS, resource="pods/proxy")
        with pytest.raises(TooLarge, match="statistics are larger than .* the most meshdesk reads"):
            KubeEnvoyAdmin(emu.api_client(), timeout=10, max_bytes=10_000).stats(NS, POD)


@pytest.mark.parametrize("refusal", [None, "forbidden"])
def test_the_log_level_is_set_through_the_pod_proxy_or_the_port_forward(kube_emulator: KubeEmulator,
                                                                       refusal: str | None) -> None:
    """``POST /logging?level=`` reaches the proxy's admin the same two ways (a POST through the pod proxy
    needs ``create`` on pods/proxy); the answer's loggers and levels come back."""
    emu = kube_emulator
    _pod(emu)
    asked = emu.serve_envoy_admin(NS, POD, sidecar_dump())
    if refusal:
        emu.forbid(namespace=NS, resource="pods/proxy", verb="create")
    admin = KubeEnvoyAdmin(emu.api_client(), timeout=10)
    levels = admin.set_log_level(NS, POD, "debug")
    assert levels == {"admin": "debug", "http": "debug", "router": "debug"}
    assert asked == ["POST /logging?level=debug"] and emu.envoy_log_levels[(NS, POD)] == ["debug"]
    assert admin.last_way == ("API server pod proxy" if refusal is None else "port-forward")
    with pytest.raises(ValueError, match="'verbose' is no Envoy log level"):
        admin.set_log_level(NS, POD, "verbose")
    assert len(asked) == 1, "a level Envoy does not have is never sent"


def test_a_log_level_change_both_ways_forbidden_names_the_rights(kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, sidecar_dump())
    emu.forbid(namespace=NS, resource="pods/proxy", verb="create")
    emu.forbid(namespace=NS, resource="pods/portforward")
    with pytest.raises(Forbidden) as info:
        KubeEnvoyAdmin(emu.api_client(), timeout=10).set_log_level(NS, POD, "info")
    assert "not allowed to create pods/proxy nor to create pods/portforward in shop" in str(info.value)
    assert "`create` on `pods/proxy` or on `pods/portforward`" in (info.value.hint or "")
    assert emu.envoy_log_levels[(NS, POD)] == []


def test_the_port_forward_relays_reset_is_quiet_and_other_thread_errors_are_not() -> None:
    """Closing a forward with bytes unread (an answer over the limit) makes the kubernetes client's
    relay thread fail with a reset: the app's thread hook drops exactly that, and hands on the rest."""
    import threading

    from meshdesk.sources.envoy import quiet_port_forward_resets

    seen: list[object] = []
    hook = quiet_port_forward_resets(seen.append)

    def args(name: str, error: BaseException) -> object:
        return threading.ExceptHookArgs((type(error), error, None, threading.Thread(name=name)))

    hook(args("Kubernetes port forward proxy: 15000", ConnectionResetError(104, "Connection reset by peer")))
    hook(args("Kubernetes port forward proxy: 15000", BrokenPipeError(32, "Broken pipe")))
    assert seen == []
    others = [args("Kubernetes port forward proxy: 15000", ValueError("a bug")),
              args("meshdesk-envoy", ConnectionResetError(104, "reset"))]
    for a in others:
        hook(a)
    assert seen == others


def test_the_log_level_is_read_without_changing_it(kube_emulator: KubeEmulator) -> None:
    """``POST /logging`` without a level lists the loggers as they are (Envoy takes no GET there):
    Istio's warning first, the level set after a change."""
    from meshdesk.sources.envoy import summarize_log_levels

    emu = kube_emulator
    _pod(emu)
    asked = emu.serve_envoy_admin(NS, POD, sidecar_dump())
    admin = KubeEnvoyAdmin(emu.api_client(), timeout=10)
    assert summarize_log_levels(admin.log_levels(NS, POD)) == "warning"
    assert asked == ["POST /logging"] and emu.envoy_log_levels[(NS, POD)] == [], "reading changes nothing"
    admin.set_log_level(NS, POD, "trace")
    assert admin.log_levels(NS, POD) == {"admin": "trace", "http": "trace", "router": "trace"}
    assert summarize_log_levels({"admin": "warning", "http": "debug", "router": "warning"}) == \
        "warning (some loggers at debug)"


def test_a_refused_post_does_not_send_later_reads_to_the_port_forward(kube_emulator: KubeEmulator) -> None:
    """``get`` on pods/proxy without ``create``: the log level change is refused, and the config dump
    and statistics are still read through the pod proxy (a refused POST says nothing about GETs), with
    no port-forward, which this user may not open either."""
    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, sidecar_dump(), stats=STATS)
    emu.forbid(namespace=NS, resource="pods/proxy", verb="create")
    emu.forbid(namespace=NS, resource="pods/portforward")
    admin = KubeEnvoyAdmin(emu.api_client(), timeout=10)
    with pytest.raises(Forbidden, match="not allowed to create pods/proxy nor to create pods/portforward"):
        admin.set_log_level(NS, POD, "debug")
    assert admin.config_dump(NS, POD)["configs"] and admin.last_way == "API server pod proxy"
    assert "server.live: 1" in admin.stats(NS, POD)
    assert len(_port_forwards(emu)) == 1, "only the change tried the port-forward"


def test_each_thread_hears_how_its_own_request_went(kube_emulator: KubeEmulator) -> None:
    """The Envoy dock reads config dumps, statistics and log levels on three threads through one
    ``KubeEnvoyAdmin``: the way one request went is not another thread's."""
    import threading

    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, sidecar_dump())
    admin = KubeEnvoyAdmin(emu.api_client(), timeout=10)
    admin.config_dump(NS, POD)
    other: list[str] = []
    t = threading.Thread(target=lambda: other.append(admin.last_way))
    t.start()
    t.join()
    assert admin.last_way == "API server pod proxy" and other == [""]


def test_api_calls_made_while_a_port_forward_opens_go_to_the_api_server(kube_emulator: KubeEmulator) -> None:
    """The official client opens a port-forward by swapping the ApiClient's request function for a
    WebSocket one while it connects. Sharing the window's client, a pod log read (or any other call)
    made meanwhile on another thread went through that swap and failed with "Missing required parameter
    `ports`" - and two port-forwards opening at once could leave the swap in place for good, breaking
    every later call. A port-forward uses a client of its own now."""
    from kubernetes import client

    emu = kube_emulator
    _pod(emu)
    emu.serve_envoy_admin(NS, POD, sidecar_dump())
    emu.forbid(namespace=NS, resource="pods/proxy")
    api = emu.api_client()
    core = client.CoreV1Api(api)
    admin = KubeEnvoyAdmin(api, timeout=10)
    gate, held = emu.hold_port_forwards()
    dumps: list[object] = []
    reader = threading.Thread(target=lambda: dumps.append(admin.config_dump(NS, POD)), daemon=True)
    reader.start()
    try:
        assert held.wait(10), "the port-forward never reached the API server"
        # the port-forward is opening: the same client reads a pod the usual way
        assert core.read_namespaced_pod(POD, NS).metadata.name == POD
    finally:
        gate.set()
        reader.join(10)
    assert dumps and len(parse_config_dump(dumps[0]).clusters) == 10  # type: ignore[arg-type]
    assert _port_forwards(emu)  # read through the port-forward
    assert [p.metadata.name for p in core.list_namespaced_pod(NS).items] == [POD]


def test_a_port_forward_speaks_tls_as_the_kubeconfig_says(tmp_path: Path) -> None:
    """The port-forward's WebSocket is opened by meshdesk: TLS with the kubeconfig's CA, its client
    certificate as the login, and ``tls-server-name`` (a server reached by address whose certificate names
    another host), as the API calls speak it; a CA that is not the server's is refused, not skipped."""
    with KubeEmulator(tls=True, client_certs=True, tls_names="DNS:kube.internal") as emu:
        emu.require_client_cert()
        _pod(emu)
        emu.serve_envoy_admin(NS, POD, sidecar_dump())
        emu.forbid(namespace=NS, resource="pods/proxy")
        config = emu.write_kubeconfig(tmp_path / "config", client_cert=emu.client_cert())
        doc = yaml.safe_load(config.read_text())
        doc["clusters"][0]["cluster"]["tls-server-name"] = "kube.internal"
        config.write_text(yaml.safe_dump(doc))
        admin = KubeEnvoyAdmin(load_kubeconfig(str(config)).api_client("emu"), timeout=10)
        assert len(parse_config_dump(admin.config_dump(NS, POD)).clusters) == 10
        assert admin.last_way == "port-forward" and _port_forwards(emu)
        doc["clusters"][0]["cluster"]["certificate-authority"] = emu.client_ca_file  # not the server's CA
        config.write_text(yaml.safe_dump(doc))
        emu.calls.clear()
        with pytest.raises(Unreachable) as err:
            open_port_forward(load_kubeconfig(str(config)).api_client("emu"), NS, POD, 15000, timeout=10)
        assert "certificate is not trusted" in str(err.value) and not _port_forwards(emu)
