"""What a kubectl user expects of every headless subcommand alike (a real subprocess each): usage mistakes
said in one line, ``-o json``, a snapshot read from standard input."""

from __future__ import annotations

import gzip
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent


def meshdesk(*args: str, tmp_path: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MESHDESK_CONFIG_DIR": str(tmp_path / "settings"), "HOME": str(tmp_path)}
    env.pop("KUBECONFIG", None)
    done = subprocess.run([sys.executable, "-m", "meshdesk", *args], capture_output=True, cwd=ROOT, timeout=120,
                          env=env, input=stdin if stdin is not None else b"")
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.mark.parametrize("args, said", [
    (["graph", "--demo", "--timeout", "abc"], "meshdesk graph: error: argument --timeout: "
     "must be a number of seconds or a span with its unit (30s, 1m, 500ms), not 'abc'"),
    (["graph", "--demo", "--bogus"], "meshdesk graph: error: unrecognized arguments: --bogus"),
    (["inventory", "--demo", "--timeout", "abc"],
     "meshdesk inventory: error: argument --timeout: "
     "must be a number of seconds or a span with its unit (30s, 1m, 500ms), not 'abc'"),
    (["validate", "--demo", "--level", "bogus"],
     "meshdesk validate: error: argument --level: invalid choice: 'bogus' (choose from 'error', 'warning', 'info')"),
    (["traces", "--demo", "--app", "reviews", "--limit", "0"], "meshdesk traces: error: --limit must be 1 to 1500"),
    (["contexts", "-o", "wide"],
     "meshdesk contexts: error: argument -o/--output: invalid choice: 'wide' (choose from 'name')"),
    (["mesh", "--demo", "--timeout", "abc"],
     "meshdesk mesh: error: argument --timeout: "
     "must be a number of seconds or a span with its unit (30s, 1m, 500ms), not 'abc'"),
    (["mesh", "--demo", "-A", "-n", "shop"],
     "meshdesk mesh: error: -A (every namespace) and -n NAMESPACE ask for different namespaces: give one"),
    (["--bogus"], "meshdesk: error: unrecognized arguments: --bogus"),
])
def test_a_usage_mistake_is_one_line_naming_it_and_where_the_options_are(args: list[str], said: str,
                                                                          tmp_path: Path) -> None:
    """QA: a bad flag value printed the command's whole usage first (24 lines for graph) with the line
    naming the mistake last, where every other error of the commands is one line."""
    done = meshdesk(*args, tmp_path=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    prog = " ".join(["meshdesk", *args[:1]]) if args[0] != "--bogus" else "meshdesk"
    assert done.stderr == f"{said} (see '{prog} --help')\n"


def _timeless(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _timeless(v) for k, v in doc.items() if k != "created"}
    if isinstance(doc, list):
        return [_timeless(v) for v in doc]
    return doc


@pytest.mark.parametrize("args", [
    ["inventory", "--demo", "-n", "shop"],
    ["validate", "--demo"],
    ["traces", "--demo", "-n", "shop", "--app", "reviews", "--limit", "3"],
    ["mesh", "--demo"],
])
def test_o_json_prints_what_json_prints(args: list[str], tmp_path: Path) -> None:
    """QA: only graph took kubectl's ``-o json``; inventory, validate and traces refused it (usage error)
    and wanted ``--json``. Both spellings now print the same JSON."""
    dashed = meshdesk(*args, "--json", tmp_path=tmp_path)
    for spelling in (["-o", "json"], ["--output=json"]):
        done = meshdesk(*args, *spelling, tmp_path=tmp_path)
        assert done.returncode == dashed.returncode and done.returncode in (0, 3), done.stderr
        parsed = json.loads(done.stdout)
        if args[0] == "traces":  # its traces are the demo's newest: the same targets, not the same ids
            assert parsed["target"] == json.loads(dashed.stdout)["target"] and len(parsed["traces"]) == 3
        else:  # (the demo's objects are made minutes or days before now: their creation times move)
            assert _timeless(parsed) == _timeless(json.loads(dashed.stdout))
    table = meshdesk(*args, "-o", "table", tmp_path=tmp_path)
    assert table.returncode == dashed.returncode and not table.stdout.lstrip().startswith(("{", "["))
    both = meshdesk(*args, "--json", "-o", "table", tmp_path=tmp_path)
    assert both.returncode == 2 and both.stdout == ""


def test_graph_takes_output_spelt_in_full_as_kubectl_does(tmp_path: Path) -> None:
    done = meshdesk("graph", "--demo", "-n", "shop", "--output", "json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["format"] == "meshdesk-graph"


def test_a_snapshot_is_read_from_standard_input_given_as_dash(tmp_path: Path) -> None:
    """QA: ``--snapshot -`` (``gunzip -c s.json.gz | meshdesk graph --snapshot -``, as ``kubectl apply -f -``
    reads it) said "snapshot file - does not exist"; graph, inventory and validate read it from standard
    input, and what is wrong with it is said of standard input."""
    path = tmp_path / "shop.json"
    saved = meshdesk("graph", "--demo", "-n", "shop", "--save-snapshot", str(path), tmp_path=tmp_path)
    assert saved.returncode == 0, saved.stderr
    piped = gzip.compress(path.read_bytes())
    for args in (["graph", "-o", "json"], ["inventory", "-o", "json"], ["validate", "-o", "json", "--fail-on", "never"],
                 ["mesh", "-o", "json"]):
        from_file = meshdesk(*args, "--snapshot", str(path), tmp_path=tmp_path)
        done = meshdesk(*args, "--snapshot", "-", tmp_path=tmp_path, stdin=piped)
        assert done.returncode == 0 and from_file.returncode == 0, done.stderr
        if args[0] == "graph":  # printed at this moment: its timestamp moves
            assert {**json.loads(done.stdout), "timestamp": 0} == {**json.loads(from_file.stdout), "timestamp": 0}
        else:
            assert json.loads(done.stdout) == json.loads(from_file.stdout)
    empty = meshdesk("graph", "--snapshot", "-", tmp_path=tmp_path, stdin=b"")
    assert (empty.returncode, empty.stdout) == (2, "")
    assert empty.stderr == "meshdesk graph: the snapshot on standard input (-) is empty\n"


@pytest.mark.parametrize("command", [["inventory", "-n", "bookinfo"], ["validate", "-n", "bookinfo"]])
def test_ctrl_c_ends_at_once_while_parallel_reads_wait_on_the_api_server(
        command: list[str], kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path) -> None:
    """QA: Ctrl+C while the inventory's parallel reads waited on a slow API server exited 130 only once
    every read in flight had ended (up to --timeout each, 30 s by default): Python waits for such threads
    as it leaves their pool and again at its exit. The server here holds the pod list until the test ends."""
    kube_emulator.load_crds(shared_dir / "fixtures/istio/crds/crd-all.gen.yaml")
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    kube_emulator.load_yaml(shared_dir / "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml", namespace="bookinfo")
    kube_emulator.run_workloads()
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    gate, held = kube_emulator.hold_requests("/api/v1/namespaces/bookinfo/pods", at_most=600)
    env = {**os.environ, "MESHDESK_CONFIG_DIR": str(tmp_path / "settings"), "KUBECONFIG": str(config)}
    # as from a terminal: Ctrl+C is delivered (a test run started in the background ignores SIGINT, and its
    # children would inherit that)
    proc = subprocess.Popen([sys.executable, "-m", "meshdesk", *command, "--timeout", "600"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
    try:
        assert held.wait(60), "the pod list was never asked for"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)  # (it waited for the held list: 600 s)
    finally:
        proc.kill()
        gate.set()
    assert proc.returncode == 130 and err == "\n"


_LOADING = [["graph", "--demo", "-n", "shop"], ["inventory", "--demo"], ["validate", "--demo"], ["mesh", "--demo"],
            ["traces", "--demo", "-n", "shop", "--app", "reviews"], ["contexts"], ["--demo"]]


@pytest.mark.parametrize("command", _LOADING, ids=[c[0] for c in _LOADING])
def test_ctrl_c_while_the_command_is_still_loading_ends_quietly_with_130(command: list[str], tmp_path: Path) -> None:
    """QA: Ctrl+C in a command's first tenth of a second, while its modules were imported, printed a
    KeyboardInterrupt traceback (and the process died by SIGINT) where a moment later it ends with one empty
    line and 130; the window's start (`meshdesk --demo`) too. Python says each module as its import ends
    (``-X importtime``): Ctrl+C is sent at several of those moments, from the first of meshdesk's own."""
    env = {**os.environ, "MESHDESK_CONFIG_DIR": str(tmp_path / "settings"), "HOME": str(tmp_path),
           "QT_QPA_PLATFORM": "offscreen"}
    env.pop("KUBECONFIG", None)
    for module in ("argparse", "meshdesk.cli", "meshdesk.sources.base", "meshdesk.mesh.inventory"):
        # as from a terminal: Ctrl+C is delivered (a test run started in the background ignores SIGINT, and
        # its children would inherit that)
        proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "meshdesk", *command], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
        said = []
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                said.append(line)
                if line.rsplit("|", 1)[-1].strip() == module:
                    proc.send_signal(signal.SIGINT)
                    break
            else:
                pytest.fail(f"{module} was never imported: {''.join(said)[-500:]}")
            _out, rest = proc.communicate(timeout=60)
        finally:
            proc.kill()
        told = [line for line in ("".join(said) + rest).splitlines() if not line.startswith("import time:")]
        assert (module, proc.returncode, told) == (module, 130, [""])


def test_all_namespaces_as_kubectl_spells_it(tmp_path: Path) -> None:
    """QA: kubectl's -A was refused as an unknown option. inventory and validate read every namespace you
    may list by default, and take -A for it; graph -A graphs every namespace, not only those in the mesh
    (the demo's istio-system too); -A with -n is refused (kubectl drops the -n without a word)."""
    plain = meshdesk("graph", "--demo", "-o", "json", tmp_path=tmp_path)
    every = meshdesk("graph", "--demo", "-A", "-o", "json", tmp_path=tmp_path)
    assert plain.returncode == every.returncode == 0, every.stderr
    assert json.loads(plain.stdout)["request"]["namespaces"] == ["hello", "shop", "travel"]
    assert json.loads(every.stdout)["request"]["namespaces"] == ["hello", "shop", "travel", "istio-system"]
    for command in ("inventory", "validate"):
        dashed = meshdesk(command, "--demo", "-A", "-o", "json", tmp_path=tmp_path)
        default = meshdesk(command, "--demo", "-o", "json", tmp_path=tmp_path)
        assert dashed.returncode == default.returncode == 0, dashed.stderr
        assert _timeless(json.loads(dashed.stdout)) == _timeless(json.loads(default.stdout))
    for command in ("graph", "inventory", "validate"):
        both = meshdesk(command, "--demo", "-A", "-n", "shop", tmp_path=tmp_path)
        assert (both.returncode, both.stdout) == (2, "")
        assert both.stderr == (f"meshdesk {command}: error: -A (every namespace) and -n NAMESPACE ask for different "
                               f"namespaces: give one (see 'meshdesk {command} --help')\n")


def test_a_closed_standard_error_does_not_turn_a_run_into_a_failure(tmp_path: Path) -> None:
    """QA: with standard error closed (``2>&-``, as some job runners start a command), Python has no
    sys.stderr and the warnings and errors were printed into standard output (into its JSON); where fd 2 is
    there but cannot be written, the first warning's failed write ended the run with exit code 1 though its
    output was printed. What cannot be said is dropped, and the exit code is the run's."""
    env = {**os.environ, "MESHDESK_CONFIG_DIR": str(tmp_path / "settings")}

    def closed_stderr(*args: str) -> subprocess.CompletedProcess[str]:
        line = " ".join([shlex.quote(sys.executable), "-m", "meshdesk", *map(shlex.quote, args)]) + " 2>&-"
        return subprocess.run(["sh", "-c", line], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)

    warned = closed_stderr("graph", "--demo", "-n", "nowhere")  # said on stderr: no such namespace in the demo
    assert (warned.returncode, warned.stdout) == (0, "")
    graphed = closed_stderr("graph", "--demo", "-n", "shop,nowhere", "-o", "json")
    assert graphed.returncode == 0 and json.loads(graphed.stdout)["request"]["namespaces"] == ["shop", "nowhere"]
    found = closed_stderr("validate", "--demo", "-o", "json")  # its summary goes to stderr
    assert found.returncode == 0 and len(json.loads(found.stdout)) == 2
    assert closed_stderr("graph", "--snapshot", str(tmp_path / "nope.json")).returncode == 2
    if Path("/dev/full").exists():  # a standard error that is there but cannot be written
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--demo", "-n", "nowhere"], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=full, text=True, timeout=120)
        assert (done.returncode, done.stdout) == (0, "")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device every write to fails)")
@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["--version"], ["help"],
    *[[command, "--help"] for command in ("graph", "inventory", "validate", "traces", "mesh", "contexts")],
    ["graph", "--demo", "-n", "shop"], ["inventory", "--demo", "-o", "json"], ["mesh", "--demo"],
], ids=" ".join)
def test_help_and_output_that_cannot_be_written_exit_1_saying_why(args: list[str], tmp_path: Path) -> None:
    """QA: ``meshdesk --help > /dev/full`` (``--version`` and ``meshdesk help`` too) exited 0 though nothing
    was written, and with standard output closed argparse printed the usage on standard error instead: a
    script saw success. As coreutils and kubectl, one line on stderr says why and the exit code is not 0,
    as every subcommand's output already was."""
    env = {**os.environ, "MESHDESK_CONFIG_DIR": str(tmp_path / "settings"), "HOME": str(tmp_path)}
    prog = " ".join(["meshdesk", *[a for a in args[:1] if not a.startswith("-") and a != "help"]])
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "meshdesk", *args], stdout=full, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True, cwd=ROOT, env=env, timeout=120)
    assert (done.returncode, done.stderr) == (1, f"{prog}: cannot write the output: No space left on device\n")
    line = " ".join([shlex.quote(sys.executable), "-m", "meshdesk", *map(shlex.quote, args)]) + " >&-"
    shut = subprocess.run(["sh", "-c", line], stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=ROOT,
                          env=env, timeout=120)
    assert (shut.returncode, shut.stderr) == (1, f"{prog}: cannot write the output: standard output is closed\n")
    printed = meshdesk(*args, tmp_path=tmp_path)  # and written as ever where it can be
    assert printed.returncode == 0 and printed.stdout, printed.stderr


