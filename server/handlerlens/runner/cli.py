"""`handlerlens serve` and `handlerlens invoke`: arguments and entry functions.

Imports stay lazy: `invoke` must not pay for the supervisor, asyncio or the project model.
"""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--platform", choices=("yandex", "aws"), help="platform to emulate")
    parser.add_argument("--root", default=".", help="code root (default: current directory)")
    parser.add_argument("--python", help="interpreter to run the function in (default: this one)")
    parser.add_argument("--timeout", type=float, help="function timeout in seconds (default 3)")
    parser.add_argument("--memory", type=int, help="memory size in MB")
    parser.add_argument(
        "--env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="K=V",
        help="function environment variable (repeatable)",
    )
    parser.add_argument("--trigger", help="trigger kind, e.g. api-gateway-rest (AWS v1 events)")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `handlerlens serve`."""
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="ENTRY|FUNCTION",
        help="main.handler, name=main.handler, or a declared function name (default: all)",
    )
    _common(parser)
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--instances", type=int, default=1, help="instances per function")
    parser.add_argument("--no-watch", action="store_true", help="do not reload on file changes")
    parser.add_argument(
        "--status-json",
        action="store_true",
        help="machine-readable events on stdout, one JSON object per line",
    )
    parser.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help=argparse.SUPPRESS,  # stop when stdin closes: the parent (language server) is gone
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="run under debugpy: attach any DAP client to the debug port; every worker, "
        "after every reload, is a child session that keeps your breakpoints",
    )
    parser.add_argument(
        "--debug-port",
        type=int,
        metavar="N",
        help="debugger port on 127.0.0.1 (default: any free one; implies --debug)",
    )
    # Measuring only: reload by starting a fresh interpreter instead of using a standby.
    parser.add_argument("--no-standby", action="store_true", help=argparse.SUPPRESS)


def add_invoke_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `handlerlens invoke`."""
    parser.add_argument("target", metavar="ENTRY|FUNCTION", help="main.handler or a function name")
    parser.add_argument("--event", default=None, help="event JSON file, or - for stdin")
    _common(parser)


def _python(args: argparse.Namespace) -> str | None:
    python = args.python or sys.executable
    if os.sep in python:
        found: str | None = python
    else:
        import shutil  # only for a bare name (`--python python3.12`): it is slow to load

        found = shutil.which(python)
    if not found or not os.access(found, os.X_OK) or os.path.isdir(found):
        print(
            f"handlerlens: Python interpreter not found: {python}. Point --python (or the "
            "handlerlens.python setting) at the interpreter of the function's environment.",
            file=sys.stderr,
        )
        return None
    return found


def _resolve(args: argparse.Namespace, targets: list[str]) -> list[object] | None:
    from handlerlens.runner.targets import TargetError, resolve_targets

    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        print(f"handlerlens: code root is not a directory: {root}", file=sys.stderr)
        return None
    try:
        return list(
            resolve_targets(
                targets,
                root=root,
                platform=args.platform,
                timeout=args.timeout,
                memory=args.memory,
                env=dict(args.env),
                trigger=args.trigger,
            )
        )
    except TargetError as exc:
        print(f"handlerlens: {exc}", file=sys.stderr)
        return None


def run_serve(args: argparse.Namespace) -> int:
    """Run the local runner until SIGINT/SIGTERM; exit 2 on a usage or start-up error."""
    import asyncio
    import logging

    from handlerlens.runner.debugger import DebuggerError
    from handlerlens.runner.status import Status
    from handlerlens.runner.supervisor import PortInUse, ServeOptions, Supervisor

    python = _python(args)
    functions = _resolve(args, list(args.targets))
    if python is None or functions is None:
        return 2
    runner_log = logging.getLogger("handlerlens.runner")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("handlerlens: %(message)s"))
    runner_log.addHandler(handler)
    runner_log.setLevel(logging.INFO)
    runner_log.propagate = False
    debug_port = args.debug_port if args.debug_port is not None else (0 if args.debug else None)
    options = ServeOptions(
        python=python,
        port=args.port,
        instances=args.instances,
        watch=not args.no_watch,
        debug_port=debug_port,
        standby=not args.no_standby,
    )

    async def main() -> int:
        supervisor = Supervisor(functions, options, Status(args.status_json))  # type: ignore[arg-type]
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
    except KeyboardInterrupt:
        return 0


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
    """One invocation in a fresh worker: result on stdout, log on stderr, 1 on function error."""
    from handlerlens.runner import invoke

    python = _python(args)
    if python is None:
        return 2
    if args.event is None:
        event = b"{}"
    elif args.event == "-":
        event = sys.stdin.buffer.read()
    else:
        try:
            with open(args.event, "rb") as handle:
                event = handle.read()
        except OSError as exc:
            print(f"handlerlens: cannot read the event file: {exc}", file=sys.stderr)
            return 2
    functions = _resolve(args, [args.target])
    if functions is None:
        return 2
    return invoke.invoke_once(functions[0], event, python)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    """`python -m handlerlens.runner serve|invoke …` (the same as `handlerlens serve|invoke`)."""
    from handlerlens.cli import HelpFormatter

    parser = argparse.ArgumentParser(prog="handlerlens", formatter_class=HelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text, add_arguments in (
        ("serve", "run functions locally over HTTP", add_serve_arguments),
        ("invoke", "invoke a function once", add_invoke_arguments),
    ):
        add_arguments(commands.add_parser(name, help=text, formatter_class=HelpFormatter))
    args = parser.parse_args(argv)
    if args.command == "serve":
        return run_serve(args)
    return run_invoke(args)
