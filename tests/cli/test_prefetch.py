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


def test_the_early_guess_knows_every_option_that_takes_a_value() -> None:
    from kmeans_gui.cli.early import VALUE_OPTIONS
    from kmeans_gui.cli.options import build_parser
    takes_value = {flag for action in build_parser()._actions
                   if action.option_strings and action.nargs != 0
                   for flag in action.option_strings}
    assert takes_value == VALUE_OPTIONS


def test_the_early_guess_finds_only_a_single_png_input() -> None:
    from kmeans_gui.cli.early import guess_input
    assert guess_input(["in.png", "-k", "16", "-o", "out.png"]) == "in.png"
    assert guess_input(["-o", "out.png", "--importance", "mask.png", "IN.PNG"]) == "IN.PNG"
    assert guess_input(["--", "-odd.png"]) == "-odd.png"
    assert guess_input(["a.png", "b.png"]) is None  # a batch: each worker reads its own
    assert guess_input(["photo.jpg", "-o", "out.png"]) is None
    assert guess_input(["-"]) is None
    assert guess_input(["in.png", "--max-pixels", "300"]) is None  # the reader needs it


def test_a_read_of_another_file_is_dropped(tmp_path: Path) -> None:
    import importlib

    from kmeans_gui.cli.options import parse
    from kmeans_gui.core.png.reader import start_inflate
    cli_main = importlib.import_module("kmeans_gui.cli.main")
    source = write_photo(tmp_path / "in.png", 12, 9)
    decoy = write_photo(tmp_path / "old.png", 6, 4)
    early = start_inflate(decoy, unfilter=True)
    reading = cli_main._reading(parse([str(source), "-o", str(tmp_path / "o.png")]), early)
    try:
        assert reading is not early and reading.is_for(source)
        assert not early.is_for(decoy) or not early._thread.is_alive()
    finally:
        reading.cancel()
    assert inflate_threads() == []
