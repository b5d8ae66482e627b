import importlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kmeans_gui.core import ImageError, QuantizeSettings, encode_png, load_image, quantize, save_png

writing = importlib.import_module("kmeans_gui.core.files.save")


def ihdr_bit_depth(path) -> int:
    data = open(path, "rb").read(26)
    assert data[12:16] == b"IHDR"
    return data[24]


@pytest.mark.parametrize("k,bits", [(2, 1), (4, 2), (5, 4), (16, 4), (17, 8), (256, 8)])
def test_smallest_bit_depth_and_exact_round_trip(tmp_path, photo, k, bits):
    result = quantize(photo, QuantizeSettings(k=k))
    path = tmp_path / f"out{k}.png"
    written = save_png(result, path)
    assert written == path.stat().st_size
    assert ihdr_bit_depth(path) == bits
    with Image.open(path) as im:
        assert im.mode == "P"
        assert np.array_equal(np.asarray(im), result.indices)
        palette = np.frombuffer(im.palette.tobytes(), np.uint8).reshape(-1, 3)
        assert np.array_equal(palette[: result.n_colors], result.palette)


def test_transparency_round_trip(tmp_path, rgba_image):
    result = quantize(rgba_image, QuantizeSettings(k=8))
    path = tmp_path / "alpha.png"
    save_png(result, path)
    with Image.open(path) as im:
        assert im.mode == "P" and "transparency" in im.info
        decoded = np.asarray(im.convert("RGBA"))
    assert np.array_equal(decoded, result.to_rgb())
    assert (decoded[rgba_image[..., 3] == 0][:, 3] == 0).all()
    # tRNS stops after the last translucent entry
    trns = im.info["transparency"]
    assert len(trns) == int((result.palette[:, 3] < 255).sum())


def test_icc_and_dpi_are_carried_over(tmp_path, photo):
    from PIL import ImageCms
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "meta.png"
    save_png(quantize(photo, QuantizeSettings(k=8)), path, icc_profile=icc, dpi=(144, 144))
    with Image.open(path) as im:
        assert im.info["icc_profile"] == icc
        assert im.info["dpi"] == pytest.approx((144, 144), abs=0.1)


def test_same_seed_gives_byte_identical_png(photo):
    settings = QuantizeSettings(k=24, seed=11, dither="fs", dither_strength=0.6)
    assert encode_png(quantize(photo, settings)) == encode_png(quantize(photo, settings))


@pytest.mark.parametrize("effort", ["auto", "fast", "max", "small"])
def test_efforts_decode_to_the_same_pixels(photo, effort, tmp_path):
    result = quantize(photo, QuantizeSettings(k=16))
    path = tmp_path / "e.png"
    save_png(result, path, effort=effort)
    with Image.open(path) as im:
        assert np.array_equal(np.asarray(im), result.indices)


def test_refuses_existing_file_and_input_file(tmp_path, photo):
    result = quantize(photo, QuantizeSettings(k=4))
    source = tmp_path / "input.png"
    Image.fromarray(photo).save(source)
    before = source.read_bytes()
    with pytest.raises(ImageError, match="input image"):
        save_png(result, source, source=source, overwrite=True)
    with pytest.raises(ImageError, match="already exists"):
        save_png(result, source)
    assert source.read_bytes() == before
    save_png(result, source, source=source, overwrite=True, overwrite_source=True)
    assert source.read_bytes() != before
    other = tmp_path / "other.png"
    other.write_bytes(b"old")
    save_png(result, other, overwrite=True)
    assert Image.open(other).mode == "P"


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path, photo, monkeypatch):
    result = quantize(photo, QuantizeSettings(k=4))
    target = tmp_path / "keep.png"
    target.write_bytes(b"previous contents")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writing.os, "replace", broken_replace)
    with pytest.raises(ImageError, match="No space left"):
        save_png(result, target, overwrite=True)
    assert target.read_bytes() == b"previous contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def test_missing_folder_is_a_clear_error(tmp_path, photo):
    result = quantize(photo, QuantizeSettings(k=4))
    with pytest.raises(ImageError, match="does not exist"):
        save_png(result, tmp_path / "nope" / "x.png")


def test_load_quantize_save_reload(tmp_path):
    src = tmp_path / "in.jpg"
    y, x = np.mgrid[0:64, 0:96]
    Image.fromarray(np.stack([x * 2, y * 3, x + y], 2).astype(np.uint8)).save(src, dpi=(72, 72))
    image = load_image(src)
    out = tmp_path / "in-k8.png"
    save_png(quantize(image, QuantizeSettings(k=8)), out, source=src, dpi=image.dpi)
    with Image.open(out) as im:
        assert im.size == (96, 64) and len(im.getcolors()) <= 8


def test_core_imports_no_qt():
    code = ("import sys, kmeans_gui.core, kmeans_gui.core.quantizer.metrics; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
