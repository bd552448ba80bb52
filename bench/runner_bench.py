"""Runner figures: warm invoke latency, throughput, save → new code served, invoke wall time.

All HTTP servers listen on 127.0.0.1 only, and within a figure every server is driven by the
same client: `bench.http_client` for latency; for throughput wrk (the C load generator) when it
is on PATH, else `bench.http_client` too. Request loops and wrk runs are bounded in count and time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.http_client import Connection, HttpError, wait_until_serving
from bench.procs import (
    HANDLERLENS,
    PEER_BIN,
    REPO,
    VENV_PY,
    Budget,
    Service,
    free_port,
    pause_before_save,
    wall_time,
)
from bench.stats import Figure, Row
from bench.workload import flask_handler, platform_handler

FLOOR_HTTP = "floor: in-process asyncio server"
FLOOR_EMULATION = "floor: HandlerLens's front end and emulation, in one process"
FLOOR_IMPORT = "floor: python -c 'import main'"
# What any Python runtime for these platforms loads before the handler: json for the event,
# logging for the root logger it configures (awslambdaric does both).
FLOOR_RUNTIME = "floor: python -c 'import json, logging, main'"
FF_DEBUG = "functions-framework --debug (watchdog reloader, its default here)"
FF_DEBUG_STAT = "functions-framework --debug (stat reloader)"
START_TIMEOUT = 60.0
WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class RunnerReps:
    """Repetitions per figure."""

    latency: int = 300
    warmup: int = 50
    throughput_rounds: int = 5
    throughput_requests: int = 2000  # per round, with the Python client (no wrk on PATH)
    throughput_seconds: int = 3  # per round, with wrk (whole seconds: wrk's -d takes no fraction)
    connections: int = 8
    reload: int = 30
    reload_peer: int = 12
    invoke: int = 25


@dataclass
class HttpSubject:
    """An HTTP server under measurement, started from its own code root."""

    name: str
    root: Path
    port: int
    service: Service
    handler_source: Callable[[str], str]
    missing: str = ""


def _subjects(workdir: Path, names: list[str]) -> list[HttpSubject]:
    out: list[HttpSubject] = []
    for index, name in enumerate(names):
        root = workdir / "runner" / f"{index}-{_slug(name)}" / "code"
        root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log = root.parent / "server.log"  # outside the watched code root
        missing = ""
        env = None
        if name == "HandlerLens":
            argv = [str(HANDLERLENS), "serve", "main.handler", "--root", str(root)]
            argv += ["--port", str(port)]
            source = platform_handler
        elif name == FLOOR_HTTP:
            argv = [str(VENV_PY), str(REPO / "bench" / "floor_server.py"), str(root), str(port)]
            source = platform_handler
        elif name == FLOOR_EMULATION:
            script = REPO / "bench" / "emulation_floor.py"
            argv = [str(VENV_PY), str(script), str(root), str(port)]
            source = platform_handler
        else:
            ff = PEER_BIN / "functions-framework"
            argv = [str(ff), "--target", "handler", "--source", str(root / "main.py")]
            argv += ["--host", "127.0.0.1", "--port", str(port)]
            if name in (FF_DEBUG, FF_DEBUG_STAT):
                argv.append("--debug")
            if name == FF_DEBUG_STAT:
                env = _without_watchdog(workdir)
            source = flask_handler
            if not ff.exists():
                missing = f"not measured: {ff} missing (run scripts/bench-setup.sh)"
        (root / "main.py").write_text(source("v0000"))
        service = Service(argv, root, log, env)
        out.append(HttpSubject(name, root, port, service, source, missing))
    return out


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:40]


def _without_watchdog(workdir: Path) -> dict[str, str]:
    """An environment where `import watchdog` fails, so werkzeug picks its stat reloader."""
    shim = workdir / "no-watchdog" / "watchdog"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "__init__.py").write_text(
        'raise ImportError("hidden by the HandlerLens benchmark: use the stat reloader")\n'
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = str(shim.parent)
    return env


async def _start(subject: HttpSubject) -> None:
    if subject.missing:
        return
    await subject.service.start()
    ok = await wait_until_serving(subject.port, b"v0000", START_TIMEOUT, subject.service.alive)
    if not ok:
        subject.missing = f"not measured: did not start ({subject.service.log_tail()})"


async def latency_figures(workdir: Path, reps: RunnerReps) -> list[Figure]:
    """Keep-alive and new-connection latency, then throughput, all subjects up at once."""
    subjects = _subjects(
        workdir, ["HandlerLens", "functions-framework", FLOOR_HTTP, FLOOR_EMULATION]
    )
    try:
        for subject in subjects:
            await _start(subject)
        keep = {s.name: Row(s.name, missing=s.missing) for s in subjects}
        fresh = {s.name: Row(s.name, missing=s.missing) for s in subjects}
        conns = {s.name: Connection(s.port) for s in subjects}
        live = [s for s in subjects if not s.missing]
        for _ in range(reps.warmup):
            for s in live:
                await _timed_get(conns[s.name], keep[s.name], close=False, record=False)
        # Interleaved round-robin, so the machine's noise falls on every subject alike.
        for _ in range(reps.latency):
            for s in live:
                await _timed_get(conns[s.name], keep[s.name], close=False)
        for conn in conns.values():
            await conn.close()
        for _ in range(reps.latency):
            for s in live:
                await _timed_get(Connection(s.port), fresh[s.name], close=True)
        throughput = {s.name: Row(s.name, missing=s.missing) for s in subjects}
        wrk = await _find_wrk()
        await _throughput(live, throughput, reps, wrk)
    finally:
        for subject in subjects:
            await subject.service.stop()
    notes = [
        "Trivial handler returning a constant; GET / on 127.0.0.1. HandlerLens: "
        "`handlerlens serve main.handler` (Yandex HTTP face, one worker process); "
        "functions-framework: its default server (gunicorn, gthread); the floor calls the "
        "handler inside its own asyncio server. Requests interleaved round-robin across subjects.",
        "The second floor (bench/emulation_floor.py) is `handlerlens serve` without its process "
        "boundary: the same HTTP front end, Yandex event, context, response mapping and "
        "START/END/REPORT lines, with the handler called in the server's own process (no "
        "worker, so no timeouts, crash recovery or reloads). Its gap to HandlerLens is what the "
        "supervisor/worker split costs; its gap to the first floor is what the emulation costs.",
    ]
    return [
        Figure(
            "runner-keepalive",
            "Warm invoke latency, keep-alive",
            "ms",
            list(keep.values()),
            notes=notes,
        ),
        Figure(
            "runner-fresh",
            "Warm invoke latency, a new connection per request",
            "ms",
            list(fresh.values()),
        ),
        _throughput_figure(list(throughput.values()), reps, wrk),
    ]


async def _timed_get(conn: Connection, row: Row, close: bool, record: bool = True) -> None:
    started = time.perf_counter()
    try:
        status, _ = await conn.get("/", close=close)
    except HttpError as exc:
        row.note = f"errors: {exc}"
        return
    elapsed = 1000 * (time.perf_counter() - started)
    if status != 200:
        row.note = f"HTTP {status} seen"
    elif record:
        row.samples.append(elapsed)


@dataclass(frozen=True)
class Wrk:
    """The wrk found on PATH and the version it reports."""

    path: str
    version: str  # as `wrk -v` prints it, e.g. "debian/4.1.0-3+b2"

    def argv(self, port: int, reps: RunnerReps) -> list[str]:
        """One round against 127.0.0.1:port: one thread, `reps.connections` keep-alive."""
        flags = ["-t1", f"-c{reps.connections}", f"-d{reps.throughput_seconds}s", "--latency"]
        return [self.path, *flags, f"http://127.0.0.1:{port}/"]


async def _find_wrk() -> Wrk | None:
    """wrk from PATH with its version, None when it is not installed."""
    path = shutil.which("wrk")
    if path is None:
        return None
    try:
        out, _ = await _run_bounded([path, "-v"], 10.0)  # exits 1 after the version line
    except (OSError, asyncio.TimeoutError):
        return None
    words = (out.splitlines() or [""])[0].split()
    version = words[1] if len(words) > 1 and words[0] == "wrk" else "(version unknown)"
    return Wrk(path, version)


async def _run_bounded(argv: list[str], timeout: float) -> tuple[str, int]:
    """Run `argv` to its exit, killed after `timeout` s; (stdout and stderr, exit code)."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return out.decode(errors="replace"), proc.returncode


