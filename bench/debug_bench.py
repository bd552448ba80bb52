"""Debugger figures (issue #4): save → new code served with an editor attached, breakpoint hits
after every reload, and the per-invocation cost of running under the debugger.

The editor is `bench.dap_client.Editor`; it continues every stop at once, so the timings
include one breakpoint stop per request, as a user stepping through would not.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.dap_client import DapError, Editor
from bench.http_client import Connection, HttpError, wait_until_serving
from bench.procs import HANDLERLENS, Service, free_port
from bench.stats import Figure, Row
from bench.workload import platform_handler

STANDBY = "HandlerLens, debugger attached"
RESTART = "HandlerLens, debugger attached, plain restart (--no-standby)"
UNDER_DEBUG = "HandlerLens serve --debug, editor attached, no breakpoints"
PLAIN = "HandlerLens serve"
BREAK_LINE = 3  # the first `return` of _handler's text: reached only with ?stop=1


def _handler(value: str) -> str:
    # Polls run past the breakpoint, so the timing has no stop in it; one request with
    # ?stop=1 after each reload checks that the breakpoint still stops the new code.
    return (
        "def handler(event, context):\n"
        '    if (event.get("queryStringParameters") or {}).get("stop"):\n'
        f'        return {{"statusCode": 200, "body": "stopped {value}"}}\n'
        f'    return {{"statusCode": 200, "body": "{value}"}}\n'
    )


LIMIT_S = 10.0


@dataclass(frozen=True)
class DebugReps:
    """Repetitions per figure."""

    reload: int = 20
    latency: int = 200
    warmup: int = 30


@dataclass
class Debugged:
    """A runner under --debug and the editor attached to it."""

    service: Service
    port: int
    editor: Editor | None = None
    error: str = ""


def available() -> bool:
    """Whether this HandlerLens has `serve --debug`."""
    done = subprocess.run(
        [str(HANDLERLENS), "serve", "--help"], capture_output=True, text=True, timeout=30
    )
    return "--debug" in done.stdout


async def _start(root: Path, extra: list[str], breakpoints: dict[str, list[int]]) -> Debugged:
    port = free_port()
    log = root.parent / f"serve-{port}.log"
    argv = [str(HANDLERLENS), "serve", "main.handler", "--root", str(root), "--port", str(port)]
    service = Service([*argv, "--debug", "--status-json", *extra], root, log)
    await service.start()
    served = Debugged(service, port)
    debug_port = await _debug_port(log, service)
    if debug_port is None:
        served.error = f"not measured: no debug port announced ({service.log_tail()})"
        return served
    served.editor = Editor(debug_port, breakpoints)
    try:
        await asyncio.wait_for(served.editor.attach(), 30)
    except (DapError, OSError, asyncio.TimeoutError) as exc:
        served.error = f"not measured: attach failed: {exc!r}"
        return served
    if not await wait_until_serving(port, b"v0000", 60.0, service.alive):
        served.error = f"not measured: did not serve after attach ({service.log_tail()})"
    return served


async def _debug_port(log: Path, service: Service) -> int | None:
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline and service.alive():
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"listening"' in line:
                port = json.loads(line).get("debugPort")
                return int(port) if port else None
        await asyncio.sleep(0.05)
    return None


async def _stop(served: Debugged) -> None:
    if served.editor is not None:
        await served.editor.close()
    await served.service.stop()


async def _reload_series(served: Debugged, root: Path, row: Row, count: int, standby: bool) -> None:
    assert served.editor is not None
    editor = served.editor
    hits = 0
    expected = 1 + (2 if standby else 1)  # the parent, the worker, the standby
    for rep in range(1, count + 1):
        value = f"v{rep:04d}".encode()
        # Save as a person would: once the previous reload's worker (and, by default, the
        # next standby) has been attached as a child session, and a moment later.
        await editor.wait_attached(expected, 30.0)
        await asyncio.sleep(0.5)
        expected = editor.attached + 1
        started = time.perf_counter()
        (root / "main.py").write_text(_handler(value.decode()))
        conn = Connection(served.port, timeout=LIMIT_S)
        while time.perf_counter() < started + LIMIT_S:
            try:
                status, body = await conn.get("/", close=True)
            except HttpError:
                await asyncio.sleep(0.01)
                continue
            if status == 200 and value in body:
                row.samples.append(1000 * (time.perf_counter() - started))
                break
            await asyncio.sleep(0.01)
        else:
            row.note = f"save {rep} not served within {LIMIT_S:.0f} s; series stopped"
            return
        stops_before = len(editor.stops)
        try:
            status, body = await conn.get("/?stop=1", close=True)
        except HttpError:
            continue
        hits += status == 200 and body == b"stopped " + value and len(editor.stops) > stops_before
    row.counts = {"hits": hits, "reloads": count}
    row.note = f"breakpoint stopped the new code after {hits} of {count} reloads"
    if editor.errors:
        row.note += f"; editor errors: {editor.errors[:2]}"


async def debug_figures(workdir: Path, reps: DebugReps) -> list[Figure]:
    """Save → new code under the debugger (standby and plain restart), and its overhead."""
    if not available():
        reason = "not measured yet: `handlerlens serve --debug` does not exist yet (issue #4)"
        rows = [Row(STANDBY, missing=reason), Row(RESTART, missing=reason)]
        return [
            Figure("debug-reload", "Save → new code served, debugger attached", "ms", rows),
            Figure("debug-overhead", "Warm invoke under the debugger", "ms", [Row(PLAIN)]),
        ]
    rows = []
    for name, extra in ((STANDBY, []), (RESTART, ["--no-standby"])):
        root = workdir / "debug" / ("standby" if not extra else "restart") / "code"
        root.mkdir(parents=True, exist_ok=True)
        (root / "main.py").write_text(_handler("v0000"))
        row = Row(name)
        rows.append(row)
        served = await _start(root, extra, {str(root / "main.py"): [BREAK_LINE]})
        try:
            if served.error:
                row.missing = served.error
            else:
                await _reload_series(served, root, row, reps.reload, standby=not extra)
        finally:
            await _stop(served)
    reload = Figure(
        "debug-reload",
        "Save → new code served, debugger attached (breakpoint in the handler)",
        "ms",
        rows,
        reference=STANDBY,
        notes=[
            "`handlerlens serve --debug`, the benchmark's DAP client attached as an editor "
            "(child session per worker via `startDebugging`), a breakpoint in the handler on a "
            "line only `?stop=1` reaches: the polls that time the reload run past it, and one "
            "`?stop=1` request after each reload checks that the new code stops there (the "
            "editor continues at once). Same save-and-poll loop as the plain figure; each save "
            "waits until the previous reload's new child session (the next standby) has "
            "attached, then 0.5 s. The plain-restart row starts a fresh "
            "interpreter per reload (`--no-standby`) for comparison."
        ],
    )
    return [reload, await _overhead(workdir, reps)]


async def _overhead(workdir: Path, reps: DebugReps) -> Figure:
    """Keep-alive latency with the debugger attached (no breakpoints) vs plain serve."""
    rows = {PLAIN: Row(PLAIN), UNDER_DEBUG: Row(UNDER_DEBUG)}
    plain_root = workdir / "debug" / "plain" / "code"
    debug_root = workdir / "debug" / "overhead" / "code"
    for root in (plain_root, debug_root):
        root.mkdir(parents=True, exist_ok=True)
        (root / "main.py").write_text(platform_handler("v0000"))
    port = free_port()
    plain = Service(
        [str(HANDLERLENS), "serve", "main.handler", "--root", str(plain_root), "--port", str(port)],
        plain_root,
        plain_root.parent / "serve.log",
    )
    await plain.start()
    served = await _start(debug_root, [], {})
    try:
        if not await wait_until_serving(port, b"v0000", 60.0, plain.alive):
            rows[PLAIN].missing = f"not measured: did not start ({plain.log_tail()})"
        if served.error:
            rows[UNDER_DEBUG].missing = served.error
        if not (rows[PLAIN].missing or rows[UNDER_DEBUG].missing):
            conns = {PLAIN: Connection(port), UNDER_DEBUG: Connection(served.port)}
            for index in range(reps.warmup + reps.latency):
                for name, conn in conns.items():
                    started = time.perf_counter()
                    try:
                        status, _ = await conn.get("/")
                    except HttpError as exc:
                        rows[name].note = f"errors: {exc}"
                        continue
                    if index >= reps.warmup and status == 200:
                        rows[name].samples.append(1000 * (time.perf_counter() - started))
            for conn in conns.values():
                await conn.close()
    finally:
        await plain.stop()
        await _stop(served)
    figure = Figure(
        "debug-overhead",
        "Warm invoke latency, keep-alive, under the debugger with no breakpoints",
        "ms",
        list(rows.values()),
        reference=PLAIN,
    )
    figure.notes.append("Both runners up at once, requests interleaved round-robin.")
    return figure
