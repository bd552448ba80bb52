"""`handlerlens event new|list` and `handlerlens test`: arguments and entry functions."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from handlerlens.replay.events import EVENTS_FOLDER


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """--root, --platform and --events-folder: where the functions and their saved events are
    (`event`, `test` and replay.judge)."""
    parser.add_argument(
        "--root",
        default=".",
        metavar="DIR",
        help="the project's root folder (default: current directory)",
    )
    parser.add_argument(
        "--platform",
        choices=("yandex", "aws"),
        help="platform for functions whose declaring file does not say (default: yandex)",
    )
    parser.add_argument(
        "--events-folder",
        default=EVENTS_FOLDER,
        metavar="DIR",
        help=f"the events folder, relative to the declaring file's folder or one above it up "
        f"to the root (default: {EVENTS_FOLDER}, as VS Code's handlerlens.eventsFolder)",
    )


def add_event_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `handlerlens event new|list`."""
    from handlerlens.console import HelpFormatter
    from handlerlens.platforms.triggers import triggers_for

    sub = parser.add_subparsers(dest="event_command", metavar="new|list")
    sub.required = True
    new = sub.add_parser(
        "new", help="save a sample event of the function's trigger", formatter_class=HelpFormatter
    )
    new.add_argument("function", metavar="FUNCTION", help="a declared function's name")
    new.add_argument(
        "--trigger",
        metavar="ID",
        help="whose sample to start from (default: the function's trigger). Yandex: "
        f"{', '.join(triggers_for('yandex'))}; AWS: {', '.join(triggers_for('aws'))}",
    )
    new.add_argument("--name", help="the event's file name, without .json (default: the trigger)")
    new.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        dest="sets",
        help="set a field by its dotted path (repeatable), e.g. --set body='{\"a\": 1}' --set "
        "queryStringParameters.name=Ada; JSON when the value parses, else text",
    )
    new.add_argument("--force", action="store_true", help="replace an event of that name")
    add_project_arguments(new)
    listing = sub.add_parser(
        "list", help="list saved events and their expectations", formatter_class=HelpFormatter
    )
    listing.add_argument("function", nargs="?", metavar="FUNCTION", help="only this function's")
    listing.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    add_project_arguments(listing)


