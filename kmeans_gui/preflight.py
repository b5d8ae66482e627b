"""Pre-flight check of the desktop platform, before anything loads Qt.

Qt picks a platform plugin when the ``QApplication`` is made: Wayland when a
Wayland session is announced, else X11 (``xcb``). If the plugin cannot be
loaded because a system library is missing, Qt prints a hint that names at
most one of them and aborts the process (status 134). The X11 plugin of
PySide6 6.5 and newer needs about twenty X libraries, and minimal desktops
often lack ``libxcb-cursor0``, ``libxcb-icccm4`` and ``libxcb-keysyms1``.

:func:`check` predicts Qt's choice from the environment, reads the ELF
dependencies of the chosen plugin and of everything it loads, and resolves them
as the dynamic loader would (``DT_RPATH``, ``LD_LIBRARY_PATH``,
``DT_RUNPATH``, ``/etc/ld.so.cache``, the default folders). It loads nothing
and starts no process, so it costs little on every start. When libraries are
missing, the verdict carries one message naming all of them and the packages
that provide them on Debian/Ubuntu and Fedora. Where Qt would start on Wayland
and that works, X11 is not examined at all; where X11 fails but a Wayland
compositor is running, the verdict switches to Wayland.

Standard library only, and nothing here may import Qt.
"""

from __future__ import annotations

import importlib.util
import mmap
import os
import stat
import struct
import sys
from pathlib import Path

#: Platform plugin files, by Qt platform name, first existing name wins
#: (PySide6 6.6/6.7 called the generic Wayland plugin libqwayland-generic.so).
PLUGIN_FILES = {
    "xcb": ("libqxcb.so",),
    "wayland": ("libqwayland.so", "libqwayland-generic.so"),
}
PLATFORM_TITLES = {"xcb": "X11 (xcb)", "wayland": "Wayland"}

#: Which package provides a library: (Debian/Ubuntu, Fedora).
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libXau.so.6": ("libxau6", "libXau"),
    "libXdmcp.so.6": ("libxdmcp6", "libXdmcp"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libGLdispatch.so.0": ("libglvnd0", "libglvnd"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libstdc++.so.6": ("libstdc++6", "libstdc++"),
    "libgcc_s.so.1": ("libgcc-s1", "libgcc"),
    "libz.so.1": ("zlib1g", "zlib"),
    "libzstd.so.1": ("libzstd1", "libzstd"),
}

#: The C library and the loader itself: always there where Python runs.
_ALWAYS_PRESENT = ("libc.so.", "libm.so.", "libdl.so.", "libpthread.so.", "librt.so.",
                   "ld-linux", "ld64.so.")


class Verdict:
    """What :func:`check` found.

    ``message`` set: the app cannot start; print it and exit 1.
    ``environ``: variables to set before Qt starts (the platform chosen).
    ``platform``: the platform that was checked and will work, or None
    where the check had nothing to say (an explicit non-desktop platform,
    not Linux, a plugin path it cannot see).
    """

    __slots__ = ("platform", "environ", "message", "missing")

    def __init__(self, platform: str | None = None, environ: dict[str, str] | None = None,
                 message: str | None = None, missing: tuple[str, ...] = ()):
        self.platform = platform
        self.environ = dict(environ or {})
        self.message = message
        self.missing = missing

    def __repr__(self) -> str:
        return (f"Verdict(platform={self.platform!r}, environ={self.environ!r}, "
                f"missing={self.missing!r}, message={self.message!r})")


# ---------------------------------------------------------------- ELF files


class ElfInfo:
    """A shared object's word size (1: 32-bit, 2: 64-bit), machine, needed
    libraries and search paths."""

    __slots__ = ("elf_class", "machine", "needed", "rpath", "runpath")

    def __init__(self, elf_class: int, machine: int, needed: tuple[str, ...] = (),
                 rpath: tuple[str, ...] = (), runpath: tuple[str, ...] = ()):
        self.elf_class, self.machine = elf_class, machine
        self.needed, self.rpath, self.runpath = needed, rpath, runpath


_DT_NEEDED, _DT_STRTAB, _DT_STRSZ, _DT_RPATH, _DT_RUNPATH = 1, 5, 10, 15, 29
_PT_LOAD, _PT_DYNAMIC = 1, 2


def read_elf(path: str | os.PathLike) -> ElfInfo | None:
    """The dynamic-linking entries of a shared object, or None if ``path``
    is not a readable ELF file (which the loader would reject too)."""
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return _parse_elf(m)
    except (OSError, ValueError, struct.error):
        return None


