"""The packaging files are valid and agree with the code: fast checks for every CI run (the slow bundle and
wheel builds are packaging/build.sh, check_bundle.sh and check_wheel.sh, run on demand)."""

from __future__ import annotations

import ast
import configparser
import os
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from meshdesk import __version__

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
APP_ID = "org.meshdesk.MeshDesk"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
SPEC = PACKAGING / "meshdesk.spec"


def _spec_list(name: str) -> list[str]:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"{name} not found in {SPEC}")


def _spec_qt_excludes() -> set[str]:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "QT_EXCLUDES" for t in node.targets):
            gen = node.value
            assert isinstance(gen, ast.ListComp)
            return set(ast.literal_eval(gen.generators[0].iter))
    raise AssertionError("QT_EXCLUDES not found")


def _desktop() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser


def test_desktop_file_passes_desktop_file_validate() -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (Debian package desktop-file-utils)")
    result = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower(), result.stdout


def test_desktop_file_launches_the_gui_script_with_our_icon() -> None:
    entry = _desktop()["Desktop Entry"]
    gui_scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["gui-scripts"]
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] in gui_scripts
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    demo = _desktop()["Desktop Action demo"]
    assert demo["Exec"].split()[1:] == ["--demo"]


def test_metainfo_has_the_required_appstream_elements() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    for tag in ("name", "summary", "metadata_license", "project_license"):
        assert (root.findtext(tag) or "").strip(), f"<{tag}> is empty"
    assert root.findtext("metadata_license") in ("CC0-1.0", "FSFAP", "MIT")
    assert root.find("description/p") is not None
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert root.findtext("provides/binary") == _desktop()["Desktop Entry"]["Exec"].split()[0]
    versions = [r.get("version") for r in root.findall("releases/release")]
    assert __version__ in versions, f"metainfo has no <release> for meshdesk {__version__}: {versions}"
    assert root.find("content_rating") is not None


def test_the_declared_licence_ships_as_a_licence_file() -> None:
    """pyproject and the metainfo name one licence, and its text is there for the wheel to carry."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    assert declared == ET.parse(METAINFO).getroot().findtext("project_license")
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert declared == "Apache-2.0" and "Apache License" in text and "Version 2.0, January 2004" in text


def test_metainfo_passes_appstreamcli_validate() -> None:
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli is not installed (Debian package appstream)")
    result = subprocess.run([tool, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_spec_lists_every_resource_file_and_nothing_else() -> None:
    on_disk = sorted(
        p.relative_to(ROOT / "resources").as_posix()
        for p in (ROOT / "resources").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.name != "__init__.py"
    )
    listed = _spec_list("RESOURCES")
    assert len(listed) == len(set(listed)), "a resource is listed twice"
    assert sorted(listed) == on_disk


def test_spec_leaves_out_the_qt_modules_meshdesk_does_not_use() -> None:
    excluded = _spec_qt_excludes()
    for name in ("QtWebEngineCore", "QtWebEngineWidgets", "Qt3DCore", "QtQuick", "QtQml", "QtMultimedia",
                 "QtBluetooth", "QtNfc", "QtPositioning", "QtSensors", "QtSerialPort", "QtCharts",
                 "QtDataVisualization", "QtPdf", "QtDesigner"):
        assert name in excluded, name
    for needed in ("QtCore", "QtGui", "QtWidgets", "QtSvg", "QtOpenGL", "QtOpenGLWidgets"):
        assert needed not in excluded, needed


def test_spec_entry_point_exists() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert '"meshdesk" / "__main__.py"' in text
    assert (ROOT / "meshdesk" / "__main__.py").is_file()


@pytest.mark.parametrize("script", ["build.sh", "check_bundle.sh", "check_wheel.sh", "install.sh"])
def test_shell_scripts_are_executable_and_parse(script: str) -> None:
    path = PACKAGING / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def _desktop_exec_arg(path: str) -> str:
    """``path`` as the desktop entry spec writes a program in Exec: quoted when it holds a reserved
    character (with \\ " ` $ escaped inside), then every backslash of the value written twice."""
    if any(c in ' \t\n"\'\\><~|&;$*?#()`' for c in path):
        inner = path.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
        path = f'"{inner}"'
    return path.replace("\\", "\\\\").replace("%", "%%")  # a literal % is no field code


@pytest.mark.parametrize("prefix_name", ["prefix", "my apps", "R&D", "a|b", "my $dir", "100%three"])
def test_install_points_the_menu_entry_at_the_installed_program(tmp_path: Path, prefix_name: str) -> None:
    """The menu entry runs $PREFIX/bin/meshdesk by its full path: the desktop session's PATH may not hold
    $PREFIX/bin, and then the entry was hidden (TryExec) or did nothing. Whatever the prefix holds."""
    bundle = tmp_path / "unpacked"
    (bundle / "meshdesk").mkdir(parents=True)
    (bundle / "meshdesk" / "meshdesk").write_text("#!/bin/sh\n")
    (bundle / "share" / "applications").mkdir(parents=True)
    shutil.copy(DESKTOP, bundle / "share" / "applications" / DESKTOP.name)
    shutil.copy(PACKAGING / "install.sh", bundle / "install.sh")
    prefix = tmp_path / prefix_name
    env = {**os.environ, "PREFIX": str(prefix), "HOME": str(tmp_path)}
    result = subprocess.run(["bash", str(bundle / "install.sh")], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    entry = prefix / "share" / "applications" / DESKTOP.name
    assert not [p.name for p in entry.parent.iterdir() if ".desktop." in p.name]  # no temporary file left
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(entry, encoding="utf-8")
    program = str(prefix / "bin" / "meshdesk")
    main = parser["Desktop Entry"]
    assert main["TryExec"] == program.replace("\\", "\\\\")
    assert main["Exec"] == _desktop_exec_arg(program)
    assert parser["Desktop Action demo"]["Exec"] == f"{_desktop_exec_arg(program)} --demo"
    tool = shutil.which("desktop-file-validate")
    if tool is not None:
        checked = subprocess.run([tool, str(entry)], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stdout + checked.stderr
