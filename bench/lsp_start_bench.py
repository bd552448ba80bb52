"""Issue #21: how soon a freshly started language server shows something (first diagnostics,
first lenses) after an editor opens a folder.

    .venv/bin/python -m bench.lsp_start_bench [--reps 10]

Each start is a new `.venv/bin/python -m handlerlens lsp` driven over stdio by the bench's
client (bench/lsp_client.py) as VS Code drives it: `initialize` with the folder, `initialized`,
then at once `didOpen` of one handler file and `textDocument/codeLens` for it; an empty answer
is asked again when the server sends `workspace/codeLens/refresh` (VS Code does the same).
Measured per start:

- spawn → `initialize` answered;
- `initialized` sent → the first publishDiagnostics for the opened file;
- spawn → the first publishDiagnostics holding a problem, any file (the moment VS Code's status
  bar problem count leaves 0);
- `didOpen` sent → a non-empty codeLens answer;
- once the folder is read (its first problem published): `didOpen` of a second handler file →
  its non-empty codeLens answer (a file opened later, the usual case).

Two folders (examples/ a second time as a first start after install, every module
compiled): a copy of examples/ (greeter/main.py opened: a Yandex function its main.tf
declares; orders/app.py later), and a generated one of 200 SAM functions (bench/monorepo.py)
plus a Terraform file declaring one more (functions/fn100/app.py opened, fn101/app.py later).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import monorepo
from bench.lsp_client import LspClient, LspError
from bench.procs import REPO, VENV_PY
from bench.stats import Figure, Row

EXAMPLES = "examples/ (greeter/main.py opened)"
GENERATED = "200 SAM functions + a Terraform file (fn100/app.py opened)"
EXAMPLES_COLD = "examples/, first start after install (no byte code cached)"
# Figure keys (bench/goals.py reads them).
INIT_KEY = "lsp-start-initialize"
DIAG_KEY = "lsp-start-diagnostics"
PROBLEM_KEY = "lsp-start-first-problem"
LENS_KEY = "lsp-start-lenses"
LATER_KEY = "lsp-start-lenses-later"
START_TIMEOUT_S = 60.0
LENS_REFRESH = "workspace/codeLens/refresh"

TERRAFORM = """resource "aws_lambda_function" "extra" {
  function_name = "extra"
  runtime       = "python3.12"
  handler       = "main.handler"
  filename      = "${path.module}/build/extra.zip"
  source_code_hash = filebase64sha256("${path.module}/build/extra.zip")
  role          = aws_iam_role.extra.arn
}

resource "aws_iam_role" "extra" {
  name               = "extra"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [] })
}

variable "stage" {
  type    = string
  default = "dev"
}
"""


@dataclass
class Workspace:
    """A folder to open, the file opened in it, and its row name."""

    name: str
    root: Path
    opened: Path
    later: Path
    # Start as a fresh install does (the VSIX ships no byte code): compile every module.
    cold: bool = False


@dataclass
class StartTimes:
    """One start's figures in ms (None: did not happen within the time limit)."""

    initialize: float
    diagnostics: float | None = None
    first_problem: float | None = None
    lenses: float | None = None
    lens_requests: int = 0
    later_lenses: float | None = None


