"""Palette files: read and write GIMP, JASC, Paint.NET, hex, Adobe ACT and PNG palettes.

A palette is a (n, 3) uint8 array of sRGB colours, 1 to 256 of them, in the
file's order. Every reader raises ``ImageError`` with one line naming the
file and, for text formats, the line at fault.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ...limits import MAX_K, PALETTE_SUFFIXES
from ..errors import ImageError
from ..png.writer import encode_indexed
from .reading import read_input
from .save import write_atomic

#: Extension -> description, in the order a file dialog lists them.
PALETTE_FORMATS = {
    ".gpl": "GIMP palette",
    ".pal": "JASC palette",
    ".txt": "Paint.NET palette",
    ".hex": "hex colours, one a line",
    ".act": "Adobe colour table",
    ".png": "PNG image",
}
assert tuple(PALETTE_FORMATS) == PALETTE_SUFFIXES

_HEX6 = re.compile(r"#?([0-9a-fA-F]{6})")
_HEX3 = re.compile(r"#?([0-9a-fA-F]{3})")


def palette_format(path: str | os.PathLike) -> str:
    """The format of ``path`` by its extension (``.gpl`` ...), or ``ImageError``."""
    ext = Path(path).suffix.lower()
    if ext not in PALETTE_FORMATS:
        raise ImageError(f"{Path(path).name}: unknown palette format {ext or '(no extension)'!r}; "
                         f"use one of {', '.join(PALETTE_FORMATS)}")
    return ext


# ------------------------------------------------------------------ colours

def parse_color(text: str) -> tuple[int, int, int]:
    """``#rrggbb``, ``rrggbb`` or ``#rgb`` as an (r, g, b) tuple, or ``ValueError``."""
    text = text.strip()
    match = _HEX6.fullmatch(text)
    if match:
        value = int(match.group(1), 16)
        return (value >> 16) & 255, (value >> 8) & 255, value & 255
    match = _HEX3.fullmatch(text)
    if match:
        r, g, b = (int(c * 2, 16) for c in match.group(1))
        return r, g, b
    raise ValueError(f"{text!r} is not a colour (expected #rrggbb)")


