"""Kubeconfig exec credential plugins run as kubectl runs them: real plugin scripts in a temp folder, the
Kubernetes API emulator over HTTP(S), and - where a terminal matters - the app's loader in a process of
its own whose standard input and output are a pseudo-terminal, or nothing (a desktop launcher)."""

from __future__ import annotations

import base64
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshdesk.sources.base import ConfigError, Unauthorized
from meshdesk.sources.cluster import ClusterSource
from meshdesk.sources.discovery import connect_prometheus
from meshdesk.sources.envoy import KubeEnvoyAdmin
from meshdesk.sources.kubeconfig import load_kubeconfig
from meshdesk.sources.logs import KubePodLogs
from tests import prom_server
from tests.envoy_samples import sidecar_dump
from tests.kube_emulator import KubeEmulator, _self_signed_cert, kube_emulator_fixture  # noqa: F401
from tests.prom_server import PrometheusServer

ROOT = Path(__file__).resolve().parent.parent
SECRET = "sha256~QmVhcmVyU2VjcmV0VG9rZW4xMjM0NTY3ODkw"
API = "client.authentication.k8s.io/v1beta1"
prometheus_server = prom_server.prometheus_server  # the session-scoped real Prometheus fixture


def credential(token: str, expires: str | None = None) -> str:
    status: dict[str, Any] = {"token": token}
    if expires:
        status["expirationTimestamp"] = expires
    return json.dumps({"apiVersion": API, "kind": "ExecCredential", "status": status})


def plugin(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def kubeconfig(path: Path, server: str, exec_cfg: Any, *, cluster: dict[str, Any] | None = None) -> Path:
    doc = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": "emu", "cluster": {"server": server, **(cluster or {})}}],
           "users": [{"name": "sso", "user": {"exec": exec_cfg}}],
           "contexts": [{"name": "lab", "context": {"cluster": "emu", "user": "sso"}}],
           "current-context": "lab"}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def exec_entry(command: Path | str, mode: str | None = "Never", **more: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"apiVersion": API, "command": str(command), **more}
    if mode is not None:
        entry["interactiveMode"] = mode
    return entry


def rfc3339(unix: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


# ------------------------------------------------------------------ the app in a process of its own

_APP = """
import json, sys
from meshdesk.sources.base import SourceError
from meshdesk.sources.discovery import connect_prometheus
from meshdesk.sources.envoy import KubeEnvoyAdmin
from meshdesk.sources.kubeconfig import load_kubeconfig
from meshdesk.sources.logs import KubePodLogs
from tests import prom_server
from tests.envoy_samples import sidecar_dump
try:
    load_kubeconfig(sys.argv[1]).api_client("lab", credential_timeout=float(sys.argv[3]))
    said = {"ok": True}
except SourceError as e:
    said = {"ok": False, "message": str(e)}
open(sys.argv[2], "w").write(json.dumps(said))
"""


def run_app(tmp_path: Path, config: Path, *, terminal_in: bool, terminal_out: bool,
            credential_timeout: float = 20.0) -> tuple[dict[str, Any], str]:
    """Build the context's client in a new process: its standard input (and output and error) a
    pseudo-terminal, or none (as from a desktop launcher). What it said, and what its terminal showed."""
    master, slave = pty.openpty()
    said = tmp_path / "said.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        subprocess.run([sys.executable, "-c", _APP, str(config), str(said), str(credential_timeout)],
                       stdin=slave if terminal_in else subprocess.DEVNULL,
                       stdout=slave if terminal_out else subprocess.PIPE,
                       stderr=slave if terminal_out else subprocess.PIPE, env=env, timeout=120, check=True)
        shown = b""
        while select.select([master], [], [], 0)[0]:  # what is waiting on the terminal now (no waiting)
            chunk = os.read(master, 65536)
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(slave)
        os.close(master)
    return json.loads(said.read_text()), shown.decode("utf-8", "replace")


