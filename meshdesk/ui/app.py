"""``meshdesk`` (the GUI): pick what to open from the command line, the settings and the kubeconfig,
then run the main window until it closes."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from meshdesk.mesh.request import split_names
from meshdesk.sources.base import SourceError
from meshdesk.store.settings import Settings, load_settings

if TYPE_CHECKING:
    from meshdesk.ui.mainwindow import MainWindow

log = logging.getLogger(__name__)


def _contexts(kubeconfig: str | None) -> tuple[list[str], str, str, list[str]]:
    """(context names, current context, why there is none, problems with files or entries that were
    skipped) from the kubeconfig."""
    from meshdesk.sources.kubeconfig import load_kubeconfig
    from meshdesk.ui.mainwindow import why_no_current_context

    try:
        kc = load_kubeconfig(kubeconfig)
    except SourceError as e:  # a message, never a crash
        return [], "", f"The kubeconfig could not be read: {e}", []
    problems = [str(p) for p in kc.problems]
    names = list(kc.context_names)
    if not names:
        where = ", ".join(str(p) for p in kc.searched) or "~/.kube/config"
        return [], "", f"No kubeconfig context was found (looked in {where}).", problems
    reason = why_no_current_context(kc.current_context, names)
    if reason:
        return names, "", reason, problems
    current = kc.current_context or names[0]
    return names, current, "", problems


def _adopt_legacy_demo(settings: Settings, contexts: list[str]) -> list[str]:
    """The demo mesh's view choices, namespaces and node positions, which an earlier version kept under
    "demo", are the demo mesh's again (the settings saved with the next change, the positions now),
    unless "demo" is a kubeconfig context's name. Returns what the user must be told (a layouts file
    found damaged and set aside, positions that could not be moved)."""
    import dataclasses

    from meshdesk.store.layouts import LayoutStore
    from meshdesk.ui.toolbar import DEMO, LEGACY_DEMO

    if LEGACY_DEMO in contexts:
        return []
    told: list[str] = []
    layouts = LayoutStore()
    try:
        for key in layouts.views(LEGACY_DEMO):  # moved, not copied: a reset of the demo's view stays done
            if not layouts.load(dataclasses.replace(key, context=DEMO)):
                layouts.save(dataclasses.replace(key, context=DEMO), layouts.load(key))
            layouts.reset(key)
    except (OSError, ValueError) as e:  # kept where they are; the demo is laid out afresh
        log.warning("the demo mesh's saved layouts could not be taken over: %s", e)
        told.append(f"The demo mesh's node positions an earlier version saved could not be taken over ({e}); "
                    "they are kept where they were, and the demo is laid out afresh.")
    for warning in layouts.warnings:  # (a damaged file was moved aside meanwhile)
        log.warning("%s", warning)
        told.append(warning)
    stored = settings.context_names()
    if LEGACY_DEMO not in stored or DEMO in stored:
        return told
    try:
        settings.set_context_settings(DEMO, settings.context_settings(LEGACY_DEMO))
    except ValueError:  # values this version no longer takes: the demo's defaults then
        pass
    if settings.namespaces_for(LEGACY_DEMO):
        settings.set_namespaces(DEMO, settings.namespaces_for(LEGACY_DEMO))
    return told


def make_window(opts: Any, settings: Settings | None = None) -> MainWindow:
    """The main window for ``opts`` (argparse namespace with demo, kubeconfig, context, namespace,
    snapshot); also used by tests and the screenshot script."""
    from meshdesk.ui import gcguard
    from meshdesk.ui.mainwindow import DEMO, MainWindow
    from meshdesk.ui.toolbar import LEGACY_DEMO

    # cyclic garbage (Qt objects among it) is collected on this, the UI, thread only (see gcguard)
    gcguard.install(QApplication.instance())
    access = settings if settings is not None else load_settings()
    given_kubeconfig = getattr(opts, "kubeconfig", None)
    kubeconfig = given_kubeconfig or access.kubeconfig or None
    # -n hello,shop and -n hello -n shop both name two namespaces, as `meshdesk graph -n` reads them;
    # an empty name (-n "") names none
    given = getattr(opts, "namespace", None)
    namespaces = None if given is None else split_names([given] if isinstance(given, str) else given) or None
    demo = bool(getattr(opts, "demo", False))
    contexts, current, reason, problems = _contexts(kubeconfig)
    chosen_note = ""
    if not given_kubeconfig and access.kubeconfig and not contexts:
        # the kubeconfig chosen in the app before is gone (a temporary file, an unmounted drive) or has
        # no context: it made the app ignore $KUBECONFIG and ~/.kube/config for good, starting with no
        # context at all. The usual one opens, and the banner says why.
        usual = _contexts(None)
        if usual[0]:
            chosen_note = (f"{reason.rstrip('.')}. The usual kubeconfig ($KUBECONFIG or ~/.kube/config) was opened instead; "
                           "choose another with File > Choose a kubeconfig….")
            kubeconfig = None
            contexts, current, reason, problems = usual
    adopted_notes = _adopt_legacy_demo(access, contexts)
    awaited = ""
    if demo:
        # opened on the demo, the user's own contexts are offered beside it (switching needs no restart);
        # a machine without a kubeconfig is no problem worth a word here
        reason, problems = "", [] if not contexts else problems
        context = DEMO
    elif getattr(opts, "context", None):
        context = opts.context
        if context not in contexts and context != DEMO:
            # as kubectl refuses it: a context the kubeconfig lacks cannot appear by retrying; it opens
            # when the kubeconfig gets it (the window watches the file) or the user picks another
            awaited = context
            context = ""
            if contexts:
                shown = ", ".join(contexts[:5]) + (f" and {len(contexts) - 5} more" if len(contexts) > 5 else "")
                reason = (f"The kubeconfig has no context named {awaited!r} (asked for with --context). Its "
                          f"contexts are {shown}: choose one in the context box above.")
            else:
                reason = f"The kubeconfig has no context named {awaited!r} (asked for with --context). {reason}"
    elif access.last_context and (access.last_context in contexts or access.last_context == DEMO):
        context = access.last_context
    elif access.last_context == LEGACY_DEMO:  # the demo mesh, as an earlier version kept it
        context = DEMO
    else:
        context = current
    snapshot = getattr(opts, "snapshot", None)
    awaited = awaited if not snapshot else ""
    win = MainWindow(contexts=contexts, context="" if snapshot else context, kubeconfig=kubeconfig,
                     namespaces=namespaces, settings=access, first_run_reason=reason,
                     watch_kubeconfig=bool(contexts) or not demo, awaited_context=awaited)
    if snapshot:
        win.open_snapshot(snapshot)
    from meshdesk.ui.actions import install_actions
    from meshdesk.ui.perf_views import PerformanceViews

    win.actions_controller = install_actions(win)  # Actions menu and the canvas's context menu
    win.add_extension(PerformanceViews(win))  # metrics, lists, Istio config and logs docks; sparklines
    win.restore_window()  # size, place and docks as the user left them (every dock exists now)
    notes = ([chosen_note] if chosen_note else []) + (["Kubeconfig: " + "; ".join(problems)] if problems else []) \
        + adopted_notes
    if notes:
        # after what the window said while it was made (what the settings file held that could not be
        # used, a copy of it kept): that was replaced, and the user never saw it outside a terminal
        said = win.banner.note_text if not win.banner.isHidden() else ""  # (an error shown has none)
        win.banner.show_note("\n".join([said, *notes] if said else notes), "warning")
    return win


def run(opts: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("meshdesk")
    app.setOrganizationName("meshdesk")
    app.setDesktopFileName("org.meshdesk.MeshDesk")  # taskbars and Wayland find the .desktop file and icon
    if not (sys.stdin is not None and sys.stdin.isatty()):
        # Started from a desktop launcher: exec credential plugins (aws, gke-gcloud-auth-plugin,
        # kubelogin) live on the login shell's PATH, which launchers do not give us. Once, bounded.
        from meshdesk.sources.loginshell import adopt_login_shell_path

        adopt_login_shell_path()
    from meshdesk.ui.theme import app_icon, apply_theme

    # Ctrl+C in the terminal, and SIGTERM (kill, a session ending), close the window properly: threads
    # stopped, settings and the window's arrangement saved. Installed first: a signal that comes while
    # the window is being made closes it once it exists.
    window: list[MainWindow] = []
    asked_to_close: list[bool] = []

    def close(*_: object) -> None:
        if window:
            window[0].close()
        else:
            asked_to_close.append(True)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, close)
    # the kubernetes client's port-forward relay fails when a forward closes with bytes unread (an
    # Envoy answer over meshdesk's limit): expected, and no traceback on the terminal for it
    from meshdesk.sources.envoy import quiet_port_forward_resets

    threading.excepthook = quiet_port_forward_resets(threading.excepthook)
    settings = load_settings()
    apply_theme(app, settings.theme or "system")
    app.setWindowIcon(app_icon())
    win = make_window(opts, settings)
    win.quick_exit = True
    window.append(win)
    win.show()
    if asked_to_close:
        QTimer.singleShot(0, win.close)
    if os.environ.get("MESHDESK_EXIT_AFTER_SHOW") == "1":  # packaging/check_bundle.sh

        def _shown() -> None:
            print("meshdesk: window shown", file=sys.stderr, flush=True)
            app.quit()

        QTimer.singleShot(0, _shown)
    tick = QTimer()
    tick.start(250)  # lets Python see the signal while Qt's loop runs
    tick.timeout.connect(lambda: None)
    code = app.exec()
    win.shutdown()
    from meshdesk.ui.poller import running_qthreads

    if running_qthreads():
        # a fetch still in a call (a login that never finishes): settings are saved; do not wait for
        # it, nor let its thread be destroyed while it runs at interpreter exit (that aborts)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(code))
    return int(code)
