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
import struct
import subprocess
import sys
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
        build_data["tag"] = f"py3-none-{platform_tag(target)}"
        build_data["artifacts"].append(str(target.relative_to(self.root)))


# The libraries every manylinux platform provides that the kernels may link.
MANYLINUX_LIBS = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1"}
# manylinux2014 (glibc 2.17) is the oldest platform installers still target.
OLDEST_GLIBC_MINOR = 17


def elf_requirements(library: Path) -> tuple[set[str], set[str]]:
    """(libraries needed, symbol versions needed) of a 64-bit little-endian
    ELF shared object, from its dynamic and version-needs sections."""
    data = library.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError(f"{library} is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                for i in range(shnum)]

    def string(section: int, offset: int) -> str:
        start = sections[section][4] + offset
        return data[start:data.index(b"\0", start)].decode()

    needed: set[str] = set()
    versions: set[str] = set()
    for _name, kind, _flags, _addr, offset, size, link, info, _align, _entsize in sections:
        if kind == 6:  # SHT_DYNAMIC: DT_NEEDED entries
            for pos in range(offset, offset + size, 16):
                tag, value = struct.unpack_from("<qQ", data, pos)
                if tag == 0:
                    break
                if tag == 1:
                    needed.add(string(link, value))
        elif kind == 0x6FFFFFFE:  # SHT_GNU_verneed: versions needed, per library
            pos = offset
            for _ in range(info):
                _version, count, _file, aux, following = struct.unpack_from("<HHIII", data, pos)
                entry = pos + aux
                for _ in range(count):
                    _hash, _vflags, _other, name, step = struct.unpack_from("<IHHII", data, entry)
                    versions.add(string(link, name))
                    entry += step
                pos += following
    return needed, versions


def platform_tag(library: Path) -> str:
    """The wheel's platform tag. On Linux, manylinux_2_N (PEP 600) when the
    library links only what every glibc system has and needs no symbol newer
    than glibc 2.N; otherwise the build machine's own tag (linux_x86_64),
    which installs here but cannot be published."""
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    if not platform.startswith("linux_"):
        return platform
    try:
        needed, versions = elf_requirements(library)
    except (OSError, ValueError, struct.error, IndexError) as exc:
        print(f"kmeans-gui: wheel tagged {platform}: cannot read {library}: {exc}", file=sys.stderr)
        return platform
    glibc = [v for v in versions if v.startswith("GLIBC_2.") and v[8:].replace(".", "").isdigit()]
    if needed - MANYLINUX_LIBS or len(glibc) != len(versions):
        print(f"kmeans-gui: wheel tagged {platform}: the kernels need "
              f"{sorted(needed - MANYLINUX_LIBS) or sorted(set(versions) - set(glibc))}, "
              "which manylinux does not promise", file=sys.stderr)
        return platform
    minor = max([int(v.split(".")[1]) for v in glibc] + [OLDEST_GLIBC_MINOR])
    return f"manylinux_2_{minor}_{platform[len('linux_'):]}"
