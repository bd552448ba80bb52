"""CPU time per request of `handlerlens serve` (supervisor and workers apart) under load.

Where the runner's throughput goes: each process's user and system time, from
/proc/PID/stat, around N requests on C keep-alive connections from this process (whose own
CPU time is the load generator's). Linux only; run from the repository root:

    .venv/bin/python -m bench.cpu_per_request [--requests 20000] [--connections 8]
        [--floor] [-- extra `handlerlens serve` arguments, e.g. --instances 2]

`--floor` measures bench/emulation_floor.py instead: the same HTTP front end and Yandex
emulation with the handler in the server's own process. Workers at 0 are standbys (ready for
the next reload). One run, to compare processes within it: repeat it for spread.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.http_client import Connection, wait_until_serving
from bench.procs import HANDLERLENS, REPO, VENV_PY, free_port
from bench.workload import platform_handler

_TICK = os.sysconf("SC_CLK_TCK")


def _times(pid: int) -> tuple[float, float]:
    """(user, system) seconds of `pid` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / _TICK, int(fields[12]) / _TICK


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


async def _drive(port: int, requests: int, connections: int) -> int:
    """`requests` GETs over `connections` keep-alive connections; how many were not 200."""
    failed = 0

    async def one_connection(count: int) -> None:
        nonlocal failed
        conn = Connection(port)
        try:
            for _ in range(count):
                status, _ = await conn.get("/")
                failed += status != 200
        finally:
            await conn.close()

    await asyncio.gather(*(one_connection(requests // connections) for _ in range(connections)))
    return failed


async def measure(requests: int, connections: int, floor: bool, extra: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "code"
        root.mkdir()
        (root / "main.py").write_text(platform_handler("v0000"))
        port = free_port()
        if floor:
            argv = [str(VENV_PY), str(REPO / "bench" / "emulation_floor.py"), str(root), str(port)]
        else:
            argv = [str(HANDLERLENS), "serve", "main.handler", "--root", str(root)]
            argv += ["--port", str(port), *extra]
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        with open(Path(tmp) / "server.log", "wb") as log:
            server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            alive = lambda: server.poll() is None  # noqa: E731
            if not await wait_until_serving(port, b"v0000", 60, alive):
                sys.exit("the server did not start")
            await _drive(port, min(2000, requests), connections)  # warm-up
            pids = {"supervisor" if not floor else "server": server.pid}
            for index, pid in enumerate(_children(server.pid)):
                pids[f"worker {index + 1}"] = pid
            before = {name: _times(pid) for name, pid in pids.items()}
            mine = time.process_time()
            started = time.perf_counter()
            failed = await _drive(port, requests, connections)
            elapsed = time.perf_counter() - started
            mine = time.process_time() - mine
            after = {name: _times(pid) for name, pid in pids.items()}
        finally:
            server.terminate()
            server.wait(10)
    done = requests // connections * connections
    print(f"{done / elapsed:,.0f} req/s over {connections} connections; {failed} not 200")
    for name in pids:
        user = (after[name][0] - before[name][0]) / done * 1e3
        system = (after[name][1] - before[name][1]) / done * 1e3
        total = user + system
        print(f"  {name:12s} {total:.3f} ms CPU/request (user {user:.3f}, sys {system:.3f})")
    print(f"  {'load gen':12s} {mine / done * 1e3:.3f} ms CPU/request (this process)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--floor", action="store_true", help="the one-process emulation floor")
    parser.add_argument("extra", nargs="*", help="more `handlerlens serve` arguments (after --)")
    args = parser.parse_args()
    asyncio.run(measure(args.requests, args.connections, args.floor, args.extra))


if __name__ == "__main__":
    main()
