"""Cookie parameters of a Yandex API Gateway operation on a real `handlerlens serve` (issue #17).

An operation's `parameters` with `in: cookie` (at the path item or the operation, or a
`$ref`) are filled from the request's `Cookie` header into `params` / `multiValueParams`
(payload 0.1) or `parameters` / `multiValueParameters` (1.0), as path, query and header
parameters are, and substituted as `{name}` in the integration's `context` (PLATFORMS.md
§10.5: substitution covers `path`, `query`, `header`, `cookie`). The event's headers keep no
`Cookie`, as the function's own front end removes it (§4.1). Malformed Cookie headers are
read leniently, pair by pair, and never break the runner.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from handlerlens.platforms.gateway_yandex import cookies
from tests.runner.harness import Runner
from tests.runner.test_routes_yandex import HANDLER, MAIN_TF

SPEC = """\
openapi: 3.0.0
info:
  title: shop
  version: 1.0.0
components:
  parameters:
    Theme:
      name: theme
      in: cookie
      schema:
        type: string
paths:
  /items/{id}:
    parameters:
      - name: id
        in: path
        required: true
        schema:
          type: string
      - name: session
        in: cookie
        schema:
          type: string
    get:
      parameters:
        - name: q
          in: query
          schema:
            type: string
        - name: X-Trace
          in: header
          schema:
            type: string
        - $ref: '#/components/parameters/Theme'
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: ${ITEMS_ID}
        context:
          item: "{id}"
          query: "{q}"
          session: "{session}"
          theme: "{theme}"
          undeclared: "{other}"
  /files/{path+}:
    get:
      operationId: getFile
      parameters:
        - name: session
          in: cookie
          schema:
            type: string
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: ${yandex_function.files.id}
        payload_format_version: "1.0"
        context:
          who: "session {session}"
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    folder = tmp_path_factory.mktemp("yandex-cookies")
    (folder / "src").mkdir()
    (folder / "gateway").mkdir()
    (folder / "main.tf").write_text(MAIN_TF)
    (folder / "gateway" / "spec.yaml").write_text(SPEC)
    (folder / "src" / "items.py").write_text(HANDLER)
    runner = Runner(["--no-watch"], folder)
    yield runner
    runner.stop()


def _event(runner: Runner, path: str, *headers: tuple[str, str | bytes]) -> dict[str, Any]:
    """The event the function got for a GET of `path` with `headers` sent as given: a name
    may repeat, a value may be bytes (sent as they are, whatever their encoding)."""
    connection = http.client.HTTPConnection("127.0.0.1", runner.port, timeout=30)
    try:
        connection.putrequest("GET", path)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 200, body
    event: dict[str, Any] = json.loads(body)
    return event


def test_payload_0_1_fills_params_and_context_from_the_cookie_header(served: Runner) -> None:
    event = _event(
        served, "/items/42?q=tea", ("Cookie", "session=s1; theme=dark; other=x; tracker=1")
    )
    # The declared cookies (path-item level `session`, the operation's `$ref` `theme`),
    # beside the path and query parameters; `other` and `tracker` are not declared.
    assert event["params"] == {"id": "42", "q": "tea", "session": "s1", "theme": "dark"}
    assert event["multiValueParams"] == {
        "id": ["42"],
        "q": ["tea"],
        "session": ["s1"],
        "theme": ["dark"],
    }
    assert event["requestContext"]["apiGateway"] == {
        "operationContext": {
            "item": "42",
            "query": "tea",
            "session": "s1",
            "theme": "dark",
            # Not a declared parameter (a cookie of that name was sent): not substituted.
            "undeclared": "{other}",
        }
    }
    # As behind the function's own front end (PLATFORMS.md §4.1): no Cookie header.
    assert not [name for name in event["headers"] if name.lower() == "cookie"]
    assert not [name for name in event["multiValueHeaders"] if name.lower() == "cookie"]


def test_payload_1_0_fills_parameters_and_context_from_the_cookie_header(served: Runner) -> None:
    event = _event(served, "/files/a/b.txt", ("Cookie", "session=s2"))
    assert event["version"] == "1.0"
    assert event["parameters"] == {"path": "a/b.txt", "session": "s2"}
    assert event["multiValueParameters"] == {"path": ["a/b.txt"], "session": ["s2"]}
    assert event["requestContext"]["apiGateway"] == {"operationContext": {"who": "session s2"}}
    assert "Cookie" not in event["headers"]
    for key in ("params", "multiValueParams"):
        assert key not in event


