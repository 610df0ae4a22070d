"""The settings store: round trip, 0600, bad files moved aside (never overwritten), migration from
schema 1, concurrent windows, and secrets kept out of repr and logs. Files live in MESHDESK_CONFIG_DIR
(a temp dir, from the autouse fixture in conftest)."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
from pathlib import Path

import pytest

from meshdesk.store import paths
from meshdesk.store.settings import SCHEMA_VERSION, ContextSettings, Settings, load_settings
from tests.file_helpers import returns_without_blocking

TOKEN = "prom-t0ken-9f8e7d6c5b4a"
PASSWORD = "pa55-w0rd-hunter2"


def _asides(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("settings.json.") and p.name != "settings.json.lock")


def test_defaults_and_loading_writes_nothing() -> None:
    s = load_settings()
    assert (s.read_only, s.theme, s.last_context, s.kubeconfig, s.warnings) == (False, "system", "", None, [])
    assert s.namespaces_for("kind") == []
    assert s.context_settings("kind") == ContextSettings()
    assert not paths.settings_file().exists()


def test_round_trip_with_0600_permissions() -> None:
    s = load_settings()
    s.read_only = True
    s.theme = "dark"
    s.last_context = "prod-eu"
    s.kubeconfig = "/home/u/.kube/other"
    s.set_namespaces("prod-eu", ["bookinfo", "istio-system", "bookinfo", ""])
    auth = {"type": "bearer", "token": TOKEN, "headers": {"X-Scope-OrgID": "tenant-1"},
            "ca_bundle": "/etc/ssl/prom-ca.pem", "insecure": False, "future_key": [1, 2]}
    s.set_context_settings("prod-eu", ContextSettings("https://prom.prod:9090", auth, 30, 1800, "workload"))
    s.save()

    path = paths.settings_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["schema_version"] == SCHEMA_VERSION
    fresh = load_settings()
    assert fresh.warnings == []
    assert (fresh.read_only, fresh.theme, fresh.last_context, fresh.kubeconfig) == (
        True, "dark", "prod-eu", "/home/u/.kube/other")
    assert fresh.namespaces_for("prod-eu") == ["bookinfo", "istio-system"]
    cs = fresh.context_settings("prod-eu")
    assert cs == ContextSettings("https://prom.prod:9090", auth, 30, 1800, "workload")
    assert fresh.context_names() == ["prod-eu"]


def test_namespaces_and_context_settings_are_independent() -> None:
    s = load_settings()
    s.set_namespaces("kind", ["a"])
    s.set_context_settings("kind", ContextSettings(prometheus_url="http://p:9090"))
    s.set_namespaces("kind", ["b"])
    copy = s.context_settings("kind")
    copy.prometheus_url = "changed outside"
    copy.prometheus_auth["token"] = "x"
    s.save()
    fresh = load_settings()
    assert fresh.namespaces_for("kind") == ["b"]
    assert fresh.context_settings("kind") == ContextSettings(prometheus_url="http://p:9090")


@pytest.mark.parametrize("content, reason", [
    (b'{"schema_version": 2, "general": {', "is not valid JSON at line 1"),
    (b"\xff\xfe garbage", "is not valid JSON"),
    (b'["a", "list"]', "is not a JSON object"),
    (b'{"schema_version": "two"}', "invalid schema_version"),
    pytest.param(b"[" * 100_000, "is not valid JSON (nested too deeply)", id="nested-100000-deep"),
    pytest.param(b'{"schema_version": 2, "general": {"theme": 1' + b"0" * 5000 + b"}}", "is not valid JSON",
                 id="number-of-5000-digits"),
])
def test_unreadable_file_is_moved_aside_with_a_warning(content: bytes, reason: str) -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    s = load_settings()
    assert len(s.warnings) == 1 and reason in s.warnings[0] and str(path) in s.warnings[0]
    assert s.theme == "system"
    (aside,) = _asides(path.parent)
    assert aside.name.startswith("settings.json.unreadable-")
    assert aside.read_bytes() == content  # the user's file is kept as it was
    assert aside.name in s.warnings[0]
    s.theme = "light"
    s.save()
    assert load_settings().theme == "light"
    assert _asides(path.parent) == [aside]


def test_newer_version_is_moved_aside_not_overwritten() -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    newer = {"schema_version": SCHEMA_VERSION + 1, "general": {"theme": "dark"}, "whatever": {}}
    path.write_text(json.dumps(newer))
    s = load_settings()
    assert "written by a newer meshdesk" in s.warnings[0]
    (aside,) = _asides(path.parent)
    assert aside.name.startswith("settings.json.newer-")
    assert json.loads(aside.read_text()) == newer


def test_schema_1_is_migrated() -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    v1 = {"schema_version": 1, "read_only": True, "theme": "light", "last_context": "kind",
          "namespaces": {"kind": ["bookinfo"], "prod": ["shop", "pay"]},
          "prometheus": {"prod": {"url": "https://prom:9090", "auth": {"type": "basic", "username": "u",
                                                                     "password": PASSWORD}}}}
    path.write_text(json.dumps(v1))
    s = load_settings()
    assert s.warnings == []
    assert (s.read_only, s.theme, s.last_context) == (True, "light", "kind")
    assert s.namespaces_for("kind") == ["bookinfo"] and s.namespaces_for("prod") == ["shop", "pay"]
    prod = s.context_settings("prod")
    assert prod.prometheus_url == "https://prom:9090" and prod.prometheus_auth["password"] == PASSWORD
    s.save()
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION
    assert load_settings().context_settings("prod") == prod
    # a file from before versioning (no number) is read as schema 1
    path.write_text(json.dumps({k: v for k, v in v1.items() if k != "schema_version"}))
    assert load_settings().namespaces_for("prod") == ["shop", "pay"]


def test_bad_values_are_dropped_one_by_one(caplog: pytest.LogCaptureFixture) -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "schema_version": SCHEMA_VERSION,
        "general": {"read_only": "yes", "theme": "purple", "last_context": "kind", "window_state": 42,
                    "window_geometry": "AdnQywAD"},
        "contexts": {
            "kind": {"namespaces": "bookinfo", "prometheus_url": "http://p:9090", "refresh_interval": -5,
                     "duration": 600, "prometheus_auth": {"type": "bearer", "token": 12345678901234}},
            "other": ["not", "an", "object"],
        }}))
    with caplog.at_level(logging.WARNING):
        s = load_settings()
    assert (s.read_only, s.theme, s.last_context) == (False, "system", "kind")
    assert (s.window_geometry, s.window_state) == ("AdnQywAD", "")  # the window's arrangement: text only
    cs = s.context_settings("kind")
    assert (cs.prometheus_url, cs.duration, cs.refresh_interval) == ("http://p:9090", 600, None)
    assert cs.prometheus_auth == {"type": "bearer"}
    text = " | ".join(s.warnings)
    for part in ("read_only", "theme 'purple'", "window_state", "namespaces", "refresh_interval -5", "prometheus_auth.token",
                 "context 'other'"):
        assert part in text
    assert "12345678901234" not in text and "12345678901234" not in caplog.text
    # a file with some bad values is not moved aside; a copy keeps what the next save leaves out
    (kept,) = _asides(path.parent)
    assert kept.name.endswith(".bak") and str(kept) in s.warnings[-1]
    assert kept.read_bytes() == path.read_bytes()


def test_a_megabyte_long_name_in_the_file_is_quoted_by_its_start_and_end(caplog: pytest.LogCaptureFixture) -> None:
    """Each warning about a context a megabyte long quoted the whole name (the banner froze on it for most of a
    minute at start, and each line of the log was a megabyte); a header's or an unknown key's name alike."""
    name, header, key = "c" * 1_000_000, "H" * 1_000_000, "k" * 1_000_000
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "schema_version": SCHEMA_VERSION, "general": {"theme": "dark"},
        "contexts": {name: {"duration": -1, "namespaces": ["shop"], key: _deep(40),
                            "prometheus_auth": {"type": "bearer", "headers": {header: ["not text"]}}}}}))
    with caplog.at_level(logging.WARNING):
        s = load_settings()
    assert s.theme == "dark" and s.namespaces_for(name) == ["shop"]  # the good parts are kept
    said = [w for w in s.warnings if "as it was is kept" not in w]
    assert len(said) == 3 and all(len(w) < 400 for w in said), [w[:400] for w in said]
    quoted = f"context '{'c' * 60}\u2026{'c' * 20}' (1,000,000 characters)"
    assert all(w.startswith(f"settings for {quoted}: ") for w in said)
    assert any(w.endswith("duration -1 is not 1 to 2592000 seconds; dropped") for w in said)
    assert any(f"prometheus_auth.headers.{'H' * 60}\u2026{'H' * 20} (1,000,000 characters) is not text" in w
               for w in said)
    assert any(f": {'k' * 60}\u2026{'k' * 20} (1,000,000 characters) is nested too deeply" in w for w in said)
    assert max(len(r.getMessage()) for r in caplog.records) < 400
    (kept,) = _asides(path.parent)
    assert kept.read_bytes() == path.read_bytes()  # the file, as it was, is kept before the next save


def test_names_no_namespace_can_have_are_left_out_and_the_others_kept() -> None:
    """A namespace a megabyte long (or with spaces, capitals) was kept as chosen: the window froze for minutes
    laying it out. Kubernetes names a namespace with a DNS label; anything else is left out, and said."""
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "contexts": {"prod": {
        "namespaces": ["shop", "n" * 1_000_000, "Bad NS", "istio-system", "x" * 64]}}}))
    s = load_settings()
    assert s.namespaces_for("prod") == ["shop", "istio-system"]
    assert s.warnings[0] == (f"settings for context 'prod': namespaces holds '{'n' * 60}\u2026{'n' * 20}' "
                             "(1,000,000 characters) and 2 more, which is no namespace name (up to 63 lower-case "
                             "letters, digits and '-'); dropped, the others kept")
    (kept,) = _asides(path.parent)
    assert kept.read_bytes() == path.read_bytes()
    # one given on the command line (`meshdesk -n "Bad NS"`) is not kept to be said dropped at the next start
    s.set_namespaces("prod", ["shop", "Bad NS", "n" * 64])
    s.save()
    fresh = load_settings()
    assert fresh.namespaces_for("prod") == ["shop"] and fresh.warnings == []


def _deep(levels: int) -> object:
    value: object = []
    for _ in range(levels):
        value = [value]
    return value


def test_secrets_never_in_repr_str_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    s = load_settings()
    auth = {"type": "basic", "username": "viewer", "password": PASSWORD,
            "headers": {"Authorization": f"Bearer {TOKEN}"}}
    s.set_context_settings("prod", ContextSettings("https://p", auth))
    s.set_context_settings("dev", ContextSettings("https://d", {"type": "bearer", "token": TOKEN}))
    s.set_context_settings("proxy", ContextSettings(f"https://q/prom?token={TOKEN}"))  # a proxy's token
    s.save()
    fresh = load_settings()
    shown = [repr(fresh), str(fresh), repr(fresh.context_settings("prod")), str(fresh.context_settings("dev")),
             repr(fresh.context_settings("proxy")), caplog.text]
    for text in shown:
        assert PASSWORD not in text and TOKEN not in text
    assert "viewer" in repr(fresh) and "https://d" in repr(fresh)  # the rest is still visible


def test_two_windows_do_not_undo_each_other() -> None:
    first, second = load_settings(), load_settings()
    first.set_namespaces("kind", ["bookinfo"])
    first.save()
    second.theme = "dark"
    second.set_context_settings("prod", ContextSettings(prometheus_url="http://prom:9090"))
    second.save()
    fresh = load_settings()
    assert fresh.namespaces_for("kind") == ["bookinfo"]
    assert fresh.theme == "dark"
    assert fresh.context_settings("prod").prometheus_url == "http://prom:9090"
    assert second.namespaces_for("kind") == ["bookinfo"]  # the saver sees the other window's change


def test_save_failure_raises_and_keeps_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the config folder should be")
    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(blocker / "meshdesk"))
    s = load_settings()
    assert s.warnings == []
    s.theme = "dark"
    with pytest.raises(OSError):
        s.save()
    assert s.theme == "dark"
    assert blocker.read_text() == "a file where the config folder should be"


def test_file_that_cannot_be_read_or_moved_is_never_overwritten() -> None:
    path = paths.settings_file()
    path.mkdir(parents=True)  # a folder where the file should be: cannot be read
    (path / "keep.txt").write_text("user data")
    s = load_settings()
    assert len(s.warnings) == 1 and "cannot be read" in s.warnings[0] and "not be overwritten" in s.warnings[0]
    s.theme = "dark"
    with pytest.raises(PermissionError):
        s.save()
    assert (path / "keep.txt").read_text() == "user data"


def test_a_save_over_a_settings_file_that_cannot_be_read_says_why(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A settings file that cannot be read (no permission; here a link to itself) is left alone, as the
    warning at load says ("cannot be read (...); ... will not be overwritten"); a save then said "the settings
    file ... is unusable and could not be moved aside", which it was never tried to be, and not why."""
    from meshdesk.store.settings import save_problem

    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path))
    path = tmp_path / "settings.json"
    path.symlink_to(path)
    s = load_settings(log_problems=False)
    assert s.warnings == [f"settings file {path} cannot be read (Too many levels of symbolic links); defaults are "
                          "used and the file will not be overwritten"]
    s.theme = "dark"
    with pytest.raises(PermissionError) as refused:
        s.save()
    assert save_problem(s.path, refused.value) == (f"settings file {path} cannot be read (Too many levels of symbolic "
                                                   "links), so it is not overwritten")
    assert path.is_symlink() and os.readlink(path) == str(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]


