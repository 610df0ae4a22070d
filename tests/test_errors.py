"""Errors users meet: real exceptions from the official kubernetes client (over HTTP to a local stub that
answers with Kubernetes Status bodies, or to closed/silent ports) become typed one-line messages."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kubernetes.client
import pytest
import requests
from kubernetes.config.config_exception import ConfigException

from meshdesk.sources import errors
from meshdesk.sources.base import (
    ConfigError,
    Conflict,
    Forbidden,
    NotFound,
    SourceError,
    Timeout,
    Unauthorized,
    Unreachable,
)

SECRET_TOKEN = "sha256~Zx81Kq0pWm3nB7yT5vR2sL9dF4gH6jQ1"


def _status(code: int, reason: str, message: str, details: dict[str, str] | None = None) -> dict[str, object]:
    obj: dict[str, object] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": message, "reason": reason, "code": code}
    if details is not None:
        obj["details"] = details
    return obj


ROUTES: dict[str, tuple[int, object]] = {
    "/api/v1/namespaces/bookinfo/pods": (403, _status(
        403, "Forbidden",
        'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "bookinfo"',
        {"kind": "pods"})),
    "/api/v1/namespaces": (401, _status(401, "Unauthorized", "Unauthorized")),
    "/api/v1/namespaces/bookinfo/services/reviews": (404, _status(
        404, "NotFound", 'services "reviews" not found', {"name": "reviews", "kind": "services"})),
    "/apis/networking.istio.io/v1/namespaces/bookinfo/virtualservices/reviews": (409, _status(
        409, "Conflict", 'Operation cannot be fulfilled on virtualservices.networking.istio.io "reviews": '
        "the object has been modified; please apply your changes to the latest version and try again",
        {"name": "reviews", "group": "networking.istio.io", "kind": "virtualservices"})),
    "/api/v1/namespaces/bookinfo/configmaps": (500, _status(500, "InternalError", "etcdserver: leader changed")),
    "/api/v1/namespaces/bookinfo/secrets": (504, _status(504, "Timeout", "request did not complete within 60s")),
    "/apis/security.istio.io/v1/namespaces/bookinfo/peerauthentications": (404, "404 page not found"),
}


class _Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        path = self.path.split("?", 1)[0]
        code, body = ROUTES.get(path, (404, _status(404, "NotFound", "not found")))
        if path.startswith("/not-an-api/"):  # a web server where an API server was expected
            code, body = 404, "<html><body>404 Not Found</body></html>"
        raw = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_PUT = do_POST = _answer  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _client(url: str, token: str = SECRET_TOKEN) -> kubernetes.client.ApiClient:
    cfg = kubernetes.client.Configuration()
    cfg.host = url
    cfg.api_key = {"BearerToken": f"Bearer {token}"}
    cfg.retries = 0
    return kubernetes.client.ApiClient(cfg)


def _raised(fn: object, *args: object, **kwargs: object) -> BaseException:
    try:
        fn(*args, **kwargs)  # type: ignore[operator]
    except Exception as exc:  # noqa: BLE001 - the point is to capture what the library raises
        return exc
    raise AssertionError("expected the call to fail")


def _check_plain(err: SourceError) -> str:
    text = str(err)
    assert "\n" not in text
    assert SECRET_TOKEN not in text
    assert "Traceback" not in text and "HTTPResponse" not in text and "<" not in text
    return text


def test_401_says_log_in_again(stub_url: str) -> None:
    api = kubernetes.client.CoreV1Api(_client(stub_url))
    err = errors.translate(_raised(api.list_namespace), what="list namespaces")
    assert isinstance(err, Unauthorized)
    assert "credentials expired or rejected" in _check_plain(err)
    assert "kubectl get ns" in str(err)


def test_403_names_verb_resource_and_namespace(stub_url: str) -> None:
    api = kubernetes.client.CoreV1Api(_client(stub_url))
    err = errors.translate(_raised(api.list_namespaced_pod, "bookinfo"))
    assert isinstance(err, Forbidden)
    assert err.message == "not allowed to list pods in bookinfo"
    _check_plain(err)


def test_404_names_the_object(stub_url: str) -> None:
    api = kubernetes.client.CoreV1Api(_client(stub_url))
    err = errors.translate(_raised(api.read_namespaced_service, "reviews", "bookinfo"))
    assert isinstance(err, NotFound)
    assert 'services "reviews" not found' in _check_plain(err)


def test_404_without_status_body_suggests_missing_api(stub_url: str) -> None:
    api = kubernetes.client.CustomObjectsApi(_client(stub_url))
    exc = _raised(api.list_namespaced_custom_object, "security.istio.io", "v1", "bookinfo", "peerauthentications")
    err = errors.translate(exc, what="peerauthentications")
    assert isinstance(err, NotFound)
    assert "peerauthentications: the resource was not found" in _check_plain(err)
    assert "is the API for it installed" in str(err)


def test_an_address_that_is_no_api_server_says_so(stub_url: str) -> None:
    """A kubeconfig pointing at some other server (a web server answering 404 to everything): the
    requests every API server serves get a plain 404, which used to read "Not found: ... It may have
    been deleted meanwhile". It is a configuration problem, and the message says what is wrong."""
    from meshdesk.sources.inventory import RawApi

    for path, what in (("/version", errors.CONTACT_API), ("/api/v1/namespaces", errors.LIST_NAMESPACES)):
        with pytest.raises(SourceError) as raised:
            RawApi(_client(stub_url + "/not-an-api"), 5.0, None).get(path, what=what)
        err = raised.value
        assert err.kind == "config", err
        assert "does not look like a Kubernetes API server" in _check_plain(err)
        assert "kubeconfig" in str(err)


