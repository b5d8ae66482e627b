"""The .desktop entry and AppStream metainfo: valid, and consistent with the app."""

from __future__ import annotations

import configparser
import mimetypes
import subprocess
import xml.etree.ElementTree as ET

from packaging_tooling import PACKAGING, ROOT, pyproject, require_tool

from kmeans_gui.appinfo import APP_ID, APP_NAME
from kmeans_gui.core import READABLE_PATTERNS

DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"


def desktop_entry() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def split_list(value: str) -> list[str]:
    return [item for item in value.split(";") if item]


def readable_mime_types() -> set[str]:
    types = set()
    for pattern in READABLE_PATTERNS:
        mime, _ = mimetypes.guess_type("x" + pattern.lstrip("*"))
        assert mime, f"no MIME type known for {pattern}"
        types.add(mime)
    return types


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_desktop_file_passes_desktop_file_validate_without_remarks():
    tool = require_tool("desktop-file-validate", "desktop-file-utils")
    result = run(tool, str(DESKTOP))
    # It exits 0 on warnings and hints; any remark at all counts as a failure.
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_metainfo_passes_appstreamcli_validate():
    tool = require_tool("appstreamcli", "appstream")
    result = run(tool, "validate", "--no-net", str(METAINFO))
    assert result.returncode == 0, result.stdout + result.stderr


def test_installed_layout_passes_appstream_tree_validation(tmp_path):
    """Installed as a user would, the metainfo finds its desktop file and icon."""
    tool = require_tool("appstreamcli", "appstream")
    datadir = tmp_path / "usr" / "share"
    install = run("bash", str(PACKAGING / "install-desktop-entry.sh"),
                  "--datadir", str(datadir), "--exec", "/opt/K Means/kmeans-gui")
    assert install.returncode == 0, install.stderr
    desktop = (datadir / "applications" / DESKTOP.name).read_text(encoding="utf-8")
    assert 'Exec="/opt/K Means/kmeans-gui" %f' in desktop.splitlines()
    for size in (16, 32, 48, 128, 256):
        assert (datadir / f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png").is_file()

    result = run(tool, "validate-tree", "--no-net", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    validate = run(require_tool("desktop-file-validate", "desktop-file-utils"),
                   str(datadir / "applications" / DESKTOP.name))
    assert validate.returncode == 0 and not validate.stdout.strip(), validate.stdout


def test_one_application_id_everywhere():
    entry = desktop_entry()
    root = ET.parse(METAINFO).getroot()
    assert DESKTOP.is_file() and METAINFO.is_file()
    assert entry["Icon"] == APP_ID
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable[@type='desktop-id']") == DESKTOP.name
    assert root.findtext("icon[@type='stock']") == APP_ID
    assert entry["Name"] == APP_NAME == root.findtext("name")


def test_desktop_entry_launches_the_gui_script_with_one_file():
    entry = desktop_entry()
    gui_scripts = pyproject()["project"]["gui-scripts"]
    program, *args = entry["Exec"].split()
    assert program in gui_scripts
    assert args == ["%f"]
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"
    assert "Graphics" in split_list(entry["Categories"])
    assert entry["GenericName"] and entry["Comment"]


def test_declared_mime_types_match_what_the_loader_reads():
    expected = readable_mime_types()
    assert set(split_list(desktop_entry()["MimeType"])) == expected
    root = ET.parse(METAINFO).getroot()
    assert {m.text for m in root.iterfind("provides/mediatype")} == expected


def test_metainfo_names_the_installed_commands_and_licences():
    project = pyproject()["project"]
    root = ET.parse(METAINFO).getroot()
    commands = set(project["scripts"]) | set(project["gui-scripts"])
    assert {b.text for b in root.iterfind("provides/binary")} == commands
    assert root.findtext("project_license") == project["license"]
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_newest_release_in_metainfo_is_the_package_version():
    root = ET.parse(METAINFO).getroot()
    releases = root.findall("releases/release")
    assert releases, "metainfo lists no release"
    assert releases[0].get("version") == pyproject()["project"]["version"]
    assert releases[0].get("date")


def test_metainfo_screenshot_points_at_the_committed_screenshot_path():
    root = ET.parse(METAINFO).getroot()
    url = root.findtext("screenshots/screenshot[@type='default']/image")
    assert url and url.startswith("https://")
    assert url.endswith("/resources/screenshots/main.png")


def test_metainfo_screenshot_is_committed_and_large_enough():
    """The URL points into this repository; the file must be there, as a PNG
    wide enough for software centres (AppStream asks for at least 620 px)."""
    from PIL import Image

    root = ET.parse(METAINFO).getroot()
    url = root.findtext("screenshots/screenshot[@type='default']/image")
    path = ROOT / url.split("/raw/main/", 1)[1]
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    with Image.open(path) as shot:
        assert shot.format == "PNG"
        assert shot.width >= 620 and shot.height >= 350


def test_every_metainfo_screenshot_is_committed():
    from PIL import Image

    root = ET.parse(METAINFO).getroot()
    urls = [shot.findtext("image") for shot in root.findall("screenshots/screenshot")]
    assert len(urls) >= 2
    for url in urls:
        path = ROOT / url.split("/raw/main/", 1)[1]
        assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
        with Image.open(path) as shot:
            assert shot.format == "PNG" and shot.width >= 620 and shot.height >= 350
