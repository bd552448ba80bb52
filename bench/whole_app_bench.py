"""Whole app (issue #17): `handlerlens serve` on a generated app of 20 functions behind routes.

The app: 20 functions, each in its own module of one code root (`src/`), half behind REST
routes, half behind HTTP API routes, each with a path parameter (`/fnN/items/{id}`). It is
generated twice, as a SAM template and as its serverless.yml twin (`http` and `httpApi` events),
and `handlerlens serve` measures both. The peer, serverless-offline (npm `serverless` v3 and
`serverless-offline` 13, installed by scripts/bench-setup.sh), serves the twin with
`sls offline --noPrependStageInUrl`, so every subject gets the very same requests.

Figures (each latency run in a fresh temporary folder and a fresh server):
- ready: from the command's start until HandlerLens has printed its route table (the `routes`
  event of `--status-json`) and said it listens; for serverless-offline, until its port answers
  an HTTP request (404 on a path no function has);
- first request to a function not started yet: one GET per function, each on a new connection;
- warm routed request over keep-alive (a REST and an HTTP API route, alternately), against the
  same handler served alone (`serve main.handler`: one function, whose worker the runner lends
  its connections to, its fastest path) and alone with HANDLERLENS_LEND=0;
- throughput: wrk (or the Python client when wrk is missing), 8 keep-alive connections whose
  requests go round all 20 routes in turn, against functions-framework serving the same
  handler alone, driven the same way on its one route, in the same section;
- save in one function's module → a request gets its new code, and how many of the 19 other
  functions (which share its code root) reloaded;
- memory: RSS of the server and every process under it, once each function was called.

Run alone: `.venv/bin/python -m bench.whole_app_bench [--quick]` (prints the figures and the
issue's goals). In `make bench` it is the section "whole app" (`python -m bench.run --only
whole-app` runs it alone, with the report's rendering).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import runner_bench
from bench.http_client import Connection, HttpError
from bench.procs import HANDLERLENS, PEERS, Service, free_port, rss_mib
from bench.stats import Figure, Row

FUNCTIONS = 20
HANDLER = """\
import json


def handler(event, context):
    params = event.get("pathParameters") or {}
    return {"statusCode": 200, "body": json.dumps({"id": params.get("id")})}
"""

SAM = "HandlerLens, SAM app"
TWIN = "HandlerLens, serverless.yml twin"
ALONE = "HandlerLens, the same handler served alone"
UNLENT = "HandlerLens, served alone, HANDLERLENS_LEND=0"
OFFLINE = "serverless-offline (serverless.yml twin)"
OFFLINE_RELOAD = "serverless-offline --reloadHandler"
FF = "functions-framework, one function"
SAM_LOCAL = "sam local start-api"
SLS_DIR = PEERS / "sls"
SLS_BIN = SLS_DIR / "node_modules" / ".bin" / "sls"
OFFLINE_SAVE_LIMIT = 5.0  # s: how long a save may take to reach serverless-offline's answers
# Everything that keeps the Serverless Framework v3 from calling home while it serves.
SLS_ENV = {
    "SLS_TELEMETRY_DISABLED": "1",
    "SLS_TRACKING_DISABLED": "1",
    "SLS_NOTIFICATIONS_MODE": "off",
    "SLS_DEPRECATION_DISABLE": "*",
    "SLS_INTERACTIVE_SETUP_DISABLE": "1",
}
OTHERS = "others reloaded (most)"
WORKERS_ENDED = "processes ended by a run's saves (most)"
WORKERS_BEFORE = "processes under the runner before the saves"
KEYS = (
    "app-ready",
    "app-cold",
    "app-warm-one",
    "app-warm",
    "app-throughput",
    "app-reload",
    "app-memory",
)
WARMUP_REQUESTS = 3  # on a keep-alive connection before its requests are timed


@dataclass(frozen=True)
class AppReps:
    """Repetitions of the whole-app figures."""

    runs: int = 5  # fresh `handlerlens serve` runs per app kind
    offline_runs: int = 2  # fresh `sls offline` runs per mode (each takes 4-6 s to start)
    requests: int = 300  # warm requests per run
    reload_requests: int = 6  # warm requests of `sls offline --reloadHandler` (a process each)
    saves: int = 5  # saves per run
    throughput_rounds: int = 3
    throughput_seconds: int = 2  # per round, with wrk
    throughput_requests: int = 2000  # per round, with the Python client (no wrk on PATH)
    connections: int = 8


QUICK = AppReps(
    runs=1,
    offline_runs=1,
    requests=30,
    reload_requests=3,
    saves=2,
    throughput_rounds=1,
    throughput_seconds=1,
    throughput_requests=400,
)


@dataclass(frozen=True)
class App:
    """A generated app: its folder, one request path per function, the functions' names."""

    root: Path
    paths: list[str]
    names: list[str]


