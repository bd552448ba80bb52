"""The gateway faces' pure rules (platforms/gateways.py), without a runner."""

from __future__ import annotations

import json

import pytest

from handlerlens.platforms.faces import face_of
from handlerlens.platforms.gateways import (
    GatewayRoute,
    RestGateway,
    gateway_face,
    media_type_matches,
    unknown_route,
)
from handlerlens.platforms.http_reply import IncomingRequest


@pytest.mark.parametrize(
    ("content_type", "patterns", "binary"),
    [
        ("image/png", ("image/png",), True),
        ("image/png; q=1", ("IMAGE/PNG",), True),
        ("image/jpeg", ("image/*",), True),  # wildcards, as API Gateway allows them
        ("text/plain", ("*/*",), True),
        ("application/x-www-form-urlencoded", ("image/png",), False),
        ("imagery/png", ("image/*",), False),
        (None, ("*/*",), False),
        ("image/png", (), False),
    ],
)
def test_binary_media_types_match_exactly_or_by_wildcard(
    content_type: str | None, patterns: tuple[str, ...], binary: bool
) -> None:
    assert media_type_matches(content_type, patterns) is binary


def test_unknown_routes_get_the_answer_of_the_kind_that_is_there() -> None:
    reply, _ = unknown_route({"rest", "http"})
    assert (reply.status, json.loads(reply.body)) == (
        403,
        {"message": "Missing Authentication Token"},
    )
    reply, _ = unknown_route({"http"})
    assert (reply.status, json.loads(reply.body)) == (404, {"message": "Not Found"})
    reply, _ = unknown_route({"yandex"})
    assert reply.status == 404 and "emulated" in json.loads(reply.body)["note"]


def rest(binary: tuple[str, ...] = ()) -> RestGateway:
    route = GatewayRoute(
        kind="rest",
        method="GET",
        template="/items/{id}",
        api="Api",
        stage="Prod",
        payload="1.0",
        binary_media_types=binary,
    )
    face = gateway_face(route, "aws")
    assert isinstance(face, RestGateway)
    return face


def request(accept: str = "*/*") -> IncomingRequest:
    return IncomingRequest("GET", "", [("Accept", accept)], b"", "127.0.0.1", 1)


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ({"statusCode": 200, "body": "x", "message": "m"}, "the key 'message'"),
        ({"statusCode": 200, "body": {"a": 1}}, "its body is an object"),
        ({"statusCode": 200, "body": [1]}, "its body is a list"),
        ({"body": "x"}, "no statusCode"),
        ([1, 2], "no object with a statusCode"),
    ],
)
def test_a_rest_response_of_another_format_is_502_with_the_reason(
    result: object, reason: str
) -> None:
    reply, why = rest().reply("json", json.dumps(result).encode(), request())
    assert (reply.status, json.loads(reply.body)) == (502, {"message": "Internal server error"})
    assert why is not None and reason in why and "GET /items/{id}" in why


def test_a_valid_rest_response_is_passed_with_merged_headers() -> None:
    result = {
        "statusCode": 201,
        "headers": {"X-One": "1"},
        "multiValueHeaders": {"X-Two": ["a", "b"]},
        "body": "made",
        "isBase64Encoded": False,
    }
    reply, why = rest().reply("json", json.dumps(result).encode(), request())
    assert why is None
    assert (reply.status, reply.body) == (201, b"made")
    assert reply.headers == [("X-One", "1"), ("X-Two", "a"), ("X-Two", "b")]


def test_a_yandex_route_builds_on_the_yandex_platform_face() -> None:
    route = GatewayRoute(
        kind="yandex", method="GET", template="/a", api="spec", stage=None, payload="0.1"
    )
    face = gateway_face(route, "yandex")
    assert face.request_id_header == face_of("yandex", None).request_id_header
