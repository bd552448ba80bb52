"""`handlerlens serve` and `handlerlens invoke`: arguments and entry functions.

Imports stay lazy: `invoke` must not pay for the supervisor, asyncio or the project model.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from handlerlens.console import stopped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from handlerlens.runner.targets import ServedFunction


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 0..65535 (0: any free one)")
    return port


def _positive(kind: type[int] | type[float], what: str) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not 0 < value < float("inf"):  # not nan, 0, negative or infinite either
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


def _common(parser: argparse.ArgumentParser) -> None:
    from handlerlens.platforms.runner_env import (
        AWS_DECLARED_MEMORY_MB,
        DEFAULT_MEMORY_MB,
        DEFAULT_TIMEOUT_S,
        SERVERLESS_AWS_MEMORY_MB,
        SERVERLESS_AWS_TIMEOUT_S,
    )
    from handlerlens.platforms.triggers import DEFAULT_TRIGGER, triggers_for

    parser.add_argument(
        "--platform",
        choices=("yandex", "aws"),
        help="platform to emulate (default: the one the declaring files say, else yandex)",
    )
    parser.add_argument(
        "--root", default=".", metavar="DIR", help="code root (default: current directory)"
    )
    parser.add_argument(
        "--project-root",
        metavar="DIR",
        help="the project the code root is in (the editor's workspace folder), for --python's "
        "default: python = in its pyproject.toml, a .venv or venv up to it (default: --root)",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="interpreter to run the function in, with its packages (default: python = in "
        "[tool.handlerlens], else a .venv or venv in the code root or above it up to "
        "--project-root, else "
        "python3.X on PATH for a declared runtime python3.X, else the one running "
        "handlerlens, with the standard library only)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive(float, "a positive number of seconds"),
        metavar="S",
        help=f"function timeout in seconds (default: the declared timeout, else "
        f"{SERVERLESS_AWS_TIMEOUT_S:g} for an AWS function in serverless.yml, else "
        f"{DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--memory",
        type=_positive(int, "a positive number of MB"),
        metavar="MB",
        help="memory size in MB (default: the declared size, else "
        f"{SERVERLESS_AWS_MEMORY_MB} for an AWS function in serverless.yml, else "
        f"{DEFAULT_MEMORY_MB['yandex']} on Yandex, {AWS_DECLARED_MEMORY_MB} on AWS, "
        f"{DEFAULT_MEMORY_MB['aws']} (RIE's) for an AWS entry point nothing declares)",
    )
    parser.add_argument(
        "--env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="K=V",
        help="function environment variable (repeatable)",
    )
    parser.add_argument(
        "--env-vars",
        metavar="FILE",
        help='sam local\'s JSON: {"Parameters": {…}, "MyFunction": {…}}; sets the '
        "variables the function declares, as sam local does",
    )
    parser.add_argument(
        "--env-file",
        metavar="FILE",
        help="dotenv file of NAME=value lines: variables for every function, as --env (which wins)",
    )
    parser.add_argument(
        "--parameter-overrides",
        action="append",
        default=[],
        metavar="'K=V …'",
        help="values of the SAM template's Parameters, as sam takes them ('Stage=dev "
        "Table=orders' or ParameterKey=Stage,ParameterValue=dev; repeatable): they resolve "
        "!Ref and !Sub in the functions' Environment, over the parameters' Default",
    )
    parser.add_argument(
        "--inherit-env",
        action="append",
        default=[],
        metavar="NAME",
        help="pass this variable of your shell to the function (repeatable; NAME* for a "
        "prefix, '*' for all). By default the function sees the platform's variables and "
        "its declared ones only, as deployed",
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="AWS: give the function this profile's keys (~/.aws/credentials, ~/.aws/config) "
        "as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (default: the "
        "placeholders defaultkey/defaultsecret, as sam local without credentials)",
    )
    parser.add_argument(
        "--token-file",
        metavar="FILE",
        help="Yandex: the IAM token a function with a service account gets in context.token "
        "(yc iam create-token > FILE; default: HANDLERLENS_YC_TOKEN or YC_TOKEN, else "
        "yc iam create-token when yc is on PATH)",
    )
    parser.add_argument(
        "--writable",
        action="store_true",
        help="let the function write outside /tmp (deployed, the code and everything but "
        "/tmp is read-only: such a write fails here too by default)",
    )
    # The language server serves a declared function as name=entry: the runtime it declares
    # (the interpreter to choose, AWS_EXECUTION_ENV) comes with this.
    parser.add_argument("--runtime", help=argparse.SUPPRESS)
    parser.add_argument(
        "--trigger",
        metavar="ID",
        help="the trigger whose event the function gets (default: the declared one, else "
        f"{DEFAULT_TRIGGER['yandex']} on Yandex, {DEFAULT_TRIGGER['aws']} on AWS). Yandex: "
        f"{', '.join(triggers_for('yandex'))}; AWS: {', '.join(triggers_for('aws'))}",
    )


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `handlerlens serve`."""
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="ENTRY|FUNCTION",
        help="main.handler, name=main.handler, or a declared function name (default: all)",
    )
    _common(parser)
    parser.add_argument(
        "--port",
        type=_port,
        default=8080,
        metavar="N",
        help="port on 127.0.0.1 (default 8080; 0: any free one)",
    )
    parser.add_argument(
        "--instances",
        type=_positive(int, "a positive number of instances"),
        default=1,
        metavar="N",
        help="instances per function (default 1)",
    )
    parser.add_argument("--no-watch", action="store_true", help="do not reload on file changes")
    parser.add_argument(
        "--status-json",
        action="store_true",
        help="machine-readable events on stdout, one JSON object per line",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no access log (the line per HTTP request printed when stderr is a terminal)",
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
        type=_port,
        metavar="N",
        help="debugger port on 127.0.0.1 (default: any free one; implies --debug)",
    )
    # The language server passes a declared timeout with --timeout: it says where it came
    # from with this, for the log of a call that runs past it.
    parser.add_argument("--timeout-from", help=argparse.SUPPRESS)
    # The language server serves a declared function as name=entry: the file that declares it,
    # for what the declaration adds (template parameters, layers, a service account's token).
    parser.add_argument("--declared-in", help=argparse.SUPPRESS)
    # Measuring only: reload by starting a fresh interpreter instead of using a standby.
    parser.add_argument("--no-standby", action="store_true", help=argparse.SUPPRESS)