@pytest.mark.parametrize("command", ["graph", "inventory", "validate", "traces", "contexts"])
def test_help_and_usage_mistakes_load_no_graph_builder_checks_or_qt(command: str, tmp_path: Path) -> None:
    """QA: ``meshdesk inventory --help`` and ``validate --help`` (and every usage mistake of theirs) loaded
    the graph builder and every config check first (0.6-0.7 s, three times graph's); what a command needs to
    run is loaded when it runs. Said by the modules Python reports loading (``-X importtime``)."""
    env = {**os.environ, "MESHDESK_CONFIG_DIR": str(tmp_path / "settings")}
    for args in (["--help"], ["--timeout", "nan"]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "meshdesk", command, *args],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
        assert done.returncode == (0 if args == ["--help"] else 2), done.stderr[-500:]
        loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
        heavy = {"networkx", "meshdesk.mesh.graph", "meshdesk.mesh.validations", "kubernetes", "PySide6"} & loaded
        assert not heavy, (command, args, heavy)


def test_timeout_takes_a_span_with_its_unit_as_the_other_options_do(tmp_path: Path) -> None:
    """QA: ``--timeout 30s`` (kubectl's --request-timeout is written so, and this CLI's --since and
    --duration take units) was refused as no number; a span with its unit is its seconds."""
    from tests.prom_server import HANG, StubServer

    with StubServer(lambda r: HANG) as silent:
        config = tmp_path / "config"
        config.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
            f"clusters: [{{name: lab, cluster: {{server: '{silent.url}'}}}}]\n"
            "users: [{name: lab, user: {token: t}}]\n"
            "contexts: [{name: lab, context: {cluster: lab, user: lab}}]\n")
        done = meshdesk("inventory", "--kubeconfig", str(config), "-n", "bookinfo", "--timeout", "500ms",
                        tmp_path=tmp_path)
    assert done.returncode == 1 and "did not answer in time" in done.stderr, done.stderr
    wrong = meshdesk("graph", "--demo", "--timeout", "soon", tmp_path=tmp_path)
    assert wrong.returncode == 2 and wrong.stderr == (
        "meshdesk graph: error: argument --timeout: must be a number of seconds or a span with its unit (30s, 1m, "
        "500ms), not 'soon' (see 'meshdesk graph --help')\n")
    for command in (["graph", "--demo", "-n", "shop"], ["validate", "--demo"],
                    ["traces", "--demo", "-n", "shop", "--app", "reviews", "--limit", "1"]):
        assert meshdesk(*command, "--timeout", "1m", tmp_path=tmp_path).returncode == 0
