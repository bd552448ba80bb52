"""Every place HandlerLens changes or reaches into pygls, in one module, for one pygls version.

Written against pygls 2.1.1. Each patch below leans on pygls internals (private methods and
attributes, the shape of its reader loop), which a new minor version may change without
notice: `check_pygls_version` stops the server at start-up on any other major.minor, with a
message that says what to install, instead of letting a patch silently misbehave.

What changes, and why:
1. `TextDocument.lines`: pygls splits with `str.splitlines`, which also breaks at \\f, \\v,
   \\x85, U+2028…; LSP (and Python) break lines only at \\r\\n, \\r and \\n, so incremental
   edits after such a character landed on the wrong line. Ours splits at LSP's breaks only,
   and once per version of the text (pygls reads `lines` several times per change).
2. `TextDocument._apply_incremental_change`: pygls rebuilds the whole text line by line for
   every keystroke and splits it again on the next read (~5 ms per 2,000 lines); ours splices
   the text with the same clamping of positions, and splices the cached lines too.
3. Reading stdin (`serve_on_loop`, used by `HandlerLensServer._start_io_async`): pygls reads
   stdin on a thread, three reads per message, each handed back to the event loop (~0.3 ms of
   thread hops per keystroke and again per completion request); ours reads a pipe or socket on
   the event loop itself and hands pygls' own `run_async` the same reader interface. It also
   hands pygls first the bytes `early_initialize` read before pygls was imported.
4. `HandlerLensProtocol._send_response`: when `early_initialize` answered `initialize` before
   pygls was imported, pygls still handles that request (workspace, client capabilities,
   settings) but its answer is dropped, the client having one already; an answer that differs
   from the early one is logged as an error. Likewise pygls' answers to the lens requests the
   early look answered before pygls was loaded (lsp/early_look.py, the server's `early_ids`).
"""

from __future__ import annotations

import os
import sys

# Nothing of pygls loads here at import time: `apply` checks the version first, so another
# pygls fails with the message below, not with whatever its renamed internals would raise.
# Nor anything else the version check does not need: `handlerlens lsp` checks it before it
# answers `initialize` (early_initialize), the rest loads after.
TYPE_CHECKING = False  # not typing's
if TYPE_CHECKING:
    import asyncio
    import logging
    from collections.abc import Callable
    from typing import Any, BinaryIO

    from lsprotocol import types as lsp
    from pygls.protocol import LanguageServerProtocol
    from pygls.server import JsonRPCServer
    from pygls.workspace import TextDocument

    from handlerlens.lsp.early_initialize import Answered

# The pygls release these patches were written and tested against; any other major.minor
# is refused at start-up (a patch release of 2.1 is accepted).
WRITTEN_AGAINST = "2.1.1"


class PyglsVersionError(RuntimeError):
    """The installed pygls is not the version the patches were written against."""


def installed_pygls_version() -> str:
    """The installed pygls' version, from its distribution's metadata.

    Read from the `pygls-<version>.dist-info` folder beside the package (a directory listing):
    `importlib.metadata` costs ~40 ms of imports, paid before the first `initialize` answer.
    Installs without such a folder beside the package (an editable one) fall back to it.
    """
    import pygls

    site = os.path.dirname(os.path.dirname(os.path.abspath(pygls.__file__)))
    try:
        names = os.listdir(site)
    except OSError:
        names = []
    found = [
        n[len("pygls-") : -len(".dist-info")]
        for n in names
        if n.startswith("pygls-") and n.endswith(".dist-info")
    ]
    if len(found) == 1:
        return found[0]
    from importlib.metadata import version

    return version("pygls")


def check_pygls_version(installed: str, written_against: str = WRITTEN_AGAINST) -> None:
    """Raise `PyglsVersionError` unless `installed` has the major.minor of `written_against`."""
    if installed.split(".")[:2] == written_against.split(".")[:2]:
        return
    wanted = ".".join(written_against.split(".")[:2])
    raise PyglsVersionError(
        f"HandlerLens' language server was written against pygls {written_against} and "
        f"patches its internals; pygls {installed} is installed. Install pygls~={wanted}.0 "
        f"(pip install 'pygls~={wanted}.0'), or use the packaged extension, which bundles it."
    )


# pygls' own methods that `apply` replaced, by name.
_replaced: dict[str, object] = {}


def apply() -> None:
    """Check the pygls version, then apply patches 1 and 2 (once; patch 3 is per server).

    Raises `PyglsVersionError` before any pygls module but the package itself is imported.
    """
    if _replaced:
        return
    check_pygls_version(installed_pygls_version())
    from pygls.workspace import TextDocument

    _replaced["lines"] = TextDocument.lines
    _replaced["_apply_incremental_change"] = TextDocument._apply_incremental_change
    TextDocument.lines = property(lsp_lines)  # type: ignore[method-assign,assignment]
    TextDocument._apply_incremental_change = apply_incremental_change  # type: ignore[method-assign]


def pygls_apply_incremental_change() -> Callable[[TextDocument, Any], None]:
    """pygls' own incremental edit, patched or not: the reference the tests compare ours with."""
    from pygls.workspace import TextDocument

    original = _replaced.get("_apply_incremental_change", TextDocument._apply_incremental_change)
    return original  # type: ignore[return-value]


# -- 1. lines at LSP's line breaks, split once per text ---------------------------------------


