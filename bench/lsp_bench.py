"""Language-server figures: spawn → initialize, start → first diagnostics and lenses (issue
#21, bench/lsp_start_bench.py), edit → diagnostics, completion, RSS.

Each server gets the same workspace (the generated 2,000-line module, declared as a Yandex
function in pyproject.toml), the same client, the same edits at the same positions.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.lsp_client import LspClient, LspError, diagnostic_key
from bench.lsp_document import Document
from bench.lsp_start_bench import start_figures
from bench.procs import VENV_PY, Budget, Subject, language_servers, rss_mib, wall_time
from bench.pure_completion import pure_rows
from bench.stats import Figure, Row
from bench.workload import (
    SIGNATURE,
    SIGNATURE_BROKEN,
    SYNTAX_BROKEN,
    SYNTAX_LINE,
    Module,
    make_module,
    write_lsp_project,
)

FLOOR_PYGLS = "floor: python -c 'import pygls.lsp.server'"
FIRST_PUBLISH_TIMEOUT = 90.0  # pyright's first check of the module takes seconds
EDIT_TIMEOUT = 30.0
# A server taking seconds per edit (pyright on a loaded machine) stops after this long, with
# at least MIN_EDITS samples, so `make bench` stays within its 15 minutes.
EDIT_SERIES_CAP_S = 40.0
MIN_EDITS = 8
SETTLE_S = 0.05
TYPING_GAP_S = 0.1  # between keystrokes in the "after an edit" series
# HandlerLens validates 20 ms after the last keystroke; a completion sent 40 ms after an
# edit therefore meets validation in progress on the analysis thread.
DURING_VALIDATION_DELAY_S = 0.04


@dataclass(frozen=True)
class LspReps:
    """Repetitions per figure."""

    spawn: int = 15
    start: int = 8  # language server starts per folder (bench/lsp_start_bench.py)
    edit: int = 20
    warm: int = 60
    after_edit: int = 40


@dataclass(frozen=True)
class CompletionSite:
    """A place where the user types, and what a useful answer contains."""

    label: str
    text: str  # the whole line being typed
    expected: str  # a label a useful answer includes


SITES = (
    CompletionSite("context.", "    x = context.", "get_remaining_time_in_millis"),
    CompletionSite("event['", "    y = event['", "httpMethod"),
)


@dataclass
class SessionResult:
    """Everything one long session with one server measured."""

    subject: str
    edits: dict[str, Row] = field(default_factory=dict)
    completions: dict[str, Row] = field(default_factory=dict)
    rss: tuple[float, float] | None = None
    error: str = ""


# -- spawn → initialize ----------------------------------------------------------------------


async def spawn_figure(workdir: Path, module: Module, reps: int) -> Figure:
    """Spawn → initialize response per server, interleaved round-robin with the floor."""
    servers = language_servers()
    rows = {s.name: Row(s.name, missing=s.missing) for s in servers}
    floor = Row(FLOOR_PYGLS)
    roots = {s.name: workdir / "spawn" / _slug(s.name) for s in servers}
    for root in roots.values():
        write_lsp_project(root, module)
    # Round 0 warms the page cache and the byte-code caches; it is not recorded.
    for round_ in range(reps + 1):
        try:
            took = wall_time([str(VENV_PY), "-c", "import pygls.lsp.server"], workdir)
            if round_:
                floor.samples.append(1000 * took)
        except (RuntimeError, OSError) as exc:
            floor.missing = f"not measured: {exc}"
        for server in servers:
            row = rows[server.name]
            if row.missing:
                continue
            client = LspClient(
                server.argv, roots[server.name], workdir / f"{_slug(server.name)}.log"
            )
            try:
                await client.spawn()
                took = await client.initialize(roots[server.name])
                if round_:
                    row.samples.append(1000 * took)
            except (LspError, OSError) as exc:
                row.missing = f"not measured: {exc}"
            finally:
                await client.close()
    figure = Figure(
        "lsp-spawn",
        "Language server: spawn → `initialize` response",
        "ms",
        [*rows.values(), floor],
    )
    figure.notes.append(
        "The floor is the wall time of `.venv/bin/python -c 'import pygls.lsp.server'` "
        "(spawn to exit); HandlerLens is `.venv/bin/python -m handlerlens lsp`."
    )
    return figure


# -- one long session per server ---------------------------------------------------------------


async def session(subject: Subject, workdir: Path, module: Module, reps: LspReps) -> SessionResult:
    """Open the module, then edits → diagnostics, completions, and RSS at the end."""
    result = SessionResult(subject.name)
    if subject.missing:
        result.error = subject.missing
        return result
    root = workdir / "session" / _slug(subject.name)
    main = write_lsp_project(root, module)
    client = LspClient(subject.argv, root, workdir / f"{_slug(subject.name)}-session.log")
    try:
        await client.spawn()
        await client.initialize(root)
        doc = Document(client, main.as_uri(), module.text)
        doc.open()
        await client.wait_published(doc.uri, lambda d: True, 0, FIRST_PUBLISH_TIMEOUT)
        await _quiet(client, 0.5, 5.0)
        result.edits["syntax"] = await _edit_series(
            client, doc, module.syntax_line, SYNTAX_LINE, SYNTAX_BROKEN, reps.edit
        )
        result.edits["signature"] = await _edit_series(
            client, doc, module.signature_line, SIGNATURE, SIGNATURE_BROKEN, reps.edit
        )
        if client.capabilities.get("completionProvider") is None:
            for site in SITES:
                for series in ("warm", "after", "during"):
                    result.completions[f"{site.label}/{series}"] = Row(
                        subject.name, missing="not measured: completion not wired"
                    )
        else:
            for site in SITES:
                rows = await _completion_series(
                    client, doc, module.marker_line, site, reps, subject.name == "HandlerLens"
                )
                for series, row in rows.items():
                    result.completions[f"{site.label}/{series}"] = row
        result.rss = rss_mib(client.pid)
    except (LspError, OSError) as exc:
        result.error = f"not measured: {exc}"
    finally:
        await client.close()
    return result


async def _quiet(client: LspClient, quiet: float, limit: float) -> None:
    """Wait until no diagnostics arrived for `quiet` seconds (at most `limit`)."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        seen = len(client.published)
        await asyncio.sleep(quiet)
        if len(client.published) == seen:
            return


