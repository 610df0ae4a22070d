"""``meshdesk validate``: the Istio config view's findings from a terminal, for a cluster (over HTTP to
the emulator), the demo or a snapshot; its exit code stops a pipeline on a broken config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshdesk.cli import main
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"
NETWORKING = "fixtures/istio/bookinfo/networking"
NET = "networking.istio.io"


def _bookinfo_with_a_broken_route(emu: KubeEmulator, shared: Path) -> None:
    """Bookinfo with its v1 routes but no DestinationRule (every route names a subset nothing defines:
    KIA1107, warnings), and a VirtualService bound to a Gateway that does not exist (KIA1102, an error)."""
    emu.load_crds(shared / CRDS)
    emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
    emu.load_yaml(shared / BOOKINFO, namespace="bookinfo")
    emu.load_yaml(shared / NETWORKING / "virtual-service-all-v1.yaml", namespace="bookinfo")
    emu.add({"apiVersion": f"{NET}/v1", "kind": "VirtualService", "metadata": {"name": "front", "namespace": "bookinfo"},
             "spec": {"hosts": ["*"], "gateways": ["no-such-gateway"],
                      "http": [{"route": [{"destination": {"host": "productpage", "port": {"number": 9080}}}]}]}},
            "bookinfo")
    emu.run_workloads()


def test_a_broken_route_is_printed_and_fails_the_run(kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _bookinfo_with_a_broken_route(kube_emulator, shared_dir)
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookinfo"]) == 3
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("Error [KIA1102] (VirtualService bookinfo/front spec/gateways[0]) ")  # the worst first
    assert "Warning [KIA1107] (VirtualService bookinfo/reviews spec/http[0]/route[0]/destination) subset 'v1' of " \
        "reviews is defined by no DestinationRule" in lines
    severities = [line.split()[0] for line in lines]
    assert severities == sorted(severities, key=["Error", "Warning", "Info"].index)
    assert "meshdesk validate: 1 error, 4 warnings in 1 namespace" in err

    # as JSON: the same findings, each with its object and code
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookinfo", "--json"]) == 3
    items = json.loads(capsys.readouterr().out)
    assert len(items) == len(lines)
    assert items[0] == {"severity": "error", "code": "KIA1102", "kind": "VirtualService", "namespace": "bookinfo",
                        "name": "front", "message": items[0]["message"], "path": "spec/gateways[0]"}

    # not failing on errors: still printed, exit 0
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookinfo", "--fail-on", "never"]) == 0
    assert "Error [KIA1102]" in capsys.readouterr().out

    # mended (the route on the mesh, the subsets defined): no findings, so the run passes
    kube_emulator.delete("virtualservices", "bookinfo", "front", NET)
    kube_emulator.load_yaml(shared_dir / NETWORKING / "destination-rule-all.yaml", namespace="bookinfo")
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookinfo", "--level", "warning"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "meshdesk validate: no findings in 1 namespace" in err


def test_the_demo_and_a_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The demo has warnings and no errors: it passes by default and fails on warnings when asked. A
    snapshot taken with its inventory is checked offline; one without, or a namespace it has not, is
    refused with the reason."""
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.sources.snapshot import save_snapshot

    assert main(["validate", "--demo"]) == 0
    demo_out = capsys.readouterr().out
    assert demo_out.startswith("Warning [") and "Error [" not in demo_out
    assert main(["validate", "--demo", "--fail-on", "warning"]) == 3
    capsys.readouterr()
    # what fails the run is what is found, whatever --level prints
    assert main(["validate", "--demo", "--fail-on", "warning", "--level", "error"]) == 3
    assert capsys.readouterr().out == ""

    demo = DemoCluster(clock=lambda: 1_790_000_000.0)
    snap = demo.snapshot(GraphRequest(namespaces=("shop", "hello")), with_inventory=True)
    path = tmp_path / "mesh.json"
    save_snapshot(snap, path)
    assert main(["validate", "--snapshot", str(path)]) == 0
    out = capsys.readouterr().out
    assert out and all(" shop/" in line or " hello/" in line for line in out.splitlines())
    assert main(["validate", "--snapshot", str(path), "-n", "travel"]) == 2
    assert "--namespace travel: the snapshot holds no inventory of that namespace" in capsys.readouterr().err

    snap.inventory = None
    bare = tmp_path / "bare.json"
    save_snapshot(snap, bare)
    assert main(["validate", "--snapshot", str(bare)]) == 2
    assert f"snapshot file {bare} holds no inventory" in capsys.readouterr().err
    assert main(["validate", "--snapshot", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["validate", "--demo", "--context", "x"]) == 2
    assert main(["validate", "--level", "fatal"]) == 2


def test_optional_checks_and_codes_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    """--include KIA1301 makes Kiali's optional check (workloads no AuthorizationPolicy covers);
    --ignore leaves codes out, as Kiali's validations.ignore does."""
    assert main(["validate", "--demo", "-n", "shop"]) == 0
    plain = capsys.readouterr().out
    assert "KIA1301" not in plain and "MDK0501" in plain
    assert main(["validate", "--demo", "-n", "shop", "--include", "KIA1301", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert {"kind": "Workload", "namespace": "shop", "name": "reviews-v1", "code": "KIA1301"}.items() <= next(
        i for i in items if i["code"] == "KIA1301" and i["name"] == "reviews-v1").items()
    assert main(["validate", "--demo", "-n", "shop", "--include", "KIA1301", "--ignore", "MDK0501,KIA1301"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "no findings" in err
    assert main(["validate", "--demo", "--include", "KIA0101"]) == 2  # not an optional check
    capsys.readouterr()
    # a code in lower case was passed on as it was and left nothing out, a mistyped one (O for 0) too, without a
    # word: as the app's Settings read them, any case is the code, and what is no code is a usage error
    assert main(["validate", "--demo", "-n", "shop", "--include", "KIA1301", "--ignore", "mdk0501", "--ignore",
                 "kia1301"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "no findings" in err
    assert main(["validate", "--demo", "-n", "shop", "--ignore", "MDK0501,KIAO701"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == ("meshdesk validate: --ignore: 'KIAO701' is not a check code (three letters and four "
                                 "digits, such as KIA1301)\n")
    # -n a,b is two namespaces; one the demo does not have is said
    assert main(["validate", "--demo", "-n", "shop,nosuchns", "--include", "KIA1301"]) == 4  # nosuchns not checked
    out, err = capsys.readouterr()
    assert "(Workload shop/reviews-v1)" in out and "warning: namespace not in the demo cluster: nosuchns" in err


def test_a_subcommand_after_the_apps_options_is_pointed_out(capsys: pytest.CaptureFixture[str]) -> None:
    """`meshdesk --demo validate` said only "unrecognized arguments: validate"."""
    with pytest.raises(SystemExit) as stopped:
        main(["--demo", "validate", "-n", "shop"])
    assert stopped.value.code == 2
    assert "'validate' is a subcommand: put it first, then its options (meshdesk validate --demo -n shop)" \
        in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--demo", "--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_a_misspelt_subcommand_is_named_with_the_one_meant_and_help_is_the_usage(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`meshdesk grpah --demo` said "unrecognized arguments: grpah", and `meshdesk help` the same of help."""
    with pytest.raises(SystemExit) as stopped:
        main(["grpah", "--demo", "-n", "shop"])
    assert stopped.value.code == 2
    assert "'grpah' is not a subcommand: did you mean 'graph'? (subcommands: graph, contexts, inventory, " \
        "validate, traces, mesh)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["shop"])
    assert "'shop' is not a subcommand (subcommands: graph," in capsys.readouterr().err
    assert main(["help"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: meshdesk") and "subcommands (each takes --help" in out and err == ""


def test_the_apps_help_says_what_each_subcommand_does_and_its_example_works(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`meshdesk --help` listed the subcommands' names only ("Subcommands: graph, contexts, ..."): nothing
    said which one prints the graph, which checks config. Each is listed with what it does, and the
    example given for the terminal works as written."""
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()}
    for name in ("graph", "inventory", "validate", "traces", "contexts"):
        assert name in lines and len(lines[name].split()) > 4, name
    assert "print it" in lines["graph"] and "Istio config" in lines["validate"]
    example = next(line for line in out.splitlines() if line.strip().startswith("meshdesk graph "))
    argv = example.strip().split("  ")[0].split()[1:]  # the command before its explanation
    assert argv == ["graph", "--demo", "-n", "shop"]
    assert main(argv) == 0
    assert "shop/productpage" in capsys.readouterr().out


def test_a_namespace_whose_istio_config_could_not_be_read_is_not_counted_as_checked(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """QA: with no right at all in a namespace, ``validate -n bookinfo,secret`` said "no findings in 2
    namespaces": the one it could not read was counted as checked and fine."""
    _bookinfo_with_a_broken_route(kube_emulator, shared_dir)
    kube_emulator.load_yaml(shared_dir / NETWORKING / "destination-rule-all.yaml", namespace="bookinfo")
    kube_emulator.delete("virtualservices", "bookinfo", "front", NET)
    kube_emulator.add_namespace("secret", {"istio-injection": "enabled"})
    kube_emulator.forbid(namespace="secret")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    # QA: it exited 0, so a CI gate passed what it could not check; 4 says "not checked"
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookinfo,secret", "--level", "warning"]) == 4
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == ("meshdesk validate: no findings in 1 namespace; not checked: secret (its Istio "
                                    "config could not be read)"), err
    assert "hidden: secret/virtualservices: forbidden" in err


def test_fail_on_error_does_not_pass_a_namespace_it_could_not_read(
        kube_emulator: KubeEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kube_emulator.add_namespace("x")
    kube_emulator.forbid(namespace="x")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["validate", "--kubeconfig", str(config), "-n", "x", "--fail-on", "error"]) == 4
    assert "hidden: x/" in capsys.readouterr().err
    assert main(["validate", "--kubeconfig", str(config), "-n", "x", "--fail-on", "never"]) == 0
    main(["validate", "--help"])
    assert "exit with 4" in " ".join(capsys.readouterr().out.split())


def test_what_is_hidden_outside_the_checked_config_does_not_fail_the_gate(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A user with rights in their namespace only cannot list gateway pods or anything else cluster-wide;
    that hides nothing of the namespace's Istio config, so a clean namespace passes the gate (0), not
    "not checked" (4) on every run."""
    _bookinfo_with_a_broken_route(kube_emulator, shared_dir)
    kube_emulator.load_yaml(shared_dir / NETWORKING / "destination-rule-all.yaml", namespace="bookinfo")
    kube_emulator.delete("virtualservices", "bookinfo", "front", NET)
    kube_emulator.forbid(namespace="")  # cluster-wide requests only: rights granted namespace by namespace
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookinfo", "--level", "warning"]) == 0
    err = capsys.readouterr().err
    assert "hidden: " in err  # what could not be read is still said
    assert err.splitlines()[-1] == "meshdesk validate: no findings in 1 namespace", err


def test_the_app_is_not_asked_to_open_a_snapshot_and_a_context_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    """s18: `meshdesk --snapshot f.json --demo` (or --context prod) opened the snapshot and dropped the
    other without a word; `meshdesk graph` refuses the same. Refused before any window opens."""
    for other in (["--demo"], ["--context", "prod"]):
        with pytest.raises(SystemExit) as stopped:
            main(["--snapshot", "shop.json", *other])
        assert stopped.value.code == 2
        assert "--snapshot opens a file; it cannot be combined with --demo or --context" in capsys.readouterr().err


def test_a_cluster_without_istio_is_not_passed_as_checked(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No Istio CRDs (Istio not installed, or the wrong context): it said "no findings in 3 namespaces"
    and exited 0, so a CI gate passed a mesh that is not there. Nothing was checked: it says so, exit 4."""
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    kube_emulator.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    kube_emulator.run_workloads()
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["validate", "--kubeconfig", str(config)]) == 4
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("meshdesk validate: nothing checked: Istio was not found in this cluster")
    assert "no findings" not in err
    assert err.count("Istio was not found") == 1, err  # once, not as a warning too
    assert main(["validate", "--kubeconfig", str(config), "--json"]) == 4
    said = capsys.readouterr()
    assert json.loads(said.out) == [] and "nothing checked: Istio was not found" in said.err
    assert main(["validate", "--kubeconfig", str(config), "--fail-on", "never"]) == 0


@pytest.mark.parametrize("command", ["validate", "inventory"])
def test_cluster_with_the_demo_or_a_snapshot_is_refused_not_dropped(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--cluster east`` with ``--demo`` or ``--snapshot`` was dropped without a word: the output still
    named the demo's or the snapshot's own cluster."""
    assert main([command, "--demo", "--cluster", "east"]) == 2
    assert "--cluster names the cluster read from a kubeconfig; the demo keeps its own" in capsys.readouterr().err
    snap = tmp_path / "s.json"
    assert main(["graph", "--demo", "-n", "shop", "--save-snapshot", str(snap), "-o", "json"]) == 0
    capsys.readouterr()
    assert main([command, "--snapshot", str(snap), "--cluster", "east"]) == 2
    assert "a snapshot keeps its own cluster name" in capsys.readouterr().err
    assert main([command, "--snapshot", str(snap)]) in (0, 3)  # without it, read as before


def test_namespaces_none_of_which_exists_are_not_passed_as_checked(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """s18c: `-n` naming only a namespace the cluster lacks (a typo in a pipeline) said "no findings in 0
    namespaces" and exited 0: the gate passed having checked nothing. It says so, exit 4; one that exists
    beside it is checked, the other said and not passed either."""
    kube_emulator.load_crds(shared_dir / CRDS)
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookifno"]) == 4
    err = capsys.readouterr().err
    assert "namespace bookifno does not exist" in err
    assert err.splitlines()[-1] == "meshdesk validate: nothing checked: none of the namespaces named exists", err
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookifno", "--json"]) == 4
    said = capsys.readouterr()
    assert json.loads(said.out) == []  # stdout stays valid JSON; why exit 4, on stderr as without --json
    assert said.err.splitlines()[-1] == "meshdesk validate: nothing checked: none of the namespaces named exists"
    assert main(["validate", "--demo", "-n", "nosuchns", "-o", "json"]) == 4
    said = capsys.readouterr()
    assert json.loads(said.out) == [] and "nothing checked: none of the namespaces named exists" in said.err
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookifno", "--fail-on", "never"]) == 0
    capsys.readouterr()
    # one that exists beside it is checked; the other, not checked, fails the gate too (it passed, exit 0)
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookinfo,bookifno"]) == 4
    assert "no findings in 1 namespace; not checked: bookifno (no such namespace)" in capsys.readouterr().err
    assert main(["validate", "--kubeconfig", str(config), "-n", "bookinfo,bookifno", "--fail-on", "never"]) == 0
    capsys.readouterr()
    assert main(["validate", "--demo", "-n", "nosuchns"]) == 4
    assert "nothing checked" in capsys.readouterr().err


def test_a_snapshot_of_two_clusters_names_each_findings_cluster(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A snapshot of east and west, whose VirtualService shop/cart routes to a missing subset in east
    only: the finding was printed once, naming no cluster (so west's sound copy looked broken, and a
    user could not tell which cluster to fix); it names east, and west has none."""
    from meshdesk.sources.snapshot import save_snapshot
    from tests.graph_samples import snapshot
    from tests.test_graph_multicluster_inventory import _traffic
    from tests.test_multicluster_ui import _two_carts

    path = tmp_path / "two.json"
    save_snapshot(snapshot(_traffic(("web-v1", "cart-v1")), inventory=_two_carts()), path)
    assert main(["validate", "--snapshot", str(path), "--fail-on", "warning"]) == 3
    out = capsys.readouterr().out
    assert "(VirtualService shop/cart in cluster east spec/http[0]/route[0]/destination" in out, out
    assert "cluster west" not in out
    assert main(["validate", "--snapshot", str(path), "--json"]) == 0
    items = [i for i in json.loads(capsys.readouterr().out) if i["code"] == "KIA1107"]
    assert [(i["name"], i["cluster"]) for i in items] == [("cart", "east")]
