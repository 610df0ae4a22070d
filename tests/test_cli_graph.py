"""``meshdesk graph`` end to end, as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from meshdesk.commands.graph import main as graph_main
from meshdesk.sources.snapshot import load_snapshot, save_snapshot
from tests.graph_samples import http, snapshot, tcp
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshdesk", "graph", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.json"
    save_snapshot(snapshot([http("web-v1", "cart-v1", 90), http("web-v1", "cart-v1", 10, "500"),
                            http(None, "web-v1", 100), tcp("cart-v1", "db-v1", 2048)]), path)
    return path


def test_kiali_json(tmp_path: Path) -> None:
    out = run("--snapshot", str(_file(tmp_path)), "--format", "kiali")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["graphType"] == "workload"
    edges = [e["data"]["traffic"] for e in data["elements"]["edges"]]
    cart = next(t for t in edges if t["protocol"] == "http" and t["rates"]["http"] == "100.00")
    assert cart["rates"]["http5xx"] == "10.00" and cart["rates"]["httpPercentErr"] == "10.0"
    assert cart["responses"]["500"]["flags"] == {"-": "10.0"}


def test_table_is_the_default_and_shows_errors(tmp_path: Path) -> None:
    out = run("--snapshot", str(_file(tmp_path)))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:4] == ["SOURCE", "DESTINATION", "PROTOCOL", "RATE"]
    row = next(ln for ln in lines if "shop/web-v1 (workload)" in ln.split("  ")[0] and "cart-v1" in ln)
    assert "100.00 rps" in row and "10.0" in row and "Failure" in row
    db = next(ln for ln in lines if "db-v1" in ln and " tcp " in ln)
    assert "2048.00 B/s" in db, "TCP rates are bytes per second, and say so"


def test_dot_and_json(tmp_path: Path) -> None:
    path = str(_file(tmp_path))
    dot = run("--snapshot", path, "--format", "dot")
    assert dot.returncode == 0 and dot.stdout.startswith("digraph mesh {") and "->" in dot.stdout
    assert 'label="tcp 2048.00 B/s"' in dot.stdout
    js = json.loads(run("--snapshot", path, "--format", "json").stdout)
    assert js["format"] == "meshdesk-graph"
    assert {n["workload"] for n in js["nodes"] if n["node_type"] == "workload"} == {"web-v1", "cart-v1", "db-v1"}


def test_options_override_the_snapshot_request(tmp_path: Path) -> None:
    path = str(_file(tmp_path))
    data = json.loads(run("--snapshot", path, "--format", "kiali", "--graph-type", "app").stdout)
    assert data["graphType"] == "app"
    assert {n["data"]["nodeType"] for n in data["elements"]["nodes"]} >= {"app"}
    injected = json.loads(run("--snapshot", path, "--format", "kiali", "--inject-service-nodes").stdout)
    assert any(n["data"].get("isInjected") for n in injected["elements"]["nodes"])



def test_a_snapshot_is_not_asked_for_namespaces_or_a_node_graph_it_was_not_taken_for(tmp_path: Path) -> None:
    """QA s13: a snapshot of hello asked for shop said "no traffic" (exit 0), asked for hello and shop
    showed hello alone without a word, and --save-snapshot wrote "namespaces: shop" over hello's
    samples. A node graph's snapshot holds that node's traffic only."""
    path = str(_file(tmp_path))
    for ns in ("elsewhere", "shop,elsewhere"):
        out = run("--snapshot", path, "-n", ns, "--save-snapshot", str(tmp_path / "again.json"))
        assert out.returncode == 2 and not out.stdout
        assert "--namespace elsewhere: the snapshot holds namespace shop only" in out.stderr
        assert not (tmp_path / "again.json").exists()
    assert run("--snapshot", path, "-n", "shop").returncode == 0
    node = tmp_path / "node.json"
    assert run("--demo", "-n", "hello", "--node-app", "helloworld", "--save-snapshot", str(node)).returncode == 0
    assert run("--snapshot", str(node)).returncode == 0
    other = run("--snapshot", str(node), "--node-app", "sleep")
    assert other.returncode == 2 and "holds the node graph of app helloworld in hello only" in other.stderr


def test_a_node_graph_of_what_the_namespace_does_not_have_says_so(tmp_path: Path) -> None:
    """QA s13: --node-app with a typo said "no traffic in the requested window" although the snapshot's
    inventory shows there is no such app."""
    saved = tmp_path / "hello.json"
    assert run("--demo", "-n", "hello", "--save-snapshot", str(saved)).returncode == 0
    for args, said in ((("--node-app", "helloword"), "hello has no app helloword (apps: helloworld, sleep"),
                       (("--node-app", "helloworld", "--node-version", "v9"),
                        "app helloworld in hello has no version v9 (its versions: v1, v2)"),
                       (("--node-workload", "sleepy"), "hello has no workload sleepy (workloads: helloworld-v1"),
                       (("--node-service", "hello"), "hello has no service hello (services: helloworld, sleep)")):
        out = run("--snapshot", str(saved), *args)
        assert out.returncode == 2 and said in out.stderr and not out.stdout, (args, out.stderr)
    found = run("--snapshot", str(saved), "--node-app", "helloworld", "--node-version", "v2")
    assert found.returncode == 0 and "helloworld v2" in found.stdout


def test_a_name_ten_thousand_characters_long_is_quoted_by_its_start_and_end(tmp_path: Path) -> None:
    """QA s24: a value pasted by mistake into --node-app (10,000 characters) was echoed whole in the line
    that says the namespace has no such app; a word longer than any path is quoted by its start and end."""
    saved = tmp_path / "hello.json"
    assert run("--demo", "-n", "hello", "--save-snapshot", str(saved)).returncode == 0
    pasted = "helloworld" * 1000
    out = run("--snapshot", str(saved), "--node-app", pasted)
    assert out.returncode == 2 and not out.stdout
    line = out.stderr.strip()
    assert line.startswith("meshdesk graph: hello has no app helloworldhelloworld") and "\n" not in line
    assert "(10,000 characters)" in line and pasted not in line and len(line) < 400
    assert "(apps: helloworld, sleep" in line  # the rest of the message as it was


def test_an_empty_snapshot_name_and_a_prometheus_url_that_is_not_http_are_named(tmp_path: Path) -> None:
    """QA s13: --snapshot '' was told to say where the data comes from; --prometheus ftp://x was
    "Cannot reach Prometheus ... InvalidSchema"."""
    out = run("--snapshot", "")
    assert out.returncode == 2 and "--snapshot needs a file name" in out.stderr
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
                          "users: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
                          "current-context: x\n")
    out = run("--kubeconfig", str(kubeconfig), "-n", "shop", "--prometheus", "ftp://prometheus.example")
    assert out.returncode == 2 and "must look like http(s)://host" in out.stderr, out.stderr


def test_bad_snapshot_exits_2_with_one_plain_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"request": ')
    for path in (bad, tmp_path / "missing.json"):
        out = run("--snapshot", str(path))
        assert out.returncode == 2
        assert "Traceback" not in out.stderr
        assert out.stderr.strip().count("\n") == 0 and str(path) in out.stderr
        assert out.stdout == ""


def test_no_source_and_no_kubeconfig_is_a_usage_error_offering_the_others(tmp_path: Path) -> None:
    """With nothing named, graph takes the kubeconfig's current context (as kubectl does); with no
    kubeconfig either, one line says where it looked and offers --demo and --snapshot."""
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "-n", "shop"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, env=env)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (f"meshdesk graph: no kubeconfig found (looked at {tmp_path / '.kube' / 'config'}): set "
                          "KUBECONFIG or pass --kubeconfig for a cluster, or graph the built-in mesh with --demo or a "
                          "snapshot with --snapshot FILE\n")


def test_an_api_server_answering_json_lists_is_said_so_not_a_traceback(tmp_path: Path) -> None:
    """Something in the API server's place (a proxy, a mock) answering JSON that is no object: graph
    failed with Python's AttributeError ('list' object has no attribute 'get') and its traceback, and
    inventory said "no workloads" and "Istio was not found", as if the cluster were empty."""
    import yaml

    from tests.prom_server import StubResponse, StubServer

    def answer(req: object) -> StubResponse:
        if getattr(req, "path", "") == "/version":
            return StubResponse(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0"})
        return StubResponse(200, ["not", "an", "object"])

    with StubServer(answer) as server:
        config = tmp_path / "kubeconfig"
        config.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "odd",
            "clusters": [{"name": "odd", "cluster": {"server": server.url}}],
            "users": [{"name": "odd", "user": {"token": "t"}}],
            "contexts": [{"name": "odd", "context": {"cluster": "odd", "user": "odd"}}]}))
        for command in ("graph", "inventory"):
            out = subprocess.run([sys.executable, "-m", "meshdesk", command, "-n", "shop", "--kubeconfig", str(config)],
                                 capture_output=True, text=True, cwd=ROOT, timeout=120)
            assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
            assert out.stderr == (f"meshdesk {command}: list namespaces: the API server answered JSON that is not an "
                                  "object (a list), which no Kubernetes API answer is\n")


def test_an_api_server_repeating_a_page_of_a_list_is_said_so_not_asked_for_ever(tmp_path: Path) -> None:
    """A list whose every answer names the same next page (a proxy that drops the query): each list was
    asked for up to 10,000 times, and meshdesk inventory sat for minutes saying nothing."""
    import yaml

    from tests.prom_server import StubRequest, StubResponse, StubServer

    def answer(req: StubRequest) -> StubResponse:
        if req.path == "/version":
            return StubResponse(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0"})
        return StubResponse(200, {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"continue": "page-2"},
                                  "items": [{"metadata": {"name": "shop"}}]})

    with StubServer(answer) as server:
        config = tmp_path / "kubeconfig"
        config.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "odd",
            "clusters": [{"name": "odd", "cluster": {"server": server.url}}],
            "users": [{"name": "odd", "user": {"token": "t"}}],
            "contexts": [{"name": "odd", "context": {"cluster": "odd", "user": "odd"}}]}))
        out = subprocess.run([sys.executable, "-m", "meshdesk", "inventory", "-n", "shop", "--kubeconfig", str(config)],
                             capture_output=True, text=True, cwd=ROOT, timeout=60)
        asked = [r for r in server.requests if r.path == "/api/v1/namespaces"]
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr == ("meshdesk inventory: list namespaces: the API server answered the same page of the list "
                          "again (its continue token repeats), so the list never ends; a proxy in front of it may "
                          "drop the query\n")
    assert len(asked) == 2


def test_an_api_server_answer_cut_short_is_said_so(tmp_path: Path) -> None:
    """The connection closed in the middle of a list (a proxy's limit): it was said as "connection to
    http://... failed: IncompleteRead(39 bytes read, 961 more expected)", Python's words."""
    import socket
    import threading

    import yaml

    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(60)
    version = b'{"major":"1","minor":"31","gitVersion":"v1.31.0"}'

    def answer() -> None:  # each connection: /version whole; anything else 39 of the 1000 bytes it says
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                asked = conn.recv(65536)
                if asked.startswith(b"GET /version"):
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(version), version))
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                                 b'{"kind":"NamespaceList","items":[{"meta')

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "odd",
        "clusters": [{"name": "odd", "cluster": {"server": url}}], "users": [{"name": "odd", "user": {"token": "t"}}],
        "contexts": [{"name": "odd", "context": {"cluster": "odd", "user": "odd"}}]}))
    try:
        out = subprocess.run([sys.executable, "-m", "meshdesk", "inventory", "-n", "shop", "--kubeconfig", str(config)],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
    finally:
        server.close()
        thread.join(10)
    assert out.returncode == 1, out.stderr
    assert out.stderr == (f"meshdesk inventory: list namespaces: {url} stopped in the middle of its answer (39 of 1,000 "
                          "bytes came) (try again; if it repeats, a proxy on the way may limit the size or the time of "
                          "an answer)\n")


def test_without_namespaces_a_live_graph_shows_the_namespaces_in_the_mesh() -> None:
    """As the app's first look: no --namespace means the namespaces with injection, a revision label or
    ambient mode (the demo's hello, shop and travel; not istio-system)."""
    out = run("--demo", "--format", "kiali")
    assert out.returncode == 0, out.stderr
    namespaces = {n["data"]["namespace"] for n in json.loads(out.stdout)["elements"]["nodes"]
                  if n["data"].get("nodeType") != "box"}
    assert {"hello", "shop", "travel"} <= namespaces


def test_demo_and_save_snapshot(tmp_path: Path) -> None:
    saved = tmp_path / "demo.json"
    out = run("--demo", "-n", "shop", "--save-snapshot", str(saved), "--format", "kiali")
    if out.returncode == 2 and "not available" in out.stderr:
        # the demo source is optional in this build; the message must say so plainly
        assert "Traceback" not in out.stderr
        return
    assert out.returncode == 0, out.stderr
    graph = json.loads(out.stdout)
    snap = load_snapshot(saved)
    assert snap.request.namespaces == ("shop",)
    again = json.loads(run("--snapshot", str(saved), "--format", "kiali").stdout)
    assert len(again["elements"]["nodes"]) == len(graph["elements"]["nodes"])


def test_an_operations_node_graph_from_the_cli(tmp_path: Path) -> None:
    """``--node-operation`` (with ``--node-service``) draws that operation's node graph; the snapshot it
    saves keeps the focus, so it opens as the same graph offline."""
    saved = tmp_path / "op.json"
    out = run("--demo", "-n", "shop", "--node-operation", "GET /details/{id}", "--node-service", "details",
              "--save-snapshot", str(saved), "--format", "kiali")
    assert out.returncode == 0, out.stderr
    nodes = [n["data"] for n in json.loads(out.stdout)["elements"]["nodes"]]
    ops = [n for n in nodes if n["nodeType"] == "aggregate"]
    assert [n["aggregate"] for n in ops] == ["request_operation=GET /details/{id}"]  # Kiali's spelling
    assert {n.get("app") for n in nodes if n["nodeType"] == "app"} == {"productpage", "details"}
    node = load_snapshot(saved).request.node
    assert node is not None and (node.aggregateValue, node.service) == ("GET /details/{id}", "details")
    table = run("--snapshot", str(saved)).stdout
    assert "shop/GET /details/{id} (aggregate)" in table
    mixed = run("--snapshot", str(saved), "--node-operation", "GET /x", "--node-workload", "details-v1")
    assert mixed.returncode == 2 and "goes with --node-service alone" in mixed.stderr


def test_live_cluster_errors_are_one_line(tmp_path: Path) -> None:
    out = run("--kubeconfig", str(tmp_path / "no-such-kubeconfig"), "--context", "nope", "-n", "shop")
    assert out.returncode in (1, 2)
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("meshdesk graph:") and out.stderr.strip().count("\n") == 0


def test_skipped_samples_are_said_on_stderr_in_every_format(tmp_path: Path) -> None:
    """A warning is not data: whatever the format, stdout carries the graph only and stderr says what
    was skipped (with kiali and dot it was said nowhere, with table it was mixed into the table)."""
    path = tmp_path / "odd.json"
    doc = json.loads(_file(tmp_path).read_text())
    doc["samples"].append({"metric": "istio_something_else", "labels": {}, "value": 1.0})
    path.write_text(json.dumps(doc))
    for fmt in ("kiali", "json", "dot", "table"):
        out = run("--snapshot", str(path), "--format", fmt)
        assert out.returncode == 0, out.stderr
        assert out.stderr == "meshdesk graph: warning: skipped 1 sample: unknown metric name\n", fmt
        if fmt == "json":  # its own "warnings" key keeps them with the data
            assert json.loads(out.stdout)["warnings"] == ["skipped 1 sample: unknown metric name"]
        else:
            assert "skipped" not in out.stdout, fmt


def test_node_graph_options_that_do_not_go_together_are_refused(tmp_path: Path) -> None:
    path = str(_file(tmp_path))
    for args, said in ((("--node-version", "v1"), "--node-version goes with --node-app"),
                       (("--node-app", "cart", "--node-service", "cart"), "give one of --node-workload"),
                       (("--node-app", "cart", "--node-workload", "web-v1"), "give one of --node-workload")):
        out = run("--snapshot", path, "-n", "shop", *args)
        assert out.returncode == 2 and said in out.stderr and not out.stdout, args


def test_save_snapshot_needs_a_name_and_a_folder(tmp_path: Path) -> None:
    path = str(_file(tmp_path))
    out = run("--snapshot", path, "--save-snapshot", "")
    assert out.returncode == 2 and "--save-snapshot needs a file name" in out.stderr
    (tmp_path / "afile").write_text("x")
    out = run("--snapshot", path, "--save-snapshot", str(tmp_path / "afile" / "x.json"))
    assert out.returncode == 1 and f"{tmp_path / 'afile'} is a file, not a folder" in out.stderr
    assert (tmp_path / "afile").read_text() == "x"


def test_ctrl_c_stops_quietly_with_status_130(tmp_path: Path) -> None:
    """Interrupted while it waits (here on a pipe no one writes yet), it exits 130 without a traceback."""
    import errno
    import os
    import signal
    import time

    fifo = tmp_path / "slow.json"
    os.mkfifo(fifo)
    # as from a terminal: Ctrl+C is delivered (a test run started in the background ignores SIGINT, and
    # its children would inherit that)
    proc = subprocess.Popen([sys.executable, "-m", "meshdesk", "graph", "--snapshot", str(fifo)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
    writer = None
    try:
        deadline = time.monotonic() + 60
        while writer is None:  # wait until it has the pipe open for reading (then it waits for data)
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                assert e.errno == errno.ENXIO and time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.02)
        # and until it sits in the read: a signal landing just before the read starts is noted but the
        # read then waits on (a user would press Ctrl+C again)
        wchan = Path(f"/proc/{proc.pid}/wchan")
        while wchan.exists() and "pipe_read" not in wchan.read_text():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if writer is not None:
            os.close(writer)
        proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err


def test_save_snapshot_replaces_only_regular_files_in_existing_folders(tmp_path: Path) -> None:
    import os

    path = str(_file(tmp_path))
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    out = run("--snapshot", path, "--save-snapshot", str(fifo))
    assert out.returncode == 1 and "it is not a regular file" in out.stderr  # the output not written
    assert fifo.is_fifo()  # left as it was
    missing = tmp_path / "typo" / "deeper" / "x.json"
    out = run("--snapshot", path, "--save-snapshot", str(missing))
    assert out.returncode == 1 and "does not exist" in out.stderr and not (tmp_path / "typo").exists()


def test_a_newer_format_and_boolean_values_are_refused(tmp_path: Path) -> None:
    path = _file(tmp_path)
    doc = json.loads(path.read_text())
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({**doc, "formatVersion": 99}))
    out = run("--snapshot", str(newer))
    assert out.returncode == 2 and "written by a newer meshdesk (format 99" in out.stderr and not out.stdout
    doc["samples"][0]["value"] = True
    flagged = tmp_path / "bool.json"
    flagged.write_text(json.dumps(doc))
    out = run("--snapshot", str(flagged), "--format", "json")
    assert out.returncode == 0 and "malformed sample" in out.stderr


def test_output_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    path = str(_file(tmp_path))
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--snapshot", path, "--format", "json"],
                              stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1 and done.stderr.strip() == "meshdesk graph: cannot write the output: No space left on device"
    # a reader that goes early (| head): quiet, as Unix tools are
    proc = subprocess.Popen([sys.executable, "-m", "meshdesk", "inventory", "--demo", "--json"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.read(10)
    proc.stdout.close()
    _out, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and proc.returncode in (0, 141)
    # started with standard output closed (`>&-`): said in one line, not an AttributeError
    shut = subprocess.run(["sh", "-c", f'"{sys.executable}" -m meshdesk graph --snapshot "{path}" >&-'],
                          stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120)
    assert shut.returncode == 1 and shut.stderr.strip() == \
        "meshdesk graph: cannot write the output: standard output is closed"


def test_the_app_refuses_a_pipe_at_once(tmp_path: Path) -> None:
    """The app waited on a named pipe for ever (and could not close); the command line reads
    ``<(...)`` on purpose, the app asks for a regular file."""
    import os

    import pytest

    from meshdesk.sources.base import ConfigError

    fifo = tmp_path / "p.json"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"is a named pipe \(FIFO\), not a regular file"):
        load_snapshot(fifo, regular_only=True)


def test_a_snapshot_is_not_asked_for_data_it_does_not_hold(tmp_path: Path) -> None:
    """--rate-tcp total over a file of TCP bytes sent read a quarter of the traffic as all of it."""
    path = str(_file(tmp_path))
    for args, said in ((("--rate-tcp", "total"), "--rate-tcp total: the snapshot holds the data of rateTcp sent"),
                       (("--response-time", "0.99"), "--response-time 0.99"),
                       (("--duration", "60"), "--duration 60"),
                       # taken without idle edges, it has none: they were left out silently
                       (("--include-idle-edges",), "--include-idle-edges: the snapshot was taken without idle edges")):
        out = run("--snapshot", path, *args)
        assert out.returncode == 2 and said in out.stderr and not out.stdout, args
    assert run("--snapshot", path, "--rate-tcp", "sent").returncode == 0  # what it holds
    out = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--demo", "--context", "nosuch"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2 and "--demo is the built-in mesh" in out.stderr


def test_the_graph_says_when_its_data_was_read(tmp_path: Path) -> None:
    """Kiali's graph JSON carries the query time; a live graph (asked for "now") said 0."""
    snap = snapshot([http("web-v1", "cart-v1", 10)])
    snap.meta = {"takenAt": "2026-11-27T13:00:00Z"}
    path = tmp_path / "live.json"
    save_snapshot(snap, path)
    out = run("--snapshot", str(path), "--format", "kiali")
    assert out.returncode == 0 and json.loads(out.stdout)["timestamp"] == 1795784400
    demo = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--demo", "--format", "kiali"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert demo.returncode == 0 and json.loads(demo.stdout)["timestamp"] > 1_700_000_000


def test_a_snapshot_nested_absurdly_deep_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """It loaded, and ``--save-snapshot`` then died with RecursionError in dataclasses.asdict."""
    doc = json.loads(_file(tmp_path).read_text())
    doc["request"]["extra"] = json.loads('{"a":' * 500 + "1" + "}" * 500)
    deep = tmp_path / "deep.json"
    deep.write_text(json.dumps(doc))
    again = tmp_path / "again.json"
    out = run("--snapshot", str(deep), "--save-snapshot", str(again))
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and out.stderr.strip().count("\n") == 0
    assert str(deep) in out.stderr and "more than 64 levels deep, at request.extra.a.a.a.a…" in out.stderr
    assert not again.exists()


def test_unknown_appender_names_are_refused(tmp_path: Path) -> None:
    """`--appenders ?` ran no pass at all and said nothing; a name the builder does not know is refused."""
    path = str(_file(tmp_path))
    out = run("--snapshot", path, "--appenders", "responseTime,responsTime")
    assert out.returncode == 2 and "--appenders: unknown 'responsTime'" in out.stderr and "responseTime" in out.stderr
    assert not out.stdout
    assert run("--snapshot", path, "--appenders", "responseTime").returncode == 0


def test_a_failed_run_leaves_the_save_snapshot_file_as_it_was(tmp_path: Path) -> None:
    """QA finding 2: `--save-snapshot F` wrote F before the graph was built and checked, so a run refused
    with exit 2 had already replaced F - and when F was also the --snapshot input, that file held a node
    graph request for an app that does not exist and could never be graphed again."""
    precious = tmp_path / "precious.json"
    precious.write_text("precious\n")
    out = run("--demo", "-n", "shop", "--node-app", "nosuch", "--save-snapshot", str(precious))
    assert out.returncode == 2 and "shop has no app nosuch" in out.stderr and not out.stdout
    assert precious.read_text() == "precious\n"
    path = tmp_path / "shop.json"  # with its inventory, which tells a missing app
    assert run("--demo", "-n", "shop", "--save-snapshot", str(path)).returncode == 0
    before = path.read_bytes()
    out = run("--snapshot", str(path), "-n", "shop", "--node-app", "nosuch", "--save-snapshot", str(path))
    assert out.returncode == 2 and "shop has no app nosuch" in out.stderr
    assert path.read_bytes() == before
    again = run("--snapshot", str(path))
    assert again.returncode == 0 and "shop/productpage" in again.stdout, again.stderr
    # a run that succeeds still saves
    node = tmp_path / "node.json"
    assert run("--snapshot", str(path), "-n", "shop", "--node-app", "reviews", "--save-snapshot",
               str(node)).returncode == 0
    focus = load_snapshot(node).request.node
    assert focus is not None and (focus.namespace, focus.app) == ("shop", "reviews")


def test_a_save_snapshot_that_cannot_be_written_exits_1_as_the_readme_says(tmp_path: Path) -> None:
    """QA finding 13: an unwritable --save-snapshot exited 2 (bad usage); the README gives 1 to "the output
    not written", as a full standard output has."""
    path = str(_file(tmp_path))
    out = run("--snapshot", path, "--save-snapshot", "/dev/full")
    assert out.returncode == 1 and not out.stdout
    assert out.stderr == "meshdesk graph: cannot write snapshot file /dev/full: it is not a regular file\n"
    folder = tmp_path / "folder"
    folder.mkdir()
    out = run("--snapshot", path, "--save-snapshot", str(folder))
    assert out.returncode == 1 and "it is a folder: give a file name in it" in out.stderr
    readme = (ROOT / "README.md").read_text()
    assert "1 the cluster or Prometheus could not be read, or the\noutput (standard output, or `--save-snapshot`'s" \
        in readme


def test_a_duration_no_snapshot_could_hold_is_a_usage_error(tmp_path: Path) -> None:
    """QA finding 3: `--duration 99999999999999999999` was taken, printed in the Kiali JSON and written to
    a snapshot its own reader refuses (whole seconds up to 1e12)."""
    saved = tmp_path / "huge.json"
    for value in ("99999999999999999999", "1000000000001", "0", "-5", "1e3", "ten"):
        out = run("--demo", "--duration", value, "--save-snapshot", str(saved), "--format", "kiali")
        assert out.returncode == 2 and not out.stdout, value
        assert "argument --duration: must be a " in out.stderr and "Traceback" not in out.stderr, value
        assert not saved.exists()
    out = run("--demo", "-n", "hello", "--duration", "1000000000000", "--save-snapshot", str(saved), "-o", "kiali")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["duration"] == 1000000000000
    assert run("--snapshot", str(saved)).returncode == 0  # what it writes, it reads


def test_a_duration_is_taken_with_its_units_as_traces_since_is() -> None:
    """`graph --duration 2h` was refused ("must be a whole number of seconds") though `traces --since 2h`
    takes it: a span with Prometheus's units is taken, and one that is no span is still refused."""
    out = run("--demo", "-n", "hello", "--duration", "1h30m", "-o", "kiali")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["duration"] == 5400
    for value in ("2 hours", "1.5h", "500ms"):
        out = run("--demo", "--duration", value)
        assert out.returncode == 2 and "argument --duration: must be a whole number of seconds or a time span" \
            in out.stderr, (value, out.stderr)


def test_empty_node_names_are_refused(tmp_path: Path) -> None:
    """QA finding 13: `--node-app ""` and `--node-workload ""` drew the whole namespace with exit 0 (an
    unset shell variable looked like a node graph that worked)."""
    path = str(_file(tmp_path))
    for option, extra in (("--node-workload", ()), ("--node-app", ()), ("--node-service", ()),
                          ("--node-operation", ("--node-service", "cart")), ("--node-version", ("--node-app", "cart")),
                          ("--node-cluster", ("--node-app", "cart"))):
        out = run("--snapshot", path, "-n", "shop", *extra, option, "")
        assert out.returncode == 2 and not out.stdout, option
        assert f"error: {option} needs a name (it was given an empty one)" in out.stderr, option


def test_a_format_version_that_is_not_a_whole_number_is_named(tmp_path: Path) -> None:
    """QA finding 13: a snapshot whose formatVersion was 2.0 or "2" was read as format 1. meshdesk writes a
    whole number; anything else is refused naming the field, not guessed at."""
    doc = json.loads(_file(tmp_path).read_text())
    for version in (2.0, "2", 1.5, True, 0, -1):
        odd = tmp_path / "odd.json"
        odd.write_text(json.dumps({**doc, "formatVersion": version}))
        out = run("--snapshot", str(odd))
        assert out.returncode == 2 and not out.stdout, version
        assert f"is not a snapshot: its 'formatVersion' must be a whole number from 1 (this meshdesk writes 1), " \
               f"not {version!r}" in out.stderr, version
    for fine in (1, None):  # files of this format, or older ones that did not say
        ok = tmp_path / "ok.json"
        ok.write_text(json.dumps({**doc, "formatVersion": fine}))
        assert run("--snapshot", str(ok)).returncode == 0


def test_a_device_that_never_ends_is_refused_and_a_pipe_still_read(tmp_path: Path) -> None:
    """QA finding 13: `--snapshot /dev/zero` was read until the system killed the process (exit 137, no
    word). A pipe or device is read up to 512 MB; `<(cat file)` must keep working."""
    out = run("--snapshot", "/dev/zero")
    assert out.returncode == 2 and not out.stdout
    assert out.stderr == ("meshdesk graph: snapshot file /dev/zero is a device that gives more than 512 MB (save it "
                          "to a file first: a regular file is read whatever its size)\n")
    path = _file(tmp_path)
    piped = subprocess.run(["bash", "-c", f'"{sys.executable}" -m meshdesk graph --snapshot <(cat "{path}")'],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert piped.returncode == 0 and "cart-v1" in piped.stdout, piped.stderr


def test_a_context_without_any_kubeconfig_says_there_is_none(tmp_path: Path) -> None:
    """QA finding 9: `--context dev` with no kubeconfig file said the context "does not exist in
    /root/.kube/config", a file that does not exist either."""
    import os

    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(home)
    looked = home / ".kube" / "config"
    for cmd in ("graph", "inventory"):
        out = subprocess.run([sys.executable, "-m", "meshdesk", cmd, "--context", "dev"], capture_output=True,
                             text=True, cwd=ROOT, timeout=120, env=env)
        assert out.returncode == 2 and not out.stdout, out.stderr
        assert out.stderr == (f'meshdesk {cmd}: context "dev" does not exist: no kubeconfig found (looked at '
                              f"{looked}) (set KUBECONFIG or pass --kubeconfig)\n")
    env["KUBECONFIG"] = str(tmp_path / "nonexist")
    out = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--context", "dev"], capture_output=True,
                         text=True, cwd=ROOT, timeout=120, env=env)
    assert out.returncode == 2 and f"no kubeconfig found (looked at {tmp_path / 'nonexist'})" in out.stderr


def test_an_unexpected_value_error_is_no_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """QA: main caught every ValueError as a usage error (exit 2): one from the source layer or the
    graph's build is the tool's failure (exit 1), said in plain words."""
    import meshdesk.mesh.graph as graph_module

    def broken(_snap: object) -> None:
        raise ValueError("invalid literal for int() with base 10: 'x'")

    monkeypatch.setattr(graph_module, "build", broken)
    assert graph_main(["--demo"]) == 1
    err = capsys.readouterr().err
    assert "meshdesk graph: the graph could not be built: invalid literal" in err and "usage:" not in err
    # a real usage error still exits 2
    assert graph_main(["--demo", "--node-version", "v1"]) == 2


def test_a_self_signed_prometheus_is_reached_with_the_ca_or_insecure_options(
        kube_emulator: KubeEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """QA: graph --prometheus https://self-signed had no CA or insecure option, and the hint did not say
    where to set one."""
    from tests.prom_server import StubResponse, StubServer, prometheus_vector, self_signed_cert

    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / "cfg"))
    pair = self_signed_cert(tmp_path)
    if pair is None:
        pytest.skip("openssl is missing")
    kube_emulator.add_namespace("shop", {"istio-injection": "enabled"})
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    empty = prometheus_vector([])
    with StubServer(lambda _req: StubResponse(200, empty), tls=pair) as stub:
        base = ["--kubeconfig", str(config), "-n", "shop", "--prometheus", stub.url]
        assert graph_main(base) == 1
        err = capsys.readouterr().err
        assert "--prometheus-ca FILE" in err and "--prometheus-insecure" in err
        assert graph_main([*base, "--prometheus-ca", pair[0]]) == 0, capsys.readouterr().err
        capsys.readouterr()
        assert graph_main([*base, "--prometheus-insecure"]) == 0, capsys.readouterr().err
        assert stub.requests
    capsys.readouterr()
    assert graph_main(["--kubeconfig", str(config), "-n", "shop", "--prometheus-insecure"]) == 2


@pytest.mark.parametrize("option", [["--prometheus-ca", "ca.pem"], ["--prometheus-insecure"]])
def test_prometheus_tls_options_with_a_snapshot_or_the_demo_are_refused(tmp_path: Path, option: list[str]) -> None:
    """They were ignored without a word (exit 0, the graph printed), though nothing was asked of a Prometheus
    with them: a usage error, as --prometheus with --snapshot or --demo is."""
    for source in (["--snapshot", str(_file(tmp_path))], ["--demo"]):
        out = run(*source, *option)
        assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
        asks_none = "--snapshot asks no Prometheus" if source[0] == "--snapshot" else "--demo asks no Prometheus"
        assert out.stderr == (
            "meshdesk graph: error: --prometheus-ca and --prometheus-insecure are for a live cluster's Prometheus; "
            + asks_none + " (see 'meshdesk graph --help')\n")


def test_an_appender_a_megabyte_long_in_a_snapshot_is_named_by_its_start_and_end(tmp_path: Path) -> None:
    """The warning quoted the file's appender whole: one line of a megabyte on stderr."""
    path = _file(tmp_path)
    doc = json.loads(path.read_text())
    doc["request"]["appenders"] = ["health", "a" * 1_000_000]
    path.write_text(json.dumps(doc))
    out = run("--snapshot", str(path))
    assert out.returncode == 0 and "web-v1" in out.stdout
    assert out.stderr == (f"meshdesk graph: warning: unknown appender '{'a' * 60}\u2026{'a' * 20} (1,000,000 "
                          "characters)' ignored\n")


def test_save_snapshot_to_dash_is_refused_not_written_as_a_file_named_dash(tmp_path: Path) -> None:
    """`--save-snapshot -` wrote a file named "-" in the current folder: to a command-line user "-" is
    standard output, which the graph itself is printed to. It is refused, and nothing is written."""
    path = str(_file(tmp_path))
    work = tmp_path / "here"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--snapshot", path, "--save-snapshot", "-"],
                         capture_output=True, text=True, cwd=work, env=env, timeout=120)
    assert out.returncode == 2 and not out.stdout
    assert "--save-snapshot needs a file name: '-' (standard output) is where the graph is printed" in out.stderr
    assert list(work.iterdir()) == []


