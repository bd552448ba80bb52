"""Which trigger's event shape applies: config, then annotation, then keys read, then default."""

from __future__ import annotations

import pytest

from handlerlens.analysis.events.flow import HandlerContext, event_document
from handlerlens.analysis.events.inference import choose_trigger
from handlerlens.platforms.event_shapes import ELEM, Step, key


def _choice(source: str, platform: str, trigger: str | None = None) -> tuple[str, str]:
    handler = HandlerContext("handler", platform, trigger)
    flow = event_document(source).flows([handler])["handler"]
    return flow.choice.trigger, flow.choice.reason


@pytest.mark.parametrize(
    ("platform", "body", "expected"),
    [
        ("aws", "return event['httpMethod'], event['resource']", "api-gateway-rest"),
        ("aws", "return event['requestContext']['http']['method']", "http-api"),
        ("aws", "return [r['s3']['object']['key'] for r in event['Records']]", "s3"),
        ("aws", "return [r['body'] for r in event['Records']]", "sqs"),
        ("aws", "return [r['Sns']['Message'] for r in event['Records']]", "sns"),
        ("aws", "return [r['dynamodb']['NewImage'] for r in event['Records']]", "dynamodb"),
        ("aws", "return [r['kinesis']['data'] for r in event['Records']]", "kinesis"),
        ("aws", "return event['detail-type']", "schedule"),
        ("yandex", "return event['httpMethod']", "http"),
        ("yandex", "return event['version'], event['resource']", "api-gateway-v1"),
        ("yandex", "m = event['messages'][0]\n    return m['details']['trigger_id']", "timer"),
        (
            "yandex",
            "m = event['messages'][0]\n    return m['details']['queue_id']",
            "message-queue",
        ),
        (
            "yandex",
            "m = event['messages'][0]\n    return m['details']['bucket_id']",
            "object-storage",
        ),
        ("yandex", "return event['messages'][0]['budget_id']", "budget"),
    ],
)
def test_keys_the_handler_reads_pick_the_trigger(platform: str, body: str, expected: str) -> None:
    source = f"def handler(event, context):\n    {body}\n"
    assert _choice(source, platform) == (expected, "keys")


def test_keys_read_in_helpers_count_too() -> None:
    source = (
        "def handler(event, context):\n    return work(event)\n\n"
        "def work(e):\n    return [r['Sns']['Subject'] for r in e['Records']]\n"
    )
    assert _choice(source, "aws") == ("sns", "keys")


def test_config_wins_over_keys_and_annotation() -> None:
    source = "def handler(event: SQSEvent, context):\n    return event['httpMethod']\n"
    assert _choice(source, "aws", "s3") == ("s3", "config")


def test_annotation_wins_over_keys() -> None:
    source = (
        "def handler(event: 'APIGatewayProxyEventV2', context):\n    return event['httpMethod']\n"
    )
    assert _choice(source, "aws") == ("http-api", "annotation")
    dotted = "def handler(event: events.SQSEvent, context):\n    return event\n"
    assert _choice(dotted, "aws") == ("sqs", "annotation")


def test_no_evidence_falls_back_to_the_platform_default() -> None:
    source = "def handler(event, context):\n    return {'statusCode': 200}\n"
    assert _choice(source, "yandex") == ("http", "default")
    assert _choice(source, "aws") == ("http-api", "default")


def test_a_trigger_of_the_other_platform_is_ignored() -> None:
    source = "def handler(event, context):\n    return 1\n"
    assert _choice(source, "yandex", "sqs") == ("http", "default")


def test_keys_unknown_to_every_shape_keep_the_default() -> None:
    source = "def handler(event, context):\n    return event['name'], event['age']\n"
    assert _choice(source, "aws") == ("http-api", "default")


def test_choose_trigger_breaks_ties_towards_the_default() -> None:
    shared: list[tuple[Step, ...]] = [(key("headers"), key("Host"))]
    assert choose_trigger("yandex", None, None, shared).trigger == "http"
    records: list[tuple[Step, ...]] = [(key("Records"), ELEM)]
    assert choose_trigger("aws", None, None, records).trigger == "s3"
    assert choose_trigger("aws", None, None, []).reason == "default"