def sensing_plugin(folder: Path) -> Path:
    """A plugin that notes whether its standard input is a terminal and what KUBERNETES_EXEC_INFO said."""
    return plugin(folder / "bin", "kubelogin", f"""
if [ -t 0 ]; then echo yes > '{folder}/tty'; else echo no > '{folder}/tty'; fi
printf '%s' "$KUBERNETES_EXEC_INFO" > '{folder}/info.json'
printf '%s' '{credential("tok")}'""")


def test_never_keeps_the_terminal_from_the_plugin(tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    """interactiveMode: Never - started from a terminal, the official loader still gave the plugin the
    terminal (and told it it was interactive), so a plugin could stop and ask there."""
    config = kubeconfig(tmp_path / "kc", kube_emulator.url, exec_entry(sensing_plugin(tmp_path), "Never"))
    said, _ = run_app(tmp_path, config, terminal_in=True, terminal_out=True)
    assert said == {"ok": True}
    assert (tmp_path / "tty").read_text().strip() == "no"
    assert json.loads((tmp_path / "info.json").read_text())["spec"]["interactive"] is False


def test_always_without_a_terminal_is_refused_before_the_plugin_runs(tmp_path: Path,
                                                                     kube_emulator: KubeEmulator) -> None:
    """interactiveMode: Always from a desktop launcher: kubectl refuses at once; meshdesk ran the plugin
    and waited out the credential deadline for a login nobody could type."""
    ran = tmp_path / "ran"
    waiting = plugin(tmp_path / "bin", "kubelogin", f"touch '{ran}'; read answer; printf '%s' '{credential('tok')}'")
    config = kubeconfig(tmp_path / "kc", kube_emulator.url, exec_entry(waiting, "Always"))
    said, _ = run_app(tmp_path, config, terminal_in=False, terminal_out=False, credential_timeout=3)
    assert said["ok"] is False
    assert "'kubelogin' must be given a terminal (interactiveMode: Always)" in said["message"]
    assert "not started from one" in said["message"]
    assert not ran.exists(), "the plugin was run"


def test_if_available_gets_standard_input_only_when_it_is_a_terminal(tmp_path: Path,
                                                                      kube_emulator: KubeEmulator) -> None:
    """interactiveMode: IfAvailable - kubectl hands the plugin standard input when that is a terminal;
    the official loader asked whether standard output was one instead."""
    config = kubeconfig(tmp_path / "kc", kube_emulator.url, exec_entry(sensing_plugin(tmp_path), "IfAvailable"))
    said, _ = run_app(tmp_path, config, terminal_in=True, terminal_out=False)  # output piped (to a log)
    assert said == {"ok": True}
    assert (tmp_path / "tty").read_text().strip() == "yes"
    assert json.loads((tmp_path / "info.json").read_text())["spec"]["interactive"] is True
    said, _ = run_app(tmp_path, config, terminal_in=False, terminal_out=False)  # a desktop launcher
    assert said == {"ok": True}
    assert (tmp_path / "tty").read_text().strip() == "no"
    assert json.loads((tmp_path / "info.json").read_text())["spec"]["interactive"] is False


def test_a_failed_plugins_last_lines_are_in_the_error_when_started_from_a_terminal(
        tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    """Started from a terminal, the plugin's error text went to the terminal alone and the window said
    only "process returned 1"."""
    failing = plugin(tmp_path / "bin", "kubelogin", f"""
echo 'starting the device login' >&2
echo 'contacting the identity provider' >&2
echo 'to sign in, open https://login.example/device' >&2
echo 'error: AADSTS70043: the refresh token has expired' >&2
echo 'token={SECRET}' >&2
exit 1""")
    config = kubeconfig(tmp_path / "kc", kube_emulator.url, exec_entry(failing, "IfAvailable"))
    said, shown = run_app(tmp_path, config, terminal_in=True, terminal_out=True)
    message = said["message"]
    assert said["ok"] is False
    assert "'kubelogin' failed: process returned 1" in message
    assert "the refresh token has expired" in message and "login.example/device" in message
    assert "starting the device login" not in message  # its last lines, not all of them
    assert SECRET not in message
    assert "open https://login.example/device" in shown  # its prompts still reach the terminal


# ------------------------------------------------------------------ credentials kept fresh

def counting_plugin(folder: Path, answers: list[str]) -> tuple[Path, Path]:
    """A plugin that gives ``answers[n - 1]`` on its n-th run (the last one from then on); its runs file."""
    runs = folder / "runs"
    for i, answer in enumerate(answers, start=1):
        (folder / f"answer-{i}.json").write_text(answer)
    script = plugin(folder / "bin", "aws", f"""
echo run >> '{runs}'
n=$(wc -l < '{runs}'); if [ "$n" -gt {len(answers)} ]; then n={len(answers)}; fi
cat '{folder}'/answer-$n.json""")
    return script, runs


def test_a_401_runs_the_plugin_again_once_and_sends_the_request_again(tmp_path: Path,
                                                                       kube_emulator: KubeEmulator) -> None:
    """A token without an expirationTimestamp that the server stops taking (revoked, rotated): kubectl
    runs the plugin for a new one; meshdesk kept sending the old one, 401 after 401, until restarted."""
    script, runs = counting_plugin(tmp_path, [credential("first-token"), credential("second-token")])
    kube_emulator.require_token("first-token")
    config = kubeconfig(tmp_path / "kc", kube_emulator.url, exec_entry(script))
    source = ClusterSource(load_kubeconfig(str(config)).api_client("lab"), context="lab")
    source.check()
    kube_emulator.require_token("second-token")  # the first one is no longer taken
    source.check()
    assert len(runs.read_text().splitlines()) == 2
    sent = [headers.get("Authorization") for method, path, headers in kube_emulator.requests if path == "/version"]
    assert sent == ["Bearer first-token", "Bearer first-token", "Bearer second-token"]
    source.check()  # the new token is kept: no run per request
    assert len(runs.read_text().splitlines()) == 2


def test_a_401_the_new_token_does_not_cure_is_said_after_one_more_run(tmp_path: Path,
                                                                      kube_emulator: KubeEmulator) -> None:
    script, runs = counting_plugin(tmp_path, [credential("stale-token")])
    kube_emulator.require_token("another-token")
    config = kubeconfig(tmp_path / "kc", kube_emulator.url, exec_entry(script))
    source = ClusterSource(load_kubeconfig(str(config)).api_client("lab"), context="lab")
    with pytest.raises(Unauthorized):
        source.check()
    assert len(runs.read_text().splitlines()) == 2  # the first login and one more: not a loop
    assert [p for _, p, _ in kube_emulator.requests if p == "/version"] == ["/version"] * 2
    with pytest.raises(Unauthorized):
        source.check()  # each failure gets its one more run
    assert len(runs.read_text().splitlines()) == 3


def _pod_with_a_sidecar(emu: KubeEmulator) -> None:
    emu.add_namespace("shop")
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cart-1", "namespace": "shop"},
             "spec": {"containers": [{"name": "cart"}, {"name": "istio-proxy"}]}, "status": {"phase": "Running"}})


