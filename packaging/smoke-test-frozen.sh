#!/usr/bin/env bash
# Smoke-test the frozen build headless, as a person's machine would run it:
# no project venv, a fresh HOME (no saved settings, no caches).
#
#   packaging/smoke-test-frozen.sh [BUNDLE_DIR]     (default packaging/dist/kmeans-gui)
#
# 0. The bundle holds the engine's C kernels (a shared library that is loaded
#    with ctypes, so PyInstaller only ships it because the spec names it) and
#    no numba or llvmlite.
# 1. `kmeans-gui --self-test` under QT_QPA_PLATFORM=offscreen, twice (first
#    start from a fresh HOME, then a second one: nothing is compiled or cached,
#    so both should take about as long). Each must exit 0, print exactly one
#    line and leave nothing in the working folder.
# 2. The bundled kmeans-compress: --help, and two images through its pool.
# 3. Median time from launch to the first window shown, offscreen (from Qt's
#    own log).
# 4. On a real X server (Xvfb, needs xvfb and xdotool): the self-test on Qt's
#    xcb platform from a fresh HOME; again with the machine's libxcb-cursor,
#    -icccm and -keysyms hidden (the bundle must carry its own; needs
#    unshare, else only warns); the median time to the first visible window.
# Prints the bundle's size. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle="$(cd "${1:-packaging/dist/kmeans-gui}" && pwd)"
exe="$bundle/kmeans-gui"
if [[ ! -x "$exe" ]]; then
  echo "no frozen build at $exe: run packaging/build-frozen.sh first" >&2
  exit 1
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home" "$scratch/cwd" "$scratch/runtime"
chmod 700 "$scratch/runtime"
clean_env=(env -i PATH=/usr/bin:/bin HOME="$scratch/home" XDG_RUNTIME_DIR="$scratch/runtime"
           LANG=C.UTF-8)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "bundle: $bundle ($(du -sh "$bundle" | cut -f1))"

# The kernels' library sits where kmeans_gui/core/_native/__init__.py looks for
# it (beside its own __file__), and must be a shared library for this machine.
native="$bundle/_internal/kmeans_gui/core/_native/_kmeans_native.so"
if [[ ! -f "$native" || "$(head -c 4 "$native" | od -An -tx1 | tr -d ' ')" != "7f454c46" ]]; then
  echo "FAILED: the C kernels are not in the bundle at $native" >&2
  exit 1
fi
echo "C kernels: ${native#"$bundle/"} ($(du -h "$native" | cut -f1))"
# numba and llvmlite are no dependency any more; their compiled parts (LLVM
# alone is 171 MB) would show up as files if anything pulled them in.
leftovers="$(find "$bundle" \( -iname '*llvmlite*' -o -iname '*numba*' -o -iname 'libLLVM*' \) \
             -print | head -5)"
if [[ -n "$leftovers" ]]; then
  echo "FAILED: numba/llvmlite in the bundle:" >&2
  echo "$leftovers" >&2
  exit 1
fi

for run in "first start, fresh HOME" "second start"; do
  start="$(now)"
  if ! (cd "$scratch/cwd" && "${clean_env[@]}" QT_QPA_PLATFORM=offscreen \
        timeout 300 "$exe" --self-test >"$scratch/out" 2>"$scratch/err"); then
    echo "FAILED: --self-test ($run)" >&2
    cat "$scratch/out" "$scratch/err" >&2
    exit 1
  fi
  seconds="$(elapsed "$start" "$(now)")"
  lines="$(grep -c . "$scratch/out" || true)"
  if [[ "$lines" != 1 ]]; then
    echo "FAILED: --self-test printed $lines lines, expected 1:" >&2
    cat "$scratch/out" >&2
    exit 1
  fi
  if [[ -n "$(ls -A "$scratch/cwd")" ]]; then
    echo "FAILED: --self-test left files in the working folder: $(ls -A "$scratch/cwd")" >&2
    exit 1
  fi
  echo "self-test, $run: ${seconds}s: $(cat "$scratch/out")"
done

