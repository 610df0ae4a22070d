"""The graph canvas: scene items, the view, layouts in a worker, saved positions, animation,
legend and export. See :class:`GraphView` for the API the main window uses."""

from meshdesk.ui.canvas.legend import Legend
from meshdesk.ui.canvas.view import (
    EDGE_LABEL_MODES,
    SHORTCUTS,
    DisplayOptions,
    GraphView,
    canvas_shortcuts,
    edge_label,
    running_layout_threads,
    undo_keys,
)

__all__ = ["EDGE_LABEL_MODES", "SHORTCUTS", "DisplayOptions", "GraphView", "Legend", "canvas_shortcuts",
           "edge_label", "running_layout_threads", "undo_keys"]
