"""Snapshot files: round trip, and a clear ConfigError naming the file for anything wrong."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from meshdesk.mesh.graph import build
from meshdesk.mesh.inventory import Inventory, Namespace
from meshdesk.sources.base import ConfigError, SnapshotFileError, SnapshotWriteError
from meshdesk.sources.snapshot import load_snapshot, save_snapshot
from tests.graph_samples import http, snapshot


def test_round_trip_keeps_request_samples_and_inventory(tmp_path: Path) -> None:
    snap = snapshot([http("web-v1", "cart-v1", 12.5), http(None, "web-v1", 1)], graphType="versionedApp",
                    inventory=Inventory(cluster="east", namespaces=[Namespace("shop", labels={"a": "b"})]))
    path = tmp_path / "snap.json"
    save_snapshot(snap, path)
    back = load_snapshot(path)
    assert back.request == snap.request
    assert [s.to_json() for s in back.samples] == [s.to_json() for s in snap.samples]
    assert back.inventory is not None and back.inventory.namespaces[0].labels == {"a": "b"}
    assert set(build(back).nodes) == set(build(snap).nodes)
    assert not [p for p in path.parent.iterdir() if p.name != "snap.json"]  # no temp file left


def test_save_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text("old")
    save_snapshot(snapshot([http("web-v1", "cart-v1", 1)]), path)
    assert json.loads(path.read_text())["samples"][0]["value"] == 1


@pytest.mark.parametrize(("content", "expected"), [
    (None, "does not exist"),
    (b"", "is empty"),
    (b"{not json", "is not valid JSON"),
    (b"\xff\xfe\x00garbage", "is not UTF-8"),
    (b"[1, 2]", "is not a snapshot"),
    (b'{"samples": []}', "has no 'request'"),
    (b'{"request": {"graphType": "galaxy"}, "samples": []}', "unknown graph type"),
    (b'{"request": {}, "samples": 5}', "'samples' must be a list"),
    (b'{"request": {}, "samples": [], "inventory": 7}', "'inventory' must be an object"),
    # an inventory edited by hand: each wrong shape is named where it is, before any graph is built
    (b'{"request": {}, "samples": [], "inventory": {"workloads": [{"name": "a", "namespace": "s", "replicas": []}]}}',
     "workloads[0].replicas has the wrong type (list)"),
    (b'{"request": {}, "samples": [], "inventory": {"workloads": [{"name": "a", "namespace": "s", '
     b'"pods": [{"name": "p", "namespace": "s", "annotations": {"x": 1}}]}]}}',
     "workloads[0].pods[0].annotations['x'] has the wrong type (int)"),
    # the entry that is wrong is named, not the map or list holding it (whose own type is right)
    (b'{"request": {}, "samples": [], "inventory": {"services": [{"name": "a", "namespace": "s", '
     b'"labels": {"app": "a", "team": null}}]}}', "services[0].labels['team'] has the wrong type (null)"),
    (b'{"request": {}, "samples": [], "inventory": {"services": [{"name": "a", "namespace": "s", '
     b'"cluster_ips": ["10.0.0.1", 7]}]}}', "services[0].cluster_ips[1] has the wrong type (int)"),
    (b'{"request": {}, "samples": [], "inventory": {"services": [{"namespace": "s"}]}}', "services[0] has no 'name'"),
    (b'{"request": {}, "samples": [], "inventory": {"istio": [{"kind": "Gateway", "name": "g", "namespace": "s", '
     b'"spec": [1]}]}}', "istio[0].spec has the wrong type (list)"),
    (b'{"request": {}, "samples": [], "inventory": {"namespaces": "shop"}}', "inventory.namespaces must be a list"),
    (b'{"request": {"namespaceDurations": {"shop": -3}}, "samples": []}', "namespaceDurations"),
    (b'{"request": {"namespaces": 5}, "samples": []}', "namespaces must be a list of names, not 5"),
    (b'{"request": {"appenders": [1, 2]}, "samples": []}', "appenders must be a list of names"),
    (b'{"request": {"duration": [600]}, "samples": []}', "duration must be a whole number of seconds"),
    (b'{"request": {"responseTimeQuantile": "p95"}, "samples": []}', "responseTimeQuantile must be avg, 0.5"),
    (b'{"request": {"throughputType": "both"}, "samples": []}', "throughputType must be request or response"),
    (b'{"request": {"includeIdleNodes": "maybe"}, "samples": []}', "includeIdleNodes must be true or false"),
    (b'{"request": {"node": {"namespace": "shop"}}, "samples": []}', "must name a workload, an app, a service or an"),
    (b'{"request": {"node": {"namespace": "shop", "aggregate": "request_operation"}}, "samples": []}',
     "must give both an aggregate and its aggregateValue"),
    (b'{"request": {"graphType": 5}, "samples": []}', "graphType must be a text"),
    # whole numbers too large for a float: said, not a traceback
    (b'{"request": {"duration": 1' + b"0" * 400 + b'}, "samples": []}', "duration must be a whole number of seconds"),
    (b'{"request": {"queryTime": "' + b"9" * 40 + b'"}, "samples": []}', "queryTime must be a whole number"),
    (b'{"request": {}, "samples": [{"metric": "m", "labels": {}, "value": ' + b"1" * 5000 + b"}]}",
     "a number in it is too long"),
])
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        load_snapshot(path)
    assert str(path) in str(err.value) and expected in str(err.value)


@pytest.mark.parametrize("key", ["graphType", "responseTimeQuantile", "throughputType"])
def test_a_value_a_megabyte_long_is_quoted_by_its_start_and_end(tmp_path: Path, key: str) -> None:
    """The message quoted the damaged file's value whole: one line of a megabyte on meshdesk graph's stderr,
    and a dialog the app took seconds to lay out."""
    path = tmp_path / "snap.json"
    save_snapshot(snapshot([http("web-v1", "cart-v1", 90)]), path)
    doc = json.loads(path.read_text())
    doc["request"][key] = "g" * 1_000_000
    path.write_text(json.dumps(doc))
    with pytest.raises(SnapshotFileError) as err:
        load_snapshot(path)
    said = str(err.value)
    assert len(said) < 400, said[:400]
    assert said.startswith(f"snapshot file {path} is not a snapshot: its 'request' is invalid: ")
    assert f"'{'g' * 59}\u2026{'g' * 18}" in said and " characters)" in said  # its start, its end, its length
    out = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--snapshot", str(path)], capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert out.returncode == 2 and out.stderr == f"meshdesk graph: {said}\n"


def test_a_file_cut_short_is_said_to_be_cut_short(tmp_path: Path) -> None:
    """A snapshot whose copy or download did not finish said only "not valid JSON: Unterminated string
    starting at (line 2943, column 5)": where the parser was, not that the file ends too soon."""
    whole = tmp_path / "whole.json"
    save_snapshot(snapshot([http("productpage-v1", "reviews-v1", 5.0)] * 50), whole)
    text = whole.read_text()
    for cut in (len(text) // 2, len(text) - 3):
        path = tmp_path / f"cut-{cut}.json"
        path.write_text(text[:cut])
        with pytest.raises(SnapshotFileError, match="is not valid JSON") as err:
            load_snapshot(path)
        assert ("); the file ends before its JSON does, so it may have been cut short (a copy or download that "
                "did not finish)") in str(err.value)
    path = tmp_path / "not-cut.json"  # broken inside, whole at its end: no such guess
    path.write_text(text.replace('"samples"', '"samples" "x"', 1))
    with pytest.raises(SnapshotFileError, match="is not valid JSON") as err:
        load_snapshot(path)
    assert "cut short" not in str(err.value)


def test_a_file_cut_just_after_a_closing_brace_is_said_to_be_cut_short(tmp_path: Path) -> None:
    """Cut at the end of a line that closes a sample ("  }"), the file ended in a brace as a whole one
    does, and `meshdesk graph` said only "not valid JSON: Expecting ',' delimiter (line 159, column 5)" of
    a file of 158 lines. Where the parser ran out of text is what tells a file cut short."""
    whole = tmp_path / "whole.json"
    save_snapshot(snapshot([http("productpage-v1", "reviews-v1", 5.0)] * 50), whole)
    text = whole.read_text()
    cut = text.index("\n  }", len(text) // 2) + len("\n  }")
    path = tmp_path / "cut.json"
    path.write_text(text[:cut])
    out = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--snapshot", str(path)], capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert out.returncode == 2
    assert "the file ends before its JSON does, so it may have been cut short" in out.stderr, out.stderr


def test_directory_and_path_through_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_snapshot(tmp_path)
    plain = tmp_path / "plain.json"
    plain.write_text("{}")
    with pytest.raises(ConfigError, match="cannot be read: Not a directory") as err:
        load_snapshot(plain / "inner.json")
    assert str(plain / "inner.json") in str(err.value)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.json"
    path.write_text("{}")
    path.chmod(0)
    try:
        if not os.access(path, os.R_OK):
            with pytest.raises(ConfigError, match="permission denied"):
                load_snapshot(path)
            return
        # root reads any file: ask the CLI in a child process without the capabilities that bypass
        # file permissions, which is what a user without them meets
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv (util-linux) is absent to drop CAP_DAC_OVERRIDE")
        run = subprocess.run([setpriv, "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-m",
                              "meshdesk", "graph", "--snapshot", str(path)], capture_output=True, text=True,
                             timeout=120, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
        if run.returncode != 0 and "setpriv" in run.stderr:
            pytest.skip(f"setpriv cannot drop capabilities here: {run.stderr.strip()}")
        assert run.returncode == 2, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and "permission denied" in lines[0], run.stderr
    finally:
        path.chmod(0o600)


def test_malformed_samples_are_counted_not_fatal(tmp_path: Path) -> None:
    good = http("web-v1", "cart-v1", 2).to_json()
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"request": {"namespaces": ["shop"], "injectServiceNodes": False},
                                "samples": [good, {"metric": "istio_requests_total"}, {"value": "x"}, 3,
                                            {**good, "labels": {**good["labels"], "source_workload": ["web"]}},
                                            {**good, "labels": {**good["labels"], "destination_workload": None}},
                                            {**good, "labels": {**good["labels"], "response_code": 200}}]}))
    snap = load_snapshot(path)
    assert len(snap.samples) == 2  # a code written as a number is still a code
    assert snap.samples[1].labels["response_code"] == "200"
    g = build(snap)
    assert ("skipped 5 samples: malformed sample (needs a metric, labels with text values and a numeric value)"
            in g.warnings)


