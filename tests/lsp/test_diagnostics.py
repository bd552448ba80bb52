"""Diagnostics over stdio: on open, on change, on config files, across files."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from tests.lsp.conftest import (
    change_document,
    open_document,
    running_server,
    wait_for_diagnostics,
)


def _codes(diags: list[lsp.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diags)


async def test_broken_entry_point_is_published_on_the_template_without_opening_it(
    examples: Path,
) -> None:
    template = examples / "orders" / "template.yaml"
    async with running_server(examples) as client:
        diags = await wait_for_diagnostics(client, template)
    (diag,) = [d for d in diags if d.code == "entry-point-function-missing"]
    assert diag.source == "handlerlens"
    assert diag.severity == lsp.DiagnosticSeverity.Error
    line = template.read_text().splitlines()[diag.range.start.line]
    assert line[diag.range.start.character : diag.range.end.character] == "app.list_order"
    assert "Did you mean 'list_orders'?" in diag.message
    assert "Runtime.HandlerNotFound: Handler 'list_order' missing on module 'app'" in diag.message


async def test_module_side_diagnostic_sits_on_the_def_that_was_meant(examples: Path) -> None:
    app = examples / "orders" / "app.py"
    async with running_server(examples) as client:
        open_document(client, app)
        diags = await wait_for_diagnostics(client, app)
    (diag,) = diags
    assert diag.code == "entry-point-function-missing"
    assert diag.range.start.line == 14  # def list_orders
    # counted once, at the declaration: here it is a hint (issue #21 item 12)
    assert diag.severity == lsp.DiagnosticSeverity.Hint


async def test_one_mistake_is_one_error_at_the_declaration_and_a_hint_in_python(
    examples: Path,
) -> None:
    """The misspelt entry point is one error, on template.yaml, naming app.py's place as related
    information; app.py shows the same mistake as a hint leading back to the declaration, so
    Problems counts it once (issue #21 item 12)."""
    app = examples / "orders" / "app.py"
    template = examples / "orders" / "template.yaml"
    async with running_server(examples) as client:
        open_document(client, app)
        on_app = await wait_for_diagnostics(client, app)
        on_template = await wait_for_diagnostics(client, template)
    (py,) = [d for d in on_app if d.code == "entry-point-function-missing"]
    (decl,) = [d for d in on_template if d.code == "entry-point-function-missing"]
    assert decl.severity == lsp.DiagnosticSeverity.Error
    assert py.severity == lsp.DiagnosticSeverity.Hint
    assert py.related_information and decl.related_information
    (to_decl,) = py.related_information
    assert to_decl.location.uri == template.as_uri()
    assert to_decl.location.range == decl.range
    assert to_decl.message == "reported at the declaration in template.yaml"
    (to_py,) = decl.related_information
    assert to_py.location.uri == app.as_uri()
    assert to_py.location.range == py.range
    assert to_py.message == "the module it names: app.py"
    # problems of one place only carry no related information
    assert all(not d.related_information for d in on_template if d is not decl)


async def test_edit_updates_diagnostics_and_fixing_clears_them(examples: Path) -> None:
    app = examples / "orders" / "app.py"
    template = examples / "orders" / "template.yaml"
    async with running_server(examples) as client:
        open_document(client, app)
        await wait_for_diagnostics(client, app)
        text = app.read_text()
        # Break the other handler's signature while typing…
        broken = text.replace("def create_order(event, context):", "def create_order(event):")
        change_document(client, app, broken, 2)
        diags = await wait_for_diagnostics(client, app, lambda ds: "handler-arity" in _codes(ds))
        assert _codes(diags) == ["entry-point-function-missing", "handler-arity"]
        # …then rename list_orders so the template's entry point resolves.
        fixed = text.replace("def list_orders(", "def list_order(")
        change_document(client, app, fixed, 3)
        await wait_for_diagnostics(client, app, lambda ds: not ds)
        await wait_for_diagnostics(
            client,
            template,
            lambda ds: "entry-point-function-missing" not in _codes(ds),
        )


async def test_syntax_error_while_typing_is_reported_once(examples: Path) -> None:
    main = examples / "greeter" / "main.py"
    async with running_server(examples) as client:
        open_document(client, main)
        text = main.read_text()
        change_document(client, main, text.replace('"statusCode": 200,', '"statusCode": 200,,'), 2)
        diags = await wait_for_diagnostics(client, main)
    assert [d.code for d in diags] == ["entry-point-syntax-error"]
    assert diags[0].range.start.line == 8


async def test_syntax_error_in_a_module_two_functions_share_is_reported_once(
    examples: Path,
) -> None:
    app = examples / "orders" / "app.py"
    template = examples / "orders" / "template.yaml"
    async with running_server(examples) as client:
        open_document(client, app)
        await wait_for_diagnostics(client, app)
        text = app.read_text().replace("def list_orders(event, context):", "def list_order(event")
        change_document(client, app, text, 2)
        diags = await wait_for_diagnostics(
            client, app, lambda ds: "entry-point-syntax-error" in _codes(ds)
        )
        on_template = await wait_for_diagnostics(
            client, template, lambda ds: "entry-point-syntax-error" in _codes(ds)
        )
    assert [d.code for d in diags] == ["entry-point-syntax-error"]
    # The template still names both functions, each at its own handler string.
    assert _codes(on_template) == ["entry-point-syntax-error"] * 2


async def test_config_edit_revalidates_python_side(examples: Path) -> None:
    template = examples / "orders" / "template.yaml"
    app = examples / "orders" / "app.py"
    async with running_server(examples) as client:
        open_document(client, app)
        await wait_for_diagnostics(client, app)
        open_document(client, template, "yaml")
        change_document(
            client, template, template.read_text().replace("app.list_order", "app.list_orders"), 2
        )
        await wait_for_diagnostics(client, app, lambda ds: not ds)
        diags = await wait_for_diagnostics(
            client, template, lambda ds: "entry-point-function-missing" not in _codes(ds)
        )
    assert all(d.source == "handlerlens" for d in diags)


async def test_event_key_and_context_attribute_checks(examples: Path) -> None:
    main = examples / "greeter" / "main.py"
    async with running_server(examples) as client:
        open_document(client, main)
        typed = "    method = event['httpMetod']\n    who = context.identity\n    name = ("
        text = main.read_text().replace("    name = (", typed)
        change_document(client, main, text, 2)
        diags = await wait_for_diagnostics(client, main)
    by_code = {str(d.code): d for d in diags}
    assert sorted(by_code) == ["context-attribute-unknown", "event-key-unknown"]
    key = by_code["event-key-unknown"]
    assert "Did you mean 'httpMethod'?" in key.message
    assert key.severity == lsp.DiagnosticSeverity.Warning
    assert key.range.start.line == 6
    assert by_code["context-attribute-unknown"].range.start.line == 7


async def test_an_archive_built_after_start_is_read_when_it_appears(tmp_path: Path) -> None:
    # Issue 14 (B): a zip a build makes later is an info until it exists; once it does, the
    # entry point is checked against the names in it.
    import zipfile

    main = tmp_path / "main.tf"
    main.write_text(
        'resource "aws_lambda_function" "f" {\n  handler = "api.handler"\n'
        '  runtime = "python3.12"\n  filename = "build/fn.zip"\n}\n'
    )
    async with running_server(tmp_path) as client:
        diags = await wait_for_diagnostics(client, main)
        assert _codes(diags) == ["config-value-unresolved"]
        (tmp_path / "build").mkdir()
        with zipfile.ZipFile(tmp_path / "build" / "fn.zip", "w") as archive:
            archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
        client.workspace_did_change_watched_files(
            lsp.DidChangeWatchedFilesParams(
                changes=[
                    lsp.FileEvent(
                        uri=(tmp_path / "build" / "fn.zip").as_uri(),
                        type=lsp.FileChangeType.Created,
                    )
                ]
            )
        )
        diags = await wait_for_diagnostics(
            client, main, lambda ds: _codes(ds) == ["entry-point-module-missing"]
        )
    assert "there is no api.py" in diags[0].message