def test_409_is_a_conflict_with_advice(stub_url: str) -> None:
    api = kubernetes.client.CustomObjectsApi(_client(stub_url))
    exc = _raised(api.replace_namespaced_custom_object, "networking.istio.io", "v1", "bookinfo",
                  "virtualservices", "reviews", {"metadata": {"name": "reviews"}})
    err = errors.translate(exc)
    assert isinstance(err, Conflict)
    text = _check_plain(err)
    assert 'virtualservices "reviews"' in text and "reload" in text


def test_500_and_504(stub_url: str) -> None:
    api = kubernetes.client.CoreV1Api(_client(stub_url))
    err = errors.translate(_raised(api.list_namespaced_config_map, "bookinfo"), what="list configmaps")
    assert isinstance(err, Unreachable)
    assert "500" in _check_plain(err) and "leader changed" in str(err)
    err = errors.translate(_raised(api.list_namespaced_secret, "bookinfo"))
    assert isinstance(err, Timeout)
    _check_plain(err)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_unreachable_with_address() -> None:
    port = _closed_port()
    api = kubernetes.client.CoreV1Api(_client(f"http://127.0.0.1:{port}"))
    err = errors.translate(_raised(api.list_namespace))
    assert isinstance(err, Unreachable)
    text = _check_plain(err)
    assert f"127.0.0.1:{port}" in text and "connection refused" in text


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers (a hung API server)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield int(sock.getsockname()[1])
    sock.close()


def test_read_timeout_is_timeout(silent_server: int) -> None:
    api = kubernetes.client.CoreV1Api(_client(f"http://127.0.0.1:{silent_server}"))
    err = errors.translate(_raised(api.list_namespace, _request_timeout=(2, 0.3)))
    assert isinstance(err, Timeout)
    assert f"127.0.0.1:{silent_server}" in _check_plain(err)


def test_tls_to_a_plain_http_port_is_unreachable(stub_url: str) -> None:
    api = kubernetes.client.CoreV1Api(_client(stub_url.replace("http://", "https://")))
    err = errors.translate(_raised(api.list_namespace))
    assert isinstance(err, Unreachable)
    text = _check_plain(err)
    assert "TLS" in text and stub_url.removeprefix("http://") in text


