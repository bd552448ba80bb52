"""Issue #20's numbers: 200 saved events over 10 functions, replayed and compared.

- HandlerLens: `handlerlens test` (each function served once, its 20 events warm in order).
- The floor: a pytest file that imports the same handlers and calls them in-process with the
  same events, comparing status and body with the same expected files.
- python-lambda-local: a process per event (how one scripts saved events with it); a fifth of
  the events per run, every event once over five runs, times five for the 200.

Run alone: `.venv/bin/python -m bench.replay_bench [--runs N]` (prints the figure).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.procs import HANDLERLENS, PEER_BIN, VENV_PY
from bench.stats import Figure, Row

FUNCTIONS = 10
EVENTS_PER_FUNCTION = 20
FLOOR_PYTEST = "pytest, handlers in-process (floor)"
LAMBDA_LOCAL = "python-lambda-local (process per event)"
KEY = "replay-200"

HANDLER = """\
import json

FUNCTION = {index}


def handler(event, context):
    query = event.get("queryStringParameters") or {{}}
    body = json.loads(event.get("body") or "{{}}")
    items = [{{"sku": item["sku"], "total": item["qty"] * item["price"]}} for item in body["items"]]
    return {{
        "statusCode": 200,
        "headers": {{"Content-Type": "application/json"}},
        "body": json.dumps({{
            "function": FUNCTION,
            "order": body["order"],
            "customer": query.get("customer"),
            "items": items,
            "total": sum(item["total"] for item in items),
        }}),
    }}
"""

FLOOR = """\
import importlib
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).parent
EVENTS = sorted((ROOT / ".handlerlens" / "events").glob("*/*.json"))
EVENTS = [e for e in EVENTS if not e.name.endswith(".expected.json")]


class Context:
    function_name = "bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    memory_limit_in_mb = 128

    def get_remaining_time_in_millis(self):
        return 3000


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: f"{{p.parent.name}}::{{p.stem}}")
def test_event(path):
    module = importlib.import_module(path.parent.name)
    response = module.handler(json.loads(path.read_text()), Context())
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    assert response["statusCode"] == expected["status"]
    assert json.loads(response["body"]) == expected["body"]
"""


def make_project(root: Path) -> list[Path]:
    """Ten functions (`fn0` … `fn9`, AWS, HTTP API) with twenty saved events each, and their
    expected files; the floor's pytest file. Returns the event files."""
    lines = ['[tool.handlerlens]\nplatform = "aws"\ntimeout = 10\n']
    events: list[Path] = []
    for f in range(FUNCTIONS):
        name = f"fn{f}"
        (root / f"{name}.py").write_text(HANDLER.format(index=f))
        lines.append(
            f'[[tool.handlerlens.functions]]\nname = "{name}"\nentry = "{name}.handler"\n'
            'trigger = "http-api"\n'
        )
        folder = root / ".handlerlens" / "events" / name
        folder.mkdir(parents=True)
        for e in range(EVENTS_PER_FUNCTION):
            items = [{"sku": f"sku-{e}-{i}", "qty": i + 1, "price": 10 * e + i} for i in range(3)]
            order = {"order": f"o-{f}-{e}", "items": items}
            event = {
                "version": "2.0",
                "rawPath": "/orders",
                "queryStringParameters": {"customer": f"c{e}"},
                "requestContext": {"http": {"method": "POST", "path": "/orders"}},
                "body": json.dumps(order),
                "isBase64Encoded": False,
            }
            totals = [{"sku": i["sku"], "total": i["qty"] * i["price"]} for i in items]
            expected = {
                "status": 200,
                "body": {
                    "function": f,
                    "order": order["order"],
                    "customer": f"c{e}",
                    "items": totals,
                    "total": sum(t["total"] for t in totals),
                },
            }
            path = folder / f"order-{e:02d}.json"
            path.write_text(json.dumps(event, indent=2) + "\n")
            (folder / f"order-{e:02d}.expected.json").write_text(json.dumps(expected) + "\n")
            events.append(path)
    (root / "pyproject.toml").write_text("\n".join(lines))
    (root / "test_floor.py").write_text(FLOOR)
    return events


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed tools run (see bench.run)
    return env