def add_invoke_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `handlerlens invoke`."""
    parser.add_argument(
        "target",
        nargs="?",
        metavar="ENTRY|FUNCTION",
        help="main.handler or a declared function's name (default: the one declared function)",
    )
    parser.add_argument(
        "--event",
        default=None,
        metavar="FILE",
        help="event JSON file, or - for stdin (default: the sample event of the function's "
        "trigger)",
    )
    _common(parser)


def _python(args: argparse.Namespace) -> str | None:
    """The interpreter --python names (the current one without it), or None after a message
    when it cannot run a function (for commands that only pass it on: `handlerlens test`)."""
    from handlerlens.deploy.interpreter import InterpreterError, given_interpreter

    if not args.python:
        return sys.executable
    try:
        return given_interpreter(args.python)
    except InterpreterError as exc:
        _interpreter_unusable(exc)
        return None


def _interpreter_unusable(exc: Exception) -> None:
    print(
        f"handlerlens: {exc}. Point --python (or the handlerlens.interpreter setting) at "
        "the interpreter of the function's environment.",
        file=sys.stderr,
    )


def _isolate(args: argparse.Namespace, functions: list[Any], status: Any = None) -> str | None:
    """Choose the functions' interpreter and set the workers' isolation (worker_env); the
    interpreter's path, or None after a message when an option is unusable."""
    from handlerlens.deploy.interpreter import InterpreterError, choose
    from handlerlens.runner import worker_env

    inherit: list[str] = []
    for value in args.inherit_env:
        names = [n.strip() for n in value.split(",") if n.strip()]
        bad = [n for n in names if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\*?|\*", n)]
        if bad or not names:
            print(
                f"handlerlens: --inherit-env {value!r}: expected variable names (NAME, NAME*, "
                "or * for all), comma-separated",
                file=sys.stderr,
            )
            return None
        inherit += names
    keys = None
    if args.profile:
        from handlerlens.platforms.aws_credentials import CredentialsError, profile_keys

        try:
            keys = profile_keys(args.profile, os.environ)
        except CredentialsError as exc:
            print(f"handlerlens: {exc}", file=sys.stderr)
            return None
    if args.project_root and not os.path.isdir(args.project_root):
        print(
            f"handlerlens: --project-root is not a directory: {args.project_root}", file=sys.stderr
        )
        return None
    try:
        choice = choose(
            args.python,
            os.path.abspath(args.project_root or args.root),
            [fn.root for fn in functions],
            [fn.runtime for fn in functions],
        )
    except InterpreterError as exc:
        _interpreter_unusable(exc)
        return None
    worker_env.configure(
        strip_site=choice.strip_site,
        inherit=tuple(inherit),
        bin_dir=choice.bin_dir,
        writable=args.writable,
        aws_keys=keys,
    )
    if keys is not None:
        print(
            f"handlerlens: AWS functions get the keys of profile '{args.profile}'",
            file=sys.stderr,
        )
    if status is not None and status.wants_events:
        status.emit(choice.as_event())
    if choice.warning:
        where = "the interpreter running handlerlens" if choice.strip_site else choice.path
        print(
            f"handlerlens: warning: {choice.warning} ({where}); create a .venv with that "
            "version in the code root, or pass --python",
            file=sys.stderr,
        )
    return choice.path


def _say(line: str) -> None:
    print(f"handlerlens: {line}", file=sys.stderr)


def _tokens(args: argparse.Namespace, functions: list[Any]) -> Any:
    """The IAM token keeper for Yandex functions with a service account (runner/yc_token.py):
    None when none needs one, False after a message when --token-file is unusable."""
    from handlerlens.platforms.runner_env import gives_account_token

    if not args.token_file and not any(
        gives_account_token(fn.platform) and fn.declared_in for fn in functions
    ):
        return None  # nothing can declare a service account: yc_token is not even loaded
    from handlerlens.runner import yc_token

    try:
        return yc_token.setup(functions, args.token_file, os.environ, _say)
    except yc_token.TokenError as exc:
        _say(str(exc))
        return False


def _resolve(
    args: argparse.Namespace, targets: list[str], *, single: bool = False
) -> list[object] | None:
    from handlerlens.runner.targets import TargetError, resolve_targets

    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        print(f"handlerlens: code root is not a directory: {root}", file=sys.stderr)
        return None
    warnings: list[str] = []
    notes: list[str] = []
    told: list[str] = []
    env: dict[str, str] = {}
    env_vars = None
    parameters: dict[str, str] = {}
    if args.env_vars or args.env_file or args.parameter_overrides:
        from handlerlens.runner.env_files import (
            EnvFileError,
            read_dotenv,
            read_env_vars,
            read_parameter_overrides,
        )

        try:
            env_vars = read_env_vars(args.env_vars) if args.env_vars else None
            env = read_dotenv(args.env_file) if args.env_file else {}
            parameters = read_parameter_overrides(args.parameter_overrides)
        except EnvFileError as exc:
            print(f"handlerlens: {exc}", file=sys.stderr)
            return None
    env.update(args.env)
    try:
        functions = resolve_targets(
            targets,
            root=root,
            platform=args.platform,
            timeout=args.timeout,
            memory=args.memory,
            env=env,
            trigger=args.trigger,
            single=single,
            warnings=warnings,
            env_vars=env_vars,
            notes=notes,
            runtime=args.runtime,
            # With --declared-in, adopt_declaration below checks them against that file.
            parameters=None if getattr(args, "declared_in", None) else parameters,
            told=told,
        )
    except TargetError as exc:
        print(f"handlerlens: {exc}", file=sys.stderr)
        return None
    declared_in = getattr(args, "declared_in", None)
    if declared_in:
        from handlerlens.runner.function_setup import adopt_declaration

        try:
            for fn in functions:
                if fn.declared_in is None:
                    adopt_declaration(fn, os.path.abspath(declared_in), parameters, told)
        except TargetError as exc:
            print(f"handlerlens: {exc}", file=sys.stderr)
            return None
    for line in told:
        print(f"handlerlens: {line}", file=sys.stderr)
    for note in notes:
        print(f"handlerlens: --env-vars {args.env_vars}: {note}", file=sys.stderr)
    if warnings:
        files = "file does" if len(warnings) == 1 else "files do"
        print(
            f"handlerlens: warning: {len(warnings)} declaring {files} not parse; the functions "
            "declared there are left out:",
            *warnings,
            sep="\n",
            file=sys.stderr,
        )
    return list(functions)


def _redeclare(args: argparse.Namespace) -> list[Any]:
    """The served functions read again from their declaring files (serve, after one of them
    changed): what _resolve says goes into the exception, not to stderr."""
    import contextlib
    import io

    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        functions = _resolve(args, list(args.targets))
    if functions is None or "not parse" in said.getvalue():
        # A declaring file that does not parse declares nothing now: keep what it declared.
        raise ValueError(said.getvalue().strip().removeprefix("handlerlens: "))
    if args.timeout_from and args.timeout:
        for fn in functions:
            fn.timeout_from = args.timeout_from  # type: ignore[attr-defined]
    return functions


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

    functions = _resolve(args, list(args.targets))
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
    python = _isolate(args, functions, status)
    if python is None:
        return 2
    keeper = _tokens(args, functions)
    if keeper is False:
        return 2
    if keeper is not None:
        from handlerlens.runner.yc_token import keep_fresh

        keep_fresh(keeper, _say)
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
        redeclare=lambda: _redeclare(args),
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

    functions = _resolve(args, [args.target] if args.target else [], single=True)
    if functions is None:
        return 2
    fn: ServedFunction = functions[0]  # type: ignore[assignment]
    python = _isolate(args, functions)
    if python is None:
        return 2
    event = _event(args.event, fn)
    if event is None:
        return 2
    keeper = _tokens(args, functions)
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
