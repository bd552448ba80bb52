"""Trigger kinds: the stable identifiers that decide an event's shape.

The project model maps declarations (SAM `Events`, Serverless `events`, Terraform triggers,
`[tool.handlerlens]` `trigger`) onto these ids; completion, hover, checks, sample events and
the runner key everything event-shaped by them.
"""

from __future__ import annotations

import os

YANDEX_TRIGGERS: dict[str, str] = {
    "http": "HTTP invocation (functions.yandexcloud.net)",
    "raw": "HTTP invocation with ?integration=raw",
    "api-gateway": "API Gateway, payload 0.1",
    "api-gateway-v1": "API Gateway, payload 1.0",
    "timer": "Timer trigger",
    "message-queue": "Message Queue trigger",
    "object-storage": "Object Storage trigger",
    "container-registry": "Container Registry trigger",
    "iot": "IoT Core device trigger",
    "iot-broker": "IoT Core broker trigger",
    "logging": "Cloud Logging trigger",
    "budget": "Budget trigger",
    "data-streams": "Data Streams trigger",
    "mail": "Mail trigger",
}

AWS_TRIGGERS: dict[str, str] = {
    "api-gateway-rest": "API Gateway REST API (payload 1.0)",
    "http-api": "API Gateway HTTP API (payload 2.0)",
    "function-url": "Lambda function URL",
    "s3": "Amazon S3 notification",
    "sqs": "Amazon SQS",
    "sns": "Amazon SNS",
    "schedule": "EventBridge scheduled event",
    "dynamodb": "DynamoDB Streams",
    "kinesis": "Kinesis Data Streams",
}

DEFAULT_TRIGGER = {"yandex": "http", "aws": "http-api"}

_YC = "https://yandex.cloud/en/docs/functions/concepts"
_YC_GATEWAY = "https://yandex.cloud/en/docs/api-gateway/concepts/extensions/cloud-functions"
_AWS = "https://docs.aws.amazon.com/lambda/latest/dg"
# The platform's documentation page of each trigger's event (hovers link to it).
TRIGGER_DOCS: dict[str, dict[str, str]] = {
    "yandex": {
        "http": f"{_YC}/function-invoke",
        "raw": f"{_YC}/function-invoke",
        "api-gateway": _YC_GATEWAY,
        "api-gateway-v1": _YC_GATEWAY,
        "timer": f"{_YC}/trigger/timer",
        "message-queue": f"{_YC}/trigger/ymq-trigger",
        "object-storage": f"{_YC}/trigger/os-trigger",
        "container-registry": f"{_YC}/trigger/cr-trigger",
        "iot": f"{_YC}/trigger/iot-core-trigger",
        "iot-broker": f"{_YC}/trigger/iot-core-trigger-broker",
        "logging": f"{_YC}/trigger/cloud-logging-trigger",
        "budget": f"{_YC}/trigger/budget-trigger",
        "data-streams": f"{_YC}/trigger/data-streams-trigger",
        "mail": f"{_YC}/trigger/mail-trigger",
    },
    "aws": {
        "api-gateway-rest": f"{_AWS}/services-apigateway.html",
        "http-api": (
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
            "http-api-develop-integrations-lambda.html"
        ),
        "function-url": f"{_AWS}/urls-invocation.html",
        "s3": f"{_AWS}/with-s3.html",
        "sqs": f"{_AWS}/with-sqs.html",
        "sns": f"{_AWS}/with-sns.html",
        "schedule": (
            "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html"
        ),
        "dynamodb": f"{_AWS}/with-ddb.html",
        "kinesis": f"{_AWS}/with-kinesis.html",
    },
}

# The page on the context object of each platform's Python runtime.
CONTEXT_DOCS = {
    "yandex": "https://yandex.cloud/en/docs/functions/lang/python/context",
    "aws": f"{_AWS}/python-context.html",
}


def trigger_doc_url(platform: str, trigger: str) -> str | None:
    """The documentation page of `trigger`'s event on `platform`, if one is known."""
    return TRIGGER_DOCS.get(platform, {}).get(trigger)


def short_trigger_title(platform: str, trigger: str) -> str:
    """A trigger's title for tight places: no parenthesised detail, no vendor prefix
    (`HTTP invocation (functions.yandexcloud.net)` → `HTTP invocation`, `Amazon S3
    notification` → `S3 notification`)."""
    title = triggers_for(platform).get(trigger, trigger)
    head, _, _ = title.partition(" (")
    return head.removeprefix("Amazon ").strip() or title


# Triggers whose reply is an HTTP proxy response (statusCode, headers, body as a string).
# Yandex `raw` returns the value as it is; every other trigger ignores or forwards the value.
HTTP_PROXY_TRIGGERS: dict[str, frozenset[str]] = {
    "yandex": frozenset({"http", "api-gateway", "api-gateway-v1"}),
    "aws": frozenset({"api-gateway-rest", "http-api", "function-url"}),
}


def triggers_for(platform: str) -> dict[str, str]:
    """Trigger ids and titles of one platform."""
    return YANDEX_TRIGGERS if platform == "yandex" else AWS_TRIGGERS


def sample_file(platform: str, trigger: str) -> str:
    """The JSON file of `trigger`'s sample event, `data/events/<platform>/<trigger>.sample.json`
    (`sample_events` reads it as JSON); KeyError for an unknown platform or trigger. Only `os`
    is needed: `invoke` sends its bytes without loading `sample_events`' imports."""
    if platform not in DEFAULT_TRIGGER or trigger not in triggers_for(platform):
        raise KeyError(f"no sample event for {platform}/{trigger}")
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(package, "data", "events", platform, f"{trigger}.sample.json")
