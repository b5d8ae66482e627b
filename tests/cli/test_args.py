"""Argument handling: exit status 2 for nonsense, a complete --help, a light start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kmeans_gui.cli.options import build_parser

from .helpers import cli_env, run_cli, run_main


@pytest.mark.parametrize("args", [
    ["-k", "0"], ["-k", "257"], ["-k", "many"], ["--space", "lab"], ["--dither", "bayer"],
    ["--dither-strength", "0"], ["--dither-strength", "1.5"], ["--max-iter", "0"],
    ["--tol", "-1"], ["--tol", "nan"], ["--seed", "-3"], ["--jobs", "0"], ["--effort", "slow"],
    ["--dither", "none", "--dither-strength", "0.5"], ["--bogus"],
    ["-o", "a.png", "--out-dir", "d"], ["--suffix", "x/y"],
])
def test_bad_arguments_exit_2_and_write_nothing(photo: Path, args, capsys) -> None:
    code, out, err = run_main(photo, *args, capsys=capsys)
    assert code == 2
    assert err.strip() and "Traceback" not in err
    assert sorted(p.name for p in photo.parent.iterdir()) == ["photo.png"]


def test_output_with_several_inputs(photo: Path, capsys) -> None:
    code, out, err = run_main(photo, photo.with_name("b.png"), "-o", "x.png", capsys=capsys)
    assert code == 2 and "single INPUT" in err


def test_no_input_is_a_usage_error() -> None:
    assert run_cli().returncode == 2


def test_missing_output_folder(photo: Path, capsys) -> None:
    code, out, err = run_main(photo, "-o", photo.parent / "nowhere" / "x.png", capsys=capsys)
    assert code == 2 and "does not exist" in err


def test_output_that_is_a_folder(photo: Path, capsys) -> None:
    code, out, err = run_main(photo, "-o", photo.parent, capsys=capsys)
    assert code == 2 and "is a folder" in err


def test_help_explains_every_option_with_an_example() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    text = proc.stdout
    for action in build_parser()._actions:
        for flag in action.option_strings:
            assert flag in text
        assert action.help
    for flag in ("-k", "-o", "--out-dir", "--suffix", "--space", "--dither", "--dither-strength",
                 "--init", "--max-iter", "--tol", "--seed", "--jobs", "--force", "--quiet",
                 "--json", "--effort"):
        assert f" {flag}" in text
    assert "example" in text and "kmeans-compress photo.jpg" in text


def test_choices_are_the_cores() -> None:
    from kmeans_gui.core import EFFORTS, INITS, MAX_K, READABLE_PATTERNS, SPACES
    parser = build_parser()
    choices = {a.dest: a.choices for a in parser._actions if a.choices}
    assert tuple(choices["space"]) == SPACES and tuple(choices["init"]) == INITS
    assert tuple(choices["effort"]) == EFFORTS
    from kmeans_gui.limits import DITHERS
    assert tuple(choices["dither"]) == DITHERS
    from kmeans_gui.limits import IMAGE_SUFFIXES
    assert {f"*{s}" for s in IMAGE_SUFFIXES} == set(READABLE_PATTERNS)
    assert parser.parse_args(["x", "-k", str(MAX_K)]).k == MAX_K


def _modules_after(code: str) -> set[str]:
    probe = (f"import sys\n{code}\n"
             "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=cli_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_help_loads_neither_numpy_nor_qt() -> None:
    loaded = _modules_after("from kmeans_gui.cli import main\n"
                            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert "numpy" not in loaded and "PySide6" not in loaded


def test_a_full_run_never_loads_qt(tmp_path: Path) -> None:
    from .helpers import write_photo
    photo = write_photo(tmp_path / "p.png")
    loaded = _modules_after(f"from kmeans_gui.cli import main\n"
                            f"assert main([{str(photo)!r}, '-q']) == 0")
    assert "numpy" in loaded  # the probe really ran the core
    assert not {"PySide6", "shiboken6"} & loaded


def test_console_script_is_installed(photo: Path) -> None:
    script = Path(sys.executable).with_name("kmeans-compress")
    if not script.exists():
        pytest.skip("the package is not installed as a console script here")
    proc = subprocess.run([str(script), str(photo), "-k", "4"], capture_output=True,
                          text=True, env=cli_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert photo.with_name("photo-k4.png").is_file()


def test_dither_mode_and_strength() -> None:
    from kmeans_gui.cli.options import parse
    default = parse(["x.png"])
    assert (default.dither, default.dither_strength) == ("auto", 1.0)
    chosen = parse(["x.png", "--dither", "ordered", "--dither-strength", "0.4"])
    assert (chosen.dither, chosen.dither_strength) == ("ordered", 0.4)
    assert parse(["x.png", "--dither-strength", "0.5"]).dither == "auto"
