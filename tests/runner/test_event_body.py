"""The body of an HTTP event on each platform: which request bodies arrive as text and which
as base64 (one encoder, http_reply.event_body; each platform's rule for the content type)."""

from __future__ import annotations

import base64

import pytest

from handlerlens.platforms import aws_http_event, yandex_http_event
from handlerlens.platforms.http_reply import IncomingRequest

BINARY = b"\x89PNG\r\n\x1a\n\x00\xff"
LATIN1_JSON = '{"name": "café"}'.encode("latin-1")  # not UTF-8


def _request(body: bytes, content_type: str | None) -> IncomingRequest:
    headers = [("Content-Type", content_type)] if content_type is not None else []
    return IncomingRequest("POST", "", headers, body, "127.0.0.1", 50000)


def _yandex(body: bytes, content_type: str | None) -> tuple[str, bool]:
    event = yandex_http_event.build_event(_request(body, content_type), "rid", "tid", 0.0)
    return event["body"], event["isBase64Encoded"]


def _aws(version: str, body: bytes, content_type: str | None) -> tuple[str | None, bool]:
    event = aws_http_event.build_event(
        version, _request(body, content_type), "/", "localhost", "rid"
    )
    # No body: payload 2.0 leaves the field out, 1.0 sends null.
    return event.get("body"), event["isBase64Encoded"]


def _b64(body: bytes) -> str:
    return base64.b64encode(body).decode("ascii")


def test_yandex_keeps_only_json_as_text() -> None:
    assert _yandex(b'{"a": 1}', "application/json; charset=utf-8") == ('{"a": 1}', False)
    assert _yandex(b"hello", "text/plain") == (_b64(b"hello"), True)
    assert _yandex(BINARY, "image/png") == (_b64(BINARY), True)
    assert _yandex(LATIN1_JSON, "application/json") == (_b64(LATIN1_JSON), True)
    assert _yandex(b"", "application/json") == ("", False)
    assert _yandex(b"hello", None) == (_b64(b"hello"), True)


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_aws_keeps_text_types_as_text(version: str) -> None:
    assert _aws(version, b'{"a": 1}', "application/json") == ('{"a": 1}', False)
    assert _aws(version, b"hello", "text/plain; charset=utf-8") == ("hello", False)
    assert _aws(version, b"<a/>", "application/atom+xml") == ("<a/>", False)
    assert _aws(version, BINARY, "image/png") == (_b64(BINARY), True)
    assert _aws(version, LATIN1_JSON, "application/json") == (_b64(LATIN1_JSON), True)
    assert _aws(version, b"", "text/plain") == (None, False)
    assert _aws(version, b"hello", None) == (_b64(b"hello"), True)