class StartClient(LspClient):
    """The bench client, noting the server's own requests (codeLens/refresh) as they come."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Requests the server sent to the client, and when they arrived.
        self.server_requests: list[tuple[str, float]] = []
        self.refreshed = asyncio.Event()

    def _dispatch(self, message: dict[str, Any], arrived: float) -> None:
        if "id" in message and "method" in message:
            self.server_requests.append((message["method"], arrived))
            if message["method"] == LENS_REFRESH:
                self.refreshed.set()
        super()._dispatch(message, arrived)


def make_workspaces(workdir: Path) -> list[Workspace]:
    """examples/ copied under `workdir`, and the generated 200-function folder."""
    examples = workdir / "examples"
    if not examples.exists():
        shutil.copytree(REPO / "examples", examples)
    generated = workdir / "generated"
    if not generated.exists():
        monorepo.generate(generated, 200)
        infra = generated / "infra"
        infra.mkdir()
        (infra / "main.tf").write_text(TERRAFORM)
        (infra / "main.py").write_text(
            'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'
        )
    return [
        Workspace(
            EXAMPLES, examples, examples / "greeter" / "main.py", examples / "orders" / "app.py"
        ),
        Workspace(
            EXAMPLES_COLD,
            examples,
            examples / "greeter" / "main.py",
            examples / "orders" / "app.py",
            cold=True,
        ),
        Workspace(
            GENERATED,
            generated,
            generated / "functions" / "fn100" / "app.py",
            generated / "functions" / "fn101" / "app.py",
        ),
    ]


async def one_start(ws: Workspace, log: Path, argv: list[str] | None = None) -> StartTimes:
    """Start a server on `ws`, open its file, and time the first answers."""
    env = None
    pycache = None
    if ws.cold:
        pycache = tempfile.mkdtemp(prefix="handlerlens-pycache-")
        env = {**os.environ, "PYTHONPYCACHEPREFIX": pycache, "PYTHONDONTWRITEBYTECODE": "1"}
    client = StartClient(argv or [str(VENV_PY), "-m", "handlerlens", "lsp"], ws.root, log, env)
    try:
        await client.spawn()
        init = await client.initialize(ws.root)
        initialized = time.perf_counter()
        times = StartTimes(1000 * init)
        uri = ws.opened.as_uri()
        item = {"uri": uri, "languageId": "python", "version": 1, "text": ws.opened.read_text()}
        client.notify("textDocument/didOpen", {"textDocument": item})
        opened = time.perf_counter()
        diagnostics = asyncio.ensure_future(
            client.wait_published(uri, lambda d: True, 0, START_TIMEOUT_S)
        )
        problem = asyncio.ensure_future(_first_problem(client, START_TIMEOUT_S))
        times.lenses, times.lens_requests = await _lenses(client, uri, opened)
        got = await diagnostics
        if got is not None:
            times.diagnostics = 1000 * (got.at - initialized)
        at = await problem
        if at is not None:
            times.first_problem = 1000 * (at - client.spawned_at)
            later = ws.later.as_uri()
            item = {"uri": later, "languageId": "python", "version": 1}
            client.notify(
                "textDocument/didOpen", {"textDocument": {**item, "text": ws.later.read_text()}}
            )
            times.later_lenses = (await _lenses(client, later, time.perf_counter()))[0]
        return times
    finally:
        await client.close()
        if pycache is not None:
            shutil.rmtree(pycache, ignore_errors=True)


async def _first_problem(client: LspClient, timeout: float) -> float | None:
    """When the first publish holding a problem arrived (None: none within `timeout`)."""
    deadline = time.perf_counter() + timeout
    index = 0
    while time.perf_counter() < deadline:
        for item in client.published[index:]:
            if item.diagnostics:
                return item.at
        index = len(client.published)
        await asyncio.sleep(0.005)
    return None


async def _lenses(client: StartClient, uri: str, opened: float) -> tuple[float | None, int]:
    """didOpen → the first non-empty codeLens answer: asked at once, then again after each
    refresh the server sends (as VS Code does), until the time limit."""
    deadline = opened + START_TIMEOUT_S
    asked = 0
    while time.perf_counter() < deadline:
        client.refreshed.clear()
        asked += 1
        result, arrived = await client.request(
            "textDocument/codeLens", {"textDocument": {"uri": uri}}, START_TIMEOUT_S
        )
        if result:
            return 1000 * (arrived - opened), asked
        try:
            await asyncio.wait_for(
                client.refreshed.wait(), max(0.0, deadline - time.perf_counter())
            )
        except asyncio.TimeoutError:
            break
    return None, asked


async def start_figures(workdir: Path, reps: int, log: Any = None) -> list[Figure]:
    """The five figures, each with a row per folder; round 0 of each is a warm-up."""
    workdir.mkdir(parents=True, exist_ok=True)
    workspaces = make_workspaces(workdir)
    rows: dict[str, dict[str, Row]] = {
        key: {ws.name: Row(ws.name) for ws in workspaces}
        for key in (INIT_KEY, DIAG_KEY, PROBLEM_KEY, LENS_KEY, LATER_KEY)
    }
    refreshes: dict[str, list[int]] = {ws.name: [] for ws in workspaces}
    for round_ in range(reps + 1):
        for ws in workspaces:
            try:
                times = await one_start(ws, workdir / "lsp-start.log")
            except (LspError, OSError) as exc:
                for by_ws in rows.values():
                    by_ws[ws.name].missing = f"not measured: {exc}"
                continue
            if not round_:
                continue
            refreshes[ws.name].append(times.lens_requests)
            for key, value in (
                (INIT_KEY, times.initialize),
                (DIAG_KEY, times.diagnostics),
                (PROBLEM_KEY, times.first_problem),
                (LENS_KEY, times.lenses),
                (LATER_KEY, times.later_lenses),
            ):
                row = rows[key][ws.name]
                if value is None:
                    row.counts["timeouts"] = row.counts.get("timeouts", 0) + 1
                    row.note = f"{row.counts['timeouts']} start(s): none in {START_TIMEOUT_S:.0f} s"
                else:
                    row.samples.append(value)
        if log is not None and round_:
            log(f"  start round {round_}/{reps}")
    for ws in workspaces:
        asked = refreshes[ws.name]
        if asked:
            row = rows[LENS_KEY][ws.name]
            row.note = "; ".join(
                x for x in (row.note, f"codeLens requests per start: max {max(asked)}") if x
            )
    titles = {
        INIT_KEY: "Language server start: spawn → `initialize` answered",
        DIAG_KEY: "Language server start: `initialized` → first publishDiagnostics for the "
        "opened file",
        PROBLEM_KEY: "Language server start: spawn → first problem published (any file)",
        LENS_KEY: "Language server start: `didOpen` → non-empty codeLens answer",
        LATER_KEY: "Language server, folder read: `didOpen` of another handler file → "
        "non-empty codeLens answer",
    }
    figures = []
    for key, by_ws in rows.items():
        figure = Figure(key, titles[key], "ms", list(by_ws.values()), reference=EXAMPLES)
        figures.append(figure)
    figures[0].notes.append(
        "A new `.venv/bin/python -m handlerlens lsp` per start; `didOpen` and `codeLens` are "
        "sent right after `initialized` (the server is at its busiest), an empty lens answer "
        "is asked again on `workspace/codeLens/refresh`. Byte code cached (except in the "
        "first-start row: every module compiled, as from the VSIX, which ships no byte code; "
        "the HCL2 parse tables are there, as the VSIX ships them), one unrecorded warm-up "
        "start per folder. `python -m bench.lsp_start_bench` runs these alone."
    )
    return figures


def _print(figures: list[Figure]) -> None:
    from bench.report import render_figure

    for figure in figures:
        print(render_figure(figure))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lsp_start_bench")
    parser.add_argument("--reps", type=int, default=10, help="starts per folder (default 10)")
    args = parser.parse_args()
    # As `make bench` (bench/run.py): the servers start from cached byte code, as installed.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    workdir = Path(tempfile.mkdtemp(prefix="handlerlens-start-"))
    try:
        figures = asyncio.run(
            start_figures(workdir, args.reps, lambda line: print(line, file=sys.stderr))
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _print(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
