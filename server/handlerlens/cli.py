"""The `handlerlens` command: `lsp`, `check`, `serve`, `invoke`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from handlerlens import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="handlerlens",
        description="Editor tooling for Python handlers on Yandex Cloud Functions and AWS Lambda.",
    )
    parser.add_argument("--version", action="version", version=f"handlerlens {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    lsp = sub.add_parser("lsp", help="run the language server on stdio")
    lsp.add_argument("--log-file", help="write the server's own log here")

    check = sub.add_parser("check", help="report the editor's diagnostics, for CI")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    check.add_argument("--format", choices=("text", "json", "github"), default="text")
    check.add_argument(
        "--platform",
        choices=("yandex", "aws"),
        default=None,
        help="platform for functions whose declaring file does not say",
    )

    try:
        from handlerlens.runner import cli as runner_cli
    except ImportError:  # a distribution without the runner
        pass
    else:
        serve = sub.add_parser("serve", help="run a function locally over HTTP, with hot reload")
        runner_cli.add_serve_arguments(serve)
        invoke = sub.add_parser("invoke", help="invoke a function once; response on stdout")
        runner_cli.add_invoke_arguments(invoke)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits 2 on usage errors already; keep --help/--version at 0.
        return int(exc.code or 0)
    if args.command == "lsp":
        if args.log_file:
            import logging

            logging.basicConfig(filename=args.log_file, level=logging.INFO)
        from handlerlens.lsp.server import build_server

        build_server().start_io()
        return 0
    if args.command == "check":
        from handlerlens.check import run_check

        try:
            return run_check(args.paths, args.format, args.platform)
        except Exception as exc:  # an internal error must still give CI a clear status
            sys.stderr.write(f"handlerlens check: internal error: {exc!r}\n")
            return 2
    from handlerlens.runner import cli as runner_cli

    if args.command == "serve":
        return runner_cli.run_serve(args)
    return runner_cli.run_invoke(args)
