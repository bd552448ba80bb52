"""Where the language server is put together: the pygls check and patches, then the features.

`handlerlens lsp` imports this module only; the server (`server.py`) knows nothing of its
features, and the features import the server's class, so the dependency runs one way.
Nothing here imports pygls before `serve_stdio` has checked its version and answered
`initialize` (early_initialize).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: nothing that need not load before the early answer
if TYPE_CHECKING:
    from handlerlens.lsp import early_look
    from handlerlens.lsp.server import HandlerLensServer

# The oldest Python the server runs on (pyproject's requires-python; package.json's
# serverInfo.minimumPython for the editor's message).
MINIMUM_PYTHON = (3, 10)


def load_server() -> None:
    """Import pygls, lsprotocol and the features (what `build_server` needs; ~0.3–0.5 s, run
    on a thread of its own while the early look answers, lsp/early_look.py).

    Raises `pygls_patches.PyglsVersionError` on a pygls other than the one the patches were
    written against, before the rest of pygls is imported.
    """
    from handlerlens.lsp import pygls_patches

    pygls_patches.apply()
    # Imported once the version is known to be right (they import pygls' server and types).
    import handlerlens.lsp.features
    import handlerlens.lsp.server  # noqa: F401


def build_server() -> HandlerLensServer:
    """A server with every feature registered (on the thread that serves: pygls' objects are
    made here, after `load_server`'s imports)."""
    load_server()
    from handlerlens.lsp.features import register_all
    from handlerlens.lsp.server import HandlerLensServer

    server = HandlerLensServer()
    register_all(server)
    return server


def serve_stdio() -> int:
    """`handlerlens lsp`: serve on stdin/stdout until the client leaves; the exit status.

    Checks the Python and pygls versions, says on stderr which Python it runs on (the editor
    shows it; VS Code's client reads it there rather than run Python once more before the
    server), answers `initialize` when stdin is a pipe or socket (every editor) before pygls
    is imported, then builds the server, which reads what was read already first. On an older
    Python or another pygls: one line on stderr, exit status 2.
    """
    import sys

    python = sys.version.split()[0]
    if sys.version_info < MINIMUM_PYTHON:
        # One line an editor can show (VS Code shows the last `…Error: …` line it got).
        wanted = ".".join(map(str, MINIMUM_PYTHON))
        sys.stderr.write(
            f"PythonVersionError: HandlerLens' language server needs Python {wanted} or newer;"
            f" {sys.executable} is Python {python}\n"
        )
        return 2

    from handlerlens import __version__
    from handlerlens.lsp import early_initialize, pygls_patches

    try:
        pygls_patches.check_pygls_version(pygls_patches.installed_pygls_version())
    except pygls_patches.PyglsVersionError as exc:
        sys.stderr.write(f"PyglsVersionError: {exc}\n")
        return 2
    sys.stderr.write(f"HandlerLens {__version__} on Python {python} ({sys.executable})\n")
    sys.stderr.flush()
    early: early_initialize.Answered | None = None
    looked: early_look.Early | None = None
    read_first = b""
    if pygls_patches.pollable(sys.stdin.buffer):
        from handlerlens.lsp import early_look

        try:
            got = early_initialize.answer_initialize(sys.stdin.buffer, sys.stdout.buffer)
            if isinstance(got, early_initialize.Answered):
                early, read_first = got, got.consumed
                # The first problems and lenses while pygls loads (issue #21).
                looked = early_look.look(sys.stdin.buffer, sys.stdout.buffer, got, load_server)
                read_first = looked.read
            else:
                read_first = got
        except (KeyboardInterrupt, BrokenPipeError):
            return 0  # as pygls ends: interrupted, or the client is gone
    server = build_server()
    server.early_answer = early
    server.read_first = read_first
    if looked is not None:
        server.adopt(looked)
    server.start_io()
    return 0