def make_app(folder: Path, functions: int = FUNCTIONS, kind: str = "sam") -> App:
    """The app in `folder`, declared by a SAM template (`kind="sam"`) or by serverless.yml
    (`kind="serverless"`): even functions behind REST routes (`Api` / `http`), odd ones behind
    HTTP API routes (`HttpApi` / `httpApi`), each with a path parameter, each in its own module
    of one code root."""
    (folder / "src").mkdir(parents=True)
    paths = [f"/fn{index}/items/{index}" for index in range(functions)]
    for index in range(functions):
        (folder / "src" / f"fn{index}.py").write_text(HANDLER)
    if kind == "sam":
        resources = [
            f"  Fn{index}:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            f"      Handler: fn{index}.handler\n"
            "      Events:\n"
            "        Get:\n"
            f"          Type: {'Api' if index % 2 == 0 else 'HttpApi'}\n"
            "          Properties:\n"
            f"            Path: /fn{index}/items/{{id}}\n"
            "            Method: get\n"
            for index in range(functions)
        ]
        (folder / "template.yaml").write_text(
            'AWSTemplateFormatVersion: "2010-09-09"\n'
            "Transform: AWS::Serverless-2016-10-31\n"
            "Globals:\n  Function:\n    Runtime: python3.11\n    CodeUri: src/\n"
            "Resources:\n" + "".join(resources)
        )
        return App(folder, paths, [f"Fn{index}" for index in range(functions)])
    if kind != "serverless":
        raise ValueError(f"unknown app kind {kind!r}: sam or serverless")
    declared = [
        f"  fn{index}:\n"
        f"    handler: src/fn{index}.handler\n"
        "    events:\n"
        f"      - {'http' if index % 2 == 0 else 'httpApi'}:\n"
        f"          path: /fn{index}/items/{{id}}\n"
        "          method: get\n"
        for index in range(functions)
    ]
    (folder / "serverless.yml").write_text(
        "service: whole-app\n"
        'frameworkVersion: "3"\n'
        "provider:\n  name: aws\n  runtime: python3.11\n"
        "plugins:\n  - serverless-offline\n"
        "functions:\n" + "".join(declared)
    )
    return App(folder, paths, [f"fn{index}" for index in range(functions)])


def _descendants(parent: int) -> list[int]:
    """Every live process under `parent` (children, their children, …)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [parent]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tree_memory_mib(pid: int) -> float:
    """RSS of a process and every process under it, in MiB."""
    total = 0.0
    for each in [pid, *_descendants(pid)]:
        with contextlib.suppress(OSError):
            total += rss_mib(each)[0]
    return total


class Served:
    """A `handlerlens serve --status-json` process, in its own session, with its events."""

    def __init__(self, argv: list[str], root: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.root = root
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self.events: list[dict[str, object]] = []

    async def start(self, wanted: set[str]) -> float:
        """Start it; the seconds until every event in `wanted` was seen."""
        began = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.root,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        seen: set[str] = set()
        while not wanted <= seen:
            line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
            if not line:
                raise RuntimeError(f"{self.argv} exited before it was ready")
            event = json.loads(line)
            self.events.append(event)
            seen.add(str(event.get("event")))
        took = time.perf_counter() - began
        self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return took

    async def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            with contextlib.suppress(ValueError):
                self.events.append(json.loads(line))

    def memory_mib(self) -> float:
        """RSS of the runner and its workers."""
        assert self.proc is not None
        return tree_memory_mib(self.proc.pid)

    async def stop(self) -> None:
        """SIGTERM, a bounded wait, then SIGKILL to its whole session."""
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.terminate()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 15)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, asyncio.TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 5)


def _serve_argv(port: int) -> list[str]:
    return [str(HANDLERLENS), "serve", "--port", str(port), "--status-json"]


async def _timed_get(conn: Connection, path: str, close: bool = False) -> float:
    began = time.perf_counter()
    status, body = await conn.get(path, close=close)
    took = (time.perf_counter() - began) * 1000.0
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
    return took


async def _save_and_wait(
    conn: Connection, module: Path, path: str, version: int, limit: float = 10.0
) -> float | None:
    """Save a new version of one function's module; ms until a request gets the new code,
    None when `limit` seconds pass first. Each version has its own length: Python's byte-code
    cache trusts a source of the same size saved within the same second, and a process that
    imports the module anew (serverless-offline --reloadHandler) would get the old code."""
    marker = '"' + "v" * version + '"'
    module.write_text(HANDLER.replace('{"id"', '{"v": ' + marker + ', "id"'))
    began = time.perf_counter()
    while time.perf_counter() < began + limit:
        status, body = await conn.get(path)
        if status == 200 and marker.encode() in body:
            return (time.perf_counter() - began) * 1000.0
        await asyncio.sleep(0.002)
    return None


class Rows:
    """The rows of every whole-app figure, by figure key and subject."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, Row]] = {key: {} for key in KEYS}

    def __call__(self, key: str, subject: str) -> Row:
        return self.by_key[key].setdefault(subject, Row(subject))

    def fail(self, keys: tuple[str, ...], subject: str, why: str) -> None:
        """`subject` could not be measured for these figures: say why in each row."""
        for key in keys:
            row = self(key, subject)
            if row.samples:
                row.note = "; ".join(x for x in (row.note, why) if x)
            else:
                row.missing = why