def test_why_a_save_failed_is_said_in_words_naming_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not "[Errno 17] File exists: '/x'" or "[Errno 13] the settings file there is unusable ...": which
    path, and what is wrong with it."""
    from meshdesk.store.settings import save_problem

    folder = tmp_path / "plain-file"
    folder.write_text("not a folder")
    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(folder))
    s = load_settings()
    s.theme = "dark"
    with pytest.raises(OSError) as raised:
        s.save()
    assert save_problem(s.path, raised.value) == f"the settings folder {folder} is a file, not a folder"
    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / "cfg"))
    (tmp_path / "cfg" / "settings.json").mkdir(parents=True)
    s = load_settings()
    s.theme = "dark"
    with pytest.raises(PermissionError) as blocked:
        s.save()
    assert save_problem(s.path, blocked.value) == f"the settings file {s.path} is a folder, not a file"
    assert "there" not in str(blocked.value.strerror) and str(s.path) in str(blocked.value.strerror)
    denied = PermissionError(13, "Permission denied", str(s.path))
    (tmp_path / "cfg" / "settings.json").rmdir()
    assert save_problem(s.path, denied) == f"you may not write in the settings folder {tmp_path / 'cfg'}"
    # a read-only settings folder fails first at the lock file beside settings.json, which it cannot make: the
    # folder is what is wrong (it said "the settings lock file .../settings.json.lock cannot be opened
    # (Permission denied)", a file the user never heard of)
    for errno_, said in ((13, f"you may not write in the settings folder {tmp_path / 'cfg'}"),
                         (30, f"the settings folder {tmp_path / 'cfg'} is on a read-only file system")):
        not_made = OSError(errno_, os.strerror(errno_), str(tmp_path / "cfg" / "settings.json.lock"))
        assert save_problem(s.path, not_made) == said
    # a folder where the lock file beside it goes: said as the settings file being a folder, which it is not
    lock = tmp_path / "cfg" / "settings.json.lock"
    lock.mkdir()
    s = load_settings()
    s.theme = "dark"
    with pytest.raises(OSError) as raised:
        s.save()
    assert save_problem(s.path, raised.value) == (f"the settings lock file {lock} is a folder, not a file (meshdesk "
                                                  "makes it; remove the folder)")
    assert not s.path.exists() and lock.is_dir()


def test_invalid_values_are_refused_at_once() -> None:
    s = load_settings()
    with pytest.raises(ValueError, match="theme must be one of"):
        s.theme = "neon"
    with pytest.raises(ValueError, match="duration"):
        s.set_context_settings("x", ContextSettings(duration=0))
    with pytest.raises(ValueError, match="refresh_interval"):
        s.set_context_settings("x", ContextSettings(refresh_interval=-7))
    assert s.context_names() == []


def test_config_dir_override_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / "elsewhere"))
    s = load_settings()
    s.last_context = "kind"
    s.save()
    assert (tmp_path / "elsewhere" / "settings.json").is_file()
    # no temp file left behind (the lock file that keeps two savers apart stays)
    assert sorted(os.listdir(tmp_path / "elsewhere")) == ["settings.json", "settings.json.lock"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipe_instead_of_the_file_is_moved_aside_without_hanging() -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    s: Settings = returns_without_blocking(load_settings, path)
    assert len(s.warnings) == 1
    assert str(path) in s.warnings[0] and "named pipe" in s.warnings[0] and "not a regular file" in s.warnings[0]
    (aside,) = _asides(path.parent)
    assert aside.name.startswith("settings.json.unreadable-") and aside.name in s.warnings[0]
    assert stat.S_ISFIFO(aside.lstat().st_mode)  # kept as it was, not replaced
    assert s.theme == "system"
    s.theme = "dark"
    s.save()  # a fresh, regular file
    assert path.is_file() and load_settings().theme == "dark"
    assert _asides(path.parent) == [aside]


def test_deeply_nested_unknown_auth_value_is_dropped_and_the_rest_kept(caplog: pytest.LogCaptureFixture) -> None:
    """Unknown prometheus_auth keys are kept for a newer meshdesk, but one nested hundreds deep (json
    reads it; copying or writing it would exhaust the stack) is dropped with a warning."""
    depth = max(500, sys.getrecursionlimit() // 2)
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    auth = {"type": "bearer", "token": TOKEN, "future": [1, 2], "junk": "JUNK"}
    doc = {"schema_version": 2, "general": {"theme": "dark"},
           "contexts": {"prod": {"prometheus_url": "https://p", "prometheus_auth": auth}}}
    path.write_text(json.dumps(doc).replace('"JUNK"', "[" * depth + "]" * depth))
    original = path.read_bytes()
    s = load_settings()
    assert len(s.warnings) == 2 and "prometheus_auth.junk is nested too deeply" in s.warnings[0]
    cs = s.context_settings("prod")
    assert cs.prometheus_url == "https://p"
    assert cs.prometheus_auth == {"type": "bearer", "token": TOKEN, "future": [1, 2]}
    assert s.theme == "dark"
    s.read_only = True
    s.save()
    fresh = load_settings()
    assert fresh.warnings == [] and fresh.read_only
    assert fresh.context_settings("prod").prometheus_auth == cs.prometheus_auth
    assert TOKEN not in caplog.text
    # one bad value does not set the whole file aside; a copy of it as it was is kept
    (kept,) = _asides(path.parent)
    assert str(kept) in s.warnings[1] and kept.read_bytes() == original


def test_a_file_saved_with_a_byte_order_mark_is_read() -> None:
    """Windows editors save UTF-8 with a BOM: a hand-edited settings file is read, not moved aside."""
    s = Settings()
    s.theme = "dark"
    s.save()
    path = paths.settings_file()
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    fresh = load_settings()
    assert fresh.warnings == [] and fresh.theme == "dark"
    assert [p.name for p in path.parent.iterdir() if p.name not in (path.name, f"{path.name}.lock")
            and "settings" in p.name] == []


_RACER = """
import sys
from meshdesk.store.settings import ContextSettings, load_settings
name = sys.argv[1]
for i in range(1, 61):
    s = load_settings()
    s.set_context_settings(name, ContextSettings(refresh_interval=i))
    s.save()
