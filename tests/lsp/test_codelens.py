"""Code lenses above handlers, carrying the function's identity; hover on the def."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from tests.lsp.conftest import (
    change_document,
    code_lenses,
    open_document,
    running_server,
    wait_for_diagnostics,
)


async def _lenses(client: object, path: Path) -> list[lsp.CodeLens]:
    return await code_lenses(client, path)  # type: ignore[arg-type]


async def test_run_and_debug_lenses_for_each_handler(examples: Path) -> None:
    app = examples / "orders" / "app.py"
    async with running_server(examples, options={"clientCommands": True}) as client:
        open_document(client, app)
        lenses = await _lenses(client, app)
    titles = sorted((lens.range.start.line, lens.command.title) for lens in lenses if lens.command)
    # Only create_order (line 7) has lenses: the entry point meant for list_orders is misspelt.
    assert titles == [(7, "Debug handler"), (7, "▶ Run handler")]
    run = next(lens.command for lens in lenses if lens.command and "Run" in lens.command.title)
    assert run.command == "handlerlens.runHandler"
    (ref,) = run.arguments or []
    assert ref["name"] == "CreateOrder"
    assert ref["platform"] == "aws"
    assert ref["entry"] == "app.create_order"
    assert ref["trigger"] == "api-gateway-rest"
    assert ref["root"] == str(examples / "orders")
    assert ref["uri"] == app.as_uri()


async def test_functions_sharing_a_handler_get_a_lens_each(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Api:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: app.handler, Events: {A: {Type: Api}}}\n"
        "  Queue:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: app.handler, Events: {Q: {Type: SQS}}}\n"
    )
    app = tmp_path / "app.py"
    app.write_text("def handler(event, context):\n    return 1\n")
    async with running_server(tmp_path) as client:
        open_document(client, app)
        lenses = await _lenses(client, app)
    runs = [lens.command for lens in lenses if lens.command and "Run" in lens.command.title]
    assert [run.title for run in runs] == ["▶ Run Api", "▶ Run Queue"]
    assert [(run.arguments or [{}])[0]["trigger"] for run in runs] == ["api-gateway-rest", "sqs"]


async def test_a_declared_project_gets_no_guessed_functions_as_in_check(tmp_path: Path) -> None:
    # pyproject.toml declares main.handler under src/; a handler-shaped tools/index.py beside
    # it is not a function: `handlerlens check` says so, and the editor must agree.
    (tmp_path / "pyproject.toml").write_text(
        '[tool.handlerlens]\n[[tool.handlerlens.functions]]\nname = "api"\n'
        'entry = "main.handler"\nroot = "src"\ntrigger = "http"\n'
    )
    (tmp_path / "src").mkdir()
    main = tmp_path / "src" / "main.py"
    # A warning here, so the test knows when the server has dealt with both files.
    main.write_text("def handler(event, context):\n    return {'statusCode': 200, 'body': {}}\n")
    (tmp_path / "tools").mkdir()
    tool = tmp_path / "tools" / "index.py"
    tool.write_text("def handler(event, context):\n    return {'statusCode': 200, 'body': {}}\n")
    async with running_server(tmp_path) as client:
        open_document(client, tool)
        open_document(client, main)
        diags = await wait_for_diagnostics(client, main, lambda ds: bool(ds))
        assert [d.code for d in diags] == ["response-body-not-string"]
        assert not client.diagnostics.get(tool.as_uri())
        assert await _lenses(client, tool) == []
        assert len(await _lenses(client, main)) == 2  # Run and Debug for api


async def test_other_editors_get_server_commands(examples: Path) -> None:
    main = examples / "greeter" / "main.py"
    async with running_server(examples, capabilities="neovim") as client:
        open_document(client, main)
        lenses = await _lenses(client, main)
    commands = sorted(lens.command.command for lens in lenses if lens.command)
    assert commands == ["handlerlens.server.debug", "handlerlens.server.run"]


async def test_lenses_survive_a_syntax_error_while_typing(examples: Path) -> None:
    main = examples / "greeter" / "main.py"
    async with running_server(examples) as client:
        open_document(client, main)
        assert len(await _lenses(client, main)) == 2
        change_document(client, main, main.read_text() + "\ndef broken(:\n", 2)
        assert len(await _lenses(client, main)) == 2


async def test_hover_on_handler_def_describes_the_function(examples: Path) -> None:
    main = examples / "greeter" / "main.py"
    async with running_server(examples) as client:
        open_document(client, main)
        await _lenses(client, main)
        hover = await client.text_document_hover_async(
            lsp.HoverParams(
                text_document=lsp.TextDocumentIdentifier(uri=main.as_uri()),
                position=lsp.Position(line=5, character=6),
            )
        )
    assert hover is not None
    text = hover.contents.value  # type: ignore[union-attr]
    assert "Yandex Cloud Functions" in text
    assert "`main.handler`" in text
    assert "`python312`" in text
    assert "5 s" in text
    assert "128 MB" in text


async def test_hover_on_a_guessed_handler_shows_where_its_platform_comes_from(
    tmp_path: Path,
) -> None:
    # Issue #14 E: a guess says what its platform was read from, or that nothing says.
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws" / "main.py").write_text(
        "import boto3\n\n\ndef handler(event, context):\n    return 1\n"
    )
    (tmp_path / "none").mkdir()
    (tmp_path / "none" / "main.py").write_text("def handler(event, context):\n    return 1\n")
    texts = []
    async with running_server(tmp_path) as client:
        for path, line in ((tmp_path / "aws" / "main.py", 3), (tmp_path / "none" / "main.py", 0)):
            open_document(client, path)
            await _lenses(client, path)
            hover = await client.text_document_hover_async(
                lsp.HoverParams(
                    text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()),
                    position=lsp.Position(line=line, character=6),
                )
            )
            assert hover is not None
            texts.append(hover.contents.value)  # type: ignore[union-attr]
    assert "| Platform | AWS Lambda — from: imports boto3 |" in texts[0]
    assert "| Platform | unknown: nothing in or around the file shows which" in texts[1]