async def _handlerlens_run(
    workdir: Path, kind: str, subject: str, run: int, reps: AppReps, rows: Rows
) -> None:
    """A fresh serve of the app: ready, first requests, warm, memory, saves."""
    most_reloaded = 0
    app = make_app(workdir / f"{kind}-{run}" / "app", kind=kind)
    served = Served(_serve_argv(free_port()), app.root)
    try:
        rows("app-ready", subject).samples.append(await served.start({"listening", "routes"}))
        port = _port(served)
        for path in app.paths:
            conn = Connection(port, timeout=30)
            rows("app-cold", subject).samples.append(await _timed_get(conn, path, close=True))
        await _one_route(port, app.paths[0], reps.requests, rows("app-warm-one", subject))
        conn = Connection(port, timeout=30)
        warm = rows("app-warm", subject)
        for index in range(reps.requests):
            warm.samples.append(await _timed_get(conn, app.paths[index % 2]))
        rows("app-memory", subject).samples.append(served.memory_mib())
        reload = rows("app-reload", subject)
        assert served.proc is not None
        before = set(_descendants(served.proc.pid))  # the runner's workers, all warm
        for save in range(1, reps.saves + 1):
            mark = len(served.events)
            took = await _save_and_wait(conn, app.root / "src" / "fn0.py", app.paths[0], save)
            if took is None:
                reload.note = f"save {save} of run {run + 1} not served within 10 s"
                break
            reload.samples.append(took)
            await asyncio.sleep(0.2)  # reloads of others, if any, would be announced by now
            others = {
                e.get("function")
                for e in served.events[mark:]
                if e.get("event") == "reloading" and e.get("function") != app.names[0]
            }
            most_reloaded = max(most_reloaded, len(others))
        ended = len(before - set(_descendants(served.proc.pid)))
        counts = reload.counts
        counts[OTHERS] = max(counts.get(OTHERS, 0), most_reloaded)
        counts[WORKERS_ENDED] = max(counts.get(WORKERS_ENDED, 0), ended)
        counts[WORKERS_BEFORE] = len(before)
        await conn.close()
    except (RuntimeError, HttpError, asyncio.TimeoutError) as exc:
        rows.fail(KEYS, subject, f"run {run + 1} failed: {exc}")
        return
    finally:
        await served.stop()


def _port(served: Served) -> int:
    for event in served.events:
        if event.get("event") == "listening":
            return int(str(event["port"]))
    raise RuntimeError("no port in the `listening` event")


def _served_alone(root: Path, lend: bool = True) -> Served:
    """The same handler served alone, `serve main.handler` behind a REST face."""
    root.mkdir(parents=True)
    (root / "main.py").write_text(HANDLER)
    argv = [str(HANDLERLENS), "serve", "main.handler", "--platform", "aws"]
    argv += ["--trigger", "api-gateway-rest", "--status-json", "--no-watch"]
    argv += ["--port", str(free_port())]
    return Served(argv, root, {**os.environ, "HANDLERLENS_LEND": "1" if lend else "0"})


