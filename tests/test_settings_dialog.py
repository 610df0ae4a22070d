"""Settings dialog and themes, with real widgets (offscreen) and the real settings store in a temp dir
(MESHDESK_CONFIG_DIR, set by the autouse fixture in conftest)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui

TOKEN = "s3cr3t-t0ken-value-0123456789"
PASSWORD = "hunter2-pa55word"


@pytest.fixture
def app(qapp):
    from meshdesk.ui import theme

    yield qapp
    theme.reset_theme(qapp)


@pytest.fixture
def store():
    """The real settings store (meshdesk.store.settings), reading and writing MESHDESK_CONFIG_DIR."""
    return pytest.importorskip("meshdesk.store.settings", reason="meshdesk.store.settings has not landed yet")


def _dialog(qtbot, **kwargs):
    from meshdesk.ui.settings_dialog import SettingsDialog

    kwargs.setdefault("contexts", ["kind-dev", "prod-eu"])
    dialog = SettingsDialog(**kwargs)
    qtbot.addWidget(dialog)
    return dialog


def _click(qtbot, dialog, which: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox

    button = dialog.buttons.button(getattr(QDialogButtonBox.StandardButton, which))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def _type(qtbot, line_edit, text: str) -> None:
    line_edit.clear()
    qtbot.keyClicks(line_edit, text)


def test_prometheus_url_and_theme_are_saved_and_applied(qtbot, app, store) -> None:
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QDialog

    from meshdesk.ui import theme

    dialog = _dialog(qtbot, current_context="prod-eu")
    assert dialog.context_combo.currentText() == "prod-eu"
    _type(qtbot, dialog.form().url, "https://prometheus.prod.example:9090/")
    _choose(dialog.theme_combo, "dark")
    with qtbot.waitSignal(dialog.settingsSaved):
        _click(qtbot, dialog, "Ok")
    assert dialog.result() == QDialog.DialogCode.Accepted

    fresh = store.load_settings()
    assert fresh.context_settings("prod-eu").prometheus_url == "https://prometheus.prod.example:9090"
    assert fresh.theme == "dark"
    assert fresh.context_settings("kind-dev").prometheus_url in ("", None)
    # the choice took effect at once
    assert theme.current_theme(app) == "dark"
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 128
    assert "dark theme" in app.styleSheet()


def test_edits_to_several_contexts_survive_switching_and_are_saved_together(qtbot, app, store) -> None:

    dialog = _dialog(qtbot, current_context="kind-dev")
    _type(qtbot, dialog.form().url, "http://localhost:9090")
    _choose(dialog.form().graph_type, "workload")
    _choose(dialog.form().duration, 1800)
    _choose(dialog.form().refresh, 60)
    prod = dialog.select_context("prod-eu")
    _type(qtbot, prod.url, "https://prom.prod:9090")
    dialog.context_combo.setCurrentText("kind-dev")
    assert dialog.form().url.text() == "http://localhost:9090"
    _click(qtbot, dialog, "Ok")

    fresh = store.load_settings()
    dev = fresh.context_settings("kind-dev")
    assert (dev.prometheus_url, dev.graph_type, dev.duration, dev.refresh_interval) == (
        "http://localhost:9090", "workload", 1800, 60)
    assert fresh.context_settings("prod-eu").prometheus_url == "https://prom.prod:9090"

    reopened = _dialog(qtbot, current_context="kind-dev")
    form = reopened.form()
    assert form.url.text() == "http://localhost:9090"
    assert form.graph_type.currentData() == "workload"
    assert form.duration.currentData() == 1800
    assert form.refresh.currentData() == 60


def test_bearer_token_is_masked_stored_and_never_logged(qtbot, app, store, caplog) -> None:
    from PySide6.QtWidgets import QLineEdit


    caplog.set_level(logging.DEBUG)
    dialog = _dialog(qtbot, current_context="prod-eu")
    form = dialog.form()
    _choose(form.auth_kind, "bearer")
    assert form.token.echoMode() == QLineEdit.EchoMode.Password
    assert form.password.echoMode() == QLineEdit.EchoMode.Password
    assert not form.token.isHidden() and form.username.isHidden()
    _type(qtbot, form.url, "https://prom.prod:9090")
    _type(qtbot, form.token, TOKEN)
    _click(qtbot, dialog, "Ok")

    auth = store.load_settings().context_settings("prod-eu").prometheus_auth
    assert auth["type"] == "bearer" and auth["token"] == TOKEN
    assert TOKEN not in caplog.text
    reopened_dialog = _dialog(qtbot, current_context="prod-eu")
    reopened = reopened_dialog.form()
    assert reopened.auth_kind.currentData() == "bearer"
    assert reopened.token.text() == TOKEN
    assert reopened.token.echoMode() == QLineEdit.EchoMode.Password
    assert reopened.token.displayText() != TOKEN


def test_basic_auth_headers_ca_bundle_and_insecure_are_saved(qtbot, app, store, tmp_path: Path) -> None:

    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    dialog = _dialog(qtbot, current_context="kind-dev")
    form = dialog.form()
    _type(qtbot, form.url, "https://mimir.example/prometheus")
    _choose(form.auth_kind, "basic")
    assert form.token.isHidden() and not form.username.isHidden()
    _type(qtbot, form.username, "viewer")
    _type(qtbot, form.password, PASSWORD)
    form.headers.setPlainText("X-Scope-OrgID: tenant-1\n\nX-Extra:  two words ")
    _type(qtbot, form.ca_bundle, str(ca))
    form.insecure.setChecked(True)
    dialog.read_only.setChecked(True)
    _click(qtbot, dialog, "Ok")

    fresh = store.load_settings()
    auth = fresh.context_settings("kind-dev").prometheus_auth
    assert auth["type"] == "basic"
    assert (auth["username"], auth["password"]) == ("viewer", PASSWORD)
    assert auth["headers"] == {"X-Scope-OrgID": "tenant-1", "X-Extra": "two words"}
    assert auth["ca_bundle"] == str(ca)
    assert auth["insecure"] is True
    assert fresh.read_only is True
    assert "token" not in auth


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url", "prometheus:9090", "Prometheus URL must look like http(s)://"),
        ("url", "https://admin:pw@prom.example", "put the password in the basic auth fields"),
        ("headers", "X-Scope-OrgID tenant-1", "line 1: write it as 'Name: value'"),
        ("headers", "Authorization: Bearer abc", "set Authorization with the bearer token"),
        ("ca_bundle", "/nonexistent/ca.pem", "is not a readable file"),
        # values that would only fail later, as a raw Python error in the banner
        ("url", "http://127.0.0.1:99999", "its host or port cannot be read"),
        ("url", "http://[::1", "its host or port cannot be read"),
        ("url", "http://prom etheus:9090", "its host has a character no host name has"),
        ("url", "http://%zz", "its host has a character no host name has"),
        ("headers", "X-Scope-OrgID: 租户", "characters an HTTP header cannot carry"),
        ("ca_bundle", "/etc/passwd", "holds no PEM certificate"),
    ],
)
def test_bad_input_keeps_the_dialog_open_and_writes_nothing(qtbot, app, store, field, value, message) -> None:
    from PySide6.QtWidgets import QDialog

    from meshdesk.store import paths

    dialog = _dialog(qtbot, current_context="prod-eu")
    form = dialog.form()
    _choose(dialog.theme_combo, "dark")
    if field == "headers":
        form.headers.setPlainText(value)
    else:
        _type(qtbot, getattr(form, field), value)
    _click(qtbot, dialog, "Ok")

    assert dialog.result() != QDialog.DialogCode.Accepted
    assert not dialog.error.isHidden()
    assert message in dialog.error.text()
    assert dialog.error.text().startswith("prod-eu: ")
    assert "pw@" not in dialog.error.text()
    # what the user typed is still there to fix
    shown = form.headers.toPlainText() if field == "headers" else getattr(form, field).text()
    assert shown == value
    assert not paths.settings_file().exists()
    assert store.load_settings().theme != "dark"


def test_bearer_without_token_and_basic_without_user_are_refused(qtbot, app, store) -> None:
    dialog = _dialog(qtbot, current_context="kind-dev")
    _choose(dialog.form().auth_kind, "bearer")
    _click(qtbot, dialog, "Ok")
    assert "a bearer token is needed" in dialog.error.text()
    dialog.form().token.setText("tok€n")  # no HTTP header carries it (typed as a paste: QTest types ASCII)
    _click(qtbot, dialog, "Ok")
    assert "the bearer token has characters an HTTP header cannot carry" in dialog.error.text()
    assert "tok€n" not in dialog.error.text()
    _choose(dialog.form().auth_kind, "basic")
    _click(qtbot, dialog, "Ok")
    assert "basic auth needs a user name" in dialog.error.text()


def test_error_on_another_context_switches_to_it(qtbot, app, store) -> None:
    eks = "arn:aws:eks:eu-west-1:123456789012:cluster/prod"  # a name with colons, as EKS writes them
    for bad in ("kind-dev", eks):
        dialog = _dialog(qtbot, contexts=["kind-dev", eks, "prod-eu"], current_context=bad)
        _type(qtbot, dialog.form().url, "not a url")
        dialog.select_context("prod-eu")
        _click(qtbot, dialog, "Ok")
        assert dialog.context_combo.currentText() == bad
        assert dialog.error.text().startswith(f"{bad}: ")


def test_looking_at_a_context_writes_nothing_for_it(qtbot, app, store) -> None:
    dialog = _dialog(qtbot, current_context="kind-dev")
    form = dialog.form()
    assert form.refresh.currentData() is None and form.refresh.currentText().startswith("Default (")
    assert form.duration.currentData() is None and form.graph_type.currentData() is None
    dialog.select_context("prod-eu")
    _choose(dialog.theme_combo, "light")
    _click(qtbot, dialog, "Ok")
    fresh = store.load_settings()
    assert fresh.theme == "light"
    assert fresh.context_names() == []
    assert fresh.context_settings("kind-dev") == store.ContextSettings()


def test_defaults_stay_defaults_and_unlisted_stored_values_are_kept(qtbot, app, store) -> None:
    s = store.load_settings()
    s.set_context_settings("kind-dev", store.ContextSettings(prometheus_url="http://p:9090", duration=7200,
                                                             refresh_interval=None))
    s.save()
    dialog = _dialog(qtbot, current_context="kind-dev")
    form = dialog.form()
    assert form.duration.currentData() == 7200
    _type(qtbot, form.url, "http://q:9090")
    _click(qtbot, dialog, "Ok")
    cs = store.load_settings().context_settings("kind-dev")
    assert (cs.prometheus_url, cs.duration, cs.refresh_interval, cs.graph_type) == ("http://q:9090", 7200, None, "")


def test_cancel_writes_nothing(qtbot, app, store) -> None:
    from meshdesk.ui import theme

    _dialog(qtbot, current_context="kind-dev")  # nothing stored yet
    dialog = _dialog(qtbot, current_context="kind-dev")
    _type(qtbot, dialog.form().url, "http://changed:9090")
    _choose(dialog.theme_combo, "light")
    dialog.read_only.setChecked(True)
    _click(qtbot, dialog, "Cancel")
    fresh = store.load_settings()
    assert fresh.context_settings("kind-dev").prometheus_url in ("", None)
    assert fresh.read_only is False
    assert theme.current_choice(app) == "system"


def test_save_failure_is_shown_and_keeps_the_edits(qtbot, app, store, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QDialog

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the config folder should be")
    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(blocker / "meshdesk"))
    dialog = _dialog(qtbot, current_context="kind-dev")
    _type(qtbot, dialog.form().url, "http://localhost:9090")
    _click(qtbot, dialog, "Ok")
    assert dialog.result() != QDialog.DialogCode.Accepted
    # in words naming the path (it said "File exists (/.../not-a-dir/meshdesk)")
    assert dialog.error.text() == (f"Could not save the settings: {blocker} is a file, not a folder, so the "
                                   f"settings folder {blocker / 'meshdesk'} cannot be made")
    assert dialog.form().url.text() == "http://localhost:9090"
    # Cancel then: the window's settings did not take the edits (they would be written at its next save)
    settings = dialog.settings
    dialog.read_only.setChecked(True)
    _click(qtbot, dialog, "Ok")
    _click(qtbot, dialog, "Cancel")
    assert settings.read_only is False and settings.context_settings("kind-dev").prometheus_url in ("", None)


def test_contexts_with_stored_settings_are_offered(qtbot, app, store) -> None:

    dialog = _dialog(qtbot, contexts=["only-context"], current_context="only-context")
    _type(qtbot, dialog.form().url, "http://a:9090")
    _click(qtbot, dialog, "Ok")
    assert store.load_settings().context_settings("only-context").prometheus_url == "http://a:9090"
    later = _dialog(qtbot, contexts=["another"])
    offered = [later.context_combo.itemText(i) for i in range(later.context_combo.count())]
    assert offered[0] == "another"
    assert "only-context" in offered


def test_the_demo_is_no_cluster_to_set_up(qtbot, app, store) -> None:
    s = store.load_settings()
    s.set_context_settings("demo", store.ContextSettings(graph_type="app"))  # its view choices are kept
    s.save()
    dialog = _dialog(qtbot, contexts=["kind-dev"])
    assert [dialog.context_combo.itemText(i) for i in range(dialog.context_combo.count())] == ["kind-dev"]


def test_a_relative_ca_bundle_is_kept_as_a_full_path(qtbot, app, store, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    monkeypatch.chdir(tmp_path)
    dialog = _dialog(qtbot, current_context="kind-dev")
    _type(qtbot, dialog.form().url, "https://prom.example")
    _type(qtbot, dialog.form().ca_bundle, "ca.pem")
    _click(qtbot, dialog, "Ok")
    assert store.load_settings().context_settings("kind-dev").prometheus_auth["ca_bundle"] == str(tmp_path / "ca.pem")


def test_closing_during_a_test_does_not_wait_for_it(qtbot, store) -> None:
    """Prometheus that never answers: closing the dialog leaves at once (it waited for the test's
    timeout with the app frozen); the test's thread ends on its own."""
    from tests.prom_server import HANG, StubServer

    with StubServer(lambda _req: HANG) as stub:
        dialog = _dialog(qtbot, current_context="prod-eu")
        form = dialog.form("prod-eu")
        _type(qtbot, form.url, stub.url)
        form.test_connection()
        worker = form._test_thread
        assert worker is not None and worker.is_alive()
        dialog.reject()
        assert worker.is_alive()  # not waited for
    qtbot.waitUntil(lambda: not worker.is_alive(), timeout=15000)


