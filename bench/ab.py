"""This checkout against an earlier commit, in the same run: the runner and server figures
`make bench` reports, measured for both, interleaved so the machine's noise falls on both alike.

    python -m bench.ab BASE [--runs N] [--out FILE]

BASE is a commit of this repository. Its tree is exported (`git archive`) into
~/.cache/handlerlens/ab/<commit> with a virtualenv of its own (`pip install -e .`), reused on the
next run. Figures, each as median and p95 per subject and the ratio this ÷ base:
- warm invoke latency over keep-alive (`serve main.handler`, both runners up at once,
  requests alternating between them);
- throughput over 8 keep-alive connections (wrk when on PATH, rounds alternating);
- save → first response with the new code (saves alternating between the two runners);
- `handlerlens invoke` wall time (runs alternating);
- language server spawn → `initialize`, and edit → diagnostics on the 2,000-line module
  (sessions alternating).
A row worse than the base by more than 5% (median) is marked. Issues #16 and #18 ask for this:
"no runner or server figure worse by more than 5%" in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from bench.deploy_bench import edit_figures
from bench.http_client import Connection
from bench.lsp_client import LspClient, LspError
from bench.procs import (
    BYTECODE,
    REPO,
    VENV_PY,
    Service,
    free_port,
    pause_before_save,
    wall_time,
)
from bench.runner_bench import (
    HttpSubject,
    RunnerReps,
    _find_wrk,
    _poll_for,
    _start,
    _throughput,
    _timed_get,
    platform_handler,
)
from bench.stats import Row, percentile
from bench.workload import make_module, write_lsp_project

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "handlerlens" / "ab"
WORSE = 1.05  # "worse by more than 5%"


def resolve(commit: str) -> str:
    """The full hash of `commit` in this repository."""
    done = subprocess.run(
        ["git", "rev-parse", "--verify", f"{commit}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench.ab: {commit!r} is not a commit here: {done.stderr.strip()}")
    return done.stdout.strip()


def prepare(commit: str) -> Path:
    """The base commit's tree with its own virtualenv; built once, then reused."""
    home = CACHE / commit
    python = home / ".venv" / "bin" / "python"
    ready = home / ".ready"
    if ready.exists() and python.exists():
        return python
    tree = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=REPO, capture_output=True, check=True
    ).stdout
    home.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=BytesIO(tree)) as archive:
        archive.extractall(home, filter="data")
    print(f"bench.ab: installing {commit[:10]} into {home}/.venv …", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(home / ".venv")], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-e", str(home)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    ready.write_text(commit + "\n")
    return python


class Subjects:
    """The two HandlerLens installs: this checkout and the base."""

    def __init__(self, base_python: Path, base_name: str) -> None:
        self.pythons = {"this checkout": VENV_PY, base_name: base_python}

    def names(self) -> list[str]:
        return list(self.pythons)

    def cli(self, name: str) -> str:
        return str(self.pythons[name].parent / "handlerlens")


def _servers(subjects: Subjects, workdir: Path, tag: str) -> list[HttpSubject]:
    out = []
    for index, name in enumerate(subjects.names()):
        root = workdir / tag / str(index) / "code"
        root.mkdir(parents=True, exist_ok=True)
        (root / "main.py").write_text(platform_handler("v0000"))
        port = free_port()
        argv = [subjects.cli(name), "serve", "main.handler", "--root", str(root)]
        argv += ["--port", str(port)]
        service = Service(argv, root, root.parent / "server.log")
        out.append(HttpSubject(name, root, port, service, platform_handler))
    return out


async def latency_and_throughput(subjects: Subjects, workdir: Path, runs: int) -> list[Row]:
    """Keep-alive latency (requests alternating) and throughput (rounds alternating)."""
    servers = _servers(subjects, workdir, "latency")
    keep = {s.name: Row(s.name) for s in servers}
    rate = {s.name: Row(s.name) for s in servers}
    try:
        for server in servers:
            await _start(server)
            if server.missing:
                raise SystemExit(f"bench.ab: {server.name}: {server.missing}")
        conns = {s.name: Connection(s.port) for s in servers}
        for _ in range(50):
            for s in servers:
                await _timed_get(conns[s.name], keep[s.name], close=False, record=False)
        for _ in range(300 * runs):
            for s in servers:
                await _timed_get(conns[s.name], keep[s.name], close=False)
        for conn in conns.values():
            await conn.close()
        reps = RunnerReps(throughput_rounds=3 * runs)
        await _throughput(servers, rate, reps, await _find_wrk())
    finally:
        for server in servers:
            await server.service.stop()
    return [*keep.values(), *rate.values()]


async def reload(subjects: Subjects, workdir: Path, runs: int) -> list[Row]:
    """Save → first response with the new code, saves alternating between the runners."""
    servers = _servers(subjects, workdir, "reload")
    rows = {s.name: Row(s.name) for s in servers}
    try:
        for server in servers:
            await _start(server)
        for rep in range(1, 10 * runs + 1):
            for server in servers:
                value = f"v{rep:04d}"
                await pause_before_save()
                started = time.perf_counter()
                (server.root / "main.py").write_text(platform_handler(value))
                seen = await _poll_for(server, value.encode(), started + 5.0)
                if seen is None:
                    rows[server.name].note = "a save was not served within 5 s"
                else:
                    rows[server.name].samples.append(1000 * (seen - started))
    finally:
        for server in servers:
            await server.service.stop()
    return list(rows.values())


