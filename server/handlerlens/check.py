"""`handlerlens check`: the editor's diagnostics for CI, as text, JSON or GitHub annotations."""

from __future__ import annotations

import gc
import json
import os
import sys
from typing import TextIO

from handlerlens.core.problems import Problem, Severity

_SEVERITY_NAME = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "info",
    Severity.HINT: "hint",
}
# GitHub workflow commands know error, warning and notice.
_GITHUB_LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
    Severity.HINT: "notice",
}


def collect(
    paths: list[str],
    platform: str | None,
    notes: list[str] | None = None,
    *,
    cache: bool = False,
    fork: bool = False,
) -> tuple[list[Problem], int]:
    """Problems under each path (a folder is a workspace; a file, its folder filtered to it);
    what discovery could not read (the walk's caps) is appended to `notes`. With `cache`,
    declaring files are read through the workspace's parse cache on disk (project.parse_cache);
    with `fork` (the `check` command: a one-off process with no threads), a big Terraform tree
    is read by a forked child on another core when there is no cache to start from."""
    from contextlib import ExitStack

    from handlerlens.engine.workspace import WorkspaceState
    from handlerlens.project import forked, parse_cache

    found: dict[tuple[str, int, int, str], Problem] = {}
    functions = 0
    for given in paths:
        target = os.path.abspath(given)
        root = target if os.path.isdir(target) else os.path.dirname(target)
        ws = WorkspaceState(root, platform_setting=platform)
        with ExitStack() as scope:
            if cache:
                scope.enter_context(parse_cache.using(root))
            scope.enter_context(forked.allowed(fork))
            ws.discover()
        if notes is not None:
            notes += [n for n in ws.model.notes if n not in notes]
        functions += len(ws.functions)
        # A single file: its own problems and those on the files that declare its handlers.
        wanted = {target} | {
            r.spec.declared_in
            for r in ws.reports
            if r.target and r.target.path == target and r.spec.declared_in
        }
        for path, problems in ws.problems_by_path().items():
            if target != root and path not in wanted:
                continue
            for p in problems:
                if p.echo:
                    continue  # counted and printed at the place it echoes
                found[(p.path, p.span.start.line, p.span.start.character, p.code)] = p
    ordered = sorted(found.values(), key=lambda p: (p.path, p.span.start, p.code))
    return ordered, functions


def _rel(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def text_line(p: Problem) -> str:
    """One problem as the text format shows it: `path:line:col: severity [code] message`
    (also what `serve` and `invoke` print for a declaring file that does not parse)."""
    line, col = p.span.start.line + 1, p.span.start.character + 1
    return f"{_rel(p.path)}:{line}:{col}: {_SEVERITY_NAME[p.severity]} [{p.code}] {p.message}"


def render(problems: list[Problem], functions: int, fmt: str, out: TextIO) -> None:
    """Write `problems` in `fmt` (text, json or github); lines and columns are 1-based."""
    if fmt == "json":
        rows = [
            {
                "path": _rel(p.path),
                "line": p.span.start.line + 1,
                "column": p.span.start.character + 1,
                "endLine": p.span.end.line + 1,
                "endColumn": p.span.end.character + 1,
                "severity": _SEVERITY_NAME[p.severity],
                "code": p.code,
                "message": p.message,
                "source": "handlerlens",
                # Where else the same mistake shows (the Python place of a misspelt entry
                # point, the first of two conflicting declarations…).
                "related": [
                    {
                        "path": _rel(path),
                        "line": span.start.line + 1,
                        "column": span.start.character + 1,
                        "message": note,
                    }
                    for path, span, note in p.related
                ],
            }
            for p in problems
        ]
        json.dump({"functions": functions, "problems": rows}, out, indent=2)
        out.write("\n")
        return
    for p in problems:
        line, col = p.span.start.line + 1, p.span.start.character + 1
        if fmt == "github":
            message = p.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            out.write(
                f"::{_GITHUB_LEVEL[p.severity]} file={_rel(p.path)},line={line},col={col},"
                f"endLine={p.span.end.line + 1},endColumn={p.span.end.character + 1},"
                f"title=handlerlens {p.code}::{message}\n"
            )
        else:
            out.write(text_line(p) + "\n")
    if fmt == "text":
        counts = {s: sum(1 for p in problems if p.severity == s) for s in Severity}
        summary = (
            f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
            f"{counts[Severity.INFO]} info in {functions} function(s)"
        )
        out.write(("\n" if problems else "") + summary + "\n")


def run_check(paths: list[str], fmt: str, platform: str | None, *, cache: bool = True) -> int:
    """Exit status: 0 clean (info allowed), 1 errors or warnings, 2 bad usage. `cache` False
    (`--no-cache`) parses every declaring file again and leaves the parse cache alone."""
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        sys.stderr.write(f"handlerlens check: no such file or directory: {', '.join(missing)}\n")
        return 2
    notes: list[str] = []
    # One pass whose objects (ASTs, parse trees, YAML nodes) are freed by reference counting:
    # the cyclic collector's passes over everything still alive, during the pass and again at
    # interpreter exit over what the caches keep, cost a fifth of the CPU of a big tree
    # (serverless-patterns: ~0.5 s of 2.6 s) and free next to nothing (the same peak memory
    # without them). Frozen, what the pass leaves is never traversed again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        problems, functions = collect(paths, platform, notes, cache=cache, fork=True)
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    render(problems, functions, fmt, sys.stdout)
    for note in notes:
        # Not a problem in a file, and not a failure: the folder is bigger than HandlerLens
        # reads, which the user must know rather than trust a partial pass.
        sys.stderr.write(f"handlerlens check: warning: {note}\n")
    if functions == 0 and not problems:
        # Not an error (a repository may hold no function yet), but never a silent pass.
        # (With problems, say a declaring file that does not parse, those explain it.)
        sys.stderr.write(
            f"handlerlens check: warning: no function found under {', '.join(paths)}: nothing "
            "declares one (pyproject.toml [tool.handlerlens], SAM/CloudFormation, Serverless, "
            "Terraform) and no top-level function is shaped like handler(event, context)\n"
        )
    failing = [p for p in problems if p.severity in (Severity.ERROR, Severity.WARNING)]
    return 1 if failing else 0
