"""Build hook: compile the C kernels in kmeans_gui/core/_native into one
shared library that the package loads with ctypes.

The library is plain C (no Python headers), so any C compiler that can build
a shared object works; CC and CFLAGS from the environment are honoured. It is
written into the source tree, where both an editable install and the wheel
pick it up.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sysconfig
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

NATIVE = Path("kmeans_gui") / "core" / "_native"


def library_name(root: Path) -> str:
    """The file name the package loads, from ``_native/library.py`` (loaded by
    path: the package itself is not importable while it is being built)."""
    spec = importlib.util.spec_from_file_location(
        "_kmeans_native_library", root / NATIVE / "library.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.library_name()


def compile_library(root: Path) -> Path:
    folder = root / NATIVE
    sources = sorted(str(p) for p in folder.glob("*.c"))
    target = folder / library_name(root)
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    # -fno-math-errno lets sqrt compile to one instruction; no -ffast-math, so
    # results stay IEEE-exact and seeded runs stay byte-identical.
    flags = ["-O3", "-std=c11", "-fPIC", "-shared", "-fno-math-errno", "-Wall",
             "-fvisibility=hidden"]
    flags += shlex.split(os.environ.get("CFLAGS", ""))
    partial = target.with_suffix(target.suffix + ".part")
    command = [*compiler, *flags, "-o", str(partial), *sources, "-lm"]
    try:
        subprocess.run(command, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(
            f"kmeans-gui needs a C compiler to build its kernels ({' '.join(command)}): {exc}"
        ) from exc
    os.replace(partial, target)
    return target


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        target = compile_library(Path(self.root))
        build_data["pure_python"] = False
        # Plain C loaded with ctypes: any Python 3 on this platform can use it.
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["tag"] = f"py3-none-{platform}"
        build_data["artifacts"].append(str(target.relative_to(self.root)))