def test_non_finite_values_survive_a_save(tmp_path: Path) -> None:
    import math

    from meshdesk.mesh.telemetry import Sample

    good = http("web-v1", "cart-v1", 4)
    snap = snapshot([good, Sample("istio_request_duration_milliseconds", {**good.labels, "stat": "0.99"}, math.nan),
                     Sample("istio_requests_total", good.labels, math.inf)])
    path = tmp_path / "nan.json"
    save_snapshot(snap, path)
    json.loads(path.read_text())  # strict JSON: no bare NaN/Infinity
    back = load_snapshot(path)
    assert math.isnan(back.samples[1].value) and back.samples[2].value == math.inf
    g = build(back)
    assert "skipped 2 samples: value is NaN or infinite" in g.warnings


def test_values_no_rate_can_have_are_skipped_and_counted(tmp_path: Path) -> None:
    """A whole number too large for a float, and finite values that would add up to infinity (and
    make the error share NaN), are skipped with a warning; the rest of the graph is built."""
    good = http("web-v1", "cart-v1", 4)
    doc = snapshot([good, http("web-v1", "cart-v1", 1e308, "500"), http("web-v1", "cart-v1", 1e308, "500")]).to_json()
    doc["samples"].append({**doc["samples"][0], "value": 10 ** 400})
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc))
    g = build(load_snapshot(path))
    assert "skipped 1 sample: malformed sample (needs a metric, labels with text values and a numeric value)" \
        in g.warnings
    assert "skipped 2 samples: value beyond any real rate, duration or size (over 1e15)" in g.warnings
    (edge,) = g.edges.values()
    assert edge.rates["http"] == 4.0 and "http5xx" not in edge.rates  # the good sample alone


