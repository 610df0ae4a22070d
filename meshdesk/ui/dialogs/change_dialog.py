"""One dialog for every traffic and security action: the form, then a review page (YAML preview, diff
against the cluster now, schema and validation findings, the server's dry run) with an explicit Confirm,
then the outcome. Nothing is written before Confirm; a change someone made meanwhile is reported, never
overwritten.

The calls to the cluster (reading the current objects, the schemas, the dry run, the apply) run on a
worker thread, one step at a time; the result comes back by signal (``reviewReady``, ``applyDone``)
and the buttons are disabled meanwhile. Cancel during a review leaves at once: the review's reads and
dry run finish on their own (within the source's timeout) and their answer is dropped. An apply cannot
be cancelled halfway: Cancel is disabled meanwhile, and Escape or the window's close button leave the
dialog open until it shows the outcome.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6 import QtGui
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.changes import ChangePlan, Findings, check
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.routing import RoutingError
from meshdesk.mesh.schema import CRDSchemas
from meshdesk.mesh.words import breakable, counted
from meshdesk.sources.base import Conflict, SourceError
from meshdesk.sources.writes import RunResult, apply, dry_run, refresh
from meshdesk.ui.dialogs.forms import ActionForm, FittingScrollArea

log = logging.getLogger(__name__)

FORM, REVIEW, DONE = 0, 1, 2


class ChangeDialog(QDialog):
    """``applied(summary)`` is emitted after a successful apply (the window refreshes its graph)."""

    applied = Signal(str)
    wrote = Signal()  # an apply changed the cluster, wholly or in part (the window reads it again)
    reviewReady = Signal(bool)  # the review page is filled (True) or the review failed (False)
    applyDone = Signal(object)  # the RunResult of Confirm
    _stepDone = Signal(str, object)  # from the worker thread: (step, result or exception)

    def __init__(self, form: ActionForm, inventory: Inventory, writer: Any,
                 schemas: Callable[[], tuple[CRDSchemas, list[str]]], parent: QWidget | None = None,
                 reload: Callable[[], Inventory] | None = None,
                 read_only: Callable[[], bool] | None = None, cluster: str = "") -> None:
        """``reload`` reads the cluster's state again (None: it cannot be read again): after a conflict
        the user may review the same form against what the cluster has now. ``read_only`` says whether
        read-only mode is on now: turned on while the dialog is open, it still refuses to apply. ``cluster``:
        the cluster of a mesh of several that ``writer`` writes to, said with the change ("" for the shown
        context's)."""
        super().__init__(parent)
        self.cluster = cluster
        self.form = form
        self._reload = reload
        self._read_only = read_only or (lambda: False)
        self._conflicted = False  # someone changed what this dialog read: offer to read it again
        self.inventory = inventory
        self.writer = writer
        self._schemas = schemas
        self.plan: ChangePlan | None = None
        self.findings: Findings | None = None
        self.dry: RunResult | None = None
        self.run_result: RunResult | None = None
        self._worker: threading.Thread | None = None
        self._step = ""
        self._stepDone.connect(self._on_step_done, Qt.ConnectionType.QueuedConnection)
        heading = form.heading or (f"{form.title} for {form.subject}" if form.subject else form.title)
        self.setWindowTitle(f"meshdesk - {heading}")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self.pages = QStackedWidget()
        # form page
        page = QWidget()
        lay = QVBoxLayout(page)
        # a name at Kubernetes' limits (a 63-character namespace, a 253-character workload) wraps: the dialog
        # grew as wide as it, a few screens, its buttons out of reach
        self.heading = _WrappingLabel(f"<b>{html.escape(breakable(heading))}</b>")
        lay.addWidget(self.heading)
        help_label = QLabel(form.help_text)
        help_label.setWordWrap(True)
        lay.addWidget(help_label)
        # readable in either theme
        self.attention = _WrappingLabel(f"<b>Note:</b> {html.escape(breakable(form.attention))}")
        self.attention.setObjectName("formAttention")
        self.attention.setVisible(bool(form.attention))
        lay.addWidget(self.attention)
        # a form taller than the screen (Request routing's, on a 1280x800 screen at 150%) scrolls: its
        # Review and Cancel were below the screen's edge, out of reach
        self.form_area = QScrollArea()
        self.form_area.setWidget(form)
        self.form_area.setWidgetResizable(True)
        self.form_area.setFrameShape(QFrame.Shape.NoFrame)
        lay.addWidget(self.form_area, 1)
        self.form_error = _WrappingLabel()
        self.form_error.setObjectName("formError")
        self.form_error.setProperty("role", "error")  # the theme's error colour (2.7:1 as a fixed red on dark)
        lay.addWidget(self.form_error)
        self.pages.addWidget(page)
        # review page
        page = QWidget()
        lay = QVBoxLayout(page)
        self.summary = _WrappingLabel()
        lay.addWidget(self.summary)
        self.notes = _WrappingLabel()
        # as tall as the notes up to a dozen lines, then scrolling: a note a workload (restarting 200 after
        # injection was turned on) made the review page 3,000 pixels tall, Confirm out of reach
        self.notes_area = FittingScrollArea(self.notes, lines=12)
        lay.addWidget(self.notes_area)
        self.tabs = QTabWidget()
        self.preview_text = QPlainTextEdit(readOnly=True)
        self.diff_text = QPlainTextEdit(readOnly=True)
        self.findings_text = QPlainTextEdit(readOnly=True)
        self.dry_run_text = QPlainTextEdit(readOnly=True)
        for edit, name in ((self.preview_text, "YAML"), (self.diff_text, "Diff"),
                           (self.findings_text, "Checks"), (self.dry_run_text, "Dry run")):
            edit.setFont(mono)
            edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.tabs.addTab(edit, name)
        lay.addWidget(self.tabs, 1)
        self.verdict = _WrappingLabel()
        lay.addWidget(self.verdict)
        self.pages.addWidget(page)
        self.busy_label = QLabel()
        # outcome page
        page = QWidget()
        lay = QVBoxLayout(page)
        self.outcome = _WrappingLabel()
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.outcome)
        self.outcome_details = QPlainTextEdit(readOnly=True)
        self.outcome_details.setFont(mono)
        lay.addWidget(self.outcome_details, 1)
        self.pages.addWidget(page)

        self.back_button = QPushButton("Back")
        self.review_button = QPushButton("Review…")
        self.confirm_button = QPushButton("Confirm")
        self.reload_button = QPushButton("Reload and review again")
        self.reload_button.setToolTip("Read the cluster again and review this form's change against it")
        self.close_button = QPushButton("Cancel")
        self.review_button.setDefault(True)
        self.back_button.clicked.connect(self.back)
        self.review_button.clicked.connect(self.review)
        self.confirm_button.clicked.connect(self.confirm)
        self.reload_button.clicked.connect(self.reload)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.busy_label)
        buttons.addStretch(1)
        for b in (self.reload_button, self.review_button, self.confirm_button, self.close_button):
            buttons.addWidget(b)
        outer = QVBoxLayout(self)
        outer.addWidget(self.pages, 1)
        outer.addLayout(buttons)
        self._show_page(FORM)
        self._fit_screen(parent)

    def _fit_screen(self, parent: QWidget | None) -> None:
        """760x600, or as tall as the form when it is taller, and never past the screen's edges (less
        for the window's frame): what does not fit scrolls."""
        screen = parent.screen() if parent is not None else self.screen()
        available = screen.availableGeometry().size()
        # the form's own height past what its scroll area asks for: what the dialog needs not to scroll
        unscrolled = self.minimumSizeHint().height() + max(
            0, self.form.minimumSizeHint().height() - self.form_area.minimumSizeHint().height())
        self.resize(min(760, available.width() * 19 // 20),
                    min(max(600, unscrolled), available.height() * 9 // 10))

    # -- pages -------------------------------------------------------------------------------------
    def _show_page(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        # after a failed apply Back returns to the form as filled, to try again (a 403, a lost connection)
        failed = page == DONE and self.run_result is not None and not self.run_result.ok
        self.back_button.setVisible(page == REVIEW or failed)
        self.review_button.setVisible(page == FORM)
        self.confirm_button.setVisible(page == REVIEW)
        self.reload_button.setVisible(self._conflicted and self._reload is not None and page in (FORM, DONE))
        self.close_button.setText("Close" if page == DONE else "Cancel")

    @property
    def page(self) -> int:
        return self.pages.currentIndex()

    def back(self) -> None:
        self._show_page(FORM)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def review(self) -> bool:
        """Make the plan from the form (bad input: the reason under the form, False), then on the worker
        read the cluster's current state, check and dry-run it; ``reviewReady`` tells when done."""
        if self.busy:
            return False
        try:
            plan = self.form.plan(self.inventory)
        except (RoutingError, ValueError) as e:
            self.form_error.setText(str(e))
            return False
        self.form_error.setText("")
        writer, schemas, inventory = self.writer, self._schemas, self.inventory
        subject = self.form.subject_ref

        def work() -> tuple[ChangePlan, Findings, RunResult, str]:
            gone = ""
            exists = getattr(writer, "exists", None)
            if subject is not None and exists is not None and exists(*subject) is False:
                kind, namespace, name = subject
                gone = (f"{kind} {namespace}/{name} was deleted since this form opened: the change would be made "
                        f"for a {'service' if kind == 'Service' else 'workload'} that is no longer there, so it is "
                        "not applied. Close the form.")
            fresh = refresh(writer, plan)
            found, notes = schemas()
            findings = check(fresh, found, inventory, notes)
            dry = dry_run(writer, fresh) if not fresh.empty else RunResult(True)
            return fresh, findings, dry, gone

        self._start("review", work, "Reading the cluster and running the dry run…")
        return True

    def reload(self) -> bool:
        """Read the cluster again (on the worker), then review the form against it."""
        if self._reload is None or self.busy:
            return False
        self._start("reload", self._reload, "Reading the cluster again…")
        return True

    def confirm(self) -> bool:
        """Apply the reviewed plan on the worker; ``applyDone`` (and ``applied`` on success) tell when done."""
        if self.plan is None or not self.confirm_button.isEnabled() or self.busy:
            return False
        if self._read_only():
            self.confirm_button.setEnabled(False)
            self.verdict.setText("Read-only mode is on: nothing is written. Turn it off in Settings to apply.")
            return False
        writer, plan = self.writer, self.plan
        self._start("apply", lambda: apply(writer, plan), "Applying…")
        return True

    # -- the worker ----------------------------------------------------------------------------------
    def _start(self, step: str, work: Callable[[], Any], message: str) -> None:
        def run() -> None:
            try:
                out: Any = work()
            except Exception as e:  # noqa: BLE001 - every failure is shown, never lost
                out = e
            try:
                self._stepDone.emit(step, out)
            except RuntimeError:  # the dialog was closed (and deleted) while a review ran: nobody waits
                pass

        self._step = step
        for b in (self.review_button, self.confirm_button, self.back_button, self.reload_button):
            b.setEnabled(False)
        self.close_button.setEnabled(step != "apply")  # a write is not left halfway
        self.busy_label.setText(message)
        self._worker = threading.Thread(target=run, name=f"change-{step}", daemon=True)
        self._worker.start()

    def _join(self) -> None:
        if self._worker is not None:
            self._worker.join()
            self._worker = None

    def _on_step_done(self, step: str, out: Any) -> None:
        self._join()
        self.close_button.setEnabled(True)
        self.busy_label.setText("")
        for b in (self.review_button, self.back_button, self.reload_button):
            b.setEnabled(True)
        if step == "review":
            self._show_review(out)
        elif step == "reload":
            if isinstance(out, BaseException):
                self._show_page(FORM)
                text = str(out) if isinstance(out, SourceError) else f"unexpected error: {out}"
                self.form_error.setText(f"Could not read the cluster again: {text}")
                self.reviewReady.emit(False)
                return
            self.inventory = out
            self._conflicted = False
            self._show_page(FORM)  # the reload button goes
            if not self.review():  # the form's plan refused (the object it edits is gone): said under the form
                self.reviewReady.emit(False)
        else:
            self._show_outcome(out)

    def _show_review(self, out: Any) -> None:
        if isinstance(out, BaseException):
            text = str(out) if isinstance(out, SourceError) else f"unexpected error: {out}"
            if isinstance(out, Conflict):  # the dialog's own reading is old: only a new one helps
                self._conflicted = True
                text += (" (this dialog keeps what was read when it opened: reload it and review again)"
                         if self._reload is not None else
                         " (this dialog keeps what was read when it opened: close it and open the action again)")
                self._show_page(self.page)
            if not isinstance(out, SourceError):
                log.error("review failed", exc_info=out)
            self.form_error.setText(f"Could not review the change: {text}")
            self.reviewReady.emit(False)
            return
        plan, findings, dry, gone = out
        self.plan, self.findings, self.dry = plan, findings, dry
        where = f" in cluster {self.cluster}" if self.cluster else ""
        self.summary.setText(f"<b>{html.escape(breakable(plan.summary + where))}</b>")
        self.notes.setText("\n".join(plan.notes))
        self.notes_area.setVisible(bool(plan.notes))
        self.notes_area.updateGeometry()  # as tall as the notes now
        self.preview_text.setPlainText(plan.preview())
        self.diff_text.setPlainText(plan.diff() or "No difference.")
        self.findings_text.setPlainText(_findings_text(findings))
        self.dry_run_text.setPlainText(dry.text())
        problems = [gone] if gone else []
        if findings.schema:
            problems.append(f"{counted(len(findings.schema), 'schema problem')}: the cluster would refuse this.")
        if not dry.ok:
            problems.append(f"The server's dry run failed: {dry.error}")
        if plan.empty:
            problems.append(plan.nothing or "Nothing to change: the cluster already has this configuration.")
        if problems:
            self.verdict.setText("\n".join(problems))
            self.tabs.setCurrentWidget(self.dry_run_text if not dry.ok else self.findings_text
                                       if findings.schema else self.preview_text)
        else:
            own = tuple(f"error: {o.kind} {o.namespace}/{o.name}: " for o in plan.objects())
            if findings.errors and all(v.startswith(own) for v in findings.validation if v.startswith("error:")) \
                    and not findings.schema:
                # the errors are the written objects' own (a policy naming a service account no pod runs as)
                warn = (f" But what it writes has {counted(findings.errors, 'error')} (see Checks): it may not "
                        "work as meant.")
            elif findings.errors:
                warn = (f" But it adds {counted(findings.errors, 'error')} to the mesh's config (see Checks): other "
                        "objects would stop working as written.")
            elif findings.validation:
                warn = f" {counted(len(findings.validation), 'new validation finding')}: see Checks."
            else:
                warn = ""
            self.verdict.setText(f"The dry run passed.{warn} Confirm to apply {counted(len(plan.changes), 'change')}.")
        self.confirm_button.setEnabled(not problems)
        self._show_page(REVIEW)
        self.reviewReady.emit(True)

    def _show_outcome(self, out: Any) -> None:
        assert self.plan is not None
        if isinstance(out, BaseException):
            log.error("apply failed", exc_info=out)
            out = RunResult(False, error=SourceError(f"unexpected error: {out}"), failed=self.plan.summary)
        r: RunResult = out
        self.run_result = r
        if r.ok:
            self.outcome.setText(f"Applied: {self.plan.summary}.")
        elif r.conflict:
            self._conflicted = True
            self.outcome.setText(_sentence(f"Not applied: {r.error}")
                                 + (" Reload and review again to see the change against what is there now."
                                    if self._reload is not None else ""))
        else:
            if r.done:  # stopped part way: what this dialog read is out of date
                self._conflicted = True
            hint = ("" if r.done and self._reload is None else " Reload and review again to finish it." if r.done
                    else " Back returns to the form as you filled it, to try again.")
            self.outcome.setText(_sentence(f"Failed: {r.failure()}") + hint)
        self.outcome_details.setPlainText(r.text())
        self._show_page(DONE)
        self.applyDone.emit(r)
        if r.done:  # an apply stopped part way wrote something too: what is open must see it
            self.wrote.emit()
        if r.ok:
            self.applied.emit(self.plan.summary)

    def done(self, result: int) -> None:
        if self._worker is not None and self._worker.is_alive() and self._step == "review":
            # reads and a dry run change nothing: leave now, their answer will be dropped
            self._worker = None
            self._stepDone.disconnect(self._on_step_done)
        elif self._worker is not None and self._step == "apply":
            # Escape or the window's close button while a write is under way: the dialog stays (as Cancel,
            # disabled meanwhile, says) and shows the outcome when the write is done. Waiting for it here
            # froze the whole window for as long as the API server took, and closed on no outcome
            self.busy_label.setText("Applying… the dialog can be closed once the write is done.")
            return
        else:
            self._join()
        super().done(result)


class _WrappingLabel(QLabel):
    """A word-wrapped label whose plain text wraps inside a long name too (see ``breakable``; rich text is
    made breakable before it is escaped)."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's
        super().setText(text if QtGui.Qt.mightBeRichText(text) else breakable(text))


def _sentence(text: str) -> str:
    """``text`` ending as a sentence, so a hint after it does not run on from it."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _findings_text(f: Findings) -> str:
    lines = list(f.notes)
    if f.schema:
        lines += ["", "Schema problems:"] + [f"  {p}" for p in f.schema]
    if f.validation:
        lines += ["", "New validation findings after this change:"] + [f"  {p}" for p in f.validation]
    if not f.schema and not f.validation:
        lines += ["The objects match the CRD schemas and add no validation finding." if not f.notes else
                  "No new validation finding."]
    return "\n".join(lines).strip()
