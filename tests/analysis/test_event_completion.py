"""Completion of event keys and context members, as pure functions over source text.

Each case is source with `‸` where the cursor is; the assertions check what the user would
see: the labels offered, what gets inserted over which range, and the labels' trigger.
"""

from __future__ import annotations

import pytest

from handlerlens.analysis.events.completion import CompletionResult, complete
from handlerlens.analysis.events.flow import HandlerContext
from handlerlens.core.problems import Position, Span

CURSOR = "‸"


def _at(source: str) -> tuple[str, int, int]:
    """Source without the cursor mark, and the mark's line and UTF-16 column."""
    for row, text in enumerate(source.split("\n")):
        if CURSOR in text:
            head = text[: text.index(CURSOR)]
            column = len(head.encode("utf-16-le")) // 2
            return source.replace(CURSOR, "", 1), row, column
    raise AssertionError("no cursor mark")


def _complete(
    source: str, platform: str = "yandex", trigger: str | None = None, name: str = "handler"
) -> CompletionResult | None:
    text, row, column = _at(source)
    return complete(text, row, column, [HandlerContext(name, platform, trigger)])


def _labels(result: CompletionResult | None) -> list[str]:
    assert result is not None, "expected completions, got none"
    return [item.label for item in result.items]


def _item(result: CompletionResult | None, label: str):  # type: ignore[no-untyped-def]
    assert result is not None
    return next(i for i in result.items if i.label == label)


H = "def handler(event, context):\n    "

# -- context. -------------------------------------------------------------------------------


def test_context_dot_offers_yandex_members() -> None:
    labels = _labels(_complete(H + "x = context.‸"))
    assert labels[:3] == ["request_id", "aws_request_id", "function_name"]
    assert {"deadline_ms", "token", "memory_limit_in_mb", "get_remaining_time_in_millis"} <= set(
        labels
    )
    assert "identity" not in labels and "log" not in labels


def test_context_dot_offers_aws_members_without_private_ones() -> None:
    labels = _labels(_complete(H + "x = context.‸", "aws"))
    assert {"identity", "client_context", "tenant_id", "log", "memory_limit_in_mb"} <= set(labels)
    assert "deadline_ms" not in labels and "token" not in labels
    assert "_epoch_deadline_time_in_ms" not in labels


def test_context_member_items_carry_type_doc_and_insert_text() -> None:
    result = _complete(H + "x = context.‸", "aws")
    memory = _item(result, "memory_limit_in_mb")
    assert memory.kind == "attribute" and memory.detail == "str"
    assert "as a str" in memory.documentation and "AWS Lambda" in memory.documentation
    left = _item(result, "get_remaining_time_in_millis")
    assert left.kind == "method" and left.insert_text == "get_remaining_time_in_millis()"
    log = _item(result, "log")
    assert log.snippet and log.insert_text == "log(${1:msg})"
    yandex_memory = _item(_complete(H + "x = context.‸"), "memory_limit_in_mb")
    assert yandex_memory.detail == "int"


def test_context_prefix_replaces_the_typed_word() -> None:
    result = _complete(H + "x = context.re‸")
    item = _item(result, "request_id")
    assert item.range == Span(Position(1, 16), Position(1, 18))
    whole_word = _item(_complete(H + "x = context.re‸quest"), "request_id")
    assert whole_word.range == Span(Position(1, 16), Position(1, 23))


def test_nested_context_members_and_token_keys() -> None:
    assert _labels(_complete(H + "x = context.identity.‸", "aws")) == [
        "cognito_identity_id",
        "cognito_identity_pool_id",
    ]
    assert "installation_id" in _labels(_complete(H + "x = context.client_context.client.‸", "aws"))
    assert _labels(_complete(H + "x = context.token['‸")) == [
        "access_token",
        "expires_in",
        "token_type",
    ]


