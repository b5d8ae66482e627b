"""Render the app icon's SVG source into the PNG sizes a Linux desktop wants.

The PNGs are committed so nothing at run time needs an SVG renderer. Run this
after editing the artwork in ``resources/icons`` (needs ``rsvg-convert`` from
Debian's librsvg2-bin, and Pillow from the project environment):

    uv run python packaging/render_icons.py

Outputs:
  kmeans_gui/assets/icons/APP_ID.svg                      window icon (scalable)
  kmeans_gui/assets/icons/hicolor/NxN/apps/APP_ID.png     freedesktop sizes
  kmeans_gui/assets/icons/hicolor/scalable/apps/APP_ID.svg
  packaging/icons/APP_ID.ico, APP_ID.icns                 for Windows/macOS freezers
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kmeans_gui.appinfo import APP_ID  # noqa: E402

SOURCE = ROOT / "resources" / "icons" / f"{APP_ID}.svg"
# Hand-fitted to the pixel grid: used where the full artwork turns to mush.
SMALL_SOURCE = ROOT / "resources" / "icons" / f"{APP_ID}-16.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SMALL_SIZES = {16}
RUNTIME = ROOT / "kmeans_gui" / "assets" / "icons"
FREEZER = ROOT / "packaging" / "icons"


def render(svg: Path, size: int) -> Image.Image:
    png = subprocess.run(
        ["rsvg-convert", "-w", str(size), "-h", str(size), str(svg)],
        check=True,
        capture_output=True,
    ).stdout
    return Image.open(io.BytesIO(png)).convert("RGBA")


def main() -> int:
    if shutil.which("rsvg-convert") is None:
        print("rsvg-convert not found: apt-get install librsvg2-bin", file=sys.stderr)
        return 1
    RUNTIME.mkdir(parents=True, exist_ok=True)
    FREEZER.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, RUNTIME / f"{APP_ID}.svg")
    scalable = RUNTIME / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, scalable / f"{APP_ID}.svg")

    images = {}
    for size in SIZES:
        image = render(SMALL_SOURCE if size in SMALL_SIZES else SOURCE, size)
        folder = RUNTIME / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"{APP_ID}.png", optimize=True)
        images[size] = image

    # Pillow picks the frames it needs from the largest image unless given
    # each size, so pass the hand-fitted 16 px one explicitly.
    ico_sizes = [s for s in SIZES if s <= 256]
    images[256].save(
        FREEZER / f"{APP_ID}.ico",
        sizes=[(s, s) for s in ico_sizes],
        append_images=[images[s] for s in ico_sizes if s != 256],
    )
    images[512].save(FREEZER / f"{APP_ID}.icns")
    print(f"rendered {len(SIZES)} sizes into {RUNTIME.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