"""


def test_processes_saving_at_once_lose_none_of_each_others_changes(tmp_path: Path) -> None:
    """Each process re-read the file, then wrote it: one that re-read just before another wrote put
    the other's older value back (the last saves of 'a' read 58 while 'a' had saved 60)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "MESHDESK_CONFIG_DIR": str(paths.config_dir())}
    procs = [subprocess.Popen([sys.executable, "-c", _RACER, who], cwd=root, env=env) for who in ("a", "b", "c")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    fresh = load_settings()
    assert {n: fresh.context_settings(n).refresh_interval for n in "abc"} == {"a": 60, "b": 60, "c": 60}


def _write(doc: object) -> Path:
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


@pytest.mark.parametrize("general, context, said", [
    ({"window_geometry": "é"}, {}, "window_geometry is not the base64 text"),
    ({"window_state": "AAAA/wAA!!"}, {}, "window_state is not the base64 text"),
    ({"window_geometry": "A" * 100_000}, {}, "window_geometry is not the base64 text"),
    ({}, {"refresh_interval": 3_000_000}, "refresh_interval 3000000 is not -1 (pause), 0 (manual) or 1 to 86400"),
    ({}, {"refresh_interval": 10**23}, "refresh_interval 100000000000000000000000 is not -1"),
    ({}, {"refresh_interval": 1e300}, "refresh_interval 1e+300 is not -1"),
    ({}, {"duration": 10**23}, "duration 100000000000000000000000 is not 1 to 2592000 seconds"),
    ({}, {"duration": 0}, "duration 0 is not 1 to 2592000 seconds"),
    ({}, {"duration": 90.5}, "duration 90.5 is not a whole number of seconds"),
    ({"kubeconfig": "/home/u/.kube/config\u0000x"}, {}, "kubeconfig is not a file name"),
])
def test_values_the_window_cannot_take_are_dropped_and_the_file_kept(general: dict, context: dict, said: str) -> None:
    """These stopped the app on every start (Qt's timers and combos take 32/64-bit ints; the window's
    geometry is decoded as ASCII base64)."""
    path = _write({"schema_version": 2, "general": {"theme": "dark", **general},
                   "contexts": {"kind": {"graph_type": "workload", **context}}})
    original = path.read_bytes()
    s = load_settings()
    assert said in s.warnings[0] and "dropped" in s.warnings[0]
    assert (s.window_geometry, s.window_state, s.kubeconfig) == ("", "", None)
    cs = s.context_settings("kind")
    assert (cs.refresh_interval, cs.duration, cs.graph_type, s.theme) == (None, None, "workload", "dark")
    (kept,) = _asides(path.parent)
    assert kept.read_bytes() == original and str(kept) in s.warnings[-1]
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # it may hold a token
    assert path.read_bytes() == original  # loading alone changes nothing


def test_a_graph_type_the_window_does_not_have_is_said_and_dropped() -> None:
    """It was kept, and the window passed it over without a word, opening another graph than the file says."""
    path = _write({"schema_version": 2, "contexts": {"kind": {"graph_type": "versionedapp", "duration": 600},
                                                     "prod": {"graph_type": "service"}}})
    s = load_settings()
    assert s.warnings[0] == ("settings for context 'kind': graph_type 'versionedapp' is none of app, versionedApp, "
                             "workload, service; dropped")
    assert (s.context_settings("kind").graph_type, s.context_settings("kind").duration) == ("", 600)
    assert s.context_settings("prod").graph_type == "service"
    (kept,) = _asides(path.parent)
    assert str(kept) in s.warnings[-1]


def test_an_address_a_megabyte_long_is_said_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    """A Prometheus (or tracing) address a megabyte long was kept, and named whole in every failed refresh's
    message and log line: a megabyte of log every 15 seconds. No address is that long: it is dropped, said
    without being shown (it may carry a token), and the rest kept."""
    url = f"http://prom:9090/?access_token={TOKEN}&pad=" + "p" * 1_000_000
    path = _write({"schema_version": 2, "contexts": {"kind": {"prometheus_url": url, "tracing_url": url,
                                                              "duration": 600}}})
    with caplog.at_level(logging.WARNING):
        s = load_settings()
    cs = s.context_settings("kind")
    assert (cs.prometheus_url, cs.tracing_url, cs.duration) == ("", "", 600)
    for name, said in zip(("prometheus_url", "tracing_url"), s.warnings[:2], strict=True):
        assert said == (f"settings for context 'kind': {name} is 1,000,059 characters long, longer than any address "
                        "(16,384 at most); dropped")
    assert TOKEN not in caplog.text and max(len(r.getMessage()) for r in caplog.records) < 400
    (kept,) = _asides(path.parent)
    assert kept.read_bytes() == path.read_bytes()
    short = f"http://prom:9090/?access_token={TOKEN}&pad=" + "p" * 10_000  # a long token is no reason
    _write({"schema_version": 2, "contexts": {"kind": {"prometheus_url": short}}})
    assert load_settings().context_settings("kind").prometheus_url == short


def test_whole_numbers_written_as_decimals_are_taken() -> None:
    _write({"schema_version": 2, "contexts": {"kind": {"refresh_interval": 30.0, "duration": 600.0}}})
    s = load_settings()
    assert s.warnings == []
    cs = s.context_settings("kind")
    assert (cs.refresh_interval, cs.duration) == (30, 600)


def test_keys_this_meshdesk_does_not_know_survive_a_save() -> None:
    """A newer meshdesk's keys (or ones added by hand) were erased by the next save, even of a context
    switch, without a word."""
    doc = {"schema_version": 2, "sync": {"server": "https://s"},
           "general": {"theme": "dark", "future_option": {"x": 1}},
           "contexts": {"prod": {"namespaces": ["bookinfo"], "refresh_interval": 15, "future_ctx_key": [1, 2]},
                        "lab": {"only_unknown": True}}}
    path = _write(doc)
    s = load_settings()
    assert s.warnings == []
    s.last_context = "prod"  # what the app saves on every context switch
    s.set_context_settings("prod", ContextSettings(refresh_interval=60))
    s.save()
    back = json.loads(path.read_text())
    assert back["sync"] == {"server": "https://s"}
    assert back["general"]["future_option"] == {"x": 1} and back["general"]["last_context"] == "prod"
    assert back["contexts"]["prod"]["future_ctx_key"] == [1, 2] and back["contexts"]["prod"]["refresh_interval"] == 60
    assert back["contexts"]["lab"] == {"only_unknown": True}
    assert _asides(path.parent) == []  # nothing was dropped: no copy needed
    assert load_settings().warnings == []


def test_values_of_the_wrong_type_are_kept_in_a_copy_before_a_save_leaves_them_out(
        caplog: pytest.LogCaptureFixture) -> None:
    text = json.dumps({"schema_version": 2, "general": {"theme": "dark", "read_only": "yes"},
                       "contexts": {"prod": {"prometheus_url": "https://prom.example",
                                             "prometheus_auth": {"type": "basic", "username": "admin",
                                                                 "password": 12345678,
                                                                 "headers": {"X-Org": "1", "X-Key": None}}}}},
                      indent=1)
    path = _write(text)
    with caplog.at_level(logging.WARNING):
        s = load_settings()
    said = " | ".join(s.warnings)
    assert "read_only 'yes'" in said and "prometheus_auth.password has the wrong type" in said
    assert "prometheus_auth.headers.X-Key is not text" in said
    (kept,) = _asides(path.parent)
    assert f"as it was is kept as {kept}" in s.warnings[-1]
    assert "12345678" not in said and "12345678" not in caplog.text
    s.last_context = "prod"
    s.save()
    assert kept.read_text(encoding="utf-8") == text  # what the save left out is still there
    assert "password" not in json.loads(path.read_text())["contexts"]["prod"]["prometheus_auth"]
    # starting again with that bad file (nothing saved meanwhile) does not pile up copies
    path.write_text(text, encoding="utf-8")
    again = load_settings()
    assert _asides(path.parent) == [kept] and str(kept) in again.warnings[-1]


def test_a_copy_never_replaces_an_earlier_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(time, "strftime", lambda fmt, *a: "20260101-000000")
    path = _write({"schema_version": 2, "general": {"theme": "purple"}})
    earlier = path.parent / "settings.json.20260101-000000.bak"
    earlier.write_text("an earlier copy")
    s = load_settings()
    (kept,) = [p for p in _asides(path.parent) if p != earlier]
    assert earlier.read_text() == "an earlier copy"
    assert json.loads(kept.read_text())["general"]["theme"] == "purple" and str(kept) in s.warnings[-1]


def test_when_no_copy_can_be_kept_the_file_is_not_overwritten(monkeypatch: pytest.MonkeyPatch) -> None:
    from meshdesk.store import settings as store

    def no_room(*_a: object, **_kw: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "keep_copy", no_room)
    path = _write({"schema_version": 2, "general": {"theme": "dark"}, "contexts": {"kind": {"duration": -5}}})
    original = path.read_bytes()
    s = load_settings()
    assert s.theme == "dark"  # the usable values are still used
    assert "no copy of it could be kept (No space left on device)" in s.warnings[-1]
    assert "will not be overwritten" in s.warnings[-1]
    s.last_context = "kind"
    with pytest.raises(PermissionError):
        s.save()
    assert path.read_bytes() == original


def test_schema_1_values_in_other_shapes_are_said_and_kept_in_a_copy() -> None:
    v1 = {"theme": "dark", "namespaces": ["bookinfo", "reviews"], "window_geometry": "AdnQywAD",
          "prometheus": {"prod": "https://prom.example:9090", "dev": 9090,
                         "lab": {"url": "http://lab:9090", "timeout": 5}}}
    path = _write(v1)
    original = path.read_bytes()
    s = load_settings()
    said = " | ".join(s.warnings)
    assert "(schema 1): namespaces is not an object of context: [names]" in said
    assert "(schema 1): prometheus.dev is not a URL" in said
    assert s.context_settings("prod").prometheus_url == "https://prom.example:9090"  # a URL alone is a URL
    assert s.context_settings("lab").prometheus_url == "http://lab:9090"
    assert (s.theme, s.window_geometry) == ("dark", "AdnQywAD")
    (kept,) = _asides(path.parent)
    assert kept.read_bytes() == original and str(kept) in s.warnings[-1]
    s.last_context = "prod"
    s.save()
    back = json.loads(path.read_text())
    assert back["schema_version"] == SCHEMA_VERSION and back["contexts"]["lab"]["timeout"] == 5


def test_a_schema_2_file_without_its_number_is_not_read_as_schema_1() -> None:
    _write({"general": {"theme": "dark"}, "contexts": {"prod": {"namespaces": ["shop"]}}})
    s = load_settings()
    assert s.warnings == [] and s.theme == "dark" and s.namespaces_for("prod") == ["shop"]


def test_values_qt_cannot_take_are_refused_when_set() -> None:
    s = load_settings()
    with pytest.raises(ValueError, match="refresh_interval 3000000"):
        s.set_context_settings("x", ContextSettings(refresh_interval=3_000_000))
    with pytest.raises(ValueError, match="duration"):
        s.set_context_settings("x", ContextSettings(duration=10**23))
    with pytest.raises(ValueError, match="base64"):
        s.window_geometry = "é"
    s.window_geometry = "AdnQywAD"
    assert s.context_names() == [] and s.window_geometry == "AdnQywAD"


def test_the_app_starts_with_a_settings_file_that_stopped_it(tmp_path: Path) -> None:
    """Each of these values stopped ``meshdesk`` at start, every time ("QThread destroyed ... Aborted")."""
    import subprocess

    path = _write({"schema_version": 2, "general": {"window_geometry": "é", "last_context": "demo"},
                   "contexts": {"demo": {"refresh_interval": 99999999999999999999999}}})
    env = {**os.environ, "MESHDESK_CONFIG_DIR": str(path.parent), "QT_QPA_PLATFORM": "offscreen",
           "MESHDESK_EXIT_AFTER_SHOW": "1", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "meshdesk", "--demo"], env=env, cwd=Path(__file__).parent.parent,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "window shown" in out.stderr and "Traceback" not in out.stderr
    assert "window_geometry is not the base64 text" in out.stderr and "refresh_interval 9999" in out.stderr
    assert len(_asides(path.parent)) == 1


def test_the_validation_codes_left_out_are_kialis_by_default_kept_and_checked() -> None:
    """Kiali's ``validations.ignore``: KIA1301 by default; a saved list comes back upper-cased, once each;
    what is no code is refused when set and dropped (with a warning naming it) when read."""
    s = load_settings()
    assert s.ignored_checks == ("KIA1301",)
    s.ignored_checks = ["kia0601", "MDK1209", "KIA0601"]
    s.save()
    assert load_settings().ignored_checks == ("KIA0601", "MDK1209")
    with pytest.raises(ValueError, match="'KIA13' is not a check code"):
        s.ignored_checks = ["KIA13"]
    s.ignored_checks = []
    s.save()
    assert load_settings().ignored_checks == ()  # every check made, KIA1301 too

    path = paths.settings_file()
    doc = json.loads(path.read_text())
    doc["general"]["ignored_checks"] = ["KIA0601", "all of them"]
    path.write_text(json.dumps(doc))
    bad = load_settings()
    assert bad.ignored_checks == ("KIA1301",)
    assert bad.warnings[0] == ("settings: ignored_checks holds 'all of them', which is no check code (three letters "
                               "and four digits, such as KIA1301); dropped (KIA1301 is left out, as in Kiali)")
    assert _asides(path.parent), "the file as it was is kept beside"


def test_tracing_url_and_auth_round_trip_masked_and_bad_values_dropped(caplog: pytest.LogCaptureFixture) -> None:
    """The tracing backend's address and credentials per context, kept as Prometheus's are: a round trip,
    secrets out of repr, a value of the wrong type dropped with a warning that never shows it, and a file
    without them (written before they existed) still loads, and is written back without them."""
    s = load_settings()
    auth = {"type": "basic", "username": "admin", "password": PASSWORD, "headers": {"X-Org": TOKEN}}
    s.set_context_settings("prod", ContextSettings(tracing_url="https://jaeger.prod/jaeger", tracing_auth=auth))
    s.set_context_settings("old", ContextSettings(prometheus_url="http://p:9090"))
    s.save()
    doc = json.loads(paths.settings_file().read_text())
    assert doc["contexts"]["prod"]["tracing_url"] == "https://jaeger.prod/jaeger"
    assert "tracing_url" not in doc["contexts"]["old"] and "tracing_auth" not in doc["contexts"]["old"]
    fresh = load_settings()
    cs = fresh.context_settings("prod")
    assert (cs.tracing_url, cs.tracing_auth) == ("https://jaeger.prod/jaeger", auth)
    assert fresh.context_settings("old") == ContextSettings(prometheus_url="http://p:9090")
    shown = repr(cs) + repr(fresh)
    assert PASSWORD not in shown and TOKEN not in shown and "tracing_url='https://jaeger.prod/jaeger'" in shown

    doc["contexts"]["prod"]["tracing_url"] = 16686
    doc["contexts"]["prod"]["tracing_auth"] = {"type": "bearer", "token": 12345678901234,
                                               "headers": {"X-Key": ["x"]}}
    doc["contexts"]["old"]["tracing_auth"] = "secret-in-a-string"
    paths.settings_file().write_text(json.dumps(doc))
    with caplog.at_level(logging.WARNING):
        bad = load_settings()
    said = " | ".join(bad.warnings)
    for part in ("tracing_url is not text", "tracing_auth.token has the wrong type",
                 "tracing_auth.headers.X-Key is not text", "tracing_auth is not an object"):
        assert part in said
    assert "12345678901234" not in said + caplog.text and "secret-in-a-string" not in said + caplog.text
    assert bad.context_settings("prod").tracing_url == ""
    assert bad.context_settings("prod").tracing_auth == {"type": "bearer", "headers": {}}


def test_the_tracing_api_round_trips_and_a_bad_one_is_auto(caplog: pytest.LogCaptureFixture) -> None:
    s = load_settings()
    s.set_context_settings("prod", ContextSettings(tracing_api="tempo"))
    s.set_context_settings("old", ContextSettings(prometheus_url="http://p:9090"))
    s.save()
    doc = json.loads(paths.settings_file().read_text())
    assert doc["contexts"]["prod"]["tracing_api"] == "tempo" and "tracing_api" not in doc["contexts"]["old"]
    assert load_settings().context_settings("prod").tracing_api == "tempo"
    doc["contexts"]["prod"]["tracing_api"] = "zipkin"
    doc["contexts"]["old"]["tracing_api"] = "auto"
    paths.settings_file().write_text(json.dumps(doc))
    bad = load_settings()
    assert "tracing_api 'zipkin' is none of auto, jaeger, tempo" in " | ".join(bad.warnings)
    assert bad.context_settings("prod").tracing_api == "" and bad.context_settings("old").tracing_api == ""


def test_an_entry_for_no_context_is_not_kept() -> None:
    """Earlier versions kept the view choices made with no kubeconfig found under a context named "":
    it is not read back, and nothing is kept for "" any more."""
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "contexts": {
        "": {"namespaces": ["shop"], "graph_type": "service"}, "kind": {"namespaces": ["a"]}}}))
    s = load_settings()
    assert s.context_names() == ["kind"] and s.warnings == []
    s.set_namespaces("", ["x"])
    s.set_context_settings("", ContextSettings(prometheus_url="http://p:9090"))
    s.save()
    assert list(json.loads(path.read_text())["contexts"]) == ["kind"]