def _parse_elf(m: mmap.mmap) -> ElfInfo | None:
    if m[:4] != b"\x7fELF" or m[4] not in (1, 2) or m[5] not in (1, 2):
        return None
    is64 = m[4] == 2
    end = "<" if m[5] == 1 else ">"
    if is64:
        machine, = struct.unpack_from(end + "H", m, 18)
        phoff, = struct.unpack_from(end + "Q", m, 32)
        phentsize, phnum = struct.unpack_from(end + "HH", m, 54)
        ph_format, dyn_format = end + "IIQQQQQQ", end + "qQ"
    else:
        machine, = struct.unpack_from(end + "H", m, 18)
        phoff, = struct.unpack_from(end + "I", m, 28)
        phentsize, phnum = struct.unpack_from(end + "HH", m, 42)
        ph_format, dyn_format = end + "IIIIIIII", end + "iI"
    loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
    dynamic = None
    for i in range(phnum):
        fields = struct.unpack_from(ph_format, m, phoff + i * phentsize)
        if is64:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = fields[:6]
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz = fields[:5]
        if p_type == _PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == _PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:  # a static executable: it needs nothing
        return ElfInfo(m[4], machine, (), (), ())
    entries: list[tuple[int, int]] = []
    step = struct.calcsize(dyn_format)
    strtab = strsz = None
    for pos in range(dynamic[0], dynamic[0] + dynamic[1] - step + 1, step):
        tag, value = struct.unpack_from(dyn_format, m, pos)
        if tag == 0:
            break
        if tag == _DT_STRTAB:
            strtab = value
        elif tag == _DT_STRSZ:
            strsz = value
        else:
            entries.append((tag, value))
    if strtab is None or strsz is None:
        return None
    # DT_STRTAB is an address; the segment that maps it gives its file offset.
    base = next((offset + strtab - vaddr for vaddr, offset, size in loads
                 if vaddr <= strtab < vaddr + size), None)
    if base is None:
        return None
    table = m[base:base + strsz]

    def text(offset: int) -> str:
        return table[offset:table.index(b"\0", offset)].decode("utf-8", "surrogateescape")

    needed, rpath, runpath = [], [], []
    for tag, value in entries:
        if tag == _DT_NEEDED:
            needed.append(text(value))
        elif tag == _DT_RPATH:
            rpath.extend(p for p in text(value).split(":") if p)
        elif tag == _DT_RUNPATH:
            runpath.extend(p for p in text(value).split(":") if p)
    return ElfInfo(m[4], machine, tuple(needed), tuple(rpath), tuple(runpath))


# ------------------------------------------------------ finding libraries


def ld_cache(path: str = "/etc/ld.so.cache") -> dict[str, list[str]]:
    """Library name -> paths, from glibc's loader cache (the format that
    ldconfig has written since glibc 2.32, alone or after the old one)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return {}
    magic = b"glibc-ld.so.cache1.1"
    start = data.find(magic)
    if start < 0:
        return {}
    try:
        nlibs, = struct.unpack_from("<I", data, start + 20)
        cache: dict[str, list[str]] = {}
        for i in range(nlibs):
            _flags, key, value = struct.unpack_from("<iII", data, start + 48 + 24 * i)
            name = data[start + key:data.index(b"\0", start + key)]
            target = data[start + value:data.index(b"\0", start + value)]
            cache.setdefault(name.decode("utf-8", "surrogateescape"), []).append(
                target.decode("utf-8", "surrogateescape"))
    except (struct.error, ValueError):
        return {}
    return cache


def default_library_dirs() -> list[str]:
    """The loader's built-in folders: the multiarch ones (Debian, Ubuntu),
    lib64 (Fedora) and the plain ones, those that exist."""
    triplet = getattr(sys.implementation, "_multiarch", "")
    dirs = [f"/lib/{triplet}", f"/usr/lib/{triplet}"] if triplet else []
    dirs += ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]
    return [d for d in dirs if os.path.isdir(d)]


def elf_kind(path: str) -> tuple[int, int] | None:
    """(word size, machine) of an ELF file, None if it is not one."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        head = os.read(fd, 20)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(head) < 20 or head[:4] != b"\x7fELF" or head[5] not in (1, 2):
        return None
    return head[4], struct.unpack_from("<H" if head[5] == 1 else ">H", head, 18)[0]


