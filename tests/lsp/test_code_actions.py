"""Quick fixes: correct a misspelt entry point in the config; add the missing parameter."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from tests.lsp.conftest import change_document, open_document, running_server, wait_for_diagnostics


async def _actions(client: object, path: Path, diag: lsp.Diagnostic) -> list[lsp.CodeAction]:
    result = await client.text_document_code_action_async(  # type: ignore[attr-defined]
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()),
            range=diag.range,
            context=lsp.CodeActionContext(diagnostics=[diag]),
        )
    )
    return [a for a in result or [] if isinstance(a, lsp.CodeAction)]


async def test_fix_misspelt_entry_point_in_template(examples: Path) -> None:
    template = examples / "orders" / "template.yaml"
    async with running_server(examples) as client:
        diags = await wait_for_diagnostics(client, template)
        diag = next(d for d in diags if d.code == "entry-point-function-missing")
        (action,) = await _actions(client, template, diag)
    assert action.kind == lsp.CodeActionKind.QuickFix
    assert action.title == "Change the entry point to 'app.list_orders' in template.yaml"
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[template.as_uri()]
    assert edit.new_text == "app.list_orders"
    assert edit.range == diag.range


async def test_add_missing_context_parameter(examples: Path) -> None:
    main = examples / "greeter" / "main.py"
    async with running_server(examples) as client:
        open_document(client, main)
        text = main.read_text().replace("def handler(event, context):", "def handler(event):")
        change_document(client, main, text, 2)
        diags = await wait_for_diagnostics(client, main)
        (diag,) = diags
        assert diag.code == "handler-arity"
        (action,) = await _actions(client, main, diag)
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[main.as_uri()]
    assert edit.new_text == ", context"
    assert (edit.range.start.line, edit.range.start.character) == (5, 17)
