"""The event and context model as data: shapes, samples and context members agree with the facts."""

from __future__ import annotations

import pytest

from handlerlens.platforms.context_model import context_model, resolve_context
from handlerlens.platforms.event_shapes import (
    ELEM,
    annotation_trigger,
    event_shape,
    event_shapes,
    key,
    validate,
)
from handlerlens.platforms.sample_events import list_samples, sample_event, sample_path
from handlerlens.platforms.triggers import AWS_TRIGGERS, YANDEX_TRIGGERS

ALL = [("yandex", t) for t in YANDEX_TRIGGERS] + [("aws", t) for t in AWS_TRIGGERS]


@pytest.mark.parametrize(("platform", "trigger"), ALL)
def test_every_sample_validates_against_its_shape(platform: str, trigger: str) -> None:
    shape = event_shape(platform, trigger)
    assert shape is not None
    assert validate(shape.root, sample_event(platform, trigger)) == []


@pytest.mark.parametrize(("platform", "trigger"), ALL)
def test_every_shape_cites_its_source_and_documents_every_key(platform: str, trigger: str) -> None:
    shape = event_shape(platform, trigger)
    assert shape is not None
    assert shape.source.startswith(("YC ", "SAM ", "DG "))
    stack = [shape.root]
    while stack:
        node = stack.pop()
        assert node.type and node.doc, node
        stack.extend((node.keys or {}).values())
        stack.extend(n for n in (node.values, node.items) if n is not None)


def test_yandex_http_sample_is_the_docs_dump_field_for_field() -> None:
    event = sample_event("yandex", "http")
    assert sorted(event) == [
        "body",
        "headers",
        "httpMethod",
        "isBase64Encoded",
        "multiValueHeaders",
        "multiValueParams",
        "multiValueQueryStringParameters",
        "params",
        "pathParams",
        "queryStringParameters",
        "requestContext",
        "url",
    ]
    assert event["body"] == '{"hello": "world"}'
    assert event["queryStringParameters"] == {"param": "one"}
    assert event["requestContext"] == {
        "httpMethod": "POST",
        "identity": {"sourceIp": "109.252.148.209", "userAgent": "curl/7.64.1"},
        "requestId": "6e8356f9-489b-4c7b-8ba6-c8cd74f25455",
        "requestTime": "13/Jul/2022:11:58:59 +0000",
        "requestTimeEpoch": 1657713539,
    }
    assert event["headers"]["X-Real-Remote-Address"] == "[109.252.148.209]:2816"


def test_yandex_http_shape_is_closed_at_the_envelope_and_request_context() -> None:
    shape = event_shape("yandex", "http")
    assert shape is not None
    assert shape.root.closed
    rc = shape.root.resolve((key("requestContext"),))
    assert rc is not None and rc.closed and rc.keys is not None
    assert {"identity", "requestId", "requestTimeEpoch", "authorizer", "connectionId"} <= set(
        rc.keys
    )
    headers = shape.root.resolve((key("headers"),))
    assert headers is not None and not headers.closed
    assert headers.child(key("X-Anything")) is not None
    path = shape.root.child(key("path"))
    assert path is not None and path.optional


def test_shapes_describe_list_items_and_open_maps() -> None:
    s3 = event_shape("aws", "s3")
    assert s3 is not None
    name = s3.root.resolve((key("Records"), ELEM, key("s3"), key("bucket"), key("name")))
    assert name is not None and name.type == "str"
    ddb = event_shape("aws", "dynamodb")
    assert ddb is not None
    image = ddb.root.resolve((key("Records"), ELEM, key("dynamodb"), key("NewImage"), key("Id")))
    assert image is not None and image.keys is not None and "N" in image.keys
    mq = event_shape("yandex", "message-queue")
    assert mq is not None
    body = mq.root.resolve((key("messages"), ELEM, key("details"), key("message"), key("body")))
    assert body is not None and body.type == "str"


def test_validate_reports_unknown_missing_and_mistyped_keys() -> None:
    shape = event_shape("yandex", "http")
    assert shape is not None
    event = sample_event("yandex", "http")
    event["httpMetod"] = event.pop("httpMethod")
    event["isBase64Encoded"] = "no"
    errors = validate(shape.root, event)
    assert "event: unknown key 'httpMetod'" in errors
    assert "event: missing key 'httpMethod'" in errors
    assert "event['isBase64Encoded']: expected bool, got str" in errors


def test_samples_are_fresh_copies_and_unknown_triggers_raise() -> None:
    first = sample_event("aws", "sqs")
    first["Records"].clear()
    assert sample_event("aws", "sqs")["Records"]
    with pytest.raises(KeyError):
        sample_event("aws", "timer")
    with pytest.raises(KeyError):
        sample_event("gcp", "http")
    assert sample_path("yandex", "timer").name == "timer.sample.json"
    assert sample_path("yandex", "timer").is_file()


def test_list_samples_follows_trigger_ids() -> None:
    assert list_samples("yandex")[0] == ("http", YANDEX_TRIGGERS["http"])
    assert [t for t, _ in list_samples("aws")] == list(AWS_TRIGGERS)
    assert list_samples("gcp") == []
    assert [s.trigger for s in event_shapes("aws")] == list(AWS_TRIGGERS)


def test_unknown_shape_is_none() -> None:
    assert event_shape("yandex", "sqs") is None
    assert event_shape("gcp", "http") is None


@pytest.mark.parametrize(
    ("name", "trigger"),
    [
        ("APIGatewayProxyEventV2", "http-api"),
        ("aws_lambda_typing.events.APIGatewayProxyEventV1", "api-gateway-rest"),
        ("APIGatewayProxyEvent", "api-gateway-rest"),
        ("SQSEvent", "sqs"),
        ("S3Event", "s3"),
        ("LambdaFunctionUrlEvent", "function-url"),
        ("EventBridgeEvent", "schedule"),
        ("dict", None),
    ],
)
def test_annotation_names_map_to_aws_triggers(name: str, trigger: str | None) -> None:
    assert annotation_trigger("aws", name) == trigger
    assert annotation_trigger("yandex", name) is None


def test_context_member_types_follow_the_platforms() -> None:
    yandex = context_model("yandex")
    aws = context_model("aws")
    assert yandex is not None and aws is not None
    assert yandex.member("memory_limit_in_mb").type == "int"  # type: ignore[union-attr]
    aws_memory = aws.member("memory_limit_in_mb")
    assert aws_memory is not None and aws_memory.type == "str" and aws_memory.numeric_string
    assert yandex.member("deadline_ms") is not None and yandex.member("token") is not None
    assert yandex.member("identity") is None and aws.member("deadline_ms") is None
    assert "_epoch_deadline_time_in_ms" in aws.hidden
    for model in (yandex, aws):
        for member in model.members:
            assert member.doc and member.type, member.name


def test_resolve_context_walks_members_and_keys() -> None:
    identity = resolve_context("aws", (("attr", "identity"), ("attr", "cognito_identity_id")))
    assert identity is not None and getattr(identity, "type", "") == "str | None"
    token = resolve_context("yandex", (("attr", "token"), ("key", "expires_in")))
    assert token is not None and getattr(token, "type", "") == "int"
    assert resolve_context("yandex", (("attr", "identity"),)) is None
    assert resolve_context("aws", (("attr", "_epoch_deadline_time_in_ms"),)) is None