def _timed(argv: list[str], cwd: Path, expect: str = "") -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, env=_env())
    seconds = time.perf_counter() - started
    if done.returncode != 0 or expect not in done.stdout:
        tail = (done.stdout + done.stderr).strip()[-600:]
        raise RuntimeError(f"{' '.join(argv[:3])} … exited {done.returncode}: {tail}")
    return seconds


def _lambda_local(events: list[Path], cwd: Path) -> float:
    """Wall time of one python-lambda-local process per event, one after the other."""
    binary = str(PEER_BIN / "python-lambda-local")
    started = time.perf_counter()
    for event in events:
        module = f"{event.parent.name}.py"
        argv = [binary, "-f", "handler", "-t", "10", module, str(event)]
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, env=_env())
        if done.returncode != 0 or "statusCode" not in done.stdout + done.stderr:
            tail = (done.stdout + done.stderr).strip()[-400:]
            raise RuntimeError(f"python-lambda-local {event.name}: {tail}")
    return time.perf_counter() - started


def replay_figure(workdir: Path, runs: int = 5) -> Figure:
    """`handlerlens test` over 200 saved events vs the in-process pytest floor vs
    python-lambda-local, wall time in seconds, `runs` runs interleaved round-robin."""
    root = workdir / "replay"
    root.mkdir(parents=True, exist_ok=True)
    events = make_project(root)
    total = len(events)
    commands = {
        "HandlerLens": ([str(HANDLERLENS), "test"], f"{total} passed"),
        FLOOR_PYTEST: (
            [str(VENV_PY), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:handlerlens"]
            + ["test_floor.py"],
            f"{total} passed",
        ),
    }
    rows = {name: Row(name) for name in [*commands, LAMBDA_LOCAL]}
    if not (PEER_BIN / "python-lambda-local").exists():
        rows[LAMBDA_LOCAL].missing = "not measured: run scripts/bench-setup.sh"
    for argv, expect in commands.values():  # warm the page cache and __pycache__
        with contextlib.suppress(RuntimeError, OSError, subprocess.TimeoutExpired):
            _timed(argv, root, expect)
    share = [events[i::runs] for i in range(runs)]  # every event once over the runs
    for run in range(runs):
        for name, (argv, expect) in commands.items():
            if rows[name].missing:
                continue
            try:
                rows[name].samples.append(_timed(argv, root, expect))
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                rows[name].missing = f"not measured: {exc}"
        ll = rows[LAMBDA_LOCAL]
        if not ll.missing and share[run]:
            try:
                ll.samples.append(_lambda_local(share[run], root) * total / len(share[run]))
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                ll.missing = f"not measured: {exc}"
    return Figure(
        KEY,
        f"{total} saved events over {FUNCTIONS} functions, replayed and compared, wall time",
        "s",
        list(rows.values()),
        notes=[
            f"Spawn to exit; {runs} runs interleaved round-robin, each must report all {total} "
            "passed. `handlerlens test` serves each function once (a runner process per "
            "function, the function's events warm in order, functions side by side) and "
            "compares each response with its expected file. The floor is a pytest file that "
            "imports the same handlers and calls them in-process with the same events, "
            "comparing status and body (no isolation, no emulation: the least any tool can "
            "take). python-lambda-local starts a process per event; to keep `make bench` within "
            f"its time, each run times a {runs}th of the events (every event once over the "
            f"runs) and scales to {total}."
        ],
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replay_bench")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="handlerlens-replay-bench-") as tmp:
        figure = replay_figure(Path(tmp), args.runs)
    print(figure.title)
    for row in figure.rows:
        if row.missing:
            print(f"  {row.subject}: {row.missing}")
            continue
        from bench.stats import percentile

        print(
            f"  {row.subject}: median {row.median:.2f} s, p95 "
            f"{percentile(row.samples, 95):.2f} s (n={len(row.samples)}; "
            f"{', '.join(f'{s:.2f}' for s in row.samples)})"
        )
    ratio = figure.ratio("HandlerLens", FLOOR_PYTEST)
    if ratio is not None:
        print(f"  HandlerLens ÷ floor: {ratio:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