async def _one_route(port: int, path: str, requests: int, row: Row) -> None:
    """Warm latency of one route over its own keep-alive connection, after a warm-up (as a
    client calling one endpoint does: the workload of the single-function figure)."""
    conn = Connection(port, timeout=30)
    try:
        for _ in range(WARMUP_REQUESTS):
            await _timed_get(conn, path)
        for _ in range(requests):
            row.samples.append(await _timed_get(conn, path))
    finally:
        await conn.close()


async def _single_function(workdir: Path, run: int, requests: int, lend: bool) -> list[float]:
    """Warm latency of the same handler served alone (`serve main.handler`); without `lend`,
    every request goes through the runner process, as a routed one does."""
    served = _served_alone(workdir / f"alone-{'lent' if lend else 'unlent'}-{run}", lend)
    try:
        await served.start({"listening"})
        conn = Connection(_port(served), timeout=30)
        for _ in range(WARMUP_REQUESTS):
            await _timed_get(conn, "/items/1")
        found = [await _timed_get(conn, "/items/1") for _ in range(requests)]
        await conn.close()
        return found
    finally:
        await served.stop()


def offline_missing() -> str:
    """Why serverless-offline cannot be measured, or ''."""
    if not SLS_BIN.exists():
        return f"not measured: {SLS_BIN} missing (run scripts/bench-setup.sh)"
    if shutil.which("node") is None:
        return "not measured: node is not on PATH"
    if shutil.which("python3") is None:
        return "not measured: python3 (the interpreter serverless-offline runs) is not on PATH"
    return ""


def _offline_env() -> dict[str, str]:
    env = {**os.environ, **SLS_ENV}
    env.pop("VIRTUAL_ENV", None)  # serverless-offline would put that venv's python first
    return env


class Offline:
    """`sls offline` serving the serverless.yml twin, in its own session."""

    def __init__(self, workdir: Path, name: str, reload_handler: bool) -> None:
        self.app = make_app(workdir / name / "app", kind="serverless")
        (self.app.root / "node_modules").symlink_to(SLS_DIR / "node_modules")
        self.port = free_port()
        argv = [str(SLS_BIN), "offline", "--host", "127.0.0.1", "--httpPort", str(self.port)]
        argv += ["--lambdaPort", str(free_port()), "--noPrependStageInUrl"]
        if reload_handler:
            argv.append("--reloadHandler")
        self.service = Service(
            argv, self.app.root, self.app.root.parent / "sls.log", _offline_env()
        )

    async def start(self, timeout: float = 60.0) -> float:
        """Start it; seconds until its port answers HTTP (404 on a path no function has)."""
        began = time.perf_counter()
        await self.service.start()
        conn = Connection(self.port, timeout=5.0)
        while time.perf_counter() < began + timeout:
            if not self.service.alive():
                raise RuntimeError(f"sls offline exited: {self.service.log_tail()}")
            with contextlib.suppress(HttpError):
                await conn.get("/__not_a_route__", close=True)
                return time.perf_counter() - began
            await asyncio.sleep(0.01)
        raise RuntimeError(f"sls offline did not answer within {timeout:.0f} s")

    def memory_mib(self) -> float:
        assert self.service.proc is not None
        return tree_memory_mib(self.service.proc.pid)


