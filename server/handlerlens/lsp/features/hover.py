"""Hover on a handler's `def`: platform, entry point, runtime, timeout, memory, trigger; and,
anywhere else in a handler, on event keys and context members (`event_hover`)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Position
from handlerlens.lsp.convert import to_path, to_range
from handlerlens.lsp.features.event_hover import event_hover
from handlerlens.lsp.server import HandlerLensServer
from handlerlens.platforms import rules_for
from handlerlens.platforms.triggers import DEFAULT_TRIGGER, triggers_for

if TYPE_CHECKING:
    from handlerlens.analysis.events.inference import TriggerChoice

log = logging.getLogger(__name__)

_DECLARED_BY = {
    "pyproject": "[tool.handlerlens] in",
    "sam": "SAM / CloudFormation template",
    "serverless": "Serverless Framework config",
    "terraform": "Terraform",
    "yc-cli": "`yc serverless function version create` in",
    "heuristic": "detected by shape (no declaring file)",
}


def describe(spec: FunctionSpec, choice: TriggerChoice | None = None) -> str:
    """Markdown describing one function, as shown on hover. `choice` is the trigger the
    event hover uses for an undeclared one (inferred from the keys the handler reads), so
    both hovers say the same."""
    from handlerlens.analysis.events.inference import TriggerChoice

    rules = rules_for(spec.platform)
    trigger = spec.trigger or DEFAULT_TRIGGER[spec.platform]
    trigger_title = triggers_for(spec.platform).get(trigger, trigger)
    if not spec.trigger:
        if choice is None or choice.platform != spec.platform:
            choice = TriggerChoice(spec.platform, trigger, "default")
        trigger_title = choice.describe()
    where = _DECLARED_BY[spec.declared_by]
    if spec.declared_in:
        where = f"{where} `{os.path.basename(spec.declared_in)}`"
    platform = rules.title
    if spec.declared_by == "heuristic":
        if not spec.platform_known:
            platform = (
                "unknown: nothing in or around the file shows which (the runner uses "
                f"{rules.title}; set `platform` to check platform-specific rules)"
            )
            if spec.platform_evidence:
                platform += " — signs of both: " + "; ".join(spec.platform_evidence)
        elif spec.platform_evidence:
            platform += " — from: " + "; ".join(spec.platform_evidence)
    rows = [
        ("Platform", platform),
        ("Entry point", f"`{spec.entry}`"),
        ("Runtime", f"`{spec.runtime}`" if spec.runtime else "not declared"),
        ("Timeout", f"{spec.timeout:g} s" if spec.timeout is not None else "platform default"),
        ("Memory", f"{spec.memory} MB" if spec.memory is not None else "platform default"),
        ("Trigger", trigger_title),
        ("Code root", f"`{spec.packed.label}`" if spec.packed else f"`{spec.root}`"),
        ("Declared by", where),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    title = rules.title if spec.platform_known else "cloud"
    return f"**{spec.name}** — {title} function\n\n| | |\n|---|---|\n{table}"


def def_hover(ls: HandlerLensServer, params: lsp.HoverParams) -> lsp.Hover | None:
    """Hover on a handler's `def` (every function it handles), or None elsewhere."""
    path = to_path(params.text_document.uri)
    if path is None or not path.endswith(".py"):
        return None
    pos = Position(params.position.line, params.position.character)
    sites = ls.workspace_for(path).handlers_in(path)
    for site in sites:
        span = site.binding.span
        if span.start <= pos <= span.end:
            here = [s for s in sites if s.binding.span == span]
            choices = _inferred_choices(ls, params, path, [s.spec for s in here])
            return lsp.Hover(
                contents=lsp.MarkupContent(
                    kind=lsp.MarkupKind.Markdown,
                    value="\n\n---\n\n".join(
                        describe(s.spec, choices.get(s.binding.name)) for s in here
                    ),
                ),
                range=to_range(span),
            )
    return None


def _inferred_choices(
    ls: HandlerLensServer, params: lsp.HoverParams, path: str, specs: list[FunctionSpec]
) -> dict[str, TriggerChoice]:
    """The trigger the event analysis chose for each handler function of `path`, by function
    name; only when one of `specs` declares none (the choice then depends on the code)."""
    if all(spec.trigger for spec in specs):
        return {}
    from handlerlens.analysis.events.flow import event_document
    from handlerlens.lsp.features.completion import handler_contexts

    try:
        source = ls.workspace.get_text_document(params.text_document.uri).source
        flows = event_document(source).flows(handler_contexts(ls, path))
    except Exception:
        log.exception("trigger inference failed for the hover at %s", path)
        return {}
    return {name: flow.choice for name, flow in flows.items()}


def register(server: HandlerLensServer) -> None:
    """Wire textDocument/hover: a handler's `def`, else the event/context access under the
    cursor (`event_hover`)."""

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(ls: HandlerLensServer, params: lsp.HoverParams) -> lsp.Hover | None:
        answer = def_hover(ls, params)
        if answer is not None:
            return answer
        # Which functions are handlers is known once the workspace has been discovered.
        await ls.ready.wait()
        from handlerlens.lsp.env_names import env_hover

        # an os.environ["…"] / os.getenv("…") name, else an event/context access
        return env_hover(ls, params) or event_hover(ls, params)
