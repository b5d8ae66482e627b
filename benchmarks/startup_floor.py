"""Where a small image's run goes: the interpreter, numpy, our imports, the work.

    uv run python benchmarks/startup_floor.py IMAGE.png [-k 16] [--runs 21] \
        [--pngquant PATH]

Whole processes, each started in turn (round robin, so machine noise hits all
alike), medians of CPU time (user + system, from ``wait4``) and wall time:

1. ``python -c pass``: the interpreter and ``site``;
2. ``python -c "import numpy"``, and the same ending with ``os._exit`` (no teardown);
3. every module a run of IMAGE imports (the list taken from a real run), imported
   in the order the run imported them, without doing the work;
4. the same, then ``os._exit``: without the interpreter's teardown;
5. ``kmeans-compress IMAGE -k K --dither none -o OUT`` (the whole run);
6. ``pngquant --nofs K IMAGE``, if found.

The differences are the cost of each layer: numpy's import, ours beyond
numpy, the teardown (which the command skips), and the work itself. Run it with bytecode compiled
(``python -m compileall -q .venv kmeans_gui``), as installed users have it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LISTING = """
import sys
before = list(sys.modules)
from kmeans_gui.cli import main
code = main(sys.argv[1:])
order = [m for m in sys.modules if m not in before]
sys.stdout.write("\\n".join(order))
sys.exit(code)
"""


def kmeans_compress() -> list[str]:
    script = Path(sys.executable).with_name("kmeans-compress")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kmeans_gui.cli"]


def run(command: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("image", type=Path)
    parser.add_argument("-k", type=int, default=16)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--pngquant", default=shutil.which("pngquant"))
    args = parser.parse_args()
    # The package holds OpenBLAS to one thread before numpy is imported; the
    # bare numpy rows must too, or they time OpenBLAS starting a thread per
    # core, which the command never does.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    with tempfile.TemporaryDirectory(prefix="kmeans-floor-") as tmp:
        out = Path(tmp) / "out.png"
        ours = [str(args.image), "-k", str(args.k), "--dither", "none", "-o", str(out),
                "--force", "-q"]
        listed = subprocess.run([sys.executable, "-c", LISTING, *ours], capture_output=True,
                                text=True, check=True).stdout.split()
        chain = Path(tmp) / "chain.py"
        # Only importable names (C submodules of packages import with them).
        chain.write_text(f"import importlib\nfor name in {listed!r}:\n    try:\n"
                         "        importlib.import_module(name)\n    except ImportError:\n"
                         "        pass\n")
        chain_exit = Path(tmp) / "chain_exit.py"
        chain_exit.write_text(chain.read_text() + "import os\nos._exit(0)\n")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
            "the same, then os._exit": [sys.executable, "-c",
                                        "import os, numpy\nos._exit(0)"],
            f"the run's imports ({len(listed)} modules)": [sys.executable, str(chain)],
            "the run's imports, then os._exit": [sys.executable, str(chain_exit)],
            f"kmeans-compress -k {args.k} --dither none": [*kmeans_compress(), *ours],
        }
        if args.pngquant:
            commands[f"pngquant --nofs {args.k}"] = [
                args.pngquant, "--nofs", "--force", "--output", str(Path(tmp) / "pq.png"),
                str(args.k), str(args.image)]
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for round_ in range(args.runs + 1):
            for name, command in commands.items():
                figure = run(command)
                if round_:  # the first round warms the page cache
                    figures[name].append(figure)
    print(f"{args.image.name}, k={args.k}: medians of {args.runs} rounds, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'process':<44} {'CPU ms':>7} {'wall ms':>8}")
    cpu = {}
    for name, values in figures.items():
        cpu[name] = statistics.median(v[0] for v in values) * 1000
        print(f"{name:<44} {cpu[name]:7.1f} {statistics.median(v[1] for v in values) * 1000:8.1f}")
    (bare, numpy, numpy_exit, chain, chain_exit, whole, *pngquant) = cpu.values()
    print(f"numpy's import: {numpy_exit - bare:.1f} ms CPU (its teardown {numpy - numpy_exit:.1f}"
          f" more); our imports beyond numpy: {chain_exit - numpy_exit:.1f} ms; the teardown "
          f"of all of it: {chain - chain_exit:.1f} ms; the work: {whole - chain_exit:.1f} ms")
    if pngquant:
        print(f"python and numpy alone, no teardown: {numpy_exit / pngquant[0]:.2f}x pngquant's "
              f"whole run; all the imports: {chain_exit / pngquant[0]:.2f}x; the run: "
              f"{whole / pngquant[0]:.2f}x")


if __name__ == "__main__":
    main()
