"""Empty and first-run states, shown in place of the graph.

- *No traffic*: the window holds no requests. Say so, list the idle workloads the inventory found and
  show how to make traffic (in the demo: a "Start traffic" button); first, for a namespace whose pods
  run no sidecar, how to put it in the mesh (``meshdesk.mesh.traffic_advice``), as nothing is recorded
  before.
- *No cluster*: no kubeconfig, or the cluster cannot be reached. Offer the demo mesh or another
  kubeconfig file.
- *No snapshot*: the snapshot file the app was started with cannot be opened. Say why; offer another
  snapshot, the demo mesh or a kubeconfig.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextDocumentLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.telemetry import is_telemetry_warning
from meshdesk.mesh.traffic_advice import CURL_SAMPLE, no_traffic_advice, traffic_command

__all__ = ["CURL_SAMPLE", "EmptyState", "traffic_command"]


class CommandBox(QPlainTextEdit):
    """Commands to copy, read-only, as tall as their lines wrapped at its width (up to ten)."""

    MAX_LINES = 10

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFont(QFont("monospace"))
        self.document().documentLayout().documentSizeChanged.connect(lambda _size: self._fit())
        self._fit()

    def _wrapped_lines(self) -> int:
        """The lines the text takes at the box's width, wrapped ones included. A plain text edit lays its
        lines out when they are painted: the document's size counted a line not yet in view as one,
        however long, and the curl loop under a long ``kubectl apply`` line was cut to half a line,
        with a scroll bar. Each block is laid out here (at most ``MAX_LINES`` lines' worth)."""
        layout = self.document().documentLayout()
        total = 0
        block = self.document().firstBlock()
        while block.isValid() and total < self.MAX_LINES:
            if isinstance(layout, QPlainTextDocumentLayout):
                layout.ensureBlockLayout(block)
            total += max(1, block.layout().lineCount())
            block = block.next()
        return total

    def _fit(self) -> None:
        lines = max(1, min(self.MAX_LINES, self._wrapped_lines()))
        margins = self.contentsMargins()
        extra = 2 * self.frameWidth() + margins.top() + margins.bottom() + 2 * self.document().documentMargin()
        self.setFixedHeight(int(self.fontMetrics().lineSpacing() * lines + extra) + 2)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()


class EmptyState(QWidget):
    startTrafficRequested = Signal()
    openDemoRequested = Signal()
    kubeconfigChosen = Signal(str)
    snapshotRequested = Signal()
    retryRequested = Signal()
    showIdleRequested = Signal()
    settingsRequested = Signal()
    enableInjectionRequested = Signal(str)  # a namespace not in the mesh

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
        self.command = CommandBox()
        lay.addWidget(self.command)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start traffic")
        self.start_button.setToolTip("Make the demo's clients send requests again")
        self.start_button.clicked.connect(self.startTrafficRequested)
        self.demo_button = QPushButton("Open the demo mesh")
        self.demo_button.clicked.connect(self.openDemoRequested)
        self.kubeconfig_button = QPushButton("Choose a kubeconfig…")
        self.kubeconfig_button.clicked.connect(self._choose_kubeconfig)
        self.snapshot_button = QPushButton("Open a snapshot…")
        self.snapshot_button.clicked.connect(self.snapshotRequested)
        self.retry_button = QPushButton("Retry")
        self.retry_button.clicked.connect(self.retryRequested)
        self.settings_button = QPushButton("Prometheus settings…")
        self.settings_button.setToolTip("Give this context's Prometheus address and credentials")
        self.settings_button.clicked.connect(self.settingsRequested)
        self.idle_button = QPushButton("Show idle nodes")
        self.idle_button.setToolTip("Draw the workloads that exist but had no traffic in the time window")
        self.idle_button.clicked.connect(self.showIdleRequested)
        self.injection_button = QPushButton("Enable sidecar injection…")
        self.injection_button.clicked.connect(
            lambda: self.enableInjectionRequested.emit(self.injection_button.property("namespace")))
        self._buttons = (self.start_button, self.injection_button, self.idle_button, self.settings_button,
                         self.retry_button, self.snapshot_button, self.demo_button, self.kubeconfig_button)
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
                        duration_label: str = "", replayed: str = "", can_enable_injection: bool = False,
                        snapshot_taken: str | None = None, demo_running: bool = False,
                        kinds_off: bool = False, warnings: Sequence[str] = (), focus_missing: str = "",
                        focus: str = "", snapshot_holds: Sequence[str] | None = None) -> None:
        """``demo``: the demo is shown, its traffic running or not (``demo_running``). ``kinds_off``:
        every kind of traffic is turned off in View > Traffic, so nothing can show whatever is sent.
        ``warnings``: the graph's (samples it skipped: then "no traffic" may be what could not be read).
        ``replayed``: the past moment replay shows (then nothing can be started or sent to it).
        ``can_enable_injection``: the window can open the action that labels a namespace for injection
        (offered for a namespace not in the mesh). ``snapshot_taken``: an offline snapshot is shown,
        taken then ("" when unknown): a file cannot be given traffic either, nor a namespace labelled.
        ``focus_missing``: why a node graph is empty when its node is not in the namespace
        (``meshdesk.mesh.node_focus``, as ``meshdesk graph`` says it): said instead of "no traffic".
        ``focus``: the node of the node graph shown, in words ("service shop/ratings"): its own traffic is
        what is missing, not the namespace's, whose other workloads may well be busy. ``snapshot_holds``:
        the namespaces the snapshot shown was taken for (None: not known); one chosen beyond them (Other
        namespace…) is said to be outside the file, not to have had no requests."""
        self.mode = "no-traffic"
        if focus_missing:
            self._show_missing_focus(focus_missing, snapshot_taken is not None)
            return
        window = f" in the {duration_label} before {replayed}" if replayed and duration_label else \
            f" before {replayed}" if replayed else f" in the last {duration_label}" if duration_label else ""
        if snapshot_taken is not None:
            self._show_quiet_snapshot(inventory, namespaces, duration_label, snapshot_taken, warnings,
                                      snapshot_holds)
            return
        self.title.setText(f"No traffic{window}")
        ns_text = ", ".join(namespaces) if namespaces else "no namespace"
        parts = [f"Nothing sent requests in <b>{_esc(ns_text)}</b>{_esc(window)}."]
        if focus:
            parts = [f"Nothing called <b>{_esc(focus)}</b>, and it called nothing{_esc(window)}. The rest of "
                     f"<b>{_esc(ns_text)}</b> may have traffic: go back to the full graph (Alt+Left) to see it."]
        parts += _skipped_text(warnings, "Prometheus answered")
        if kinds_off:
            # whatever is sent, nothing is graphed: that, not the mesh, is the reason
            self.title.setText("Every kind of traffic is turned off")
            parts = [f"Traffic in <b>{_esc(ns_text)}</b> is not shown: HTTP, gRPC and TCP are all turned off in "
                     "View &gt; Traffic. Turn one back on to see it."]
            self.command.hide()
            self.text.setText("<p>" + "</p><p>".join(parts) + "</p>")
            self._only()
            return
        # chosen, but not in the cluster (told only where the cluster's namespaces could be listed)
        missing = [] if inventory is None or inventory.cluster_namespaces is None else [
            n for n in namespaces if n not in inventory.cluster_namespaces]
        if missing and len(missing) == len(namespaces) and not focus:
            # none of them exists (one remembered and deleted since, a typo after -n): "No traffic" and
            # "Nothing sent requests in nosuchns" said of it as if it had been looked at
            where = "demo" if demo else "cluster"
            self.title.setText(f"No namespace {missing[0]} in this {where}" if len(missing) == 1
                               else f"None of these namespaces is in this {where}")
            self.text.setText("<p>" + _esc(f"There is no namespace {', '.join(missing)} in this {where}.")
                              + " Choose namespaces that exist with the <b>Namespaces</b> button in the toolbar."
                              + " Your choice is remembered for this context.</p>")
            self.command.hide()
            self._only()
            return
        idle = _idle_names(inventory, namespaces)
        if len(missing) < len(namespaces) and not focus:  # of namespaces that are not there, only that is said
            parts += _idle_text(idle, inventory is not None, "Idle workloads found",
                                "No workloads were found in these namespaces.")
        if replayed:
            # the past cannot be given traffic: no demo button, no command to run
            parts.append("Move the replay slider to another time, or leave replay to see the mesh now.")
            self.command.hide()
            self.text.setText("<p>" + "</p><p>".join(parts) + "</p>")
            self._only(*([self.idle_button] if idle and not focus else []))
            return
        offer: list[QPushButton] = []
        if missing:
            parts.append(_esc(f"There is no namespace {', '.join(missing)} in this "
                              f"{'demo' if demo else 'cluster'}: choose namespaces that exist in the toolbar."))
        if demo and not demo_running:
            parts.append("The demo's traffic is stopped. Start it to see the mesh come alive.")
            self.command.hide()
            offer.append(self.start_button)
        elif demo:
            # running, and still nothing here: the namespaces chosen (said above) or what is shown
            if not missing:
                parts.append("The demo's traffic is running: the kinds of traffic shown (View &gt; Traffic) may "
                             "leave it out, or it has not reached this window yet (it refreshes by itself).")
            self.command.hide()
        else:
            advice = no_traffic_advice(inventory, list(namespaces))
            # nothing is recorded where no proxy runs: say how to join the mesh before how to send requests
            outside = [g.namespace for g in advice.gaps if g.not_in_mesh]
            for gap in advice.gaps:
                sentence = _esc(gap.sentence())
                if can_enable_injection and gap.namespace == (outside[0] if outside else None):
                    sentence += " The button <b>Enable sidecar injection</b> below labels it for you."
                parts.append(sentence)
            if not advice.traffic and advice.traffic_sentence():
                parts.append(_esc(advice.traffic_sentence()))
            if advice.gaps:  # the commands come under comments saying which step each is
                parts.append("Run, for example:" if advice.traffic else "Run:")
            elif advice.traffic:
                parts.append(_esc(advice.traffic_sentence()))
            if outside and can_enable_injection:
                self.injection_button.setText(f"Enable sidecar injection in {outside[0]}…")
                self.injection_button.setProperty("namespace", outside[0])
                offer.append(self.injection_button)
            self._set_commands(advice.script())
        self.text.setText("<p>" + "</p><p>".join(parts) + "</p>")
        self._only(*offer, *([self.idle_button] if idle and not focus else []))

    def _show_missing_focus(self, why: str, snapshot: bool) -> None:
        """A node graph of a node the namespace lacks: that, not "no traffic", is why it is empty."""
        self.title.setText("No such node in this snapshot" if snapshot else "No such node")
        where = "the snapshot" if snapshot else "the namespace"
        parts = [f"This node graph is empty: {_esc(why)}.",
                 f"It is about a node {where} does not hold. <b>Back to the full graph</b> (above) shows "
                 "what there is; double-click a node there to see its node graph."]
        self.command.hide()
        self.text.setText("<p>" + "</p><p>".join(parts) + "</p>")
        self._only()

    def _show_quiet_snapshot(self, inventory: Inventory | None, namespaces: Sequence[str], duration_label: str,
                             taken: str, warnings: Sequence[str] = (), holds: Sequence[str] | None = None) -> None:
        """A snapshot that holds no requests: what it holds, and no command (it is a file, not a cluster).
        Namespaces chosen that it was not taken for (``holds``) are said to be outside it: it said they
        had no requests and no workloads, as if that had been recorded."""
        outside = [n for n in namespaces if holds is not None and n not in holds]
        if outside:
            self.title.setText("Not in this snapshot")
            them = "that namespace" if len(outside) == 1 else "those namespaces"
            self.text.setText(f"<p>This snapshot was not taken for <b>{_esc(', '.join(outside))}</b>: it holds "
                              f"nothing of {them}, neither traffic nor workloads. It holds "
                              f"{_esc(', '.join(holds or ()) or 'no namespace')}: choose among them with the "
                              "<b>Namespaces</b> button, or open the context it was taken from.</p>")
            self.command.hide()
            self._only()
            return
        self.title.setText("No traffic in this snapshot")
        ns_text = ", ".join(namespaces) if namespaces else "no namespace"
        when = f" (taken {taken})" if taken else ""
        window = f" in the {duration_label} before it was taken" if duration_label else ""
        skipped = _skipped_text(warnings, "The file holds")
        holds = "no requests that could be used" if skipped else "no requests"
        parts = [f"This snapshot{_esc(when)} holds {holds} in <b>{_esc(ns_text)}</b>{_esc(window)}.", *skipped]
        idle = _idle_names(inventory, namespaces)
        parts += _idle_text(idle, inventory is not None, "Idle workloads it holds",
                            "It holds no workloads in these namespaces.")
        parts.append("A snapshot is what was recorded then: open the context it was taken from to see the mesh "
                     "as it is now.")
        self.command.hide()
        self.text.setText("<p>" + "</p><p>".join(parts) + "</p>")
        self._only(*([self.idle_button] if idle else []))

    def _set_commands(self, lines: Sequence[str]) -> None:
        if lines:
            self.command.setPlainText("\n".join(lines))
        self.command.setVisible(bool(lines))

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

    def show_no_snapshot(self, path: str, reason: str, *, can_retry: bool = False) -> None:
        """A snapshot file that cannot be shown, and nothing else on screen (the app was started on it,
        or it was cut short since it was offered)."""
        self.mode = "no-snapshot"
        self.title.setText("Cannot open the snapshot")
        self.text.setText(f"<p>Cannot open the snapshot <b>{_esc(path)}</b>: {_esc(reason)}.</p><p>Open another "
                          "snapshot, the built-in demo mesh, or a context of your kubeconfig (the context box "
                          "above).</p>")
        self.command.hide()
        self._only(*([self.retry_button] if can_retry else []), self.snapshot_button, self.demo_button,
                   self.kubeconfig_button)

    def show_no_prometheus(self, reason: str, title: str = "Prometheus cannot be reached") -> None:
        """The cluster answers but its Prometheus does not (or none was found: ``title`` says which): the
        way out is Prometheus's address."""
        self.mode = "no-prometheus"
        self.title.setText(title)
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


def _skipped_text(warnings: Sequence[str], who: str) -> list[str]:
    """The sentence saying telemetry was there but skipped (so "no traffic" may be what could not be
    read), or none."""
    skipped = [w for w in warnings if is_telemetry_warning(w)]
    if not skipped:
        return []
    return [f"{_esc(who)} telemetry that could not be used: " + "; ".join(_esc(w) for w in skipped) + "."]


def _idle_names(inventory: Inventory | None, namespaces: Sequence[str]) -> list[str]:
    """The inventory's workloads in ``namespaces`` (idle: nothing called them), as namespace/name."""
    if inventory is None:
        return []
    return [f"{w.namespace}/{w.name}" for w in inventory.workloads if w.namespace in namespaces]


def _idle_text(idle: Sequence[str], read: bool, found: str, none: str) -> list[str]:
    """The sentence naming the ``idle`` workloads, the first 30 of them; ``none`` when there are none
    and the inventory was ``read``; nothing without an inventory."""
    if not idle:
        return [none] if read else []
    shown = ", ".join(_esc(i) for i in idle[:30]) + (f" and {len(idle) - 30} more" if len(idle) > 30 else "")
    return [f"{found}: {shown}."]


def _esc(s: str) -> str:
    return html.escape(s, quote=False)
