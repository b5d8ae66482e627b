#!/usr/bin/env bash
# Build the one-folder frozen app: packaging/dist/kmeans-gui/kmeans-gui
#
#   packaging/build-frozen.sh [--tar]
#
# PyInstaller runs from a throwaway overlay on the project environment
# (`uv run --with`), so it never becomes a dependency of the app. The bundle
# also gets the licence and the desktop files with their install script, so a
# person who unpacks it can add it to their menu. --tar also packs it into
# packaging/dist/kmeans-gui-VERSION-linux-ARCH.tar.gz.
set -euo pipefail
cd "$(dirname "$0")/.."

uv run --with 'pyinstaller>=6.10,<7' pyinstaller packaging/kmeans-gui.spec \
  --noconfirm --clean --log-level WARN \
  --distpath packaging/dist --workpath packaging/build

bundle=packaging/dist/kmeans-gui
app_id=io.github.kmeans_gui.KMeansGui
cp LICENSE "packaging/$app_id.desktop" "packaging/$app_id.metainfo.xml" \
   packaging/install-desktop-entry.sh "$bundle/"
cp kmeans_gui/assets/SAMPLE-LICENSE.md "$bundle/"

echo "built $bundle ($(du -sh "$bundle" | cut -f1))"
if [[ "${1:-}" == "--tar" ]]; then
  version="$(uv run python -c 'from kmeans_gui.appinfo import VERSION; print(VERSION)')"
  archive="packaging/dist/kmeans-gui-$version-linux-$(uname -m).tar.gz"
  tar -C packaging/dist -czf "$archive" kmeans-gui
  echo "packed $archive ($(du -sh "$archive" | cut -f1))"
fi
