"""HandlerLens completion without the protocol: the pure analysis API, in process.

Shown beside the LSP rows so the cost of the server path (JSON-RPC, pygls, the event loop)
is visible. Same module, same positions, same keystrokes as the LSP series.
"""

from __future__ import annotations

import time

from bench.stats import Row
from bench.workload import Module

SUBJECT = "HandlerLens analysis alone (in process, no LSP)"


def pure_rows(module: Module, line_text: str, warm: int, after: int) -> dict[str, Row]:
    """Warm and after-edit rows for one completion site, or rows saying why not measured."""
    try:
        from handlerlens.analysis.events.completion import complete
        from handlerlens.analysis.events.flow import HandlerContext
    except ImportError as exc:
        missing = f"not measured: {exc}"
        return {"warm": Row(SUBJECT, missing=missing), "after": Row(SUBJECT, missing=missing)}
    lines = module.lines
    lines.insert(module.marker_line + 1, line_text)
    line, col = module.marker_line + 1, len(line_text)
    handlers = [HandlerContext("handler", "yandex", None)]
    text = "\n".join(lines)
    try:
        first = complete(text, line, col, handlers)
    except Exception as exc:  # an API change in progress must not stop the benchmark
        missing = f"not measured: {exc!r}"
        return {"warm": Row(SUBJECT, missing=missing), "after": Row(SUBJECT, missing=missing)}
    note = f"{len(first.items) if first else 0} items"
    rows = {"warm": Row(SUBJECT, note=note), "after": Row(SUBJECT, note=note)}
    for _ in range(warm):
        started = time.perf_counter()
        complete(text, line, col, handlers)
        rows["warm"].samples.append(1000 * (time.perf_counter() - started))
    marker = lines[module.marker_line]
    for k in range(after):
        lines[module.marker_line] = marker + "x" * (k + 1)  # one keystroke more each time
        edited = "\n".join(lines)
        started = time.perf_counter()
        complete(edited, line, col, handlers)
        rows["after"].samples.append(1000 * (time.perf_counter() - started))
    return rows