async def _offline_runs(workdir: Path, reps: AppReps, rows: Rows, reload_handler: bool) -> None:
    """serverless-offline on the twin: ready, first requests, warm, memory, saves."""
    subject = OFFLINE_RELOAD if reload_handler else OFFLINE
    missing = offline_missing()
    if missing:
        rows.fail(KEYS, subject, missing)
        return
    unserved = 0
    for run in range(reps.offline_runs):
        offline = Offline(workdir, f"offline-{int(reload_handler)}-{run}", reload_handler)
        app = offline.app
        try:
            rows("app-ready", subject).samples.append(await offline.start())
            for path in app.paths:
                conn = Connection(offline.port, timeout=30)
                rows("app-cold", subject).samples.append(await _timed_get(conn, path, close=True))
            count = reps.reload_requests if reload_handler else reps.requests
            await _one_route(offline.port, app.paths[0], count, rows("app-warm-one", subject))
            conn = Connection(offline.port, timeout=30)
            warm = rows("app-warm", subject)
            for index in range(count):
                warm.samples.append(await _timed_get(conn, app.paths[index % 2]))
            if not reload_handler:
                rows("app-memory", subject).samples.append(offline.memory_mib())
            reload = rows("app-reload", subject)
            # Without --reloadHandler one save per run shows whether it is ever served.
            saves = reps.saves if reload_handler else 1
            for save in range(1, saves + 1):
                module = app.root / "src" / "fn0.py"
                took = await _save_and_wait(
                    conn, module, app.paths[0], save, limit=OFFLINE_SAVE_LIMIT
                )
                if took is None:
                    unserved += 1
                else:
                    reload.samples.append(took)
            if unserved:
                reload.note = (
                    f"{unserved} save(s) not served within {OFFLINE_SAVE_LIMIT:.0f} s (requests "
                    "kept getting the old code)"
                )
            await conn.close()
        except (RuntimeError, HttpError, asyncio.TimeoutError) as exc:
            tail = offline.service.log_tail()
            rows.fail(KEYS, subject, f"run {run + 1} failed: {exc} (its output: {tail})")
            return
        finally:
            await offline.service.stop()


def _wrk_script(folder: Path, paths: list[str]) -> Path:
    """A wrk script whose requests go round `paths` in turn."""
    script = folder / f"routes-{len(paths)}.lua"
    quoted = ", ".join(json.dumps(path) for path in paths)
    script.write_text(
        f"local paths = {{{quoted}}}\n"
        "local next_one = 0\n"
        "request = function()\n"
        "  next_one = next_one % #paths + 1\n"
        "  return wrk.format(nil, paths[next_one])\n"
        "end\n"
    )
    return script


async def _rate_round(
    port: int,
    paths: list[str],
    script: Path,
    reps: AppReps,
    wrk: runner_bench.Wrk | None,
    row: Row | None,
    number: int,
) -> None:
    """One throughput round: requests/s into `row` (None: a warm-up), or a note saying why not."""
    rate: float | None
    if wrk is not None:
        argv = [wrk.path, "-t1", f"-c{reps.connections}", f"-d{reps.throughput_seconds}s"]
        argv += ["-s", str(script), f"http://127.0.0.1:{port}"]
        try:
            out, code = await runner_bench._run_bounded(argv, reps.throughput_seconds + 30.0)
            if code == 0:
                rate, problem = runner_bench.parse_wrk(out)
            else:
                rate, problem = None, f"wrk exited {code}: {runner_bench._tail(out)}"
        except (OSError, asyncio.TimeoutError) as exc:
            rate, problem = None, f"wrk failed: {exc!r}"
    else:
        rate, problem = await _python_round(port, paths, reps)
    if row is None:
        return
    if rate is not None:
        row.samples.append(rate)
    else:
        failed = f"round {number} failed, not counted: {problem}"
        row.note = "; ".join(x for x in (row.note, failed) if x)


WARMUP_ROUNDS = 5  # at most, of 1 s each
WARMUP_STEADY = 0.15  # a round within 15 % of the one before: the server is warm


async def _warm_up(
    port: int, paths: list[str], script: Path, reps: AppReps, wrk: runner_bench.Wrk | None
) -> int:
    """Every route once, one request at a time (every function started), then rounds not
    counted until the rate settles (serverless-offline's extra processes for busy functions
    spawned) or WARMUP_ROUNDS; returns how many rounds."""
    conn = Connection(port, timeout=30)
    try:
        for path in paths:
            await conn.get(path)
    except HttpError:
        pass  # the rounds say what fails
    finally:
        await conn.close()
    previous: float | None = None
    short = dataclasses.replace(  # warm-up rounds of a second (wrk's shortest)
        reps, throughput_seconds=1, throughput_requests=reps.throughput_requests // 2
    )
    for number in range(1, WARMUP_ROUNDS + 1):
        scratch = Row("warm-up")
        await _rate_round(port, paths, script, short, wrk, scratch, number)
        rate = scratch.median
        if rate is not None and previous is not None:
            if abs(rate - previous) <= WARMUP_STEADY * previous:
                return number
        previous = rate
    return WARMUP_ROUNDS