class Resolver:
    """Finds the libraries an object needs, as glibc's loader searches.

    Libraries that come with the application (beside it, on its ``RUNPATH``
    or on ``LD_LIBRARY_PATH``, as in the frozen build) are followed to their
    own dependencies; system libraries are not: the package manager that
    installed one installed what it needs, so their dependencies cost time
    and find nothing. ``system_dirs`` replaces the loader cache and the
    built-in folders (to see what a machine without some library would
    find).
    """

    def __init__(self, environ: dict[str, str], system_dirs: list[str] | None = None):
        search = environ.get("LD_LIBRARY_PATH", "").replace(";", ":")
        self.env_dirs = [d for d in search.split(":") if d]
        if system_dirs is None:
            self.cache = ld_cache()
            self.system_dirs = default_library_dirs()
        else:
            self.cache, self.system_dirs = {}, list(system_dirs)

    def find(self, name: str, owner: str, info: ElfInfo) -> tuple[str, bool] | None:
        """(path, whether it is a system library) of library ``name`` needed
        by ``owner`` (described by ``info``), or None when the loader would
        not find it."""
        origin = os.path.dirname(os.path.abspath(owner))

        def expand(dirs) -> list[str]:
            return [d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for d in dirs]

        if "/" in name:
            own, system = [name], []
        else:
            dirs = expand(info.rpath) if not info.runpath else []
            dirs += self.env_dirs + expand(info.runpath)
            own = [os.path.join(d, name) for d in dirs]
            system = self.cache.get(name, []) + [os.path.join(d, name) for d in self.system_dirs]
        kind = (info.elf_class, info.machine)
        for is_system, candidates in ((False, own), (True, system)):
            for path in candidates:
                # The loader skips files of another word size or machine.
                if elf_kind(path) == kind:
                    return path, is_system
        return None

    def missing(self, root: str) -> list[str]:
        """Libraries that ``root`` needs, directly or through the libraries
        that come with it, that cannot be found (in the order first needed)."""
        info = read_elf(root)
        if info is None:
            return [os.path.basename(root)]
        seen: set[str] = set()
        absent: list[str] = []
        queue = [(root, info)]
        while queue:
            owner, owner_info = queue.pop(0)
            for name in owner_info.needed:
                if name in seen or name.startswith(_ALWAYS_PRESENT):
                    continue
                seen.add(name)
                found = self.find(name, owner, owner_info)
                if found is None:
                    absent.append(name)
                elif not found[1]:
                    child = read_elf(found[0])
                    if child is not None:
                        queue.append((found[0], child))
        return absent


# ------------------------------------------------------- platform choice


def qt_platform_order(environ: dict[str, str]) -> list[str]:
    """The platforms Qt 6 tries, in order, when QT_QPA_PLATFORM is unset:
    Wayland first when a Wayland session is announced, then X11 (which is
    also the built-in default when no display is announced at all)."""
    order = []
    if environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE") == "wayland":
        order.append("wayland")
    order.append("xcb")
    return order


def wayland_socket(environ: dict[str, str]) -> str | None:
    """Why no Wayland compositor can be reached, or None when one can."""
    if environ.get("WAYLAND_SOCKET"):
        return None  # a connected socket handed over by the compositor
    name = environ.get("WAYLAND_DISPLAY") or "wayland-0"
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    path = name if os.path.isabs(name) else os.path.join(runtime, name) if runtime else ""
    if not path:
        return f"WAYLAND_DISPLAY={name} but XDG_RUNTIME_DIR is not set"
    try:
        if stat.S_ISSOCK(os.stat(path).st_mode):
            return None
    except OSError:
        pass
    return f"no Wayland compositor listens at {path}"


def plugins_dir() -> Path | None:
    """PySide6's platform plugin folder, found without importing PySide6."""
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        folder = Path(location) / "Qt" / "plugins" / "platforms"
        if folder.is_dir():
            return folder
    return None


def _plugin(folder: Path, platform: str) -> Path | None:
    for name in PLUGIN_FILES[platform]:
        if (folder / name).is_file():
            return folder / name
    return None


def _platform_problem(platform: str, folder: Path, resolver: Resolver,
                      environ: dict[str, str]) -> tuple[str | None, list[str]] | None:
    """(reason, missing libraries) why ``platform`` cannot start, or None
    when it can (or when this check cannot tell)."""
    if platform == "wayland":
        reason = wayland_socket(environ)
        if reason:
            return reason, []
    elif not environ.get("DISPLAY"):
        return "DISPLAY is not set", []
    plugin = _plugin(folder, platform)
    if plugin is None:
        return None  # a PySide6 without this plugin: let Qt say so
    missing = resolver.missing(str(plugin))
    return (None, missing) if missing else None


