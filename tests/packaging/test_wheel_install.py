"""`uv build` makes a complete sdist and wheel, and the wheel installs two
working commands into a fresh virtual environment.

The engine's kernels are C, compiled by hatch_build.py while the wheel is
built: the sdist carries the sources (never a built library), the wheel
carries the library and a manylinux platform tag that auditwheel confirms.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from configparser import ConfigParser
from pathlib import Path

import pytest
from packaging_tooling import ROOT, pyproject
from PIL import Image

from kmeans_gui.appinfo import APP_ID

NATIVE = "kmeans_gui/core/_native"
LIBRARY = "_kmeans_native.so"  # the packaging targets Linux (_native/library.py)
ASSETS = ("sample.png", "SAMPLE-LICENSE.md", f"icons/{APP_ID}.svg",
          f"icons/hicolor/16x16/apps/{APP_ID}.png", f"icons/hicolor/256x256/apps/{APP_ID}.png")


def uv() -> str:
    """The uv that runs this test suite (README and CI both use it)."""
    from shutil import which

    path = os.environ.get("UV") or which("uv")
    if not path:
        pytest.fail("uv is not on PATH; install it with `pip install uv` (.ci/run does)")
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """Environment without the project venv, so nothing leaks in from it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT")}
    env.update(extra)
    return env


