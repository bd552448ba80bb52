"""The server's fast text splitting and incremental edits give exactly what pygls' own code
gives with LSP's line breaks (\\r\\n, \\r, \\n only), for any text and any range."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from pygls.workspace import TextDocument

from handlerlens.core.text import _LINE_BREAK, split_lines, split_lines_keepends
from handlerlens.lsp.pygls_patches import (
    apply_incremental_change,
    lsp_lines,
    pygls_apply_incremental_change,
)

# Line breaks of every kind (\r and \n apart too, so edits can join and part \r\n), the ones
# LSP ignores included, and a non-BMP character.
ALPHABET = st.sampled_from(["a", "é", "😀", " ", "\n", "\r", "\r\n", "\f", "\x85", "\u2028", "\v"])
TEXTS = st.lists(ALPHABET, max_size=40).map("".join)


def _reference_keepends(text: str) -> list[str]:
    out, start = [], 0
    for match in _LINE_BREAK.finditer(text):
        out.append(text[start : match.end()])
        start = match.end()
    return out + ([text[start:]] if start < len(text) else [])


@given(TEXTS)
def test_split_lines(text: str) -> None:
    assert split_lines_keepends(text) == _reference_keepends(text)
    # LSP's lines: after a final break (or in "") one more, empty line stands.
    lsp_lines = [_LINE_BREAK.sub("", line) for line in _reference_keepends(text)]
    if not text or text.endswith(("\r", "\n")):
        lsp_lines.append("")
    assert split_lines(text) == lsp_lines


class _Reference(TextDocument):
    lines = property(lsp_lines)  # type: ignore[assignment]
    _apply_incremental_change = pygls_apply_incremental_change()


class _Ours(TextDocument):
    lines = property(lsp_lines)  # type: ignore[assignment]
    _apply_incremental_change = apply_incremental_change  # type: ignore[assignment]


@settings(max_examples=1000)
@given(
    TEXTS,
    st.integers(0, 8),
    st.integers(0, 12),
    st.integers(0, 8),
    st.integers(0, 12),
    TEXTS,
)
def test_incremental_change(text: str, l1: int, c1: int, l2: int, c2: int, insert: str) -> None:
    # Valid LSP positions: a line of the text (the empty one after a final break included)
    # and a column within it, in UTF-16 code units. (Past a line's end, pygls 2.1's own
    # splice duplicates text; ours clamps.)
    lines = split_lines(text)

    def valid(line: int, col: int) -> tuple[int, int]:
        line = min(line, len(lines) - 1)
        return line, min(col, len(lines[line].encode("utf-16-le")) // 2)

    (l1, c1), (l2, c2) = valid(l1, c1), valid(l2, c2)
    if (l2, c2) < (l1, c1):
        l1, c1, l2, c2 = l2, c2, l1, c1
    change = lsp.TextDocumentContentChangePartial(
        range=lsp.Range(lsp.Position(l1, c1), lsp.Position(l2, c2)), text=insert
    )
    results = []
    for kind in (_Reference, _Ours):
        doc = kind("file:///x.py", text, sync_kind=lsp.TextDocumentSyncKind.Incremental)
        doc.apply_change(change)
        results.append(doc.source)
        # The lines kept across the edit are the lines of the new text.
        assert doc.lines == tuple(_reference_keepends(doc.source))
    assert results[1] == results[0]