def test_no_context_shows_a_hint_and_still_saves_general_settings(qtbot, app, store) -> None:

    dialog = _dialog(qtbot, contexts=[])
    assert not dialog.context_combo.isEnabled()
    _choose(dialog.theme_combo, "light")
    _click(qtbot, dialog, "Ok")
    assert store.load_settings().theme == "light"


# --- theme -----------------------------------------------------------------------------------------------

def test_manual_light_and_dark_switch_palette_and_style_sheet(app) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPalette

    from meshdesk.ui import theme

    seen: list[str] = []
    def on_changed(name: str) -> None:
        seen.append(name)

    theme.theme_signals.changed.connect(on_changed)  # (PySide6 6.6 cannot disconnect a bound builtin)
    try:
        assert theme.apply_theme(app, "dark") == "dark"
        dark_window = app.palette().color(QPalette.ColorRole.Window)
        assert dark_window.lightness() < 128
        assert "dark theme" in app.styleSheet()
        assert theme.apply_theme(app, "light") == "light"
        assert app.palette().color(QPalette.ColorRole.Window).lightness() > 128
        assert "light theme" in app.styleSheet()
        assert theme.current_choice(app) == "light"
        # a manual choice ignores the desktop's scheme changing
        app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        assert theme.current_theme(app) == "light"
    finally:
        theme.theme_signals.changed.disconnect(on_changed)
    assert seen[-2:] == ["dark", "light"]


