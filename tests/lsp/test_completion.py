"""Event and context completion (and hover) end to end: a real server over stdio.

Each workspace declares its handlers in `[tool.handlerlens]`; the documents are edited the
way a user types (didChange, then completion with the character just typed), and the
assertions check what the editor would show and insert.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import SERVER, change_document, open_document, running_server

CURSOR = "‸"

YANDEX_PYPROJECT = """\
[tool.handlerlens]
platform = "yandex"
entry = "main.handler"
"""

AWS_PYPROJECT = """\
[tool.handlerlens]
platform = "aws"

[[tool.handlerlens.functions]]
name = "api"
entry = "main.handler"

[[tool.handlerlens.functions]]
name = "files"
entry = "files.handler"
trigger = "s3"
"""

MAIN = """\
def handler(event, context):
    return {"statusCode": 200}
"""

LIB = """\
event = {"name": "party"}


def describe(event, context=None):
    return event["name"]
"""


def _workspace(root: Path, pyproject: str) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(pyproject)
    (root / "main.py").write_text(MAIN)
    (root / "files.py").write_text(MAIN)
    (root / "lib.py").write_text(LIB)
    return root


def _split(source: str) -> tuple[str, lsp.Position]:
    source = textwrap.dedent(source)
    for row, text in enumerate(source.split("\n")):
        if CURSOR in text:
            column = len(text[: text.index(CURSOR)].encode("utf-16-le")) // 2
            return source.replace(CURSOR, "", 1), lsp.Position(line=row, character=column)
    raise AssertionError("no cursor mark")


class Editor:
    """One open document, edited with full-text changes, as a user would type into it."""

    def __init__(self, client: LanguageClient, path: Path) -> None:
        self.client, self.path, self.version = client, path, 1
        self.shared_range = False  # the last list gave one edit range for all its items
        open_document(client, path)

    async def complete(self, source: str) -> tuple[str, Sequence[lsp.CompletionItem] | None]:
        """Put `source` in the buffer, then ask for completion at its cursor mark."""
        text, position = _split(source)
        self.version += 1
        change_document(self.client, self.path, text, self.version)
        typed = text.split("\n")[position.line][position.character - 1 : position.character]
        context = (
            lsp.CompletionContext(
                trigger_kind=lsp.CompletionTriggerKind.TriggerCharacter, trigger_character=typed
            )
            if typed in (".", "[", "'", '"')
            else lsp.CompletionContext(trigger_kind=lsp.CompletionTriggerKind.Invoked)
        )
        result = await self.client.text_document_completion_async(
            lsp.CompletionParams(
                text_document=lsp.TextDocumentIdentifier(uri=self.path.as_uri()),
                position=position,
                context=context,
            )
        )
        if result is None:
            return text, None
        assert isinstance(result, lsp.CompletionList) and not result.is_incomplete
        self.shared_range = bool(result.item_defaults and result.item_defaults.edit_range)
        return text, _with_defaults(result)

    async def hover(self, source: str) -> lsp.Hover | None:
        """Put `source` in the buffer, then hover at its cursor mark."""
        text, position = _split(source)
        self.version += 1
        change_document(self.client, self.path, text, self.version)
        return await self.client.text_document_hover_async(
            lsp.HoverParams(
                text_document=lsp.TextDocumentIdentifier(uri=self.path.as_uri()), position=position
            )
        )


def _with_defaults(result: lsp.CompletionList) -> list[lsp.CompletionItem]:
    """The items as a client sees them: the list's default edit range filled in (LSP 3.17)."""
    defaults = result.item_defaults
    shared = defaults.edit_range if defaults is not None else None
    items = []
    for item in result.items:
        if shared is not None and item.text_edit is None:
            assert isinstance(shared, lsp.Range) and item.text_edit_text is not None
            item.text_edit = lsp.TextEdit(range=shared, new_text=item.text_edit_text)
        items.append(item)
    return items


