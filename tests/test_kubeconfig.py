"""Kubeconfig like kubectl: merge rules, bad input, and real clients (official loader) against the
Kubernetes API emulator with token, exec-credential, OIDC and client-certificate users."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes.client
import pytest
import yaml

from meshdesk.sources.base import ConfigError, SourceError, Timeout, Unauthorized, Unreachable
from meshdesk.sources.errors import translate
from meshdesk.sources.kubeconfig import load_kubeconfig
from tests.file_helpers import returns_without_blocking
from tests.kube_emulator import KubeEmulator, _self_signed_cert, kube_emulator_fixture  # noqa: F401

SECRET = "sha256~QmVhcmVyU2VjcmV0VG9rZW4xMjM0NTY3ODkw"


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return path


def config(clusters: dict[str, dict[str, Any]], users: dict[str, dict[str, Any]],
           contexts: dict[str, dict[str, Any]], current: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
        "users": [{"name": n, "user": u} for n, u in users.items()],
        "contexts": [{"name": n, "context": c} for n, c in contexts.items()],
    }
    if current is not None:
        doc["current-context"] = current
    return doc


def namespaces(client: kubernetes.client.ApiClient) -> set[str]:
    return {ns.metadata.name for ns in kubernetes.client.CoreV1Api(client).list_namespace().items}


# ------------------------------------------------------------------ merging like kubectl

def test_first_file_wins_per_name_and_for_current_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = write(tmp_path / "a.yaml", config(
        {"shared": {"server": "https://a.example:6443"}}, {"alice": {"token": "t-a"}},
        {"dev": {"cluster": "shared", "user": "alice", "namespace": "bookinfo"}}, current="dev"))
    b = write(tmp_path / "b.yaml", config(
        {"shared": {"server": "https://b.example:6443"}, "prod": {"server": "https://prod.example"}},
        {"alice": {"token": "t-b"}, "bob": {"token": "t-bob"}},
        {"dev": {"cluster": "prod", "user": "bob"}, "prod": {"cluster": "prod", "user": "bob"}},
        current="prod"))
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(["", str(a), str(tmp_path / "missing.yaml"), "", str(b)]))
    kc = load_kubeconfig()
    assert kc.files == [a, b]
    assert kc.problems == []
    assert kc.current_context == "dev"
    assert [(c.name, c.cluster, c.user, c.namespace) for c in kc.contexts] == [
        ("dev", "shared", "alice", "bookinfo"), ("prod", "prod", "bob", "")]
    assert kc.server("dev") == "https://a.example:6443"
    assert kc.server() == "https://a.example:6443"
    assert kc.cluster_name("prod") == "prod"
    assert kc.config_dict("dev")["users"][0]["user"]["token"] == "t-a"
    assert kc.namespace("dev") == "bookinfo" and kc.namespace("prod") == "default"

    # current-context comes from the first file that sets one, even if a later one sets another
    write(a, config({"shared": {"server": "https://a.example:6443"}}, {}, {}))
    assert load_kubeconfig().current_context == "prod"


def test_default_is_home_kube_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    kc = load_kubeconfig()
    assert kc.files == [] and kc.contexts == []
    with pytest.raises(ConfigError, match="no kubeconfig found"):
        kc.api_client()
    write(tmp_path / ".kube" / "config", config({"c": {"server": "http://127.0.0.1:1"}}, {}, {"home": {"cluster": "c"}}))
    assert [c.name for c in load_kubeconfig().contexts] == ["home"]


def test_explicit_path_overrides_kubeconfig_and_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = write(tmp_path / "env.yaml", config({"c": {"server": "http://x"}}, {}, {"from-env": {"cluster": "c"}}))
    mine = write(tmp_path / "mine.yaml", config({"c": {"server": "http://y"}}, {}, {"mine": {"cluster": "c"}}))
    monkeypatch.setenv("KUBECONFIG", str(env))
    assert [c.name for c in load_kubeconfig(str(mine)).contexts] == ["mine"]
    assert [c.name for c in load_kubeconfig([str(mine), str(env)]).contexts] == ["from-env", "mine"]
    with pytest.raises(ConfigError, match=r"nope\.yaml does not exist"):
        load_kubeconfig(str(tmp_path / "nope.yaml"))
    # a file whose name holds the list separator is that one file, as kubectl --kubeconfig reads it
    odd = write(tmp_path / "with:colon.yaml", config({"c": {"server": "http://z"}}, {}, {"odd": {"cluster": "c"}}))
    assert [c.name for c in load_kubeconfig(str(odd)).contexts] == ["odd"]
    assert [c.name for c in load_kubeconfig(f"{mine}:{env}").contexts] == ["from-env", "mine"]  # still a list


def test_relative_file_references_resolve_against_their_file(tmp_path: Path) -> None:
    kc_path = write(tmp_path / "sub" / "config", config(
        {"c": {"server": "https://k:6443", "certificate-authority": "pki/ca.crt"}},
        {"u": {"client-certificate": "pki/u.crt", "client-key": "/abs/u.key", "tokenFile": "tok",
               "exec": {"command": "./bin/plugin", "apiVersion": "client.authentication.k8s.io/v1"}},
         "v": {"exec": {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1"}}},
        {"x": {"cluster": "c", "user": "u"}, "y": {"cluster": "c", "user": "v"}}))
    d = load_kubeconfig(str(kc_path)).config_dict("x")
    base = Path(os.path.abspath(tmp_path / "sub"))
    assert d["clusters"][0]["cluster"]["certificate-authority"] == str(base / "pki/ca.crt")
    user = d["users"][0]["user"]
    assert user["client-certificate"] == str(base / "pki/u.crt")
    assert user["client-key"] == "/abs/u.key"
    assert user["tokenFile"] == str(base / "tok")
    assert user["exec"]["command"] == str(base / "bin/plugin")
    # a bare command is looked up on PATH, like kubectl
    assert load_kubeconfig(str(kc_path)).config_dict("y")["users"][0]["user"]["exec"]["command"] == "aws"


# ------------------------------------------------------------------ bad input

def test_bad_files_are_named_and_the_good_ones_still_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    good = write(tmp_path / "good.yaml", config({"c": {"server": "http://x"}}, {}, {"ok": {"cluster": "c"}}))
    not_yaml = write(tmp_path / "broken.yaml", f"users:\n- name: u\n  user:\n    token: {SECRET}\n   bad: [\n")
    a_list = write(tmp_path / "list.yaml", "- just\n- a list\n")
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, [not_yaml, a_list, folder, good])))
    with caplog.at_level(logging.DEBUG):
        kc = load_kubeconfig()
    assert [c.name for c in kc.contexts] == ["ok"]
    messages = [str(p) for p in kc.problems]
    assert len(messages) == 3
    assert "broken.yaml is not valid YAML at line" in messages[0]
    assert "list.yaml is a list, not a mapping" in messages[1]
    assert "folder.yaml is a directory" in messages[2]
    for text in messages + [r.getMessage() for r in caplog.records]:
        assert SECRET not in text and "QmVhcmVy" not in text


def test_a_name_defined_twice_in_one_file_is_said(tmp_path: Path) -> None:
    """kubectl refuses such a file; meshdesk keeps the first entry (as the first file wins across files)
    and names the second, instead of taking the last one without a word."""
    text = ("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
            "clusters:\n- name: c\n  cluster: {server: 'https://one.example'}\n"
            "- name: c\n  cluster: {server: 'https://two.example'}\n"
            "contexts:\n- name: c\n  context: {cluster: c}\n")
    kc = load_kubeconfig(str(write(tmp_path / "dup.yaml", text)))
    assert kc.server("c") == "https://one.example"
    assert [str(p) for p in kc.problems] == [f"kubeconfig {tmp_path / 'dup.yaml'}: cluster 'c' is defined twice; "
                                             "the second is ignored"]


def test_single_bad_file_raises_with_its_name(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", "clusters: {not: [a list\n")
    with pytest.raises(ConfigError, match=r"kc is not valid YAML"):
        load_kubeconfig(str(path))
    write(path, "just a string\n")
    with pytest.raises(ConfigError, match=r"kc is a single string, not a mapping"):
        load_kubeconfig(str(path))
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="not text"):
        load_kubeconfig(str(path))


def _user_with_password(value: str) -> str:
    """A kubeconfig whose user's password, on line 11 at column 15, is ``value`` as written."""
    return ("apiVersion: v1\nkind: Config\ncurrent-context: c1\nclusters:\n- name: k\n"
            "  cluster: {server: 'https://127.0.0.1:6443'}\nusers:\n- name: u\n  user:\n    username: admin\n"
            f"    password: {value}\ncontexts:\n- name: c1\n  context: {{cluster: k, user: u}}\n")


