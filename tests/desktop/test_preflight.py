"""The pre-flight check (kmeans_gui/preflight.py): what Qt would load, which
libraries are missing, the message that names them, and the platform
chosen. Its ELF reading and library search are compared with readelf and
ldd; "missing" libraries are hidden by giving the check a copy of the
system's library folders without them."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kmeans_gui import preflight

from .conftest import BIN, desktop_env, linux_only, require_tool

pytestmark = linux_only

X11_LIBS = ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1")


@pytest.fixture(scope="module")
def platforms() -> Path:
    folder = preflight.plugins_dir()
    assert folder is not None and (folder / "libqxcb.so").is_file(), folder
    return folder


def system_without(tmp: Path, hidden: tuple[str, ...]) -> list[str]:
    """The system's library folders as one folder of links, less ``hidden``
    (and their other names, e.g. libxcb-cursor.so.0.0.0)."""
    folder = tmp / "lib"
    folder.mkdir()
    stems = tuple(name.split(".so")[0] + ".so" for name in hidden)
    for system_dir in preflight.default_library_dirs():
        for entry in os.scandir(system_dir):
            target = folder / entry.name
            if entry.name.startswith(stems) or target.exists() or target.is_symlink():
                continue
            target.symlink_to(entry.path)
    return [str(folder)]


def x11_env(**extra: str) -> dict[str, str]:
    return {"DISPLAY": ":0", "PATH": "/usr/bin:/bin", **extra}


# ------------------------------------------------------ reading ELF files


def test_needed_libraries_and_runpath_match_readelf(platforms):
    readelf = require_tool("readelf", "binutils")
    for plugin in (platforms / "libqxcb.so", platforms.parents[1] / "lib" / "libQt6XcbQpa.so.6"):
        dump = subprocess.run([readelf, "-d", str(plugin)], capture_output=True, text=True,
                              timeout=60, check=True).stdout
        info = preflight.read_elf(plugin)
        assert info is not None and info.elf_class == 2
        assert list(info.needed) == re.findall(r"\(NEEDED\).*\[(.+)\]", dump)
        assert ":".join(info.runpath) == ":".join(re.findall(r"\(RUNPATH\).*\[(.+)\]", dump))


def test_anything_but_a_shared_object_reads_as_none(tmp_path):
    (tmp_path / "empty.so").write_bytes(b"")
    (tmp_path / "text.so").write_text("INPUT(-lfoo)")  # a linker script, as libc.so is
    (tmp_path / "cut.so").write_bytes((preflight.plugins_dir() / "libqxcb.so").read_bytes()[:100])
    for name in ("empty.so", "text.so", "cut.so", "absent.so"):
        assert preflight.read_elf(tmp_path / name) is None
        assert preflight.elf_kind(str(tmp_path / name)) in (None, (2, 62))  # cut: header intact


def test_the_search_finds_what_the_loader_finds(platforms):
    """Every library the plugin needs directly: the same file as ldd's."""
    ldd = require_tool("ldd", "libc-bin")
    plugin = platforms / "libqxcb.so"
    listing = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=60,
                             check=True).stdout
    loader = {m[0]: m[1] for m in re.findall(r"^\s*(\S+) => (/\S+)", listing, re.M)}
    resolver = preflight.Resolver({})
    info = preflight.read_elf(plugin)
    for name in info.needed:
        found = resolver.find(name, str(plugin), info)
        assert found is not None, name
        assert os.path.realpath(found[0]) == os.path.realpath(loader[name]), name
    assert resolver.missing(str(plugin)) == []


def test_the_loader_cache_lists_the_c_library():
    cache = preflight.ld_cache()
    assert any(os.path.exists(path) for path in cache.get("libc.so.6", []))
    assert preflight.ld_cache("/no/such/cache") == {}


# ------------------------------------------------ missing libraries


def test_a_hidden_xcb_cursor_is_named_with_both_install_commands(tmp_path, platforms):
    verdict = preflight.check(x11_env(), system_dirs=system_without(tmp_path, X11_LIBS[:1]),
                              platforms=platforms)
    assert verdict.missing == ("libxcb-cursor.so.0",)
    assert verdict.message == (
        "kmeans-gui cannot start: Qt's X11 (xcb) platform needs a system library that this "
        "machine lacks:\n"
        "    libxcb-cursor.so.0\n"
        "Install its package, then start kmeans-gui again:\n"
        "    Debian/Ubuntu:  sudo apt install libxcb-cursor0\n"
        "    Fedora:         sudo dnf install xcb-util-cursor")