# -- event keys, quotes and brackets ---------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "label", "insert", "start", "end"),
    [
        # No quote yet: insert the quotes and the closing bracket.
        ("x = event[‸", "httpMethod", '"httpMethod"]', 14, 14),
        # The editor closed the bracket: replace it, never duplicate it.
        ("x = event[‸]", "httpMethod", '"httpMethod"]', 14, 15),
        ("x = event['‸", "httpMethod", "httpMethod']", 15, 15),
        ('x = event["‸', "httpMethod", 'httpMethod"]', 15, 15),
        # Cursor inside an already closed `event['|']`.
        ("x = event['‸']", "httpMethod", "httpMethod']", 15, 17),
        ("x = event['ht‸tp']", "httpMethod", "httpMethod']", 15, 21),
        ("x = event['‸'", "httpMethod", "httpMethod']", 15, 16),
        ("x = event.get('‸", "httpMethod", "httpMethod'", 19, 19),
        ("x = event.get('‸')", "httpMethod", "httpMethod'", 19, 20),
        ("x = event.get(‸)", "httpMethod", '"httpMethod"', 18, 18),
        ("x = event.get('ht‸', 'GET')", "httpMethod", "httpMethod'", 19, 22),
    ],
)
def test_event_key_insertion_completes_quotes_and_brackets(
    line: str, label: str, insert: str, start: int, end: int
) -> None:
    item = _item(_complete(H + line), label)
    assert item.insert_text == insert
    assert item.range == Span(Position(1, start), Position(1, end))
    assert item.kind == "key" and item.filter_text == label


def test_unquoted_insertion_follows_the_functions_quote_habit() -> None:
    source = H + "a = event['body']\n    b = event['headers']\n    x = event[‸"
    assert _item(_complete(source), "url").insert_text == "'url']"


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("yandex", ["httpMethod", "headers", "multiValueHeaders", "queryStringParameters"]),
        ("aws", ["version", "routeKey", "rawPath", "rawQueryString"]),
    ],
)
def test_event_keys_default_to_the_platform_http_shape(platform: str, expected: list[str]) -> None:
    result = _complete(H + "x = event['‸", platform)
    labels = _labels(result)
    assert labels[: len(expected)] == expected
    first = result.items[0] if result else None
    assert first is not None and first.sort_text < result.items[-1].sort_text  # type: ignore[union-attr]


def test_key_items_carry_type_doc_example_and_trigger() -> None:
    item = _item(_complete(H + "x = event['‸"), "requestContext")
    assert item.detail == "dict"
    assert item.trigger == "http"
    # The handler's own trigger is not repeated on each of its keys (issue #21 item 11).
    assert item.trigger_title is None
    assert "Yandex Cloud Functions" in item.documentation
    method = _item(_complete(H + "x = event['‸"), "httpMethod")
    assert 'Example: `"POST"`' in method.documentation
    path = _item(_complete(H + "x = event['‸"), "path")
    assert path.detail == "str (optional)"


def test_other_triggers_keys_come_later_labelled_by_trigger() -> None:
    result = _complete(H + "x = event['‸", "aws")
    records = _item(result, "Records")
    assert records.trigger == "s3" and records.trigger_title == "S3 notification"
    # The detail is the key's type, marked with the other trigger's short title.
    assert records.detail == "list[dict] · S3 notification"
    version = _item(result, "version")
    assert version.detail == "str" and version.trigger_title is None
    assert records.sort_text > version.sort_text
    # Every key of the handler's trigger sorts before every key of another trigger.
    own = [i for i in result.items if i.trigger_title is None]  # type: ignore[union-attr]
    others = [i for i in result.items if i.trigger_title is not None]  # type: ignore[union-attr]
    assert own and others and max(i.sort_text for i in own) < min(i.sort_text for i in others)
    assert all(" · " not in i.detail for i in own)
    assert all(i.detail.endswith(" · " + str(i.trigger_title)) for i in others)
    rest_only = _item(result, "multiValueHeaders")
    assert rest_only.trigger == "api-gateway-rest"


def test_a_configured_trigger_offers_only_its_own_keys() -> None:
    labels = _labels(_complete(H + "x = event['‸", "aws", "sqs"))
    assert labels == ["Records"]
    labels = _labels(_complete(H + "x = event['‸", "yandex", "timer"))
    assert labels == ["messages"]


