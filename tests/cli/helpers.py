"""Helpers for running kmeans-compress for real: in-process main(argv) or a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_gui.cli import main


def photo_pixels(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Smooth colour gradients plus noise: many distinct colours, like a photo."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / max(width - 1, 1), y * 255 / max(height - 1, 1),
                     (x + y) * 255 / max(width + height - 2, 1)], axis=-1)
    noisy = base + rng.normal(0, 12, base.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def write_photo(path: Path, width: int = 64, height: int = 48, seed: int = 0,
                **save_options) -> Path:
    Image.fromarray(photo_pixels(width, height, seed)).save(path, **save_options)
    return path


def run_main(*args: str | os.PathLike, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_cli(*args: str | os.PathLike, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """The real entry point in a fresh interpreter, as a script would run it."""
    return subprocess.run([sys.executable, "-m", "kmeans_gui.cli", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=cli_env())


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def stray_files(folder: Path) -> list[str]:
    """Temporary files an interrupted or failed write would leave behind."""
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp")
                  or p.name.startswith("."))