def test_system_choice_follows_the_platform_colour_scheme(qtbot, app) -> None:
    from PySide6.QtCore import Qt

    from meshdesk.ui import theme

    hints = app.styleHints()
    shown = theme.apply_theme(app, "system")
    assert shown == theme.system_theme(app)
    assert theme.current_choice(app) == "system"
    # Stand in for the desktop switching scheme: the offscreen platform has no desktop, so send the
    # signal Qt sends when the platform reports a new scheme.
    with qtbot.waitSignal(theme.theme_signals.changed, timeout=5000) as blocker:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark if shown == "light" else Qt.ColorScheme.Light)
    assert blocker.args == ["dark" if shown == "light" else "light"]
    assert theme.current_theme(app) == blocker.args[0]


def test_unknown_theme_choice_falls_back_to_system(app) -> None:
    from meshdesk.ui import theme

    theme.apply_theme(app, "purple")
    assert theme.current_choice(app) == "system"


def test_legend_icons_are_drawn_for_every_node_type(qapp) -> None:
    from meshdesk import resources
    from meshdesk.ui import theme

    for node_type in (*resources.NODE_SHAPES, "aggregate"):
        icon = theme.legend_icon(node_type)
        image = icon.pixmap(24, 24).toImage()
        assert any(image.pixelColor(x, y).alpha() > 0 for x in range(24) for y in range(24)), node_type


def test_saving_keeps_what_another_window_saved_meanwhile(qtbot, app, store) -> None:
    dialog = _dialog(qtbot, current_context="kind-dev")
    other = store.load_settings()  # a second window
    other.theme = "dark"
    other.read_only = True
    other.save()
    _type(qtbot, dialog.form().url, "http://mine:9090")
    _click(qtbot, dialog, "Ok")
    fresh = store.load_settings()
    assert fresh.context_settings("kind-dev").prometheus_url == "http://mine:9090"
    assert (fresh.theme, fresh.read_only) == ("dark", True)


