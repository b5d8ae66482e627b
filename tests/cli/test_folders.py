"""A folder given as INPUT stands for the images directly inside it."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from .helpers import run_main, write_photo


def folder_of_photos(root: Path) -> Path:
    folder = root / "photos"
    (folder / "nested").mkdir(parents=True)
    write_photo(folder / "b.png", seed=1)
    write_photo(folder / "a.JPG", seed=2, format="JPEG")
    write_photo(folder / "nested" / "c.png", seed=3)
    write_photo(folder / ".hidden.png", seed=4)
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_folder_images_are_written_beside_them(tmp_path: Path, capsys) -> None:
    folder = folder_of_photos(tmp_path)
    code, out, err = run_main(folder, "-k", "4", "--jobs", "1", capsys=capsys)
    assert code == 0, err
    written = sorted(p.name for p in folder.iterdir() if p.name.endswith("-k4.png"))
    assert written == ["a-k4.png", "b-k4.png"]  # not nested/, not hidden, not the text
    assert out.index("a.JPG") < out.index("b.png")  # by name
    with Image.open(folder / "b-k4.png") as image:
        assert image.mode == "P" and len(image.getpalette()) // 3 <= 4


def test_a_second_run_does_not_compress_the_first_runs_outputs(tmp_path: Path,
                                                              capsys) -> None:
    folder = folder_of_photos(tmp_path)
    assert run_main(folder, "-k", "4", capsys=capsys)[0] == 0
    code, out, err = run_main(folder, "-k", "4", "--force", capsys=capsys)
    assert code == 0, err
    assert not list(folder.glob("*-k4-k4.png"))
    assert len(out.splitlines()) == 2


def test_folder_into_out_dir_and_with_other_inputs(tmp_path: Path, capsys) -> None:
    folder = folder_of_photos(tmp_path)
    extra = write_photo(tmp_path / "extra.png", seed=5)
    code, _, err = run_main(folder, extra, "--out-dir", tmp_path / "out", capsys=capsys)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a-k16.png", "b-k16.png", "extra-k16.png"]


def test_empty_folder_is_reported_and_the_rest_written(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    photo = write_photo(tmp_path / "p.png")
    code, _, err = run_main(empty, photo, capsys=capsys)
    assert code == 1
    assert f"{empty}: no images in this folder" in err
    assert (tmp_path / "p-k16.png").exists()


def test_output_option_needs_a_folder_with_one_image(tmp_path: Path, capsys) -> None:
    folder = folder_of_photos(tmp_path)
    code, _, err = run_main(folder, "-o", tmp_path / "x.png", capsys=capsys)
    assert code == 2 and "holds 2" in err and "--out-dir" in err
    assert not (tmp_path / "x.png").exists()
    single = tmp_path / "single"
    single.mkdir()
    write_photo(single / "only.png")
    code, _, err = run_main(single, "-o", tmp_path / "x.png", capsys=capsys)
    assert code == 0, err
    assert (tmp_path / "x.png").exists()
