"""Routes of a serverless.yml: `http` and `httpApi` events (object and `'GET /items'` string
forms), `url`; with the Yandex plugin, `http` events become a Yandex API Gateway.
"""

from __future__ import annotations

from dataclasses import replace

import yaml

from handlerlens.core.problems import Problem
from handlerlens.project import routes_cors
from handlerlens.project import routes_values as rv
from handlerlens.project import yaml_nodes as yn
from handlerlens.project.routes import DEFAULT, Route
from handlerlens.project.routes_collect import (
    Collector,
    declared_text,
    function_url,
    plain_text,
    target_route,
)
from handlerlens.project.serverless_config import event_pairs, function_entries


def serverless_routes(path: str, text: str) -> tuple[list[Route], list[Problem]]:
    """The routes of a serverless.yml: AWS `http` (REST, stage = `provider.apiGateway.stage`
    or `provider.stage` or `dev`), `httpApi` (`$default` stage, payload 2.0 unless
    `httpApi.payload: '1.0'`) and `url`; with `provider: yandex-cloud`, `http` events as the
    API Gateway the Yandex plugin builds (payload `eventFormat`, else
    `provider.httpApi.payload`, else 0.1)."""
    doc, _ = yn.parse(path, text, "serverless.yml")
    if doc is None:
        return [], []
    collector = Collector(path, text)
    provider = yn.get(doc, "provider")
    provider_name = yn.as_str(yn.get(provider, "name")) or yn.as_str(provider)
    service = yn.as_str(yn.get(doc, "service")) or yn.as_str(yn.get_path(doc, "service", "name"))
    api_name = service or "service"
    if provider_name == "yandex-cloud":
        _yandex_serverless_routes(collector, doc, provider, api_name)
        return collector.routes, collector.problems
    if provider_name != "aws":
        return [], []
    gateway = yn.get(provider, "apiGateway")
    stage = plain_text(yn.get(gateway, "stage")) or plain_text(yn.get(provider, "stage")) or "dev"
    binary = tuple(
        t for t in (yn.as_str(n) for n in yn.sequence(yn.get(gateway, "binaryMediaTypes"))) if t
    )
    default_payload = plain_text(yn.get_path(provider, "httpApi", "payload"))
    http_cors = routes_cors.serverless_http(yn.get_path(provider, "httpApi", "cors"))
    for function, node in function_entries(doc):
        function_payload = plain_text(yn.get_path(node, "httpApi", "payload")) or default_payload
        for key, event in event_pairs(node):
            what = f"The {key} event of function '{function}'"
            at = yn.get(event, "path") or event
            if key == "http":
                method_text, path_text = _serverless_method_path(event)
                target = target_route(path, "rest", api_name, function, stage, "1.0", binary)
                collector.aws_route(
                    method_text=method_text,
                    path_text=path_text,
                    at=at,
                    what=what,
                    target=replace(
                        target,
                        timeout_ms=rv.millis(yn.get(event, "timeoutInMillis")),
                        cors=routes_cors.serverless_rest(yn.get(event, "cors")),
                    ),
                )
            elif key == "httpApi":
                method_text, path_text = _serverless_method_path(event)
                payload = plain_text(yn.get(event, "payload")) or function_payload
                version = "1.0" if payload == "1.0" else "2.0"
                target = target_route(path, "http", api_name, function, DEFAULT, version)
                target = replace(target, cors=http_cors)
                if (yn.as_str(event) or "").strip() == "*":
                    collector.routes.append(replace(target, span=collector.span(event)))
                else:
                    collector.aws_route(
                        method_text=method_text,
                        path_text=path_text,
                        at=at,
                        what=what,
                        target=target,
                    )
        url = yn.get(node, "url")
        if url is not None and plain_text(url) != "false":
            # `url: {authorizer: aws_iam}` [SLS guide/functions.md "Lambda URLs"].
            auth = plain_text(yn.get(url, "authorizer"))
            collector.routes.append(function_url(function, path, collector.span(url), auth))
    return collector.routes, collector.problems


def _serverless_method_path(event: yaml.Node) -> tuple[str | None, str | None]:
    """(method, path) of an `http`/`httpApi` event: `'GET /items'`, `GET items` or
    `{method, path}`."""
    short = yn.as_str(event)
    if short is not None:
        method, _, rest = short.strip().partition(" ")
        return method, rest.strip()
    return declared_text(yn.get(event, "method")), declared_text(yn.get(event, "path"))


def _yandex_serverless_routes(
    collector: Collector, doc: yaml.Node, provider: yaml.Node | None, api_name: str
) -> None:
    default_payload = plain_text(yn.get_path(provider, "httpApi", "payload")) or "0.1"
    for function, node in function_entries(doc):
        for key, event in event_pairs(node):
            if key != "http":
                continue
            method_text, path_text = _serverless_method_path(event)
            payload = plain_text(yn.get(event, "eventFormat")) or default_payload
            collector.aws_route(
                method_text=method_text,
                path_text=path_text,
                at=yn.get(event, "path") or event,
                what=f"The http event of function '{function}'",
                target=target_route(collector.path, "yandex", api_name, function, None, payload),
            )
