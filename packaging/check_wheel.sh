#!/usr/bin/env bash
# Check that resources travel with a wheel and with an editable install: build the wheel, list it,
# install it into a fresh virtualenv (plain, no system site-packages; --no-deps, as reading resources
# needs no dependency), load every resource from outside the source tree, then do the same with an
# editable install. Needs pyproject.toml's resources mapping (meshdesk.resources_data = resources/).
# Takes ~20 s; run on demand, not in every CI run.
#   PYTHON=python3.11 packaging/check_wheel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Build from a copy, so no build/ or *.egg-info is left in the checkout.
mkdir "$work/src"
tar --exclude=./.git --exclude=./build --exclude=./dist --exclude='*.egg-info' --exclude='__pycache__' \
  --exclude=./.venv -cf - . | tar -C "$work/src" -xf -
root="$work/src"
"$PYTHON" -m pip wheel --quiet --no-deps -w "$work/wheel" "$root"
wheel=$(ls "$work"/wheel/meshdesk-*.whl)
echo "check_wheel: built $(basename "$wheel")"
listing=$("$PYTHON" -m zipfile -l "$wheel")
for f in meshdesk/resources_data/meshdesk.svg meshdesk/resources_data/styles/dark.qss \
         meshdesk/resources_data/legend/serviceentry.svg meshdesk/resources_data/png/meshdesk-512.png; do
  grep -q "$f" <<<"$listing" || { echo "check_wheel: FAIL: $f not in the wheel" >&2; exit 1; }
done

probe='
import importlib.util, sys
from meshdesk import resources as r
assert importlib.util.find_spec("meshdesk.resources_data") is not None, "meshdesk.resources_data not installed"
root = r._root()
print("resources from", root)
assert "site-packages" in str(root) or sys.argv[1] == "editable", root
assert r.app_icon_svg().startswith(b"<?xml"), "app icon"
assert "QToolTip" in r.stylesheet("dark") and "QToolTip" in r.stylesheet("light")
for shape in r.NODE_SHAPES:
    assert b"<svg" in r.icon(shape), shape
for size in r.APP_ICON_SIZES:
    assert r.app_icon_png(size)[:8] == b"\x89PNG\r\n\x1a\n", size
names = r.all_resource_names()
print(len(names), "resource files load")
'

"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --no-deps "$wheel"  # the probe needs no dependency
(cd "$work" && "$work/venv/bin/python" -c "$probe" wheel)
echo "check_wheel: wheel install OK"

"$PYTHON" -m venv "$work/venv-e"
"$work/venv-e/bin/pip" install --quiet --no-deps -e "$root"
(cd "$work" && "$work/venv-e/bin/python" -c "$probe" editable)
echo "check_wheel: editable install OK"
