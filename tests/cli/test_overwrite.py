"""Existing files are refused unless --force; an input is never overwritten."""

from __future__ import annotations

from pathlib import Path

from .helpers import run_main, stray_files, write_photo


def test_existing_output_is_refused(photo: Path, capsys) -> None:
    output = photo.with_name("photo-k16.png")
    output.write_bytes(b"keep me")
    other = write_photo(photo.with_name("other.png"), seed=5)
    code, out, err = run_main(photo, other, "--jobs", "1", capsys=capsys)
    assert code == 1
    assert output.read_bytes() == b"keep me"
    assert err == f"{photo}: {output} already exists (use --force to replace it)\n"
    assert other.with_name("other-k16.png").is_file()  # the rest still done


def test_force_replaces_an_output(photo: Path, capsys) -> None:
    output = photo.with_name("photo-k16.png")
    output.write_bytes(b"old")
    code, out, err = run_main(photo, "--force", capsys=capsys)
    assert code == 0, err
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert stray_files(photo.parent) == []


def test_output_equal_to_input_is_refused_even_with_force(photo: Path, capsys) -> None:
    before = photo.read_bytes()
    for args in (["-o", photo], ["--suffix", ""], ["-o", photo.parent / "." / photo.name]):
        code, out, err = run_main(photo, *args, "--force", capsys=capsys)
        assert code == 2, args
        assert "would overwrite the input itself" in err
    assert photo.read_bytes() == before


def test_output_of_one_input_that_is_another_input(tmp_path: Path, capsys) -> None:
    first = write_photo(tmp_path / "a.png", seed=1)
    second = write_photo(tmp_path / "a-k16.png", seed=2)
    before = second.read_bytes()
    code, out, err = run_main(first, second, "--force", capsys=capsys)
    assert code == 2
    assert f"would overwrite the input {second}" in err
    assert second.read_bytes() == before
    assert not (tmp_path / "a-k16-k16.png").exists()  # nothing done at all


def test_two_inputs_with_one_output_name(tmp_path: Path, capsys) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a = write_photo(tmp_path / "x" / "same.png")
    b = write_photo(tmp_path / "y" / "same.jpg")
    code, out, err = run_main(a, b, "--out-dir", tmp_path / "out", capsys=capsys)
    assert code == 2
    assert "would both be written to" in err
    assert list((tmp_path / "out").iterdir()) == []


def test_a_link_to_the_input_is_the_input(photo: Path, capsys) -> None:
    before = photo.read_bytes()
    link = photo.with_name("link.png")
    link.symlink_to(photo)
    code, out, err = run_main(photo, "-o", link, "--force", capsys=capsys)
    assert code == 2 and "would overwrite the input itself" in err
    assert photo.read_bytes() == before and link.is_symlink()
