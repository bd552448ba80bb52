"""The extension in a real VS Code (issue #6): VSIX size, activation, Debug click → paused,
save → paused again. Reported, not asserted.

Packages the VSIX from this checkout (the client's lint/type checks skipped: `make test` runs
them), then runs the end-to-end script (tests/e2e/run-e2e.sh: code-server driven by
Playwright in Chromium) `reps` times and reads what it measured: its timings.json and the
extension's own log ("Activated in …", "Language server ready in …"). Needs the cached
code-server and Chromium that `make test` installs (scripts/e2e-setup.sh); without them the
figures say so instead of spending the budget on a 5-minute install.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.procs import REPO
from bench.stats import Figure, Row

CACHE = os.environ.get("HANDLERLENS_CACHE") or str(Path.home() / ".cache" / "handlerlens")
E2E_CACHE = Path(CACHE) / "e2e"
ACTIVATED = re.compile(r"Activated in ([\d.]+) ms")
SERVER_READY = re.compile(r"Language server ready in (\d+) ms")


@dataclass(frozen=True)
class ExtensionReps:
    """How many end-to-end runs (each about 90 s)."""

    runs: int = 1


def _missing() -> str:
    cached = E2E_CACHE.is_dir() and any(E2E_CACHE.glob("code-server-*"))
    if not cached or not Path("/usr/bin/chromium").exists():
        return "not measured: no cached code-server/Chromium (run scripts/e2e-setup.sh)"
    return ""


def _rows(names: list[str], missing: str) -> dict[str, Row]:
    return {name: Row(name, missing=missing) for name in names}


SIZE = "VSIX (linux-x64, server and its libraries bundled)"
ACTIVATE = "activate() returns"
READY = "language server started and initialized"
OPEN = "folder opened → lenses on screen"
DIAGNOSTICS = "folder opened → first diagnostics on screen (goal ≤ 2 s)"
LENSES = "file opened (tab shown) → lenses on screen (goal ≤ 500 ms)"
RERUN = "Run lens (last event, warm) → new response on screen"
DEBUG_CLICK = "Debug lens click → paused at the breakpoint"
SAVE_LENS = "save → Debug lens again → paused again"
ATTACH = "attach (launch.json) + invoke → paused"
SAVE_ATTACH = "save → invoke → paused again (attached)"


def extension_figures(workdir: Path, reps: ExtensionReps) -> list[Figure]:
    """VSIX size, activation and debug figures from real code-server runs."""
    missing = _missing()
    size = _rows([SIZE], missing)
    start = _rows([ACTIVATE, READY, DIAGNOSTICS, OPEN, LENSES, RERUN], missing)
    debug = _rows([DEBUG_CLICK, SAVE_LENS, ATTACH, SAVE_ATTACH], missing)
    if not missing:
        vsix = workdir / "handlerlens.vsix"
        built = _script("scripts/package.sh", SKIP_CLIENT_CHECK="1", VSIX_OUT=str(vsix))
        if built.returncode != 0 or not vsix.exists():
            why = f"not measured: packaging failed: {built.stderr.strip()[-300:]}"
            for row in [*size.values(), *start.values(), *debug.values()]:
                row.missing = why
        else:
            size[SIZE].samples.append(vsix.stat().st_size / 1e6)
            for run in range(reps.runs):
                _e2e_run(workdir / f"e2e-{run}", vsix, start, debug)
    for row in [*start.values(), *debug.values()]:
        if not row.samples and not row.missing:
            row.missing = "not measured: the e2e run did not get this far"
    return [
        Figure("ext-vsix", "Packaged extension size", "MB", list(size.values()), reference=SIZE),
        Figure(
            "ext-start",
            "Extension start in code-server",
            "ms",
            list(start.values()),
            reference=ACTIVATE,
            notes=[
                "activate(): the extension's own clock, from its log; the server: spawn to "
                "`initialized`; diagnostics: from the workbench page load of examples/ until "
                "the status bar's problem count is not 0; lenses: from the click on "
                "greeter/main.py in the Explorer (or from its tab shown) to the first lens drawn "
                "there; Run lens: click on "
                "'▶ Run handler' (runner warm, last event) until the response view shows the "
                "new request id."
            ],
        ),
        Figure(
            "ext-debug",
            "Debugging in code-server (end-to-end, through the UI)",
            "ms",
            list(debug.values()),
            reference=DEBUG_CLICK,
            notes=[
                "Measured by tests/e2e/vscode.test.js through Chromium: clicks and key presses "
                "until the editor shows the paused line. The Debug lens figure includes "
                "starting the runner under debugpy and attaching its worker; the attached "
                "figures reuse a running `handlerlens serve --debug`. Save → paused again "
                "includes the reload, the invocation and the UI update."
            ],
        ),
    ]


def _script(path: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one of the repository's bash scripts with `env` added; its output captured."""
    return subprocess.run(
        ["bash", path],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, **env),
    )


def _e2e_run(art: Path, vsix: Path, start: dict[str, Row], debug: dict[str, Row]) -> None:
    done = _script(
        "tests/e2e/run-e2e.sh", VSIX=str(vsix), E2E_ARTIFACTS=str(art), E2E_SCENARIO="main"
    )
    try:
        timings = json.loads((art / "timings.json").read_text())
    except (OSError, ValueError):
        why = f"not measured: the e2e run gave no timings (exit {done.returncode})"
        for row in [*start.values(), *debug.values()]:
            row.missing = row.missing or why
        return
    log = ""
    for path in art.glob("*.log"):
        if path.name.startswith("HandlerLens"):
            log += path.read_text(errors="replace")
    for pattern, subject in ((ACTIVATED, ACTIVATE), (SERVER_READY, READY)):
        start[subject].samples.extend(float(v) for v in pattern.findall(log)[:1])
    pairs = {
        OPEN: (start, "openToLensMs"),
        DIAGNOSTICS: (start, "folderToDiagnosticsMs"),
        LENSES: (start, "fileShownToLensMs"),
        DEBUG_CLICK: (debug, "debugClickToPausedMs"),
        SAVE_LENS: (debug, "saveToPausedAgainViaLensMs"),
        ATTACH: (debug, "attachAndInvokeToPausedMs"),
        SAVE_ATTACH: (debug, "saveToPausedAgainMs"),
    }
    for subject, (rows, key) in pairs.items():
        value = timings.get(key)
        if isinstance(value, (int, float)):
            rows[subject].samples.append(float(value))
    # One figure per re-run of the run (tests/e2e/steps-vscode21.js clicks the lens 5 times).
    reruns = timings.get("rerunClickToResponseMs")
    if isinstance(reruns, list):
        start[RERUN].samples.extend(float(v) for v in reruns if isinstance(v, (int, float)))
    if done.returncode != 0:
        failed = [line for line in done.stdout.splitlines() if " FAIL " in line]
        for rows in (start, debug):
            for row in rows.values():
                row.note = row.note or f"a step failed in this run: {failed[:1]}"
