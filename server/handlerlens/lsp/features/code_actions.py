"""Quick fixes for problems whose fix is mechanical (entry-point typos, missing `context`)."""

from __future__ import annotations

from lsprotocol import types as lsp

from handlerlens.lsp.convert import overlaps, to_diagnostic, to_path, to_workspace_edit
from handlerlens.lsp.server import HandlerLensServer


def register(server: HandlerLensServer) -> None:
    """Wire textDocument/codeAction (quickfix only)."""

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]),
    )
    def code_action(
        ls: HandlerLensServer, params: lsp.CodeActionParams
    ) -> list[lsp.CodeAction] | None:
        path = to_path(params.text_document.uri)
        if path is None:
            return None
        actions: list[lsp.CodeAction] = []
        for problem in ls.problems_at(path):
            if not problem.fixes or not overlaps(problem.span, params.range):
                continue
            for fix in problem.fixes:
                actions.append(
                    lsp.CodeAction(
                        title=fix.title,
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=[to_diagnostic(problem)],
                        edit=to_workspace_edit(fix),
                        is_preferred=len(problem.fixes) == 1,
                    )
                )
        return actions or None