def _apply(text: str, item: lsp.CompletionItem) -> str:
    """The buffer after accepting `item` (its single-line text edit)."""
    edit = item.text_edit
    assert isinstance(edit, lsp.TextEdit)
    lines = text.split("\n")
    line = lines[edit.range.start.line]
    assert edit.range.start.line == edit.range.end.line
    lines[edit.range.start.line] = (
        line[: edit.range.start.character] + edit.new_text + line[edit.range.end.character :]
    )
    return "\n".join(lines)


def _labels(items: Sequence[lsp.CompletionItem] | None) -> list[str]:
    assert items, "expected completions, got none"
    return [i.label for i in sorted(items, key=lambda i: i.sort_text or i.label)]


def _item(items: Sequence[lsp.CompletionItem] | None, label: str) -> lsp.CompletionItem:
    assert items
    return next(i for i in items if i.label == label)


H = "def handler(event, context):\n    "

# (source with cursor, the label to accept, the accepted line) — both platforms.
INSERTIONS = [
    (H + "x = event[‸", "body", 'x = event["body"]'),
    (H + "x = event[‸]", "body", 'x = event["body"]'),
    (H + "x = event['‸", "body", "x = event['body']"),
    (H + 'x = event["‸"]', "body", 'x = event["body"]'),
    (H + "x = event['bo‸']", "body", "x = event['body']"),
    (H + "x = event.get('‸", "body", "x = event.get('body'"),
    (H + "x = event.get('‸')", "body", "x = event.get('body')"),
    (H + "x = context.‸", "function_name", "x = context.function_name"),
    (H + "x = context.func‸", "function_name", "x = context.function_name"),
    (
        H + "x = context.get_‸",
        "get_remaining_time_in_millis",
        "x = context.get_remaining_time_in_millis()",
    ),
]


@pytest.mark.parametrize("capabilities", ["visual-studio-code", "neovim"])
@pytest.mark.parametrize("platform", ["yandex", "aws"])
async def test_quotes_and_brackets_are_completed_once(
    tmp_path: Path, platform: str, capabilities: str
) -> None:
    root = _workspace(
        tmp_path / platform, YANDEX_PYPROJECT if platform == "yandex" else AWS_PYPROJECT
    )
    async with running_server(root, capabilities=capabilities) as client:
        editor = Editor(client, root / "main.py")
        for source, label, expected in INSERTIONS:
            text, items = await editor.complete(source)
            accepted = _apply(text, _item(items, label)).split("\n")[1].strip()
            assert accepted == expected, source
            # A client that takes `itemDefaults.editRange` gets one range for the whole list.
            assert editor.shared_range is (capabilities == "neovim")


async def test_every_pattern_on_yandex(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "yandex", YANDEX_PYPROJECT)
    async with running_server(root) as client:
        editor = Editor(client, root / "main.py")
        _, items = await editor.complete(H + "x = context.‸")
        labels = _labels(items)
        assert {"request_id", "deadline_ms", "token", "memory_limit_in_mb"} <= set(labels)
        assert "identity" not in labels
        memory = _item(items, "memory_limit_in_mb")
        assert memory.detail == "int" and memory.kind == lsp.CompletionItemKind.Property
        # The doc arrives when the editor resolves the item it shows.
        assert memory.documentation is None
        resolved = await client.completion_item_resolve_async(memory)
        assert isinstance(resolved.documentation, lsp.MarkupContent)
        assert resolved.documentation.value.startswith("**`context.memory_limit_in_mb`**: `int`")
        assert "Yandex Cloud Functions" in resolved.documentation.value

        _, items = await editor.complete(H + "x = event['‸")
        assert _labels(items)[:3] == ["httpMethod", "headers", "multiValueHeaders"]
        method = _item(items, "httpMethod")
        assert method.detail == "str" and method.kind == lsp.CompletionItemKind.Field
        resolved = await client.completion_item_resolve_async(method)
        assert isinstance(resolved.documentation, lsp.MarkupContent)
        assert 'Example: `"POST"`' in resolved.documentation.value
        # The handler's own keys show their type only; another trigger's key says which
        # trigger it belongs to (issue #21 item 11).
        assert method.label_details is None
        messages = _item(items, "messages")
        assert messages.label_details and messages.label_details.description == "Timer trigger"
        assert messages.detail == "list[dict] · Timer trigger"
        assert (messages.sort_text or "") > (method.sort_text or "")

        cases = [
            (H + "x = event['requestContext']['identity']['‸", ["sourceIp", "userAgent"]),
            (H + "rc = event['requestContext']; rc['identity']['‸", ["sourceIp", "userAgent"]),
            (H + "x = event.get('requestContext', {}).get('‸", None),
            (H + "for m in event['messages']:\n        m['details']['‸", None),
            (H + "x = event['messages'][0]['event_metadata']['‸", None),
            (H + "x = context.token['‸", ["access_token", "expires_in", "token_type"]),
            ("def handler(evt, ctx):\n    x = ctx.‸", None),
            ("def handler(evt, ctx):\n    x = evt['requestContext']['‸", None),
            (H + "return show(event)\n\n\ndef show(e):\n    return e['‸", None),
            (H + "if event['‸\n    y = (", None),
        ]
        for source, expected in cases:
            _, items = await editor.complete(source)
            if expected is None:
                assert _labels(items), source
            else:
                assert _labels(items) == expected, source


