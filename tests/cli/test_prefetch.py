"""A single PNG input is read and inflated while the core imports: same result,
and the reading thread never outlives the run."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PIL import Image

from kmeans_gui.core import QuantizeSettings, load_image, quantize

from .helpers import run_main, write_photo


def inflate_threads() -> list[threading.Thread]:
    # The engine's pool threads stay for the next image; the reader's must not.
    return [t for t in threading.enumerate() if t.name == "png-inflate"]


def test_prefetched_png_gives_the_core_result(tmp_path: Path, capsys) -> None:
    source = write_photo(tmp_path / "in.png", 120, 90)
    code, _, err = run_main(source, "-k", "8", "--seed", "2", "-o", tmp_path / "out.png",
                            capsys=capsys)
    assert code == 0, err
    assert inflate_threads() == []
    expected = quantize(load_image(source), QuantizeSettings(k=8, seed=2)).to_rgb()
    with Image.open(tmp_path / "out.png") as written:
        assert np.array_equal(np.asarray(written.convert("RGB")), expected)


def test_refused_png_leaves_no_reading_thread(tmp_path: Path, capsys) -> None:
    source = write_photo(tmp_path / "in.png", 120, 90)
    (tmp_path / "in-k16.png").write_bytes(b"already here")
    code, _, err = run_main(source, capsys=capsys)
    assert code == 1 and "exists" in err
    assert inflate_threads() == []
    assert (tmp_path / "in-k16.png").read_bytes() == b"already here"