def _sent(emu: KubeEmulator, ending: str) -> list[str | None]:
    return [headers.get("Authorization") for _, path, headers in emu.requests if path.split("?")[0].endswith(ending)]


def test_a_401_to_a_log_read_runs_the_plugin_again_and_reads_it(tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    """The Logs dock with a plugin's token the server stopped taking: the API calls ran the plugin again
    and went on, the log read (the official client's typed call) said 'credentials expired or rejected'."""
    script, runs = counting_plugin(tmp_path, [credential("first-token"), credential("second-token")])
    _pod_with_a_sidecar(kube_emulator)
    kube_emulator.add_pod_log("shop", "cart-1", "cart", ["INFO cart ready"])
    kube_emulator.require_token("first-token")
    config = kubeconfig(tmp_path / "kc", kube_emulator.url, exec_entry(script))
    logs = KubePodLogs(load_kubeconfig(str(config)).api_client("lab"), timeout=10)
    assert [line.text for line in logs.pod_logs("shop", "cart-1", "cart")] == ["INFO cart ready"]
    kube_emulator.require_token("second-token")  # the first one is no longer taken
    assert [line.text for line in logs.pod_logs("shop", "cart-1", "cart")] == ["INFO cart ready"]
    assert len(runs.read_text().splitlines()) == 2
    assert _sent(kube_emulator, "/log") == ["Bearer first-token", "Bearer first-token", "Bearer second-token"]
    kube_emulator.require_token("third-token")  # one more run, then the 401 is the answer: not a loop
    with pytest.raises(Unauthorized):
        logs.pod_logs("shop", "cart-1", "cart")
    assert len(runs.read_text().splitlines()) == 3


def test_a_401_to_a_port_forward_runs_the_plugin_again_and_forwards(tmp_path: Path,
                                                                     kube_emulator: KubeEmulator) -> None:
    """The Envoy dock reading a proxy's config through a port-forward, with a plugin's token the server
    stopped taking: the port-forward was refused for good (until meshdesk was restarted)."""
    script, runs = counting_plugin(tmp_path, [credential("first-token"), credential("second-token")])
    _pod_with_a_sidecar(kube_emulator)
    kube_emulator.serve_envoy_admin("shop", "cart-1", sidecar_dump())
    kube_emulator.forbid(namespace="shop", resource="pods/proxy")  # read through a port-forward
    kube_emulator.require_token("first-token")
    config = kubeconfig(tmp_path / "kc", kube_emulator.url, exec_entry(script))
    admin = KubeEnvoyAdmin(load_kubeconfig(str(config)).api_client("lab"), timeout=10)
    assert admin.config_dump("shop", "cart-1")["configs"]
    kube_emulator.require_token("second-token")
    assert admin.config_dump("shop", "cart-1")["configs"]
    assert admin.last_way == "port-forward" and len(runs.read_text().splitlines()) == 2
    assert _sent(kube_emulator, "/portforward") == ["Bearer first-token", "Bearer first-token",
                                                    "Bearer second-token"]


def test_a_401_to_a_prometheus_query_runs_the_plugin_again_and_answers(
        tmp_path: Path, kube_emulator: KubeEmulator, prometheus_server: PrometheusServer) -> None:
    """Prometheus queried through the API server's service proxy (the metrics charts, between two graph
    refreshes) with a plugin's token the server stopped taking: the query was said to be refused."""
    script, runs = counting_plugin(tmp_path, [credential("first-token"), credential("second-token")])
    emu = kube_emulator
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "prometheus", "namespace": "istio-system"},
             "spec": {"ports": [{"name": "http", "port": 9090, "targetPort": 9090}]}})
    emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
    emu.require_token("first-token")
    config = kubeconfig(tmp_path / "kc", emu.url, exec_entry(script))
    conn = connect_prometheus(load_kubeconfig(str(config)).api_client("lab"), timeout=10)
    try:
        assert conn.description.startswith("API server service proxy")
        emu.require_token("second-token")
        answer = conn.client.query('sum(rate(istio_requests_total{reporter="destination"}[5m]))',
                                   time=prometheus_server.query_time)
        assert len(answer) == 1 and float(answer[0].value) > 0
    finally:
        conn.close()
    assert len(runs.read_text().splitlines()) == 2
    assert _sent(emu, "/proxy/api/v1/query")[-2:] == ["Bearer first-token", "Bearer second-token"]


