"""The verdict on a response that was got elsewhere: VS Code's Test Explorer debugs a saved
event through the language server's debug flow (breakpoints stop in the handler) and asks
here whether that response passes, exactly as `handlerlens test` would judge it.

    python -m handlerlens.replay.judge [--root DIR] [--events-folder DIR] EVENT-FILE < response

stdin: `{"json": <the handler's response or error payload>, "functionError": true|false}` (the
language server's run result has both). stdout: `handlerlens test --format json`'s report
with that one test. Exit status as `handlerlens test`'s: 0 passed, 1 failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from handlerlens.replay.events import (
    ReplayError,
    read_project,
    saved_events,
    shown,
)


def main(argv: list[str] | None = None) -> int:
    from handlerlens.replay.cli import add_project_arguments
    from handlerlens.replay.expect import ExpectationError, actual_view, load_expected
    from handlerlens.replay.reports import json_report
    from handlerlens.replay.settings import test_settings
    from handlerlens.replay.verdicts import ERROR, GlobalIgnores, Options, Outcome, judge

    parser = argparse.ArgumentParser(prog="python -m handlerlens.replay.judge")
    parser.add_argument("event", metavar="EVENT-FILE")
    add_project_arguments(parser)
    args = parser.parse_args(argv)
    try:
        response = json.loads(sys.stdin.read())
    except ValueError as exc:
        print(f"handlerlens: the response on stdin is not JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(response, dict) or not isinstance(response.get("functionError"), bool):
        print(
            'handlerlens: expected {"json": ..., "functionError": true|false} on stdin',
            file=sys.stderr,
        )
        return 2
    try:
        project = read_project(args.root, args.platform)
        table, source = test_settings(project.root)
        saved, warnings = saved_events(project, args.events_folder)
    except ReplayError as exc:
        print(f"handlerlens: {exc}", file=sys.stderr)
        return 2
    real = os.path.realpath(args.event)
    mine = [e for e in saved if os.path.realpath(e.path) == real and e.function is not None]
    if not mine:
        print(
            f"handlerlens: {args.event} is not a saved event of a declared function",
            file=sys.stderr,
        )
        return 2
    event = mine[0]
    settings: dict[str, Any] = table or {}
    options = Options(
        strict=bool(settings.get("strict")),
        ignore=list(settings.get("ignore", [])),
        ignore_source=source,
    )
    expected = None
    if os.path.exists(event.expected_path):
        try:
            expected = load_expected(event.expected_path, shown(event.expected_path))
        except ExpectationError as exc:
            outcome = Outcome(event, ERROR, str(exc))
            print(json_report([outcome], warnings, 0.0))
            return 1
    actual = actual_view(response.get("json"), response["functionError"])
    ignores = GlobalIgnores(options.ignore, options.ignore_source)
    outcome = judge(event, expected, actual, options, warnings, ignores, [])
    warnings += ignores.warnings()
    print(json_report([outcome], warnings, 0.0))
    return 1 if outcome.failed(options.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
