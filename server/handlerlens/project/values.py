"""Small conversions shared by the declaration readers."""

from __future__ import annotations

import math


def is_python_runtime(runtime: str | None) -> bool:
    """True unless a runtime is declared and names another language (`nodejs18.x`, `go116`)."""
    return runtime is None or runtime.strip().lower().startswith("python")


def to_seconds(value: object) -> float | None:
    """A timeout given as a number or a numeric string (`"10"`, `"10s"`), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().removesuffix("s").strip()
        try:
            number = float(text)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and number > 0 else None


def to_megabytes(value: object) -> int | None:
    """A memory size given as an integer or an integer string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number > 0 else None
    return None
