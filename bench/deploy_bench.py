"""Figures of the deploy checks (issue #19): edit → diagnostics on the 2,000-line bench module,
`check` on a generated 500-function monorepo, and the language server's RSS on it.

    python -m bench.deploy_bench [--python PY] [--reps N] [--functions 500]
                                 [--only plain|edit|monorepo]

`plain` is lsp_bench's edit → diagnostics piece as it is (the module imports only json);
`edit` the same module with imports, env reads and a python3.9 runtime.

`--python` picks the interpreter whose HandlerLens is measured (default: this checkout's
.venv), so a checkout without the deploy checks gives the "before" figures.
`make bench` reports the same through `deploy_figures` (issue #19's goals in bench/goals.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.check_tree_bench import COLD, WARM, time_check
from bench.lsp_bench import _edit_series, _quiet
from bench.lsp_client import LspClient, LspError
from bench.lsp_document import Document
from bench.monorepo import generate
from bench.procs import VENV_PY, rss_mib
from bench.stats import Figure, Row, percentile
from bench.workload import (
    SIGNATURE,
    SIGNATURE_BROKEN,
    SYNTAX_BROKEN,
    SYNTAX_LINE,
    make_module,
    write_lsp_project,
)

TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Bench:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: main.handler
      Runtime: python3.9
      Environment:
        Variables:
          TABLE_NAME: bench
"""
# The bench module with what the deploy checks look at: imports (one not packaged, one
# removed from a newer runtime's stdlib) and environment reads (one undeclared). Runtime
# python3.9 so every edit also runs the older-grammar check.
HEAD = (
    "import os\nimport requests\nimport yaml\n"
    'T = os.environ["TABLE_NAME"]\nB = os.environ["BUCKET"]\n'
)


async def edit_figures(
    python: str, workdir: Path, reps: int, plain: bool = False
) -> dict[str, list[float]]:
    """Edit → diagnostics series; `plain`: lsp_bench's own workspace (the module as it is,
    a Yandex function in pyproject.toml), else the one above with imports and env reads."""
    module = make_module()
    root = workdir / ("plain" if plain else "edit")
    if plain:
        main = write_lsp_project(root, module)
        text, shift = module.text, 0
    else:
        root.mkdir(parents=True, exist_ok=True)
        (root / "template.yaml").write_text(TEMPLATE)
        (root / "requirements.txt").write_text("PyYAML\n")
        main = root / "main.py"
        text = HEAD + module.text
        main.write_text(text)
        shift = HEAD.count("\n")
    client = LspClient([python, "-m", "handlerlens", "lsp"], root, workdir / "edit-lsp.log")
    out: dict[str, list[float]] = {}
    try:
        await client.spawn()
        await client.initialize(root)
        doc = Document(client, main.as_uri(), text)
        doc.open()
        await client.wait_published(doc.uri, lambda d: True, 0, 90.0)
        await _quiet(client, 0.5, 5.0)
        syntax = await _edit_series(
            client, doc, module.syntax_line + shift, SYNTAX_LINE, SYNTAX_BROKEN, reps
        )
        signature = await _edit_series(
            client, doc, module.signature_line + shift, SIGNATURE, SIGNATURE_BROKEN, reps
        )
        out = {"syntax": syntax.samples, "signature": signature.samples}
    finally:
        await client.close()
    return out


EDIT_KEY, CHECK_KEY, RSS_KEY = "deploy-edit", "deploy-check", "deploy-rss"
WITH_CHECKS = "HandlerLens, deploy checks at work"
PLAIN = "HandlerLens, lsp_bench's module"
EDITS = {"syntax": "syntax-error edit", "signature": "handler-arity edit"}


def edit_subject(piece: str, edit: str) -> str:
    """The row name of one edit series: `piece` with / without the checks' inputs."""
    return f"{WITH_CHECKS if piece == 'edit' else PLAIN} ({EDITS[edit]})"