def test_an_absent_cookie_is_left_out_as_an_absent_query_parameter_is(served: Runner) -> None:
    event = _event(served, "/items/7")
    assert event["params"] == {"id": "7"}
    assert event["multiValueParams"] == {"id": ["7"]}
    # Neither the absent query parameter nor the absent cookies are substituted.
    context = event["requestContext"]["apiGateway"]["operationContext"]
    assert (context["query"], context["session"], context["theme"]) == (
        "{q}",
        "{session}",
        "{theme}",
    )
    one = _event(served, "/files/x", ("Cookie", "theme=dark"))  # not this operation's
    assert one["parameters"] == {"path": "x"}
    assert one["requestContext"]["apiGateway"]["operationContext"] == {"who": "session {session}"}


@pytest.mark.parametrize(
    ("sent", "session", "theme"),
    [
        # An empty header, or one of separators only: no cookie.
        ([""], None, None),
        ([";; ;"], None, None),
        # A pair without `=` is skipped, the others still read.
        (["junk; session=s1; theme"], ["s1"], None),
        (["session"], None, None),
        # An empty name is no cookie; an empty value is one.
        (["=x; session="], [""], None),
        # Only the first `=` separates; blanks around name and value go.
        (["  session = a=b ;theme=\tdark\t"], ["a=b"], ["dark"]),
        # A repeated name: every value in order, the last in `params` (as for a query).
        (["session=a; session=b"], ["a", "b"], None),
        # Several Cookie headers: read in order, as one.
        (["session=a; theme=t1", "session=b"], ["a", "b"], ["t1"]),
        # Double quotes around a value go; nothing else is unescaped.
        (['session="a b"; theme="\\101"'], ["a b"], ["\\101"]),
        (['session="'], ['"'], None),
        # Only `;` separates pairs: after a comma it is still the value.
        (["theme=a, session=2"], None, ["a, session=2"]),
        # Names are case-sensitive, as cookies are.
        (["Session=A; THEME=B"], None, None),
    ],
)
def test_malformed_cookie_headers_are_read_pair_by_pair(
    served: Runner, sent: list[str], session: list[str] | None, theme: list[str] | None
) -> None:
    event = _event(served, "/items/1", *[("Cookie", value) for value in sent])
    expected = {"id": ["1"]}
    if session is not None:
        expected["session"] = session
    if theme is not None:
        expected["theme"] = theme
    assert event["multiValueParams"] == expected
    assert event["params"] == {name: values[-1] for name, values in expected.items()}


@pytest.mark.parametrize(
    "raw",
    [
        "é-ü".encode(),  # UTF-8
        "café".encode("latin-1"),  # not UTF-8
        b"\xff\xfe\x80",
    ],
)
def test_non_ascii_cookie_values_arrive_as_a_header_of_the_same_bytes_does(
    served: Runner, raw: bytes
) -> None:
    """A cookie's value is the header's text: the same string the declared header parameter
    `X-Trace` gets for the same bytes (the runner reads header bytes one to one)."""
    event = _event(served, "/items/1", ("Cookie", b"session=" + raw), ("X-Trace", raw))
    assert event["params"]["session"] == event["params"]["X-Trace"]
    assert event["params"]["session"].encode("latin-1") == raw
    context = event["requestContext"]["apiGateway"]["operationContext"]
    assert context["session"] == event["params"]["X-Trace"]


def test_the_runner_keeps_serving_and_logs_no_error_after_the_odd_cookies(served: Runner) -> None:
    _event(served, "/items/1", ("Cookie", b"\x00; =; ;=;session=\xc3"))
    assert _event(served, "/items/2", ("Cookie", "session=ok"))["params"]["session"] == "ok"
    assert not [line for line in served.stderr if "Traceback" in line or "rror" in line]


def test_the_cookie_reader_on_its_own() -> None:
    assert cookies([]) == {}
    assert cookies([("X-Cookie", "a=1"), ("Set-Cookie", "b=2")]) == {}
    assert cookies([("cookie", "a=1"), ("COOKIE", "a=2; b=3")]) == {"a": ["1", "2"], "b": ["3"]}
    assert cookies([("Cookie", "path=/; expires=never; a=1")]) == {
        "path": ["/"],
        "expires": ["never"],
        "a": ["1"],
    }