async def test_every_pattern_on_aws(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "aws", AWS_PYPROJECT)
    async with running_server(root) as client:
        editor = Editor(client, root / "main.py")
        _, items = await editor.complete(H + "x = context.‸")
        labels = _labels(items)
        assert {"aws_request_id", "identity", "client_context", "log"} <= set(labels)
        assert "deadline_ms" not in labels and "_epoch_deadline_time_in_ms" not in labels
        assert _item(items, "memory_limit_in_mb").detail == "str"

        _, items = await editor.complete(H + "x = event['‸")
        assert _labels(items)[:3] == ["version", "routeKey", "rawPath"]
        records = _item(items, "Records")
        assert records.label_details and records.label_details.description == "S3 notification"
        assert records.detail == "list[dict] · S3 notification"

        _, items = await editor.complete(H + "x = context.identity.‸")
        assert _labels(items) == ["cognito_identity_id", "cognito_identity_pool_id"]
        _, items = await editor.complete(H + "x = event['requestContext']['http']['‸")
        assert _labels(items) == ["method", "path", "protocol", "sourceIp", "userAgent"]

        files = Editor(client, root / "files.py")
        _, items = await files.complete(H + "x = event['‸")
        assert _labels(items) == ["Records"]
        _, items = await files.complete(H + "for r in event['Records']: r['s3']['bucket']['‸")
        assert _labels(items) == ["name", "ownerIdentity", "arn"]
        _, items = await files.complete(
            H + "keys = [r['s3']['object']['‸'] for r in event['Records']]"
        )
        assert _labels(items) == ["key", "size", "eTag", "sequencer"]
        _, items = await files.complete(H + "first = event['Records'][0]\n    first['‸")
        assert "eventName" in _labels(items)
        _, items = await files.complete(
            "def handler(evt, ctx):\n    return work(evt['Records'][0])\n\n\n"
            "def work(record):\n    return record['s3']['‸"
        )
        assert "bucket" in _labels(items)


async def test_nothing_is_offered_outside_handlers(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "yandex", YANDEX_PYPROJECT)
    async with running_server(root) as client:
        lib = Editor(client, root / "lib.py")
        _, items = await lib.complete(LIB + "\nevent['‸")
        assert items is None
        _, items = await lib.complete("def describe(event, context=None):\n    return event['‸")
        assert items is None
        main = Editor(client, root / "main.py")
        _, items = await main.complete(H + "pass\n\n\ndef unrelated(event):\n    return event['‸")
        assert items is None
        _, items = await main.complete(H + "x = other['‸")
        assert items is None
        _, items = await main.complete(H + "# event['‸")
        assert items is None


