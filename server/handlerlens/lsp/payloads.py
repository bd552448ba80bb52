"""The server's diagnostics and lenses as LSP JSON, built without lsprotocol.

The early look (lsp/early_look.py) sends them before lsprotocol is imported; once it is,
convert.to_diagnostic and features/codelens.py build the same payloads as lsprotocol objects
from what this module gives (`lens_entries`), and `tests/lsp/test_early_look.py` holds the two
equal. Standard library and `pygls.uris` only (no lsprotocol, no pygls server).
"""

from __future__ import annotations

from collections import Counter

from pygls import uris

from handlerlens.lsp import protocol
from handlerlens.platforms.triggers import DEFAULT_TRIGGER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from handlerlens.core.problems import Problem, Span
    from handlerlens.engine.workspace import HandlerSite

SOURCE = "handlerlens"


def to_path(uri: str) -> str | None:
    """Filesystem path of a `file:` URI, None for other schemes (untitled, git…)."""
    return uris.to_fs_path(uri) if uri.startswith("file:") else None


def to_uri(path: str) -> str:
    """A `file:` URI for an absolute path."""
    return uris.from_fs_path(path) or f"file://{path}"


def range_json(span: Span) -> dict[str, Any]:
    """Span → LSP Range (both zero-based, UTF-16 columns)."""
    return {
        "start": {"line": span.start.line, "character": span.start.character},
        "end": {"line": span.end.line, "character": span.end.character},
    }


def diagnostic_json(problem: Problem) -> dict[str, Any]:
    """A Problem as the Diagnostic convert.to_diagnostic makes, serialized."""
    result: dict[str, Any] = {
        "range": range_json(problem.span),
        "message": problem.message,
        "severity": int(problem.severity),
        "code": problem.code,
        "source": SOURCE,
    }
    if problem.related:
        result["relatedInformation"] = [
            {"location": {"uri": to_uri(path), "range": range_json(span)}, "message": note}
            for path, span, note in problem.related
        ]
    return result


def function_ref(site: HandlerSite, path: str) -> protocol.FunctionRef:
    """The identity a lens command carries."""
    spec = site.spec
    return protocol.FunctionRef(
        name=spec.name,
        platform=spec.platform,
        entry=spec.entry,
        root=spec.root,
        uri=to_uri(path),
        line=site.binding.line_span.start.line,
        trigger=spec.trigger or DEFAULT_TRIGGER[spec.platform],
    )


def lens_entries(
    sites: list[HandlerSite], path: str, client_commands: bool
) -> list[tuple[Span, str, str, protocol.FunctionRef]]:
    """Two lenses per function whose handler is defined in `path` (its `sites`): (where,
    title, command, the function's identity) each, "▶ Run" first."""
    per_line = Counter(site.binding.line_span.start.line for site in sites)
    run_cmd = protocol.CLIENT_RUN if client_commands else protocol.SERVER_RUN
    debug_cmd = protocol.CLIENT_DEBUG if client_commands else protocol.SERVER_DEBUG
    entries: list[tuple[Span, str, str, protocol.FunctionRef]] = []
    for site in sites:
        line = site.binding.line_span.start.line
        # Several functions may share one handler (two SAM functions, one file): name them.
        suffix = f" {site.spec.name}" if per_line[line] > 1 else " handler"
        ref = function_ref(site, path)
        span = site.binding.line_span
        entries.append((span, f"▶ Run{suffix}", run_cmd, ref))
        entries.append((span, f"Debug{suffix}", debug_cmd, ref))
    return entries


def lenses_json(sites: list[HandlerSite], path: str, client_commands: bool) -> list[Any]:
    """`lens_entries` as the CodeLens list features/codelens.py answers, serialized."""
    return [
        {
            "range": range_json(span),
            "command": {"title": title, "command": command, "arguments": [ref]},
        }
        for span, title, command, ref in lens_entries(sites, path, client_commands)
    ]