@pytest.mark.parametrize("value, problem", [
    ("2024-02-30", "a value read as a date is not a valid date"),  # an unquoted date that is no date
    ("!!int Hunter2pass", "a value cannot be read as an integer"),
    ("!!float Hunter2pass", "a value cannot be read as a number"),
    ("!!timestamp Hunter2pass", "a value read as a date is not a valid date"),
    ("!Hunter2pass", "could not determine a constructor for the tag"),  # PyYAML quoted the tag
    ("*Hunter2pass", "found undefined alias"),  # ... the alias
    ('"Hunter2\\qpass"', "found unknown escape character"),  # ... the escape
])
def test_a_value_yaml_cannot_read_is_placed_and_never_quoted(tmp_path: Path, value: str, problem: str,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """PyYAML raised ValueError/AttributeError for some of these (a traceback in every command and the
    app) and quoted the file's text for the others; one such file in KUBECONFIG also hid the good ones."""
    bad = write(tmp_path / "bad.yaml", _user_with_password(value))
    with pytest.raises(ConfigError) as err:
        load_kubeconfig(str(bad))
    column = 24 if value.startswith('"') else 15
    assert str(err.value).startswith(f"kubeconfig {bad} is not valid YAML at line 11, column {column}: {problem}")
    assert "Hunter2" not in str(err.value) and "'" not in str(err.value)  # nothing of the file's text

    good = write(tmp_path / "good.yaml", config({"c": {"server": "http://x"}}, {}, {"ok": {"cluster": "c"}}))
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(bad), str(good)]))
    with caplog.at_level(logging.WARNING):
        kc = load_kubeconfig()
    assert kc.context_names == ["ok"] and kc.files == [good]
    assert [str(p) for p in kc.problems] == [str(err.value)]
    assert [r.getMessage() for r in caplog.records] == [str(err.value)]  # the skipped file is named once


