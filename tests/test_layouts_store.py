"""Saved layouts: per view, atomic, survive a new process, and bad files are moved aside with a
message instead of being overwritten."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from meshdesk.fileio import move_aside
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


def _views_file(context: str, positions: dict[str, list[float]]) -> str:
    return json.dumps({"schema_version": SCHEMA_VERSION, "context": context,
                       "views": {"app|ns": {"namespaces": ["ns"], "graph_type": "app", "positions": positions,
                                            "saved_at": ""}}})


def test_contexts_differing_only_in_case_never_share_a_file() -> None:
    """"Prod" and "prod" were kept in Prod.json and prod.json: one file on macOS's and Windows' file
    systems, which ignore case, so each context's saves replaced the other's views."""
    names = [layout_file(c).name.lower() for c in ("Prod", "prod", "PROD", "kind-Mesh")]
    assert len(set(names)) == 4, names
    store = LayoutStore()
    store.save(LayoutKey("Prod", ("ns",), "app"), {"a": (1, 1)})
    store.save(LayoutKey("prod", ("ns",), "app"), {"b": (2, 2)})
    assert store.load(LayoutKey("Prod", ("ns",), "app")) == {"a": (1.0, 1.0)}
    assert store.load(LayoutKey("prod", ("ns",), "app")) == {"b": (2.0, 2.0)}


def test_views_an_earlier_version_saved_under_a_name_with_capitals_are_found_again() -> None:
    earlier = paths.layouts_dir() / "Prod-EU.json"  # the name an earlier version gave context "Prod-EU"
    assert layout_file("Prod-EU") != earlier
    earlier.parent.mkdir(parents=True, exist_ok=True)
    earlier.write_text(_views_file("Prod-EU", {"a": [5, 6]}))
    store = LayoutStore()
    key = LayoutKey("Prod-EU", ("ns",), "app")
    assert store.load(key) == {"a": (5.0, 6.0)}
    assert layout_file("Prod-EU").exists() and not earlier.exists()  # moved, once
    store.update(key, {"b": (7, 8)})
    assert store.load(key) == {"a": (5.0, 6.0), "b": (7.0, 8.0)}
    assert store.warnings == []
    # a file there that records another context is not taken (on a case-blind disk it is that one's)
    other = paths.layouts_dir() / "Stage.json"
    other.write_text(_views_file("stage", {"c": [1, 1]}))
    assert store.load(LayoutKey("Stage", ("ns",), "app")) == {}
    assert json.loads(other.read_text())["context"] == "stage"


def test_another_contexts_file_found_under_this_ones_name_is_given_back_not_read_or_overwritten() -> None:
    """What a file system that ignores case does with the files earlier versions wrote: "prod" opens
    prod.json and gets Prod.json, the views of "Prod". They are not shown as prod's, and prod's next save
    does not overwrite them: they move to Prod's own file, saying so."""
    mine = layout_file("prod")
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_text(_views_file("Prod", {"a": [1, 2]}))
    store = LayoutStore()
    key = LayoutKey("prod", ("ns",), "app")
    assert store.load(key) == {}
    assert len(store.warnings) == 1 and "'Prod'" in store.warnings[0] and "'prod'" in store.warnings[0]
    assert LayoutStore().load(LayoutKey("Prod", ("ns",), "app")) == {"a": (1.0, 2.0)}
    store.save(key, {"b": (3, 4)})
    assert store.load(key) == {"b": (3.0, 4.0)}
    assert LayoutStore().load(LayoutKey("Prod", ("ns",), "app")) == {"a": (1.0, 2.0)}


