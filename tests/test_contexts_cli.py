"""``meshdesk contexts`` prints what ``kubectl config get-contexts`` prints for the same files."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshdesk import cli
from meshdesk.commands import contexts
from tests.file_helpers import returns_without_blocking

ROOT = Path(__file__).resolve().parent.parent
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed to compare with")


def write(path: Path, clusters: list[str], contexts_: dict[str, dict[str, str]], current: str | None = None) -> Path:
    doc: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": c, "cluster": {"server": f"https://{c}.example:6443"}} for c in clusters],
        "users": [{"name": u, "user": {"token": "not-a-real-token"}}
                  for u in sorted({c.get("user", "") for c in contexts_.values()} - {""})],
        "contexts": [{"name": n, "context": c} for n, c in contexts_.items()],
    }
    if current:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    a = write(tmp_path / "a.yaml", ["kind-istio", "prod-eu-west-1-very-long-cluster-name"], {
        "kind-istio": {"cluster": "kind-istio", "user": "kind-istio", "namespace": "bookinfo"},
        "prod": {"cluster": "prod-eu-west-1-very-long-cluster-name", "user": "arn:aws:eks:eu-west-1:1:cluster/prod"},
        "b": {"cluster": "kind-istio", "user": "kind-istio"},
    }, current="kind-istio")
    b = write(tmp_path / "b.yaml", ["kind-istio", "minikube"], {
        "minikube": {"cluster": "minikube", "user": "minikube", "namespace": "default"},
        "kind-istio": {"cluster": "minikube", "user": "minikube"},  # shadowed by a.yaml
        "Zeta": {"cluster": "minikube"},
        "ünïcode-ctx": {"cluster": "minikube", "user": "minikube"},
    }, current="minikube")
    return a, b


def run_ours(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = contexts.main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def run_kubectl(argv: list[str], env: dict[str, str]) -> str:
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, "config", "get-contexts", *argv], capture_output=True, text=True,
                          env=env, timeout=60, check=True)
    return done.stdout


@pytest.fixture
def env(tmp_path: Path, files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    kubeconfig = os.pathsep.join([str(files[0]), "", str(tmp_path / "absent.yaml"), str(files[1])])
    monkeypatch.setenv("KUBECONFIG", kubeconfig)
    monkeypatch.setenv("HOME", str(home))
    return {"PATH": os.environ["PATH"], "HOME": str(home), "KUBECONFIG": kubeconfig}


def test_table_shape_without_kubectl(env: dict[str, str]) -> None:
    code, out, err = run_ours([])
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
    names = [line[10:].split()[0] for line in lines[1:]]
    assert names == sorted(names) == ["Zeta", "b", "kind-istio", "minikube", "prod", "ünïcode-ctx"]
    current = [line for line in lines[1:] if line.startswith("*")]
    assert len(current) == 1 and current[0].split()[1:] == ["kind-istio", "kind-istio", "kind-istio", "bookinfo"]
    # columns line up: every NAME starts at the same offset as the header's
    assert {line.index(name) for line, name in zip(lines[1:], names, strict=True)} == {lines[0].index("NAME")}


def test_names_only(env: dict[str, str]) -> None:
    code, out, _ = run_ours(["-o", "name"])
    assert code == 0
    assert out == "Zeta\nb\nkind-istio\nminikube\nprod\nünïcode-ctx\n"


@needs_kubectl
@pytest.mark.parametrize("argv", [[], ["-o", "name"], ["--no-headers"], ["prod", "b"]])
def test_same_output_as_kubectl(env: dict[str, str], argv: list[str]) -> None:
    assert run_ours(argv)[1] == run_kubectl(argv, env)


@needs_kubectl
def test_explicit_kubeconfig_like_kubectl(env: dict[str, str], files: tuple[Path, Path]) -> None:
    argv = ["--kubeconfig", str(files[1])]
    code, out, _ = run_ours(argv)
    assert code == 0
    assert out == run_kubectl(argv, env)
    assert [line.split()[1] for line in out.splitlines() if line.startswith("*")] == ["minikube"]
    assert run_ours([*argv, "-o", "name"])[1] == run_kubectl([*argv, "-o", "name"], env)


def test_through_the_cli_entry_point(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["contexts", "-o", "name"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Zeta"


def test_bad_kubeconfig_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.write_text("contexts: [\n")
    code, out, err = run_ours(["--kubeconfig", str(broken)])
    assert code == 1 and out == ""
    assert err.startswith("meshdesk contexts: kubeconfig ") and str(broken) in err and "not valid YAML" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run_ours(["--kubeconfig", str(tmp_path / "missing")])
    assert code == 1 and "does not exist" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_as_kubeconfig_exits_1_without_blocking(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    code, out, err = returns_without_blocking(lambda: run_ours(["--kubeconfig", str(pipe)]), pipe)
    assert code == 1 and out == ""
    assert err == f"meshdesk contexts: kubeconfig {pipe} is a named pipe (FIFO) that nothing was written to\n"


def test_one_broken_file_still_lists_the_others(tmp_path: Path, files: tuple[Path, Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken"
    broken.write_text("- not\n- a mapping\n")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(broken), str(files[1])]))
    code, out, err = run_ours(["-o", "name"])
    assert code == 1
    assert out == "Zeta\nkind-istio\nminikube\nünïcode-ctx\n"
    assert "broken is a list, not a mapping" in err


def test_a_problem_is_printed_once_as_a_process(tmp_path: Path) -> None:
    odd = tmp_path / "odd.yaml"
    odd.write_text("clusters: 5\ncontexts: [{name: dev, context: {cluster: c}}]\n")
    done = subprocess.run([sys.executable, "-m", "meshdesk", "contexts", "--kubeconfig", str(odd), "-o", "name"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 1 and done.stdout == "dev\n"
    assert done.stderr.splitlines() == [f"meshdesk contexts: kubeconfig {odd}: 'clusters' is not a list; ignored"]


def test_a_value_yaml_cannot_read_is_one_line_and_the_good_file_still_lists(tmp_path: Path,
                                                                            files: tuple[Path, Path]) -> None:
    """An unquoted ``password: 2024-02-30`` (no such date) made ``contexts`` and ``graph`` print a
    traceback, also when a good file came after it in KUBECONFIG."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("users:\n- name: u\n  user: {username: admin, password: 2024-02-30}\n")
    env = {**os.environ, "KUBECONFIG": os.pathsep.join([str(bad), str(files[1])])}
    said = (f"kubeconfig {bad} is not valid YAML at line 3, column 37: a value read as a date is not a valid date "
            "(quote the value, without a !! tag, to keep it as text)")
    done = subprocess.run([sys.executable, "-m", "meshdesk", "contexts", "-o", "name"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert done.returncode == 1 and done.stdout == "Zeta\nkind-istio\nminikube\nünïcode-ctx\n"
    assert done.stderr.splitlines() == [f"meshdesk contexts: {said}"]
    done = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--kubeconfig", str(bad), "-n", "bookinfo"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.splitlines() == [f"meshdesk graph: {said}"]


def test_unknown_context_name(env: dict[str, str]) -> None:
    code, out, err = run_ours(["prod", "nope"])
    assert code == 1
    assert "prod" in out and "nope" not in out
    assert "context nope not found" in err


def test_no_kubeconfig_at_all_prints_only_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    code, out, err = run_ours([])
    assert code == 0
    assert out == "CURRENT   NAME   CLUSTER   AUTHINFO   NAMESPACE\n"
    assert "no kubeconfig found" in err


def test_a_kubeconfig_from_process_substitution_or_dev_null_is_read(tmp_path: Path) -> None:
    """`--kubeconfig <(sops -d kubeconfig.enc)` (a pipe a process writes to) and /dev/null (an empty
    config, as kubectl takes it) were refused once kubeconfigs had to be regular files."""
    import subprocess
    import sys

    good = tmp_path / "config"
    good.write_text("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://x'}}]\n"
                    "users: [{name: u, user: {}}]\ncontexts: [{name: piped, context: {cluster: c, user: u}}]\n"
                    "current-context: piped\n")
    done = subprocess.run(["bash", "-c", f'"{sys.executable}" -m meshdesk contexts -o name --kubeconfig <(cat "{good}")'],
                          capture_output=True, text=True, timeout=120, cwd=str(Path(__file__).resolve().parent.parent))
    assert done.returncode == 0 and done.stdout.strip() == "piped", done.stderr
    empty = subprocess.run([sys.executable, "-m", "meshdesk", "contexts", "--kubeconfig", "/dev/null"],
                           capture_output=True, text=True, timeout=120, cwd=str(Path(__file__).resolve().parent.parent))
    assert "not a regular file" not in empty.stderr and "is a device" not in empty.stderr and "Traceback" not in empty.stderr


def test_names_the_console_cannot_show_are_escaped_not_a_traceback(tmp_path: Path) -> None:
    """QA finding 8: a context named 本番 on a cp1252 console (PYTHONIOENCODING=cp1252 here) ended in a
    UnicodeEncodeError traceback. Escaped as Python escapes stderr, every name stays told apart."""
    config = write(tmp_path / "config", ["c"], {"本番": {"cluster": "c"}, "ünï/cöde": {"cluster": "c"},
                                                "plain": {"cluster": "c"}}, current="本番")
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    env.pop("KUBECONFIG", None)
    done = subprocess.run([sys.executable, "-m", "meshdesk", "contexts", "-o", "name", "--kubeconfig", str(config)],
                          capture_output=True, cwd=ROOT, timeout=120, env=env)
    assert done.returncode == 0 and done.stderr == b""
    assert done.stdout.decode("cp1252").splitlines() == ["plain", "ünï/cöde", "\\u672c\\u756a"]
    env["PYTHONIOENCODING"] = "ascii"
    done = subprocess.run([sys.executable, "-m", "meshdesk", "contexts", "--kubeconfig", str(config)],
                          capture_output=True, cwd=ROOT, timeout=120, env=env)
    assert done.returncode == 0 and done.stderr == b""
    rows = [line.split() for line in done.stdout.decode("ascii").splitlines()[1:]]
    assert rows == [["plain", "c"], ["\\xfcn\\xef/c\\xf6de", "c"], ["*", "\\u672c\\u756a", "c"]]