def _latest_key(client: LspClient, uri: str) -> frozenset[tuple[Any, ...]]:
    for item in reversed(client.published):
        if item.uri == uri:
            return diagnostic_key(item.diagnostics)
    return frozenset()


async def _edit_series(
    client: LspClient, doc: Document, line: int, good: str, bad: str, reps: int
) -> Row:
    """Toggle `line` between `good` and `bad`; time didChange → the new diagnostics."""
    row = Row(client.argv[0])
    good_key = _latest_key(client, doc.uri)

    async def toggle(text: str, accept: Callable[[list[dict[str, Any]]], bool]) -> float | None:
        seen = len(client.published)
        started = time.perf_counter()
        doc.set_line(line, text)
        published = await client.wait_published(doc.uri, accept, seen, EDIT_TIMEOUT)
        await asyncio.sleep(SETTLE_S)
        return None if published is None else published.at - started

    # Learn what this server publishes for the broken line, twice, unmeasured.
    seen = len(client.published)
    doc.set_line(line, bad)
    first = await client.wait_published(doc.uri, lambda d: True, seen, EDIT_TIMEOUT)
    if first is not None and diagnostic_key(first.diagnostics) == good_key:
        # Servers that publish on every change answered with the same set: give a late,
        # different publish a moment, then call the edit invisible to this server.
        first = await client.wait_published(
            doc.uri, lambda d: diagnostic_key(d) != good_key, seen, 2.0
        )
    if first is None:
        doc.set_line(line, good)
        await _quiet(client, 0.5, 5.0)
        row.missing = "n/a: this edit does not change its diagnostics"
        return row
    bad_key = diagnostic_key(first.diagnostics)
    await _quiet(client, 0.3, 5.0)

    def is_good(d: list[dict[str, Any]]) -> bool:
        return diagnostic_key(d) == good_key

    def is_bad(d: list[dict[str, Any]]) -> bool:
        return diagnostic_key(d) == bad_key

    await toggle(good, is_good)
    timeouts = 0
    cap = time.perf_counter() + EDIT_SERIES_CAP_S
    done = 0
    for rep in range(reps):
        if rep >= MIN_EDITS and time.perf_counter() > cap:
            break
        done += 1
        elapsed = await toggle(*((bad, is_bad) if rep % 2 == 0 else (good, is_good)))
        if elapsed is None:
            timeouts += 1
        else:
            row.samples.append(1000 * elapsed)
    if doc.lines[line] != good:
        await toggle(good, is_good)
    await _quiet(client, 0.3, 5.0)
    notes = []
    if done < reps:
        notes.append(f"n limited by the {EDIT_SERIES_CAP_S:.0f} s cap per series")
    if timeouts:
        notes.append(f"{timeouts} of {done} edits: no matching publish in {EDIT_TIMEOUT:.0f} s")
    row.note = "; ".join(notes)
    return row


