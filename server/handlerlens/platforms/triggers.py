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
