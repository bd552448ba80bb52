"""The gateway faces' pure rules (platforms/gateways.py), without a runner."""

from __future__ import annotations

import json

import pytest

from handlerlens.platforms.faces import face_of
from handlerlens.platforms.gateway_base import GatewayRoute, media_type_matches
from handlerlens.platforms.gateways import RestGateway, gateway_face, unknown_route
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


def test_the_route_tables_index_finds_what_matching_every_route_finds() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from handlerlens.core.problems import Span
    from handlerlens.project.routes import Route, match
    from handlerlens.runner.route_table import Loaded, RouteTable

    templates = [
        "/",
        "/items",
        "/items/{id}",
        "/{proxy+}",
        "/a/{x}/b",
        "/a/c/b",
        "/{k}/c",
        "$default",
    ]
    routes = [
        Route(m, t, "http", "api", None, "$default", "2.0", "t.yaml", Span.of(i, 0))
        for i, (m, t) in enumerate((m, t) for t in templates for m in ("GET", "ANY"))
    ]
    table = RouteTable("/", {}, None)
    table.apply(Loaded(routes, []))
    segment = st.sampled_from(["items", "a", "b", "c", "x", "", "%2F", "i%74ems"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(segment, max_size=4), st.sampled_from(["GET", "POST"]))
    def check(parts: list[str], method: str) -> None:
        path = "/" + "/".join(parts)
        expected = match(routes, method, path)
        hit = table.find(method, path)
        if expected is None:
            assert hit is None
        else:
            assert hit is not None
            assert (hit.entry.route, hit.params) == expected

    check()
