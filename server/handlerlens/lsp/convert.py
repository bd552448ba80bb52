"""Conversions between analysis data (paths, spans, problems) and LSP types."""

from __future__ import annotations

import os

from lsprotocol import types as lsp

from handlerlens.core.problems import Fix, Position, Problem, Span
from handlerlens.lsp.payloads import SOURCE, to_path, to_uri

__all__ = ["SOURCE", "to_path", "to_uri"]  # (also from here: the features' one import)


def to_range(span: Span) -> lsp.Range:
    """Span → LSP Range (both zero-based, UTF-16 columns)."""
    return lsp.Range(
        start=lsp.Position(line=span.start.line, character=span.start.character),
        end=lsp.Position(line=span.end.line, character=span.end.character),
    )


def to_position(pos: lsp.Position) -> Position:
    """LSP Position → analysis Position."""
    return Position(pos.line, pos.character)


def to_diagnostic(problem: Problem) -> lsp.Diagnostic:
    """Problem → Diagnostic with our source and stable code."""
    return lsp.Diagnostic(
        range=to_range(problem.span),
        message=problem.message,
        severity=lsp.DiagnosticSeverity(int(problem.severity)),
        code=problem.code,
        source=SOURCE,
        related_information=[
            lsp.DiagnosticRelatedInformation(
                location=lsp.Location(uri=to_uri(path), range=to_range(span)), message=note
            )
            for path, span, note in problem.related
        ]
        or None,
    )


def to_workspace_edit(fix: Fix) -> lsp.WorkspaceEdit:
    """A Fix as a WorkspaceEdit (it may target another file than the diagnostic's)."""
    edit = lsp.TextEdit(range=to_range(fix.span), new_text=fix.new_text)
    if not os.path.exists(fix.path):
        # A file the fix creates (a requirements.txt not there yet): create, then write.
        uri = to_uri(fix.path)
        return lsp.WorkspaceEdit(
            document_changes=[
                lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(ignore_if_exists=True)),
                lsp.TextDocumentEdit(
                    text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=None
                    ),
                    edits=[edit],
                ),
            ]
        )
    return lsp.WorkspaceEdit(changes={to_uri(fix.path): [edit]})


def overlaps(span: Span, rng: lsp.Range) -> bool:
    """Whether `span` touches the LSP range `rng` (inclusive at the ends)."""
    start = to_position(rng.start)
    end = to_position(rng.end)
    return not (span.end < start or end < span.start)
