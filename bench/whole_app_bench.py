"""Whole app: `handlerlens serve` on a generated SAM app of 20 functions behind their routes.

Figures (medians; each run in a fresh temporary folder):
- serve ready: from the command's start until it has printed its route table (the `routes`
  event of `--status-json`) and said it listens — the port accepts from then on;
- first request to a function not started yet (each function starts on its first request):
  one GET per function, on a fresh connection, to a route of each of the 20;
- warm routed request over keep-alive (REST and HTTP API routes with a path parameter)
  against the same handler served alone (`serve main.handler`, one function: the runner then
  lends its connections to the worker, its fastest path);
- the runner's memory (its own process and every worker, RSS) once each function was called;
- a save of one function's module: ms until a request gets its new code, and how many of the
  19 other functions (which share its code root) were reloaded by it.

Run alone: `.venv/bin/python -m bench.whole_app_bench [--runs N] [--requests N]`. Not part of
`make bench` yet. `sam local start-api` needs Docker, which is not here; serverless-offline is
not measured by this piece.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.http_client import Connection
from bench.procs import HANDLERLENS, free_port, rss_mib

FUNCTIONS = 20
HANDLER = """\
import json


def handler(event, context):
    params = event.get("pathParameters") or {}
    return {"statusCode": 200, "body": json.dumps({"id": params.get("id")})}
"""


def make_app(folder: Path, functions: int = FUNCTIONS) -> list[str]:
    """A SAM app: half the functions behind REST routes, half behind HTTP API routes, each
    with a path parameter, each in its own module of one code root (`CodeUri: src/`).
    Returns one request path per function."""
    (folder / "src").mkdir(parents=True)
    resources = []
    paths = []
    for index in range(functions):
        kind = "Api" if index % 2 == 0 else "HttpApi"
        base = f"/fn{index}"
        (folder / "src" / f"fn{index}.py").write_text(HANDLER)
        resources.append(
            f"  Fn{index}:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties:\n"
            f"      Handler: fn{index}.handler\n"
            "      Events:\n"
            "        Get:\n"
            f"          Type: {kind}\n"
            "          Properties:\n"
            f"            Path: {base}/items/{{id}}\n"
            "            Method: get\n"
        )
        paths.append(f"{base}/items/{index}")
    (folder / "template.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Transform: AWS::Serverless-2016-10-31\n"
        "Globals:\n  Function:\n    Runtime: python3.11\n    CodeUri: src/\n"
        "Resources:\n" + "".join(resources)
    )
    return paths


class Served:
    """A `handlerlens serve` process with its status events."""

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
        asyncio.get_running_loop().create_task(self._drain())
        return took

    async def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while await self.proc.stdout.readline():
            pass

    def memory_mib(self) -> float:
        """RSS of the runner and its workers."""
        assert self.proc is not None
        pids = [self.proc.pid, *_children(self.proc.pid)]
        return sum(rss_mib(pid)[0] for pid in pids)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 15)


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry.name))
    return found


async def _timed_get(conn: Connection, path: str, close: bool = False) -> float:
    began = time.perf_counter()
    status, body = await conn.get(path, close=close)
    took = (time.perf_counter() - began) * 1000.0
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
    return took


SAVES = 5


async def _save_and_wait(conn: Connection, module: Path, path: str, version: int) -> float:
    """Save a new version of one function's module; ms until a request gets the new code."""
    marker = f'"v{version}"'
    module.write_text(HANDLER.replace('{"id"', '{"v": ' + marker + ', "id"'))
    began = time.perf_counter()
    deadline = began + 10
    while time.perf_counter() < deadline:
        status, body = await conn.get(path)
        if status == 200 and marker.encode() in body:
            return (time.perf_counter() - began) * 1000.0
        await asyncio.sleep(0.002)
    raise RuntimeError(f"the new code of {module.name} was not served within 10 s")