def test_a_plugins_client_certificate_is_renewed_before_it_expires(tmp_path: Path) -> None:
    """A plugin that logs in with a short-lived client certificate: the official loader never ran it again,
    and from the certificate's expiry on every request failed."""
    with KubeEmulator(tls=True, client_certs=True) as emu:
        emu.require_client_cert()
        (tmp_path / "old").mkdir()
        expiring_cert, expiring_key = _self_signed_cert(tmp_path / "old", "DNS:jane")  # the server does not take it
        good_cert, good_key = emu.client_cert("jane")

        def answer(cert: Path | str, key: Path | str, expires: float) -> str:
            return json.dumps({"apiVersion": API, "kind": "ExecCredential", "status": {
                "clientCertificateData": Path(cert).read_text(), "clientKeyData": Path(key).read_text(),
                "expirationTimestamp": rfc3339(expires)}})

        now = time.time()
        script, runs = counting_plugin(tmp_path, [answer(expiring_cert, expiring_key, now + 60),
                                                  answer(good_cert, good_key, now + 86400)])
        config = kubeconfig(tmp_path / "kc", emu.url, exec_entry(script),
                            cluster={"certificate-authority": emu.ca_file})
        source = ClusterSource(load_kubeconfig(str(config)).api_client("lab"), context="lab")
        source.check()  # the first certificate expires within the renewal margin: a new one is asked for
        assert len(runs.read_text().splitlines()) == 2
        source.check()
        assert len(runs.read_text().splitlines()) == 2  # the new one lasts a day: kept


