import io

import numpy as np
import pytest
from PIL import Image

from kmeans_gui.core import ImageError, load_image


def save(tmp_path, name, image, **options):
    path = tmp_path / name
    image.save(path, **options)
    return path


def gradient(w=40, h=30):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 6, y * 8, (x + y) * 3], axis=2).astype(np.uint8)


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"),
                                     ("TIFF", "tif"), ("BMP", "bmp"), ("GIF", "gif")])
def test_common_formats_load_as_rgb(tmp_path, fmt, ext):
    path = save(tmp_path, f"img.{ext}", Image.fromarray(gradient()), format=fmt)
    image = load_image(path)
    assert image.pixels.shape == (30, 40, 3) and image.pixels.dtype == np.uint8
    assert image.pixels.flags.c_contiguous
    assert image.file_size == path.stat().st_size


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "1"])
def test_modes_become_rgb(tmp_path, mode):
    src = Image.fromarray(gradient()).convert(mode)
    fmt = "TIFF" if mode == "CMYK" else "PNG"
    image = load_image(save(tmp_path, f"m.{fmt.lower()}", src, format=fmt))
    assert image.pixels.shape[2] == 3
    expected = np.asarray(src.convert("RGB"))
    assert np.abs(image.pixels.astype(int) - expected).max() <= 1


def test_la_and_transparent_palette_keep_alpha(tmp_path):
    la = Image.fromarray(np.stack([gradient()[..., 0], gradient()[..., 1]], axis=2), "LA")
    assert load_image(save(tmp_path, "la.png", la)).pixels.shape[2] == 4
    p = Image.fromarray(gradient()).convert("P")
    path = save(tmp_path, "p.png", p, transparency=0)
    image = load_image(path)
    assert image.has_alpha and (image.pixels[..., 3] == 0).any()


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    arr = (np.arange(64 * 16).reshape(16, 64) * 64).astype(np.uint16)
    path = save(tmp_path, "g16.png", Image.fromarray(arr))
    assert Image.open(path).mode == "I;16"
    pixels = load_image(path).pixels
    assert pixels.shape == (16, 64, 3)
    assert pixels.max() == round(int(arr.max()) * 255 / 65535) and pixels[0, 0, 0] == 0
    assert len(np.unique(pixels)) > 200


def write_png16(path, rgb16: np.ndarray) -> None:
    """A 48-bit RGB PNG written chunk by chunk (Pillow cannot write one)."""
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    h, w, _ = rgb16.shape
    rows = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(h))
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_sixteen_bit_rgb_png(tmp_path):
    rgb16 = gradient().astype(np.uint16) * 257 + 100  # the low byte must not leak
    path = tmp_path / "rgb48.png"
    write_png16(path, rgb16)
    pixels = load_image(path).pixels
    assert pixels.shape == (30, 40, 3)
    assert np.abs(pixels.astype(int) - np.rint(rgb16 / 257)).max() <= 1


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(gradient(40, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = save(tmp_path, "rot.jpg", img, exif=exif.tobytes(), quality=95)
    assert load_image(path).pixels.shape == (40, 30, 3)


def test_icc_profile_and_dpi_are_kept(tmp_path):
    from PIL import ImageCms
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = save(tmp_path, "meta.png", Image.fromarray(gradient()), icc_profile=icc, dpi=(300, 300))
    image = load_image(path)
    assert image.icc_profile == icc
    assert image.dpi == pytest.approx((300, 300), abs=0.1)


def test_animated_gif_uses_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    pixels = load_image(path).pixels
    assert tuple(pixels[0, 0]) == (255, 0, 0)


def test_opaque_alpha_is_dropped(tmp_path):
    rgba = np.dstack([gradient(), np.full((30, 40), 255, np.uint8)])
    assert load_image(save(tmp_path, "o.png", Image.fromarray(rgba))).pixels.shape[2] == 3


def test_bad_inputs_raise_readable_image_errors(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    good = io.BytesIO()
    Image.fromarray(gradient(200, 200)).save(good, "PNG")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    cases = {
        tmp_path / "missing.png": "not found",
        empty: "empty",
        text: "not an image",
        truncated: "damaged or truncated",
        tmp_path: "folder",
    }
    for path, words in cases.items():
        with pytest.raises(ImageError) as info:
            load_image(path)
        assert words in str(info.value) and path.name in str(info.value)


def test_pixel_limit(tmp_path):
    path = save(tmp_path, "big.png", Image.fromarray(gradient(100, 100)))
    with pytest.raises(ImageError, match="too large.*limit is"):
        load_image(path, max_pixels=5_000)
    assert load_image(path, max_pixels=10_000).width == 100


def test_image_bytes_decode_like_the_file(tmp_path):
    from kmeans_gui.core.files.load import load_image_data
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., 0] = np.arange(30) * 8
    rgba[..., 3] = 200
    path = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(path, dpi=(150, 150))
    from_file = load_image(path)
    from_bytes = load_image_data(path.read_bytes())
    assert np.array_equal(from_bytes.pixels, from_file.pixels)
    assert from_bytes.dpi == from_file.dpi and from_bytes.file_size == path.stat().st_size
    with pytest.raises(ImageError, match="^standard input: not an image format"):
        load_image_data(b"hello, not an image")
    with pytest.raises(ImageError, match="^standard input: no data"):
        load_image_data(b"")
    with pytest.raises(ImageError, match="^pipe: the image data is damaged"):
        load_image_data(path.read_bytes()[:80], name="pipe")


def test_a_large_image_is_decoded_into_one_block_of_memory(tmp_path):
    # Pillow's default 16 MiB blocks come from the C heap once an earlier
    # image's were freed, and are cleared with the GIL held (the window
    # stalls while it loads the next image); one block per image is mapped
    # fresh. 2100 x 2100 RGB is 17.6 MB in Pillow's four bytes a pixel.
    gradient = np.linspace(0, 255, 2100, dtype=np.uint8)
    pixels = np.dstack([np.tile(gradient, (2100, 1)), np.tile(gradient[:, None], (1, 2100)),
                        np.full((2100, 2100), 90, np.uint8)])
    path = tmp_path / "large.jpg"
    Image.fromarray(pixels).save(path, quality=90)
    Image.core.reset_stats()
    for _ in range(2):  # the second decode follows a freed image, as in the window
        loaded = load_image(path)
        assert loaded.pixels.shape == (2100, 2100, 3)
        del loaded
    stats = Image.core.get_stats()
    assert stats["new_count"] >= 2
    assert stats["allocated_blocks"] == stats["new_count"]