def parse_wrk(output: str) -> tuple[float | None, str]:
    """(Requests/sec, '') from wrk's report, or (None, why the round does not count)."""
    problems = []
    non_2xx = WRK_NON_2XX.search(output)
    if non_2xx and int(non_2xx.group(1)):
        problems.append(f"{non_2xx.group(1)} non-2xx/3xx responses")
    socket = WRK_SOCKET.search(output)
    if socket and any(int(n) for n in socket.groups()):
        problems.append(socket.group(0).lower())
    rate = WRK_RATE.search(output)
    if rate is None:
        problems.append(f"no Requests/sec in wrk's output ({_tail(output)})")
    if problems:
        return None, ", ".join(problems)
    assert rate is not None
    return float(rate.group(1)), ""


def _tail(output: str) -> str:
    """The last two lines of a program's output, on one line."""
    return " / ".join(" ".join(line.split()) for line in output.strip().splitlines()[-2:])


async def _wrk_round(wrk: Wrk, port: int, reps: RunnerReps, row: Row | None, number: int) -> None:
    """One wrk run; its rate is a sample, or the row's note says why the round failed."""
    try:
        out, code = await _run_bounded(wrk.argv(port, reps), reps.throughput_seconds + 30.0)
        rate, problem = parse_wrk(out) if code == 0 else (None, f"wrk exited {code}: {_tail(out)}")
    except (OSError, asyncio.TimeoutError) as exc:
        rate, problem = None, f"wrk failed: {exc!r}"
    if row is None:
        return
    if rate is not None:
        row.samples.append(rate)
    else:
        failed = f"round {number} failed, not counted: {problem}"
        row.note = "; ".join(x for x in (row.note, failed) if x)


