"""Save As, palette export, sizes shown, and the unsaved-result prompt."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from kmeans_gui.core import QuantizeSettings
from kmeans_gui.units import human_size

from .conftest import open_and_wait


def test_save_as_writes_an_indexed_png(qtbot, window, scripted_dialogs, gradient_png, tmp_path):
    window.controls.set_settings(QuantizeSettings(k=16))
    finished = open_and_wait(qtbot, window, gradient_png)
    assert window.save_action.isEnabled()
    assert window.isWindowModified()
    out = tmp_path / "out" / "saved.png"
    out.parent.mkdir()
    scripted_dialogs.save_path = str(out)
    with qtbot.waitSignal(window.result_saved, timeout=20000) as blocker:
        window.save_action.trigger()
    assert scripted_dialogs.proposed == [str(gradient_png.parent / "gradient-k16.png")]
    assert blocker.args == [str(out), out.stat().st_size]
    with Image.open(out) as im:
        assert im.mode == "P"
        palette = np.array(im.getpalette()[: 3 * 16]).reshape(-1, 3)
        indices = np.asarray(im)
    result = finished.result
    assert np.array_equal(palette, result.palette)
    assert np.array_equal(indices, result.indices)
    assert not window.isWindowModified()
    assert "saved" in window.info_png.text()
    assert gradient_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # input untouched


def test_sizes_show_the_file_size_and_ratio(qtbot, window, gradient_png):
    finished = open_and_wait(qtbot, window, gradient_png)
    assert finished.estimated_size > 0
    # The size is the encoded file Save writes, so it is shown exactly, not as "≈".
    assert window.info_png.text().startswith(human_size(finished.estimated_size))
    assert "not saved yet" in window.info_png.text() and "≈" not in window.info_png.text()
    ratio = gradient_png.stat().st_size / finished.estimated_size
    assert f"{ratio if ratio >= 1 else 1 / ratio:.2f}" in window.info_ratio.text()


def test_saving_over_the_input_is_refused(qtbot, window, scripted_dialogs, gradient_png):
    open_and_wait(qtbot, window, gradient_png)
    original = gradient_png.read_bytes()
    scripted_dialogs.save_path = str(gradient_png)
    with qtbot.waitSignal(window.save_failed, timeout=20000):
        window.save_as()
    assert gradient_png.read_bytes() == original
    assert scripted_dialogs.errors and "input" in scripted_dialogs.errors[0][2]
    # refused before any "replace?" question (the dialog no longer offers it)
    assert scripted_dialogs.asked_replace == []
    assert not window.session.is_saving()
    assert window.isWindowModified()


def test_replacing_another_existing_file_is_asked(qtbot, window, scripted_dialogs,
                                                  gradient_png, tmp_path):
    open_and_wait(qtbot, window, gradient_png)
    target = tmp_path / "existing.png"
    target.write_bytes(b"old")
    scripted_dialogs.save_path = str(target)
    scripted_dialogs.replace = False
    window.save_as()
    assert scripted_dialogs.asked_replace == ["existing.png"]
    assert target.read_bytes() == b"old"
    scripted_dialogs.replace = True
    with qtbot.waitSignal(window.result_saved, timeout=20000):
        window.save_as()
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_export_palette_as_gpl(qtbot, window, scripted_dialogs, gradient_png, tmp_path):
    window.controls.set_settings(QuantizeSettings(k=6))
    finished = open_and_wait(qtbot, window, gradient_png)
    scripted_dialogs.palette_path = str(tmp_path / "colours.gpl")
    window.export_action.trigger()
    lines = (tmp_path / "colours.gpl").read_text().splitlines()
    assert lines[0] == "GIMP Palette"
    rows = [tuple(int(v) for v in line.split()[:3]) for line in lines[4:]]
    assert rows == [tuple(int(v) for v in c) for c in finished.result.palette]


def test_close_with_unsaved_result_asks(qtbot, make_window, scripted_dialogs, gradient_png):
    window = make_window()
    open_and_wait(qtbot, window, gradient_png)
    scripted_dialogs.save_changes = "cancel"
    assert not window.close()
    assert window.isVisible()
    assert scripted_dialogs.asked_save_changes == 1
    scripted_dialogs.save_changes = "discard"
    assert window.close()
    assert scripted_dialogs.asked_save_changes == 2


def test_close_can_save_first(qtbot, make_window, scripted_dialogs, gradient_png, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, gradient_png)
    scripted_dialogs.save_changes = "save"
    scripted_dialogs.save_path = str(tmp_path / "on-close.png")
    assert window.close()
    with Image.open(tmp_path / "on-close.png") as im:
        assert im.mode == "P"


def test_no_prompt_after_saving(qtbot, make_window, scripted_dialogs, gradient_png, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, gradient_png)
    scripted_dialogs.save_path = str(tmp_path / "x.png")
    with qtbot.waitSignal(window.result_saved, timeout=20000):
        window.save_as()
    assert window.close()
    assert scripted_dialogs.asked_save_changes == 0


def test_sample_result_is_not_proposed_inside_the_package(qtbot, window, scripted_dialogs,
                                                          tmp_path):
    window.settings.set_last_folder(tmp_path)
    with qtbot.waitSignal(window.run_finished, timeout=20000):
        window.open_sample()
    window.save_as()  # the scripted dialog answers Cancel
    k = window.session.result.settings.k
    assert scripted_dialogs.proposed == [str(tmp_path / f"sample-k{k}.png")]


@pytest.mark.parametrize("large", [False, True], ids=["encode-beside", "encode-on-the-job"])
def test_save_writes_the_bytes_the_command_line_writes(qtbot, window, scripted_dialogs,
                                                       tmp_path, monkeypatch, large):
    """With the app's default settings (its default dithering included), the
    file Save writes is byte for byte the one ``kmeans-compress IN -k K -o
    OUT`` writes, whichever way the finish is ordered (large images encode on
    the job's thread, small ones beside it)."""
    from kmeans_gui.cli import main
    from kmeans_gui.gui import jobs
    monkeypatch.setattr(jobs, "OVERLAP_PIXELS", 0 if large else 1 << 30)
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0:240, 0:320]
    photo = np.stack([x * 255 // 319, y * 255 // 239, (x + 2 * y) % 256], axis=2)
    photo = np.clip(photo + rng.normal(0, 10, photo.shape), 0, 255).astype(np.uint8)
    source = tmp_path / "photo.png"
    Image.fromarray(photo).save(source)
    settings = window.controls.settings()
    assert settings.dither != "none"  # the default dithers: the case that must match
    open_and_wait(qtbot, window, source)
    saved = tmp_path / "gui.png"
    assert window.session.save_and_wait(saved)
    cli = tmp_path / "cli.png"
    assert main([str(source), "-k", str(settings.k), "-o", str(cli)]) == 0
    assert saved.read_bytes() == cli.read_bytes()
