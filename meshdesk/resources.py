"""meshdesk's data files (icon, legend shapes, style sheets), read through ``importlib.resources``.

The files live in the top-level ``resources/`` folder of the repository. The build maps that folder to
the package ``meshdesk.resources_data``, so an installed wheel and an editable install both find it by
import. A PyInstaller bundle carries the same files as data under ``meshdesk/resources_data/``, and a
plain checkout (``python -m meshdesk`` from the source tree, nothing installed) reads ``resources/``
beside the package. No Qt here: ``meshdesk graph`` and the tests of the core may use this module.
"""

from __future__ import annotations

import functools
import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGE = "meshdesk.resources_data"
APP_ICON = "meshdesk.svg"
APP_ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)
# The legend's node shapes, by Kiali's node types (``aggregate`` is an operation node).
NODE_SHAPES = ("workload", "app", "service", "serviceentry", "operation", "unknown")
_SHAPE_ALIASES = {"aggregate": "operation", "service_entry": "serviceentry"}
THEMES = ("light", "dark")


class ResourceMissing(LookupError):
    """A data file meshdesk ships is not where it should be: the installation is incomplete."""


@functools.cache
def _root() -> Traversable:
    """The folder holding the data files, wherever meshdesk runs from."""
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        root = None
    if root is not None and root.joinpath(APP_ICON).is_file():
        return root
    # PyInstaller bundle: the data sits inside the frozen ``meshdesk`` package folder.
    bundled = importlib.resources.files("meshdesk").joinpath("resources_data")
    if bundled.joinpath(APP_ICON).is_file():
        return bundled
    # Source checkout, nothing installed.
    checkout = Path(__file__).resolve().parent.parent / "resources"
    if (checkout / APP_ICON).is_file():
        return checkout
    raise ResourceMissing(
        f"meshdesk's data files ({APP_ICON}, style sheets, legend icons) were not found in "
        f"{PACKAGE}, in the bundle or in {checkout}; reinstall meshdesk"
    )


def resource_path(name: str) -> Traversable:
    """The data file ``name`` (a ``/``-separated path inside ``resources/``, e.g. ``styles/dark.qss``).

    Raises :class:`ResourceMissing` if there is no such file."""
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    if not parts or any(p == ".." for p in parts):
        raise ResourceMissing(f"not a resource name: {name!r}")
    target = _root()
    for part in parts:  # one at a time: Python 3.11's MultiplexedPath.joinpath takes a single name
        target = target.joinpath(part)
    if not target.is_file():
        raise ResourceMissing(f"meshdesk resource {name!r} is missing; reinstall meshdesk")
    return target


def read_bytes(name: str) -> bytes:
    return resource_path(name).read_bytes()


def icon(name: str) -> bytes:
    """SVG bytes of a legend node shape: one of :data:`NODE_SHAPES` (``aggregate`` means operation)."""
    shape = _SHAPE_ALIASES.get(name, name)
    if shape not in NODE_SHAPES:
        raise ResourceMissing(f"no legend icon for node type {name!r}; known: {', '.join(NODE_SHAPES)}")
    return read_bytes(f"legend/{shape}.svg")


def app_icon_svg() -> bytes:
    """The application icon as SVG."""
    return read_bytes(APP_ICON)


def app_icon_png(size: int) -> bytes:
    """The application icon rendered at ``size`` pixels (one of :data:`APP_ICON_SIZES`)."""
    if size not in APP_ICON_SIZES:
        raise ResourceMissing(f"no {size}px application icon; sizes: {APP_ICON_SIZES}")
    return read_bytes(f"png/meshdesk-{size}.png")


def stylesheet(theme: str) -> str:
    """The Qt style sheet of ``theme`` (``light`` or ``dark``)."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; choose one of {', '.join(THEMES)}")
    return resource_path(f"styles/{theme}.qss").read_text(encoding="utf-8")


def all_resource_names() -> list[str]:
    """Every data file meshdesk ships, as names for :func:`resource_path` (the spec and tests list them)."""
    names: list[str] = []

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name.startswith((".", "__")):
                continue
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.is_file():
                names.append(prefix + child.name)

    walk(_root(), "")
    return names