async def _throughput(
    live: list[HttpSubject], rows: dict[str, Row], reps: RunnerReps, wrk: Wrk | None
) -> None:
    """A warm-up round for every subject at once, then rounds interleaved round-robin."""

    async def one_round(port: int, row: Row | None, number: int) -> None:
        if wrk is None:
            await _throughput_round(port, reps, row)
        else:
            await _wrk_round(wrk, port, reps, row, number)

    await asyncio.gather(*(one_round(s.port, None, 0) for s in live))
    for number in range(1, reps.throughput_rounds + 1):
        for s in live:
            await one_round(s.port, rows[s.name], number)


def _throughput_figure(rows: list[Row], reps: RunnerReps, wrk: Wrk | None) -> Figure:
    """The throughput figure, its title and notes naming the load generator used."""
    per_round = (
        f"{reps.throughput_seconds} s per round"
        if wrk is not None
        else f"{reps.throughput_requests} requests per round"
    )
    rounds = (
        f"One sample per round ({reps.throughput_rounds} rounds, after one warm-up round per "
        "subject), subjects interleaved round-robin."
    )
    if wrk is not None:
        flags = " ".join(wrk.argv(0, reps)[1:-1])
        generator = (
            f"Load generator: wrk {wrk.version}, `wrk {flags} http://127.0.0.1:PORT/` per "
            "round; the sample is wrk's Requests/sec. wrk is C on epoll: per request it "
            "spends about a quarter of the CPU time of the Python client (bench/http_client.py, "
            "about 0.08 ms per request against HandlerLens), so little of the machine's 2 "
            "shared cores goes to the load generator and the figure measures the servers "
            "rather than the client. A round with non-2xx/3xx responses or socket errors is "
            "not counted; the row's notes name it."
        )
    else:
        generator = (
            "Load generator: the benchmark's Python asyncio client (bench/http_client.py), "
            "because wrk is not on PATH (scripts/bench-setup.sh installs it). It costs about "
            "0.08 ms CPU per request against HandlerLens, on the machine's 2 cores shared with "
            "the servers, which caps and distorts the figure for the faster and multi-process "
            "servers."
        )
    return Figure(
        "runner-throughput",
        f"Throughput, {reps.connections} keep-alive connections, {per_round}",
        "req/s",
        rows,
        higher_is_better=True,
        notes=[f"{rounds} {generator}"],
    )


async def _throughput_round(port: int, reps: RunnerReps, row: Row | None) -> None:
    """One round of the Python client, the fallback when wrk is not installed."""
    per_conn = reps.throughput_requests // reps.connections
    errors = 0

    async def worker() -> None:
        nonlocal errors
        conn = Connection(port)
        try:
            for _ in range(per_conn):
                try:
                    status, _ = await conn.get("/")
                    errors += status != 200
                except HttpError:
                    errors += 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(reps.connections)))
    elapsed = time.perf_counter() - started
    if row is not None:
        row.samples.append(per_conn * reps.connections / elapsed)
        if errors:
            row.note = f"{errors} failed requests"