def test_requests_errors_for_prometheus(silent_server: int) -> None:
    port = _closed_port()
    exc = _raised(requests.get, f"http://admin:pw123@127.0.0.1:{port}/api/v1/query", timeout=2)
    err = errors.translate(exc, what="query Prometheus")
    assert isinstance(err, Unreachable)
    text = _check_plain(err)
    assert f"127.0.0.1:{port}" in text and "pw123" not in text
    exc = _raised(requests.get, f"http://127.0.0.1:{silent_server}/api/v1/query", timeout=(2, 0.3))
    assert isinstance(errors.translate(exc), Timeout)


def test_exec_plugin_failure_names_plugin_and_blames_path_only_when_not_found() -> None:
    err = errors.translate(ConfigException("exec: process returned 1. error: token expired"),
                           what="exec plugin gke-gcloud-auth-plugin")
    assert isinstance(err, ConfigError)
    text = _check_plain(err)
    assert "gke-gcloud-auth-plugin" in text and "token expired" in text
    assert "PATH" not in text and "log in again" in text  # it was found and ran: PATH is not the cause
    missing = errors.exec_plugin_error("/opt/bin/kubelogin", FileNotFoundError(2, "No such file", "kubelogin"))
    assert "'kubelogin' was not found" in str(missing) and "PATH" in str(missing)
    # a wrapper script whose own command is missing: the shell's "command not found" status
    wrapper = errors.exec_plugin_error("aws-auth", ConfigException("exec: process returned 127. aws: not found"))
    assert "PATH" in str(wrapper)
    # it ran, exited 0 and printed nothing
    silent = errors.exec_plugin_error("kubelogin", ConfigException(
        "exec: failed to decode process output: Expecting value: line 1 column 1 (char 0)"))
    text = _check_plain(silent)
    assert "'kubelogin' failed: its output is not an ExecCredential" in text and "PATH" not in text


def test_source_errors_pass_through_and_others_are_redacted() -> None:
    original = Forbidden("not allowed")
    assert errors.translate(original) is original
    err = errors.translate(RuntimeError(f"boom\nAuthorization: Bearer {SECRET_TOKEN}"), what="load")
    assert type(err) is SourceError
    _check_plain(err)


