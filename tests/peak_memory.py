"""Peak memory of a child process, for tests that bound what hostile input may take.

The child runs under a wrapper interpreter whose only child it is, so
``RUSAGE_CHILDREN`` reports that child's peak and nothing the test session
ran before. An address-space cap keeps a regression from taking the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys

#: Address space a measured child may reserve: far above any bounded run
#: (threads and numpy reserve a few hundred MiB), far below a runaway.
ADDRESS_SPACE_CAP = 6 << 30

_WRAPPER = """\
import resource, subprocess, sys
cap = int(sys.argv[1])
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
proc = subprocess.run(sys.argv[2:], preexec_fn=limit, capture_output=True)
sys.stdout.buffer.write(proc.stderr[-4000:])
print()
print(proc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_mib(*args: str | os.PathLike, python: bool = True, timeout: float = 120,
             cap: int = ADDRESS_SPACE_CAP) -> tuple[int, float, str]:
    """Run ``python args...`` (or ``args`` as a command); return (exit status,
    peak resident MiB, the tail of its standard error)."""
    command = ([sys.executable] if python else []) + [str(a) for a in args]
    done = subprocess.run([sys.executable, "-c", _WRAPPER, str(cap), *command],
                          capture_output=True, text=True, timeout=timeout, check=True)
    *err, last = done.stdout.rstrip("\n").split("\n")
    code, kib = last.split()
    return int(code), int(kib) / 1024, "\n".join(err)


def load_peak_mib(path: str | os.PathLike, max_pixels: int | None = None) -> tuple[int, float, str]:
    """Peak memory of ``load_image(path)`` in a fresh interpreter; status 0
    loaded, 1 refused with ImageError (its message on the last error line)."""
    limit = "" if max_pixels is None else f", max_pixels={max_pixels}"
    script = (
        "import sys\n"
        "from kmeans_gui.core import ImageError, load_image\n"
        "try:\n"
        f"    load_image(sys.argv[1]{limit})\n"
        "except ImageError as exc:\n"
        "    sys.stderr.write(str(exc) + '\\n')\n"
        "    sys.exit(1)\n")
    return peak_mib("-c", script, path)
