"""What every `handlerlens` command shares on the terminal: help's width, the Ctrl+C stop.

Standard library only and loaded by every command (`invoke`'s start-up pays for it): the
top-level parser (`cli`) and the commands' own modules (`runner.cli`, `replay.cli`) import it,
so none of them has to import another for these.
"""

from __future__ import annotations

import argparse
import os
import sys


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own, sized without `shutil` (argparse loads it for the terminal's width,
    ~4 ms of every `handlerlens invoke`): $COLUMNS, else the terminal, else 80 columns."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    stream = sys.__stdout__
    if stream is None:
        return 80
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (ValueError, OSError):
        return 80


# Stopped by Ctrl+C (SIGINT): the shells' convention, 128 + the signal's number.
EXIT_INTERRUPTED = 130


def stopped() -> int:
    """Ctrl+C (before `serve`'s own handler is in place, during `invoke`, `check`, `event`,
    `test`): a normal stop, said in one line, not a KeyboardInterrupt traceback; exit 130."""
    try:
        # The terminal echoed ^C with no line break after it.
        sys.stderr.write(("\n" if sys.stderr.isatty() else "") + "handlerlens: stopped\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return EXIT_INTERRUPTED
