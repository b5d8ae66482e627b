"""Long-run PNG fuzzing: load_image decodes exactly what Pillow decodes, or
raises ImageError, whatever the file.

The test suite runs a few hundred seeded mutations (tests/core/test_fuzz_png.py);
this script runs the same mutations for as long as asked, or, with --atheris,
coverage-guided fuzzing with atheris (not a project dependency: install it in
the environment you run this in, e.g. ``uv run --with atheris``)::

    uv run python benchmarks/fuzz_png.py --cases 100000 --seed 7
    uv run --with atheris python benchmarks/fuzz_png.py --atheris -- -max_total_time=600

Prints the number of cases, how many the fast reader decoded, and every case
that differs from Pillow or raises anything but ImageError (saved to --out;
atheris also stops at the first and prints its own summary).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if "--atheris" in sys.argv:  # coverage for the reader and the loader
    import atheris

    with atheris.instrument_imports(include=["kmeans_gui"]):
        from kmeans_gui.core.files import load  # noqa: F401
        from kmeans_gui.core.png import decoder, reader  # noqa: F401

from kmeans_gui.core import ImageError, load_image  # noqa: E402
from kmeans_gui.core.files import load as loading  # noqa: E402
from kmeans_gui.core.png.decoder import read_png  # noqa: E402
from tests.core.test_fuzz_png import mutate, seeds  # noqa: E402


def decode(path: Path, fast: bool):
    real = loading.read_png
    if not fast:
        loading.read_png = lambda *args: None
    try:
        image = load_image(path)
    except ImageError as exc:
        return ("error", str(exc))
    finally:
        loading.read_png = real
    return ("image", image.pixels.shape, image.pixels.tobytes(), image.icc_profile, image.dpi)


class Checker:
    def __init__(self, folder: Path, out: Path) -> None:
        self.path = folder / "case.png"
        self.out = out
        self.cases = self.fast = self.bad = 0

    def __call__(self, data: bytes) -> None:
        self.cases += 1
        self.path.write_bytes(data)
        try:
            got = decode(self.path, fast=True)
            if got[0] == "image":
                try:
                    self.fast += read_png(self.path, loading.MAX_PIXELS) is not None
                except ImageError:
                    pass
                if got != decode(self.path, fast=False):
                    raise AssertionError("differs from Pillow")
        except Exception as exc:  # a finding: keep the file
            self.bad += 1
            self.out.mkdir(parents=True, exist_ok=True)
            saved = self.out / f"finding-{self.bad}.png"
            saved.write_bytes(data)
            print(f"{saved}: {type(exc).__name__}: {exc}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    parser.add_argument("--atheris", action="store_true",
                        help="coverage-guided with atheris; arguments after -- go to it")
    args, rest = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as folder:
        check = Checker(Path(folder), args.out)
        started = time.perf_counter()
        if args.atheris:
            bases = seeds()

            def one(data: bytes) -> None:
                # Half the inputs as given, half as mutations of a valid seed.
                if data[:1] and data[0] & 1:
                    rnd = random.Random(data[1:])
                    data = mutate(rnd.choice(bases), rnd)
                check(data)

            atheris.Setup([sys.argv[0], *[a for a in rest if a != "--"]], one)
            atheris.Fuzz()
        else:
            rnd = random.Random(args.seed)
            bases = seeds()
            for _ in range(args.cases):
                data = mutate(rnd.choice(bases), rnd)
                while rnd.random() < 0.3:
                    data = mutate(data, rnd)
                check(data)
        seconds = time.perf_counter() - started
    print(f"{check.cases} cases in {seconds:.1f} s: {check.fast} decoded by the fast reader, "
          f"{check.bad} findings")
    return 1 if check.bad else 0


if __name__ == "__main__":
    sys.exit(main())