def test_prometheus_through_the_service_proxy_follows_a_renewed_client_certificate(
        tmp_path: Path, prometheus_server: PrometheusServer) -> None:
    """A plugin that logs in with a client certificate (as Teleport's does), the server no longer taking
    the first one: the API calls moved to the new certificate, the Prometheus queries through the service
    proxy went on presenting the old one (their session had it from the start) and were refused."""
    with KubeEmulator(tls=True, client_certs=True) as emu:
        first, second = emu.client_cert("jane-1"), emu.client_cert("jane-2")

        def answer(cert: str, key: str) -> str:
            return json.dumps({"apiVersion": API, "kind": "ExecCredential", "status": {
                "clientCertificateData": Path(cert).read_text(), "clientKeyData": Path(key).read_text()}})

        script, runs = counting_plugin(tmp_path, [answer(*first), answer(*second)])
        emu.add_namespace("istio-system")
        emu.add({"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": "prometheus", "namespace": "istio-system"},
                 "spec": {"ports": [{"name": "http", "port": 9090, "targetPort": 9090}]}})
        emu.proxy_service("istio-system", "prometheus", 9090, prometheus_server.url)
        emu.require_client_cert(user="jane-1")
        config = kubeconfig(tmp_path / "kc", emu.url, exec_entry(script), cluster={"certificate-authority": emu.ca_file})
        api = load_kubeconfig(str(config)).api_client("lab")
        conn = connect_prometheus(api, timeout=10)
        try:
            emu.require_client_cert(user="jane-2")  # the first certificate is no longer taken
            ClusterSource(api, context="lab").check()  # an API call: the plugin is run for the second one
            assert len(runs.read_text().splitlines()) == 2
            answer_ = conn.client.query('sum(rate(istio_requests_total{reporter="destination"}[5m]))',
                                        time=prometheus_server.query_time)
            assert len(answer_) == 1 and float(answer_[0].value) > 0
            assert len(runs.read_text().splitlines()) == 2  # the new certificate was taken as it was
        finally:
            conn.close()


# ------------------------------------------------------------------ the exec entry itself