def test_another_contexts_file_is_set_aside_when_that_context_has_its_own_already() -> None:
    layout_file("Prod").parent.mkdir(parents=True, exist_ok=True)
    layout_file("Prod").write_text(_views_file("Prod", {"kept": [0, 0]}))
    mine = layout_file("prod")
    content = _views_file("Prod", {"a": [1, 2]})
    mine.write_text(content)
    store = LayoutStore()
    assert store.load(LayoutKey("prod", ("ns",), "app")) == {}
    assert len(store.warnings) == 1 and "holds those of context 'Prod'" in store.warnings[0], store.warnings
    aside = [p for p in mine.parent.iterdir() if p.name.startswith(mine.name + ".other-context-")]
    assert len(aside) == 1 and aside[0].read_text() == content
    assert LayoutStore().load(LayoutKey("Prod", ("ns",), "app")) == {"kept": (0.0, 0.0)}


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
    # finite, yet the canvas's arithmetic overflowed on them at every start (QA finding 1)
    pytest.param('{"schema_version": 1, "views": {"app|x": {"positions": {"a": [1e308, 0]}}}}', "corrupt",
                 id="position-near-the-float-maximum"),
    pytest.param('{"schema_version": 1, "views": {"app|x": {"positions": {"a": [0, -1.7e308]}}}}', "corrupt",
                 id="negative-position-near-the-float-maximum"),
    pytest.param('{"schema_version": 1, "views": {"app|x": {"positions": {"a": [10000001, 0]}}}}', "corrupt",
                 id="position-past-the-bound"),
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
    key, positions = LayoutStore.read_export(out)
    assert key == KEY
    assert positions == {"a": (1.0, 2.0), "b": (3.0, 4.0)}
    assert store.load(KEY) == {}  # reading an export saves nothing: the caller applies it where wanted


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
    pytest.param('{"kind": "meshdesk-layout", "schema_version": 1, '
                 '"key": {"context": "c", "namespaces": ["a"], "graph_type": "app"}, "positions": {"n": [1e308, 0]}}',
                 "the position of 'n' must be [x, y] with finite numbers between -10,000,000 and 10,000,000, "
                 "not [1e", id="position-near-the-float-maximum"),
    pytest.param('{"kind": "meshdesk-layout", "schema_version": 1, "positions": {"n": [1' + "0" * 5000 + ', 2]}}',
                 "not JSON", id="number-of-5000-digits"),
    pytest.param("[" * 100_000, "nested too deeply", id="nested-100000-deep"),
    pytest.param('{"kind": "meshdesk-layout", "schema_version": 1, '
                 '"key": {"context": "c", "namespaces": ["a"], "graph_type": "app"}, "positions": {"n": [1, 2]}, '
                 '"identities": {"n": ["app", "east"]}}',
                 "'identities': the identity of 'n' must be a list of 10 texts", id="identity-cut-short"),
])
def test_import_rejects_bad_files_clearly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "in.json"
    path.write_text(content)
    store = LayoutStore()
    with pytest.raises(LayoutFormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
        store.read_export(path)
    assert not paths.layouts_dir().exists() or not any(paths.layouts_dir().iterdir())


def test_import_of_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(LayoutFormatError, match="cannot read"):
        LayoutStore.read_export(tmp_path / "absent.json")


def test_import_errors_say_what_is_wrong_in_words(tmp_path: Path) -> None:
    """Not Python's "[Errno 21] Is a directory: '...'" or "'utf-8' codec can't decode byte 0xe9 ..."."""
    with pytest.raises(LayoutFormatError) as folder:
        LayoutStore.read_export(tmp_path)
    assert str(folder.value) == f"cannot read {tmp_path}: Is a directory"
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(b'{"kind": "caf\xe9"}')
    with pytest.raises(LayoutFormatError) as text:
        LayoutStore.read_export(latin1)
    assert str(text.value) == f"cannot read {latin1}: it is not UTF-8 text"


def test_a_saved_layouts_file_that_cannot_be_read_is_said_in_words() -> None:
    """The banner said "it could not be read ([Errno 21] Is a directory: '/home/…/demo.json')" and
    "'utf-8' codec can't decode byte 0xe9 in position 10: invalid continuation byte"."""
    path = layout_file(KEY.context)
    path.mkdir(parents=True)
    store = LayoutStore()
    assert store.load(KEY) == {}
    assert len(store.warnings) == 1 and "it could not be read (Is a directory)" in store.warnings[0]
    assert "Errno" not in store.warnings[0]
    shutil.rmtree(next(p for p in path.parent.iterdir() if p.name.startswith(path.name + ".unreadable-")))
    path.write_bytes(b'{"views": "caf\xe9"}')
    store = LayoutStore()
    assert store.load(KEY) == {}
    assert len(store.warnings) == 1 and "it could not be read (it is not UTF-8 text)" in store.warnings[0]
    assert "codec" not in store.warnings[0]


def test_positions_too_far_out_are_never_written() -> None:
    """What the store would refuse to read it does not write either (the file would be set aside)."""
    store = LayoutStore()
    store.save(KEY, {"a": (1, 2)})
    with pytest.raises(ValueError, match="too far out"):
        store.save(KEY, {"a": (1e308, 2)})
    assert store.load(KEY) == {"a": (1.0, 2.0)} and store.warnings == []


@pytest.mark.parametrize("view, node", [("x" * 1_000_000, "a"), ("app|x", "n" * 1_000_000)],
                         ids=["view-name-of-1MB", "node-id-of-1MB"])
def test_a_megabyte_long_name_in_a_damaged_file_is_quoted_by_its_start_and_end(view: str, node: str) -> None:
    """The warning quoted the whole name: a megabyte of text, which the window's banner froze on for most of
    a minute at start (it lays a word out at a cost growing faster than its length)."""
    path = layout_file(KEY.context)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = json.dumps({"schema_version": 1, "views": {view: {"positions": {node: "here"}}}})
    path.write_text(content)
    store = LayoutStore()
    assert store.load(KEY) == {}
    (warning,) = store.warnings
    assert len(warning) < 600, warning[:600]
    long = view if len(view) > len(node) else node
    assert f"'{long[:60]}\u2026{long[-20:]}' (1,000,000 characters)" in warning
    (aside,) = [p for p in path.parent.iterdir() if p.name.startswith(path.name + ".corrupt-")]
    assert aside.read_text() == content and str(aside) in warning  # kept whole, as it was


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
            LayoutStore.read_export(fifo)
        return str(info.value)

    assert str(fifo) in returns_without_blocking(attempt, fifo)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # the user's file is left alone
    assert not paths.layouts_dir().exists() or not any(paths.layouts_dir().iterdir())


def test_update_keeps_the_positions_of_nodes_not_named() -> None:
    store = LayoutStore()
    store.save(KEY, {"a": (1, 1), "b": (2, 2)})
    LayoutStore().update(KEY, {"b": (20, 20), "c": (3, 3)})  # another window moved b and placed c
    assert store.load(KEY) == {"a": (1.0, 1.0), "b": (20.0, 20.0), "c": (3.0, 3.0)}
    # where a layout (not the user) put nodes is saved only for nodes with no saved place
    store.update(KEY, {}, placed={"a": (9, 9), "d": (4, 4)})
    assert store.load(KEY) == {"a": (1.0, 1.0), "b": (20.0, 20.0), "c": (3.0, 3.0), "d": (4.0, 4.0)}
    store.save(KEY, {"z": (0, 0)})  # save replaces the view (an imported layout)
    assert store.load(KEY) == {"z": (0.0, 0.0)}


_SAVER = """
import sys
from meshdesk.store.layouts import LayoutKey, LayoutStore
store, who = LayoutStore(), sys.argv[1]
sys.stdin.readline()  # start together
for i in range(40):
    store.save(LayoutKey("kind-mesh", (f"{who}-{i}",), "app"), {"n": (i, i)})
"""


def test_two_processes_saving_at_once_keep_every_view(tmp_path: Path) -> None:
    """Each save reads the context's file, adds its view and writes it back; without a lock around
    that, one process's write dropped the views the other had added meanwhile."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", _SAVER, who], stdin=subprocess.PIPE, env=env)
             for who in ("one", "two")]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        p.stdin.flush()
    for p in procs:
        assert p.wait(timeout=60) == 0
    views = LayoutStore().views("kind-mesh")
    assert len(views) == 80


def test_reading_an_export_saves_nothing(tmp_path: Path) -> None:
    """An export names the view it came from, maybe a colleague's context: reading it must not replace
    the layout saved for that view here."""
    mine = LayoutKey("prod", ("shop",), "versionedApp")
    LayoutStore().save(mine, {"n": (1, 2)})
    export = tmp_path / "theirs.json"
    export.write_text(json.dumps({"kind": "meshdesk-layout", "schema_version": 1, "key": mine.to_json(),
                                  "positions": {"n": [500, 600]}}))
    key, positions = LayoutStore.read_export(export)
    assert (key, positions) == (mine, {"n": (500.0, 600.0)})
    assert LayoutStore().load(mine) == {"n": (1.0, 2.0)}


def test_layout_export_follows_the_umask_and_writes_through_a_symlink(tmp_path: Path) -> None:
    store = LayoutStore()
    store.save(KEY, {"a": (1, 2)})
    old = os.umask(0o077)
    try:
        store.export_layout(KEY, tmp_path / "private.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600
    target = tmp_path / "shared" / "layout.json"
    target.parent.mkdir()
    target.write_text("{}")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    store.export_layout(KEY, link)
    assert link.is_symlink() and json.loads(target.read_text())["positions"] == {"a": [1.0, 2.0]}
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # an existing file keeps its mode
    with pytest.raises(FileNotFoundError):  # a mistyped folder is not made
        store.export_layout(KEY, tmp_path / "no-such-folder" / "layout.json")


def test_a_layout_file_saved_with_a_byte_order_mark_is_read() -> None:
    store = LayoutStore()
    store.save(KEY, {"a": (1, 2)})
    path = layout_file(KEY.context)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    fresh = LayoutStore()
    assert fresh.load(KEY) == {"a": (1.0, 2.0)} and fresh.warnings == []


def test_a_lock_left_held_does_not_freeze_a_save(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process stopped (or hung) while holding the context's lock: a save waits a moment, then goes on
    without it rather than freeze the window that saves."""
    import fcntl

    from meshdesk import fileio

    monkeypatch.setattr(fileio, "LOCK_WAIT_S", 0.2)
    store = LayoutStore()
    store.save(KEY, {"a": (1, 2)})
    with open(f"{layout_file(KEY.context)}.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another open file: as another process would hold it
        store.update(KEY, {"b": (3, 4)})
    assert store.load(KEY) == {"a": (1.0, 2.0), "b": (3.0, 4.0)}


_CORRUPT = "{corrupt"


class _OtherProcessActsFirst(LayoutStore):
    """A store that found the context's file unusable and, just before moving it aside, lets
    ``meanwhile`` run: what another meshdesk started on the same damaged file does in that moment (it
    moved the file aside itself, and maybe saved a drag in a fresh one)."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        super().__init__()
        self._meanwhile: Callable[[], None] | None = meanwhile

    def _set_aside(self, *args: Any) -> Any:
        if self._meanwhile is not None:
            act, self._meanwhile = self._meanwhile, None
            act()
        return super()._set_aside(*args)


def _aside_files(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if ".corrupt-" in p.name)


def test_a_damaged_file_another_process_set_aside_first_is_no_failure_to_report() -> None:
    """Two windows starting on one damaged layout file: the second found it gone when it came to move
    it aside and told its user that moving it aside failed and layouts would not be saved (false)."""
    path = layout_file(KEY.context)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_CORRUPT)
    other = LayoutStore()
    late = _OtherProcessActsFirst(lambda: other.load(KEY))
    assert late.load(KEY) == {}
    assert late.warnings == []  # the other window said it (the file was kept aside, positions start fresh)
    assert len(other.warnings) == 1 and "kept as" in other.warnings[0]
    assert [p.read_text() for p in _aside_files(path)] == [_CORRUPT]
    late.update(KEY, {"n": (1.0, 2.0)})  # and saving works
    assert LayoutStore().load(KEY) == {"n": (1.0, 2.0)} and late.warnings == []


def test_a_good_file_saved_in_place_of_a_damaged_one_is_not_set_aside() -> None:
    """The second window read the damaged file; before it moved it aside, the first moved it aside and
    saved a drag in a fresh file, which the second then moved aside as 'corrupt': the drag was lost."""
    path = layout_file(KEY.context)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_CORRUPT)
    first = LayoutStore()

    def first_moves_it_aside_and_saves_a_drag() -> None:
        # as the other process's update does, whose lock this process cannot see from inside its own
        move_aside(path, "corrupt")
        first._write(KEY.context, {"views": {KEY.view_name: {"namespaces": list(KEY.namespaces),
                                                             "graph_type": KEY.graph_type,
                                                             "positions": {"productpage": (111.0, 222.0)},
                                                             "saved_at": ""}}})

    second = _OtherProcessActsFirst(first_moves_it_aside_and_saves_a_drag)
    assert second.load(KEY) == {"productpage": (111.0, 222.0)}
    assert second.warnings == []
    assert [p.read_text() for p in _aside_files(path)] == [_CORRUPT]  # only the damaged file is aside
    assert LayoutStore().load(KEY) == {"productpage": (111.0, 222.0)}


def test_a_folder_where_the_lock_file_goes_does_not_stop_saving() -> None:
    """The lock is a help against two saves at once, not a condition: with a folder named like the lock
    file, every save failed ('Is a directory: …east.json.lock')."""
    path = layout_file(KEY.context)
    Path(f"{path}.lock").mkdir(parents=True)
    store = LayoutStore()
    store.update(KEY, {"a": (1, 2)})
    assert LayoutStore().load(KEY) == {"a": (1.0, 2.0)} and store.warnings == []


def test_a_save_that_fails_names_the_layouts_folder(tmp_path: Path) -> None:
    """'Permission denied: …/east.json.lock' named a file the user never made; the folder they can fix
    is named instead (as root, checked in a child process without the capability that bypasses file
    permissions)."""
    folder = paths.layouts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    probe = ("from meshdesk.store.layouts import LayoutKey, LayoutStore\n"
             "try:\n    LayoutStore().update(LayoutKey('east', ('bookinfo',), 'app'), {'a': (1, 2)})\n"
             "except OSError as e:\n    print(type(e).__name__, e)\n")
    cmd = [sys.executable, "-c", probe]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            folder.chmod(0o755)
            pytest.skip("running as root and setpriv (util-linux) is absent to drop CAP_DAC_OVERRIDE")
        cmd = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *cmd]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        folder.chmod(0o755)
    assert out.stdout.strip() == f"LayoutSaveError the layouts folder {folder} cannot be written to (Permission denied)", \
        out.stderr