async def reload_figure(workdir: Path, reps: RunnerReps) -> Figure:
    """Save → first response with the new code: HandlerLens vs functions-framework --debug."""
    subjects = _subjects(workdir, ["HandlerLens", FF_DEBUG_STAT, FF_DEBUG])
    counts = (reps.reload, reps.reload_peer, reps.reload_peer)
    rows = []
    for subject, count, limit in zip(subjects, counts, (5.0, 10.0, 10.0), strict=True):
        row = Row(subject.name, missing=subject.missing)
        rows.append(row)
        subject.missing = subject.missing or Budget.spent(f"save → new code: {subject.name}")
        try:
            await _start(subject)
            row.missing = subject.missing
            if not row.missing:
                await _reload_series(subject, row, count, limit)
        finally:
            await subject.service.stop()
    return Figure(
        "runner-reload",
        "Save → first response with the new code",
        "ms",
        rows,
        notes=[
            "The handler file is rewritten in place with a new return value (same length each "
            "time); the clock runs from the write to the first 200 whose body has the new value, "
            "polling every 10 ms with a new connection. functions-framework reloads through "
            "werkzeug's reloader (`--debug`): by default its watchdog loop, which on this "
            "machine watches every sys.path directory recursively and overflows the inotify "
            "queue; the stat-reloader row hides watchdog from it (a `watchdog` package that "
            "raises ImportError, first on PYTHONPATH)."
        ],
    )


async def _reload_series(subject: HttpSubject, row: Row, count: int, limit: float) -> None:
    main = subject.root / "main.py"
    timeouts = 0
    for rep in range(1, count + 1):
        value = f"v{rep:04d}"
        await pause_before_save()  # the previous reload (and its settle window) is over
        started = time.perf_counter()
        main.write_text(subject.handler_source(value))
        seen = await _poll_for(subject, value.encode(), started + limit)
        if seen is None:
            timeouts += 1
            # Let a slow reload finish before the next edit, so series stay independent;
            # a server that never picks the change up ends its series here.
            if not await wait_until_serving(
                subject.port, value.encode(), 10.0, subject.service.alive
            ):
                row.note = (
                    f"save {rep} not served within {limit + 10:.0f} s (still the old code); "
                    "series stopped"
                )
                return
        else:
            row.samples.append(1000 * (seen - started))
        if not subject.service.alive():
            row.note = f"server exited: {subject.service.log_tail()}"
            return
    if timeouts:
        row.note = f"{timeouts} of {count} saves not served within {limit:.0f} s"


async def _poll_for(subject: HttpSubject, value: bytes, deadline: float) -> float | None:
    conn = Connection(subject.port, timeout=2.0)
    while time.perf_counter() < deadline:
        try:
            status, body = await conn.get("/", close=True)
            if status == 200 and value in body:
                return time.perf_counter()
        except HttpError:
            pass
        await asyncio.sleep(0.01)
    return None


def invoke_figure(workdir: Path, reps: RunnerReps) -> Figure:
    """`handlerlens invoke` vs python-lambda-local vs `python -c 'import main'`, wall time."""
    root = workdir / "invoke"
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.py").write_text(platform_handler("v0000"))
    (root / "event.json").write_text('{"hello": "world"}\n')
    lambda_local = PEER_BIN / "python-lambda-local"
    commands = {
        "HandlerLens": [str(HANDLERLENS), "invoke", "main.handler", "--event", "event.json"],
        "python-lambda-local": [str(lambda_local), "-f", "handler", "main.py", "event.json"],
        FLOOR_IMPORT: [str(VENV_PY), "-c", "import main"],
        FLOOR_RUNTIME: [str(VENV_PY), "-c", "import json, logging, main"],
    }
    rows = {name: Row(name) for name in commands}
    if not lambda_local.exists():
        rows["python-lambda-local"].missing = "not measured: run scripts/bench-setup.sh"
    for argv in commands.values():  # warm the page cache and __pycache__
        with contextlib.suppress(RuntimeError, OSError, subprocess.TimeoutExpired):
            wall_time(argv, root)
    for _ in range(reps.invoke):
        for name, argv in commands.items():
            if rows[name].missing:
                continue
            try:
                rows[name].samples.append(1000 * wall_time(argv, root))
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                rows[name].missing = f"not measured: {exc}"
    return Figure(
        "runner-invoke",
        "One invocation from the command line, wall time",
        "ms",
        list(rows.values()),
        notes=[
            "Spawn to exit, the trivial handler, an event file; interleaved round-robin. "
            "`handlerlens invoke` starts a fresh worker in the function's interpreter, as a cold "
            "start; python-lambda-local runs the handler in its own process. The second floor "
            "adds the two standard modules every platform runtime loads before the handler "
            "(json for the event, logging for the root logger)."
        ],
    )
