"""``meshdesk traces`` against a cluster (the kube emulator) whose Jaeger (the Jaeger emulator) is found
behind the API server's service proxy, or given with --tracing / saved in Settings."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshdesk.commands.traces import main as traces_main
from tests.jaeger_emulator import JaegerEmulator, jaeger_span, jaeger_trace
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import prometheus_server  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "jaeger-t0ken-SECRET-31337"
US = 1_000_000


def _node(pod: str) -> str:
    return f"sidecar~10.0.0.1~{pod}.shop~shop.svc.cluster.local"


def recent_traces(now: float) -> list[dict[str, Any]]:
    """Two minutes ago productpage -> reviews-v2 (40 ms); one minute ago productpage -> reviews-v1 failing
    (5 ms); an hour ago reviews-v2 alone."""
    t = int(now) * US
    return [
        jaeger_trace("a1", [
            jaeger_span("1", "productpage.shop", "productpage.shop.svc.cluster.local:9080/*", t - 120 * US, 40_000,
                        node_id=_node("productpage-v1-5b7c-aaaa")),
            jaeger_span("2", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*", t - 120 * US + 100, 30_000,
                        parent="1", node_id=_node("reviews-v2-7d9c-xk2p")),
        ]),
        jaeger_trace("b2", [
            jaeger_span("1", "productpage.shop", "productpage.shop.svc.cluster.local:9080/*", t - 60 * US, 5_000,
                        node_id=_node("productpage-v1-5b7c-aaaa")),
            jaeger_span("2", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*", t - 60 * US + 100, 4_000,
                        parent="1", node_id=_node("reviews-v1-6f4d-qq12"), status=503, error=True),
        ]),
        jaeger_trace("c3", [
            jaeger_span("1", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*", t - 3600 * US, 9_000,
                        node_id=_node("reviews-v2-7d9c-xk2p")),
        ]),
    ]


def _deployment(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": "example/app:1"}]}}}}


@pytest.fixture
def cluster(kube_emulator: KubeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Path]]:
    """The shop namespace (reviews v1/v2 and a service reviews-stable selecting v2), Istio's Jaeger addon
    proxied to the Jaeger emulator under /jaeger, and a kubeconfig for it."""
    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / "cfg"))
    emu = kube_emulator
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add(_deployment("reviews-v1", {"app": "reviews", "version": "v1"}))
    emu.add(_deployment("reviews-v2", {"app": "reviews", "version": "v2"}))
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reviews-stable", "namespace": "shop"},
             "spec": {"selector": {"app": "reviews", "version": "v2"}, "ports": [{"name": "http", "port": 9080}]}})
    emu.run_workloads("shop")
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "tracing", "namespace": "istio-system"},
             "spec": {"ports": [{"name": "http-query", "port": 80, "targetPort": 16686}]}})
    with JaegerEmulator(recent_traces(time.time()), base_path="/jaeger") as jaeger:
        emu.proxy_service("istio-system", "tracing", 80, f"http://127.0.0.1:{jaeger.port}")
        yield jaeger, emu.write_kubeconfig(tmp_path / "config", context="lab")


def test_an_apps_traces_as_a_table_through_the_api_server(cluster: tuple[Any, Path],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    jaeger, config = cluster
    assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--app", "reviews"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["START", "(UTC)", "NAME", "DURATION", "SPANS", "ERRORS", "TRACE", "ID"]
    assert [ln.split()[-1] for ln in lines[1:]] == ["b2", "a1"]  # newest first; c3 is older than 15m
    assert "productpage.shop: productpage.shop.svc.cluster.local:9080/*" in lines[1]
    assert lines[1].split()[-3:-1] == ["2", "1"] and "5.0 ms" in lines[1] and "40.0 ms" in lines[2]
    assert "tracing backend: API server service proxy to istio-system/tracing:80 (Istio's Jaeger addon), " \
           "under /jaeger" in err
    asked = [r for r in jaeger.requests if r.path == "/jaeger/api/traces"][-1].params
    assert asked["service"] == "reviews.shop" and asked["limit"] == "100"
    assert int(asked["end"]) - int(asked["start"]) == 15 * 60 * US


def test_a_workload_and_a_service_by_their_app_and_json(cluster: tuple[Any, Path],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    jaeger, config = cluster
    base = ["--kubeconfig", str(config), "-n", "shop", "--json", "--since", "2h"]
    assert traces_main([*base, "--workload", "reviews-v2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"] == {"kind": "workload", "namespace": "shop", "name": "reviews-v2", "app": "reviews"}
    assert [t["traceID"] for t in doc["traces"]] == ["a1", "c3"]
    assert doc["traces"][0]["spans"] == 2 and doc["traces"][0]["durationUs"] == 40_000
    assert traces_main([*base, "--service", "reviews-stable"]) == 0
    assert json.loads(capsys.readouterr().out)["target"]["app"] == "reviews"
    assert traces_main([*base, "--app", "reviews", "--errors", "--min-duration", "2.5"]) == 0
    assert [t["traceID"] for t in json.loads(capsys.readouterr().out)["traces"]] == ["b2"]
    asked = jaeger.requests[-1].params
    assert json.loads(asked["tags"]) == {"error": "true"} and asked["minDuration"] == "2500us"


def test_the_limit_reached_and_an_app_without_traces_are_said(cluster: tuple[Any, Path],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    _jaeger, config = cluster
    base = ["--kubeconfig", str(config), "-n", "shop"]
    assert traces_main([*base, "--app", "reviews", "--limit", "1"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2 and "the newest 1 of reviews.shop's traces were asked for" in err
    assert traces_main([*base, "--app", "ratings"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "The tracing backend has no traces of ratings.shop" in err  # no header over nothing
    # none that match: said, not only an empty table
    assert traces_main([*base, "--app", "reviews", "--min-duration", "600000", "--since", "1h"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "no traces of app shop/reviews with a span of 600000 ms or more in the last 1h" in err


def test_a_saved_tracing_url_with_its_token(cluster: tuple[Any, Path], capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.store.settings import ContextSettings, load_settings

    jaeger, config = cluster
    jaeger.token = TOKEN
    settings = load_settings()
    settings.set_context_settings("lab", ContextSettings(tracing_url=jaeger.url,
                                                         tracing_auth={"type": "bearer", "token": TOKEN}))
    settings.save()
    assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--app", "reviews"]) == 0
    out, err = capsys.readouterr()
    assert f"tracing backend: URL {jaeger.url}" in err and len(out.splitlines()) == 3
    assert jaeger.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"
    # the same address given on the command line: its saved token goes with it
    assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--app", "reviews", "--tracing", jaeger.url]) == 0
    capsys.readouterr()
    # another address is never sent it: rejected, said without the token
    with JaegerEmulator(token="other") as other:
        assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--app", "reviews",
                            "--tracing", other.url]) == 1
        assert "Authorization" not in other.requests[-1].headers
    err = capsys.readouterr().err
    assert "rejected the credentials (HTTP 401)" in err and TOKEN not in err


def test_usage_mistakes_exit_2_with_a_plain_line(cluster: tuple[Any, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _jaeger, config = cluster
    base = ["--kubeconfig", str(config), "-n", "shop"]
    for args, said in (
        ([*base], "one of --app NAME, --workload NAME or --service NAME"),
        ([*base, "--app", "a", "--workload", "b"], "one of --app NAME"),
        ([*base, "--app", "reviews", "--since", "soon"], "--since 'soon' is no time span"),
        ([*base, "--app", "reviews", "--limit", "0"], "--limit must be 1 to"),
        ([*base, "--app", "reviews", "--min-duration", "nan"], "--min-duration must be"),
        # a number too big to be a span's length: it overflowed to infinity in the query (a traceback)
        ([*base, "--app", "reviews", "--min-duration", "1e308"], "--min-duration must be a number of milliseconds "
                                                                  "from 0 to 2592000000 (30 days)"),
        ([*base, "--app", "reviews", "--min-duration", "1e20"], "--min-duration must be"),
        ([*base, "--workload", "nope"], "there is no workload nope in namespace shop"),
        ([*base, "--service", "nope"], "there is no service nope in namespace shop"),
        ([*base, "--app", "reviews", "--tracing", "jaeger:16686"], "--tracing 'jaeger:16686': it must look like"),
        # an IPv6 address without its closing bracket: the command ended in Python's traceback ("Invalid IPv6 URL")
        ([*base, "--app", "reviews", "--tracing", "http://[::1:16686"],
         "--tracing 'http://[::1:16686': its host or port cannot be read"),
        (["--demo", "--app", "reviews"], "name the namespace with --namespace"),
    ):
        with pytest.raises(SystemExit) as exited:
            code = traces_main(args)
            raise SystemExit(code)
        assert exited.value.code == 2, args
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err, (args, err)


def test_no_backend_in_the_cluster_exits_1_saying_how_to_give_it(kube_emulator: KubeEmulator, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    kube_emulator.add_namespace("shop")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MESHDESK_CONFIG_DIR": str(tmp_path / "cfg")}
    out = subprocess.run([sys.executable, "-m", "meshdesk", "traces", "--kubeconfig", str(config), "-n", "shop",
                          "--app", "reviews"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert out.returncode == 1 and not out.stdout
    assert out.stderr.startswith("meshdesk traces: No tracing backend was found: no service istio-system/tracing")
    assert "--tracing URL" in out.stderr and "Traceback" not in out.stderr


def test_a_workload_rbac_hides_is_asked_for_by_its_name(cluster: tuple[Any, Path], kube_emulator: KubeEmulator,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Without the right to list the namespace's workloads, "there is no workload" would be wrong: its
    app is taken to be its name, and that is said."""
    _jaeger, config = cluster
    kube_emulator.forbid(namespace="shop", resource="deployments")
    assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--workload", "reviews", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "the workload reviews could not be read" in err and "asking for the traces of the app reviews" in err
    assert json.loads(out)["target"]["app"] == "reviews"
    # what else RBAC hides says nothing of whether a workload exists
    kube_emulator.clear_faults()
    kube_emulator.forbid(namespace="shop", resource="endpointslices")
    assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--workload", "nope"]) == 2
    assert "there is no workload nope in namespace shop" in capsys.readouterr().err