def test_health_tolerances_are_kept_and_what_cannot_be_used_is_dropped_saying_why() -> None:
    """Kiali's health_config.rate as a general setting: saved and read back; a pattern that is no regular
    expression is refused when set, and dropped with a warning (the file kept beside) when read."""
    rates = [{"namespace": "shop", "kind": "service", "name": "reviews",
              "tolerance": [{"code": "5XX", "degraded": 5, "failure": 20, "protocol": "http"}]}]
    s = load_settings()
    assert s.health_rates == ()
    s.health_rates = rates
    s.save()
    assert load_settings().health_rates[0]["tolerance"][0]["failure"] == 20.0
    with pytest.raises(ValueError, match=r"rate\[0\].name 'rev\(' is not a regular expression"):
        s.health_rates = [{"name": "rev(", "tolerance": [{"code": "5XX"}]}]

    path = paths.settings_file()
    doc = json.loads(path.read_text())
    doc["general"]["health_rates"] = [{"name": "rev(", "tolerance": [{"code": "5XX"}]}]
    path.write_text(json.dumps(doc))
    bad = load_settings()
    assert bad.health_rates == ()
    assert bad.warnings[0].startswith("settings: health_rates rate[0].name 'rev(' is not a regular expression")
    assert bad.warnings[0].endswith("dropped (nodes are judged by Kiali's default tolerances)")
    assert _asides(path.parent), "the file as it was is kept beside"


