"""Pure completion latency on a generated 2,000-line handler module (no LSP, no process).

Prints median and p95 for `context.` and `event['` completions, warm (same text version,
as when the client re-requests while filtering) and right after an edit (a new text
version: one character typed in the handler, so that function is re-read).

Run: .venv/bin/python bench/bench_completion_pure.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator

from handlerlens.analysis.events.completion import complete
from handlerlens.analysis.events.flow import HandlerContext

HELPER = '''
def helper_{i}(payload, limit={i}):
    """Helper number {i}: does some ordinary work."""
    items = [x * 2 for x in range(limit) if x % 3]
    total = sum(items)
    if payload and isinstance(payload, dict):
        name = payload.get("name", "anon")
        return {{"name": name, "total": total, "count": len(items)}}
    return {{"total": total}}
'''

HANDLER = '''
def handler(event, context):
    """The entry point."""
    rc = event["requestContext"]
    method = event["httpMethod"]
    headers = event.get("headers") or {{}}
    ip = rc["identity"]["sourceIp"]
    body = event.get("body", "")
    result = helper_1(event)
    for name, value in headers.items():
        print(name, value)
{filler}
    x = context.
    y = event['
    return {{"statusCode": 200, "body": str(result)}}
'''


def make_module(lines: int = 2000) -> tuple[str, int, int]:
    """The module text, and the line numbers of the `context.` and `event['` lines."""
    helpers: list[str] = []
    i = 0
    filler = "\n".join(f"    step_{k} = helper_{k % 7}(body)" for k in range(20))
    handler = HANDLER.format(filler=filler)
    while sum(h.count("\n") for h in helpers) + handler.count("\n") < lines:
        helpers.append(HELPER.format(i=i))
        i += 1
    half = len(helpers) // 2
    text = "import json\n" + "".join(helpers[:half]) + handler + "".join(helpers[half:])
    all_lines = text.split("\n")
    ctx_line = next(n for n, ln in enumerate(all_lines) if ln.strip() == "x = context.")
    ev_line = next(n for n, ln in enumerate(all_lines) if ln.strip() == "y = event['")
    return text, ctx_line, ev_line


def measure(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall times in ms of `runs` calls."""
    out: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def report(name: str, times: list[float], items: int) -> None:
    """One result line."""
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"{name:<34} median {statistics.median(times):6.3f} ms   p95 {p95:6.3f} ms   items {items}"
    )


def run(platform: str, runs: int) -> None:
    """Both completion positions on one platform: warm, then right after an edit."""
    text, ctx_line, ev_line = make_module()
    lines = text.split("\n")
    handlers = [HandlerContext("handler", platform, None)]
    print(f"{platform}: {len(lines)} lines, {len(text)} chars")
    for label, line in (("context.", ctx_line), ("event['", ev_line)):
        col = len(lines[line])
        first = complete(text, line, col, handlers)
        count = len(first.items) if first else 0

        def warm(line: int = line, col: int = col) -> object:
            return complete(text, line, col, handlers)

        report(f"  {label} warm", measure(warm, runs), count)
        # After an edit: every call sees a new text version (a character typed in the
        # handler), so the document index and the handler's facts are rebuilt.
        versions = iter(
            "\n".join([*lines[: line - 2], lines[line - 2] + f"  # {k}", *lines[line - 1 :]])
            for k in range(runs)
        )

        def edited(line: int = line, col: int = col, versions: Iterator[str] = versions) -> object:
            return complete(next(versions), line, col, handlers)

        report(f"  {label} after edit", measure(edited, runs), count)


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    runs = parser.parse_args().runs
    for platform in ("yandex", "aws"):
        run(platform, runs)


if __name__ == "__main__":
    main()
