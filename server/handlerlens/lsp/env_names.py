"""Environment variable names in `os.environ["`, `os.getenv("`: completion with the names the
functions reaching the file declare and the platform's, hover with the declared value and
where it is declared. Called by the completion and hover features before their own answers
(a helper, not a feature: it registers nothing)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from handlerlens.core.problems import Span
from handlerlens.lsp.convert import to_path, to_range
from handlerlens.lsp.server import HandlerLensServer

if TYPE_CHECKING:
    from handlerlens.core.model import FunctionSpec

log = logging.getLogger(__name__)


def specs_reaching(ls: HandlerLensServer, path: str) -> list[FunctionSpec]:
    """Functions whose handler's imports reach `path` (their deploy check read it)."""
    ws = ls.workspace_for(path)
    out = []
    for report in ws.reports:
        result = ws.deploy.results.get(id(report.spec))
        if result is not None and path in result.files and report.spec not in out:
            out.append(report.spec)
    return out


def _line(ls: HandlerLensServer, uri: str, line: int) -> str:
    lines = ls.workspace.get_text_document(uri).lines
    return lines[line].rstrip("\r\n") if 0 <= line < len(lines) else ""


def _env_line(
    ls: HandlerLensServer, params: lsp.CompletionParams | lsp.HoverParams
) -> tuple[str, str] | None:
    """The path of a Python file and its line at the cursor, when the line can name an env
    variable (`os.environ[…`, `os.getenv(…`); None otherwise."""
    path = to_path(params.text_document.uri)
    if path is None or not path.endswith(".py"):
        return None
    line = _line(ls, params.text_document.uri, params.position.line)
    if "environ" not in line and "getenv" not in line:
        return None
    return path, line


def _on_line(span: Span, line: int) -> lsp.Range:
    return to_range(span.shifted(line))


def env_completion(
    ls: HandlerLensServer, params: lsp.CompletionParams
) -> lsp.CompletionList | None:
    """Names for an env string being typed at the cursor, or None (not one)."""
    try:
        return _env_completion(ls, params)
    except Exception:  # a bug here must cost one completion, never an error popup
        log.exception("env completion failed at %s", params.position)
        return None


def env_hover(ls: HandlerLensServer, params: lsp.HoverParams) -> lsp.Hover | None:
    """The declared value of the env name under the cursor, or None (not one)."""
    try:
        return _env_hover(ls, params)
    except Exception:
        log.exception("env hover failed at %s", params.position)
        return None


def _env_completion(
    ls: HandlerLensServer, params: lsp.CompletionParams
) -> lsp.CompletionList | None:
    at = _env_line(ls, params)
    if at is None:
        return None
    path, line = at
    from handlerlens.deploy.env_names import complete_env

    found = complete_env(line, params.position.character, specs_reaching(ls, path))
    if found is None:
        return None
    span, items = found
    rng = _on_line(span, params.position.line)
    return lsp.CompletionList(
        is_incomplete=False,
        items=[
            lsp.CompletionItem(
                label=item.name,
                kind=lsp.CompletionItemKind.Variable,
                detail=item.detail,
                documentation=lsp.MarkupContent(
                    kind=lsp.MarkupKind.Markdown, value=item.documentation
                ),
                sort_text=("0" if item.declared else "1") + item.name,
                text_edit=lsp.TextEdit(range=rng, new_text=item.name),
            )
            for item in items
        ],
    )


def _env_hover(ls: HandlerLensServer, params: lsp.HoverParams) -> lsp.Hover | None:
    at = _env_line(ls, params)
    if at is None:
        return None
    path, line = at
    from handlerlens.deploy.env_names import hover_env

    specs = specs_reaching(ls, path)
    if not specs:
        return None
    found = hover_env(line, params.position.character, specs)
    if found is None:
        return None
    span, markdown = found
    return lsp.Hover(
        contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=markdown),
        range=_on_line(span, params.position.line),
    )