def parse_colors(text: str) -> np.ndarray:
    """Colours separated by commas or spaces (``'#c0392b,#fff'``) as (n, 3) uint8."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts:
        raise ValueError("no colours given")
    return np.array([parse_color(p) for p in parts], dtype=np.uint8)


def hex_color(rgb) -> str:
    r, g, b = (int(v) for v in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


# ------------------------------------------------------------------ reading

def read_palette(path: str | os.PathLike) -> np.ndarray:
    """The palette in the file at ``path`` (format by extension)."""
    path = Path(path)
    ext = palette_format(path)
    return parse_palette(read_input(path, "a palette file", "no such file"), ext, path.name)


def parse_palette(data: bytes, ext: str, name: str = "palette") -> np.ndarray:
    """The palette in ``data``, a file of format ``ext`` (``.gpl`` ...)."""
    if ext == ".act":
        colors = _read_act(data, name)
    elif ext == ".png":
        colors = _read_png(data, name)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("latin-1")
            except UnicodeDecodeError:  # pragma: no cover (latin-1 decodes anything)
                raise ImageError(f"{name}: not a text file") from None
        lines = text.splitlines()
        reader = {".gpl": _read_gpl, ".pal": _read_jasc, ".txt": _read_paintnet,
                  ".hex": _read_hex}[ext]
        colors = reader(lines, name)
    if not colors:
        raise ImageError(f"{name}: the palette has no colours")
    if len(colors) > MAX_K:
        raise ImageError(f"{name}: the palette has {len(colors)} colours; at most {MAX_K} fit "
                         f"a PNG")
    return np.array(colors, dtype=np.uint8).reshape(-1, 3)


def _bad(name: str, number: int, line: str, expected: str) -> ImageError:
    shown = line.strip()
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return ImageError(f"{name}, line {number}: expected {expected}, got {shown!r}")


def _rgb_numbers(fields: list[str]) -> tuple[int, int, int] | None:
    try:
        values = tuple(int(f) for f in fields)
    except ValueError:
        return None
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        return None
    return values


def _read_gpl(lines: list[str], name: str) -> list:
    if not lines or lines[0].strip() != "GIMP Palette":
        raise _bad(name, 1, lines[0] if lines else "", "'GIMP Palette'")
    colors = []
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if re.match(r"(Name|Columns)\s*:", stripped):
            continue
        rgb = _rgb_numbers(stripped.split()[:3])
        if rgb is None:
            raise _bad(name, number, line, "'R G B [name]' with numbers 0-255")
        colors.append(rgb)
    return colors


def _read_jasc(lines: list[str], name: str) -> list:
    if not lines or lines[0].strip() != "JASC-PAL":
        raise _bad(name, 1, lines[0] if lines else "", "'JASC-PAL'")
    if len(lines) < 2 or lines[1].strip() != "0100":
        raise _bad(name, 2, lines[1] if len(lines) > 1 else "", "the version '0100'")
    count_line = lines[2] if len(lines) > 2 else ""
    try:
        count = int(count_line.strip())
    except ValueError:
        raise _bad(name, 3, count_line, "the number of colours") from None
    if not 1 <= count <= MAX_K:
        raise _bad(name, 3, count_line, f"a number of colours from 1 to {MAX_K}")
    colors = []
    for number, line in enumerate(lines[3:], start=4):
        if not line.strip():
            continue
        rgb = _rgb_numbers(line.split())
        if rgb is None:
            raise _bad(name, number, line, "'R G B' with numbers 0-255")
        colors.append(rgb)
    if len(colors) != count:
        raise ImageError(f"{name}, line 3: says {count} colours, but the file has "
                         f"{len(colors)}")
    return colors


def _read_paintnet(lines: list[str], name: str) -> list:
    colors = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            continue
        if not re.fullmatch(r"[0-9a-fA-F]{8}", stripped):
            raise _bad(name, number, line, "AARRGGBB (8 hex digits)")
        value = int(stripped, 16)
        colors.append(((value >> 16) & 255, (value >> 8) & 255, value & 255))
    return colors


def _read_hex(lines: list[str], name: str) -> list:
    colors = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        match = _HEX6.fullmatch(stripped)
        if not match:
            raise _bad(name, number, line, "RRGGBB (6 hex digits)")
        value = int(match.group(1), 16)
        colors.append(((value >> 16) & 255, (value >> 8) & 255, value & 255))
    return colors


def _read_act(data: bytes, name: str) -> list:
    # 256 RGB triples, optionally followed by the count and the transparent
    # index (big-endian 16-bit each).
    if len(data) not in (768, 772):
        raise ImageError(f"{name}: an Adobe colour table is 768 or 772 bytes, not {len(data)}")
    count = 256
    if len(data) == 772:
        count = int.from_bytes(data[768:770], "big")
        if not 1 <= count <= 256:
            raise ImageError(f"{name}: byte 768: the colour count must be 1-256, not {count}")
    table = np.frombuffer(data[:768], dtype=np.uint8).reshape(256, 3)
    return [tuple(int(v) for v in row) for row in table[:count]]


def _read_png(data: bytes, name: str) -> list:
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            if im.mode == "P":
                colors = np.array(im.getpalette() or [], dtype=np.uint8).reshape(-1, 3)
                return [tuple(int(v) for v in c) for c in colors]
            pixels = np.asarray(im.convert("RGBA"))
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not a readable PNG (not an image file)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name}: not a readable PNG ({exc})") from None
    flat = pixels.reshape(-1, 4)
    flat = flat[flat[:, 3] > 0][:, :3]
    distinct, first = np.unique(flat, axis=0, return_index=True)
    if len(distinct) > MAX_K:
        raise ImageError(f"{name}: the image has {len(distinct)} colours; a palette image "
                         f"needs at most {MAX_K}")
    return [tuple(int(v) for v in c) for c in flat[np.sort(first)]]


# ------------------------------------------------------------------ writing

def palette_bytes(palette: np.ndarray, ext: str, name: str = "K-Means Palette") -> bytes:
    """The file of format ``ext`` holding ``palette`` ((n, 3|4) uint8, n <= 256)."""
    pal = np.asarray(palette, dtype=np.uint8)[:, :3]
    if not 1 <= len(pal) <= MAX_K:
        raise ImageError(f"a palette file holds 1-{MAX_K} colours, not {len(pal)}")
    rows = [tuple(int(v) for v in c) for c in pal]
    if ext == ".gpl":
        lines = ["GIMP Palette", f"Name: {name}", "Columns: 8", "#"]
        lines += [f"{r:3d} {g:3d} {b:3d}\t{hex_color((r, g, b))}" for r, g, b in rows]
        return ("\n".join(lines) + "\n").encode()
    if ext == ".pal":
        lines = ["JASC-PAL", "0100", str(len(rows))] + [f"{r} {g} {b}" for r, g, b in rows]
        return ("\r\n".join(lines) + "\r\n").encode()
    if ext == ".txt":
        lines = [";paint.net Palette File", f";{name}", f";Colors: {len(rows)}"]
        lines += [f"FF{r:02X}{g:02X}{b:02X}" for r, g, b in rows]
        return ("\n".join(lines) + "\n").encode()
    if ext == ".hex":
        return "".join(f"{r:02x}{g:02x}{b:02x}\n" for r, g, b in rows).encode()
    if ext == ".act":
        table = np.zeros((256, 3), np.uint8)
        table[:len(pal)] = pal
        return table.tobytes() + len(pal).to_bytes(2, "big") + b"\xff\xff"
    if ext == ".png":
        indices = np.arange(len(pal), dtype=np.uint8)[None, :]
        return encode_indexed(indices, pal)
    raise ImageError(f"unknown palette format {ext!r}; use one of {', '.join(PALETTE_FORMATS)}")


def write_palette(path: str | os.PathLike, palette: np.ndarray) -> None:
    """Write ``palette`` to ``path`` (format by extension), atomically."""
    ext = palette_format(path)
    write_atomic(path, palette_bytes(palette, ext, Path(path).stem or "K-Means Palette"))
