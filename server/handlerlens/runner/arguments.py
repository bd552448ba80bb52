"""The arguments of `handlerlens serve` and `handlerlens invoke`, and the checks of their
values that argparse makes (a port, a positive number, KEY=VALUE).

Imports stay lazy: the platforms' defaults the help text names load only while a parser is
built, for the one command that runs.
"""

from __future__ import annotations

import argparse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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


def add_run_arguments(
    parser: argparse.ArgumentParser, project_root: str = "--project-root"
) -> None:
    """--python and --timeout, as serve, invoke and `handlerlens test` (whose runners are
    serve's) take them; `project_root`: the option naming the folder the search for an
    interpreter stops at."""
    from handlerlens.platforms.runner_env import DEFAULT_TIMEOUT_S, SERVERLESS_AWS_TIMEOUT_S

    parser.add_argument(
        "--python",
        metavar="PATH",
        help="interpreter to run the function in, with its packages (default: python = in "
        "[tool.handlerlens], else a .venv or venv in the code root or above it up to "
        f"{project_root}, else "
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


def _add_shared_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments serve and invoke share: the platform, the code root, the interpreter, the
    function's limits, environment, credentials and trigger."""
    from handlerlens.platforms.runner_env import (
        AWS_DECLARED_MEMORY_MB,
        DEFAULT_MEMORY_MB,
        SERVERLESS_AWS_MEMORY_MB,
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
    add_run_arguments(parser)
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
    _add_shared_arguments(parser)
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
    _add_shared_arguments(parser)
