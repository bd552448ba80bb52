"""Greets whoever calls it: a Yandex Cloud Functions HTTP handler."""

import json


def handler(event, context):
    name = (event.get("queryStringParameters") or {}).get("name", "world")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"greeting": f"Hello, {name}!", "requestId": context.request_id}),
    }
