"""What serve says about a function's code being (re)loaded: in the terminal and as events."""

from __future__ import annotations

import os
from typing import Any

from handlerlens.runner.status import Status
from handlerlens.runner.targets import ServedFunction, entry_hint


def init_result(
    status: Status,
    fn: ServedFunction,
    note: str,
    error: dict[str, Any] | None,
    took_ms: float | None = None,
    changed: list[str] | None = None,
) -> None:
    """How init went (after a start, or a reload that took `took_ms` because `changed`
    files changed); `note`: the platform's word on its load-error text (failures.py)."""
    event: dict[str, Any] = {"event": "reloaded", "function": fn.name, "ok": error is None}
    cause = f"{listing(changed)} changed; " if changed else ""
    if error is not None:
        event["error"] = error
        status.human(
            f"handlerlens: {fn.name}: {cause}init failed: {error.get('errorType')}: "
            f"{error.get('errorMessage')}{note}.{entry_hint(fn)} Each request runs init "
            "again, as the platform does, until it succeeds or the code changes."
        )
    elif took_ms is not None:
        status.human(f"handlerlens: {fn.name}: {cause}reloaded in {took_ms:.0f} ms")
    if took_ms is not None:
        event["ms"] = round(took_ms, 3)
    status.emit(event)


def declaration_kept(status: Status, fn: ServedFunction, changed: set[str]) -> None:
    """The code is reloaded; the declaration (entry point, timeout, trigger…) was read once,
    when serve started: say so when its declaring file is among the `changed` paths."""
    declared_in = fn.declared_in
    if declared_in is not None and declared_in in changed:
        status.human(
            f"handlerlens: {fn.name}: {relative_names(fn.root, {declared_in})[0]} "
            "changed, but serve keeps the declaration it started with (entry point, "
            "timeout, memory, trigger, environment): restart serve to apply it"
        )


def relative_names(root: str, paths: set[str]) -> list[str]:
    """`paths` relative to the code root, sorted, with `/` separators."""
    prefix = root.rstrip(os.sep) + os.sep
    names = (path[len(prefix) :] if path.startswith(prefix) else path for path in paths)
    return sorted(name.replace(os.sep, "/") for name in names)


def listing(names: list[str], most: int = 3) -> str:
    """`a.py`, `a.py, b.py`, or `a.py, b.py, c.py and 4 more`."""
    shown = ", ".join(names[:most])
    return f"{shown} and {len(names) - most} more" if len(names) > most else shown