def test_a_malformed_prometheus_url_saved_in_settings_is_said_with_where_it_was_set(
        kube_emulator: KubeEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """s18: a Prometheus URL saved for the context that is no address (a settings file edited by hand:
    "htp:/x", "http://", a space in it) exited 1 with "the graph could not be built", or "not a valid
    URL", without a word of Settings. It is the user's to mend: exit 2, naming the context, the settings
    file and the way out, before the cluster is asked anything. A --prometheus port out of range was
    blamed on "Settings for this context" too."""
    from meshdesk.store.paths import settings_file
    from meshdesk.store.settings import ContextSettings, load_settings

    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / "cfg"))
    kube_emulator.add_namespace("shop", {"istio-injection": "enabled"})
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    for url, why in (("htp:/x", "it must look like http(s)://host[:port][/prefix]"),
                     ("http://", "it must look like http(s)://host[:port][/prefix]"),
                     ("http://prom etheus:9090", "it has a space or a line break in it"),
                     ("http://prometheus:99999", "its host or port cannot be read")):
        settings = load_settings()
        settings.set_context_settings("lab", ContextSettings(prometheus_url=url))
        settings.save()
        kube_emulator.calls.clear()
        assert graph_main(["--kubeconfig", str(config), "--context", "lab", "-n", "shop"]) == 2, url
        err = capsys.readouterr().err
        assert err == (f"meshdesk graph: the Prometheus URL saved for context lab ({url!r}, in {settings_file()}) "
                       f"cannot be used: {why} (correct it in the app's Settings for this context, or give one "
                       "with --prometheus URL)\n"), err
        assert kube_emulator.calls == []
    # a good --prometheus stands in for the bad one saved (it is not looked at)
    assert graph_main(["--kubeconfig", str(config), "-n", "shop", "--prometheus", "http://127.0.0.1:9"]) == 1
    assert "cannot be used" not in capsys.readouterr().err
    assert graph_main(["--kubeconfig", str(config), "-n", "shop", "--prometheus", "http://prometheus:99999"]) == 2
    err = capsys.readouterr().err
    assert err == "meshdesk graph: --prometheus 'http://prometheus:99999': its host or port cannot be read\n"
    # an IPv6 address without its closing bracket: said "Invalid IPv6 URL", naming neither option nor address
    assert graph_main(["--kubeconfig", str(config), "-n", "shop", "--prometheus", "http://[::1:9090"]) == 2
    err = capsys.readouterr().err
    assert err == ("meshdesk graph: Prometheus URL must look like http(s)://host[:port][/prefix], not "
                   "'http://[::1:9090'\n"), err