def test_a_graph_type_chosen_in_another_window_keeps_the_prometheus_address_saved_here(qtbot, app, store,
                                                                                      demo_window) -> None:
    """Two windows on one context: the Prometheus address and token saved in one window's Settings were
    erased from the file when the other window, open since before, changed the graph type in its toolbar
    (it wrote back its whole copy of the context's settings). Each window's save keeps the fields the
    other changed, and an address keeps its own login."""
    here, there = demo_window(["shop"]), demo_window(["shop"])
    for w in (here, there):
        w.switch_context("other")
    dialog = _dialog(qtbot, contexts=["other"], current_context="other", settings=here.settings)
    form = dialog.form()
    _type(qtbot, form.url, "http://prometheus.example:9090")
    _choose(form.auth_kind, "bearer")
    _type(qtbot, form.token, TOKEN)
    _click(qtbot, dialog, "Ok")
    assert store.load_settings().context_settings("other").prometheus_url == "http://prometheus.example:9090"
    there.toolbar.choose(graph_type="workload")  # the other window's user picks another graph type
    saved = store.load_settings().context_settings("other")
    assert saved.graph_type == "workload"
    assert saved.prometheus_url == "http://prometheus.example:9090"
    assert saved.prometheus_auth.get("token") == TOKEN


def test_the_test_button_asks_prometheus_with_the_forms_credentials(qtbot, store) -> None:
    """Test says whether Prometheus at the typed address answers with the typed credentials, off the
    UI thread, and never shows the token; an empty address means "found in the cluster"."""
    from tests.prom_server import StubResponse, StubServer, prometheus_vector

    seen: list[str] = []

    def answer(req):  # type: ignore[no-untyped-def]
        seen.append(req.headers.get("Authorization", ""))
        if req.headers.get("Authorization") != f"Bearer {TOKEN}":
            return StubResponse(401, "Unauthorized")
        return StubResponse(200, prometheus_vector([({}, "1")]))

    with StubServer(answer) as stub:
        dialog = _dialog(qtbot, current_context="prod-eu")
        form = dialog.form("prod-eu")
        form.test_connection()  # empty address: nothing to ask
        assert "finds Prometheus in the cluster" in form.test_result.text() and not seen
        _type(qtbot, form.url, stub.url)
        _choose(form.auth_kind, "bearer")
        _type(qtbot, form.token, TOKEN)
        with qtbot.waitSignal(form.testDone, timeout=10000):
            form.test_connection()
        assert "answered in" in form.test_result.text() and seen[-1] == f"Bearer {TOKEN}"
        _type(qtbot, form.token, "wrong-" + TOKEN)
        with qtbot.waitSignal(form.testDone, timeout=10000):
            form.test_connection()
        assert "rejected credentials" in form.test_result.text()
        assert TOKEN not in form.test_result.text() and form.test_button.isEnabled()
        _type(qtbot, form.url, "ftp://nope")
        form.test_connection()
        assert "http(s)://" in form.test_result.text()
        dialog.reject()


def test_checks_left_out_are_saved_and_what_is_no_code_is_refused(qtbot, app, store) -> None:
    """Kiali's validations.ignore as a general setting: KIA1301 shown by default; a word that is no check
    code keeps the dialog open with the word named and writes nothing; emptied, every check is made."""
    from PySide6.QtWidgets import QDialog

    from meshdesk.store import paths

    dialog = _dialog(qtbot)
    assert dialog.ignored_checks.text() == "KIA1301"
    _type(qtbot, dialog.ignored_checks, "kia1301, all")
    _click(qtbot, dialog, "Ok")
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error.text() == ("Validation codes left out: 'all' is not a check code (three letters and four digits, "
                                   "such as KIA1301)")
    assert dialog.ignored_checks.text() == "kia1301, all" and not paths.settings_file().exists()
    _type(qtbot, dialog.ignored_checks, "kia0601 MDK1209")
    with qtbot.waitSignal(dialog.settingsSaved):
        _click(qtbot, dialog, "Ok")
    assert store.load_settings().ignored_checks == ("KIA0601", "MDK1209")
    again = _dialog(qtbot)
    assert again.ignored_checks.text() == "KIA0601, MDK1209"
    again.ignored_checks.clear()
    with qtbot.waitSignal(again.settingsSaved):
        _click(qtbot, again, "Ok")
    assert store.load_settings().ignored_checks == ()


def test_a_token_or_password_without_a_prometheus_url_is_refused_in_words(qtbot, app, store) -> None:
    """QA: a token or password saved with an empty URL ("find in cluster") was ignored without a word: the
    Prometheus found is reached through the API server with the kubeconfig's login."""
    dialog = _dialog(qtbot, current_context="kind-dev")
    form = dialog.form()
    form.url.setText("")
    _choose(form.auth_kind, "bearer")
    form.token.setText("tok-SECRET-1")
    _click(qtbot, dialog, "Ok")
    assert "used only with a Prometheus URL" in dialog.error.text() and dialog.saved is None
    assert "tok-SECRET-1" not in dialog.error.text()
    _choose(form.auth_kind, "basic")
    form.username.setText("alice")
    form.password.setText("pw")
    _click(qtbot, dialog, "Ok")
    assert "used only with a Prometheus URL" in dialog.error.text()
    form.url.setText("http://prometheus.example:9090")
    _click(qtbot, dialog, "Ok")
    assert dialog.error.text() == ""