def test_a_self_signed_tracing_url_with_the_ca_or_insecure_options(cluster: tuple[Any, Path], tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from tests.prom_server import StubResponse, StubServer, self_signed_cert

    _jaeger, config = cluster
    pair = self_signed_cert(tmp_path)
    if pair is None:
        pytest.skip("openssl is missing")
    answer = {"data": ["reviews.shop"], "total": 1, "errors": None}
    with StubServer(lambda _req: StubResponse(200, answer), tls=pair) as stub:
        base = ["--kubeconfig", str(config), "-n", "shop", "--app", "reviews", "--tracing", stub.url]
        assert traces_main(base) == 1
        err = capsys.readouterr().err
        assert "self-signed" in err and "--tracing-ca FILE or --tracing-insecure" in err
        assert traces_main([*base, "--tracing-ca", pair[0]]) == 0, capsys.readouterr().err
        assert traces_main([*base, "--tracing-insecure"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--app", "reviews", "--tracing-insecure"]) == 2
    assert "--tracing-ca and --tracing-insecure are for a tracing URL" in capsys.readouterr().err


def test_an_apps_traces_at_a_given_address_need_no_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """With --tracing URL, --app and -n nothing of a cluster is needed (no kubeconfig at all here), and a
    kubeconfig whose cluster is down does not stop them either."""
    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    with JaegerEmulator(recent_traces(time.time())) as jaeger:
        assert traces_main(["--tracing", jaeger.url, "-n", "shop", "--app", "reviews"]) == 0
        out, err = capsys.readouterr()
        assert len(out.splitlines()) == 3 and f"tracing backend: URL {jaeger.url}" in err
        down = tmp_path / "down"
        down.write_text("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
                        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
                        "current-context: x\n")
        assert traces_main(["--kubeconfig", str(down), "--tracing", jaeger.url, "-n", "shop", "--app", "reviews"]) == 0
        capsys.readouterr()
        # a workload needs the cluster for its app label: the cluster's failure is said
        assert traces_main(["--kubeconfig", str(down), "--tracing", jaeger.url, "-n", "shop",
                            "--workload", "reviews-v1"]) == 1
        assert "Traceback" not in capsys.readouterr().err


def test_an_unreachable_address_asked_through_the_automatic_api_is_not_called_tempo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """With the API chosen automatically, a Jaeger address that did not answer was said as 'Cannot reach
    Tempo at http://.../jaeger' (the first question asked is Tempo's echo), sending the user to look for a
    Tempo they never had; it is the tracing backend, as a chosen Jaeger API says."""
    from tests.prom_server import free_port

    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    url = f"http://127.0.0.1:{free_port()}/jaeger"
    for api in ([], ["--tracing-api", "auto"], ["--tracing-api", "jaeger"]):
        assert traces_main(["--tracing", url, "-n", "shop", "--app", "reviews", *api]) == 1
        err = capsys.readouterr().err
        assert f"meshdesk traces: Cannot reach the tracing backend at {url}: connection refused" in err, api
        assert "Tempo" not in err and "Traceback" not in err


def test_the_demo_meshs_traces(capsys: pytest.CaptureFixture[str]) -> None:
    assert traces_main(["--demo", "-n", "shop", "--workload", "reviews-v2", "--since", "1h", "--limit", "50",
                        "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"] == {"kind": "workload", "namespace": "shop", "name": "reviews-v2", "app": "reviews"}
    assert doc["traces"] and all("reviews.shop" in t["services"] for t in doc["traces"])
    assert traces_main(["--demo", "-n", "shop", "--workload", "nope", "--since", "1h"]) == 2
    assert "there is no workload nope in namespace shop" in capsys.readouterr().err
    # --errors is error=true: with another error tag it found nothing, or took one over the other silently
    assert traces_main(["--demo", "-n", "shop", "--app", "reviews", "--errors", "--tag", "error=false"]) == 2
    assert "--errors asks for error=true: it cannot go with --tag error=false" in capsys.readouterr().err
    # the demo has no tracing backend to choose an API of: said, not ignored
    with pytest.raises(SystemExit) as exited:
        traces_main(["--demo", "-n", "shop", "--app", "reviews", "--tracing-api", "tempo"])
    assert exited.value.code == 2 and "--tracing-api" in capsys.readouterr().err


def test_an_ambient_workloads_traces_are_its_waypoints(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo's travel namespace is in ambient mode: its pods report nothing, its waypoint does; a
    workload's traces are asked of the waypoint's service and narrowed to the spans naming it, as the
    Traces dock asks them."""
    assert traces_main(["--demo", "-n", "travel", "--workload", "search-v1", "--since", "1h", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"]["waypoint"] == "waypoint" and doc["service"] == "waypoint.travel"
    assert doc["traces"]
    assert traces_main(["--demo", "-n", "travel", "--app", "search", "--since", "1h", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["service"] == "waypoint.travel"
    assert traces_main(["--demo", "-n", "shop", "--app", "reviews", "--since", "1h", "--json"]) == 0
    assert "waypoint" not in json.loads(capsys.readouterr().out)["target"]


def test_a_namespace_the_cluster_does_not_have_is_said_not_as_no_traces(
        cluster: tuple[Any, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _jaeger, config = cluster
    assert traces_main(["--kubeconfig", str(config), "-n", "shopp", "--app", "reviews"]) == 2
    assert "there is no namespace shopp in the cluster" in capsys.readouterr().err
    for who in (["--app", "reviews"], ["--workload", "reviews-v2"], ["--service", "reviews"]):
        assert traces_main(["--demo", "-n", "bookinfo", *who]) == 2
        err = capsys.readouterr().err
        assert "there is no namespace bookinfo in the cluster" in err and "sampled" not in err


def test_traces_through_tempos_own_api(cluster: tuple[Any, Path], kube_emulator: KubeEmulator,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A Tempo found in the cluster with its API port is asked in TraceQL (auto); --tracing-api jaeger asks the
    Istio addon's Jaeger instead; a Tempo URL given answers as Tempo; --tracing-api tempo at Jaeger fails plainly."""
    from tests.tempo_emulator import TempoEmulator

    jaeger, config = cluster
    emu = kube_emulator
    emu.add_namespace("tempo")
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "tempo", "namespace": "tempo", "labels": {"app.kubernetes.io/name": "tempo"}},
             "spec": {"ports": [{"name": "tempo-prom-metrics", "port": 3200}]}})
    with TempoEmulator(recent_traces(time.time())) as tempo:
        emu.proxy_service("tempo", "tempo", 3200, tempo.url)
        base = ["--kubeconfig", str(config), "-n", "shop"]
        assert traces_main([*base, "--app", "reviews", "--tracing-api", "tempo", "--json", "--errors"]) == 0
        out, err = capsys.readouterr()
        assert [t["traceID"].lstrip("0") for t in json.loads(out)["traces"]] == ["b2"]
        assert "tempo/tempo:3200 (Tempo, its own API)" in err
        assert tempo.searches()[-1].params["q"].startswith('{ resource.service.name = "reviews.shop" && (status = error')
        assert traces_main([*base, "--workload", "reviews-v2", "--tracing-api", "tempo", "--since", "2h"]) == 0
        out, err = capsys.readouterr()
        assert [ln.split()[-1].lstrip("0") for ln in out.splitlines()[1:]] == ["a1", "c3"]
        # printed from the search answer alone: the spans counted are those that matched, and said so
        assert tempo.fetches() == [] and all(" 1 matched " in ln for ln in out.splitlines()[1:])
        assert "SPANS and ERRORS counting the spans of reviews.shop that matched" in err
        assert traces_main([*base, "--app", "reviews", "--tracing-api", "jaeger"]) == 0
        assert "Istio's Jaeger addon" in capsys.readouterr().err
        assert traces_main(["--tracing", tempo.url, "-n", "shop", "--app", "reviews"]) == 0
        out, err = capsys.readouterr()
        assert len(out.splitlines()) == 3 and f"tracing backend: URL {tempo.url}, Tempo's API" in err
        # longer than Tempo searches (168 h): the last 7 days, said so, where Tempo's HTTP 400 was all
        assert traces_main(["--tracing", tempo.url, "-n", "shop", "--app", "reviews", "--since", "30d"]) == 0
        out, err = capsys.readouterr()
        assert len(out.splitlines()) == 4 and "HTTP 400" not in err
        assert "Tempo searches at most 7 days at once: showing the last 7 days of the 30 days asked." in err
    assert traces_main(["--tracing", jaeger.url, "-n", "shop", "--app", "reviews", "--tracing-api", "tempo"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 404" in err and "Traceback" not in err


def test_tag_filters_reach_both_apis(cluster: tuple[Any, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """--tag KEY=VALUE: Jaeger's tags parameter (with errors' own), a TraceQL condition quoted for Tempo."""
    from tests.tempo_emulator import Condition, TempoEmulator

    jaeger, config = cluster
    base = ["--kubeconfig", str(config), "-n", "shop", "--app", "reviews", "--json", "--since", "2h"]
    assert traces_main([*base, "--tag", "http.status_code=503", "--errors"]) == 0
    assert [t["traceID"] for t in json.loads(capsys.readouterr().out)["traces"]] == ["b2"]
    assert json.loads(jaeger.requests[-1].params["tags"]) == {"http.status_code": "503", "error": "true"}
    assert traces_main([*base, "--tag", "http.status_code=418"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["traces"] == [] and "tagged http.status_code=418" in err
    assert traces_main([*base, "--tag", "no-equals"]) == 2
    assert "give it as KEY=VALUE" in capsys.readouterr().err
    with TempoEmulator(recent_traces(time.time())) as tempo:
        assert traces_main(["--tracing", tempo.url, "-n", "shop", "--app", "reviews", "--json", "--since", "2h",
                            "--tag", 'http.status_code=5"03']) == 0
        assert json.loads(capsys.readouterr().out)["traces"] == []
        assert Condition("any.http.status_code", "=", '5"03') in tempo.queries[-1]
        assert traces_main(["--tracing", tempo.url, "-n", "shop", "--app", "reviews", "--json", "--since", "2h",
                            "--tag", "http.status_code=503"]) == 0
        assert [t["traceID"].lstrip("0") for t in json.loads(capsys.readouterr().out)["traces"]] == ["b2"]


def test_the_saved_tracing_api_goes_with_the_saved_address_only(cluster: tuple[Any, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.store.settings import ContextSettings, load_settings

    jaeger, config = cluster
    settings = load_settings()
    settings.set_context_settings("lab", ContextSettings(tracing_api="tempo"))
    settings.save()
    base = ["--kubeconfig", str(config), "-n", "shop", "--app", "reviews"]
    assert traces_main(base) == 1  # the cluster's backend is Jaeger's addon: no Tempo, as saved
    assert "No Tempo was found" in capsys.readouterr().err
    assert traces_main([*base, "--tracing-api", "auto"]) == 0
    capsys.readouterr()
    assert traces_main([*base, "--tracing", jaeger.url]) == 0  # another address: not the saved API's
    assert "Jaeger's query API" in capsys.readouterr().err


def test_an_ambient_workload_whose_service_names_a_waypoint_elsewhere_has_that_waypoints_traces(
        cluster: tuple[Any, Path], kube_emulator: KubeEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    """An ambient workload enrolled through its Service (``istio.io/use-waypoint`` with
    ``istio.io/use-waypoint-namespace``, not on the workload nor its namespace) has no proxy of its own:
    its traces are the waypoint's in the other namespace, as Kiali resolves a workload's waypoint."""
    jaeger, config = cluster
    emu = kube_emulator
    emu.add_namespace("bank", {"istio.io/dataplane-mode": "ambient"})
    emu.add_namespace("infra", {"istio.io/dataplane-mode": "ambient"})
    labels = {"app": "ledger", "version": "v1"}
    emu.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ledger-v1", "namespace": "bank"},
             "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels,
                                                "annotations": {"ambient.istio.io/redirection": "enabled"}},
                                   "spec": {"containers": [{"name": "app", "image": "example/ledger:1"}]}}}})
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "ledger", "namespace": "bank",
                          "labels": {"istio.io/use-waypoint": "shared-wp", "istio.io/use-waypoint-namespace": "infra"}},
             "spec": {"selector": {"app": "ledger"}, "ports": [{"name": "http", "port": 8080}]}})
    waypoint = {"gateway.istio.io/managed": "istio.io-mesh-controller",
                "gateway.networking.k8s.io/gateway-name": "shared-wp"}
    emu.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shared-wp", "namespace": "infra"},
             "spec": {"replicas": 1, "selector": {"matchLabels": waypoint},
                      "template": {"metadata": {"labels": waypoint},
                                   "spec": {"containers": [{"name": "istio-proxy", "image": "istio/proxyv2"}]}}}})
    emu.run_workloads("bank")
    emu.run_workloads("infra")
    base = ["--kubeconfig", str(config), "-n", "bank", "--json", "--since", "2h"]
    for who in (["--workload", "ledger-v1"], ["--app", "ledger"], ["--service", "ledger"]):
        assert traces_main([*base, *who]) == 0, who
        doc = json.loads(capsys.readouterr().out)
        assert doc["service"] == "shared-wp.infra", who
        assert jaeger.requests[-1].params["service"] == "shared-wp.infra", who


def test_an_ambient_target_whose_waypoint_does_not_run_says_so(cluster: tuple[Any, Path], kube_emulator: KubeEmulator,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """bank's ledger Service names a waypoint, missing-wp, that bank does not run. Its traces were asked of
    that waypoint (none, with no word why). As Kiali, which takes such a waypoint as none, the app's traces are
    asked for, and the command says why there can be none: nothing reports an ambient pod's requests but a
    waypoint. The app and its workload, enrolled by the Service, say the same."""
    jaeger, config = cluster
    emu = kube_emulator
    emu.add_namespace("bank", {"istio.io/dataplane-mode": "ambient"})
    labels = {"app": "ledger", "version": "v1"}
    emu.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ledger-v1", "namespace": "bank"},
             "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels,
                                                "annotations": {"ambient.istio.io/redirection": "enabled"}},
                                   "spec": {"containers": [{"name": "app", "image": "example/ledger:1"}]}}}})
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "ledger", "namespace": "bank", "labels": {"istio.io/use-waypoint": "missing-wp"}},
             "spec": {"selector": {"app": "ledger"}, "ports": [{"name": "http", "port": 8080}]}})
    emu.run_workloads("bank")
    base = ["--kubeconfig", str(config), "-n", "bank", "--json", "--since", "2h"]
    for who in (["--service", "ledger"], ["--app", "ledger"], ["--workload", "ledger-v1"]):
        assert traces_main([*base, *who]) == 0, who
        out, err = capsys.readouterr()
        assert json.loads(out)["service"] == "ledger.bank", who
        assert jaeger.requests[-1].params["service"] == "ledger.bank", who
        assert "its waypoint bank/missing-wp (istio.io/use-waypoint) does not run in the cluster" in err, who