@pytest.mark.parametrize("text, secret", [
    (f"Authorization: Bearer {SECRET_TOKEN}", SECRET_TOKEN),
    (f"curl -H 'authorization: bearer {SECRET_TOKEN}'", SECRET_TOKEN),
    ("url?user=bob&password=hunter2xy&x=1", "hunter2xy"),
    ('{"token": "abcd1234secret", "tokenFile": "/var/run/token"}', "abcd1234secret"),
    ("password: 'p@ss w0rd'", "p@ss"),
    ("id-token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJlc2ln", "eyJzdWIiOiJqYW5lIn0"),
    ("client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFcFFJQkFBS0NBUUVBNnR4",
     "LS0tLS1CRUdJTiBSU0E"),
    ("cert LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURCVENDQWUyZ0F3SUJBZ0lJ end",
     "LS0tLS1CRUdJTiBDRVJU"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEA6tx\n-----END RSA PRIVATE KEY-----", "MIIEpQIBAAKCAQEA6tx"),
    ("-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgII (cut short", "MIIDBTCCAe2gAwIBAgII"),
    ("basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
])
def test_redact_removes_secrets(text: str, secret: str) -> None:
    out = errors.redact(text)
    assert secret not in out
    assert "[redacted" in out


@pytest.mark.parametrize("text", [
    "GET /api/v1/namespaces/bookinfo/pods?limit=500 failed",
    "tokenFile: /var/run/secrets/token",
    "reviews-v2-5b8f6c7d9-abcde in bookinfo uses basic auth",
    "sha256 3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
])
def test_redact_keeps_ordinary_text(text: str) -> None:
    assert errors.redact(text) == text


@pytest.mark.parametrize("text, secret", [
    ('Get "https://admin:Hunter2pass@idp.example.com/token": dial tcp: connection refused', "Hunter2pass"),
    ("Failed to parse: https://admin:SrvPw99@127.0.0.1:99999/version", "SrvPw99"),
    ("clone https://ghp-Tok3n@github.com/org/repo failed", "ghp-Tok3n"),
    ("error: session_token=Hunter2pass-xyz expired", "Hunter2pass"),
    ("export GITHUB_TOKEN=gh-Secret1", "gh-Secret1"),
    ("DB_PASSWORD=Hunter2pass ./run", "Hunter2pass"),
    ("AWS_SESSION_TOKEN=IQoJb3JpZ2lu/X2VjEJr+abc", "IQoJb3JpZ2lu"),
    ("kubectl --session-key=k3y-Value get ns", "k3y-Value"),
    ('{"accessToken": "Hunter2 pass", "expiry": "2030-01-01"}', "Hunter2"),
    ('{"idToken":"abc.def.ghi"}', "abc.def"),
    ('private_key: "my secret words"', "secret words"),
    ("password: 'p@ss w0rd'", "w0rd"),
    ("Cookie: session=Hunter2passCookie; theme=dark", "Hunter2passCookie"),
    ("login failed: password Hunter2pass rejected", "Hunter2pass"),
    # a credential header with a prefix, and a secret name ending an annotation key (the wider net had
    # let these through, though the narrower one caught them)
    ("Proxy-Authorization: abc123def456", "abc123def456"),
    ("X-Authorization: s3cr3tvalue7", "s3cr3tvalue7"),
    ("request header proxy-authorization=abcdef123456 rejected", "abcdef123456"),
    ("annotation vault.example.com/token: s.abc123 is invalid", "s.abc123"),
    ("annotations: {example.io/password: hunter2}", "hunter2"),
])
def test_redact_catches_any_secret_name_and_url_credentials(text: str, secret: str) -> None:
    """Names kubectl's plugins, shells and identity providers print (``NAME_TOKEN=``, ``accessToken``,
    ``user:password@`` in a URL) came through, as did a quoted value's words after its first."""
    out = errors.redact(text)
    assert secret not in out
    assert "[redacted]" in out


def test_redact_keeps_words_that_only_look_like_secret_names() -> None:
    """The wider net catches no ordinary words: a bare "key", words ending in "key", a path's last part,
    names that go on past the secret word, an e-mail address or a URL without credentials."""
    keep = [
        "the monkey: climbed, turkey=roasted, primary key: id, KeyError: 'x'",
        "open /home/jane/.kube/my-token: no such file or directory",
        'Get "https://idp.example.com/oauth/token": dial tcp: connection refused',
        "tokenFile: /var/run/token, sessionTokenFile: /x, api_key_id: 5, secretName: db-creds",
        "user jane@example.com cannot reach http://prometheus:9090/api/v1/query?query=up",
        "login failed: password rejected; the token expired at 10:00",
    ]
    assert [errors.redact(text) for text in keep] == keep
    assert errors.redact('Get "https://admin:pw@idp.example.com/token": dial tcp') == \
        'Get "https://[redacted]@idp.example.com/token": dial tcp'


def test_a_redacted_value_in_brackets_keeps_the_closing_bracket() -> None:
    """"(token: abc123)" became "(token: [redacted]" and the message read as cut off. The bracket the
    line opened before the key is kept; a ")" that may be part of a password is not shown."""
    assert errors.redact("login failed (token: abc123def)") == "login failed (token: [redacted])"
    assert errors.redact("call (password=abc) and (token=xyz9)") == "call (password=[redacted]) and (token=[redacted])"
    for text in ("password=pa)ss", "password=secret)", "x (a) password=abc)", "password=(abc)"):
        assert errors.redact(text).endswith("=[redacted]"), text
