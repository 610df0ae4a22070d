"""The login shell's PATH is found and merged (fake shells: one that answers, one that fails, one that hangs)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
from kubernetes.client import CoreV1Api

from meshdesk.sources import loginshell
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture


def fake_shell(folder: Path, body: str) -> str:
    """A stand-in for ``$SHELL``: a sh script that ignores -l/-i and runs the -c script with its own rules."""
    path = folder / "fakeshell"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


ANSWERING = """\
echo "Welcome banner from .bashrc"
# the last argument is the -c script; run it with a known PATH, like a profile would set
script=""
for a in "$@"; do script="$a"; done
PATH="/opt/login/bin:/home/u/.local/bin:/usr/bin:/bin" /bin/sh -c "$script"
echo "goodbye from .bash_logout"
"""


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    loginshell._cache.clear()
    loginshell._env_cache.clear()


def _unset(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """``names`` absent now, and absent again after the test even when the code under test sets them."""
    for name in names:
        monkeypatch.setenv(name, "-")
        monkeypatch.delenv(name)


def test_the_profiles_kubeconfig_and_cloud_settings_are_taken_when_started_without_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Started from a desktop launcher, the app had the login shell's PATH but not what the profile exports
    for kubectl: KUBECONFIG (it listed only ~/.kube/config's contexts, where the terminal lists those of every
    file named) and the cloud CLIs' settings the credential plugins read (AWS_PROFILE: aws eks get-token
    logged in as another account). Those it was started without are taken; one it has is kept; others
    are not taken; no value is logged."""
    import logging

    _unset(monkeypatch, "KUBECONFIG", "AWS_PROFILE", "AWS_SECRET_ACCESS_KEY", "CLOUDSDK_CONFIG", "MESHDESK_TEST_FOO")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    shell = fake_shell(tmp_path, """\
script=""
for a in "$@"; do script="$a"; done
export KUBECONFIG=/home/u/.kube/config:/home/u/.kube/work.yaml AWS_PROFILE=prod-admin AWS_REGION=us-east-1
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-K7MDENG-secret CLOUDSDK_CONFIG=/home/u/.config/gcloud-work
export MESHDESK_TEST_FOO=bar MULTI="first line
AWS_FAKE=from-a-value"
PATH="/opt/login/bin:/usr/bin:/bin" /bin/sh -c "$script"
""")
    caplog.set_level(logging.INFO, logger="meshdesk.sources.loginshell")
    assert loginshell.adopt_login_shell_path(shell) is True
    assert os.environ["KUBECONFIG"] == "/home/u/.kube/config:/home/u/.kube/work.yaml"
    assert os.environ["AWS_PROFILE"] == "prod-admin"
    assert os.environ["CLOUDSDK_CONFIG"] == "/home/u/.config/gcloud-work"
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == "wJalrXUtnFEMI-K7MDENG-secret"
    assert os.environ["AWS_REGION"] == "eu-west-1"  # the one it was started with
    assert "MESHDESK_TEST_FOO" not in os.environ and "AWS_FAKE" not in os.environ
    assert os.environ["PATH"].split(os.pathsep)[0] == "/opt/login/bin"
    assert "wJalrXUtnFEMI" not in caplog.text and "KUBECONFIG" in caplog.text
    assert loginshell.adopt_login_shell_path(shell) is False  # already taken


def test_login_shell_path_reads_between_markers(tmp_path: Path) -> None:
    shell = fake_shell(tmp_path, ANSWERING)
    assert loginshell.login_shell_path(shell) == "/opt/login/bin:/home/u/.local/bin:/usr/bin:/bin"


def test_adopt_merges_keeps_existing_and_dedups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin:/snap/bin::/usr/bin")
    shell = fake_shell(tmp_path, ANSWERING)
    assert loginshell.adopt_login_shell_path(shell) is True
    assert os.environ["PATH"].split(os.pathsep) == [
        "/opt/login/bin", "/home/u/.local/bin", "/usr/bin", "/bin", "/snap/bin"]
    assert loginshell.adopt_login_shell_path(shell) is False  # already merged


def test_shell_from_environment_runs_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = tmp_path / "runs"
    shell = fake_shell(tmp_path, f"echo x >> {counter}\n" + ANSWERING)
    monkeypatch.setenv("SHELL", shell)
    assert loginshell.login_shell_path() == loginshell.login_shell_path()
    assert counter.read_text().count("x") == 1