async def whole_app(runs: int, requests: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {
        "ready_s": [],
        "cold_ms": [],
        "warm_routed_ms": [],
        "memory_mib": [],
        "save_ms": [],
        "others_reloaded": [],
    }
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="whole-app-") as tmp:
            root = Path(tmp) / "app"
            root.mkdir()
            paths = make_app(root)
            port = free_port()
            served = Served(
                [str(HANDLERLENS), "serve", "--port", str(port), "--status-json"],
                root,
            )
            try:
                samples["ready_s"].append(await served.start({"listening", "routes"}))
                for path in paths:
                    conn = Connection(port, timeout=30)
                    samples["cold_ms"].append(await _timed_get(conn, path, close=True))
                conn = Connection(port, timeout=30)
                for index in range(requests):
                    path = paths[index % 2]  # one REST, one HTTP API route, both warm
                    samples["warm_routed_ms"].append(await _timed_get(conn, path))
                samples["memory_mib"].append(served.memory_mib())
                for save in range(1, SAVES + 1):
                    mark = len(served.events)
                    took = await _save_and_wait(conn, root / "src" / "fn0.py", paths[0], save)
                    samples["save_ms"].append(took)
                    others = {
                        e.get("function")
                        for e in served.events[mark:]
                        if e.get("event") == "reloading" and e.get("function") != "Fn0"
                    }
                    samples["others_reloaded"].append(float(len(others)))
                await conn.close()
            finally:
                await served.stop()
    return samples


async def single_function(requests: int, lend: bool = True) -> list[float]:
    """Warm latency of the same handler served alone (`serve main.handler`); without `lend`,
    every request goes through the runner process, as a routed one does."""
    with tempfile.TemporaryDirectory(prefix="single-") as tmp:
        root = Path(tmp)
        (root / "main.py").write_text(HANDLER)
        port = free_port()
        served = Served(
            [
                str(HANDLERLENS),
                "serve",
                "main.handler",
                "--platform",
                "aws",
                "--trigger",
                "api-gateway-rest",
                "--port",
                str(port),
                "--status-json",
                "--no-watch",
            ],
            root,
            {**os.environ, "HANDLERLENS_LEND": "1" if lend else "0"},
        )
        try:
            await served.start({"listening"})
            conn = Connection(port, timeout=30)
            await _timed_get(conn, "/items/1")
            found = [await _timed_get(conn, "/items/1") for _ in range(requests)]
            await conn.close()
            return found
        finally:
            await served.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh serve runs (default 5)")
    parser.add_argument(
        "--requests", type=int, default=300, help="warm requests per run (default 300)"
    )
    args = parser.parse_args(argv)
    if not HANDLERLENS.exists():
        print(f"{HANDLERLENS} missing: run `make venv` first", file=sys.stderr)
        return 2
    app = asyncio.run(whole_app(args.runs, args.requests))
    alone = statistics.median(asyncio.run(single_function(args.requests)))
    unlent = statistics.median(asyncio.run(single_function(args.requests, lend=False)))
    warm = statistics.median(app["warm_routed_ms"])
    rows = [
        ("serve ready (routes printed, port accepting)", statistics.median(app["ready_s"]), "s"),
        ("first request to a function not started yet", statistics.median(app["cold_ms"]), "ms"),
        ("warm routed request, keep-alive", warm, "ms"),
        ("warm request, the same handler served alone", alone, "ms"),
        ("  the same, HANDLERLENS_LEND=0 (in the runner process)", unlent, "ms"),
        ("routed / alone", warm / alone, "x"),
        ("routed / alone with HANDLERLENS_LEND=0", warm / unlent, "x"),
        (
            "runner + workers RSS, 20 functions called once",
            statistics.median(app["memory_mib"]),
            "MiB",
        ),
        ("save in one function → its new code served", statistics.median(app["save_ms"]), "ms"),
        ("other functions reloaded by those saves (most)", max(app["others_reloaded"]), ""),
    ]
    print(f"Whole app: {FUNCTIONS} functions (SAM, REST and HTTP API routes), {args.runs} runs")
    for label, value, unit in rows:
        print(f"  {label:<52} {value:8.3f} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