def test_a_context_keeps_health_tolerances_of_its_own() -> None:
    """Each cluster's Kiali has its own health_config.rate: a context's own tolerances judge it, the
    general ones the contexts without their own; [] is Kiali's defaults there whatever the general ones
    say. A bad entry in the file is dropped with a warning naming the context (the general ones then
    judge it), the file kept beside; the other contexts' are untouched."""
    general = [{"name": "reviews", "tolerance": [{"code": "5XX", "failure": 20}]}]
    own = [{"namespace": "shop", "kind": "app", "name": ".*", "tolerance": [{"code": "4XX", "failure": 5}]}]
    s = load_settings()
    s.health_rates = general
    s.set_context_settings("prod", ContextSettings(health_rates=tuple(own)))
    s.set_context_settings("lab", ContextSettings(health_rates=()))
    s.set_context_settings("stage", ContextSettings(prometheus_url="http://prom:9090"))
    with pytest.raises(ValueError, match=r"health_rates: rate\[0\].name 'rev\(' is not a regular expression"):
        s.set_context_settings("dev", ContextSettings(health_rates=({"name": "rev(", "tolerance": [{"code": "5XX"}]},)))
    s.save()
    again = load_settings()
    assert [r["tolerance"][0]["code"] for r in again.health_rates_for("prod")] == ["4XX"]
    assert again.health_rates_for("lab") == ()
    assert [r["name"] for r in again.health_rates_for("stage")] == ["reviews"]
    assert [r["name"] for r in again.health_rates_for("never-seen")] == ["reviews"]
    assert again.context_settings("stage").health_rates is None
    assert "health_rates" not in json.loads(paths.settings_file().read_text())["contexts"]["stage"]

    path = paths.settings_file()
    doc = json.loads(path.read_text())
    doc["contexts"]["prod"]["health_rates"] = [{"name": "rev(", "tolerance": [{"code": "5XX"}]}]
    path.write_text(json.dumps(doc))
    bad = load_settings()
    assert [r["name"] for r in bad.health_rates_for("prod")] == ["reviews"]
    assert bad.health_rates_for("lab") == ()
    assert bad.warnings[0].startswith("settings for context 'prod': health_rates rate[0].name 'rev(' is not a "
                                      "regular expression"), bad.warnings
    assert bad.warnings[0].endswith("dropped (the general health tolerances judge this context's nodes)")
    assert _asides(path.parent), "the file as it was is kept beside"


