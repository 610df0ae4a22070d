"""Empty and first-run states, shown in place of the graph.

- *No traffic*: the window holds no requests. Say so, list the idle workloads the inventory found and
  show how to make traffic (in the demo: a "Start traffic" button).
- *No cluster*: no kubeconfig, or the cluster cannot be reached. Offer the demo mesh or another
  kubeconfig file.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.inventory import Inventory

TRAFFIC_COMMAND = ("kubectl exec deploy/curl -n {ns} -- sh -c 'while true; do "
                   "curl -s http://{svc}.{ns}.svc.cluster.local:{port}{path}; sleep 1; done'")


CURL_SAMPLE = "https://raw.githubusercontent.com/istio/istio/master/samples/curl/curl.yaml"


def traffic_command(inventory: Inventory | None, namespaces: Sequence[str]) -> str:
    """kubectl lines that send requests to a service of the first namespace (helloworld if present),
    starting Istio's curl sample first when the namespace has no ``curl`` deployment."""
    ns = namespaces[0] if namespaces else "default"
    svc, port, path = "helloworld", 5000, "/hello"
    if inventory is not None:
        services = [s for s in inventory.services if s.namespace in namespaces]
        chosen = next((s for s in services if s.name == "helloworld"), None) or \
            next((s for s in services if s.name == "productpage"), None) or \
            (services[0] if services else None)
        if chosen is not None:
            ns, svc = chosen.namespace, chosen.name
            port = chosen.ports[0].port if chosen.ports else 80
            path = {"helloworld": "/hello", "productpage": "/productpage"}.get(svc, "/")
    command = TRAFFIC_COMMAND.format(ns=ns, svc=svc, port=port, path=path)
    if inventory is not None and inventory.workload(ns, "curl") is None:
        command = f"kubectl apply -n {ns} -f {CURL_SAMPLE}\n{command}"
    return command


class EmptyState(QWidget):
    startTrafficRequested = Signal()
    openDemoRequested = Signal()
    kubeconfigChosen = Signal(str)
    retryRequested = Signal()
    showIdleRequested = Signal()
    settingsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = ""
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setMaximumWidth(720)
        lay = QVBoxLayout(box)
        self.title = QLabel()
        f = QFont(self.font())
        f.setPointSizeF(f.pointSizeF() * 1.5)
        f.setBold(True)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.text)
        self.command = QPlainTextEdit()
        self.command.setReadOnly(True)
        self.command.setFont(QFont("monospace"))
        self.command.setMaximumHeight(72)
        lay.addWidget(self.command)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start traffic")
        self.start_button.setToolTip("Make the demo's clients send requests again")
        self.start_button.clicked.connect(self.startTrafficRequested)
        self.demo_button = QPushButton("Open the demo mesh")
        self.demo_button.clicked.connect(self.openDemoRequested)
        self.kubeconfig_button = QPushButton("Choose a kubeconfig…")
        self.kubeconfig_button.clicked.connect(self._choose_kubeconfig)
        self.retry_button = QPushButton("Retry")
        self.retry_button.clicked.connect(self.retryRequested)
        self.settings_button = QPushButton("Prometheus settings…")
        self.settings_button.setToolTip("Give this context's Prometheus address and credentials")
        self.settings_button.clicked.connect(self.settingsRequested)
        self.idle_button = QPushButton("Show idle nodes")
        self.idle_button.setToolTip("Draw the workloads that exist but had no traffic in the time window")
        self.idle_button.clicked.connect(self.showIdleRequested)
        self._buttons = (self.start_button, self.idle_button, self.settings_button, self.retry_button,
                         self.demo_button, self.kubeconfig_button)
        for b in self._buttons:
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box, 4)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def show_no_traffic(self, inventory: Inventory | None, namespaces: Sequence[str], *, demo: bool,
                        duration_label: str = "", replayed: str = "") -> None:
        """``replayed``: the past moment replay shows (then nothing can be started or sent to it)."""
        self.mode = "no-traffic"
        window = f" in the {duration_label} before {replayed}" if replayed and duration_label else \
            f" before {replayed}" if replayed else f" in the last {duration_label}" if duration_label else ""
        self.title.setText(f"No traffic{window}")
        idle: list[str] = []
        if inventory is not None:
            idle = [f"{w.namespace}/{w.name}" for w in inventory.workloads if w.namespace in namespaces]
        ns_text = ", ".join(namespaces) if namespaces else "no namespace"
        parts = [f"Nothing sent requests in <b>{_esc(ns_text)}</b>{_esc(window)}."]
        if idle:
            shown = ", ".join(_esc(i) for i in idle[:30]) + (f" and {len(idle) - 30} more" if len(idle) > 30 else "")
            parts.append(f"Idle workloads found: {shown}.")
        elif inventory is not None:
            parts.append("No workloads were found in these namespaces.")
        if replayed:
            # the past cannot be given traffic: no demo button, no command to run
            parts.append("Move the replay slider to another time, or leave replay to see the mesh now.")
            self.command.hide()
            self.text.setText("<p>" + "</p><p>".join(parts) + "</p>")
            self._only(*([self.idle_button] if idle else []))
            return
        if demo:
            parts.append("The demo's traffic is stopped. Start it to see the mesh come alive.")
            self.command.hide()
        else:
            parts.append("To generate traffic, run for example:")
            self.command.setPlainText(traffic_command(inventory, list(namespaces)))
            self.command.show()
        self.text.setText("<p>" + "</p><p>".join(parts) + "</p>")
        self._only(*([self.start_button] if demo else []), *([self.idle_button] if idle else []))

    def show_no_namespace(self) -> None:
        self.mode = "no-namespace"
        self.title.setText("No namespace selected")
        self.text.setText("<p>Choose one or more namespaces with the <b>Namespaces</b> button in the "
                          "toolbar. Your choice is remembered for this context.</p>")
        self.command.hide()
        self._only()

    def _only(self, *visible: QPushButton) -> None:
        for b in self._buttons:
            b.setVisible(b in visible)

    def show_no_cluster(self, reason: str, *, can_retry: bool, title: str = "No cluster to show") -> None:
        self.mode = "no-cluster"
        self.title.setText(title)
        self.text.setText(f"<p>{_esc(reason)}</p><p>You can open the built-in demo mesh, which behaves "
                          "like a small cluster with Istio, or choose a kubeconfig file.</p>")
        self.command.hide()
        self._only(self.demo_button, self.kubeconfig_button, *([self.retry_button] if can_retry else []))

    def show_no_prometheus(self, reason: str) -> None:
        """The cluster answers but its Prometheus does not: the way out is Prometheus's address."""
        self.mode = "no-prometheus"
        self.title.setText("Prometheus cannot be reached")
        self.text.setText(f"<p>{_esc(reason)}</p><p>The traffic graph is drawn from Istio's telemetry in "
                          "Prometheus. meshdesk reaches it through the API server (or a port-forward); give "
                          "its address in the Prometheus settings of this context if it lives elsewhere.</p>")
        self.command.hide()
        self._only(self.settings_button, self.retry_button, self.demo_button)

    def show_loading(self, what: str) -> None:
        self.mode = "loading"
        self.title.setText("Loading…")
        self.text.setText(f"<p>Reading {_esc(what)}.</p>")
        self.command.hide()
        self._only()

    def _choose_kubeconfig(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a kubeconfig", "", "All files (*)")
        if path:
            self.kubeconfigChosen.emit(path)


def _esc(s: str) -> str:
    return html.escape(s, quote=False)
