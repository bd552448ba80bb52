"""Hot reload under the debugger (issue #4): save → new code served, breakpoint hits, overhead.

A real `handlerlens serve --debug` with a scripted editor attached (tests/debug/dap.py: the
DAP client the tests use, child sessions included). Figures, as median and p95:

- save → first response with the new code, debugger attached, for the standby worker
  (the default) and for a plain restart of the attached worker (`--no-standby`);
- whether a breakpoint stopped the first request after every reload, on the right line;
- warm invoke latency of a trivial handler with no breakpoints set, under the debugger and
  in a plain runner, taking turns: the difference is the per-invocation overhead.

Saves are a second apart and wait for the new standby to be attached, as a person saving
would; the time that takes (a new interpreter plus a child session, in the background) is
printed too.

Run from the repository root: .venv/bin/python -m bench.bench_debug_reload [--reloads 20]
[--invokes 500]
"""

from __future__ import annotations

import argparse
import http.client
import math
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.debug.dap import DapError, Editor
from tests.runner.harness import Runner

HANDLER = """\
VERSION = "{version}"


def handler(event, context):
    if (event.get("queryStringParameters") or {{}}).get("stop"):
        marker = VERSION
    return {{"statusCode": 200, "body": VERSION}}
"""
BREAK_LINE = 6  # marker = VERSION: only requests with ?stop=1 reach it
SERVED_LIMIT_S = 15.0


@dataclass
class Series:
    """Samples of one figure for one subject."""

    name: str
    samples: list[float] = field(default_factory=list)
    note: str = ""

    def line(self) -> str:
        """`name: median / p95 (n)`."""
        if not self.samples:
            return f"{self.name:<52} not measured {self.note}"
        ordered = sorted(self.samples)
        p95 = ordered[max(1, math.ceil(0.95 * len(ordered))) - 1]
        median = statistics.median(ordered)
        return (
            f"{self.name:<52} median {median:8.2f} ms   p95 {p95:8.2f} ms"
            f"   (n={len(ordered)}){'   ' + self.note if self.note else ''}"
        )


