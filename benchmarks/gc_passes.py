"""How long the garbage collector's passes take while another benchmark runs (prints numbers; asserts
nothing).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.gc_passes lists [its arguments]
    QT_QPA_PLATFORM=offscreen python -m benchmarks.gc_passes window_actions

Runs ``benchmarks.<name>`` as ``python -m`` would, timing every collection (``gc.callbacks``) by
generation and thread, and prints, once it ends, for each generation: how many passes, their total
and longest time, the threads they ran in (the UI thread only, ``meshdesk.ui.gcguard``), and the time
of each full pass. A pass is time the UI thread could not answer a click.
"""

from __future__ import annotations

import atexit
import gc
import runpy
import sys
import threading
import time

_passes: dict[int, list[tuple[float, str]]] = {0: [], 1: [], 2: []}
_started: dict[int, float] = {}


def _timed(phase: str, info: dict[str, int]) -> None:
    generation = info["generation"]
    if phase == "start":
        _started[generation] = time.perf_counter()
    elif generation in _started:
        took = time.perf_counter() - _started.pop(generation)
        _passes[generation].append((took, threading.current_thread().name))


def _report() -> None:
    print("\ngarbage collector passes, by generation:")
    for generation, passes in _passes.items():
        times = sorted(t for t, _ in passes)
        if not times:
            print(f"  generation {generation}: none")
            continue
        threads = ", ".join(sorted({name for _, name in passes}))
        print(f"  generation {generation}: {len(times)} passes, {sum(times):.3f} s in all, longest {times[-1]:.3f} s, "
              f"median {times[len(times) // 2] * 1000:.1f} ms; in {threads}")
    full = " ".join(f"{t:.3f}" for t, _ in _passes[2])
    if full:
        print(f"  full passes, s: {full}")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    gc.callbacks.append(_timed)
    atexit.register(_report)
    sys.argv = [f"benchmarks.{argv[0]}", *argv[1:]]
    runpy.run_module(f"benchmarks.{argv[0]}", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