def invoke(subjects: Subjects, workdir: Path, runs: int) -> list[Row]:
    """`handlerlens invoke` wall time, runs alternating."""
    root = workdir / "invoke"
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.py").write_text(platform_handler("v0000"))
    (root / "event.json").write_text('{"hello": "world"}\n')
    rows = {name: Row(name) for name in subjects.names()}
    argv = {n: [subjects.cli(n), "invoke", "main.handler", "--event", "event.json"] for n in rows}
    for name in rows:  # warm the page cache and __pycache__
        wall_time(argv[name], root)
    for _ in range(10 * runs):
        for name, row in rows.items():
            row.samples.append(1000 * wall_time(argv[name], root))
    return list(rows.values())


async def language_server(subjects: Subjects, workdir: Path, runs: int) -> list[Row]:
    """Spawn → initialize (sessions alternating), then edit → diagnostics per subject."""
    module = make_module()
    spawn = {name: Row(name) for name in subjects.names()}
    for round_ in range(5 * runs + 1):
        for name, row in spawn.items():
            root = workdir / "spawn" / str(list(spawn).index(name))
            if not root.exists():
                write_lsp_project(root, module)
            client = LspClient(
                [str(subjects.pythons[name]), "-m", "handlerlens", "lsp"],
                root,
                root.parent / f"{root.name}.log",
            )
            try:
                await client.spawn()
                took = await client.initialize(root)
                if round_:
                    row.samples.append(1000 * took)
            except (LspError, OSError) as exc:
                row.note = f"failed: {exc}"
            finally:
                await client.close()
    edits = {name: Row(name) for name in subjects.names()}
    for round_ in range(runs):
        for index, (name, row) in enumerate(edits.items()):
            where = workdir / "edit" / f"{round_}-{index}"
            where.mkdir(parents=True)
            series = await edit_figures(str(subjects.pythons[name]), where, 10, plain=True)
            for samples in series.values():
                row.samples.extend(samples)
    return [*spawn.values(), *edits.values()]


FIGURES = (
    ("warm invoke latency, keep-alive", "ms", False),
    ("throughput, 8 keep-alive connections", "req/s", True),
    ("save → first response with the new code", "ms", False),
    ("`handlerlens invoke` wall time", "ms", False),
    ("language server: spawn → initialize", "ms", False),
    ("edit → diagnostics, 2,000-line module (both edits)", "ms", False),
)


def _table(title: str, unit: str, higher: bool, rows: list[Row], base: str) -> list[str]:
    this, before = rows
    tail_name = "p5 (slow tail)" if higher else "p95"
    lines = [
        f"### {title}",
        "",
        f"| subject | median ({unit}) | {tail_name} ({unit}) | n | notes |",
    ]
    lines.append("|---|---:|---:|---:|---|")
    for row in rows:
        tail = percentile(row.samples, 5 if higher else 95) if row.samples else float("nan")
        median = row.median if row.median is not None else float("nan")
        lines.append(
            f"| {row.subject} | {median:,.2f} | {tail:,.2f} | {len(row.samples)} | {row.note} |"
        )
    if this.median and before.median:
        ratio = this.median / before.median
        worse = (1 / ratio if higher else ratio) > WORSE
        verdict = "**worse by more than 5%**" if worse else "within 5% or better"
        lines += ["", f"this ÷ {base}: **{ratio:.3f}×** — {verdict}"]
    return [*lines, ""]


PIECES = ("runner", "reload", "invoke", "lsp")


async def _measure(
    subjects: Subjects, workdir: Path, runs: int, only: str | None
) -> list[tuple[tuple[str, str, bool], list[Row]]]:
    rows: list[Row] = []
    figures = []
    if only in (None, "runner"):
        print("bench.ab: latency and throughput …", file=sys.stderr)
        rows += await latency_and_throughput(subjects, workdir, runs)
        figures += FIGURES[0:2]
    if only in (None, "reload"):
        print("bench.ab: save → new code …", file=sys.stderr)
        rows += await reload(subjects, workdir, runs)
        figures += FIGURES[2:3]
    if only in (None, "invoke"):
        print("bench.ab: invoke …", file=sys.stderr)
        rows += invoke(subjects, workdir, runs)
        figures += FIGURES[3:4]
    if only in (None, "lsp"):
        print("bench.ab: language server …", file=sys.stderr)
        rows += await language_server(subjects, workdir, runs)
        figures += FIGURES[4:6]
    grouped = [rows[i : i + 2] for i in range(0, len(rows), 2)]
    return list(zip(figures, grouped, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("base", help="the commit to compare this checkout against")
    parser.add_argument("--runs", type=int, default=2, help="repetition multiplier (default 2)")
    parser.add_argument("--out", help="also write the report to this file")
    parser.add_argument("--only", choices=PIECES, help="measure one piece only")
    args = parser.parse_args()
    BYTECODE.cache()  # both installs, as `make bench` measures
    commit = resolve(args.base)
    head = resolve("HEAD")
    base_python = prepare(commit)
    base_name = f"base {commit[:7]}"
    subjects = Subjects(base_python, base_name)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="handlerlens-ab-") as tmp:
        measured = asyncio.run(_measure(subjects, Path(tmp), args.runs, args.only))
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    lines = [
        f"## This checkout ({head[:7]}{', with uncommitted changes' if dirty else ''}) ÷ "
        f"{commit[:7]}, same run",
        "",
        f"- `python -m bench.ab {args.base} --runs {args.runs}"
        f"{' --only ' + args.only if args.only else ''}`, "
        f"{time.perf_counter() - started:.0f} s; load average {load} at the start, "
        f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])} at the end",
        *([BYTECODE.note] if BYTECODE.note else []),
        "",
    ]
    for (title, unit, higher), rows in measured:
        lines += _table(title, unit, higher, rows, base_name)
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