def test_a_snapshot_naming_no_namespace_is_graphed_for_the_namespaces_its_traffic_names(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """s18: a snapshot whose request names no namespace (made by hand, a conformance case) holds the
    traffic of every namespace its telemetry names, and is drawn so without -n; but every -n was refused
    with "the snapshot holds namespaces none only". Those namespaces are taken; others are refused naming
    them."""
    path = tmp_path / "all.json"
    assert graph_main(["--demo", "-n", "shop,hello", "--save-snapshot", str(path)]) == 0
    capsys.readouterr()
    doc = json.loads(path.read_text())
    doc["request"]["namespaces"] = []
    path.write_text(json.dumps(doc))
    assert graph_main(["--snapshot", str(path), "-n", "hello", "--format", "json"]) == 0, capsys.readouterr().err
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    assert nodes and any(n.get("namespace") == "hello" for n in nodes)
    assert graph_main(["--snapshot", str(path), "-n", "travel"]) == 2
    assert "--namespace travel: the snapshot holds namespaces hello, istio-system, shop only" in capsys.readouterr().err


def test_health_is_judged_by_the_health_config_of_kialis_cr(tmp_path: Path) -> None:
    """`--health-config` reads health_config.rate from Kiali's CR as kubectl prints it: cart fails 10% of
    its requests, a Failure by Kiali's defaults; configured to fail at 50% (degraded at 5%), Degraded.
    A typo is a usage error naming the file and the field; '' gives back the defaults."""
    snap = _file(tmp_path)

    def cart_status(*extra: str) -> str:
        out = run("--snapshot", str(snap), "--format", "kiali", *extra)
        assert out.returncode == 0, out.stderr
        nodes = [n["data"] for n in json.loads(out.stdout)["elements"]["nodes"]]
        return str(next(n for n in nodes if n.get("workload") == "cart-v1")["healthStatus"])

    cr = tmp_path / "kiali.yaml"
    cr.write_text("apiVersion: v1\nkind: List\nitems:\n- apiVersion: kiali.io/v1alpha1\n  kind: Kiali\n"
                  "  spec:\n    health_config:\n      rate:\n      - namespace: shop\n        kind: workload\n"
                  "        tolerance:\n        - {code: 5XX, degraded: 5, failure: 50, protocol: http}\n")
    assert cart_status() == "Failure"
    assert cart_status("--health-config", str(cr)) == "Degraded"
    assert cart_status("--health-config", "") == "Failure"
    cr.write_text(cr.read_text().replace("failure: 50", "failure: fifty"))
    out = run("--snapshot", str(snap), "--health-config", str(cr))
    assert out.returncode == 2 and out.stdout == ""
    assert f"--health-config {cr}: rate[0].tolerance[0].failure must be a number of percent, not 'fifty'" in out.stderr
    out = run("--snapshot", str(snap), "--health-config", str(tmp_path / "nope.yaml"))
    assert out.returncode == 2 and "nope.yaml: No such file or directory" in out.stderr


def test_a_kiali_configmap_whose_config_yaml_does_not_parse_is_said_without_quoting_it(tmp_path: Path) -> None:
    """Kiali's ConfigMap holds Prometheus' password in its config.yaml: when that did not parse, the YAML
    library's own message was printed, quoting the line that failed (the password's, here)."""
    snap = _file(tmp_path)
    cm = tmp_path / "kiali-cm.yaml"
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kiali}\ndata:\n  config.yaml: |\n"
                  "    external_services:\n      prometheus:\n        auth:\n"
                  "          password: \"pw-SECRET-0815\n")
    out = run("--snapshot", str(snap), "--health-config", str(cm))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (f"meshdesk graph: --health-config {cm}: its config.yaml is not YAML (line 5, column 1): "
                          "found unexpected end of stream\n"), out.stderr


def test_a_graph_without_traffic_prints_no_line_and_says_so_on_stderr(
        capsys: pytest.CaptureFixture[str]) -> None:
    """A table of no traffic printed "no traffic in the requested window" on stdout, a line `| wc -l` counted
    as a row: it is said on stderr (as kubectl's "No resources found"), stdout empty; exit code as before.
    The JSON formats still print their (empty) document."""
    assert graph_main(["--demo", "-n", "nowhere"]) == 0
    said = capsys.readouterr()
    assert said.out == ""
    assert "meshdesk graph: no traffic in the requested window" in said.err.splitlines()
    assert graph_main(["--demo", "-n", "nowhere", "-o", "json"]) == 0
    said = capsys.readouterr()
    assert json.loads(said.out)["edges"] == [] and "no traffic in the requested window" not in said.err
