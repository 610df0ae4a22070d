"""One channel for user-facing messages, by kind (qutebrowser's ``message.error`` bridge, Lens's
offline / credentials / forbidden distinction). Repeats of the same message are rate-limited: the
first is shown, later identical ones within ``repeat_window`` seconds are only counted."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

# kind -> (short title, what the user can do about it)
KIND_TEXT: dict[str, tuple[str, str]] = {
    "unreachable": ("Cannot reach the cluster", "Check the VPN or network, and that the API server is up."),
    "unauthorized": ("Credentials rejected", "Your login may have expired: log in again (e.g. refresh the "
                     "cloud token), then Retry."),
    "forbidden": ("Access forbidden", "Your account may not read these namespaces; pick others or ask "
                  "for view rights."),
    "timeout": ("The cluster did not answer in time", "Check the network path (VPN, firewall or proxy), or the "
                "server may be overloaded; Retry in a moment."),
    "not-found": ("Not found", "It may have been deleted meanwhile."),
    "conflict": ("Changed meanwhile", "Reload and try again."),
    "config": ("Configuration problem", "Check the kubeconfig or settings file named above."),
    "snapshot": ("Cannot open the snapshot", "Open another snapshot file (File > Open snapshot…), the demo "
                 "mesh or a context."),
    "write": ("Not saved", "Choose another folder or file name."),
    "prometheus": ("Prometheus problem", "Traffic needs Prometheus; check its address in the context "
                   "settings."),
    "tracing": ("Tracing problem", "Traces need Jaeger or Tempo; check the tracing address in the context "
                "settings."),
    "cancelled": ("Cancelled", ""),
    "error": ("Something went wrong", ""),
}


def title_for(kind: str) -> str:
    return KIND_TEXT.get(kind, KIND_TEXT["error"])[0]


def error_title(error: object) -> str:
    """The short title of a SourceError: its own where it has one, else its kind's."""
    own = getattr(error, "title", None)
    return own if isinstance(own, str) and own else title_for(str(getattr(error, "kind", "error")))


def advice_for(kind: str) -> str:
    return KIND_TEXT.get(kind, KIND_TEXT["error"])[1]


@dataclass
class UserMessage:
    level: str  # "error" / "warning" / "info"
    kind: str
    text: str
    repeats: int = 0  # how many identical messages were held back before this one
    title: str = ""  # an error's own title (``error_title``); "": its kind's


# the most different messages the bus remembers (for holding back their repeats): an error's text carries
# what the server said (a body excerpt, a request id, a count), so a cluster failing all day posts ever new
# ones, and each was kept until the next context switch
REMEMBERED = 100


class MessageBus(QObject):
    """Emit ``message(UserMessage)``; identical messages inside ``repeat_window`` seconds are dropped
    (counted, and the count is reported with the next one that gets through). The last
    :data:`REMEMBERED` different messages are remembered; an older one counts as new."""

    message = Signal(object)

    def __init__(self, repeat_window: float = 30.0, clock: Callable[[], float] = time.monotonic,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.repeat_window = repeat_window
        self._clock = clock
        # each message's last showing, the one posted last at the end
        self._last: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._held: dict[tuple[str, str, str], int] = {}

    @property
    def remembered(self) -> int:
        """How many different messages the bus remembers (at most :data:`REMEMBERED`)."""
        return len(self._last)

    def _post(self, level: str, kind: str, text: str, title: str = "") -> bool:
        key = (level, kind, text)
        now = self._clock()
        last = self._last.get(key)
        if last is not None:
            self._last.move_to_end(key)
        if last is not None and now - last < self.repeat_window:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        while len(self._last) > REMEMBERED:
            oldest, _shown = self._last.popitem(last=False)
            self._held.pop(oldest, None)
        repeats = self._held.pop(key, 0)
        log.log(logging.ERROR if level == "error" else logging.INFO, "%s [%s] %s", level, kind, text)
        self.message.emit(UserMessage(level, kind, text, repeats, title))
        return True

    def error(self, kind: str, text: str, title: str = "") -> bool:
        """Returns True when shown, False when held back as a repeat. ``title``: the error's own, where
        its kind's does not fit it (``error_title``)."""
        return self._post("error", kind, text, title)

    def warning(self, text: str, kind: str = "warning") -> bool:
        return self._post("warning", kind, text)

    def info(self, text: str) -> bool:
        return self._post("info", "info", text)

    def forget(self) -> None:
        """Allow everything again (e.g. after the user switched context)."""
        self._last.clear()
        self._held.clear()