def test_tracing_url_and_auth_are_edited_beside_prometheus(qtbot, app, store, caplog) -> None:
    """The tracing backend's address, its credentials and its Test button, in the context's form: saved
    with the context, shown again, checked as Prometheus's are, and no secret in what is said."""
    from PySide6.QtWidgets import QLineEdit

    from tests.jaeger_emulator import JaegerEmulator

    caplog.set_level(logging.DEBUG)
    with JaegerEmulator(token=TOKEN, base_path="/jaeger") as jaeger:
        dialog = _dialog(qtbot, current_context="prod-eu")
        form = dialog.form()
        assert form.findChild(QLineEdit, "tracingUrl") is form.tracing_url
        dialog.show()
        form.server_tabs.setCurrentIndex(1)
        assert form.tracing_url.isVisible() and not form.url.isVisible()
        form.test_tracing()  # empty: found in the cluster
        assert "finds Jaeger or Tempo in the cluster" in form.tracing_test_result.text()
        _type(qtbot, form.tracing_url, jaeger.url + "/")
        _choose(form.tracing_auth.kind, "bearer")
        assert not form.tracing_auth.token.isHidden() and form.tracing_auth.username.isHidden()
        assert form.tracing_auth.token.echoMode() == QLineEdit.EchoMode.Password
        _type(qtbot, form.tracing_auth.token, "wrong-" + TOKEN)
        with qtbot.waitSignal(form.tracingTestDone, timeout=10000):
            form.test_tracing()
        assert "rejected the credentials (HTTP 401)" in form.tracing_test_result.text()
        assert TOKEN not in form.tracing_test_result.text() and form.tracing_test_button.isEnabled()
        _type(qtbot, form.tracing_auth.token, TOKEN)
        with qtbot.waitSignal(form.tracingTestDone, timeout=10000):
            form.test_tracing()
        assert form.tracing_test_result.text().startswith("The tracing backend answered (Jaeger's query API) in")
        assert form.test_result.isHidden()  # Prometheus's own verdict is not touched
        with qtbot.waitSignal(dialog.settingsSaved):
            _click(qtbot, dialog, "Ok")

    cs = store.load_settings().context_settings("prod-eu")
    assert cs.tracing_url == jaeger.url and cs.tracing_auth == {"type": "bearer", "token": TOKEN}
    assert cs.prometheus_url == "" and "token" not in cs.prometheus_auth
    again = _dialog(qtbot, current_context="prod-eu")
    reopened = again.form()
    assert reopened.tracing_url.text() == jaeger.url
    assert reopened.tracing_auth.kind.currentData() == "bearer" and reopened.tracing_auth.token.text() == TOKEN
    assert TOKEN not in caplog.text


def test_a_bad_tracing_url_or_a_token_without_it_keeps_the_dialog_open(qtbot, app, store) -> None:
    dialog = _dialog(qtbot, current_context="kind-dev")
    form = dialog.form()
    _type(qtbot, form.tracing_url, "jaeger:16686")
    assert form.server_tabs.currentIndex() == 0
    assert not dialog.apply()
    assert "Tracing URL must look like http(s)://" in dialog.error.text()
    assert form.server_tabs.currentIndex() == 1  # the field at fault is brought into view
    form.tracing_url.clear()
    _choose(form.tracing_auth.kind, "bearer")
    _type(qtbot, form.tracing_auth.token, TOKEN)
    assert not dialog.apply()
    assert "tracing: a bearer token or basic auth is used only with a tracing URL" in dialog.error.text()
    assert TOKEN not in dialog.error.text()
    assert store.load_settings().context_settings("kind-dev").tracing_url == ""


def test_the_tracing_api_is_chosen_tested_and_saved(qtbot, app, store) -> None:
    """Auto, Jaeger's query API or Tempo's own, per context: the Test button asks through the one chosen
    (auto says which it found), and it is saved and shown again."""
    from tests.tempo_emulator import TempoEmulator
    from tests.test_tracing_client import shop_traces

    with TempoEmulator(shop_traces()) as tempo:
        dialog = _dialog(qtbot, current_context="prod-eu")
        form = dialog.form()
        assert form.tracing_api.currentData() == ""  # auto
        _type(qtbot, form.tracing_url, tempo.url)
        with qtbot.waitSignal(form.tracingTestDone, timeout=10000):
            form.test_tracing()
        assert form.tracing_test_result.text().startswith("The tracing backend answered (Tempo's API) in")
        _choose(form.tracing_api, "jaeger")
        with qtbot.waitSignal(form.tracingTestDone, timeout=10000):
            form.test_tracing()  # Tempo without its Jaeger frontend: Jaeger's API is not there
        assert "HTTP 404" in form.tracing_test_result.text()
        _choose(form.tracing_api, "tempo")
        with qtbot.waitSignal(dialog.settingsSaved):
            _click(qtbot, dialog, "Ok")
    assert store.load_settings().context_settings("prod-eu").tracing_api == "tempo"
    assert _dialog(qtbot, current_context="prod-eu").form().tracing_api.currentData() == "tempo"


def test_health_tolerances_are_read_as_kialis_config_and_refused_in_words(qtbot, app, store) -> None:
    """Kiali's health_config.rate pasted from its CR into the editor: a typo keeps the editor open naming
    it (nothing is taken); taken and saved, the row says what is set and the rates come back as YAML the
    next time; emptied, the defaults are used."""
    from meshdesk.store import paths

    dialog = _dialog(qtbot)
    assert dialog.health_rates_summary.text() == "Kiali's defaults"
    editor = dialog.edit_health_rates()
    qtbot.addWidget(editor)
    assert editor.isVisible() and editor.text.toPlainText() == ""
    editor.text.setPlainText("spec:\n  health_config:\n    rate:\n      - name: reviews\n"
                             "        tolerances: [{code: 5XX, failure: 20}]\n")
    editor.accept()
    assert editor.isVisible()
    assert editor.error.text().startswith("rate[0]: 'tolerances' is not a field of a rate")
    assert dialog.health_rates_summary.text() == "Kiali's defaults"
    editor.text.setPlainText("spec:\n  health_config:\n    rate:\n      - name: reviews\n"
                             "        tolerance: [{code: 5XX, failure: 20}]\n")
    editor.accept()
    assert not editor.isVisible()
    assert dialog.health_rates_summary.text() == "1 rate (any \u00b7 any \u00b7 reviews), then Kiali's defaults"
    assert not paths.settings_file().exists()  # taken by the dialog, saved with its OK
    with qtbot.waitSignal(dialog.settingsSaved):
        _click(qtbot, dialog, "Ok")
    assert store.load_settings().health_rates == ({"name": "reviews",
                                                   "tolerance": [{"code": "5XX", "degraded": 0.0, "failure": 20.0}]},)
    again = _dialog(qtbot)
    editor = again.edit_health_rates()
    qtbot.addWidget(editor)
    assert "name: reviews" in editor.text.toPlainText() and "failure: 20.0" in editor.text.toPlainText()
    editor.text.clear()
    editor.accept()
    with qtbot.waitSignal(again.settingsSaved):
        _click(qtbot, again, "Ok")
    assert store.load_settings().health_rates == ()