async def test_hover_on_event_keys_context_members_and_the_def(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "aws", AWS_PYPROJECT)
    async with running_server(root) as client:
        editor = Editor(client, root / "files.py")
        hover = await editor.hover(H + "for r in event['Records']:\n        r['s3']['buc‸ket']")
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        assert hover.contents.value.startswith("**`bucket`**: `dict`")
        assert "AWS Lambda · Amazon S3 notification" in hover.contents.value
        assert hover.range == lsp.Range(
            start=lsp.Position(line=2, character=16), end=lsp.Position(line=2, character=24)
        )
        hover = await editor.hover(H + "x = context.memory_li‸mit_in_mb")
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        assert "**`context.memory_limit_in_mb`**: `str`" in hover.contents.value
        # The def keeps its own hover (the function's configuration).
        hover = await editor.hover("def hand‸ler(event, context):\n    return 1")
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        assert "`files.handler`" in hover.contents.value
        assert await editor.hover(H + "x = 1  # nothing‸ here") is None


async def test_the_def_and_event_hovers_say_the_same_of_an_undeclared_trigger(
    tmp_path: Path,
) -> None:
    """Issue #21 item 11: no "(assumed)" on the def while `event` says "inferred"."""
    root = _workspace(tmp_path / "aws", AWS_PYPROJECT)
    async with running_server(root) as client:
        editor = Editor(client, root / "main.py")  # "api": no trigger declared
        said = "Amazon S3 notification, inferred from the keys the handler reads"
        # The event hover first: it waits for the workspace's discovery (the def hover, which
        # answers before it, has nothing to say until then).
        on_event = await editor.hover("def handler(ev‸ent, context):\n    return event['Records']")
        assert on_event is not None and isinstance(on_event.contents, lsp.MarkupContent)
        assert said in on_event.contents.value
        on_def = await editor.hover("def hand‸ler(event, context):\n    return event['Records']")
        assert on_def is not None and isinstance(on_def.contents, lsp.MarkupContent)
        assert f"| Trigger | {said} |" in on_def.contents.value
        assert "(assumed)" not in on_def.contents.value
        # Nothing read yet: both say it is the platform's default.
        default = "the platform's default; no trigger is configured"
        on_def = await editor.hover("def hand‸ler(event, context):\n    return 1")
        assert on_def is not None and isinstance(on_def.contents, lsp.MarkupContent)
        assert default in on_def.contents.value
        on_event = await editor.hover("def handler(ev‸ent, context):\n    return 1")
        assert on_event is not None and isinstance(on_event.contents, lsp.MarkupContent)
        assert default in on_event.contents.value
        # A declared trigger is named as declared.
        files = Editor(client, root / "files.py")
        on_def = await files.hover("def hand‸ler(event, context):\n    return 1")
        assert on_def is not None and isinstance(on_def.contents, lsp.MarkupContent)
        assert "| Trigger | Amazon S3 notification |" in on_def.contents.value


async def test_completion_right_after_an_edit_sees_the_new_text(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "yandex", YANDEX_PYPROJECT)
    async with running_server(root) as client:
        editor = Editor(client, root / "main.py")
        for prefix in ("r", "re", "req", "requ"):
            text, items = await editor.complete(H + f"x = event['{prefix}‸")
            accepted = _apply(text, _item(items, "requestContext")).split("\n")[1]
            assert accepted == "    x = event['requestContext']"


async def test_trigger_characters_are_announced(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "yandex", YANDEX_PYPROJECT)
    client = await ClientServerConfig(server_command=SERVER).start()
    assert isinstance(client, LanguageClient)
    try:
        result = await client.initialize_session(
            lsp.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri()
            )
        )
        provider = result.capabilities.completion_provider
        assert provider is not None
        assert sorted(provider.trigger_characters or []) == sorted([".", "[", "'", '"'])
        assert provider.resolve_provider
        assert result.capabilities.hover_provider
        await client.shutdown_session()
    finally:
        await client.stop()  # type: ignore[no-untyped-call]