def test_every_missing_library_is_named_not_only_the_first(tmp_path, platforms):
    verdict = preflight.check(x11_env(), system_dirs=system_without(tmp_path, X11_LIBS),
                              platforms=platforms)
    assert set(verdict.missing) == set(X11_LIBS)
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in verdict.message
    assert "sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms" in verdict.message


def test_a_library_without_a_known_package_is_named_with_a_way_to_find_it(tmp_path):
    """A plugin (built here) that needs a library nobody packages."""
    cc = require_tool("gcc", "gcc")
    (tmp_path / "nowhere.c").write_text("int nowhere(void) { return 3; }\n")
    (tmp_path / "plugin.c").write_text(
        "int nowhere(void);\nint plugin(void) { return nowhere(); }\n")
    subprocess.run([cc, "-shared", "-fPIC", "-Wl,-soname,libnowhere.so.3", "-o",
                    tmp_path / "libnowhere.so.3", tmp_path / "nowhere.c"], check=True, timeout=120)
    platforms = tmp_path / "platforms"
    platforms.mkdir()
    subprocess.run([cc, "-shared", "-fPIC", "-o", platforms / "libqxcb.so", tmp_path / "plugin.c",
                    tmp_path / "libnowhere.so.3"], check=True, timeout=120)
    (tmp_path / "libnowhere.so.3").unlink()
    verdict = preflight.check(x11_env(), platforms=platforms)
    assert verdict.missing == ("libnowhere.so.3",)
    assert verdict.message.splitlines()[1:] == [
        "    libnowhere.so.3",
        "    libnowhere.so.3: `apt-file search libnowhere.so.3` or "
        "`dnf provides '*/libnowhere.so.3'` names its package"]


def test_the_system_as_it_is_lacks_nothing(platforms):
    verdict = preflight.check(x11_env(), platforms=platforms)
    assert (verdict.platform, verdict.environ, verdict.message) == ("xcb", {}, None)


def test_libraries_on_ld_library_path_count_as_present(tmp_path, platforms):
    """As in the frozen build, whose own folder is on LD_LIBRARY_PATH."""
    system = system_without(tmp_path, X11_LIBS)
    bundled = tmp_path / "bundle"
    bundled.mkdir()
    for name in X11_LIBS:
        system_copy = Path(preflight.default_library_dirs()[0]) / name
        (bundled / name).symlink_to(os.path.realpath(system_copy))
    verdict = preflight.check(x11_env(LD_LIBRARY_PATH=str(bundled)), system_dirs=system,
                              platforms=platforms)
    assert verdict.message is None and verdict.platform == "xcb"


# --------------------------------------------------- choosing a platform


def test_qt_tries_wayland_first_in_a_wayland_session():
    assert preflight.qt_platform_order({"DISPLAY": ":0"}) == ["xcb"]
    assert preflight.qt_platform_order({}) == ["xcb"]
    assert preflight.qt_platform_order({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}) \
        == ["wayland", "xcb"]
    assert preflight.qt_platform_order({"XDG_SESSION_TYPE": "wayland"}) == ["wayland", "xcb"]


