"""File sizes as people read them (standard library only: the core's
messages and the window share it)."""


def human_size(n_bytes: int | None) -> str:
    if n_bytes is None:
        return "–"
    if n_bytes < 1024:
        return f"{n_bytes} B"
    units = ["KB", "MB", "GB"]
    value = float(n_bytes)
    for unit in units:
        value /= 1024.0
        if value < 1024 or unit == units[-1]:
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{n_bytes} B"
