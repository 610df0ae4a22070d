"""Qt lives here and only here."""

from meshdesk.ui import qtfix as _qtfix

_qtfix.install()