def _get(connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


def _served(runner: Runner, version: str, started: float) -> float | None:
    """Poll until the new code answers; ms from `started`, None past the limit."""
    wanted = version.encode()
    connection = http.client.HTTPConnection("127.0.0.1", runner.port, timeout=SERVED_LIMIT_S)
    try:
        while time.perf_counter() - started < SERVED_LIMIT_S:
            status, body = _get(connection, "/")
            if status == 200 and body == wanted:
                return (time.perf_counter() - started) * 1000.0
            time.sleep(0.002)
    finally:
        connection.close()
    return None


def _stops_on_break_line(runner: Runner, editor: Editor, main: str) -> bool:
    """One request that must stop at BREAK_LINE; continue it; did it stop there?"""
    mark = len(editor.stops)
    outcome: list[int] = []
    thread = threading.Thread(
        target=lambda: outcome.append(runner.request("GET", "/?stop=1", timeout=30)[0]),
        daemon=True,
    )
    thread.start()
    try:
        stop = editor.wait_stop(mark, timeout=10.0)
    except DapError:
        thread.join(30)
        return False
    editor.resume(stop)
    thread.join(30)
    return (stop.path, stop.line) == (main, BREAK_LINE) and outcome == [200]


def reload_series(workdir: Path, standby: bool, reloads: int) -> tuple[Series, Series, str]:
    """Save → new code served, standby re-armed, and the breakpoint hit count."""
    label = "standby worker" if standby else "plain restart (--no-standby)"
    root = workdir / ("standby" if standby else "restart")
    root.mkdir(parents=True)
    main = root / "main.py"
    main.write_text(HANDLER.format(version="v0"))
    extra = [] if standby else ["--no-standby"]
    runner = Runner(["main.handler", "--platform", "yandex", "--debug", *extra], root)
    served = Series(f"save → new code served, {label}")
    rearmed = Series(f"save → next standby attached, {label}")
    hits = 0
    try:
        debug_port = int(runner.wait_for(lambda e: e["event"] == "listening")["debugPort"])
        editor = Editor(debug_port, {str(main): [BREAK_LINE]})
        editor.attach()
        editor.wait_children(1 + (1 if standby else 0), timeout=30)
        for rep in range(1, reloads + 1):
            children = len(editor.children)
            time.sleep(1.0)
            version = f"v{rep}"
            started = time.perf_counter()
            main.write_text(HANDLER.format(version=version))
            took = _served(runner, version, started)
            if took is None:
                served.note = f"save {rep} not served within {SERVED_LIMIT_S:.0f} s"
                break
            served.samples.append(took)
            hits += _stops_on_break_line(runner, editor, str(main))
            if standby:
                # The next standby: a fresh interpreter, announced and attached.
                editor.wait_children(children + 1, timeout=30)
                rearmed.samples.append((time.perf_counter() - started) * 1000.0)
        editor.close()
    finally:
        runner.stop()
    verdict = f"breakpoint hit after {hits} of {len(served.samples)} reloads ({label})"
    return served, rearmed, verdict


def _serve_trivial(workdir: Path, debug: bool) -> tuple[Runner, Editor | None]:
    root = workdir / ("invoke-debug" if debug else "invoke-plain")
    root.mkdir(parents=True)
    (root / "main.py").write_text(HANDLER.format(version="v0"))
    runner = Runner(
        ["main.handler", "--platform", "yandex", "--no-watch", *(["--debug"] if debug else [])],
        root,
    )
    if not debug:
        return runner, None
    try:
        port = int(runner.wait_for(lambda e: e["event"] == "listening")["debugPort"])
        editor = Editor(port, {})
        editor.attach()
        editor.wait_children(2, timeout=30)
    except BaseException:
        runner.stop()
        raise
    return runner, editor


def invoke_series(workdir: Path, count: int, warmup: int = 50) -> tuple[Series, Series]:
    """Warm invoke latency, trivial handler, no breakpoints: under the debugger and plain.

    The two runners take turns request by request, over one keep-alive connection each, so
    whatever else the machine does weighs on both alike.
    """
    debugged = Series("warm invoke, serve --debug, editor attached")
    plain = Series("warm invoke, plain serve")
    started = [_serve_trivial(workdir, True), _serve_trivial(workdir, False)]
    try:
        connections = [
            http.client.HTTPConnection("127.0.0.1", runner.port, timeout=30)
            for runner, _ in started
        ]
        for index in range(warmup + count):
            for connection, series in zip(connections, (debugged, plain), strict=True):
                began = time.perf_counter()
                status, _ = _get(connection, "/")
                took = (time.perf_counter() - began) * 1000.0
                if status != 200:
                    series.note = f"status {status}"
                elif index >= warmup:
                    series.samples.append(took)
        for connection in connections:
            connection.close()
    finally:
        for runner, editor in started:
            if editor is not None:
                editor.close()
            runner.stop()
    return debugged, plain


def main(argv: list[str] | None = None) -> int:
    """Measure and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=20, help="saves per series")
    parser.add_argument("--invokes", type=int, default=500, help="timed warm invocations")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="handlerlens-bench-debug-") as tmp:
        workdir = Path(tmp)
        lines: list[str] = []
        verdicts: list[str] = []
        for standby in (True, False):
            served, rearmed, verdict = reload_series(workdir, standby, args.reloads)
            lines += [served.line()] + ([rearmed.line()] if rearmed.samples else [])
            verdicts.append(verdict)
        debugged, plain = invoke_series(workdir, args.invokes)
    print("Hot reload under the debugger (goal: median ≤ 300 ms, p95 ≤ 600 ms, 100 % hits)")
    for line in lines:
        print("  " + line)
    for verdict in verdicts:
        print("  " + verdict)
    print("Per-invocation overhead, no breakpoints (goal ≤ 3 ms)")
    print("  " + debugged.line())
    print("  " + plain.line())
    if debugged.samples and plain.samples:
        overhead = statistics.median(debugged.samples) - statistics.median(plain.samples)
        print(f"  overhead (difference of medians): {overhead:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
