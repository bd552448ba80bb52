"""The `handlerlens` command: `lsp`, `check`, `serve`, `invoke`, `event`, `test`."""

from __future__ import annotations

import argparse
import sys

from handlerlens import __version__
from handlerlens.console import HelpFormatter, stopped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def _lsp_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-file", metavar="PATH", help="write the server's own log here")


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help="project folders or files to check (default: the current folder)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text (default), json, or github (workflow annotations)",
    )
    parser.add_argument(
        "--platform",
        choices=("yandex", "aws"),
        default=None,
        help="platform for functions whose declaring file does not say",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="parse every declaring file again: neither read nor write the parse cache "
        "($XDG_CACHE_HOME/handlerlens/check, by default ~/.cache/handlerlens/check)",
    )


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    from handlerlens.runner import arguments

    arguments.add_serve_arguments(parser)


def _invoke_arguments(parser: argparse.ArgumentParser) -> None:
    from handlerlens.runner import arguments

    arguments.add_invoke_arguments(parser)


def _event_arguments(parser: argparse.ArgumentParser) -> None:
    from handlerlens.replay import cli as replay_cli

    replay_cli.add_event_arguments(parser)


def _test_arguments(parser: argparse.ArgumentParser) -> None:
    from handlerlens.replay import cli as replay_cli

    replay_cli.add_test_arguments(parser)


# name → (help, arguments)
COMMANDS = {
    "lsp": ("run the language server on stdio", _lsp_arguments),
    "check": ("report the editor's diagnostics, for CI", _check_arguments),
    "serve": ("run a function locally over HTTP, with hot reload", _serve_arguments),
    "invoke": ("invoke a function once; response on stdout", _invoke_arguments),
    "event": ("save sample events for a function, list saved ones", _event_arguments),
    "test": ("run saved events and compare with their expected responses", _test_arguments),
}


def _command(argv: Sequence[str]) -> str | None:
    """The command named on the line, if it is one of ours (the first non-option word)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
        if arg == "--":
            return None
    return None


def _parser(
    only: str | None = None,
) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The command line and its commands' sub-parsers; with `only`, just that command's
    sub-parser is built (each costs argparse a few gettext look-ups on disk, noticeable in a
    45 ms `handlerlens invoke`)."""
    parser = argparse.ArgumentParser(
        prog="handlerlens",
        description="Editor tooling for Python handlers on Yandex Cloud Functions and AWS Lambda.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"handlerlens {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    commands: dict[str, argparse.ArgumentParser] = {}
    for name, (text, add_arguments) in COMMANDS.items():
        if only is None or name == only:
            commands[name] = sub.add_parser(name, help=text, formatter_class=HelpFormatter)
            add_arguments(commands[name])
    return parser, commands


def _unrecognized(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """argparse's "unrecognized arguments" message, with a "did you mean" for a mistyped
    option (`--prot` → `--port`)."""
    import difflib

    known = [
        option
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        for option in action.option_strings
        if option.startswith("--")
    ]
    message = "unrecognized arguments: " + " ".join(extras)
    for extra in extras:
        if not extra.startswith("-"):
            continue
        typed = extra.partition("=")[0]
        near = difflib.get_close_matches(typed, known, n=5, cutoff=0.6)
        if near:
            # Swapped letters (`--prot`) score no better than others in difflib's ratio
            # (`--root`): the same letters come first.
            near.sort(key=lambda option: sorted(option) != sorted(typed))
            message += f" (did you mean {near[0]}?)"
            break
    return message


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line; SystemExit (status 2, the command's own usage) when it is
    wrong, as argparse does."""
    parser, commands = _parser(_command(argv))
    # argparse reports options a command does not know with the top-level usage and no
    # advice; the command's own parser says it with its usage instead.
    args, extras = parser.parse_known_args(argv)
    if extras:
        own = commands.get(args.command, parser)
        own.error(_unrecognized(own, extras))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    own_process = argv is None  # the console script (or `python -m handlerlens`)
    if argv is None:
        argv = sys.argv[1:]
    if own_process and _command(argv) == "invoke":
        # A process that lives for one invocation: the collector's passes over the imports
        # it loads cost ~1.5 ms of a ~37 ms command and free nothing (no cycles outlive it).
        # The worker it forks turns collection back on (runner/invoke_child.py).
        import gc

        gc.disable()
    try:
        args = parse(argv)
    except SystemExit as exc:
        # argparse exits 2 on usage errors already; keep --help/--version at 0.
        return int(exc.code or 0)
    if args.command == "lsp":
        if args.log_file:
            import logging

            logging.basicConfig(filename=args.log_file, level=logging.INFO)
        from handlerlens.lsp.main import serve_stdio

        return serve_stdio()
    if args.command == "check":
        from handlerlens.check import run_check

        try:
            return run_check(args.paths, args.format, args.platform, cache=not args.no_cache)
        except KeyboardInterrupt:
            return stopped()
        except Exception as exc:  # an internal error must still give CI a clear status
            sys.stderr.write(f"handlerlens check: internal error: {exc!r}\n")
            return 2
    if args.command in ("event", "test"):
        from handlerlens.replay import cli as replay_cli

        try:
            if args.command == "event":
                return replay_cli.run_event(args)
            return replay_cli.run_test(args)
        except KeyboardInterrupt:  # (the runners it started are stopped on the way out)
            return stopped()
    from handlerlens.runner import cli as runner_cli

    if args.command == "serve":
        return runner_cli.run_serve(args)
    code = runner_cli.run_invoke(args)
    if own_process:
        # Everything is written and the worker is gone (run_invoke's finally): tearing down
        # the interpreter's modules would add ~2.5 ms for nobody.
        import os

        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a reader that went away (`| head -c1`)
                pass
        os._exit(code)
    return code