def test_a_snapshot_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.mesh.snapshot import Snapshot
    from meshdesk.sources.snapshot import load_snapshot, save_snapshot

    path = tmp_path / "snap.json"
    save_snapshot(Snapshot(GraphRequest(namespaces=("shop",)), []), path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_snapshot(path).request.namespaces == ("shop",)


def _nested(depth: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def test_absurdly_nested_data_is_refused_where_it_is(tmp_path: Path) -> None:
    """Such a file loaded, but saving it again died with RecursionError in dataclasses.asdict."""
    good = json.loads(json.dumps(snapshot([http("web-v1", "cart-v1", 1)]).to_json()))
    cases = {
        "request.extra.a.a.a.a…": lambda d: d["request"].__setitem__("extra", _nested(500)),
        "meta.x[0][0][0][0]…": lambda d: d.__setitem__("meta", {"x": json.loads("[" * 900 + "]" * 900)}),
        'inventory.istio[0].spec."a b"[0]…': lambda d: d.__setitem__("inventory", {"istio": [
            {"kind": "VirtualService", "name": "v", "namespace": "shop",
             "spec": {"a b": json.loads("[" * 200 + "]" * 200)}}]}),
    }
    for where, change in cases.items():
        doc = json.loads(json.dumps(good))
        change(doc)
        path = tmp_path / "deep.json"
        path.write_text(json.dumps(doc))
        with pytest.raises(ConfigError) as err:
            load_snapshot(path)
        message = str(err.value)
        assert message == f"snapshot file {path} is not a snapshot: it nests lists and objects more than 64 levels " \
                          f"deep, at {where}"
    # deep, but as deep as data is: read, and saved again
    doc = json.loads(json.dumps(good))
    doc["request"]["extra"] = _nested(50)
    path.write_text(json.dumps(doc))
    save_snapshot(load_snapshot(path), tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text())["request"]["extra"] == _nested(50)


def test_the_app_refuses_a_file_too_large_before_reading_it(tmp_path: Path) -> None:
    """A 150 MB file that was no snapshot took a gigabyte and froze the window for seconds per try;
    the app now names the size and its limit before reading a byte (the command line reads any)."""
    path = tmp_path / "big.json"
    with open(path, "wb") as fh:  # sparse: its size on paper, nothing on the disk
        fh.truncate(3 * 1024 * 1024)
    with pytest.raises(SnapshotFileError) as err:
        load_snapshot(path, max_bytes=2 * 1024 * 1024)
    assert err.value.path == str(path) and not err.value.transient
    assert err.value.reason == "it is too large (3 MB; meshdesk opens snapshots of up to 2 MB)"
    assert str(err.value) == f"snapshot file {path} is too large to open (3 MB; meshdesk opens snapshots of up to 2 MB)"
    with pytest.raises(SnapshotFileError, match="is not valid JSON"):
        load_snapshot(path)
    # a list is no snapshot, however long: said without parsing it
    path.write_text("[" + "1," * 100_000 + "x")
    with pytest.raises(SnapshotFileError) as err:
        load_snapshot(path)
    assert err.value.reason == "not a snapshot: the top level must be a JSON object with 'request' and 'samples'"


def test_a_big_file_parsed_beside_the_ui_reads_the_same(tmp_path: Path) -> None:
    snap = snapshot([http(f"web-{i}", "cart-v1", i) for i in range(6000)])
    path = tmp_path / "big.json"
    save_snapshot(snap, path)
    assert path.stat().st_size > 1024 * 1024  # parsed the way that lets the UI thread in
    shared, plain = load_snapshot(path, beside_ui=True), load_snapshot(path)
    assert [s.to_json() for s in shared.samples] == [s.to_json() for s in plain.samples]
    assert shared.request == plain.request


def test_a_snapshot_that_cannot_be_written_says_where_and_why(tmp_path: Path) -> None:
    """The reasons are the dialog's: a write failure, not a "Configuration problem"."""
    snap = snapshot([http("web-v1", "cart-v1", 1)])
    (tmp_path / "afile").write_text("x")
    for path, reason in [(tmp_path, "it is a folder: give a file name in it"),
                         (tmp_path / "afile" / "s.json", f"{tmp_path / 'afile'} is a file, not a folder"),
                         (tmp_path / "nope" / "s.json", f"the folder {tmp_path / 'nope'} does not exist")]:
        with pytest.raises(SnapshotWriteError) as err:
            save_snapshot(snap, path)
        assert (err.value.kind, err.value.path, err.value.reason) == ("write", str(path), reason)
        assert str(err.value) == f"cannot write snapshot file {path}: {reason}"


def test_a_read_only_folder_is_named_when_a_snapshot_cannot_be_written_there(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    target = folder / "s.json"
    code = ("import sys\nfrom meshdesk.sources.snapshot import save_snapshot\nfrom meshdesk.sources.base import "
            "SnapshotWriteError\nfrom tests.graph_samples import http, snapshot\ntry:\n"
            "    save_snapshot(snapshot([http('web-v1', 'cart-v1', 1)]), sys.argv[1])\n"
            "except SnapshotWriteError as e:\n    print(e.reason)\n")
    try:
        command = [sys.executable, "-c", code, str(target)]
        if not os.access(folder, os.W_OK):
            pass  # an ordinary user: as it is
        elif (setpriv := shutil.which("setpriv")) is not None:  # root: without the capability to write anywhere
            command = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]
        else:
            pytest.skip("running as root and setpriv (util-linux) is absent to drop CAP_DAC_OVERRIDE")
        run = subprocess.run(command, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
        if run.returncode != 0 and "setpriv" in run.stderr:
            pytest.skip(f"setpriv cannot drop capabilities here: {run.stderr.strip()}")
        assert run.stdout.strip() == f"permission denied: you may not write in the folder {folder}", run.stderr
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_a_gzip_compressed_snapshot_is_held_to_the_apps_limit_by_its_json(tmp_path: Path) -> None:
    """A small .json.gz that expands far beyond what the app opens is refused as a JSON that large
    would be, not read into memory; within the limit it reads as its JSON."""
    import gzip

    from meshdesk.sources.snapshot import APP_MAX_BYTES

    plain = tmp_path / "shop.json"
    save_snapshot(snapshot([http("web-v1", "cart-v1", 90)]), plain)
    packed = tmp_path / "shop.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    snap = load_snapshot(packed, regular_only=True, max_bytes=APP_MAX_BYTES)
    assert snap.samples == load_snapshot(plain).samples and snap.name == "shop"
    obj = json.loads(plain.read_text())
    obj["name"] = "x" * 4096  # compresses to a few dozen bytes
    packed.write_bytes(gzip.compress(json.dumps(obj).encode()))
    assert packed.stat().st_size < 1024
    with pytest.raises(SnapshotFileError) as e:
        load_snapshot(packed, regular_only=True, max_bytes=2048)
    assert str(e.value).startswith(f"snapshot file {packed} is too large to open (gzip-compressed, its JSON is over "
                                   "2048 bytes")