async def deploy_figures(
    workdir: Path, reps: int, check_runs: int, functions: int = 500
) -> list[Figure]:
    """`make bench`'s figures of issue #19: edit → diagnostics with the deploy checks at work
    (and the plain module beside it, same run), `check` on the generated monorepo (cold and
    warm parse cache) and the language server's RSS on it."""
    python = str(VENV_PY)
    edit_rows: list[Row] = []
    for piece in ("edit", "plain"):
        series: dict[str, list[float]] = {}
        error = "not measured: no diagnostics published for this edit"
        try:
            series = await edit_figures(python, workdir, reps, plain=piece == "plain")
        except (LspError, OSError) as exc:
            error = f"not measured: {exc}"
        for edit in EDITS:
            row = Row(edit_subject(piece, edit), series.get(edit, []))
            if not row.samples:
                row.missing = error
            edit_rows.append(row)
    edit_figure = Figure(
        EDIT_KEY,
        "Edit → diagnostics on the 2,000-line module with the deploy checks at work",
        "ms",
        edit_rows,
        reference=edit_subject("plain", "syntax"),
        notes=[
            "The deploy checks' module is lsp_bench's 2,000-line module under a SAM template "
            "(python3.9, so the older-grammar check parses every edit too) with `requests` "
            "(not packaged), `yaml` (PyYAML in requirements.txt) and two environment reads "
            "(one undeclared) on top; lsp_bench's module as it is, measured in the same run, "
            "beside it. `python -m bench.deploy_bench --only edit` prints the same."
        ],
    )
    root = workdir / "monorepo"
    generate(root, functions)
    check_rows = [Row(f"HandlerLens, {COLD}"), Row(f"HandlerLens, {WARM}")]
    try:
        timed = await asyncio.to_thread(time_check, root, check_runs, None)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
        for row in check_rows:
            row.missing = f"not measured: {exc}"
    else:
        for row, state in zip(check_rows, (COLD, WARM), strict=True):
            walls, cpus, found = timed[state]
            row.samples = walls
            row.note = f"CPU median {percentile(cpus, 50):.2f} s, {found} functions"
    check_figure = Figure(
        CHECK_KEY,
        f"`handlerlens check` on a generated monorepo of {functions} functions, wall time",
        "s",
        check_rows,
        reference=f"HandlerLens, {COLD}",
        notes=[
            f"bench/monorepo.py: one SAM template, {functions} code roots of 5 modules each "
            "(stdlib, boto3, a requirement, helper packages; every 10th imports a package it "
            "does not list), a fresh `check --format json` process per run, cold and warm "
            "parse cache interleaved (as bench/check_tree_bench.py)."
        ],
    )
    try:
        rss, hwm = await monorepo_rss(python, root, workdir)
        rss_row = Row("HandlerLens", [rss], note=f"peak (VmHWM) {hwm:.1f} MiB")
    except (LspError, OSError) as exc:
        rss_row = Row("HandlerLens", missing=f"not measured: {type(exc).__name__}: {exc}")
    rss_figure = Figure(
        RSS_KEY,
        f"Language server RSS with the monorepo of {functions} functions open (VmRSS)",
        "MiB",
        [rss_row],
        notes=["One reading, from /proc/PID/status once the server's first publishes settled."],
    )
    return [edit_figure, check_figure, rss_figure]


def check_seconds(python: str, root: Path, runs: int = 3) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [python, "-m", "handlerlens", "check", str(root)],
            capture_output=True,
            check=False,
            timeout=300,
        )
        times.append(time.perf_counter() - start)
    return times


async def monorepo_rss(python: str, root: Path, workdir: Path) -> tuple[float, float]:
    client = LspClient([python, "-m", "handlerlens", "lsp"], root, workdir / "mono-lsp.log")
    try:
        await client.spawn()
        await client.initialize(root)
        first = root / "functions" / "fn000" / "app.py"
        await client.wait_published(first.as_uri(), lambda d: True, 0, 120.0)
        await _quiet(client, 1.0, 30.0)
        return rss_mib(client.pid)
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=str(VENV_PY))
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--functions", type=int, default=500)
    parser.add_argument("--only", choices=("edit", "plain", "monorepo"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hl-deploy-bench-") as tmp:
        workdir = Path(tmp)
        for piece in ("plain", "edit"):
            if args.only not in (None, piece):
                continue
            series = asyncio.run(
                edit_figures(args.python, workdir, args.reps, plain=piece == "plain")
            )
            for name, samples in series.items():
                median = statistics.median(samples) if samples else float("nan")
                print(
                    f"edit -> diagnostics, {piece} module ({name}): median {median:.1f} ms, "
                    f"n={len(samples)}"
                )
        if args.only in (None, "monorepo"):
            root = workdir / "monorepo"
            generate(root, args.functions)
            times = check_seconds(args.python, root)
            print(
                f"check on {args.functions} functions: median {statistics.median(times):.2f} s "
                f"({', '.join(f'{t:.2f}' for t in times)})"
            )
            rss, hwm = asyncio.run(monorepo_rss(args.python, root, workdir))
            print(f"language server on it: RSS {rss:.0f} MiB (peak {hwm:.0f} MiB)")


if __name__ == "__main__":
    main()