@pytest.mark.parametrize(
    ("platform", "trigger", "body", "expected"),
    [
        ("yandex", None, "x = event['requestContext']['identity']['‸", ["sourceIp", "userAgent"]),
        (
            "yandex",
            None,
            "x = event.get('requestContext', {}).get('identity', {}).get('‸",
            ["sourceIp", "userAgent"],
        ),
        ("aws", "api-gateway-rest", "x = event['requestContext']['identity']['so‸", None),
        (
            "aws",
            None,
            "x = event['requestContext']['http']['‸",
            ["method", "path", "protocol", "sourceIp", "userAgent"],
        ),
        ("yandex", None, "rc = event['requestContext']; rc['‸", None),
        (
            "yandex",
            None,
            "rc = event['requestContext']\n    ident = rc['identity']\n    ident['‸",
            ["sourceIp", "userAgent"],
        ),
        ("yandex", None, "headers = event.get('headers') or {}\n    headers['‸", None),
        (
            "aws",
            None,
            "for r in event['Records']: r['s3']['bucket']['‸",
            ["name", "ownerIdentity", "arn"],
        ),
        (
            "aws",
            "s3",
            "for r in event['Records']:\n        r['s3']['object']['‸",
            ["key", "size", "eTag", "sequencer"],
        ),
        ("aws", "s3", "for i, r in enumerate(event['Records']):\n        r['‸", None),
        ("aws", "s3", "keys = [r['s3']['‸'] for r in event['Records']]", None),
        ("aws", "sqs", "first = event['Records'][0]\n    first['attributes']['‸", None),
        ("yandex", None, "event['messages'][0]['details']['‸", None),
        (
            "yandex",
            "message-queue",
            "for m in event['messages']:\n        m['details']['message']['‸",
            None,
        ),
        (
            "yandex",
            "logging",
            "for m in event['messages']:\n        for e in m['details']['messages']:\n"
            "            e['resource']['‸",
            ["type", "id"],
        ),
        (
            "aws",
            "dynamodb",
            "for r in event['Records']:\n        r['dynamodb']['NewImage']['Id']['‸",
            ["S", "N"],
        ),
    ],
)
def test_nested_aliases_and_list_items(
    platform: str, trigger: str | None, body: str, expected: list[str] | None
) -> None:
    labels = _labels(_complete(H + body, platform, trigger))
    if expected is not None:
        assert labels == expected
    else:
        assert labels


def test_alias_list_item_and_nested_contents() -> None:
    assert _labels(_complete(H + "rc = event['requestContext']; rc['‸"))[:2] == [
        "identity",
        "httpMethod",
    ]
    headers = _labels(_complete(H + "headers = event.get('headers') or {}\n    headers['‸"))
    assert "Content-Type" in headers and "X-Request-Id" in headers
    mq = _labels(_complete(H + "event['messages'][0]['details']['‸"))
    assert {"trigger_id", "queue_id", "bucket_id"} <= set(mq)
    mq_item = _item(_complete(H + "event['messages'][0]['details']['‸"), "queue_id")
    assert mq_item.trigger == "message-queue"


def test_parameters_are_found_by_position_not_name() -> None:
    source = "def main(evt, ctx):\n    a = ctx.‸"
    assert "aws_request_id" in _labels(_complete(source, "aws", name="main"))
    source = "def main(evt, ctx):\n    a = evt['‸"
    assert "Records" in _labels(_complete(source, "aws", name="main"))
    source = "def main(context, event):\n    a = context['‸"
    assert "httpMethod" in _labels(_complete(source, "yandex", name="main"))


@pytest.mark.parametrize("platform", ["yandex", "aws"])
def test_helpers_the_handler_passes_the_event_to(platform: str) -> None:
    source = (
        "def handler(event, context):\n    return process(event, context)\n\n\n"
        "def process(e, c):\n    c.‸"
    )
    assert "function_name" in _labels(_complete(source, platform))
    source = (
        "def handler(event, context):\n    return process(event)\n\n\ndef process(e):\n    e['‸"
    )
    assert _labels(_complete(source, platform))
    source = (
        "def handler(event, context):\n    return process(rc=event['requestContext'])\n\n\n"
        "def process(rc):\n    return step(rc['identity'])\n\n\n"
        "def step(ident):\n    return ident['‸"
    )
    if platform == "yandex":
        assert _labels(_complete(source, platform)) == ["sourceIp", "userAgent"]


