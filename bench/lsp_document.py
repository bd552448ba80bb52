"""An open document on the client side: its lines, its version, and the edits sent for it."""

from __future__ import annotations

from typing import Any

from bench.lsp_client import LspClient


def _pos(line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": character}


class Document:
    """Keeps the client's copy of the text in step with the incremental edits it sends."""

    def __init__(self, client: LspClient, uri: str, text: str) -> None:
        self.client = client
        self.uri = uri
        self.lines = text.split("\n")
        self.version = 1
        sync = client.capabilities.get("textDocumentSync")
        kind = sync.get("change") if isinstance(sync, dict) else sync
        self.incremental = kind == 2

    @property
    def text(self) -> str:
        """The full text as the client holds it."""
        return "\n".join(self.lines)

    def open(self) -> None:
        """Send didOpen."""
        item = {"uri": self.uri, "languageId": "python", "version": 1, "text": self.text}
        self.client.notify("textDocument/didOpen", {"textDocument": item})

    def _change(self, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        before = self.lines[start[0]][: start[1]]
        after = self.lines[end[0]][end[1] :]
        self.lines[start[0] : end[0] + 1] = (before + text + after).split("\n")
        self.version += 1
        change: dict[str, Any]
        if self.incremental:
            change = {"range": {"start": _pos(*start), "end": _pos(*end)}, "text": text}
        else:
            change = {"text": self.text}
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [change],
            },
        )

    def set_line(self, line: int, text: str) -> None:
        """Replace the content of one line."""
        self._change((line, 0), (line, len(self.lines[line])), text)

    def insert_line_after(self, line: int, text: str) -> None:
        """Insert a new line below `line`."""
        end = len(self.lines[line])
        self._change((line, end), (line, end), "\n" + text)

    def delete_line(self, line: int) -> None:
        """Remove a line (not the first)."""
        self._change((line - 1, len(self.lines[line - 1])), (line, len(self.lines[line])), "")

    def type_at_end(self, line: int, char: str) -> None:
        """Type one character at the end of a line."""
        end = len(self.lines[line])
        self._change((line, end), (line, end), char)