# The command-line tool from the same folder: two images through its worker
# pool must come out as indexed (PNG colour type 3) files.
cli="$bundle/kmeans-compress"
mkdir -p "$scratch/cli"
cp "$bundle/_internal/kmeans_gui/assets/sample.png" "$scratch/cli/a.png"
cp "$bundle/_internal/kmeans_gui/assets/sample.png" "$scratch/cli/b.png"
if ! "${clean_env[@]}" "$cli" --help >"$scratch/out" 2>&1 || ! grep -q "^usage: kmeans-compress" "$scratch/out"; then
  echo "FAILED: kmeans-compress --help" >&2
  cat "$scratch/out" >&2
  exit 1
fi
start="$(now)"
if ! (cd "$scratch/cli" && "${clean_env[@]}" timeout 300 "$cli" -q -k 8 -j 2 --out-dir out a.png b.png \
      >"$scratch/out" 2>&1); then
  echo "FAILED: kmeans-compress on two images" >&2
  cat "$scratch/out" >&2
  exit 1
fi
for name in a b; do
  png="$scratch/cli/out/$name-k8.png"
  if [[ ! -f "$png" || "$(head -c 8 "$png" | od -An -tx1 | tr -d ' ')" != "89504e470d0a1a0a" \
        || "$(od -An -tu1 -j25 -N1 "$png" | tr -d ' ')" != 3 ]]; then
    echo "FAILED: kmeans-compress did not write an indexed PNG at $png" >&2
    ls -la "$scratch/cli" "$scratch/cli/out" >&2 || true
    exit 1
  fi
done
echo "kmeans-compress, two images, -k 8 -j 2: $(elapsed "$start" "$(now)")s"

# Nothing is compiled at run time any more, so neither program may leave a
# kernel cache behind (the numba builds kept one in ~/.cache/kmeans-gui).
if [[ -e "$scratch/home/.cache/kmeans-gui" ]]; then
  echo "FAILED: a cache appeared in ~/.cache/kmeans-gui:" >&2
  find "$scratch/home/.cache/kmeans-gui" | head >&2
  exit 1
fi

# Offscreen windows cannot be seen from outside, so ask Qt to log when a
# top-level window's native window is made visible, and time that line.
times=()
for _ in 1 2 3 4 5; do
  start="$(now)"
  coproc APP { cd "$scratch/cwd" && exec "${clean_env[@]}" QT_QPA_PLATFORM=offscreen \
               QT_LOGGING_RULES="qt.widgets.showhide.debug=true" timeout 60 "$exe" 2>&1 >/dev/null; }
  shown=""
  while IFS= read -r line <&"${APP[0]}"; do
    if [[ "$line" == *"QWidgetWindow"*"to true via QWidgetWindow::setNativeWindowVisibility"* ]]; then
      shown="$(elapsed "$start" "$(now)")"; break
    fi
  done
  kill "$APP_PID" 2>/dev/null || true
  wait "$APP_PID" 2>/dev/null || true
  if [[ -z "$shown" ]]; then
    echo "FAILED: no window was shown offscreen" >&2
    exit 1
  fi
  times+=("$shown")
done
median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"
echo "time to first window (offscreen, 5 starts): median ${median}s (${times[*]})"

# Qt's X11 (xcb) platform on a real X server, as a desktop runs the app. The
# server picks a free display number itself (-displayfd) and is stopped on exit.
for tool in Xvfb xdotool; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAILED: $tool is not installed (apt-get install xvfb xdotool; .ci/run does)" >&2
    exit 1
  fi
done
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset \
  3>"$scratch/display" >"$scratch/xvfb.log" 2>&1 &
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 200); do
  [[ "$(cat "$scratch/display")" == *[0-9]* ]] && break
  kill -0 "$xvfb_pid" 2>/dev/null || break
  sleep 0.05
done
number="$(tr -dc 0-9 <"$scratch/display")"
if [[ -z "$number" ]]; then
  echo "FAILED: Xvfb did not start:" >&2
  tail -5 "$scratch/xvfb.log" >&2
  exit 1
fi
display=":$number"

