"""The data files meshdesk ships load through meshdesk.resources and are usable by Qt."""

from __future__ import annotations

import pytest

from meshdesk import resources

pytestmark = pytest.mark.ui


def _render(svg: bytes, size: int):
    from PySide6.QtCore import QByteArray, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    assert renderer.isValid()
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def _opaque_share(image) -> float:
    w, h = image.width(), image.height()
    opaque = sum(1 for x in range(w) for y in range(h) if image.pixelColor(x, y).alpha() > 128)
    return opaque / (w * h)


def test_app_icon_svg_renders_a_visible_picture(qapp) -> None:
    image = _render(resources.app_icon_svg(), 64)
    # A rounded square badge: most of the area is painted, the corners are not.
    assert _opaque_share(image) > 0.7
    assert image.pixelColor(0, 0).alpha() == 0


@pytest.mark.parametrize("size", resources.APP_ICON_SIZES)
def test_app_icon_png_has_its_size_and_matches_the_svg(qapp, size: int) -> None:
    from PySide6.QtGui import QImage

    png = QImage.fromData(resources.app_icon_png(size), "PNG")
    assert not png.isNull()
    assert (png.width(), png.height()) == (size, size)
    # The committed PNG is a render of the committed SVG: compare at a coarse grid (antialiasing may differ
    # between Qt versions, the picture may not).
    fresh = _render(resources.app_icon_svg(), size).convertToFormat(png.format())
    step = max(1, size // 16)
    for x in range(0, size, step):
        for y in range(0, size, step):
            a, b = png.pixelColor(x, y), fresh.pixelColor(x, y)
            assert abs(a.alpha() - b.alpha()) < 60, (x, y)
            if a.alpha() > 200 and b.alpha() > 200:
                assert abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 120, (x, y)


@pytest.mark.parametrize("shape", resources.NODE_SHAPES)
def test_every_legend_shape_renders(qapp, shape: str) -> None:
    image = _render(resources.icon(shape), 32)
    share = _opaque_share(image)
    assert 0.05 < share < 0.95, f"{shape} draws {share:.0%} of its square"


def test_legend_shapes_differ_from_each_other(qapp) -> None:
    outlines = {}
    for shape in resources.NODE_SHAPES:
        image = _render(resources.icon(shape), 32)
        outlines[shape] = tuple(image.pixelColor(x, y).alpha() > 128 for x in range(32) for y in range(32))
    assert len(set(outlines.values())) == len(resources.NODE_SHAPES)


def test_aggregate_node_type_uses_the_operation_shape() -> None:
    assert resources.icon("aggregate") == resources.icon("operation")


def test_unknown_names_fail_with_a_clear_message() -> None:
    with pytest.raises(resources.ResourceMissing, match="no legend icon for node type 'box'"):
        resources.icon("box")
    with pytest.raises(resources.ResourceMissing, match="missing"):
        resources.resource_path("styles/nope.qss")
    with pytest.raises(resources.ResourceMissing):
        resources.resource_path("../pyproject.toml")
    with pytest.raises(ValueError, match="unknown theme 'blue'"):
        resources.stylesheet("blue")
    with pytest.raises(resources.ResourceMissing, match="no 20px"):
        resources.app_icon_png(20)


@pytest.mark.parametrize("theme", resources.THEMES)
def test_style_sheets_parse_in_qt(qtbot, theme: str) -> None:
    # Qt logs "Could not parse stylesheet" as a warning on a syntax error, which fails this test
    # (qt_log_level_fail = WARNING); polishing forces the parse.
    from PySide6.QtWidgets import QGroupBox, QLabel, QToolBar, QVBoxLayout, QWidget

    sheet = resources.stylesheet(theme)
    assert "QToolTip" in sheet
    w = QWidget()
    qtbot.addWidget(w)
    lay = QVBoxLayout(w)
    hint = QLabel("hint")
    hint.setProperty("role", "hint")
    for child in (QGroupBox("group"), QToolBar(), hint):
        lay.addWidget(child)
    default = QLabel("plain")
    lay.addWidget(default)
    w.setStyleSheet(sheet)
    w.ensurePolished()
    default.ensurePolished()
    hint.ensurePolished()
    assert hint.palette().color(hint.foregroundRole()) != default.palette().color(default.foregroundRole())


def test_every_shipped_file_is_listed() -> None:
    names = resources.all_resource_names()
    assert "meshdesk.svg" in names
    assert {f"legend/{s}.svg" for s in resources.NODE_SHAPES} <= set(names)
    assert {f"png/meshdesk-{s}.png" for s in resources.APP_ICON_SIZES} <= set(names)
    assert {"styles/light.qss", "styles/dark.qss"} <= set(names)
    for name in names:
        assert resources.read_bytes(name), name


def test_resources_load_when_the_data_folder_is_a_namespace_package(tmp_path, monkeypatch) -> None:
    # In the PyInstaller bundle meshdesk/resources_data has no __init__.py, so importlib.resources hands
    # back a MultiplexedPath, whose joinpath takes one name at a time on Python 3.11.
    import importlib.resources
    import shutil
    import sys

    source = resources._root()
    probe = tmp_path / "meshdesk_ns_probe"
    for name in resources.all_resource_names():
        target = probe / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(resources.read_bytes(name))
    monkeypatch.syspath_prepend(str(tmp_path))
    root = importlib.resources.files("meshdesk_ns_probe")
    assert type(root).__name__ == "MultiplexedPath"
    monkeypatch.setattr(resources, "_root", lambda: root)
    assert resources.stylesheet("dark") == source.joinpath("styles").joinpath("dark.qss").read_text(encoding="utf-8")
    assert resources.icon("service").startswith(b"<?xml")
    assert len(resources.app_icon_png(512)) > 1000
    sys.modules.pop("meshdesk_ns_probe", None)
    shutil.rmtree(probe)


def test_an_installed_package_is_read_through_importlib() -> None:
    import importlib.resources
    import importlib.util

    if importlib.util.find_spec("meshdesk.resources_data") is None:
        pytest.skip("meshdesk.resources_data is not installed (tests run from the checkout); "
                    "packaging/check_wheel.sh checks wheel and editable installs")
    installed = importlib.resources.files("meshdesk.resources_data")
    assert str(resources._root()) == str(installed)
    assert resources.app_icon_svg() == installed.joinpath("meshdesk.svg").read_bytes()