async def _python_round(port: int, paths: list[str], reps: AppReps) -> tuple[float | None, str]:
    """The Python client's round, when wrk is missing: each connection goes round the paths."""
    per_conn = reps.throughput_requests // reps.connections
    errors = 0

    async def worker(offset: int) -> None:
        nonlocal errors
        conn = Connection(port, timeout=30)
        try:
            for index in range(per_conn):
                try:
                    status, _ = await conn.get(paths[(offset + index) % len(paths)])
                    errors += status != 200
                except HttpError:
                    errors += 1
        finally:
            await conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(reps.connections)))
    elapsed = time.perf_counter() - began
    if errors:
        return None, f"{errors} failed requests"
    return per_conn * reps.connections / elapsed, ""


async def _throughput(workdir: Path, reps: AppReps, rows: Rows) -> str:
    """Every throughput subject up at once, a warm-up round each, then rounds interleaved.
    Returns the load generator's description for the figure's notes."""
    wrk = await runner_bench._find_wrk()
    folder = workdir / "throughput"
    folder.mkdir(parents=True)
    # (subject, port, paths) of every subject that started; the others' rows say why not.
    live: list[tuple[str, int, list[str]]] = []
    stops: list[Served | Service] = []
    offline_service: Service | None = None
    try:
        for kind, subject in (("sam", SAM), ("serverless", TWIN)):
            app = make_app(folder / kind / "app", kind=kind)
            served = Served(_serve_argv(free_port()), app.root)
            stops.append(served)
            try:
                await served.start({"listening", "routes"})
                live.append((subject, _port(served), app.paths))
            except (RuntimeError, asyncio.TimeoutError) as exc:
                rows.fail(("app-throughput",), subject, f"not measured: {exc}")
        alone = _served_alone(folder / "alone")
        stops.append(alone)
        try:
            await alone.start({"listening"})
            live.append((ALONE, _port(alone), ["/items/1"]))
        except (RuntimeError, asyncio.TimeoutError) as exc:
            rows.fail(("app-throughput",), ALONE, f"not measured: {exc}")
        (ff,) = runner_bench._subjects(folder / "ff", ["functions-framework"])
        ff.name = FF
        stops.append(ff.service)
        await runner_bench._start(ff)
        if ff.missing:
            rows.fail(("app-throughput",), FF, ff.missing)
        else:
            live.append((FF, ff.port, ["/"]))
        missing = offline_missing()
        if missing:
            rows.fail(("app-throughput",), OFFLINE, missing)
        else:
            offline = Offline(folder, "offline", reload_handler=False)
            offline_service = offline.service
            stops.append(offline.service)
            try:
                await offline.start()
                live.append((OFFLINE, offline.port, offline.app.paths))
            except RuntimeError as exc:
                rows.fail(("app-throughput",), OFFLINE, f"not measured: {exc}")
        scripts = {subject: _wrk_script(folder, paths) for subject, _, paths in live}
        warmups = {}
        for subject, port, paths in live:
            warmups[subject] = await _warm_up(port, paths, scripts[subject], reps, wrk)
        for number in range(1, reps.throughput_rounds + 1):
            for subject, port, paths in live:
                row = rows("app-throughput", subject)
                await _rate_round(port, paths, scripts[subject], reps, wrk, row, number)
        for subject, _, _ in live:
            row = rows("app-throughput", subject)
            said = f"{warmups[subject]} warm-up round(s)"
            if subject == OFFLINE and offline_service and offline_service.proc is not None:
                processes = len(_descendants(offline_service.proc.pid))
                said += f"; {processes} processes under `sls offline` after the rounds"
            row.note = "; ".join(x for x in (row.note, said) if x)
    finally:
        for each in stops:
            await each.stop()
    if wrk is None:
        return (
            f"Load generator: the benchmark's Python asyncio client, {reps.throughput_requests} "
            "requests per round (wrk is not on PATH; scripts/bench-setup.sh installs it): it "
            "shares the 2 cores with the servers and caps the faster ones."
        )
    return (
        f"Load generator: wrk {wrk.version}, `wrk -t1 -c{reps.connections} "
        f"-d{reps.throughput_seconds}s -s routes.lua http://127.0.0.1:PORT` per round, the "
        "script sending each next request to the next of the subject's routes (all 20 for the "
        "apps, the one route of functions-framework); the sample is wrk's Requests/sec, a "
        "round with non-2xx/3xx responses or socket errors is not counted."
    )