def add_test_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `handlerlens test`."""
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="FUNCTION|EVENT-FILE",
        help="functions whose saved events to run, or saved event files (default: all)",
    )
    from handlerlens.runner.arguments import add_run_arguments

    add_project_arguments(parser)
    add_run_arguments(parser, project_root="--root")  # each function runs in serve's runner
    parser.add_argument(
        "--cold", action="store_true", help="a fresh instance per event (default: one, warm)"
    )
    parser.add_argument(
        "--update", action="store_true", help="write the actual responses as expected"
    )
    parser.add_argument(
        "--update-errors",
        action="store_true",
        help="with --update, also write function errors as expected",
    )
    parser.add_argument(
        "--strict", action="store_true", help="an event without an expected file fails"
    )
    parser.add_argument("--junit-xml", metavar="PATH", help="also write a JUnit XML report")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )


def _error(message: str) -> int:
    print(f"handlerlens: {message}", file=sys.stderr)
    return 2


def _warn(lines: list[str]) -> None:
    for line in lines:
        print(f"handlerlens: warning: {line}", file=sys.stderr)


def run_event(args: argparse.Namespace) -> int:
    from handlerlens.replay import events as ev

    try:
        project = ev.read_project(args.root, args.platform)
        _warn(_parse_warnings(project.parse_errors))
        if args.event_command == "new":
            path = ev.new_event(
                project,
                args.function,
                trigger=args.trigger,
                name=args.name,
                sets=args.sets,
                force=args.force,
                events_folder=args.events_folder,
            )
            print(ev.shown(path))
            return 0
        only = project.find(args.function) if args.function else None
        saved, warnings = ev.saved_events(project, args.events_folder)
    except ev.ReplayError as exc:
        return _error(str(exc))
    shown = [e for e in saved if only is None or e.function is only]
    if args.format == "json":
        print(_events_json(project, shown, warnings))
        return 0
    _warn(warnings)
    if not shown:
        whose = f" for '{only.test_name}'" if only else ""
        print(f"handlerlens: no saved events{whose} under {project.root}", file=sys.stderr)
        return 0
    width = max(len(e.test_id) for e in shown)
    missing = "no such function"
    if project.parse_errors:
        missing += " (a declaring file does not parse)"
    for e in shown:
        state = ev.expectation_state(e) if e.function else missing
        print(f"{e.test_id:<{width}}  {ev.shown(e.path)}  {state}")
    return 0


def _events_json(project: object, shown: Sequence[object], warnings: list[str]) -> str:
    """`event list --format json`: the functions and their saved events, for editors (VS
    Code's Test Explorer lists them): `{"root", "functions": [...], "events": [...],
    "warnings": [...]}`; paths absolute."""
    import json

    from handlerlens.replay import events as ev

    assert isinstance(project, ev.Project)
    saved = [e for e in shown if isinstance(e, ev.SavedEvent)]
    missing = "no such function"
    if project.parse_errors:
        missing += " (a declaring file does not parse)"
    functions = [
        {
            "name": fn.name,
            "testName": fn.test_name,
            "platform": fn.platform,
            "entry": fn.spec.entry,
            "root": fn.spec.root,
            "trigger": fn.trigger,
            "declaredIn": fn.spec.declared_in,
        }
        for fn in project.functions
    ]
    listed = [
        {
            "id": e.test_id,
            "function": e.function.test_name if e.function else None,
            "folder": e.folder_name,
            "event": e.name,
            "path": e.path,
            "expected": e.expected_path,
            "state": ev.expectation_state(e) if e.function else missing,
        }
        for e in saved
    ]
    notes = _parse_warnings(project.parse_errors) + warnings
    return json.dumps(
        {"root": project.root, "functions": functions, "events": listed, "warnings": notes},
        indent=2,
    )


def _parse_warnings(errors: list[str]) -> list[str]:
    if not errors:
        return []
    return ["a declaring file does not parse; its functions are left out:", *errors]


def _select(
    project: object, saved: list[object], targets: list[str], events_folder: str
) -> list[object]:
    from handlerlens.replay.events import Project, ReplayError, SavedEvent
    from handlerlens.replay.expect import EXPECTED_SUFFIX

    assert isinstance(project, Project)
    events = [e for e in saved if isinstance(e, SavedEvent)]
    if not targets:
        return list(events)
    chosen: list[SavedEvent] = []
    for target in targets:
        if target.endswith(".json"):
            path = target
            if path.endswith(EXPECTED_SUFFIX):
                path = path[: -len(EXPECTED_SUFFIX)] + ".json"
            if not os.path.isfile(path):
                raise ReplayError(f"no such event file: {target}")
            real = os.path.realpath(path)
            match = [e for e in events if os.path.realpath(e.path) == real]
            if not match:
                raise ReplayError(
                    f"{target} is not a saved event of a declared function under "
                    f"{project.root}: saved events are {events_folder}/<function>/<name>.json "
                    "beside the declaring file or in a folder above it"
                )
            chosen += match
            continue
        fn = project.find(target)
        mine = [e for e in events if e.function is fn]
        if not mine:
            raise ReplayError(
                f"'{fn.test_name}' has no saved events (handlerlens event new "
                f"{fn.test_name} writes one)"
            )
        chosen += mine
    return list(dict.fromkeys(chosen))


def run_test(args: argparse.Namespace) -> int:
    import asyncio
    import time

    from handlerlens.replay import events as ev
    from handlerlens.replay import reports, run
    from handlerlens.replay.settings import test_settings
    from handlerlens.replay.verdicts import Options

    if args.update_errors and not args.update:
        return _error("--update-errors goes with --update")
    if args.python is not None:
        from handlerlens.runner.command_setup import given_python

        if given_python(args) is None:  # says which and what to do
            return 2
    started = time.monotonic()
    try:
        project = ev.read_project(args.root, args.platform)
        table, settings_file = test_settings(project.root)
        settings = table or {}
        saved, warnings = ev.saved_events(project, args.events_folder)
        chosen = _select(project, list(saved), args.targets, args.events_folder)
    except ev.ReplayError as exc:
        return _error(str(exc))
    warnings = _parse_warnings(project.parse_errors) + warnings
    events = [e for e in chosen if isinstance(e, ev.SavedEvent)]
    if not events:  # said, and the reports are still written (empty) for CI to read
        warnings.append(
            f"no saved events under {project.root} (handlerlens event new FUNCTION writes one)"
        )
    options = Options(
        python=args.python,
        project_root=project.root,
        timeout=args.timeout,
        cold=args.cold,
        update=args.update,
        update_errors=args.update_errors,
        strict=args.strict or bool(settings.get("strict")),
        ignore=list(settings.get("ignore", [])),
        ignore_source=settings_file,
        unparsed=bool(project.parse_errors),
    )
    try:
        outcomes = asyncio.run(run.run(events, options, warnings))
    except Exception as exc:  # an internal error must still give CI a clear status
        return _error(f"test: internal error: {exc!r}")
    seconds = time.monotonic() - started
    _warn(warnings)
    if args.format == "json":
        print(reports.json_report(outcomes, warnings, seconds))
    else:
        report = reports.text_report(outcomes, options.strict)
        if report:  # (an empty run: the summary alone, no blank line above it)
            print(report)
        print(reports.summary_line(outcomes, seconds))
    if args.junit_xml:
        try:
            reports.write_junit(args.junit_xml, outcomes, options.strict, seconds)
        except OSError as exc:
            return _error(f"cannot write {args.junit_xml}: {exc}")
    return 1 if any(o.failed(options.strict) for o in outcomes) else 0
