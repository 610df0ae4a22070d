"""Saved layouts: per view, atomic, survive a new process, and bad files are moved aside with a
message instead of being overwritten."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from meshdesk.store import paths
from meshdesk.store.layouts import SCHEMA_VERSION, LayoutFormatError, LayoutKey, LayoutStore, layout_file
from tests.file_helpers import returns_without_blocking

ROOT = Path(__file__).resolve().parent.parent
KEY = LayoutKey("kind-mesh", ("istio-system", "bookinfo", "bookinfo"), "versionedApp")


def test_key_sorts_namespaces() -> None:
    assert KEY.namespaces == ("bookinfo", "istio-system")
    assert LayoutKey("c", ("b", "a"), "app") == LayoutKey("c", ("a", "b"), "app")


def test_save_load_and_views_are_separate() -> None:
    store = LayoutStore()
    assert store.load(KEY) == {}
    store.save(KEY, {"n1": (1.5, -2.0), "n2": [10, 20]})
    other = LayoutKey("kind-mesh", ("bookinfo",), "workload")
    store.save(other, {"n1": (99.0, 99.0)})
    assert store.load(KEY) == {"n1": (1.5, -2.0), "n2": (10.0, 20.0)}
    assert store.load(other) == {"n1": (99.0, 99.0)}
    assert set(store.views("kind-mesh")) == {KEY, other}
    # one file per context holding all its views, in the documented shape
    doc = json.loads(layout_file("kind-mesh").read_text())
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["views"]["versionedApp|bookinfo,istio-system"]["positions"]["n2"] == [10.0, 20.0]
    assert doc["views"]["versionedApp|bookinfo,istio-system"]["saved_at"]
    assert layout_file("kind-mesh").parent == paths.layouts_dir()
    assert store.warnings == []


def test_reset_forgets_only_that_view() -> None:
    store = LayoutStore()
    other = LayoutKey("kind-mesh", ("bookinfo",), "app")
    store.save(KEY, {"a": (1, 1)})
    store.save(other, {"b": (2, 2)})
    store.reset(KEY)
    assert store.load(KEY) == {}
    assert store.load(other) == {"b": (2.0, 2.0)}


def test_two_stores_do_not_undo_each_others_views() -> None:
    first, second = LayoutStore(), LayoutStore()
    first.save(KEY, {"a": (1, 1)})
    other = LayoutKey("kind-mesh", ("x",), "app")
    second.save(other, {"b": (2, 2)})
    assert first.load(KEY) == {"a": (1.0, 1.0)}
    assert first.load(other) == {"b": (2.0, 2.0)}


def test_a_new_process_reads_what_was_saved(_private_config_dir: Path) -> None:
    LayoutStore().save(KEY, {"node-x": (123.0, 456.0)})
    script = (
        "from meshdesk.store.layouts import LayoutKey, LayoutStore\n"
        "k = LayoutKey('kind-mesh', ('bookinfo', 'istio-system'), 'versionedApp')\n"
        "print(LayoutStore().load(k)['node-x'])\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         env={**__import__("os").environ, "MESHDESK_CONFIG_DIR": str(_private_config_dir)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "(123.0, 456.0)"


def test_context_names_are_sanitised_without_collisions() -> None:
    a = layout_file("arn:aws:eks:eu-west-1:1234:cluster/prod")
    b = layout_file("arn_aws_eks_eu-west-1_1234_cluster_prod")
    assert a != b
    assert "/" not in a.name and ":" not in a.name
    store = LayoutStore()
    store.save(LayoutKey("arn:aws:eks:eu-west-1:1234:cluster/prod", ("ns",), "app"), {"a": (1, 2)})
    assert a.exists()


@pytest.mark.parametrize("content, reason", [
    ("{not json", "corrupt"),
    ('{"schema_version": 1, "views": {"app|x": {"positions": {"a": ["x", 1]}}}}', "corrupt"),
    ('[1, 2]', "corrupt"),
    (f'{{"schema_version": {SCHEMA_VERSION + 1}, "views": {{}}}}', "newer"),
    pytest.param("[" * 100_000, "corrupt", id="nested-100000-deep"),  # json.loads runs out of stack
    pytest.param('{"schema_version": 1, "views": {"app|x": {"positions": {"a": [1' + "0" * 400 + ', 2]}}}}',
                 "corrupt", id="position-of-400-digits"),  # too big for a float
    pytest.param('{"schema_version": 1, "views": {"app|x": {"positions": {"a": [1' + "0" * 5000 + ', 2]}}}}',
                 "corrupt", id="number-of-5000-digits"),  # too long for json to convert
    pytest.param('{"schema_version": 1, "views": {"app|x": {"namespaces": 5, "positions": {}}}}', "corrupt",
                 id="namespaces-not-a-list"),
    pytest.param('{"schema_version": 1, "views": {"app|x": {"namespaces": [1, "a"], "positions": {}}}}',
                 "corrupt", id="namespaces-not-strings"),
    pytest.param('{"schema_version": 1, "views": {"app|x": {"graph_type": 5, "positions": {}}}}', "corrupt",
                 id="graph-type-not-a-string"),
])
def test_unusable_file_is_moved_aside_with_a_warning(content: str, reason: str) -> None:
    path = layout_file(KEY.context)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    store = LayoutStore()
    assert store.load(KEY) == {}
    assert len(store.warnings) == 1
    assert KEY.context in store.warnings[0]
    aside = [p for p in path.parent.iterdir() if p.name.startswith(path.name + f".{reason}-")]
    assert len(aside) == 1, list(path.parent.iterdir())
    assert aside[0].read_text() == content  # the user's data is kept as it was
    assert str(aside[0]) in store.warnings[0]
    assert not path.exists()
    # saving afterwards writes a fresh file and leaves the set-aside one alone
    store.save(KEY, {"a": (1, 2)})
    assert store.load(KEY) == {"a": (1.0, 2.0)}
    assert aside[0].read_text() == content


def test_older_schema_is_migrated() -> None:
    path = layout_file(KEY.context)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"views": {KEY.view_name: {"n1": [5, 6]}}}))
    store = LayoutStore()
    assert store.load(KEY) == {"n1": (5.0, 6.0)}
    assert store.warnings == []
    store.save(LayoutKey(KEY.context, ("other",), "app"), {"z": (0, 0)})
    doc = json.loads(path.read_text())
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["views"][KEY.view_name]["positions"] == {"n1": [5.0, 6.0]}


def test_export_and_import_round_trip(tmp_path: Path) -> None:
    store = LayoutStore()
    store.save(KEY, {"a": (1, 2), "b": (3, 4)})
    out = tmp_path / "layout.json"
    assert store.export_layout(KEY, out) == 2
    store.reset(KEY)
    key, positions = LayoutStore().import_layout(out)
    assert key == KEY
    assert positions == {"a": (1.0, 2.0), "b": (3.0, 4.0)}
    assert store.load(KEY) == positions


@pytest.mark.parametrize("content, message", [
    ("nope", "not JSON"),
    ('{"kind": "something-else"}', "not a meshdesk layout export"),
    ('{"kind": "meshdesk-layout", "schema_version": 99, "key": {}, "positions": {}}', "newer meshdesk"),
    ('{"kind": "meshdesk-layout", "schema_version": 1, "key": {"context": "c"}, "positions": {}}',
     "namespaces"),
    ('{"kind": "meshdesk-layout", "schema_version": 1, '
     '"key": {"context": "c", "namespaces": ["a"], "graph_type": "app"}, "positions": {"n": [1]}}',
     "[x, y]"),
    pytest.param('{"kind": "meshdesk-layout", "schema_version": 1, '
                 '"key": {"context": "c", "namespaces": ["a"], "graph_type": "app"}, "positions": {"n": [1'
                 + "0" * 400 + ', 2]}}', "[x, y] with finite numbers", id="position-of-400-digits"),
    pytest.param('{"kind": "meshdesk-layout", "schema_version": 1, "positions": {"n": [1' + "0" * 5000 + ', 2]}}',
                 "not JSON", id="number-of-5000-digits"),
    pytest.param("[" * 100_000, "nested too deeply", id="nested-100000-deep"),
])
def test_import_rejects_bad_files_clearly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "in.json"
    path.write_text(content)
    store = LayoutStore()
    with pytest.raises(LayoutFormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
        store.import_layout(path)
    assert not paths.layouts_dir().exists() or not any(paths.layouts_dir().iterdir())


def test_import_of_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(LayoutFormatError, match="cannot read"):
        LayoutStore().import_layout(tmp_path / "absent.json")


@pytest.mark.parametrize("namespaces", ["5", '[1, "a"]', '{"a": 1}'])
def test_views_with_bad_namespaces_are_set_aside(namespaces: str) -> None:
    path = layout_file(KEY.context)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = ('{"schema_version": 1, "views": {"versionedApp|bookinfo": {"namespaces": ' + namespaces
               + ', "positions": {}}}}')
    path.write_text(content)
    store = LayoutStore()
    assert store.views(KEY.context) == []
    assert len(store.warnings) == 1 and "'namespaces' must be a list of strings" in store.warnings[0]
    (aside,) = [p for p in path.parent.iterdir() if p.name.startswith(path.name + ".corrupt-")]
    assert aside.read_text() == content
    store.save(KEY, {"a": (1, 2)})
    assert store.views(KEY.context) == [KEY]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipe_instead_of_a_layout_file_is_moved_aside_without_hanging() -> None:
    path = layout_file(KEY.context)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    store = LayoutStore()
    assert returns_without_blocking(lambda: store.load(KEY), path) == {}
    assert len(store.warnings) == 1
    assert "named pipe" in store.warnings[0] and "not a regular file" in store.warnings[0]
    (aside,) = [p for p in path.parent.iterdir() if p.name.startswith(path.name + ".unreadable-")]
    assert str(aside) in store.warnings[0]
    assert stat.S_ISFIFO(aside.lstat().st_mode)  # kept as it was
    store.save(KEY, {"a": (1, 2)})
    assert path.is_file() and store.load(KEY) == {"a": (1.0, 2.0)}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_import_of_a_named_pipe_says_so_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "layout.json"
    os.mkfifo(fifo)

    def attempt() -> str:
        with pytest.raises(LayoutFormatError, match="cannot read .*named pipe") as info:
            LayoutStore().import_layout(fifo)
        return str(info.value)

    assert str(fifo) in returns_without_blocking(attempt, fifo)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # the user's file is left alone
    assert not paths.layouts_dir().exists() or not any(paths.layouts_dir().iterdir())