@pytest.mark.parametrize(("exec_cfg", "said"), [
    ("aws", 'context "lab": user "sso": its exec field is text, not a mapping: exec must hold at least '
            "command and apiVersion"),
    ({"apiVersion": API, "command": "no-such-plugin", "args": ["eks", "get-token", "--duration", 900]},
     'user "sso": exec.args entry 4 is a number, not text (quote it)'),
    ({"apiVersion": API, "command": "no-such-plugin", "env": [{"name": "AWS_PROFILE", "value": {"key": SECRET}}]},
     'user "sso": exec.env entry 1: its value is a mapping, not text (quote it)'),
    ({"apiVersion": API, "command": "no-such-plugin", "env": ["AWS_PROFILE=prod"]},
     'user "sso": exec.env entry 1 is text, not a mapping with name and value'),
    ({"apiVersion": API, "command": "no-such-plugin", "interactiveMode": "Sometimes"},
     'user "sso": exec.interactiveMode must be Never, IfAvailable or Always'),
    ({"command": "no-such-plugin"}, 'user "sso": exec.apiVersion is missing'),
    ({"apiVersion": "client.authentication.k8s.io/v1", "command": "no-such-plugin"},
     'user "sso": exec.interactiveMode is missing, and a plugin of client.authentication.k8s.io/v1 must say it: '
     "add interactiveMode: IfAvailable"),
])
def test_a_malformed_exec_entry_is_refused_naming_its_field(tmp_path: Path, kube_emulator: KubeEmulator,
                                                            exec_cfg: Any, said: str) -> None:
    """``exec: aws`` was taken for no credentials at all (the requests then went out anonymous), and an
    args or env entry that is not text failed with Python's words."""
    config = kubeconfig(tmp_path / "kc", kube_emulator.url, exec_cfg)
    with pytest.raises(ConfigError) as err:
        load_kubeconfig(str(config)).api_client("lab")
    assert said in str(err.value)
    assert SECRET not in str(err.value) and SECRET not in err.value.hint
    assert not [p for _, p, _ in kube_emulator.requests]  # nothing was sent without credentials


def test_a_v1beta1_plugin_without_interactive_mode_is_run_as_if_available(tmp_path: Path) -> None:
    """Only a v1 plugin must name its interactiveMode (kubectl refuses it without); a v1beta1 one left
    without it is still run, given standard input when it is a terminal, as kubectl runs it."""
    config = kubeconfig(tmp_path / "kc", "http://127.0.0.1:9", exec_entry(sensing_plugin(tmp_path), None))
    said, _ = run_app(tmp_path, config, terminal_in=True, terminal_out=False)
    assert said == {"ok": True}
    assert (tmp_path / "tty").read_text().strip() == "yes"
    assert json.loads((tmp_path / "info.json").read_text())["spec"]["interactive"] is True


def test_provide_cluster_info_gives_the_ca_as_data(tmp_path: Path) -> None:
    """kubectl passes the cluster's CA as certificate-authority-data (base64); the official loader passed
    the kubeconfig's file path, which a plugin reading the spec does not expect."""
    with KubeEmulator(tls=True) as emu:
        assert emu.ca_file is not None
        config = kubeconfig(tmp_path / "kc", emu.url, exec_entry(sensing_plugin(tmp_path), provideClusterInfo=True),
                            cluster={"certificate-authority": emu.ca_file, "tls-server-name": "localhost",
                                     "extensions": [{"name": "client.authentication.k8s.io/exec",
                                                     "extension": {"audience": "lab"}}]})
        ClusterSource(load_kubeconfig(str(config)).api_client("lab"), context="lab").check()
        cluster = json.loads((tmp_path / "info.json").read_text())["spec"]["cluster"]
        assert base64.b64decode(cluster["certificate-authority-data"]) == Path(emu.ca_file).read_bytes()
        assert "certificate-authority" not in cluster
        assert cluster["server"] == emu.url and cluster["tls-server-name"] == "localhost"
        assert cluster["config"] == {"audience": "lab"}


# ------------------------------------------------------------------ the command line's exit codes

def _command(config: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(config), "MESHDESK_CONFIG_DIR": str(tmp_path / "settings"),
           "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "meshdesk", *args, "--context", "lab", "--timeout", "20"],
                          capture_output=True, text=True, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, timeout=120)


_COMMANDS = [["graph", "-n", "bookinfo"], ["inventory", "-n", "bookinfo"], ["validate", "-n", "bookinfo"],
             ["mesh", "-n", "bookinfo"], ["traces", "-n", "bookinfo", "--app", "reviews"]]