@pytest.fixture
def compositor(tmp_path):
    """A listening socket where a Wayland compositor's would be."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(runtime / "wayland-7"))
    server.listen()
    yield {"XDG_RUNTIME_DIR": str(runtime), "WAYLAND_DISPLAY": "wayland-7"}
    server.close()


def test_without_the_x11_libraries_a_wayland_session_starts_on_wayland(tmp_path, platforms,
                                                                        compositor):
    if preflight._plugin(platforms, "wayland") is None:
        pytest.skip("this PySide6 has no Wayland plugin")
    system = system_without(tmp_path, X11_LIBS)
    env = x11_env(**compositor)
    verdict = preflight.check(env, system_dirs=system, platforms=platforms)
    assert (verdict.platform, verdict.message) == ("wayland", None)
    # Qt would try Wayland first anyway: nothing to set.
    assert verdict.environ == {}


def test_a_dead_wayland_socket_falls_back_to_x11(tmp_path, platforms):
    env = x11_env(WAYLAND_DISPLAY="wayland-9", XDG_RUNTIME_DIR=str(tmp_path))
    verdict = preflight.check(env, platforms=platforms)
    assert verdict.platform == "xcb" and verdict.environ == {"QT_QPA_PLATFORM": "xcb"}
    both = preflight.check(env, system_dirs=system_without(tmp_path, X11_LIBS[:1]),
                           platforms=platforms)
    assert both.missing == ("libxcb-cursor.so.0",)
    assert both.message.endswith(
        f"(Wayland cannot be used either: no Wayland compositor listens at {tmp_path}/wayland-9.)")


def test_an_explicit_platform_is_respected(tmp_path, platforms, compositor):
    system = system_without(tmp_path, X11_LIBS[:1])
    # Asked for X11: told what X11 lacks, even though Wayland would work.
    verdict = preflight.check(x11_env(QT_QPA_PLATFORM="xcb", **compositor), system_dirs=system,
                              platforms=platforms)
    assert verdict.missing == ("libxcb-cursor.so.0",) and verdict.environ == {}
    # Platforms that are not desktops are not examined at all.
    for name in ("offscreen", "minimal", "vnc:size=800x600", "offscreen;xcb"):
        verdict = preflight.check(x11_env(QT_QPA_PLATFORM=name), system_dirs=system,
                                  platforms=platforms)
        assert (verdict.platform, verdict.environ, verdict.message) == (None, {}, None), name


def test_no_display_at_all_is_said_plainly(platforms):
    verdict = preflight.check({"PATH": "/usr/bin"}, platforms=platforms)
    assert verdict.message == (
        "kmeans-gui cannot start without a display: DISPLAY is not set.\n"
        "Start it from a desktop session; kmeans-compress works without one.")


# ------------------------------------------------ the entry point itself


def test_help_and_version_need_no_display(tmp_path):
    env = desktop_env(tmp_path)  # no DISPLAY, WAYLAND_DISPLAY or QT_QPA_PLATFORM
    for option, expected in (("--help", "usage: kmeans-gui"), ("--version", "kmeans-gui ")):
        done = subprocess.run([BIN / "kmeans-gui", option], capture_output=True, text=True,
                              timeout=60, env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(expected) and done.stderr == ""


def test_without_a_display_the_app_says_so_instead_of_aborting(tmp_path):
    done = subprocess.run([BIN / "kmeans-gui"], capture_output=True, text=True, timeout=60,
                          env=desktop_env(tmp_path))
    assert done.returncode == 1
    assert done.stderr.startswith("kmeans-gui cannot start without a display: DISPLAY is not set.")
    assert "Traceback" not in done.stderr and "qt.qpa" not in done.stderr
    assert done.stdout == ""


def test_the_check_imports_no_qt():
    done = subprocess.run([sys.executable, "-c",
                           "import sys; from kmeans_gui import preflight; preflight.check("
                           "{'DISPLAY': ':0'}); print(sorted(m for m in sys.modules "
                           "if m.startswith(('PySide6', 'shiboken6', 'numpy'))))"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_ci_installs_the_window_system_libraries_both_plugins_need(platforms):
    """.ci/run must install what the check would ask a person to install, or
    the frozen build would lack it and the X11 tests could not run."""
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text().split()
    libraries = platforms.parents[1] / "lib"
    needs = set()
    for binary in (platforms / "libqxcb.so", libraries / "libQt6XcbQpa.so.6",
                   preflight._plugin(platforms, "wayland")):
        if binary is not None:
            needs |= set(preflight.read_elf(binary).needed)
    window_system = sorted(name for name in needs
                           if name.startswith(("libxcb", "libxkbcommon", "libX", "libwayland")))
    assert window_system
    missing = [name for name in window_system if preflight.PACKAGES[name][0] not in ci]
    assert not missing, f".ci/run installs no package for {missing}"


def test_a_library_the_real_loader_finds_never_stops_the_app(platforms, monkeypatch):
    """Should the search ever miss a route the loader takes, the loader's own
    verdict on the plugin wins: no false alarm."""
    monkeypatch.setattr(preflight.Resolver, "missing", lambda self, root: ["libxcb-cursor.so.0"])
    verdict = preflight.check(x11_env(), platforms=platforms)
    assert (verdict.platform, verdict.message) == ("xcb", None)


def test_run_applies_the_platform_chosen_or_prints_why_not(tmp_path, platforms, monkeypatch,
                                                           capsys):
    monkeypatch.setattr(preflight, "plugins_dir", lambda: platforms)
    env = x11_env(WAYLAND_DISPLAY="wayland-9", XDG_RUNTIME_DIR=str(tmp_path))
    assert preflight.run(env) is None
    assert env["QT_QPA_PLATFORM"] == "xcb"  # Qt does not try the dead Wayland socket first
    assert capsys.readouterr() == ("", "")
    assert preflight.run({"PATH": "/usr/bin"}) == 1
    assert capsys.readouterr().err.startswith("kmeans-gui cannot start without a display")
