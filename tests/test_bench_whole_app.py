"""The whole-app benchmark's own parts (bench/whole_app_bench.py, its goals, `bench.run --only`):
the generated app and its serverless.yml twin served for real, the wrk script over a real
server, the goals computed from a run's figures. The benchmark itself runs in `make bench`."""

from __future__ import annotations

import asyncio
import http.server
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import goals, run, whole_app_bench
from bench.http_client import Connection
from bench.procs import HANDLERLENS, REPO
from bench.stats import Figure, Row
from bench.whole_app_bench import (
    ALONE,
    FF,
    SAM,
    TWIN,
    UNLENT,
    WORKERS_BEFORE,
    WORKERS_ENDED,
    AppReps,
    Served,
    make_app,
)


async def _routes(root: Path) -> tuple[list[dict[str, object]], list[object], int, Served]:
    served = Served([str(HANDLERLENS), "serve", "--port", "0", "--status-json", "--no-watch"], root)
    await served.start({"listening", "routes"})
    event = next(e for e in served.events if e.get("event") == "routes")
    routes = event["routes"]
    problems = event["problems"]
    assert isinstance(routes, list) and isinstance(problems, list)
    return routes, problems, whole_app_bench._port(served), served


@pytest.mark.skipif(not HANDLERLENS.exists(), reason="needs the venv's handlerlens")
async def test_the_sam_app_and_its_serverless_twin_serve_the_same_routes(tmp_path: Path) -> None:
    tables = {}
    for kind in ("sam", "serverless"):
        app = make_app(tmp_path / kind, kind=kind)
        assert len(app.paths) == len(app.names) == 20
        routes, problems, port, served = await _routes(app.root)
        try:
            assert problems == []
            tables[kind] = sorted((r["method"], r["path"], r["kind"]) for r in routes)
            served_by = {str(r["path"]): r["served"] for r in routes}
            assert served_by["/fn0/items/{id}"] == app.names[0]
            conn = Connection(port, timeout=30)
            for path in (app.paths[0], app.paths[1]):  # a REST and an HTTP API route
                status, body = await conn.get(path)
                assert (status, body) == (200, b'{"id": "%s"}' % path.split("/")[-1].encode())
            await conn.close()
        finally:
            await served.stop()
    assert tables["sam"] == tables["serverless"]
    kinds = Counter(kind for _, _, kind in tables["sam"])
    assert len(kinds) == 2 and set(kinds.values()) == {10}, kinds  # REST and HTTP API, 10 each