@pytest.mark.parametrize("command", _COMMANDS, ids=[c[0] for c in _COMMANDS])
def test_a_login_the_plugin_cannot_give_exits_1_as_a_rejected_token_does(
        command: list[str], tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    """QA: ``meshdesk graph --context lab`` whose user's credential plugin failed (an expired login), printed
    no credential or was not installed exited 2, the code of a usage mistake or a kubeconfig without that
    context, where a token the API server rejected exits 1: a script could not tell a cluster it could not
    log in to from a typo. Each is now 1, said in one line naming the context and the plugin, never the token."""
    kube_emulator.require_token("good")
    rejected = _command(kube_emulator.write_kubeconfig(tmp_path / "token", context="lab", token=SECRET),
                        tmp_path, *command)
    # a rejected token is named with its context as a failing plugin is: whose login to renew
    assert rejected.returncode == 1 and rejected.stdout == "", rejected.stderr
    assert rejected.stderr.startswith(f'meshdesk {command[0]}: context "lab": credentials expired or rejected'), \
        rejected.stderr
    assert rejected.stderr.count("\n") == 1 and SECRET not in rejected.stderr, rejected.stderr
    failing = plugin(tmp_path / "bin", "kubelogin", f"echo 'error: the refresh token has expired' >&2\n"
                                                    f"echo 'token={SECRET}' >&2\nexit 3")
    garbling = plugin(tmp_path / "bin", "aws", f"echo 'Unable to locate credentials token={SECRET}'")
    for entry, said in [
            (exec_entry(failing), "the credential plugin 'kubelogin' failed: process returned 3"),
            (exec_entry(garbling), "the credential plugin 'aws' failed: its output is not an ExecCredential"),
            (exec_entry(tmp_path / "bin" / "gke-gcloud-auth-plugin"),
             "the credential plugin 'gke-gcloud-auth-plugin' was not found")]:
        done = _command(kubeconfig(tmp_path / "kc", kube_emulator.url, entry), tmp_path, *command)
        assert (done.returncode, done.stdout) == (1, ""), done.stderr
        assert done.stderr.startswith(f'meshdesk {command[0]}: context "lab": {said}'), done.stderr
        assert done.stderr.count("\n") == 1 and SECRET not in done.stderr and "Traceback" not in done.stderr
    # a user the kubeconfig writes wrong stays the kubeconfig's to mend, as a context it does not have
    malformed = _command(kubeconfig(tmp_path / "kc", kube_emulator.url, "aws"), tmp_path, *command)
    assert malformed.returncode == 2, malformed.stderr
    assert malformed.stderr.startswith(f'meshdesk {command[0]}: context "lab": user "sso": its exec field is text')


def test_a_credential_and_a_kubeconfig_printed_whole_show_no_secret(tmp_path: Path) -> None:
    """The token and the client key a plugin gave, and a kubeconfig user's password and token, were in the
    repr of what holds them (``ExecCredential(token='sha256~…', key=b'-----BEGIN …')``): what a debug line,
    a debugger, a bug report or a failing test prints."""
    from meshdesk.sources.execplugin import ExecPlugin
    from meshdesk.sources.kubeconfig import load_kubeconfig

    key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKEYSECRET\n-----END EC PRIVATE KEY-----\n"
    said = json.dumps({"apiVersion": API, "kind": "ExecCredential",
                       "status": {"clientKeyData": key, "clientCertificateData": "CERT"}})
    for name, body in (("token", credential(SECRET)), ("cert", said)):
        script = plugin(tmp_path / "bin", name, f"printf '%s' '{body}'")
        got = ExecPlugin("lab", exec_entry(script), {"server": "https://127.0.0.1:1"}).run()
        assert (got.token, got.key) == ((SECRET, b"") if name == "token" else ("", key.encode()))
        assert SECRET not in repr(got) and "KEYSECRET" not in repr(got)
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "emu", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": SECRET}}, {"name": "b", "user": {"username": "admin",
                                                                                 "password": "pw-SECRET-0815"}}],
        "contexts": [{"name": "lab", "context": {"cluster": "emu", "user": "u"}}]}))
    whole = repr(vars(load_kubeconfig(str(config))))
    assert "'current_context': 'lab'" in whole and "_Entry(name='b'" in whole
    assert SECRET not in whole and "pw-SECRET-0815" not in whole