def test_a_context_keeps_the_kiali_extensions_enabled_in_its_cluster() -> None:
    """Each cluster's Kiali enables its own extensions (Skupper...): kept per context, written only when
    some are; a value that names none is dropped with a warning naming the context."""
    s = load_settings()
    s.set_context_settings("prod", ContextSettings(extensions=("skupper", "skupper", " other ")))
    s.set_context_settings("stage", ContextSettings(prometheus_url="http://prom:9090"))
    s.save()
    again = load_settings()
    assert again.context_settings("prod").extensions == ("skupper", "other")
    assert again.context_settings("stage").extensions == ()
    assert "extensions" not in json.loads(paths.settings_file().read_text())["contexts"]["stage"]
    path = paths.settings_file()
    doc = json.loads(path.read_text())
    doc["contexts"]["prod"]["extensions"] = {"skupper": True}
    path.write_text(json.dumps(doc))
    bad = load_settings()
    assert bad.context_settings("prod").extensions == ()
    assert bad.warnings[0].startswith("settings for context 'prod': extensions ")
    assert "no extension's traffic is graphed" in bad.warnings[0]


def test_a_contexts_runtime_dashboards_that_cannot_be_read_are_dropped_with_a_warning_the_rest_kept() -> None:
    """A context's own runtime dashboard configuration edited by hand into something that is not Kiali's
    custom_dashboards (a number, YAML of another shape): the context falls back to the general setting, the
    warning names the context, its other settings stay, and the file as it was is kept beside."""
    s = load_settings()
    s.custom_dashboards = ""
    s.set_context_settings("prod", ContextSettings(prometheus_url="http://prom:9090",
                                                   custom_dashboards="custom_dashboards: []\n"))
    s.save()
    assert load_settings().context_settings("prod").custom_dashboards == "custom_dashboards: []\n"
    path = paths.settings_file()
    for broken in (5, "custom_dashboards: {name: go}\n"):
        doc = json.loads(path.read_text())
        doc["contexts"]["prod"]["custom_dashboards"] = broken
        path.write_text(json.dumps(doc))
        bad = load_settings()
        prod = bad.context_settings("prod")
        assert prod.custom_dashboards is None
        assert prod.prometheus_url == "http://prom:9090"
        assert [w for w in bad.warnings if w.startswith("settings for context 'prod': custom_dashboards ")
                and w.endswith("dropped (the general runtime dashboards are used for this context)")], bad.warnings
        assert not [w for w in bad.warnings if "custom_dashboards custom_dashboards" in w], bad.warnings
        assert _asides(path.parent), "the file as it was is kept beside"