def run(*command, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                            timeout=timeout, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """sdist and wheel, the wheel built from the sdist as `uv build` does."""
    out = tmp_path_factory.mktemp("dist")
    run(uv(), "build", "--out-dir", out, cwd=ROOT, env=clean_env())
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def venv(dists, tmp_path_factory) -> Path:
    """A fresh venv with only the wheel and its runtime dependencies, pinned
    to the lock file's versions (so uv's cache from `uv sync` serves them)."""
    base = tmp_path_factory.mktemp("venv")
    constraints = base / "constraints.txt"
    run(uv(), "export", "--frozen", "--no-default-groups", "--no-emit-project",
        "--no-hashes", "--output-file", constraints, cwd=ROOT, env=clean_env())
    env_dir = base / "env"
    run(uv(), "venv", "--python", sys.executable, env_dir, env=clean_env())
    run(uv(), "pip", "install", "--python", env_dir / "bin" / "python",
        "--constraints", constraints, dists["wheel"], env=clean_env())
    return env_dir


def test_wheel_holds_the_runtime_assets_licences_and_desktop_files(dists):
    names = set(zipfile.ZipFile(dists["wheel"]).namelist())
    for name in ASSETS:
        assert f"kmeans_gui/assets/{name}" in names
    data = f"kmeans_gui-{pyproject()['project']['version']}.data/data/share"
    assert f"{data}/applications/{APP_ID}.desktop" in names
    assert f"{data}/metainfo/{APP_ID}.metainfo.xml" in names
    assert f"{data}/icons/hicolor/48x48/apps/{APP_ID}.png" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_wheel_carries_the_compiled_kernels_and_a_platform_tag(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
        (wheel_info,) = [n for n in names if n.endswith(".dist-info/WHEEL")]
        metadata = wheel.read(wheel_info).decode()
        library = wheel.read(f"{NATIVE}/{LIBRARY}")
    assert library[:4] == b"\x7fELF", "the kernels' library is not a shared object"
    # A wheel with a compiled library must not claim to fit every platform.
    assert "Root-Is-Purelib: false" in metadata
    (tag,) = [line.split(": ", 1)[1] for line in metadata.splitlines()
              if line.startswith("Tag: ")]
    # Any Python 3; publishable for every glibc Linux of this architecture
    # (PEP 600), not only for the machine that built it.
    machine = sysconfig.get_platform().split("-", 1)[1]
    assert re.fullmatch(rf"py3-none-manylinux_2_\d+_{machine}", tag), tag
    assert dists["wheel"].name.endswith(f"-{tag}.whl")


def test_auditwheel_agrees_with_the_manylinux_tag(dists):
    """auditwheel (the PyPA's checker of the manylinux rules) reads the
    library's links and symbol versions and names the tag they allow."""
    auditwheel = Path(sys.executable).with_name("auditwheel")
    shown = run(auditwheel, "show", dists["wheel"], timeout=120, env=clean_env()).stdout
    text = " ".join(shown.split())
    allowed = re.search(r'consistent with the following platform tag: "([^"]+)"', text)
    assert allowed, shown
    platform = dists["wheel"].name.rsplit("-", 1)[1].removesuffix(".whl")
    assert allowed.group(1) == platform, shown
    # Only the C library and libm, which every manylinux system provides.
    libraries = set(re.findall(r"(\S+\.so\.\d+) with versions", text))
    assert libraries <= {"libc.so.6", "libm.so.6"}, shown


def test_wheel_declares_the_console_and_gui_commands(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
        parser = ConfigParser()
        parser.read_string(wheel.read(entry_points).decode())
    assert parser["console_scripts"]["kmeans-compress"] == "kmeans_gui.cli:run"
    assert parser["gui_scripts"]["kmeans-gui"] == "kmeans_gui.app:main"


def test_sdist_can_rebuild_everything(dists):
    with tarfile.open(dists["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for name in ASSETS:
        assert f"kmeans_gui/assets/{name}" in names
    for name in ("LICENSE", "pyproject.toml", f"resources/icons/{APP_ID}.svg",
                 f"packaging/{APP_ID}.desktop", f"packaging/{APP_ID}.metainfo.xml",
                 "hatch_build.py", f"{NATIVE}/__init__.py", f"{NATIVE}/native.h"):
        assert name in names
    sources = {Path(name).name for name in names if name.startswith(f"{NATIVE}/")}
    checkout = {path.name for path in (ROOT / NATIVE).glob("*.[ch]")}
    assert checkout and checkout <= sources
    # The library is built from those sources, never shipped prebuilt (the
    # checkout has one from `uv sync`; .gitignore keeps it out).
    assert not [n for n in names if n.endswith((".so", ".dylib", ".dll", ".part"))]


def test_building_the_wheel_without_a_c_compiler_says_so(dists, tmp_path):
    result = subprocess.run(
        [uv(), "build", "--wheel", "--out-dir", tmp_path, dists["sdist"]],
        capture_output=True, text=True, timeout=600, check=False,
        env=clean_env(CC=str(tmp_path / "no-such-cc")))
    assert result.returncode != 0
    assert "needs a C compiler" in result.stdout + result.stderr
    assert not list(tmp_path.glob("*.whl"))


def test_installed_commands_run_from_the_fresh_venv(venv, tmp_path):
    bin_dir = venv / "bin"
    # Run from an empty folder so the source checkout cannot be imported instead.
    where = run(bin_dir / "python", "-c",
                "import kmeans_gui, kmeans_gui.core._native as n; "
                "print(kmeans_gui.__file__); print(n.lib._name)",
                cwd=tmp_path, env=clean_env())
    package, library = where.stdout.splitlines()
    assert Path(package).is_relative_to(venv)
    # The kernels that run are the wheel's, not the checkout's.
    assert Path(library).is_relative_to(venv) and Path(library).name == LIBRARY
    assert (venv / "share" / "applications" / f"{APP_ID}.desktop").is_file()

    cli = run(bin_dir / "kmeans-compress", "--help", cwd=tmp_path, env=clean_env())
    assert "usage:" in cli.stdout.lower() and "kmeans-compress" in cli.stdout

    gui = run(bin_dir / "kmeans-gui", "--self-test", cwd=tmp_path, timeout=300,
              env=clean_env(QT_QPA_PLATFORM="offscreen"))
    lines = [line for line in gui.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, gui.stdout
    assert not list(tmp_path.iterdir()), "the self-test left files in the working folder"

    # A real colour reduction through the command line's kernels.
    work = tmp_path / "cli"
    work.mkdir()
    sample = venv.glob("lib/python*/site-packages/kmeans_gui/assets/sample.png")
    (work / "in.png").write_bytes(next(sample).read_bytes())
    run(bin_dir / "kmeans-compress", "-q", "-k", "8", "in.png", cwd=work, env=clean_env())
    with Image.open(work / "in-k8.png") as result:
        assert result.mode == "P" and len(result.getpalette()) // 3 <= 8