def lsp_lines(self: TextDocument) -> tuple[str, ...]:
    """`TextDocument.lines` split at \\r\\n, \\r and \\n only, cached per text."""
    from handlerlens.core.text import split_lines_keepends

    source = self.source
    cached = getattr(self, "_handlerlens_lines", None)
    if cached is not None and cached[0] is source:
        return cached[1]  # type: ignore[no-any-return]
    lines = tuple(split_lines_keepends(source))
    self._handlerlens_lines = (source, lines)  # type: ignore[attr-defined]
    return lines


# -- 2. incremental edits as a splice --------------------------------------------------------


def apply_incremental_change(
    self: TextDocument, change: lsp.TextDocumentContentChangePartial
) -> None:
    """Splice one incremental change into the text and into the cached lines."""
    from handlerlens.core.text import split_lines_keepends

    lines = lsp_lines(self)
    span = self.position_codec.range_from_client_units(lines, change.range)
    source = self.source
    text = change.text
    if span.start.line >= len(lines):
        self._source = source + text
        return
    start_line = span.start.line
    first = lines[start_line]
    start_col = min(span.start.character, len(first))
    start = sum(map(len, lines[:start_line])) + start_col
    end_line = span.end.line
    tail: tuple[str, ...] = ()
    if end_line >= len(lines):
        end, rest = len(source), ""
    else:
        last = lines[end_line]
        end_col = min(span.end.character, len(last))
        end = max(start, sum(map(len, lines[:end_line])) + end_col)
        rest, tail = last[end_col:], lines[end_line + 1 :]
    new_source = source[:start] + text + source[end:]
    self._source = new_source
    middle = tuple(split_lines_keepends(first[:start_col] + text + rest))
    before = lines[start_line - 1] if start_line else ""
    after = tail[0] if tail else ""
    head = middle[0] if middle else after
    end_piece = middle[-1] if middle else before
    if (
        (before.endswith("\r") and head.startswith("\n"))  # a \r\n formed across the edit
        or (end_piece.endswith("\r") and after.startswith("\n"))
        or (middle and tail and not middle[-1].endswith(("\n", "\r")))
    ):
        return  # rare: the next read splits the whole text
    self._handlerlens_lines = (new_source, lines[:start_line] + middle + tail)  # type: ignore[attr-defined]


# -- 3. stdin read on the event loop ---------------------------------------------------------


def serve_on_loop(
    server: JsonRPCServer,
    stdin: BinaryIO | None,
    stdout: BinaryIO | None,
    logger: logging.Logger,
    read_first: bytes = b"",
) -> bool:
    """Serve `server` over stdio with stdin read on the event loop; False (nothing done) when
    stdin is not a pipe or socket (a file, a terminal), which pygls' own reader then serves.
    `read_first`: bytes already read from stdin, handed to pygls before the rest.

    Mirrors pygls 2.1's `JsonRPCServer._start_io_async` except for the reader.
    """
    import asyncio
    import threading

    from pygls.io_ import StdoutWriter, run_async

    source = stdin or sys.stdin.buffer
    if not pollable(source):
        return False
    stop = server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(limit=1 << 20)
        if read_first:
            stream.feed_data(read_first)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), source)
        await run_async(
            stop_event=stop,
            reader=_LoopReader(stream),
            protocol=server.protocol,
            logger=logger,
            error_handler=server.report_server_error,
        )

    try:
        asyncio.run(serve())
    except BrokenPipeError:
        logger.error("Connection to the client is lost! Shutting down the server.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
    return True


def pollable(stream: BinaryIO) -> bool:
    """Whether the event loop can watch `stream` (a pipe, socket or FIFO; not a file or tty).

    POSIX only: Windows' proactor loop cannot read the anonymous pipes editors give us.
    """
    import stat

    if os.name != "posix":
        return False
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _LoopReader:
    """pygls' reader interface over an asyncio stream: end of input reads as b""."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        import asyncio

        self.stream = stream
        self._sleep = asyncio.sleep
        self._incomplete = asyncio.IncompleteReadError

    async def readline(self) -> bytes:
        # Yield once per line, as the threaded reader did: a handler that pygls started as a
        # task (didOpen, completion) runs before the next message is handled, so it never
        # sees a later edit's text.
        await self._sleep(0)
        return await self.stream.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except self._incomplete:
            return b""


# -- 4. `initialize` answered before pygls loaded ---------------------------------------------


def protocol_class() -> type[LanguageServerProtocol]:
    """pygls' LSP protocol with patch 4 (imported here: pygls loads after the version check)."""
    import json

    from pygls.protocol import LanguageServerProtocol

    class HandlerLensProtocol(LanguageServerProtocol):
        """Drops pygls' answer to an `initialize` that `early_initialize` answered already
        (the server's `early_answer`), and to the requests the early look answered (its
        `early_ids`: lsp/early_look.py)."""

        early_dropped = False

        def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
            answered: set[Any] = getattr(self._server, "early_ids", set())
            if msg_id in answered:
                answered.discard(msg_id)  # (an id may come again in a later request)
                return
            early: Answered | None = getattr(self._server, "early_answer", None)
            if early is None or self.early_dropped or msg_id != early.msg_id or error:
                super()._send_response(msg_id, result, error)
                return
            self.early_dropped = True
            # As `_send_data` would have written it.
            ours = json.loads(json.dumps(result, default=self._serialize_message))
            if ours != early.result:
                import logging

                logging.getLogger(__name__).error(
                    "initialize was answered early with %s; pygls would have answered %s "
                    "(update lsp/early_initialize.py)",
                    early.result,
                    ours,
                )

    return HandlerLensProtocol
