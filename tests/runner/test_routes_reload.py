"""Routes re-read when a declaring file changes, while requests keep being answered; a
declaring file that stops parsing keeps the last good routes and says why. Also serverless.yml
routes (REST with the Serverless stage, HTTP API) through a real runner."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from tests.routes_fixtures import sam_event, sam_function, sam_template
from tests.runner.harness import Runner


def src_template(*functions: str) -> str:
    """A SAM template whose functions' code is in src/."""
    return sam_template(
        *functions, runtime="python3.11", timeout=None, code_uri="src/", format_version=True
    )


TEMPLATE = src_template(
    sam_function("GetItem", "app.handler", sam_event("Get", "Api", "/items/{id}"))
)
NEW_ROUTE = sam_event("List", "Api", "/items")

APP = """\
import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"resource": event["resource"]})}
"""


def test_a_template_change_updates_the_routes_without_dropping_a_request(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    served = Runner([], tmp_path)
    statuses: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            statuses.append(served.request("GET", "/items/1", timeout=10)[0])

    thread = threading.Thread(target=hammer)
    try:
        assert served.request("GET", "/items")[0] == 403
        thread.start()
        mark = len(served.events)
        template.write_text(TEMPLATE + NEW_ROUTE)
        event = served.wait_for(
            lambda e: e["event"] == "routes" and e["reason"] == "changed", start=mark
        )
        assert [r["routeKey"] for r in event["routes"]] == ["GET /items/{id}", "GET /items"]
        assert event["kept"] is False
        status, _, body = served.request("GET", "/items")
        assert (status, json.loads(body)) == (200, {"resource": "/items"})
        # The table is printed again.
        assert served.wait_stderr("GET /items → GetItem (REST, stage Prod)")

        # A template that no longer parses: the last good routes stay, and why is said.
        mark = len(served.events)
        template.write_text(TEMPLATE + NEW_ROUTE + "  : [unclosed\n")
        event = served.wait_for(
            lambda e: e["event"] == "routes" and e["reason"] == "changed", start=mark
        )
        assert event["kept"] is True
        line = served.wait_stderr("the routes it declared before are kept")
        assert "template.yaml" in line
        # and the function keeps its declaration too.
        line = served.wait_stderr("could not be read again")
        assert line.startswith("handlerlens: template.yaml changed, but the functions'")
        assert not [line for line in served.stderr if "no longer declared" in line]
        assert served.request("GET", "/items")[0] == 200

        # Fixed again, with the list route gone: 403 for it again.
        mark = len(served.events)
        template.write_text(TEMPLATE)
        event = served.wait_for(
            lambda e: e["event"] == "routes" and e["reason"] == "changed" and not e["kept"],
            start=mark,
        )
        assert [r["routeKey"] for r in event["routes"]] == ["GET /items/{id}"]
        assert served.request("GET", "/items")[0] == 403
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(15)
        served.stop()
    # Every request made while the routes were re-read was answered by the route.
    assert statuses and set(statuses) == {200}


SERVERLESS = """\
service: shop
provider:
  name: aws
  runtime: python3.11
  stage: test
functions:
  list:
    handler: handler.echo
    events:
      - http: GET items
      - http:
          path: items
          method: post
          cors: true
  get:
    handler: handler.echo
    events:
      - httpApi: 'GET /things/{id}'
  plain:
    handler: handler.echo
"""

ECHO = """\
import json


def echo(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""


def test_serverless_http_and_http_api_events_are_routes(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(SERVERLESS)
    (tmp_path / "handler.py").write_text(ECHO)
    served = Runner(["--no-watch"], tmp_path)
    try:
        # serverless-offline's URL keeps the stage (/test/items); sam local's has none.
        for url in ("/items", "/test/items"):
            status, _, body = served.request("GET", url)
            event = json.loads(body)
            assert status == 200
            assert (event["resource"], event["path"]) == ("/items", "/items")
            assert event["requestContext"]["stage"] == "test"
            assert event["requestContext"]["path"] == "/test/items"
        status, _, body = served.request("GET", "/things/9")
        event = json.loads(body)
        assert (event["routeKey"], event["pathParameters"]) == ("GET /things/{id}", {"id": "9"})
        # A function without an HTTP event keeps its /<name>/… prefix, and is told of.
        assert served.wait_stderr("plain has no HTTP route")
        status, _, body = served.request("GET", "/plain/x")
        assert status == 200
        assert json.loads(body)["rawPath"] == "/x"
        # `cors: true`: the REST API answers OPTIONS with the Serverless Framework's defaults.
        status, headers, body = served.request("OPTIONS", "/items")
        assert (status, body) == (200, b"")
        assert headers["access-control-allow-origin"] == "*"
        assert headers["access-control-allow-methods"] == "GET,OPTIONS,POST"
        assert headers["access-control-allow-headers"].startswith("Content-Type,X-Amz-Date")
        # A routed function is not reached by its name.
        assert served.request("GET", "/list/items")[0] == 403
    finally:
        served.stop()


LAZY_TEMPLATE = src_template(
    sam_function("First", "app.handler", sam_event("Get", "HttpApi", "/first")),
    sam_function("Second", "app.handler", sam_event("Get", "HttpApi", "/second")),
)

COUNTING = """\
CALLS = 0


def handler(event, context):
    global CALLS
    CALLS += 1
    return {"calls": CALLS}
"""


def workers(served: Runner, count: int) -> list[int]:
    """The runner's worker processes, once there are `count` of them."""
    deadline = time.monotonic() + 10
    while len(found := served.worker_pids()) != count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(found) == count, found
    return found


def test_an_apps_functions_start_on_their_first_request_and_stay_warm(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(COUNTING)
    (tmp_path / "template.yaml").write_text(LAZY_TEMPLATE)
    served = Runner(["--no-watch"], tmp_path)
    try:
        assert served.wait_stderr("each function starts when a request first needs it")
        assert served.worker_pids() == []  # nothing started yet
        status, headers, body = served.request("GET", "/first")
        assert (status, json.loads(body)) == (200, {"calls": 1})
        report = served.wait_for(
            lambda e: e["event"] == "report" and e["requestId"] == headers["apigw-requestid"]
        )
        assert report["function"] == "First" and report["initMs"] is not None  # cold
        # First's instance alone (a standby comes with its first save); Second's none.
        first_workers = set(workers(served, 1))
        status, headers, body = served.request("GET", "/first")
        assert (status, json.loads(body)) == (200, {"calls": 2})  # warm: globals kept
        report = served.wait_for(
            lambda e: e["event"] == "report" and e["requestId"] == headers["apigw-requestid"]
        )
        assert report["initMs"] is None
        assert set(served.worker_pids()) == first_workers
        status, _, body = served.request("GET", "/second")
        assert (status, json.loads(body)) == (200, {"calls": 1})
        assert first_workers < set(workers(served, 2))
    finally:
        served.stop()


SHARED_TEMPLATE = LAZY_TEMPLATE.replace(
    "Handler: app.handler", "Handler: first.handler", 1
).replace("Handler: app.handler", "Handler: second.handler", 1)
FIRST = """\
import common

CALLS = 0


def handler(event, context):
    global CALLS
    CALLS += 1
    return {"calls": CALLS, "common": common.VERSION}
"""
SECOND = """\
def handler(event, context):
    return {"second": 1}
"""


def test_a_save_reloads_only_the_functions_whose_code_it_changed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "first.py").write_text(FIRST)
    (src / "common.py").write_text("VERSION = 1\n")
    (src / "second.py").write_text(SECOND)
    (tmp_path / "template.yaml").write_text(SHARED_TEMPLATE)
    served = Runner([], tmp_path)

    def get(path: str) -> dict[str, object]:
        status, _, body = served.request("GET", path)
        assert status == 200, body
        answer: dict[str, object] = json.loads(body)
        return answer

    def reloaded(mark: int) -> list[str]:
        return [str(e["function"]) for e in served.events[mark:] if e["event"] == "reloading"]

    try:
        assert get("/first") == {"calls": 1, "common": 1}
        assert get("/second") == {"second": 1}
        mark = len(served.events)
        (src / "second.py").write_text(SECOND.replace("1}", "2}"))
        served.wait_for(
            lambda e: e["event"] == "reloaded" and e["function"] == "Second" and "ms" in e,
            start=mark,
        )
        assert get("/second") == {"second": 2}
        # First shares the code root but does not import second.py: still warm.
        assert get("/first") == {"calls": 2, "common": 1}
        assert reloaded(mark) == ["Second"]

        mark = len(served.events)
        (src / "common.py").write_text("VERSION = 2\n")
        served.wait_for(
            lambda e: e["event"] == "reloaded" and e["function"] == "First" and "ms" in e,
            start=mark,
        )
        assert get("/first") == {"calls": 1, "common": 2}  # fresh: new code, new globals
        assert reloaded(mark) == ["First"]
    finally:
        served.stop()


PLAIN_TEMPLATE = TEMPLATE.split("      Events:")[0]


def test_routes_declared_while_one_function_is_served_take_its_kept_alive_connection(
    tmp_path: Path,
) -> None:
    # One function, no route: its worker answers the connections lent to it. Once a route is
    # declared, a connection already open is routed too.
    import http.client

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "import json\n\n\ndef handler(event, context):\n"
        "    key = event.get('resource') or event.get('routeKey')\n"
        "    return {'statusCode': 200, 'body': json.dumps({'resource': key})}\n"
    )
    template = tmp_path / "template.yaml"
    template.write_text(PLAIN_TEMPLATE)
    served = Runner([], tmp_path)
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        connection.request("GET", "/items/1")
        response = connection.getresponse()
        # Served alone, as an HTTP API's $default route.
        assert (response.status, json.loads(response.read())) == (200, {"resource": "$default"})
        mark = len(served.events)
        template.write_text(TEMPLATE)
        served.wait_for(lambda e: e["event"] == "routes" and e["reason"] == "changed", start=mark)
        deadline = time.monotonic() + 10
        while True:  # the lent connection comes back after its current request
            connection.request("GET", "/items/1")
            response = connection.getresponse()
            body = json.loads(response.read())
            if body == {"resource": "/items/{id}"} or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert body == {"resource": "/items/{id}"}
        connection.request("GET", "/nowhere")
        response = connection.getresponse()
        assert response.status == 403
        response.read()
    finally:
        connection.close()
        served.stop()
