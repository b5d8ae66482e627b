"""What one image's run produced, and how it is printed (text or JSON lines)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outcome:
    input: str
    output: str
    ok: bool
    error: str | None = None
    k: int | None = None
    colors_used: int | None = None
    iterations: int | None = None
    reason: str | None = None  # why K-Means stopped
    seconds: float | None = None
    input_bytes: int | None = None
    output_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    keep: list[str] | None = None  # the fixed colours (--keep), "#rrggbb" each
    palette_file: str | None = None  # --palette: the palette mapped to
    importance: str | None = None  # --importance: the mask used
    exported_palette: str | None = None  # --export-palette: the file written
    delta_e: float | None = None  # the quality figure; reported when a target chose k
    missed: bool = False  # a failure because the target could not be met (exit 99)

    @property
    def ratio(self) -> float | None:
        """Output size as a fraction of the input size."""
        if not self.ok or not self.input_bytes:
            return None
        return self.output_bytes / self.input_bytes


def failure(source: Path, output: Path, reason: str, missed: bool = False) -> Outcome:
    return Outcome(input=str(source), output=str(output), ok=False, error=reason,
                   missed=missed)


def as_json(outcome: Outcome) -> str:
    import json  # only for --json

    record = asdict(outcome)
    record["ratio"] = None if outcome.ratio is None else round(outcome.ratio, 6)
    if outcome.seconds is not None:
        record["seconds"] = round(outcome.seconds, 4)
    if not outcome.ok:  # a failure has no figures, only the reason
        keys = ("input", "output", "ok", "error") + (("missed",) if outcome.missed else ())
        record = {key: record[key] for key in keys}
    else:
        del record["error"], record["missed"]
        for key in ("keep", "palette_file", "importance", "exported_palette"):
            if record[key] is None:  # only runs that used the option report it
                del record[key]
        if outcome.delta_e is None:
            del record["delta_e"]
        else:
            record["delta_e"] = round(outcome.delta_e, 4)
    # ensure_ascii=False keeps non-ASCII file names readable; still valid JSON.
    return json.dumps(record, ensure_ascii=False)


def as_text(outcome: Outcome) -> str:
    return (f"{outcome.input} -> {outcome.output}: k={outcome.k} "
            f"colours={outcome.colors_used} iterations={outcome.iterations} "
            f"time={outcome.seconds:.2f}s bytes={outcome.input_bytes}->{outcome.output_bytes} "
            f"ratio={outcome.ratio:.3f}"
            + ("" if outcome.delta_e is None else f" deltaE={outcome.delta_e:.2f}"))


def as_error(outcome: Outcome) -> str:
    return f"{outcome.input}: {outcome.error}"