def test_a_file_nested_too_deeply_is_a_plain_error(tmp_path: Path) -> None:
    path = write(tmp_path / "deep.yaml", "contexts: " + "[" * 20000 + "]" * 20000 + "\n")
    with pytest.raises(ConfigError, match=r"deep.yaml is not valid YAML: it is nested too deeply$"):
        load_kubeconfig(str(path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_as_kubeconfig_is_refused_without_blocking(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A kubeconfig that is a named pipe blocked the app and the commands for good (nothing writes to
    it): it is refused, by name, and a good file beside it in KUBECONFIG still lists its contexts."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(ConfigError) as err:
        returns_without_blocking(lambda: load_kubeconfig(str(pipe)), pipe)
    assert str(err.value) == f"kubeconfig {pipe} is a named pipe (FIFO) that nothing was written to"
    good = write(tmp_path / "good.yaml", config({"c": {"server": "http://x"}}, {}, {"ok": {"cluster": "c"}}))
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(pipe), str(good)]))
    kc = returns_without_blocking(load_kubeconfig, pipe)
    assert kc.context_names == ["ok"]
    assert [str(p) for p in kc.problems] == [f"kubeconfig {pipe} is a named pipe (FIFO) that nothing was written to"]


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", config({}, {}, {}))
    path.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(ConfigError, match=r"kc cannot be read: permission denied"):
            load_kubeconfig(str(path))
        return
    # root reads any file: check in a child process without the capabilities that bypass permissions
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv (util-linux) is absent to drop CAP_DAC_OVERRIDE")
    probe = ("import sys\nfrom meshdesk.sources.kubeconfig import load_kubeconfig\n"
             "try:\n    load_kubeconfig(sys.argv[1])\nexcept Exception as e:\n    print(type(e).__name__, e)\n")
    out = subprocess.run([setpriv, "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-c",
                          probe, str(path)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    if out.returncode != 0 and "setpriv" in out.stderr:
        pytest.skip(f"setpriv cannot drop capabilities here: {out.stderr.strip()}")
    assert out.stdout.startswith("ConfigError"), out.stderr
    assert f"{path} cannot be read: permission denied" in out.stdout


def test_broken_entries_and_missing_references(tmp_path: Path) -> None:
    doc = config({"c": {"server": "http://127.0.0.1:1"}, "noserver": {}},
                 {"u": {"token": SECRET}},
                 {"no-cluster": {"cluster": "ghost", "user": "u"}, "no-user": {"cluster": "c", "user": "nobody"},
                  "no-server": {"cluster": "noserver"}, "fine": {"cluster": "c", "user": "u"}})
    doc["contexts"].append({"context": {"cluster": "c"}})  # no name
    doc["users"].append({"name": "weird", "user": "a string"})
    path = write(tmp_path / "kc", doc)
    kc = load_kubeconfig(str(path))
    assert [c.name for c in kc.contexts] == ["fine", "no-cluster", "no-server", "no-user"]
    assert any("entry 5 of 'contexts' has no name" in str(p) for p in kc.problems)
    assert any("user 'weird' is not a mapping" in str(p) for p in kc.problems)
    with pytest.raises(ConfigError) as err:
        kc.api_client("no-cluster")
    assert 'context "no-cluster" names cluster "ghost"' in str(err.value) and str(path) in str(err.value)
    with pytest.raises(ConfigError, match='context "no-user" names user "nobody"'):
        kc.api_client("no-user")
    with pytest.raises(ConfigError, match='cluster "noserver" .* has no server'):
        kc.api_client("no-server")
    with pytest.raises(ConfigError, match='context "elsewhere" does not exist'):
        kc.api_client("elsewhere")
    with pytest.raises(ConfigError, match="no current context"):
        kc.api_client()
    assert kc.api_client("fine").configuration.host == "http://127.0.0.1:1"


def test_loader_errors_name_the_context_and_hide_secrets(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", config(
        {"c": {"server": "https://127.0.0.1:1", "certificate-authority": "missing-ca.crt"},
         "d": {"server": "https://127.0.0.1:1", "certificate-authority-data": "%%%not base64%%%"}},
        {"u": {"token": SECRET}},
        {"missing-ca": {"cluster": "c", "user": "u"}, "bad-ca-data": {"cluster": "d", "user": "u"}}))
    kc = load_kubeconfig(str(path))
    with pytest.raises(ConfigError) as err:
        kc.api_client("missing-ca")
    assert 'context "missing-ca"' in str(err.value) and "missing-ca.crt" in str(err.value)
    with pytest.raises(ConfigError) as err:
        kc.api_client("bad-ca-data")
    assert 'context "bad-ca-data"' in str(err.value)
    assert SECRET not in str(err.value)


# ------------------------------------------------------------------ real clients against the emulator

def test_token_user_lists_namespaces_and_wrong_token_is_401(tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    kube_emulator.require_token(SECRET)
    good = kube_emulator.write_kubeconfig(tmp_path / "good", context="emu", token=SECRET)
    bad = kube_emulator.write_kubeconfig(tmp_path / "bad", context="emu", token="wrong-token")
    assert {"default", "kube-system"} <= namespaces(load_kubeconfig(str(good)).api_client("emu"))
    with pytest.raises(kubernetes.client.ApiException) as exc:
        namespaces(load_kubeconfig(str(bad)).api_client())
    assert exc.value.status == 401
    err = translate(exc.value)
    assert isinstance(err, Unauthorized) and "credentials expired or rejected" in str(err)


def test_token_file_is_read_trimmed_as_kubectl_reads_it(tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    """A token file as most tools write it, ending in a newline: the newline went into the Authorization
    header and every request failed with a raw error."""
    kube_emulator.require_token(SECRET)
    (tmp_path / "kc").mkdir()
    (tmp_path / "kc" / "token").write_text(SECRET + "\n")
    path = write(tmp_path / "kc" / "config", config({"emu": {"server": kube_emulator.url}},
                                                   {"u": {"tokenFile": "token"}}, {"emu": {"cluster": "emu", "user": "u"}}))
    assert {"default", "kube-system"} <= namespaces(load_kubeconfig(str(path)).api_client("emu"))


def test_token_file_wins_over_a_token_beside_it_and_a_pipe_is_refused(tmp_path: Path,
                                                                       kube_emulator: KubeEmulator) -> None:
    """kubectl sends the file's token when a user has both (the file is the one kept fresh); a named
    pipe as the token file blocked the official loader for good."""
    kube_emulator.require_token(SECRET)
    (tmp_path / "token").write_text(SECRET + "\n")
    path = write(tmp_path / "config", config({"emu": {"server": kube_emulator.url}},
                                              {"u": {"token": "stale-inline-token", "tokenFile": "token"}},
                                              {"emu": {"cluster": "emu", "user": "u"}}))
    assert {"default", "kube-system"} <= namespaces(load_kubeconfig(str(path)).api_client("emu"))
    os.mkfifo(tmp_path / "pipe")
    piped = write(tmp_path / "piped", config({"emu": {"server": kube_emulator.url}}, {"u": {"tokenFile": "pipe"}},
                                             {"emu": {"cluster": "emu", "user": "u"}}))
    with pytest.raises(ConfigError, match="named pipe"):
        returns_without_blocking(lambda: load_kubeconfig(str(piped)).api_client("emu"), tmp_path / "pipe")


def test_a_token_file_rotated_while_the_app_runs_is_read_again(tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    """kubectl reads a user's tokenFile again while it runs (a short-lived token a script or a projected
    volume replaces): meshdesk read it once, so once the server took only the new token every refresh
    was "credentials expired or rejected" until the app was restarted. A file missing for a moment (a
    rotation under way) keeps the last token in use."""
    token = tmp_path / "token"
    token.write_text("first-token\n")
    path = write(tmp_path / "config", config({"emu": {"server": kube_emulator.url}}, {"u": {"tokenFile": str(token)}},
                                              {"emu": {"cluster": "emu", "user": "u"}}))
    kube_emulator.require_token("first-token")
    client = load_kubeconfig(str(path)).api_client("emu")
    assert "default" in namespaces(client)
    fresh = tmp_path / "token.new"
    fresh.write_text(SECRET + "\n")
    os.replace(fresh, token)  # how kubelet and most tools put a new token in place
    kube_emulator.require_token(SECRET)
    assert "default" in namespaces(client)
    token.write_text("third-token-written-in-place\n")
    kube_emulator.require_token("third-token-written-in-place")
    assert "default" in namespaces(client)
    token.unlink()
    assert "default" in namespaces(client)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_or_folder_given_as_a_certificate_and_a_binary_token_file_are_said_as_what_they_are(
        tmp_path: Path) -> None:
    """A named pipe or a folder as the client certificate, key or CA was said not to exist ("a file it refers
    to does not exist: /x/pipe"), sending the user to look for a file that is there; a token file that is not
    text was said in Python's words ("'utf-8' codec can't decode byte 0xb2 in position 0"), naming no file."""
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    (tmp_path / "token.bin").write_bytes(b"\xb2\x00\xff" + SECRET.encode())
    cluster = {"server": "https://127.0.0.1:9"}  # nothing is asked of it: the client is refused first
    cases = [
        ({"emu": cluster}, {"u": {"client-certificate": "pipe", "client-key": "pipe"}},
         f'context "emu": a file it refers to, {tmp_path / "pipe"}, is a named pipe (FIFO), not a regular file'),
        ({"emu": {**cluster, "certificate-authority": "folder"}}, {"u": {"token": SECRET}},
         f'context "emu": a file it refers to, {tmp_path / "folder"}, is a folder, not a regular file'),
        ({"emu": cluster}, {"u": {"tokenFile": "token.bin"}},
         f'context "emu": its token file {tmp_path / "token.bin"} is not text (a token is UTF-8 text)'),
    ]
    for clusters, users, said in cases:
        path = write(tmp_path / "config", config(clusters, users, {"emu": {"cluster": "emu", "user": "u"}}))
        with pytest.raises(ConfigError) as err:
            returns_without_blocking(lambda path=path: load_kubeconfig(str(path)).api_client("emu"), tmp_path / "pipe")
        assert str(err.value) == said and SECRET not in str(err.value)


def _exec_plugin(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def _exec_user(command: str, args: list[str] | None = None) -> dict[str, Any]:
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": command,
                     "args": args or [], "interactiveMode": "Never"}}


def test_exec_credential_user_found_on_path(tmp_path: Path, kube_emulator: KubeEmulator,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    token = "exec-issued-token-42"
    credential = json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                             "status": {"token": token, "expirationTimestamp": "2099-01-01T00:00:00Z"}})
    _exec_plugin(tmp_path / "bin", "fake-auth-plugin", f"printf '%s' '{credential}'")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    kube_emulator.require_token(token)
    path = write(tmp_path / "kc", config({"emu": {"server": kube_emulator.url}},
                                         {"eks": _exec_user("fake-auth-plugin", ["token", "-i", "demo"])},
                                         {"eks": {"cluster": "emu", "user": "eks"}}, current="eks"))
    assert "default" in namespaces(load_kubeconfig(str(path)).api_client())


def test_exec_plugin_failures_name_the_plugin(tmp_path: Path, kube_emulator: KubeEmulator,
                                              caplog: pytest.LogCaptureFixture) -> None:
    failing = _exec_plugin(tmp_path / "bin", "kubelogin", f"echo 'error: refresh token {SECRET} expired' >&2; exit 3")
    path = write(tmp_path / "kc", config(
        {"emu": {"server": kube_emulator.url}},
        {"missing": _exec_user("gke-gcloud-auth-plugin-that-is-not-installed"), "failing": _exec_user(str(failing))},
        {"missing": {"cluster": "emu", "user": "missing"}, "failing": {"cluster": "emu", "user": "failing"}}))
    kc = load_kubeconfig(str(path))
    with pytest.raises(ConfigError) as err:
        kc.api_client("missing")
    text = str(err.value)
    assert "gke-gcloud-auth-plugin-that-is-not-installed' was not found" in text and "PATH" in text
    assert 'context "missing"' in text
    with pytest.raises(ConfigError) as err:
        kc.api_client("failing")
    text = str(err.value)
    assert "'kubelogin' failed" in text and "returned 3" in text and SECRET not in text
    assert "PATH" not in text and "log in again" in text  # it was found: PATH is not the cause
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_failing_exec_plugin_runs_once_and_its_own_run_says_why(tmp_path: Path, kube_emulator: KubeEmulator,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    # a slow plugin costs its time once; an interactive one (kubelogin) asks for a login once
    runs = tmp_path / "runs.log"
    failing = _exec_plugin(tmp_path / "bin", "kubelogin",
                           f"echo run >> '{runs}'; echo 'error: the device code for login expired' >&2; exit 1")
    silent = _exec_plugin(tmp_path / "bin", "aws-wrapper", f"echo run >> '{runs}'")  # exits 0, prints nothing
    path = write(tmp_path / "kc", config(
        {"emu": {"server": kube_emulator.url}}, {"sso": _exec_user(str(failing)), "eks": _exec_user(str(silent))},
        {"sso": {"cluster": "emu", "user": "sso"}, "eks": {"cluster": "emu", "user": "eks"}}))
    kc = load_kubeconfig(str(path))
    with pytest.raises(ConfigError) as err:
        kc.api_client("sso")
    assert runs.read_text().splitlines() == ["run"]
    text = str(err.value)
    assert text.startswith('context "sso": the credential plugin \'kubelogin\' failed: process returned 1')
    assert "the device code for login expired" in text and "PATH" not in text
    runs.unlink()
    with pytest.raises(ConfigError) as err:
        kc.api_client("eks")
    assert runs.read_text().splitlines() == ["run"]
    text = str(err.value)
    assert "'aws-wrapper' failed: its output is not an ExecCredential" in text and "PATH" not in text
    # said once: as the error, not a second time in the log
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_exec_plugin_failing_on_a_token_refresh_is_logged_without_its_secret(tmp_path: Path, kube_emulator: KubeEmulator,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    # the first run gives a token that has already expired; the run that refreshes it fails
    credential = json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                             "status": {"token": "short-lived", "expirationTimestamp": "2001-01-01T00:00:00Z"}})
    runs = tmp_path / "runs.log"
    plugin = _exec_plugin(tmp_path / "bin", "kubelogin",
                          f"if [ -e '{runs}' ]; then echo 'refresh token {SECRET} was revoked' >&2; exit 2; fi\n"
                          f"echo run > '{runs}'; printf '%s' '{credential}'")
    path = write(tmp_path / "kc", config({"emu": {"server": kube_emulator.url}}, {"sso": _exec_user(str(plugin))},
                                         {"sso": {"cluster": "emu", "user": "sso"}}))
    client = load_kubeconfig(str(path)).api_client("sso")
    namespaces(client)
    # nobody waits for a refresh's answer: the official loader's log says it, redacted
    assert any("process returned 2" in r.getMessage() for r in caplog.records)
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_slow_exec_plugin_times_out_with_a_hint(tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    # a plugin waiting for a browser login: it finishes on its own a little later
    credential = json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                             "status": {"token": "late-token"}})
    slow = _exec_plugin(tmp_path / "bin", "kubelogin", f"sleep 2; printf '%s' '{credential}'")
    path = write(tmp_path / "kc", config({"emu": {"server": kube_emulator.url}}, {"sso": _exec_user(str(slow))},
                                         {"sso": {"cluster": "emu", "user": "sso"}}))
    with pytest.raises(Timeout) as err:
        load_kubeconfig(str(path)).api_client("sso", credential_timeout=0.3)
    text = str(err.value)
    assert 'context "sso"' in text and "'kubelogin' did not finish within 0.3 s" in text and "login" in text


def _jwt(claims: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _oidc_user(id_token: str, issuer: str) -> dict[str, Any]:
    return {"auth-provider": {"name": "oidc", "config": {
        "client-id": "meshdesk", "client-secret": "oidc-client-secret-123", "id-token": id_token,
        "idp-issuer-url": issuer, "refresh-token": "oidc-refresh-token-456"}}}


@pytest.mark.parametrize("provider, plugin", [("gcp", "gke-gcloud-auth-plugin")])
def test_removed_auth_providers_say_what_replaces_them(tmp_path: Path, kube_emulator: KubeEmulator,
                                                       provider: str, plugin: str) -> None:
    """An old GKE kubeconfig whose provider library is not installed: the loader failed inside with a
    Python error; say what to do."""
    path = write(tmp_path / "kc", config({"emu": {"server": kube_emulator.url}},
                                         {"u": {"auth-provider": {"name": provider, "config": {}}}},
                                         {"old": {"cluster": "emu", "user": "u"}}))
    with pytest.raises(ConfigError) as err:
        load_kubeconfig(str(path)).api_client("old")
    assert f'"{provider}" auth-provider' in str(err.value) and plugin in (err.value.hint or "")
    assert "NoneType" not in str(err.value)


def test_oidc_user_and_kubeconfig_never_written(tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    valid = _jwt({"sub": "jane", "exp": 4102444800})  # 2100
    expired = _jwt({"sub": "jane", "exp": 1000})
    dead_issuer = "http://127.0.0.1:9"  # discard port: nothing listens
    path = write(tmp_path / "kc", config(
        {"emu": {"server": kube_emulator.url}},
        {"fresh": _oidc_user(valid, dead_issuer), "stale": _oidc_user(expired, dead_issuer),
         "tok": {"token": SECRET}},
        {"fresh": {"cluster": "emu", "user": "fresh"}, "stale": {"cluster": "emu", "user": "stale"},
         "tok": {"cluster": "emu", "user": "tok"}}, current="tok"))
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    default_host = kubernetes.client.Configuration.get_default_copy().host
    kc = load_kubeconfig(str(path))
    kube_emulator.require_token(valid)
    assert "default" in namespaces(kc.api_client("fresh"))
    # an expired id-token makes the official loader refresh it (and, with a file loader, write it back);
    # here the issuer is unreachable: a typed error, and the file is untouched
    with pytest.raises(SourceError) as err:
        kc.api_client("stale")
    assert isinstance(err.value, Unreachable | ConfigError)
    assert "oidc-refresh-token-456" not in str(err.value) and "oidc-client-secret-123" not in str(err.value)
    kube_emulator.require_token(SECRET)
    assert "default" in namespaces(kc.api_client())
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    # no global default client configuration was set
    assert kubernetes.client.Configuration.get_default_copy().host == default_host != kube_emulator.url


def test_switching_context_reaches_another_cluster(tmp_path: Path) -> None:
    with KubeEmulator() as one, KubeEmulator() as two:
        one.add_namespace("only-in-one")
        two.add_namespace("only-in-two")
        a = one.write_kubeconfig(tmp_path / "a", context="one")
        b = two.write_kubeconfig(tmp_path / "b", context="two")
        kc = load_kubeconfig([str(a), str(b)])
        assert kc.current_context == "one"
        first, second = namespaces(kc.api_client("one")), namespaces(kc.api_client("two"))
        assert "only-in-one" in first and "only-in-two" not in first
        assert "only-in-two" in second and "only-in-one" not in second


@pytest.fixture
def tls_emulator() -> Iterator[KubeEmulator]:
    emu = KubeEmulator(tls=True).start()
    try:
        yield emu
    finally:
        emu.stop()


def test_client_certificate_file_and_data_over_tls(tmp_path: Path, tls_emulator: KubeEmulator) -> None:
    assert tls_emulator.ca_file is not None
    cert, key = _self_signed_cert(tmp_path)  # a client certificate/key pair
    ca = Path(tls_emulator.ca_file)
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_bytes(ca.read_bytes())

    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    path = write(tmp_path / "kc", config(
        {"files": {"server": tls_emulator.url, "certificate-authority": "pki/ca.crt"},
         "inline": {"server": tls_emulator.url, "certificate-authority-data": b64(ca)},
         "untrusted": {"server": tls_emulator.url}},
        {"by-file": {"client-certificate": str(cert), "client-key": str(key)},
         "by-data": {"client-certificate-data": b64(cert), "client-key-data": b64(key)}},
        {"files": {"cluster": "files", "user": "by-file"}, "inline": {"cluster": "inline", "user": "by-data"},
         "untrusted": {"cluster": "untrusted", "user": "by-data"}}))
    before = path.read_bytes()
    kc = load_kubeconfig(str(path))
    by_file = kc.api_client("files")
    assert by_file.configuration.cert_file == str(cert)
    assert "default" in namespaces(by_file)
    by_data = kc.api_client("inline")
    assert Path(by_data.configuration.cert_file).read_bytes() == cert.read_bytes()
    assert "default" in namespaces(by_data)
    with pytest.raises(Exception) as exc:  # noqa: PT011 - whatever urllib3 raises, translate() names it
        namespaces(kc.api_client("untrusted"))
    err = translate(exc.value)
    assert isinstance(err, Unreachable) and "not trusted" in str(err)
    assert path.read_bytes() == before


def test_a_client_key_that_cannot_be_used_is_said_in_words_before_any_request(tmp_path: Path,
                                                                              tls_emulator: KubeEmulator) -> None:
    """A client key of another certificate, one encrypted with a passphrase, or a certificate field
    holding something else: the first request failed with OpenSSL's words ("[X509: KEY_VALUES_MISMATCH]
    key values mismatch", "[SSL] PEM lib"), said as the API server being unreachable and retried every
    few seconds. They are configuration errors naming the kubeconfig's fields, when the client is made;
    a file holding the key and the certificate together still works, and no key text is ever shown."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cert, key = _self_signed_cert(tmp_path / "a")
    _other_cert, other_key = _self_signed_cert(tmp_path / "b")
    encrypted = tmp_path / "encrypted.key"
    subprocess.run(["openssl", "pkey", "-in", str(key), "-aes256", "-passout", "pass:hunter2", "-out", str(encrypted)],
                   check=True, capture_output=True)
    both = tmp_path / "both.pem"
    both.write_bytes(key.read_bytes() + cert.read_bytes())
    cluster = {"server": tls_emulator.url, "certificate-authority": str(tls_emulator.ca_file)}
    users = {"mismatch": {"client-certificate": str(cert), "client-key": str(other_key)},
             "encrypted": {"client-certificate": str(cert), "client-key": str(encrypted)},
             "key-as-cert": {"client-certificate-data": base64.b64encode(key.read_bytes()).decode(),
                             "client-key": str(key)},
             "together": {"client-certificate": str(both), "client-key": str(both)}}
    path = write(tmp_path / "kc", config({"emu": cluster}, users, {n: {"cluster": "emu", "user": n} for n in users}))
    kc = load_kubeconfig(str(path))
    said = {}
    for name in ("mismatch", "encrypted", "key-as-cert"):
        with pytest.raises(ConfigError) as err:
            kc.api_client(name)
        said[name] = str(err.value)
        assert "PRIVATE KEY" not in said[name] and key.read_text().splitlines()[1] not in said[name]
    assert said["mismatch"].startswith(f'context "mismatch": its client key (client-key {other_key}) does not belong '
                                       f"to its client certificate (client-certificate {cert})")
    assert said["encrypted"].startswith(f'context "encrypted": its client key (client-key {encrypted}) is encrypted '
                                        "with a passphrase")
    assert "openssl pkey -in KEY -out NEW-KEY" in said["encrypted"]
    assert said["key-as-cert"].startswith('context "key-as-cert": its client certificate (client-certificate-data) '
                                          "is not a PEM certificate")
    assert "default" in namespaces(kc.api_client("together"))  # the server takes any client certificate here


def test_messages_never_carry_secrets(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Every failure path above, collected: no token, password, key or certificate in any text."""
    key_data = base64.b64encode(b"-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n-----END RSA PRIVATE KEY-----").decode()
    path = write(tmp_path / "kc", config(
        {"c": {"server": "https://127.0.0.1:1", "certificate-authority": "nope.crt"}},
        {"u": {"token": SECRET, "username": "admin", "password": "hunter2-password", "client-key-data": key_data}},
        {"x": {"cluster": "c", "user": "u"}, "y": {"cluster": "ghost", "user": "u"}}))
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        kc = load_kubeconfig(str(path))
        for name in ("x", "y", "z"):
            with pytest.raises(ConfigError) as err:
                kc.api_client(name)
            texts.append(str(err.value))
    texts += [r.getMessage() for r in caplog.records] + [repr(kc)]
    for text in texts:
        for secret in (SECRET, "hunter2-password", key_data[:20], "MIIEsecret"):
            assert secret not in text
    if sys.platform != "win32":
        assert oct(path.stat().st_mode & 0o777)  # untouched file, still there


def test_a_server_address_with_a_password_keeps_it_out_of_the_error(tmp_path: Path) -> None:
    """A server written as https://user:password@host with a port no URL can have: the HTTP library
    quoted the whole URL ("Failed to parse: https://admin:SrvPw99@...") and so did the message."""
    path = write(tmp_path / "kc", config({"c": {"server": "https://admin:SrvPw99@127.0.0.1:99999"}},
                                         {"u": {"token": SECRET}}, {"x": {"cluster": "c", "user": "u"}}))
    try:
        namespaces(load_kubeconfig(str(path)).api_client("x"))
    except Exception as exc:  # noqa: BLE001 - whatever the libraries raise, as the app gets it
        err = translate(exc, what="list namespaces")
    else:
        pytest.fail("a port beyond 65535 was accepted")
    assert str(err).startswith("list namespaces: ") and "127.0.0.1:99999" in str(err)
    assert "SrvPw99" not in str(err) and SECRET not in str(err)


@pytest.mark.parametrize("server", ["https://[::1:6443", "https://admin:SrvPw99@[zz]:6443"])
def test_a_server_address_whose_host_cannot_be_read_is_said_naming_the_cluster(tmp_path: Path, server: str) -> None:
    """An IPv6 address without its closing bracket, or brackets around no address: the error was Python's
    own words ('context "x": Invalid IPv6 URL'), naming neither the cluster nor its server, and the
    commands exited 1, as for a cluster that did not answer, rather than 2 for a kubeconfig to mend."""
    path = write(tmp_path / "kc", config({"c": {"server": server}}, {"u": {"token": SECRET}},
                                         {"x": {"cluster": "c", "user": "u"}}))
    with pytest.raises(ConfigError) as err:
        load_kubeconfig(str(path)).api_client("x")
    assert str(err.value).startswith(f'cluster "c" in {path} has a server address whose host cannot be read: ')
    assert "brackets" in err.value.hint and "SrvPw99" not in str(err.value) and SECRET not in str(err.value)


def test_a_missing_plugin_gets_the_kubeconfigs_install_hint(tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    """kubectl shows the installHint the kubeconfig gives for its credential plugin; meshdesk said only
    that the plugin was not on the PATH."""
    user = _exec_user("does-not-exist-plugin")
    user["exec"]["installHint"] = "Install it with:\n  brew install does-not-exist-plugin"
    path = write(tmp_path / "kc", config({"emu": {"server": kube_emulator.url}}, {"u": user},
                                         {"missing": {"cluster": "emu", "user": "u"}}))
    with pytest.raises(ConfigError) as err:
        load_kubeconfig(str(path)).api_client("missing")
    assert "was not found" in str(err.value)
    assert err.value.hint == "Install it with: brew install does-not-exist-plugin"


def test_a_token_refresh_runs_the_plugin_once_at_a_time_and_within_the_deadline(
        tmp_path: Path, kube_emulator: KubeEmulator) -> None:
    """The client runs the credential plugin again inside a request when its token is about to expire:
    parallel requests ran it several times at once (a browser login each), with no time limit (a login
    nobody finishes held the request, and closing the app, for minutes)."""
    import threading

    kube_emulator.require_token("tok")
    runs, overlap = tmp_path / "runs", tmp_path / "overlap"
    plugin = _exec_plugin(tmp_path / "bin", "expiring-plugin", f"""
if ! mkdir "{tmp_path}/running" 2>/dev/null; then touch "{overlap}"; fi
echo run >> "{runs}"
if [ "$(wc -l < "{runs}")" -gt 1 ]; then sleep 3; fi
rmdir "{tmp_path}/running" 2>/dev/null
exp=$(date -u -d '+250 seconds' +%Y-%m-%dT%H:%M:%SZ)
echo '{{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{{"token":"tok","expirationTimestamp":"'$exp'"}}}}'
""")
    path = write(tmp_path / "kc", config({"emu": {"server": kube_emulator.url}},
                                         {"u": _exec_user(str(plugin))}, {"c": {"cluster": "emu", "user": "u"}}))
    # the first login: a token that expires within the client's five-minute margin, so each request
    # runs the plugin again
    api = load_kubeconfig(str(path)).api_client("c", credential_timeout=1.0)
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            namespaces(api)
        except BaseException as e:  # noqa: BLE001 - collected for the assertions
            failures.append(e)

    askers = [threading.Thread(target=ask) for _ in range(3)]
    for t in askers:
        t.start()
    for t in askers:
        t.join(60)
    assert not any(t.is_alive() for t in askers)
    assert len(failures) == 3 and all(isinstance(f, Timeout) for f in failures), failures
    assert "did not finish within 1 s" in str(failures[0])
    assert not overlap.exists(), "the plugin ran twice at once"


def test_insecure_skip_tls_verify_is_honoured_without_urllib3_warnings(tmp_path: Path) -> None:
    """QA: a context with ``insecure-skip-tls-verify: true`` printed urllib3's InsecureRequestWarning
    (a Python warning with its file and line) on stderr of every command, where kubectl says nothing."""
    with KubeEmulator(tls=True) as emu:
        emu.add_namespace("shop", {"istio-injection": "enabled"})
        config = tmp_path / "config"
        config.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": emu.url, "insecure-skip-tls-verify": True}}],
            "users": [{"name": "u", "user": {}}],
            "contexts": [{"name": "lab", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "lab"}), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
        done = subprocess.run([sys.executable, "-m", "meshdesk", "inventory", "--kubeconfig", str(config),
                               "-n", "shop"], capture_output=True, text=True, timeout=60, env=env,
                              cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "warnings.warn" not in done.stderr, done.stderr


def test_commands_say_a_broken_kubeconfig_file_passed_over_in_their_own_words(tmp_path: Path) -> None:
    """QA: with KUBECONFIG=good:broken, graph, inventory and validate printed the broken file's problem
    bare on stderr (the log's line, with no "meshdesk graph:" before it), where contexts says it as its
    own."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: [broken\n", encoding="utf-8")
    with KubeEmulator() as emu:
        emu.add_namespace("shop", {"istio-injection": "enabled"})
        good = emu.write_kubeconfig(tmp_path / "config", context="lab")
        env = {**os.environ, "KUBECONFIG": f"{good}{os.pathsep}{broken}"}
        for cmd in ("graph", "inventory", "validate"):
            args = [sys.executable, "-m", "meshdesk", cmd, "-n", "shop"]
            if cmd == "graph":
                args += ["--context", "lab", "--prometheus", f"http://127.0.0.1:{emu.port}"]
            done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env,
                                  cwd=Path(__file__).resolve().parent.parent)
            said = [line for line in done.stderr.splitlines() if str(broken) in line]
            assert said and all(line.startswith(f"meshdesk {cmd}: warning: kubeconfig {broken}") for line in said), \
                done.stderr
            assert len(said) == 1, done.stderr


def test_a_certificate_authority_that_holds_no_certificate_is_said_in_words(tmp_path: Path) -> None:
    """QA: a kubeconfig whose certificate-authority-data is no PEM certificate gave OpenSSL's own text,
    "[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found (_ssl.c:4154)"."""
    from meshdesk.sources.cluster import open_source

    with KubeEmulator(tls=True) as emu:
        config = tmp_path / "config"
        config.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": emu.url, "certificate-authority-data":
                                                   base64.b64encode(b"not a certificate").decode()}}],
            "users": [{"name": "u", "user": {"token": "ca-test-token-123"}}],
            "contexts": [{"name": "lab", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "lab"}), encoding="utf-8")
        with pytest.raises(Unreachable) as err:
            open_source(str(config), "lab", timeout=10)
    text = str(err.value)
    assert "the certificate authority in your kubeconfig holds no certificate" in text, text
    assert "_ssl.c" not in text and "ca-test-token-123" not in text
