#!/usr/bin/env bash
# Build meshdesk's one-folder bundle (dist/meshdesk/) with PyInstaller, then a tarball
# dist/meshdesk-<version>-linux-<arch>.tar.gz holding the bundle, the .desktop file, the AppStream
# metainfo, the icons and install.sh. Run on demand (it takes minutes), not in every CI run.
#   PYTHON=/path/to/python packaging/build.sh     # the interpreter that has meshdesk's dependencies
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
APP_ID=org.meshdesk.MeshDesk

"$PYTHON" -m pip install --quiet "pyinstaller>=6.3"
version=$("$PYTHON" -c 'import meshdesk; print(meshdesk.__version__)')
arch=$(uname -m)

"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/meshdesk.spec

name="meshdesk-${version}-linux-${arch}"
stage="build/stage/${name}"
rm -rf "$stage"
mkdir -p "$stage/share/applications" "$stage/share/metainfo" "$stage/share/icons/hicolor/scalable/apps"
cp -a dist/meshdesk "$stage/meshdesk"
cp packaging/${APP_ID}.desktop "$stage/share/applications/"
cp packaging/${APP_ID}.metainfo.xml "$stage/share/metainfo/"
cp resources/meshdesk.svg "$stage/share/icons/hicolor/scalable/apps/${APP_ID}.svg"
for png in resources/png/meshdesk-*.png; do
  size=${png##*-}; size=${size%.png}
  mkdir -p "$stage/share/icons/hicolor/${size}x${size}/apps"
  cp "$png" "$stage/share/icons/hicolor/${size}x${size}/apps/${APP_ID}.png"
done
cp packaging/install.sh "$stage/install.sh"
chmod +x "$stage/install.sh"

tarball="dist/${name}.tar.gz"
tar -C build/stage -czf "$tarball" "$name"
echo "bundle:  dist/meshdesk ($(du -sh dist/meshdesk | cut -f1))"
echo "tarball: $tarball ($(du -sh "$tarball" | cut -f1))"
