"""Which file each input is written to, and the checks that keep inputs safe."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..core.files import rules
from ..core.files.rules import output_name
from ..limits import IMAGE_SUFFIXES
from .options import STDIO, Options, UsageError


@dataclass(frozen=True)
class Job:
    input: Path
    output: Path


def _key(path: Path) -> str:
    """A comparable spelling of ``path`` that also works for files not yet written."""
    return os.path.normcase(os.path.abspath(path))


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file, so hard and symbolic links compare equal."""
    if path == STDIO:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def output_for(source: Path, options: Options) -> Path:
    if options.output is not None:
        return options.output
    return output_name(source, options.k, suffix=options.suffix, folder=options.out_dir)


def _is_folder(path: Path) -> bool:
    return path != STDIO and path.is_dir()


def _images_in(folder: Path, options: Options) -> list[Path]:
    """The images directly inside ``folder`` (not in subfolders, no hidden
    files), by name, less those this run writes into the same folder (so a
    second run does not compress the first run's outputs again). A folder
    without images stands for itself: the run reports it."""
    images = sorted((p for p in folder.iterdir()
                     if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
                     and p.is_file()), key=lambda p: p.name)
    written_here = {_key(out) for p in images
                    if _key((out := output_for(p, options)).parent) == _key(folder)}
    return [p for p in images if _key(p) not in written_here] or [folder]


def plan(options: Options) -> list[Job]:
    """One job per distinct input; :class:`UsageError` when outputs would collide.

    Collisions are refused before any work starts, so nothing is written when
    the arguments are inconsistent: two inputs sharing one output, an output
    that is an input (its own or another's), or a missing folder for -o.
    A folder stands for the images in it. Problems of single inputs
    (missing, unreadable, a folder without images) are left to the run,
    which reports them per file.
    """
    if options.out_dir is not None:
        if options.out_dir.exists() and not options.out_dir.is_dir():
            raise UsageError(f"--out-dir {options.out_dir}: is not a folder")
        try:
            options.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out-dir {options.out_dir}: cannot create it "
                             f"({exc.strerror or exc})") from None
    sources = [image for given in options.inputs
               for image in (_images_in(given, options) if _is_folder(given) else [given])]
    if options.output is not None and len(sources) > 1:
        raise UsageError(f"-o/--output takes a single image, and {options.inputs[0]} holds "
                         f"{len(sources)}; use --out-dir or --suffix")
    jobs: list[Job] = []
    seen_inputs: set[str] = set()
    for source in sources:
        if _key(source) in seen_inputs:
            continue  # the same file named twice (e.g. by overlapping globs)
        seen_inputs.add(_key(source))
        jobs.append(Job(source, output_for(source, options)))
    outputs: dict[str, Path] = {}
    for job in jobs:
        key = _key(job.output)
        if key in outputs:
            raise UsageError(f"{outputs[key]} and {job.input} would both be written to "
                             f"{job.output}; use --suffix or separate runs")
        outputs[key] = job.input
    if options.output is not None and options.output != STDIO:
        # Derived names sit beside their input or in --out-dir (created above);
        # only an explicit -o can point into a folder that is not there.
        folder = options.output.parent
        if not folder.is_dir():
            raise UsageError(f"{options.output}: the folder {folder} does not exist")
        if options.output.is_dir():
            raise UsageError(f"{options.output}: is a folder; use --out-dir for a folder")
    inputs_by_identity = {ident: job.input for job in jobs
                          if (ident := _identity(job.input)) is not None}
    for job in jobs:
        if job.output == STDIO:
            continue  # a pipe overwrites nothing
        clash = inputs_by_identity.get(_identity(job.output))
        if clash is None and _key(job.output) in seen_inputs:
            clash = job.input if _key(job.output) == _key(job.input) else job.output
        if clash is not None:
            what = "the input itself" if clash == job.input else f"the input {clash}"
            raise UsageError(f"{job.input}: the output {job.output} would overwrite {what}")
    return jobs


def refusal(job: Job, force: bool) -> str | None:
    """Why ``job.output`` must not be written now, or None.

    Checked when planning and again just before writing, since files can
    appear in between.
    """
    if _is_folder(job.input):  # planning kept a folder only when it has no images
        return "no images in this folder"
    if job.output == STDIO:
        return None
    why = rules.refusal(job.output, job.input, overwrite=force)
    if why == rules.SOURCE:
        return f"refusing to overwrite the input with {job.output}"
    if why == rules.FOLDER:
        return f"{job.output} is a folder"
    if why == rules.EXISTS:
        return f"{job.output} already exists (use --force to replace it)"
    return None