def _items(result: Any) -> list[dict[str, Any]]:
    if isinstance(result, dict):
        return list(result.get("items") or [])
    return list(result or [])


async def _completion_series(
    client: LspClient,
    doc: Document,
    marker_line: int,
    site: CompletionSite,
    reps: LspReps,
    during_validation: bool,
) -> dict[str, Row]:
    """Warm completions at `site`, then completions sent right behind an edit."""
    doc.insert_line_after(marker_line, site.text)
    line = marker_line + 1
    await _quiet(client, 0.3, 5.0)
    provider = client.capabilities.get("completionProvider") or {}
    trigger = site.text[-1]
    context: dict[str, Any] = {"triggerKind": 1}
    if trigger in (provider.get("triggerCharacters") or []):
        context = {"triggerKind": 2, "triggerCharacter": trigger}
    params = {
        "textDocument": {"uri": doc.uri},
        "position": {"line": line, "character": len(site.text)},
        "context": context,
    }

    async def once() -> tuple[float, list[dict[str, Any]]]:
        started = time.perf_counter()
        result, arrived = await client.request("textDocument/completion", params, 30)
        return 1000 * (arrived - started), _items(result)

    _, items = await once()  # the first request fills the servers' caches
    has = any(str(i.get("label", "")).startswith(site.expected) for i in items)
    note = f"{len(items)} items; `{site.expected}` {'offered' if has else 'not offered'}"
    rows = {"warm": Row(client.argv[0], note=note), "after": Row(client.argv[0], note=note)}
    for _ in range(reps.warm):
        rows["warm"].samples.append((await once())[0])
    original = doc.lines[marker_line]
    for _ in range(reps.after_edit):
        doc.type_at_end(marker_line, "x")
        rows["after"].samples.append((await once())[0])
        await asyncio.sleep(TYPING_GAP_S)
    if during_validation:
        rows["during"] = Row(client.argv[0], note=note)
        for _ in range(reps.after_edit):
            doc.type_at_end(marker_line, "y")
            await asyncio.sleep(DURING_VALIDATION_DELAY_S)
            rows["during"].samples.append((await once())[0])
            await asyncio.sleep(TYPING_GAP_S)
    doc.delete_line(line)
    doc.set_line(marker_line, original)
    await _quiet(client, 0.3, 5.0)
    return rows


# -- assembling the figures ----------------------------------------------------------------------