@pytest.mark.prometheus
@pytest.mark.parametrize("api", ["tempo", "jaeger"])
def test_a_live_clusters_traces_window_ends_at_the_clusters_present_not_a_machine_clock_that_is_off(
        cluster: tuple[Any, Path], kube_emulator: KubeEmulator, prometheus_server: Any,  # noqa: F811
        api: str, capsys: pytest.CaptureFixture[str]) -> None:
    """This machine's clock is two hours behind the cluster's. The command's window (the last 15 minutes)
    ended at the machine's time, two hours before the cluster's present: it said there were no traces of
    reviews, where the app's Traces dock lists the two of the last minutes. It ends at the cluster's present
    (Prometheus' clock) now, through Tempo or Jaeger."""
    from tests.tempo_emulator import TempoEmulator

    _jaeger, config = cluster
    emu = kube_emulator
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "prometheus", "namespace": "istio-system",
                                                                "labels": {"app": "prometheus"}},
             "spec": {"selector": {"app": "prometheus"}, "ports": [{"name": "http", "port": 9090}]}})
    emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
    emu.add_namespace("tempo")
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "tempo", "namespace": "tempo", "labels": {"app.kubernetes.io/name": "tempo"}},
             "spec": {"ports": [{"name": "tempo-prom-metrics", "port": 3200}]}})
    behind = 2 * 3600
    with TempoEmulator(recent_traces(time.time())) as tempo:
        emu.proxy_service("tempo", "tempo", 3200, tempo.url)
        assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--app", "reviews", "--tracing-api", api],
                           clock=lambda: time.time() - behind) == 0
    out, err = capsys.readouterr()
    assert [ln.split()[-1].lstrip("0") for ln in out.splitlines()[1:]] == ["b2", "a1"], err
    assert "no traces" not in err


