"""The SAM apps and handlers the route tests share (the language server's and the runner's).

A template is put together from its functions and their API events, so a test shows which
functions, event types, paths and methods it declares and nothing else; what a builder writes
is exactly what a hand-written template would hold (route positions are asserted on it).
"""

from __future__ import annotations

SAM_TRANSFORM = "Transform: AWS::Serverless-2016-10-31\n"


def sam_event(
    name: str, kind: str, path: str, method: str = "get", *properties: str, indent: int = 8
) -> str:
    """One API event of a function (`kind`: Api or HttpApi), with more `properties` lines
    (`TimeoutInMillis: 300`) after its method."""
    pad = " " * indent
    lines = [
        f"{name}:",
        f"  Type: {kind}",
        "  Properties:",
        f"    Path: {path}",
        f"    Method: {method}",
        *(f"    {line}" for line in properties),
    ]
    return "".join(f"{pad}{line}\n" for line in lines)


def sam_function(name: str, handler: str, *events: str) -> str:
    """One AWS::Serverless::Function resource and its events (sam_event)."""
    head = (
        f"  {name}:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        f"      Handler: {handler}\n"
    )
    return head + ("      Events:\n" + "".join(events) if events else "")


def sam_template(
    *resources: str,
    runtime: str = "python3.12",
    timeout: int | None = 10,
    code_uri: str | None = None,
    format_version: bool = False,
) -> str:
    """A SAM template: the transform, the functions' Globals, then `resources`."""
    globals_ = [f"    Runtime: {runtime}"]
    if timeout is not None:
        globals_.append(f"    Timeout: {timeout}")
    if code_uri is not None:
        globals_.append(f"    CodeUri: {code_uri}")
    head = 'AWSTemplateFormatVersion: "2010-09-09"\n' if format_version else ""
    return (
        head
        + SAM_TRANSFORM
        + "Globals:\n  Function:\n"
        + "".join(f"{line}\n" for line in globals_)
        + "Resources:\n"
        + "".join(resources)
    )


# One REST route with a path parameter and one HTTP API catch-all (the lenses' app).
ITEMS_AND_ORDERS = sam_template(
    sam_function("GetItem", "app.handler", sam_event("Get", "Api", "/items/{id}")),
    sam_function("Orders", "app.handler", sam_event("Any", "HttpApi", "/orders/{proxy+}", "any")),
)

# A handler that answers with the event it got, as JSON.
ECHO = """\
import json


def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
"""

# One Yandex function declared in pyproject.toml, for an API Gateway spec beside it.
YANDEX_GREETER = """\
[tool.handlerlens]
platform = "yandex"

[[tool.handlerlens.functions]]
name = "greeter"
entry = "app.handler"
"""