# The self-test on xcb, from a fresh HOME: window, K-Means, save, exit 0.
# The PNG it saved must be an indexed PNG (colour type 3) of the sample's size.
x11_self_test() {  # LABEL [COMMAND PREFIX...]
  local label="$1"; shift
  rm -rf "$scratch/home" && mkdir -p "$scratch/home"
  rm -f "$scratch/x11.png"
  start="$(now)"
  if ! (cd "$scratch/cwd" && "$@" "${clean_env[@]}" DISPLAY="$display" QT_QPA_PLATFORM=xcb \
        timeout 300 "$exe" --self-test --self-test-output "$scratch/x11.png" \
        >"$scratch/out" 2>"$scratch/err"); then
    echo "FAILED: --self-test on X11 ($label)" >&2
    cat "$scratch/out" "$scratch/err" >&2
    exit 1
  fi
  local png="$scratch/x11.png"
  if [[ ! -f "$png" || "$(od -An -tu1 -j25 -N1 "$png" | tr -d ' ')" != 3 \
        || "$(od -An -tx1 -j16 -N8 "$png" | tr -d ' \n')" != 000001c30000012c ]]; then
    echo "FAILED: the self-test on X11 ($label) saved no indexed 451x300 PNG" >&2
    exit 1
  fi
  echo "self-test on X11 (xcb, Xvfb $display), $label: $(elapsed "$start" "$(now)")s: $(cat "$scratch/out")"
}
x11_self_test "fresh HOME"

# The bundle carries the X libraries minimal desktops lack: with the
# machine's own copies hidden (in a private mount namespace they read as
# empty files, so the loader cannot use them), the app must still start.
hidden=(libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1)
for lib in "${hidden[@]}"; do
  if [[ ! -f "$bundle/_internal/$lib" ]]; then
    echo "FAILED: $lib is not in the bundle" >&2
    exit 1
  fi
done
mounts=""
system_copies=()
for lib in "${hidden[@]}"; do
  # (awk reads to the end: an early exit would kill ldconfig with SIGPIPE.)
  path="$(/sbin/ldconfig -p | awk -v l="$lib" '$1 == l && !seen { print $NF; seen = 1 }')"
  if [[ -n "$path" ]]; then
    system_copies+=("$(readlink -f "$path")")
    mounts+="mount --bind /dev/null '$(readlink -f "$path")' && "
  fi
done
unshare_flags=(--mount)
[[ "$(id -u)" == 0 ]] || unshare_flags=(--map-root-user --mount)
hide=(unshare "${unshare_flags[@]}" sh -c "${mounts}exec \"\$@\"" sh)
# Inside the namespace every system copy must read as empty.
empty_inside='for p; do if [ -s "$p" ]; then exit 1; fi; done'
if ((${#system_copies[@]} != ${#hidden[@]})); then
  echo "WARNING: the bundle's own X libraries were not tried alone (the system lacks some of ${hidden[*]})"
elif ! command -v unshare >/dev/null || ! "${hide[@]}" sh -c "$empty_inside" sh "${system_copies[@]}" 2>/dev/null; then
  echo "WARNING: the bundle's own X libraries were not tried alone (no private mount namespace here)"
else
  x11_self_test "system ${hidden[*]} hidden" "${hide[@]}"
fi

# Time from launch to the first visible window on X11, watched from outside.
times=()
for _ in 1 2 3 4 5; do
  start="$(now)"
  (cd "$scratch/cwd" && exec "${clean_env[@]}" DISPLAY="$display" QT_QPA_PLATFORM=xcb "$exe") \
    >/dev/null 2>"$scratch/x11.log" &
  app_pid=$!
  # Poll every 20 ms (xdotool's own --sync waits in 0.5 s steps).
  found=""
  for _ in $(seq 3000); do
    if DISPLAY="$display" xdotool search --onlyvisible --pid "$app_pid" >/dev/null 2>&1; then
      found=1; break
    fi
    kill -0 "$app_pid" 2>/dev/null || break
    sleep 0.02
  done
  if [[ -z "$found" ]]; then
    kill "$app_pid" 2>/dev/null || true
    echo "FAILED: no window appeared on X11 $display (app exited or 60 s passed):" >&2
    grep -v "^$" "$scratch/x11.log" | tail -8 >&2
    exit 1
  fi
  times+=("$(elapsed "$start" "$(now)")")
  kill "$app_pid"
  wait "$app_pid" 2>/dev/null || true
done
median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"
echo "time to first window (Xvfb, 5 starts): median ${median}s (${times[*]})"
echo "frozen smoke test passed"
