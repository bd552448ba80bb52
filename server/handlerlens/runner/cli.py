"""`handlerlens serve` and `handlerlens invoke`: their entry functions (the arguments are
runner/arguments.py's; what the options set up, runner/command_setup.py's).

Imports stay lazy: `invoke` must not pay for the supervisor, asyncio or the project model.
"""

from __future__ import annotations

import argparse
import os
import sys

from handlerlens.console import stopped
from handlerlens.runner.command_setup import (
    isolate,
    resolve_again,
    resolve_functions,
    say,
    token_keeper,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from handlerlens.runner.targets import ServedFunction


def run_serve(args: argparse.Namespace) -> int:
    """Run the local runner until SIGINT (exit 130) or SIGTERM (exit 0); exit 2 on a usage or
    start-up error."""
    try:
        return _run_serve(args)
    except KeyboardInterrupt:
        return stopped()


def _run_serve(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from handlerlens.runner.debugger import DebuggerError
    from handlerlens.runner.status import Status
    from handlerlens.runner.supervisor import PortInUse, ServeOptions, Supervisor

    functions = resolve_functions(args, list(args.targets))
    if functions is None:
        return 2
    if args.timeout_from and args.timeout:
        for fn in functions:
            fn.timeout_from = args.timeout_from  # type: ignore[attr-defined]
    # The access log is for people: on in a terminal, never in a pipe or a file.
    status = Status(args.status_json, access_log=not args.quiet and sys.stderr.isatty())
    runner_log = logging.getLogger("handlerlens.runner")
    handler = status.log_handler()
    handler.setFormatter(logging.Formatter("handlerlens: %(message)s"))
    runner_log.addHandler(handler)
    runner_log.setLevel(logging.INFO)
    runner_log.propagate = False
    python = isolate(args, functions, status)
    if python is None:
        return 2
    keeper = token_keeper(args, functions)
    if keeper is False:
        return 2
    if keeper is not None:
        from handlerlens.runner.yc_token import keep_fresh

        keep_fresh(keeper, say)
    debug_port = args.debug_port if args.debug_port is not None else (0 if args.debug else None)
    options = ServeOptions(
        python=python,
        port=args.port,
        instances=args.instances,
        watch=not args.no_watch,
        debug_port=debug_port,
        standby=not args.no_standby,
        project_root=os.path.abspath(args.root),
        platform=args.platform,
        redeclare=lambda: resolve_again(args),
    )

    async def main() -> int:
        supervisor = Supervisor(functions, options, status)  # type: ignore[arg-type]
        if args.exit_with_stdin:
            _stop_when_stdin_closes(asyncio.get_running_loop(), supervisor.stop_event)
        return await supervisor.run()

    try:
        return asyncio.run(main())
    except PortInUse as exc:
        print(
            f"handlerlens: cannot listen on 127.0.0.1:{args.port}: {exc}. Another runner may be "
            "using it: pick another --port, or --port 0 for any free one.",
            file=sys.stderr,
        )
        return 2
    except DebuggerError as exc:
        print(f"handlerlens: {exc}", file=sys.stderr)
        return 2
    finally:
        status.flush()  # what the runner logged as it failed to start, too
        if keeper is not None:
            keeper.close()


def _stop_when_stdin_closes(loop: Any, stop: Any) -> None:
    # A language server that crashes cannot stop its runners; the pipe it holds open on our
    # stdin closes with it, and that is the signal to stop (workers follow the supervisor).
    import threading

    def wait() -> None:
        # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside a buffered
        # reader aborts the interpreter at exit ("could not acquire lock … at shutdown").
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait, name="stdin-watch", daemon=True).start()


def run_invoke(args: argparse.Namespace) -> int:
    """One invocation in a fresh worker: result on stdout, log on stderr, 1 on function error,
    130 when stopped with Ctrl+C (the worker is killed on the way out)."""
    try:
        return _run_invoke(args)
    except KeyboardInterrupt:
        return stopped()


def _run_invoke(args: argparse.Namespace) -> int:
    from handlerlens.runner import invoke

    functions = resolve_functions(args, [args.target] if args.target else [], single=True)
    if functions is None:
        return 2
    fn: ServedFunction = functions[0]  # type: ignore[assignment]
    python = isolate(args, functions)
    if python is None:
        return 2
    event = _event(args.event, fn)
    if event is None:
        return 2
    keeper = token_keeper(args, functions)
    if keeper is False:
        return 2
    try:
        return invoke.invoke_once(fn, event, python)
    finally:
        if keeper is not None:
            keeper.close()


def _event(given: str | None, fn: ServedFunction) -> bytes | None:
    """The event's JSON bytes: from the file, stdin (`-`) or, with no --event, the sample
    event of the function's trigger; None (and a message) when there is no valid JSON."""
    import json

    from handlerlens.platforms.triggers import DEFAULT_TRIGGER, sample_file

    if given is None:
        trigger = fn.trigger or DEFAULT_TRIGGER[fn.platform]
        whose = "the function's trigger" if fn.trigger else "the platform's default trigger"
        with open(sample_file(fn.platform, trigger), "rb") as handle:
            event = handle.read()
        print(
            f"handlerlens: no --event: sending the sample event for trigger '{trigger}' ({whose})",
            file=sys.stderr,
        )
        return event
    if given == "-":
        name = "stdin"
        if sys.stdin.isatty():  # a person types it: say so, or the command looks stuck
            print(
                "handlerlens: --event -: type the event's JSON, then Ctrl-D on a line of its own",
                file=sys.stderr,
            )
        event = sys.stdin.buffer.read()
        if not event.strip():
            print(
                "handlerlens: --event -: stdin was empty; pipe the event's JSON in, e.g. "
                "echo '{}' | handlerlens invoke … --event -",
                file=sys.stderr,
            )
            return None
    else:
        name = given
        try:
            with open(given, "rb") as handle:
                event = handle.read()
        except OSError as exc:
            print(f"handlerlens: cannot read the event file: {exc}", file=sys.stderr)
            return None
    try:
        json.loads(event)
    except ValueError as exc:
        where = name
        if isinstance(exc, json.JSONDecodeError):
            where, exc_text = f"{name}:{exc.lineno}:{exc.colno}", exc.msg
        else:  # not UTF-8 (or -16/-32) text
            exc_text = str(exc)
        print(f"handlerlens: the event is not valid JSON: {where}: {exc_text}", file=sys.stderr)
        return None
    return event