def test_helpers_called_with_different_values_get_nothing() -> None:
    source = (
        "def handler(event, context):\n    show(event['body'])\n"
        "    return show(event['headers'])\n\n\n"
        "def show(value):\n    return value['‸"
    )
    assert _complete(source) is None


# -- typing in progress -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "if event['‸",
        "x = foo(event['requestContext']['‸",
        "return {'a': event.get('‸",
        "x = event['‸\n    y = (\n    return",
        "for r in event['Records']:\n        if r['‸",
    ],
)
def test_completion_works_while_the_function_has_a_syntax_error(body: str) -> None:
    assert _labels(_complete(H + body, "aws"))


def test_a_broken_function_elsewhere_does_not_stop_completion() -> None:
    source = H + "x = event['‸\n\n\ndef other(:\n    pass\n"
    assert "httpMethod" in _labels(_complete(source))


# -- where nothing is offered -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("event = {'a': 1}\nevent['‸", "handler"),
        ("def handler(event, context):\n    pass\n\n\ndef other(event):\n    event['‸", "handler"),
        ("def describe(event, context=None):\n    return event['‸", "handler"),
        (H + "event = json.loads(event['body'])\n    event['‸", "handler"),
        (H + "x = other['‸", "handler"),
        (H + "x = event.‸", "handler"),
        (H + "x = 'event['‸", "handler"),
        (H + "# event['‸", "handler"),
        (H + "x = event['body']['‸", "handler"),
        (H + "x = event['queryStringParameters']['‸", "handler"),
        (H + "x = 1.‸", "handler"),
        (H + "x = self.event['‸", "handler"),
        (H + "x = [‸", "handler"),
        (H + "x = f(‸", "handler"),
        (H + "x = event['Records'][‸", "handler"),
        ("class C:\n    def handler(self, event, context):\n        event['‸", "handler"),
    ],
)
def test_nothing_is_offered(source: str, name: str) -> None:
    assert _complete(source, "yandex", name=name) is None


def test_nothing_is_offered_in_a_module_without_handlers() -> None:
    text, row, column = _at("def handler(event, context):\n    x = event['‸")
    assert complete(text, row, column, []) is None


def test_out_of_range_positions_give_nothing() -> None:
    text = "def handler(event, context):\n    x = event['"
    handlers = [HandlerContext("handler", "yandex")]
    assert complete(text, 99, 0, handlers) is None
    assert complete(text, -1, 0, handlers) is None
    assert complete(text, 1, 999, handlers) is not None


# -- columns ---------------------------------------------------------------------------------


def test_columns_are_utf16_code_units() -> None:
    source = H + "s = '𝔀ö'; x = event['‸"
    result = _complete(source)
    item = _item(result, "httpMethod")
    # "𝔀" is two UTF-16 code units (one code point): the key starts at unit 26, not 25.
    assert item.range.start == Position(1, 26)
    assert item.insert_text == "httpMethod']"


def test_crlf_line_endings() -> None:
    text = "def handler(event, context):\r\n    x = 1\r\n    y = event['"
    result = complete(text, 2, 15, [HandlerContext("handler", "aws")])
    assert "rawPath" in _labels(result)


def test_a_durable_context_completes_its_own_members() -> None:
    # Issue #14 A: with @durable_execution, `context` is the SDK's DurableContext.
    source = "@durable_execution\ndef handler(event, context):\n    context.‸"
    labels = _labels(_complete(source, "aws"))
    assert {"step", "invoke", "wait", "create_callback", "parallel", "map", "logger"} <= set(labels)
    assert "aws_request_id" not in labels
    annotated = "def handler(event, context: DurableContext):\n    context.lambda_context.‸"
    assert "aws_request_id" in _labels(_complete(annotated, "aws"))