def test_a_prometheus_query_scope_is_kept_with_its_address_and_a_bad_one_dropped_in_words() -> None:
    """A context's Prometheus query scope (Kiali's query_scope) is written as Kiali writes it, {label: value},
    and read back; one edited by hand into something else is dropped with a warning, the rest kept."""
    s = load_settings()
    s.set_context_settings("east", ContextSettings("http://thanos:9090",
                                                   prometheus_scope=(("mesh-id", 'a"b'), ("cluster", "east"))))
    s.save()
    path = paths.settings_file()
    assert json.loads(path.read_text())["contexts"]["east"]["prometheus_scope"] == {"mesh_id": 'a"b', "cluster": "east"}
    assert load_settings().context_settings("east").prometheus_scope == (("mesh_id", 'a"b'), ("cluster", "east"))
    doc = json.loads(path.read_text())
    doc["contexts"]["east"]["prometheus_scope"] = {"cluster": ["east"]}
    path.write_text(json.dumps(doc))
    again = load_settings()
    cs = again.context_settings("east")
    assert (cs.prometheus_url, cs.prometheus_scope) == ("http://thanos:9090", ())
    assert any(w.endswith("prometheus_scope the value of 'cluster' is not text; dropped (Prometheus is asked "
                          "for every series it holds)") for w in again.warnings), again.warnings
