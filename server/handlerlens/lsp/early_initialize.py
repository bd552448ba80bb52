"""The answer to `initialize`, sent before pygls is imported.

pygls and lsprotocol take ~0.3–0.45 s to import (lsprotocol's ~1,000 attrs classes are built at
import), while the `initialize` answer is fixed data: this server's capabilities, of which only
the position encoding depends on the client. So `handlerlens lsp` reads the first message
itself, answers it from here at once, and only then imports pygls and builds the server; the
editor's next messages (`initialized`, `didOpen`…) wait in the pipe meanwhile.

pygls then handles the same `initialize` message as usual (it sets up the workspace, the
client's capabilities and HandlerLens' settings): `HandlerLensProtocol` (pygls_patches)
drops its answer, since the client has one already, and logs an error if it differs from the
one sent here. `tests/lsp/test_early_initialize.py` compares the two for every client in
pytest-lsp's collection; a feature added without updating `CAPABILITIES` fails it.

Standard library only: this module runs before anything else of the server is imported.
"""

from __future__ import annotations

import json
import os

from handlerlens import __version__

TYPE_CHECKING = False  # not typing's: nothing that need not load before the answer
if TYPE_CHECKING:
    from typing import Any, BinaryIO

SERVER_NAME = "handlerlens"
# What pygls 2.1 answers for this server's features, but what depends on the client (below).
CAPABILITIES: dict[str, Any] = {
    # + `willSave`, `willSaveWaitUntil`: False when the client says either way, else absent
    "textDocumentSync": {"openClose": True, "change": 2, "save": True},  # 2: incremental
    "completionProvider": {"triggerCharacters": [".", "[", "'", '"'], "resolveProvider": True},
    "hoverProvider": True,
    "codeActionProvider": {"codeActionKinds": ["quickfix"]},
    "codeLensProvider": {"resolveProvider": False},
    "executeCommandProvider": {
        "commands": [
            "handlerlens.server.listFunctions",
            "handlerlens.server.listEvents",
            "handlerlens.server.run",
            "handlerlens.server.startRunner",
            "handlerlens.server.stopRunner",
            "handlerlens.server.debug",
            "handlerlens.server.sendRequest",
            "handlerlens.server.startApp",
            "handlerlens.server.stopApp",
        ]
    },
    "workspace": {
        "workspaceFolders": {"supported": True, "changeNotifications": True},
        "fileOperations": {},
    },
}
# pygls' choice: the first of the client's `general.positionEncodings` it supports, else UTF-16.
SUPPORTED_ENCODINGS = ("utf-8", "utf-16", "utf-32")
MAX_HEADER_BYTES = 8192
MAX_FIRST_MESSAGE_BYTES = 16 << 20


class Answered:
    """The `initialize` request answered early: its id and the result sent; `consumed` holds
    every byte read from stdin (that request included), for pygls to read first."""

    def __init__(
        self,
        msg_id: int | str | None,
        result: dict[str, Any],
        consumed: bytes,
        params: Any = None,
        end: int = 0,
    ) -> None:
        self.msg_id = msg_id
        self.result = result
        self.consumed = consumed
        self.params = params  # the request's parameters, as JSON
        self.end = end  # where in `consumed` the request ends (what follows came with it)


def initialize_result(params: Any) -> dict[str, Any]:
    """The `InitializeResult` for `params` (the request's parameters, as JSON)."""
    encoding = "utf-16"
    offered = _get(params, "capabilities", "general", "positionEncodings")
    if isinstance(offered, list):
        encoding = next((e for e in offered if e in SUPPORTED_ENCODINGS), encoding)
    capabilities = {"positionEncoding": encoding, **CAPABILITIES}
    # pygls answers `client's value and (the server handles willSave)`: it does not, so False
    # when the client gave a value that is not null, else nothing.
    sync = dict(CAPABILITIES["textDocumentSync"])
    for name in ("willSave", "willSaveWaitUntil"):
        if _get(params, "capabilities", "textDocument", "synchronization", name) is not None:
            sync[name] = False
    capabilities["textDocumentSync"] = sync
    return {
        "capabilities": capabilities,
        "serverInfo": {"name": SERVER_NAME, "version": __version__},
    }


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def answer_initialize(stdin: BinaryIO, stdout: BinaryIO) -> Answered | bytes:
    """Read the first message from `stdin`; when it is `initialize`, answer it on `stdout`.

    Returns what was read: an `Answered` when the answer was sent, else the bytes alone (not
    an `initialize`, not parseable, or the input ended first), which pygls then reads and
    answers as it would have. Reads the file descriptor directly, never more than one message
    plus what the same read brought along, all of it handed on.
    """
    fd = stdin.fileno()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = os.read(fd, 65536)
        if not chunk or len(data) > MAX_HEADER_BYTES:
            return data + chunk
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = content_length(head)
    if length is None or length > MAX_FIRST_MESSAGE_BYTES:
        return data
    while len(rest) < length:
        chunk = os.read(fd, max(65536, length - len(rest)))
        if not chunk:
            return data
        data += chunk
        rest += chunk
    try:
        message = json.loads(rest[:length])
    except ValueError:
        return data
    if not isinstance(message, dict) or message.get("method") != "initialize":
        return data
    if "id" not in message:
        return data
    result = initialize_result(message.get("params"))
    body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result})
    stdout.write(
        f"Content-Length: {len(body.encode())}\r\n"
        f"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{body}".encode()
    )
    stdout.flush()
    end = len(data) - len(rest) + length
    return Answered(message["id"], result, data, message.get("params"), end)


def content_length(head: bytes | bytearray) -> int | None:
    """The Content-Length of a message's header block; None when it has none that reads."""
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return int(value.strip())
            except ValueError:
                return None
    return None