def sam_local_missing() -> str:
    """Why `sam local start-api` is not measured: it runs each function in a Docker container."""
    docker = shutil.which("docker")
    if docker is None:
        return "not measured: it runs every function in a Docker container; `docker` is not here"
    try:
        done = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=15,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"not measured: it runs every function in a Docker container; docker: {exc}"
    if done.returncode != 0:
        said = " ".join(done.stderr.split())[:200]
        return (
            "not measured: it runs every function in a Docker container, and this machine has "
            f"no Docker daemon (`docker version`: {said})"
        )
    return "not measured: this bench does not drive it (SAM CLI is not among the peers)"


def _python3() -> str:
    found = shutil.which("python3")
    if found is None:
        return "python3 (not on PATH)"
    try:
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        version = "?"
    return f"{found} ({version})"


def peer_versions() -> str:
    """serverless and serverless-offline as installed in bench/.peers/sls."""
    found = []
    for package in ("serverless", "serverless-offline"):
        manifest = SLS_DIR / "node_modules" / package / "package.json"
        if manifest.exists():
            found.append(f"{package} {json.loads(manifest.read_text())['version']}")
    return ", ".join(found) or "serverless-offline not installed"


async def whole_app_figures(workdir: Path, reps: AppReps) -> list[Figure]:
    """Every whole-app figure: both HandlerLens apps, the single function, the peers."""
    workdir = workdir / "whole-app"
    workdir.mkdir(parents=True)
    rows = Rows()
    for key in KEYS:  # the order of the rows in every figure
        rows(key, SAM)
        rows(key, TWIN)
    # Runs interleaved, so the machine's noise falls on the apps and the single function alike.
    for run in range(reps.runs):
        await _handlerlens_run(workdir, "sam", SAM, run, reps, rows)
        await _handlerlens_run(workdir, "serverless", TWIN, run, reps, rows)
        for subject, lend in ((ALONE, True), (UNLENT, False)):
            try:
                found = await _single_function(workdir, run, reps.requests, lend)
                rows("app-warm", subject).samples.extend(found)
                rows("app-warm-one", subject).samples.extend(found)
            except (RuntimeError, HttpError, asyncio.TimeoutError) as exc:
                why = f"run {run + 1} not measured: {exc}"
                rows.fail(("app-warm", "app-warm-one"), subject, why)
    await _offline_runs(workdir, reps, rows, reload_handler=False)
    await _offline_runs(workdir, reps, rows, reload_handler=True)
    generator = await _throughput(workdir, reps, rows)
    sam_local = sam_local_missing()
    rows.fail(("app-ready",), SAM_LOCAL, sam_local)
    by = rows.by_key
    app = (
        f"{FUNCTIONS} functions, each its own module of one code root, half behind REST "
        "routes and half behind HTTP API routes, `GET /fnN/items/{id}`; the SAM template and "
        "its serverless.yml twin (`http` and `httpApi` events) name the same handlers."
    )
    offline = (
        f"serverless-offline: {peer_versions()} (scripts/bench-setup.sh), `sls offline "
        "--noPrependStageInUrl` on the twin, so it gets the very requests HandlerLens gets; its "
        "Python functions run in a `python3 invoke.py` process per function instance, here "
        f"{_python3()}; telemetry, notifications and deprecation notices off. Without "
        "`--reloadHandler` it keeps an instance's process, with the code it loaded, for as long "
        "as the instance is used (an idle one ends after 60 s); with it, every request starts "
        "a new process."
    )
    runs = (
        f"HandlerLens: {reps.runs} fresh `handlerlens serve --status-json` runs per app; "
        f"serverless-offline: {reps.offline_runs} fresh `sls offline` runs per mode."
    )
    return [
        Figure(
            "app-ready",
            "Whole app: start until ready",
            "s",
            list(by["app-ready"].values()),
            reference=SAM,
            notes=[
                app,
                runs + " HandlerLens is ready when it has printed its route table and listens "
                "(the port accepts from then on); serverless-offline when its port answers.",
                offline,
            ],
        ),
        Figure(
            "app-cold",
            "Whole app: first request to a function not started yet",
            "ms",
            list(by["app-cold"].values()),
            reference=SAM,
            notes=["One GET per function, each on a new connection, right after ready."],
        ),
        Figure(
            "app-warm-one",
            "Whole app: warm routed request, keep-alive, one route",
            "ms",
            list(by["app-warm-one"].values()),
            reference=SAM,
            notes=[
                f"{reps.requests} requests per run to fn0's REST route over one keep-alive "
                f"connection after {WARMUP_REQUESTS} untimed ones, as a client calling one "
                "endpoint does: the workload of the single-function figure, which is the same "
                "handler served alone (`serve main.handler --trigger api-gateway-rest`, the same "
                "warm-up) and the goal's reference. HandlerLens lends such a connection to the "
                "function's worker once two requests in a row went to it (runner/lender.py)."
            ],
        ),
        Figure(
            "app-warm",
            "Whole app: warm routed request, keep-alive, alternating between two functions",
            "ms",
            list(by["app-warm"].values()),
            reference=SAM,
            notes=[
                "Requests that change function on one connection are answered by the runner "
                "process (a connection is lent to one function's worker only).",
                f"{reps.requests} requests per run, alternately to a REST and an HTTP API route; "
                "each of the runs serves the SAM app, the twin, then the handler alone (lent, "
                "then HANDLERLENS_LEND=0), so the machine's noise falls on all of them alike. "
                "The same handler served alone (`serve main.handler --trigger "
                "api-gateway-rest`) is the single-function figure the goal compares with; "
                "HANDLERLENS_LEND=0 keeps its requests in the runner process, as routed ones "
                f"are. serverless-offline --reloadHandler: {reps.reload_requests} requests per "
                "run, each in a new Python process.",
            ],
        ),
        Figure(
            "app-throughput",
            f"Whole app: throughput, {reps.connections} keep-alive connections spread across "
            "all routes",
            "req/s",
            list(by["app-throughput"].values()),
            reference=SAM,
            higher_is_better=True,
            notes=[
                f"One sample per round ({reps.throughput_rounds} rounds, subjects interleaved "
                "round-robin, all of them up at once), after a warm-up for each: one request "
                "to every route, one at a time, then 1-s rounds until two "
                f"in a row are within {WARMUP_STEADY:.0%} of each other (at most "
                f"{WARMUP_ROUNDS}): serverless-offline starts one more Python process whenever "
                "a request finds all its function's processes busy, so its rate climbs while "
                "they are spawned. "
                "functions-framework: the runner figure's peer, its trivial handler "
                '(`def handler(request): return "v0000"`) alone on its default server '
                "(gunicorn, gthread); HandlerLens runs each function in its own worker "
                "process, one request at a time per instance: 20 workers on this machine's "
                "2 cores; served alone, its one worker is lent the connections (the runner "
                "process is off the request path), while a routed request passes through the "
                "runner process. " + generator
            ],
        ),
        Figure(
            "app-reload",
            "Whole app: save in one function → its new code served",
            "ms",
            list(by["app-reload"].values()),
            reference=SAM,
            notes=[
                f"{reps.saves} saves of fn0's module per run, each polled over keep-alive until "
                "the response has the new value. The HandlerLens rows count the other functions "
                "(all 19 share fn0's code root) that announced a reload after a save "
                "(`reloading` events), the most over all saves, and the processes under the "
                "runner before a run's saves that were gone after them (fn0's first worker is "
                "one; every other one gone is a warm worker lost). serverless-offline without "
                f"--reloadHandler: one save per run, given {OFFLINE_SAVE_LIMIT:.0f} s."
            ],
        ),
        Figure(
            "app-memory",
            f"Whole app: memory once each of the {FUNCTIONS} functions was called",
            "MiB",
            list(by["app-memory"].values()),
            reference=SAM,
            notes=[
                "RSS summed over the server process and every process under it (HandlerLens: "
                "the runner and its 20 workers; serverless-offline: node and its Python "
                "processes), after the first requests and the warm ones."
            ],
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    from bench import goals
    from bench.report import render_figure, render_goals

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions: harness check")
    args = parser.parse_args(argv)
    if not HANDLERLENS.exists():
        print(f"{HANDLERLENS} missing: run `make venv` first", file=sys.stderr)
        return 2
    # As in `make bench`: measured programs start from cached byte code (see bench/run.py).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="whole-app-") as tmp:
        figures = asyncio.run(whole_app_figures(Path(tmp), QUICK if args.quick else AppReps()))
    print(render_goals([g for g in goals.evaluate(figures) if g.issue == 17]))
    for figure in figures:
        print(render_figure(figure))
    return 0


if __name__ == "__main__":
    sys.exit(main())