def _confirmed_by_loader(platform: str, folder: Path) -> bool:
    """Whether the real loader also fails to load the plugin: a library
    found by some route this check does not model must not stop the app."""
    import ctypes

    plugin = _plugin(folder, platform)
    try:
        ctypes.CDLL(str(plugin), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError:
        return True
    return False


def check(environ: dict[str, str] | None = None, *, system_dirs: list[str] | None = None,
          platforms: Path | None = None) -> Verdict:
    """Predict whether Qt can start a desktop platform; see the module doc.

    ``system_dirs`` replaces the system's library folders and loader cache;
    ``platforms`` is the Qt platform plugin folder (default: PySide6's).
    """
    environ = dict(os.environ if environ is None else environ)
    if not sys.platform.startswith("linux") or environ.get("QT_QPA_PLATFORM_PLUGIN_PATH"):
        return Verdict()
    explicit = environ.get("QT_QPA_PLATFORM", "").strip()
    if explicit:
        # Respect the choice; judge only the desktop platforms in it.
        order = [part.split(":", 1)[0].strip() for part in explicit.split(";") if part.strip()]
        for name in order:
            if name not in PLUGIN_FILES:
                return Verdict()  # offscreen, minimal, eglfs, vnc...: Qt's own business
    else:
        order = qt_platform_order(environ)
    folder = platforms if platforms is not None else plugins_dir()
    if folder is None:
        return Verdict()
    resolver = Resolver(environ, system_dirs)
    problems: dict[str, tuple[str | None, list[str]]] = {}
    for name in order:
        problem = _platform_problem(name, folder, resolver, environ)
        if problem and problem[1] and system_dirs is None \
                and not _confirmed_by_loader(name, folder):
            problem = None  # the loader finds what the search did not
        if problem is None:
            # Where Qt would try another platform first, skip it (and its warnings).
            chosen = {} if explicit or name == order[0] else {"QT_QPA_PLATFORM": name}
            return Verdict(platform=name, environ=chosen)
        problems[name] = problem
    missing = dict.fromkeys(lib for _, libs in problems.values() for lib in libs)
    return Verdict(message=_message(problems, explicit), missing=tuple(missing))


# ----------------------------------------------------------------- message


def _message(problems: dict[str, tuple[str | None, list[str]]], explicit: str) -> str:
    if all(not libs for _, libs in problems.values()):
        # Nothing is missing; there is just nothing to show windows on.
        reasons = "; ".join(reason for reason, _ in problems.values() if reason)
        where = f"on QT_QPA_PLATFORM={explicit}" if explicit else "without a display"
        return (f"kmeans-gui cannot start {where}: {reasons}.\n"
                "Start it from a desktop session; kmeans-compress works without one.")
    lacking = {PLATFORM_TITLES.get(name, name): libs
               for name, (_, libs) in problems.items() if libs}
    notes = [f"({PLATFORM_TITLES.get(name, name)} cannot be used either: {reason}.)"
             for name, (reason, libs) in problems.items() if not libs]
    missing = list(dict.fromkeys(lib for libs in lacking.values() for lib in libs))
    if len(lacking) == 1:
        (title, libs), = lacking.items()
        what = "a system library" if len(libs) == 1 else "system libraries"
        lines = [f"kmeans-gui cannot start: Qt's {title} platform needs {what} that this "
                 "machine lacks:", "    " + " ".join(libs)]
    else:
        lines = [f"kmeans-gui cannot start: Qt's {' and '.join(lacking)} platforms need system "
                 "libraries that this machine lacks:"]
        lines += [f"    {title}: {' '.join(libs)}" for title, libs in lacking.items()]
    known = [lib for lib in missing if lib in PACKAGES]
    if known:
        debian = " ".join(dict.fromkeys(PACKAGES[lib][0] for lib in known))
        fedora = " ".join(dict.fromkeys(PACKAGES[lib][1] for lib in known))
        lines.append(f"Install {'its package' if len(known) == 1 else 'their packages'}, "
                     "then start kmeans-gui again:")
        lines.append(f"    Debian/Ubuntu:  sudo apt install {debian}")
        lines.append(f"    Fedora:         sudo dnf install {fedora}")
    for lib in missing:
        if lib not in PACKAGES:
            lines.append(f"    {lib}: `apt-file search {lib}` or `dnf provides '*/{lib}'` "
                         "names its package")
    return "\n".join(lines + notes)


def run(environ=None) -> int | None:
    """Check before Qt starts: None to go on (after applying the verdict's
    environment), or 1 after printing why the app cannot start."""
    environ = os.environ if environ is None else environ
    verdict = check(environ)
    if verdict.message:
        print(verdict.message, file=sys.stderr)
        return 1
    environ.update(verdict.environ)
    return None


if __name__ == "__main__":
    # `python -m kmeans_gui.preflight`: what the check decides here, and why.
    import time

    started = time.perf_counter()
    result = check()
    elapsed = time.perf_counter() - started
    print(result.message or f"ok: platform {result.platform or '(Qt decides)'} "
          f"{result.environ or ''} in {elapsed * 1000:.1f} ms")
    sys.exit(1 if result.message else 0)
