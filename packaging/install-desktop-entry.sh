#!/usr/bin/env bash
# Register K-Means Palette with the desktop (menu entry, icon, software-centre
# metadata) for one user, or into any data directory.
#
#   install-desktop-entry.sh [--exec PATH] [--datadir DIR]
#
# --exec     the kmeans-gui program to launch; default: kmeans-gui next to this
#            script (frozen build), else `kmeans-gui` as found on PATH.
# --datadir  where to install; default ${XDG_DATA_HOME:-~/.local/share}.
#            Files go to DIR/applications, DIR/metainfo, DIR/icons/hicolor.
#
# Works from a source checkout (packaging/) and from the frozen one-folder
# build, which ships this script next to the executable.
set -euo pipefail

app_id=io.github.kmeans_gui.KMeansGui
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
datadir="${XDG_DATA_HOME:-$HOME/.local/share}"
exec_path=""

while (($#)); do
  case "$1" in
    --exec) exec_path="$2"; shift 2 ;;
    --datadir) datadir="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
done

# Icons: the source tree keeps them in the package, the frozen build in _internal.
icons=""
for candidate in "$here/../kmeans_gui/assets/icons/hicolor" \
                 "$here/_internal/kmeans_gui/assets/icons/hicolor"; do
  if [[ -d "$candidate" ]]; then icons="$candidate"; break; fi
done
if [[ -z "$icons" ]]; then
  echo "cannot find the icon folder (hicolor) next to $here" >&2
  exit 1
fi

if [[ -z "$exec_path" && -x "$here/kmeans-gui" ]]; then
  exec_path="$here/kmeans-gui"
fi

mkdir -p "$datadir/applications" "$datadir/metainfo" "$datadir/icons"
desktop="$datadir/applications/$app_id.desktop"
if [[ -n "$exec_path" ]]; then
  # Quoted as the Desktop Entry spec asks; %f passes the file being opened.
  # Characters that need a second level of escaping there are refused instead.
  if [[ "$exec_path" == *[\"\`\$\\%]* ]]; then
    echo "please use a path without \" \` \$ \\ or %: $exec_path" >&2
    exit 2
  fi
  while IFS= read -r line; do
    if [[ "$line" == Exec=* ]]; then line="Exec=\"$exec_path\" %f"; fi
    printf '%s\n' "$line"
  done < "$here/$app_id.desktop" > "$desktop"
else
  cp "$here/$app_id.desktop" "$desktop"
fi
cp "$here/$app_id.metainfo.xml" "$datadir/metainfo/"
cp -r "$icons" "$datadir/icons/"

# Refresh the MIME-type cache so "Open with" lists the app; harmless if missing.
# (No icon-theme cache: without one, desktops read the hicolor folder directly.)
if command -v update-desktop-database >/dev/null; then
  update-desktop-database -q "$datadir/applications" || true
fi
echo "installed $app_id into $datadir"
