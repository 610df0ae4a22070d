#!/usr/bin/env bash
# Smoke-test the built bundle (after packaging/build.sh): it starts, opens its main window on the demo
# mesh under the offscreen platform, and says so. Run on demand, not in every CI run.
#
# Contract with meshdesk/ui/app.py: when MESHDESK_EXIT_AFTER_SHOW=1, the app prints the line
# "meshdesk: window shown" to stderr once the main window is shown, then quits with status 0.
#   packaging/check_bundle.sh [dist/meshdesk]
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-dist/meshdesk}
exe="$bundle/meshdesk"
fail() { echo "check_bundle: FAIL: $*" >&2; exit 1; }

[ -x "$exe" ] || fail "$exe is missing or not executable (run packaging/build.sh first)"

out=$("$exe" --version 2>&1) || fail "'meshdesk --version' exited $?: $out"
echo "check_bundle: --version -> $out"
[[ "$out" == meshdesk\ * ]] || fail "unexpected --version output"

# Every resource file is in the bundle where meshdesk.resources looks.
data=$(find "$bundle" -type d -path '*/meshdesk/resources_data' | head -1)
[ -n "$data" ] || fail "no meshdesk/resources_data folder in the bundle"
for f in meshdesk.svg styles/light.qss styles/dark.qss legend/workload.svg png/meshdesk-256.png; do
  [ -s "$data/$f" ] || fail "resource $f missing from $data"
done

# Qt modules we leave out really are out.
unwanted=$(find "$bundle" \( -name 'libQt6WebEngine*' -o -name 'libQt6Quick*' -o -name 'libQt6Qml*' \
  -o -name 'libQt63D*' -o -name 'libQt6Multimedia*' -o -name 'libQt6Pdf*' -o -name 'libQt6Designer*' \) | head -5)
[ -z "$unwanted" ] || fail "excluded Qt libraries were bundled: $unwanted"

log=$(mktemp)
cfg=$(mktemp -d)
trap 'rm -rf "$log" "$cfg"' EXIT

# Headless: the demo cluster through graph building to a table (no Qt involved).
"$exe" graph --demo --namespace hello --format table >"$log" 2>&1 || { tail -20 "$log" >&2; fail "'meshdesk graph --demo' failed"; }
grep -q "helloworld" "$log" || { tail -20 "$log" >&2; fail "'meshdesk graph --demo' printed no graph"; }
echo "check_bundle: graph --demo printed $(($(wc -l <"$log") - 1)) edges"
QT_QPA_PLATFORM=offscreen MESHDESK_EXIT_AFTER_SHOW=1 MESHDESK_CONFIG_DIR=$cfg \
  timeout 120 "$exe" --demo >"$log" 2>&1
rc=$?
if ! grep -q "meshdesk: window shown" "$log"; then
  echo "----- output of meshdesk --demo -----" >&2; tail -40 "$log" >&2
  fail "the main window was not shown (exit status $rc)"
fi
[ "$rc" -eq 0 ] || { tail -20 "$log" >&2; fail "meshdesk --demo exited $rc after showing its window"; }
echo "check_bundle: --demo showed its main window and exited cleanly"

# Keep it running a while: modules imported only on the first refreshes (demo data, graph passes,
# canvas, charts) must be in the bundle too. Success is still running when the time is up (124).
QT_QPA_PLATFORM=offscreen MESHDESK_CONFIG_DIR=$cfg timeout "${RUN_SECONDS:-15}" "$exe" --demo >"$log" 2>&1
rc=$?
if [ "$rc" -ne 124 ] || grep -q -E "Traceback|ModuleNotFoundError|ImportError|^(ERROR|CRITICAL) " "$log"; then
  tail -40 "$log" >&2
  fail "meshdesk --demo did not keep running for ${RUN_SECONDS:-15}s (exit status $rc)"
fi
echo "check_bundle: --demo ran ${RUN_SECONDS:-15}s without an error"
echo "check_bundle: bundle size $(du -sh "$bundle" | cut -f1)"
echo "check_bundle: OK"
