"""What the start-up pre-flight check (kmeans_gui/preflight.py) costs, and
what the other ways of finding missing libraries would cost.

    uv run python benchmarks/preflight_cost.py [--runs 21]

Each variant runs in a fresh interpreter that has imported the entry point
(kmeans_gui.app), as at start-up, with
DISPLAY set so that the X11 plugin is examined (no X server is needed: the
check never connects). Variants run interleaved, so load from other
processes spreads evenly; prints medians in milliseconds.

* check: ``preflight.check()`` as the app calls it (module import included).
* ldd: running ``ldd`` on the plugin and reading "not found" lines.
* ldconfig -p: listing the loader cache with a process (what the check reads
  from /etc/ld.so.cache itself).
* dlopen: loading the plugin with ctypes (the real loader's verdict, which
  also maps all of Qt: later Qt reuses it, but only one missing library
  would be named).
* Qt import: importing PySide6.QtWidgets, which every start does anyway,
  for scale.

Compile the bytecode first (``uv run python -m compileall -q .venv
kmeans_gui``) when PYTHONDONTWRITEBYTECODE is set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

# The entry point's own imports come first, untimed: what is measured is what
# the check adds to a start.
TIMED = ("import time, kmeans_gui.app; _t = time.perf_counter()\n{body}\n"
         "print((time.perf_counter() - _t) * 1000)")

VARIANTS = {
    "check": ("from kmeans_gui import preflight\n"
              "v = preflight.check(); assert v.platform == 'xcb', v"),
    "ldd": ("import subprocess; from kmeans_gui import preflight\n"
            "p = preflight.plugins_dir() / 'libqxcb.so'\n"
            "out = subprocess.run(['ldd', str(p)], capture_output=True, text=True).stdout\n"
            "missing = [l.split()[0] for l in out.splitlines() if 'not found' in l]"),
    "ldconfig -p": ("import subprocess\n"
                    "out = subprocess.run(['/sbin/ldconfig', '-p'], capture_output=True,\n"
                    "                     text=True).stdout"),
    "dlopen": ("import ctypes, os; from kmeans_gui import preflight\n"
               "ctypes.CDLL(str(preflight.plugins_dir() / 'libqxcb.so'), mode=os.RTLD_LAZY)"),
    "Qt import": "import PySide6.QtWidgets",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = env.get("DISPLAY") or ":0"
    env.pop("XDG_SESSION_TYPE", None)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.runs):
        for name, body in VARIANTS.items():
            out = subprocess.run([sys.executable, "-c", TIMED.format(body=body)], env=env,
                                 capture_output=True, text=True, check=True).stdout
            times[name].append(float(out.split()[-1]))
    base = statistics.median(times["check"])
    print(f"{'variant':<14}{'median ms':>10}{'min ms':>9}{'x check':>9}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<14}{median:>10.1f}{min(values):>9.1f}{median / base:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
