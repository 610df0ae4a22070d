#!/usr/bin/env bash
# Install an unpacked meshdesk tarball for one user (or PREFIX=/usr/local as root):
# the bundle under $PREFIX/lib/meshdesk, a `meshdesk` link in $PREFIX/bin, and the menu entry,
# AppStream metadata and icons under $PREFIX/share.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-$HOME/.local}
mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$PREFIX/share"
rm -rf "$PREFIX/lib/meshdesk"
cp -a "$here/meshdesk" "$PREFIX/lib/meshdesk"
ln -sfn "$PREFIX/lib/meshdesk/meshdesk" "$PREFIX/bin/meshdesk"
cp -a "$here/share/." "$PREFIX/share/"
# the menu entry names the installed program by its full path: $PREFIX/bin may not be on the PATH the
# desktop session has (a custom prefix, or ~/.local/bin made after login)
entry="$PREFIX/share/applications/org.meshdesk.MeshDesk.desktop"
if [ -f "$entry" ]; then
  path="$PREFIX/bin/meshdesk"
  # the desktop entry spec: a path with a reserved character is quoted, with \ " ` $ escaped inside,
  # and every backslash of a value is written twice
  exec_arg=$path
  case "$path" in
    *[[:space:]\"\`\$\\\'\>\<\~\|\&\;\*\?\#\(\)]*)
      quoted=${path//\\/\\\\}; quoted=${quoted//\"/\\\"}; quoted=${quoted//\`/\\\`}; quoted=${quoted//\$/\\\$}
      exec_arg="\"$quoted\"" ;;
  esac
  exec_arg=${exec_arg//\\/\\\\}
  exec_arg=${exec_arg//%/%%}  # a literal % in Exec is written twice (%x would be a field code)
  try_arg=${path//\\/\\\\}
  tmp=$(mktemp "$entry.XXXXXX")
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      "Exec=meshdesk"*) printf '%s\n' "Exec=$exec_arg${line#Exec=meshdesk}" ;;
      "TryExec=meshdesk"*) printf '%s\n' "TryExec=$try_arg${line#TryExec=meshdesk}" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done <"$entry" >"$tmp"
  chmod 644 "$tmp" && mv "$tmp" "$entry"
fi
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$PREFIX/share/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$PREFIX/share/icons/hicolor" || true
echo "meshdesk installed in $PREFIX (run: $PREFIX/bin/meshdesk)"
