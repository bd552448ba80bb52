"""Routes of a SAM/CloudFormation template: `Events` of `Type: Api` (REST, payload 1.0) and
`Type: HttpApi` (HTTP API, payload 2.0 unless `PayloadFormatVersion: "1.0"`), their
`RestApiId`/`ApiId`, the function's `FunctionUrlConfig` and `AWS::Lambda::Url` resources.
"""

from __future__ import annotations

from dataclasses import replace

import yaml

from handlerlens.core.problems import Problem
from handlerlens.project import routes_cors
from handlerlens.project import routes_values as rv
from handlerlens.project import yaml_nodes as yn
from handlerlens.project.routes import DEFAULT, IMPLICIT_HTTP_API, IMPLICIT_REST_API, Route
from handlerlens.project.routes_collect import Collector, declared_text, function_url, target_route
from handlerlens.project.sam_template import LAMBDA_FUNCTION, SERVERLESS_FUNCTION, referenced_id

LAMBDA_URL = "AWS::Lambda::Url"


def sam_routes(path: str, text: str) -> tuple[list[Route], list[Problem]]:
    """The routes of a SAM/CloudFormation template (every function's, whatever its language:
    two functions on one route conflict either way). A template that does not parse has no
    routes; its parse error is the function reader's to report."""
    doc, _ = yn.parse(path, text, "CloudFormation template")
    if doc is None:
        return [], []
    collector = Collector(path, text)
    resources = yn.items(yn.get(doc, "Resources"))
    types = {lid: yn.as_str(yn.get(res, "Type")) for lid, res in resources}
    parameters = yn.get(doc, "Parameters")
    global_api = yn.get_path(doc, "Globals", "Api")
    global_http = yn.get_path(doc, "Globals", "HttpApi")

    def literal(node: yaml.Node | None) -> str | None:
        """A literal string, or the default of the template parameter it `!Ref`s."""
        text = yn.as_str(node) or yn.as_plain_text(node)
        if text is not None:
            return text
        name = referenced_id(node)
        return yn.as_plain_text(yn.get(yn.get(parameters, name), "Default")) if name else None

    def api_props(api: str) -> yaml.Node | None:
        return next((yn.get(res, "Properties") for lid, res in resources if lid == api), None)

    def rest_api(
        ref: yaml.Node | None,
    ) -> tuple[str, str | None, tuple[str, ...], tuple[tuple[str, str], ...]]:
        if ref is None:
            binary = binary_types(yn.get(global_api, "BinaryMediaTypes"))
            return IMPLICIT_REST_API, "Prod", binary, rv.variables(yn.get(global_api, "Variables"))
        api = referenced_id(ref) or yn.as_str(ref) or "?"
        props = api_props(api)
        stage = literal(yn.first(yn.get(props, "StageName"), yn.get(global_api, "StageName")))
        # SAM's Globals add to a resource's lists rather than being replaced by them.
        binary = binary_types(yn.get(global_api, "BinaryMediaTypes"))
        binary += binary_types(yn.get(props, "BinaryMediaTypes"))
        variables = dict(rv.variables(yn.get(global_api, "Variables")))
        variables.update(rv.variables(yn.get(props, "Variables")))
        return api, stage, tuple(dict.fromkeys(binary)), tuple(variables.items())

    def api_cors(
        ref: yaml.Node | None, key: str, globals_node: yaml.Node | None
    ) -> yaml.Node | None:
        props = api_props(referenced_id(ref) or yn.as_str(ref) or "?") if ref is not None else None
        return yn.first(yn.get(props, key), yn.get(globals_node, key))

    def http_api(ref: yaml.Node | None) -> tuple[str, str | None]:
        if ref is None:
            return IMPLICIT_HTTP_API, DEFAULT
        api = referenced_id(ref) or yn.as_str(ref) or "?"
        stage = yn.first(yn.get(api_props(api), "StageName"), yn.get(global_http, "StageName"))
        return api, literal(stage) if stage is not None else DEFAULT

    for function, resource in resources:
        if types.get(function) != SERVERLESS_FUNCTION:
            continue
        props = yn.get(resource, "Properties")
        for event_name, event in yn.items(yn.get(props, "Events")):
            kind = yn.as_str(yn.get(event, "Type"))
            properties = yn.get(event, "Properties")
            what = f"Event {event_name} of {function}"
            path_node = yn.get(properties, "Path")
            method_node = yn.get(properties, "Method")
            at = path_node or event
            if kind == "Api":
                rest_ref = yn.get(properties, "RestApiId")
                api, stage, binary, variables = rest_api(rest_ref)
                target = target_route(path, "rest", api, function, stage, "1.0", binary)
                collector.aws_route(
                    method_text=declared_text(method_node),
                    path_text=declared_text(path_node),
                    at=at,
                    what=what,
                    target=replace(
                        target,
                        stage_variables=variables,
                        timeout_ms=rv.millis(yn.get(properties, "TimeoutInMillis")),
                        cors=routes_cors.sam_rest(api_cors(rest_ref, "Cors", global_api)),
                    ),
                )
            elif kind == "HttpApi":
                api, stage = http_api(yn.get(properties, "ApiId"))
                version = yn.as_plain_text(yn.get(properties, "PayloadFormatVersion"))
                payload = "1.0" if version == "1.0" else "2.0"
                target = target_route(path, "http", api, function, stage, payload)
                cors = api_cors(yn.get(properties, "ApiId"), "CorsConfiguration", global_http)
                target = replace(
                    target,
                    timeout_ms=rv.millis(yn.get(properties, "TimeoutInMillis")),
                    cors=routes_cors.sam_http(cors),
                )
                if path_node is None and method_node is None:
                    at = yn.get(event, "Type") or event
                    collector.routes.append(replace(target, span=collector.span(at)))
                else:
                    collector.aws_route(
                        # SAM requires both once either is given (InvalidEventException).
                        method_text=declared_text(method_node),
                        path_text=declared_text(path_node),
                        at=at,
                        what=what,
                        target=target,
                    )
        url_config = yn.get(props, "FunctionUrlConfig")
        if url_config is not None:
            at_key = yn.key_span(props, "FunctionUrlConfig", collector.lines)
            assert at_key is not None
            auth = yn.as_plain_text(yn.get(url_config, "AuthType"))
            collector.routes.append(function_url(function, path, at_key, auth))
    for logical_id, resource in resources:
        if types.get(logical_id) == LAMBDA_URL:
            props = yn.get(resource, "Properties")
            owner = referenced_id(yn.get(props, "TargetFunctionArn"))
            if owner is not None and types.get(owner) in (SERVERLESS_FUNCTION, LAMBDA_FUNCTION):
                at_key = yn.key_span(yn.get(doc, "Resources"), logical_id, collector.lines)
                assert at_key is not None
                auth = yn.as_plain_text(yn.get(props, "AuthType"))
                collector.routes.append(function_url(owner, path, at_key, auth))
    return collector.routes, collector.problems


def binary_types(node: yaml.Node | None) -> tuple[str, ...]:
    """SAM's `BinaryMediaTypes`, with its `~1` escape for `/` read back (`image~1png`)."""
    found = []
    for item in yn.sequence(node):
        text = yn.as_str(item)
        if text:
            found.append(text.replace("~1", "/"))
    return tuple(found)