@pytest.mark.prometheus
def test_the_clusters_present_is_asked_of_the_prometheus_saved_for_the_context(
        cluster: tuple[Any, Path], prometheus_server: Any,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    """A Prometheus the cluster does not hold, saved in Settings for the context (as the app reads the graph
    from it) tells the cluster's present: with this machine's clock two hours behind, the traces of the last
    minutes are listed."""
    from meshdesk.store.settings import ContextSettings, load_settings

    _jaeger, config = cluster
    settings = load_settings()
    settings.set_context_settings("lab", ContextSettings(prometheus_url=prometheus_server.url))
    settings.save()
    assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--app", "reviews"],
                       clock=lambda: time.time() - 2 * 3600) == 0
    out, err = capsys.readouterr()
    assert [ln.split()[-1] for ln in out.splitlines()[1:]] == ["b2", "a1"], err


def test_a_cluster_that_did_not_answer_is_not_asked_again_for_its_clock(
        cluster: tuple[Any, Path], kube_emulator: KubeEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    """An app's traces at a given address need no cluster: when it does not answer, they are listed with a
    warning. Its Prometheus is then not looked for (to read the cluster's present): a cluster that timed out
    made the user wait as long again, for this machine's clock in the end."""
    jaeger, config = cluster
    kube_emulator.fail(503)
    assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--app", "reviews", "--tracing", jaeger.url]) == 0
    out, err = capsys.readouterr()
    assert "the namespace shop could not be read" in err and len(out.splitlines()) == 3
    assert not [path for _m, path, _h in kube_emulator.requests if "istio-system" in path or "prometheus" in path]


def test_without_prometheus_the_window_ends_at_the_api_servers_present(
        cluster: tuple[Any, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """This machine's clock is two hours behind the cluster's, and the cluster has no Prometheus to tell its
    present: the window (the last 15 minutes) ended at this machine's time, silently, and the two traces of
    the last minutes were not listed. It ends at the API server's present (its answers' Date) now."""
    _jaeger, config = cluster
    assert traces_main(["--kubeconfig", str(config), "-n", "shop", "--app", "reviews"],
                       clock=lambda: time.time() - 2 * 3600) == 0
    out, err = capsys.readouterr()
    assert [ln.split()[-1] for ln in out.splitlines()[1:]] == ["b2", "a1"], err


def test_without_a_cluster_the_window_ends_at_the_tracing_backends_present(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """An app's traces at a --tracing address, with no cluster to tell the time, and this machine's clock two
    hours behind: the window ended at this machine's time and listed none of the last minutes' traces. It
    ends at the tracing backend's present (its answers' Date) now."""
    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    with JaegerEmulator(recent_traces(time.time())) as jaeger:
        assert traces_main(["--tracing", jaeger.url, "-n", "shop", "--app", "reviews"],
                           clock=lambda: time.time() - 2 * 3600) == 0
    out, err = capsys.readouterr()
    assert [ln.split()[-1] for ln in out.splitlines()[1:]] == ["b2", "a1"], err


def test_the_table_stays_in_line_past_a_name_in_wide_characters(tmp_path: Path) -> None:
    """QA: a span named in Japanese (注文を取得) was padded by its number of characters, not the columns a
    terminal gives them (two each): DURATION, SPANS and the rest of its row were pushed out of line."""
    import os
    import unicodedata

    def columns(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    t = int(time.time()) * US
    traces = [jaeger_trace("a1", [jaeger_span("1", "reviews.shop", "注文を取得 GET /api/注文", t - 120 * US, 40_000)]),
              jaeger_trace("b2", [jaeger_span("1", "reviews.shop", "GET /plain", t - 60 * US, 5_000)])]
    env = {**os.environ, "MESHDESK_CONFIG_DIR": str(tmp_path / "cfg")}
    with JaegerEmulator(traces) as jaeger:
        done = subprocess.run([sys.executable, "-m", "meshdesk", "traces", "--tracing", f"http://127.0.0.1:{jaeger.port}",
                               "-n", "shop", "--app", "reviews"], capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=120)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert len(rows) == 2 and any("注文" in r for r in rows)
    at = columns(header[:header.index("DURATION")])
    for row, duration in zip(rows, ("5.0 ms", "40.0 ms"), strict=True):
        assert columns(row[:row.index(duration)]) == at, done.stdout
