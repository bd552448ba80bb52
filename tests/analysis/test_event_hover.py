"""Hover on event keys, context members and the event/context names: doc, type, example."""

from __future__ import annotations

import pytest

from handlerlens.analysis.events.flow import HandlerContext
from handlerlens.analysis.events.hover import HoverResult, hover
from handlerlens.core.problems import Position, Span

CURSOR = "‸"


def _hover(
    source: str, platform: str = "yandex", trigger: str | None = None, name: str = "handler"
) -> HoverResult | None:
    for row, text in enumerate(source.split("\n")):
        if CURSOR in text:
            column = len(text[: text.index(CURSOR)].encode("utf-16-le")) // 2
            clean = source.replace(CURSOR, "", 1)
            return hover(clean, row, column, [HandlerContext(name, platform, trigger)])
    raise AssertionError("no cursor mark")


H = "def handler(event, context):\n    "


def test_hover_on_an_event_key_shows_doc_type_platform_and_example() -> None:
    result = _hover(H + "m = event['http‸Method']")
    assert result is not None
    assert result.markdown.startswith("**`httpMethod`**: `str`")
    assert "HTTP method of the request." in result.markdown
    assert 'Example: `"POST"`' in result.markdown
    assert "Yandex Cloud Functions · HTTP invocation" in result.markdown
    assert result.range == Span(Position(1, 14), Position(1, 26))


def test_hover_on_a_nested_key_through_an_alias_and_a_loop() -> None:
    result = _hover(H + "rc = event['requestContext']\n    rc['identity']['source‸Ip']")
    assert result is not None and "IP address of the caller." in result.markdown
    result = _hover(
        H + "for r in event['Records']:\n        r['s3']['bucket']['na‸me']", "aws", "s3"
    )
    assert result is not None and result.markdown.startswith("**`name`**: `str`")
    assert "AWS Lambda · Amazon S3 notification" in result.markdown


def test_hover_example_comes_from_the_sample_when_the_shape_has_none() -> None:
    result = _hover(H + "event['query‸StringParameters']")
    assert result is not None and 'Example: `{"param": "one"}`' in result.markdown


def test_hover_on_a_get_key() -> None:
    result = _hover(H + "event.get('is‸Base64Encoded', False)")
    assert result is not None and "**`isBase64Encoded`**: `bool`" in result.markdown


@pytest.mark.parametrize(
    ("platform", "attr", "expected"),
    [
        ("aws", "memory_limit_in_mb", "**`context.memory_limit_in_mb`**: `str` (attribute)"),
        ("yandex", "memory_limit_in_mb", "**`context.memory_limit_in_mb`**: `int` (attribute)"),
        ("yandex", "deadline_ms", "Example: `1657713543198`"),
        ("aws", "get_remaining_time_in_millis", "get_remaining_time_in_millis() -> int"),
    ],
)
def test_hover_on_context_attributes(platform: str, attr: str, expected: str) -> None:
    result = _hover(H + f"x = context.{attr[:3]}‸{attr[3:]}", platform)
    assert result is not None and expected in result.markdown
    assert ("AWS Lambda" if platform == "aws" else "Yandex Cloud Functions") in result.markdown


def test_hover_on_the_event_parameter_names_the_trigger_and_why() -> None:
    result = _hover("def handler(ev‸ent, context):\n    return event['Records']", "aws")
    assert result is not None
    assert "Amazon S3 notification, inferred from the keys the handler reads." in result.markdown
    assert "(https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html)" in result.markdown
    configured = _hover("def handler(ev‸ent, context):\n    return 1", "aws", "sqs")
    assert configured is not None and "Amazon SQS, as configured." in configured.markdown
    ctx = _hover(H + "return con‸text")
    assert ctx is not None and "Yandex Cloud Functions invocation context" in ctx.markdown


def test_hover_on_an_alias_shows_its_key() -> None:
    result = _hover(H + "rc = event['requestContext']\n    r‸c")
    assert result is not None and result.markdown.startswith("**`requestContext`**: `dict`")


def test_hover_on_a_token_key() -> None:
    result = _hover(H + "t = context.token['expi‸res_in']")
    assert result is not None and result.markdown.startswith("**`expires_in`**: `int`")


@pytest.mark.parametrize(
    "source",
    [
        H + "x = event['no‸pe']",
        H + "x = context.no‸pe",
        H + "x = oth‸er['a']",
        H + "# event['http‸Method']",
        "def other(event):\n    return event['http‸Method']",
        H + "x = event.bo‸dy",
    ],
)
def test_no_hover(source: str) -> None:
    assert _hover(source) is None


def test_no_hover_without_handlers_or_out_of_range() -> None:
    assert hover("def handler(event, context):\n    event", 1, 6, []) is None
    assert hover("x", 5, 0, [HandlerContext("handler", "aws")]) is None


@pytest.mark.parametrize(
    ("platform", "source", "link"),
    [
        (
            "yandex",
            H + "x = event['httpMe‸thod']",
            "[Yandex Cloud Functions · HTTP invocation (functions.yandexcloud.net)]"
            "(https://yandex.cloud/en/docs/functions/concepts/function-invoke)",
        ),
        (
            "aws",
            H + "x = event['Records'][0]['s3']['buc‸ket']",
            "[AWS Lambda · Amazon S3 notification]"
            "(https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html)",
        ),
        (
            "yandex",
            H + "x = context.request_i‸d",
            "(https://yandex.cloud/en/docs/functions/lang/python/context)",
        ),
        (
            "aws",
            H + "x = context.aws_request_i‸d",
            "(https://docs.aws.amazon.com/lambda/latest/dg/python-context.html)",
        ),
    ],
)
def test_hovers_link_to_the_platform_page_not_internal_sources(
    platform: str, source: str, link: str
) -> None:
    """Issue #21 item 11: a link to the platform's page, not `source: YC …md@f153fa6`."""
    result = _hover(source, platform)
    assert result is not None and link in result.markdown
    assert "source:" not in result.markdown and ".md@" not in result.markdown