class _Counting(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        with self.lock:
            self.seen[self.path] += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def counting_server() -> Iterator[int]:
    _Counting.seen = Counter()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("generator", ["wrk", "python"])
async def test_a_throughput_round_goes_round_every_route(
    tmp_path: Path, counting_server: int, generator: str
) -> None:
    wrk = await whole_app_bench.runner_bench._find_wrk() if generator == "wrk" else None
    if generator == "wrk" and wrk is None:
        pytest.skip("wrk is not installed")
    paths = [f"/fn{n}/items/{n}" for n in range(20)]
    script = whole_app_bench._wrk_script(tmp_path, paths)
    reps = AppReps(connections=4, throughput_seconds=1, throughput_requests=400)
    row = Row("counting")
    await whole_app_bench._rate_round(counting_server, paths, script, reps, wrk, row, 1)
    assert row.note == ""
    assert len(row.samples) == 1 and row.samples[0] > 0
    seen = dict(_Counting.seen)
    assert set(seen) == set(paths)
    # Spread evenly: every route within a few requests of the others.
    assert max(seen.values()) - min(seen.values()) <= 2 * reps.connections, seen


def _figure(key: str, rows: dict[str, list[float]], **counts: int) -> Figure:
    out = [Row(subject, samples) for subject, samples in rows.items()]
    out[0].counts.update(counts)
    out[1].counts.update(counts)
    unit = {"app-ready": "s", "app-throughput": "req/s"}.get(key, "ms")
    return Figure(key, key, unit, out, reference=SAM, higher_is_better=unit == "req/s")


def test_the_issue_17_goals_come_from_the_run_s_own_figures() -> None:
    figures = [
        _figure("app-ready", {SAM: [0.4, 0.5, 0.6], TWIN: [1.2, 1.3, 1.4]}),
        _figure("app-cold", {SAM: [90.0, 100.0], TWIN: [160.0, 170.0]}),
        _figure("app-warm-one", {SAM: [0.6], TWIN: [0.5], ALONE: [0.5], UNLENT: [0.75]}),
        _figure("app-warm", {SAM: [0.9], TWIN: [0.8], ALONE: [0.5], UNLENT: [0.75]}),
        _figure("app-throughput", {SAM: [6000.0], TWIN: [4000.0], FF: [1000.0]}),
        _figure("app-reload", {SAM: [50.0], TWIN: [60.0]}, **{"others reloaded (most)": 0}),
    ]
    figures[5].rows[1].counts["others reloaded (most)"] = 3
    figures[5].rows[0].counts.update({WORKERS_ENDED: 1, WORKERS_BEFORE: 20})
    found = [g for g in goals.evaluate(figures) if g.issue == 17]
    assert len(found) == 10
    sam, twin = found[:5], found[5:]
    assert all("(SAM app)" in g.text for g in sam)
    assert all("(serverless.yml twin)" in g.text for g in twin)
    assert [g.met for g in sam] == [True, True, True, True, True]
    # ready 1.3 s > 1.0 s; first request 165 ms > 150 ms; warm 1.0× ≤ 1.3×; 4× < 5×;
    # a save reloaded 3 others.
    assert [g.met for g in twin] == [False, False, True, False, False]
    assert sam[2].measured == "1.20× (0.6 ms vs 0.5 ms); alternating between two functions: 1.80×"
    assert sam[3].measured == "6.00× (6,000.0 req/s vs 1,000.0 req/s)"
    assert twin[0].measured == "median 1.3 s"
    assert "3 at most" in twin[4].measured
    assert sam[4].measured == (
        "median 50.0 ms; other functions reloaded by a save: 0 at most; worker processes ended "
        "by a run's saves: 1 of 20 (at most; fn0's own is 1)"
    )
    # No reload announced, yet a warm worker of another function gone: not met.
    figures[5].rows[0].counts[WORKERS_ENDED] = 2
    assert [g for g in goals.evaluate(figures) if g.issue == 17][4].met is False
    # Not measured (a subject missing): said so, never met.
    empty = [g for g in goals.evaluate([]) if g.issue == 17]
    assert len(empty) == 10 and all(g.met is None and g.measured == "—" for g in empty)


def test_only_runs_the_sections_it_names() -> None:
    assert run.section_slug("save → new code") == "save-new-code"
    assert run.section_slug("whole app") == "whole-app"
    slugs = [run.section_slug(name) for name in run.SECTIONS]
    assert len(set(slugs)) == len(slugs)
    ran: list[str] = []

    async def step(name: str) -> list[Figure]:
        ran.append(name)
        return []

    run._ONLY.add("whole-app")
    try:
        for name in ("deploy checks", "whole app"):
            asyncio.run(run._section(name, lambda n=name: step(n), []))  # type: ignore[misc]
    finally:
        run._ONLY.clear()
    assert ran == ["whole app"]


def test_only_names_a_section_that_exists() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--only", "whole-ap"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "invalid choice: 'whole-ap'" in done.stderr and "whole-app" in done.stderr
    assert done.stdout == ""


def test_sam_local_says_why_it_is_not_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert whole_app_bench.sam_local_missing().endswith("`docker` is not here")
    docker = tmp_path / "docker"  # a client without its daemon, as on this machine
    docker.write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon at x.sock.' >&2\nexit 1\n"
    )
    docker.chmod(0o755)
    said = whole_app_bench.sam_local_missing()
    assert "no Docker daemon (`docker version`: Cannot connect to the Docker daemon" in said


def test_serverless_offline_missing_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(whole_app_bench, "SLS_BIN", tmp_path / "sls")
    said = whole_app_bench.offline_missing()
    assert said == f"not measured: {tmp_path / 'sls'} missing (run scripts/bench-setup.sh)"