def test_a_context_is_given_its_own_kialis_health_tolerances(qtbot, app, store) -> None:
    """Each cluster's Kiali has its own health_config.rate. A context's Health tolerances tab takes its
    own: a typo names the context and brings the tab forward, nothing saved; taken, they are saved for
    that context alone (the other context keeps the general ones); back on "the general ones", its own
    are forgotten."""
    from PySide6.QtCore import QPoint, Qt

    dialog = _dialog(qtbot, current_context="prod-eu")
    dialog.show()
    qtbot.waitExposed(dialog)
    form = dialog.form()
    assert form.rates_general.isChecked() and not form.rates_button.isEnabled()
    tabs = [form.server_tabs.tabText(i) for i in range(form.server_tabs.count())]
    form.server_tabs.setCurrentIndex(tabs.index("Health tolerances"))
    qtbot.mouseClick(form.rates_own, Qt.MouseButton.LeftButton, pos=QPoint(6, form.rates_own.height() // 2))
    assert form.rates_button.isEnabled() and form.rates_summary.text() == "Kiali's defaults"
    editor = form.edit_health_rates()
    qtbot.addWidget(editor)
    assert editor.windowTitle() == "Health tolerances of prod-eu"
    editor.text.setPlainText("rate:\n- {namespace: shop, kind: app, name: cart, tolerance: [{code: 5XX, failure: 5}]}")
    editor.accept()
    assert form.rates_summary.text() == "1 rate (shop \u00b7 app \u00b7 cart), then Kiali's defaults"
    form.health_rates_text = "rate:\n- {name: 'cart(', tolerance: [{code: 5XX}]}"  # as a file pasted by hand
    form.server_tabs.setCurrentIndex(0)
    _click(qtbot, dialog, "Ok")
    assert not store.load_settings().context_names()  # nothing saved
    assert dialog.error.text().startswith("prod-eu: health tolerances: rate[0].name 'cart(' is not a regular")
    assert form.server_tabs.currentWidget().objectName() == "healthPage"
    form.health_rates_text = "rate:\n- {namespace: shop, kind: app, name: cart, tolerance: [{code: 5XX, failure: 5}]}"
    with qtbot.waitSignal(dialog.settingsSaved):
        _click(qtbot, dialog, "Ok")
    saved = store.load_settings()
    assert [r["name"] for r in saved.health_rates_for("prod-eu")] == ["cart"]
    assert saved.health_rates_for("kind-dev") == ()
    assert saved.context_settings("kind-dev").health_rates is None

    again = _dialog(qtbot, current_context="prod-eu")
    again.show()
    qtbot.waitExposed(again)
    form = again.form()
    assert form.rates_own.isChecked() and "shop \u00b7 app \u00b7 cart" in form.rates_summary.text()
    form.server_tabs.setCurrentIndex(tabs.index("Health tolerances"))
    qtbot.mouseClick(form.rates_general, Qt.MouseButton.LeftButton, pos=QPoint(6, form.rates_general.height() // 2))
    with qtbot.waitSignal(again.settingsSaved):
        _click(qtbot, again, "Ok")
    assert store.load_settings().context_settings("prod-eu").health_rates is None


def test_a_context_is_given_its_own_kialis_runtime_dashboards(qtbot, app, store) -> None:
    """Each cluster's Kiali has its own custom dashboards configuration. A context's Runtime dashboards tab
    takes its own: a malformed one names the context and brings the tab forward, nothing saved; taken, it
    is saved for that context alone (the other context keeps the general one); back on "the general
    ones", its own is forgotten."""
    from PySide6.QtCore import QPoint, Qt

    dialog = _dialog(qtbot, current_context="prod-eu")
    dialog.show()
    qtbot.waitExposed(dialog)
    form = dialog.form()
    assert form.dashboards_general.isChecked() and not form.dashboards.button.isEnabled()
    tabs = [form.server_tabs.tabText(i) for i in range(form.server_tabs.count())]
    form.server_tabs.setCurrentIndex(tabs.index("Runtime dashboards"))
    qtbot.mouseClick(form.dashboards_own, Qt.MouseButton.LeftButton,
                     pos=QPoint(6, form.dashboards_own.height() // 2))
    assert form.dashboards.button.isEnabled()
    editor = form.dashboards.edit()
    qtbot.addWidget(editor)
    assert editor.windowTitle() == "Runtime dashboards of prod-eu"
    editor.text.setPlainText("external_services:\n  custom_dashboards:\n    discovery_enabled: false\n")
    editor.accept()
    assert form.dashboards.summary.text() == "meshdesk's built-in (Go, JVM, Node.js); discovery off"
    form.dashboards.set_text("custom_dashboards:\n  - {name: x, discoverOn: 'not a metric'}\n")  # pasted by hand
    form.server_tabs.setCurrentIndex(0)
    _click(qtbot, dialog, "Ok")
    assert not store.load_settings().context_names()  # nothing saved
    assert dialog.error.text().startswith("prod-eu: runtime dashboards: dashboard 'x': discoverOn")
    assert form.server_tabs.currentWidget().objectName() == "dashboardsPage"
    form.dashboards.set_text("external_services:\n  custom_dashboards:\n    discovery_enabled: false\n")
    with qtbot.waitSignal(dialog.settingsSaved):
        _click(qtbot, dialog, "Ok")
    saved = store.load_settings()
    assert saved.dashboards_config_for("prod-eu").discovery == "false"
    assert saved.dashboards_config_for("kind-dev").discovery == "auto"
    assert saved.context_settings("kind-dev").custom_dashboards is None

    again = _dialog(qtbot, current_context="prod-eu")
    again.show()
    qtbot.waitExposed(again)
    form = again.form()
    assert form.dashboards_own.isChecked() and "discovery off" in form.dashboards.summary.text()
    form.server_tabs.setCurrentIndex(tabs.index("Runtime dashboards"))
    qtbot.mouseClick(form.dashboards_general, Qt.MouseButton.LeftButton,
                     pos=QPoint(6, form.dashboards_general.height() // 2))
    with qtbot.waitSignal(again.settingsSaved):
        _click(qtbot, again, "Ok")
    assert store.load_settings().context_settings("prod-eu").custom_dashboards is None

def _contrast(a, b) -> float:  # type: ignore[no-untyped-def]
    def lum(c) -> float:  # type: ignore[no-untyped-def]
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("name", ["light", "dark"])
def test_the_keyboard_focus_on_a_toolbar_button_can_be_seen(qtbot, app, name: str) -> None:
    """Tab onto the toolbar's Traffic or Display button: its focus frame was drawn at a third of its
    opacity, about 1.6:1 against the window in either theme, and the keyboard seemed to go nowhere.
    The frame stands out 3:1 at least (as WCAG asks of a focus indicator)."""
    from PySide6.QtWidgets import QStyleFactory

    from meshdesk.ui import theme

    # Fusion, the style of a Linux desktop without one of its own, as the app starts: no style sheet yet
    app.setStyleSheet("")
    app.setStyle(QStyleFactory.create("Fusion"))
    try:
        theme.apply_theme(app, name)
        _focus_frame_contrast(qtbot, app, name)
    finally:
        app.setStyleSheet("")
        app.setStyle(QStyleFactory.create("Fusion"))


def _focus_frame_contrast(qtbot, app, name: str) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication, QHBoxLayout, QLineEdit, QToolButton, QWidget

    bar = QWidget()
    qtbot.addWidget(bar)
    row = QHBoxLayout(bar)
    edit = QLineEdit()
    button = QToolButton()
    button.setText("Display")
    button.setAutoRaise(True)  # as a toolbar's
    row.addWidget(edit)
    row.addWidget(button)
    bar.show()
    bar.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is bar, timeout=5000)
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus, timeout=5000)
    qtbot.keyClick(edit, Qt.Key.Key_Tab)
    qtbot.waitUntil(button.hasFocus, timeout=5000)
    image = button.grab().toImage()
    window = app.palette().color(QPalette.ColorRole.Window)
    # the frame's run along the top edge and down the left one (a few pixels in, clear of the text)
    edge = [image.pixelColor(x, y) for y in range(5) for x in range(6, image.width() - 6)] + \
        [image.pixelColor(x, y) for x in range(5) for y in range(6, image.height() - 6)]
    assert max(_contrast(c, window) for c in edge) >= 3.0, name


@pytest.mark.parametrize("name", ["dark", "light"])
def test_warnings_and_errors_can_be_read_in_either_theme(qtbot, app, name: str) -> None:
    """The Logs and Envoy docks' and the charts' warnings ("No pod selected", "Prometheus cannot be
    reached") were a fixed orange, 3.3:1 on the dark theme, and the settings dialog's error a fixed red,
    2.7:1: hard to read where they matter. They take the theme's warning and error colours, 4.5:1 or more."""
    from PySide6.QtGui import QPalette

    from meshdesk.ui import theme
    from meshdesk.ui.charts import MetricChart
    from meshdesk.ui.envoy_view import EnvoyView
    from meshdesk.ui.logs_view import LogsView
    from meshdesk.ui.settings_dialog import HealthRatesDialog

    theme.apply_theme(app, name)
    logs, envoy, chart = LogsView(), EnvoyView(), MetricChart("request_volume")
    rates = HealthRatesDialog("")
    labels = {"logs": logs.status, "envoy": envoy.status, "chart": chart.status, "settings": rates.error}
    try:
        for widget in (logs, envoy, chart, rates):
            qtbot.addWidget(widget)
            widget.show()
            qtbot.waitExposed(widget)
        window = app.palette().color(QPalette.ColorRole.Window)
        faint = {}
        for what, label in labels.items():
            label.setText("something went wrong")
            label.show()
            ink = label.palette().color(label.foregroundRole())
            assert ink != app.palette().color(QPalette.ColorRole.WindowText), what  # a warning's or an error's colour
            if _contrast(ink, window) < 4.5:
                faint[what] = ink.name()
        assert faint == {}
    finally:
        logs.shutdown()
        envoy.shutdown()


@pytest.mark.parametrize("name", ["light", "dark"])
def test_the_graph_shows_when_it_has_the_keyboard(qtbot, app, name: str) -> None:
    """Ctrl+Tab, F6 or a dock's key again put the keyboard on the graph, and nothing showed it: its frame
    looked the same with or without the keyboard. A line of the theme's highlight runs round it while it
    has the keyboard (3:1 at least against the window), and goes when the keyboard leaves."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

    from meshdesk.ui import theme
    from meshdesk.ui.canvas import GraphView

    theme.apply_theme(app, name)
    window = QWidget()
    qtbot.addWidget(window)
    column = QVBoxLayout(window)
    edit = QLineEdit()
    view = GraphView()
    column.addWidget(edit)
    column.addWidget(view)
    window.resize(400, 300)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus, timeout=5000)
    background = app.palette().color(QPalette.ColorRole.Window)

    def frame_contrast() -> float:
        image = view.grab().toImage()
        middle = image.height() // 2
        return max(_contrast(image.pixelColor(x, middle), background) for x in range(2))

    without = frame_contrast()
    qtbot.keyClick(edit, Qt.Key.Key_Tab)
    qtbot.waitUntil(view.hasFocus, timeout=5000)
    assert frame_contrast() >= 3.0
    qtbot.keyClick(view, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)  # the graph's way out
    qtbot.waitUntil(lambda: not view.hasFocus(), timeout=5000)
    assert frame_contrast() == without < 3.0


@pytest.mark.parametrize("name", ["light", "dark"])
def test_a_fields_hint_can_be_read(qtbot, app, name: str) -> None:
    """The Find and Hide fields' hints ("Find…", "Hide…") and the docks' filters' were the light theme's
    disabled grey, 2.8:1 on the field's white: read to know what to type, they read 4.5:1 or more."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QLineEdit

    from meshdesk.ui import theme

    theme.apply_theme(app, name)
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.setPlaceholderText("Find… Hide…")
    edit.resize(200, edit.sizeHint().height())
    edit.show()
    qtbot.waitExposed(edit)
    image = edit.grab().toImage()
    field = app.palette().color(QPalette.ColorRole.Base)
    ink = max((image.pixelColor(x, y) for x in range(6, image.width() - 6) for y in range(4, image.height() - 4)),
              key=lambda c: _contrast(c, field))
    assert _contrast(ink, field) >= 4.5, ink.name()


def test_read_only_says_what_it_keeps_from_a_cluster(qtbot, app, store) -> None:
    """Its tooltip promised to refuse scaling workloads, which meshdesk never does; it left out the
    changes meshdesk does make: sidecar injection, restarts, a proxy's log level."""
    dialog = _dialog(qtbot)
    tip = dialog.read_only.toolTip()
    assert "scale" not in tip
    for change in ("Istio config", "sidecar injection", "restarts", "log level"):
        assert change in tip, change


def test_grafanas_url_is_saved_with_the_context_and_checked_as_the_others(qtbot, app, store) -> None:
    """Where the browser reaches Grafana (View in Grafana), in the context's form: a malformed address is
    refused naming the field, a good one saved with the context and shown again; empty, Grafana is found
    in the cluster."""
    dialog = _dialog(qtbot, current_context="prod-eu")
    form = dialog.form()
    dialog.show()
    assert form.grafana_url.isVisible() and "find Grafana in the cluster" in form.grafana_url.placeholderText()
    _type(qtbot, form.grafana_url, "grafana.example.com")
    _click(qtbot, dialog, "Ok")
    assert "Grafana URL must look like http(s)://" in dialog.error.text() and dialog.saved is None
    _type(qtbot, form.grafana_url, "https://grafana.example.com/")
    with qtbot.waitSignal(dialog.settingsSaved):
        _click(qtbot, dialog, "Ok")
    assert store.load_settings().context_settings("prod-eu").grafana_url == "https://grafana.example.com"
    assert _dialog(qtbot, current_context="prod-eu").form().grafana_url.text() == "https://grafana.example.com"


def test_the_dialog_fits_a_1024x700_screen_with_every_tab_in_sight(qtbot, app, store) -> None:
    """Shown at its least size, with a context: it was 723 pixels high (the defaults a context opens with
    under its tabs), cut off at the foot of a 1024x700 screen with its OK button. The defaults are a tab of
    their own, chosen and saved as before."""
    dialog = _dialog(qtbot, current_context="kind-dev")
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.resize(dialog.minimumSizeHint())
    qtbot.waitUntil(lambda: dialog.size() == dialog.minimumSizeHint(), timeout=5000)
    assert dialog.height() <= 660 and dialog.width() <= 1000  # (a window manager's title bar above it)
    form = dialog.form()
    bar = form.server_tabs.tabBar()
    assert all(bar.tabRect(i).right() <= bar.width() for i in range(bar.count()))  # no tab behind an arrow
    assert dialog.buttons.geometry().bottom() <= dialog.height()
    tabs = [form.server_tabs.tabText(i) for i in range(form.server_tabs.count())]
    form.server_tabs.setCurrentIndex(tabs.index("When it opens"))
    assert form.graph_type.isVisible()
    _choose(form.graph_type, "workload")
    _click(qtbot, dialog, "Ok")
    assert store.load_settings().context_settings("kind-dev").graph_type == "workload"


def test_a_prometheus_query_scope_is_set_with_the_url_and_refused_in_words_when_it_is_none(
        qtbot, app, store) -> None:
    """Kiali's query_scope for a Prometheus shared by several meshes: typed beside the context's Prometheus
    URL as label=value pairs (a value with a comma or a quote in double quotes), saved, shown again as typed;
    one that is not label=value keeps the dialog open, saying so."""
    from PySide6.QtWidgets import QDialog

    dialog = _dialog(qtbot, current_context="prod-eu")
    form = dialog.form()
    assert form.scope.text() == ""
    _type(qtbot, form.url, "https://thanos.example")
    _type(qtbot, form.scope, "mesh-east")
    _click(qtbot, dialog, "Ok")
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error.text() == "prod-eu: query scope: 'mesh-east' is not label=value"
    _type(qtbot, form.scope, 'mesh_id=mesh-east, team="shop, \\"blue\\""')
    with qtbot.waitSignal(dialog.settingsSaved):
        _click(qtbot, dialog, "Ok")
    saved = store.load_settings().context_settings("prod-eu")
    assert saved.prometheus_scope == (("mesh_id", "mesh-east"), ("team", 'shop, "blue"'))
    assert store.load_settings().context_settings("kind-dev").prometheus_scope == ()
    again = _dialog(qtbot, current_context="prod-eu")
    assert again.form().scope.text() == 'mesh_id=mesh-east, team="shop, \\"blue\\""'


def test_a_kiali_configuration_pasted_for_the_context_gives_its_prometheus_query_scope(qtbot, app, store) -> None:
    """The Kiali configuration pasted as the context's runtime dashboards (its CR) names its Prometheus'
    query_scope: the Query scope field, empty, takes it, and OK saves it; one typed already is kept."""
    from PySide6.QtCore import QPoint, Qt

    kiali = ("spec:\n  external_services:\n    prometheus:\n      url: http://thanos:9090\n      query_scope:\n"
             "        mesh_id: mesh-east\n        cluster: 'east \"1\"'\n    custom_dashboards:\n"
             "      discovery_enabled: false\n")
    dialog = _dialog(qtbot, current_context="prod-eu")
    dialog.show()
    qtbot.waitExposed(dialog)
    form = dialog.form()
    tabs = [form.server_tabs.tabText(i) for i in range(form.server_tabs.count())]
    form.server_tabs.setCurrentIndex(tabs.index("Runtime dashboards"))
    qtbot.mouseClick(form.dashboards_own, Qt.MouseButton.LeftButton, pos=QPoint(6, form.dashboards_own.height() // 2))
    editor = form.dashboards.edit()
    qtbot.addWidget(editor)
    editor.text.setPlainText(kiali)
    editor.accept()
    assert form.scope.text() == 'mesh_id=mesh-east, cluster="east \\"1\\""'
    with qtbot.waitSignal(dialog.settingsSaved):
        _click(qtbot, dialog, "Ok")
    assert store.load_settings().context_settings("prod-eu").prometheus_scope == (
        ("mesh_id", "mesh-east"), ("cluster", 'east "1"'))
    # a scope typed already is the user's: a pasted configuration does not replace it
    again = _dialog(qtbot, current_context="prod-eu")
    form = again.form()
    _type(qtbot, form.scope, "cluster=west")
    form.dashboards.pasted(kiali)
    assert form.scope.text() == "cluster=west"