def test_a_launcher_started_app_reaches_the_cluster_the_terminal_reaches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kube_emulator: KubeEmulator) -> None:
    """The profile names the kubeconfig files (KUBECONFIG) and the cloud profile (AWS_PROFILE) its
    credential plugin logs in with, and puts the plugin on PATH: after taking them, the context the
    terminal's kubectl uses is there, and its plugin gets the token of the right profile."""
    import json

    from meshdesk.sources.kubeconfig import load_kubeconfig

    _unset(monkeypatch, "KUBECONFIG", "AWS_PROFILE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.kube/config to fall back on
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    bin_dir = tmp_path / "login-bin"
    bin_dir.mkdir()
    plugin = bin_dir / "aws-token"
    credential = {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {"token": "TOKEN-FOR-PROFILE"}}
    plugin.write_text("#!/bin/sh\nprintf '%s' '" + json.dumps(credential).replace("PROFILE", "'\"$AWS_PROFILE\"'") + "'\n")
    plugin.chmod(0o755)
    work = tmp_path / "work.yaml"
    work.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "eks-prod",
        "clusters": [{"name": "eks", "cluster": {"server": kube_emulator.url}}],
        "users": [{"name": "eks", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                                                    "command": "aws-token", "interactiveMode": "Never"}}}],
        "contexts": [{"name": "eks-prod", "context": {"cluster": "eks", "user": "eks"}}]}))
    kube_emulator.require_token("TOKEN-FOR-prod-admin")
    shell = fake_shell(tmp_path, f"""\
script=""
for a in "$@"; do script="$a"; done
export KUBECONFIG={work} AWS_PROFILE=prod-admin
PATH="{bin_dir}:/usr/bin:/bin" /bin/sh -c "$script"
""")
    assert loginshell.adopt_login_shell_path(shell) is True
    kc = load_kubeconfig()
    assert kc.context_names == ["eks-prod"]
    api = kc.api_client()
    assert "default" in {ns.metadata.name for ns in CoreV1Api(api).list_namespace().items}


@pytest.mark.parametrize("body", [
    "echo 'no marker here'; exit 1",
    "exit 0",
    "read line; echo \"stdin was not closed: $line\"",
])
def test_failing_shell_leaves_path_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert loginshell.adopt_login_shell_path(fake_shell(tmp_path, body)) is False
    assert os.environ["PATH"] == "/usr/bin:/bin"


def test_missing_shell_leaves_path_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert loginshell.adopt_login_shell_path(str(tmp_path / "no-such-shell")) is False
    assert os.environ["PATH"] == "/usr/bin:/bin"


def test_hanging_shell_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    pidfile = tmp_path / "child.pid"
    # a profile that starts a background job and waits forever
    shell = fake_shell(tmp_path, f"sleep 300 & echo $! > {pidfile}; wait")
    assert loginshell.adopt_login_shell_path(shell, timeout=0.5) is False
    assert os.environ["PATH"] == "/usr/bin:/bin"
    child = int(pidfile.read_text())

    def gone() -> bool:
        try:
            return Path(f"/proc/{child}/stat").read_text().split()[2] in ("Z", "X")
        except OSError:
            return True

    # the whole process group was killed, not only the shell
    deadline = time.monotonic() + 10
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gone()


@pytest.mark.parametrize("spawn", ["sleep 30 &", "setsid sleep 30 &"])
def test_a_profile_leaving_a_process_behind_does_not_lose_or_hold_the_answer(tmp_path: Path, spawn: str) -> None:
    """A profile that starts something in the background (an agent, a "sleep &", a setsid'd helper)
    keeps the shell's output open: the PATH printed before was thrown away, and with setsid the call
    waited as long as the helper lived (it runs at start-up, so the window waited too)."""
    pids = tmp_path / "pids"
    body = f"{spawn}\necho $! >> {pids}\n" + ANSWERING
    shell = fake_shell(tmp_path, body)
    try:
        # the timeout is far beyond what an answering shell needs: the answer must come, not the timeout
        assert loginshell.login_shell_path(shell, timeout=20) == "/opt/login/bin:/home/u/.local/bin:/usr/bin:/bin"
    finally:
        for pid in pids.read_text().split() if pids.exists() else []:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)
