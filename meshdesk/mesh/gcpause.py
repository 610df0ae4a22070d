"""``paused_gc()``: pause Python's cyclic garbage collector around work that allocates many container
objects which all survive it (decoding a big Prometheus answer, building a graph).

The collector runs after every few hundred new containers and walks every young one, so while tens of
thousands are made and kept, its passes find nothing to free and cost a third of the time or more.
Pauses from several threads may overlap; the collector is enabled again (if it was enabled before the
first) when the last one ends, whatever exception ends it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = [0, False]  # pauses under way; whether the collector was enabled before the first


@contextmanager
def paused_gc() -> Iterator[None]:
    with _lock:
        if _pauses[0] == 0:
            _pauses[1] = gc.isenabled()
            gc.disable()
        _pauses[0] += 1
    try:
        yield
    finally:
        with _lock:
            _pauses[0] -= 1
            if _pauses[0] == 0 and _pauses[1]:
                gc.enable()