async def run_lsp(workdir: Path, reps: LspReps, log: Callable[[str], None]) -> list[Figure]:
    """Every language-server figure."""
    module = make_module()
    figures = [await spawn_figure(workdir, module, reps.spawn)]
    log(f"  spawn → initialize: done ({len(figures[0].rows)} subjects)")
    figures += await start_figures(workdir / "start", reps.start)
    log("  start → first diagnostics and lenses: done")
    sessions: list[SessionResult] = []
    for subject in language_servers():
        started = time.perf_counter()
        spent = Budget.spent(f"language-server session: {subject.name}")
        if spent:
            sessions.append(SessionResult(subject.name, error=spent))
            continue
        sessions.append(await session(subject, workdir, module, reps))
        log(f"  session {subject.name}: {time.perf_counter() - started:.0f} s")
    pure = {site.label: pure_rows(module, site.text, reps.warm, reps.after_edit) for site in SITES}
    figures += _session_figures(sessions, pure)
    for scratch in ("spawn", "start"):
        with contextlib.suppress(OSError):
            shutil.rmtree(workdir / scratch)
    return figures


def _named(row: Row | None, subject: str, error: str, fallback: str) -> Row:
    if error:
        return Row(subject, missing=error)
    if row is None:
        return Row(subject, missing=fallback)
    row.subject = subject
    return row


def _session_figures(
    sessions: list[SessionResult], pure: dict[str, dict[str, Row]]
) -> list[Figure]:
    figures: list[Figure] = []
    edits = {
        "syntax": (
            "Edit → publishDiagnostics: a syntax error typed into the handler, then removed",
            "`    total = 0` ↔ `    total = = 0` inside the handler; every server reports it.",
        ),
        "signature": (
            "Edit → publishDiagnostics: the handler loses its `context` parameter, "
            "then gets it back",
            "`def handler(event, context):` ↔ `def handler(event):` — HandlerLens reports "
            "`handler-arity`; pylsp and pyright report the now undefined `context`; "
            "jedi-language-server reports only syntax errors.",
        ),
    }
    for key, (title, note) in edits.items():
        rows = [_named(s.edits.get(key), s.subject, s.error, "not measured") for s in sessions]
        notes = [
            note,
            "From didChange sent to the first publishDiagnostics for main.py whose set is the "
            "new one. HandlerLens's figure includes its 20 ms debounce (it waits for the next "
            "keystroke before validating); pylsp debounces its linting by 500 ms.",
        ]
        figures.append(Figure(f"lsp-edit-{key}", title, "ms", rows, notes=notes))
    for site in SITES:
        for series, title in (
            ("warm", f"Completion at `{site.label}`, warm (same text, repeated request)"),
            ("after", f"Completion at `{site.label}` sent right behind an edit (one keystroke)"),
            ("during", f"Completion at `{site.label}` sent 40 ms after a keystroke"),
        ):
            rows = [
                _named(s.completions.get(f"{site.label}/{series}"), s.subject, s.error, "")
                for s in sessions
            ]
            rows = [r for r in rows if r.samples or r.missing]
            if series in pure[site.label]:
                rows.append(pure[site.label][series])
            figure = Figure(f"lsp-completion-{site.label}-{series}", title, "ms", rows)
            if series == "during":
                figure.notes.append(
                    "HandlerLens only: its validation starts 20 ms after the last keystroke, so "
                    "this request meets validation running on the analysis thread."
                )
            figures.append(figure)
    rss_rows = []
    for s in sessions:
        if s.rss is None:
            rss_rows.append(Row(s.subject, missing=s.error or "not measured"))
        else:
            rss_rows.append(Row(s.subject, [s.rss[0]], note=f"peak (VmHWM) {s.rss[1]:.1f} MiB"))
    rss = Figure("lsp-rss", "Server RSS after the measurements above (VmRSS)", "MiB", rss_rows)
    rss.notes.append("One reading per server, from /proc/PID/status after its session.")
    figures.append(rss)
    return figures


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower())
