"""Routes of a Yandex API Gateway OpenAPI 3 spec: operations with `x-yc-apigateway-integration`
of type `cloud_functions`, `x-yc-apigateway-any-method`, greedy parameters, each
`function_id` resolved to a declared function.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import yaml

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.project import routes_cors
from handlerlens.project import routes_values as rv
from handlerlens.project import yaml_nodes as yn
from handlerlens.project.routes import ANY, METHODS, ROUTE_FUNCTION_UNKNOWN, ROUTE_INVALID, Route
from handlerlens.project.routes_collect import Collector, plain_text, template_path

_OPENAPI_METHODS = {m.lower(): m for m in METHODS}
_ANY_METHOD_KEY = "x-yc-apigateway-any-method"
_INTEGRATION_KEY = "x-yc-apigateway-integration"
# `${yandex_function.name.id}` in a spec Terraform renders (heredoc or templatefile()).
_TERRAFORM_FUNCTION_REF = re.compile(r"^\$\{\s*yandex_function\.([A-Za-z0-9_-]+)\.id\s*\}$")
_TEMPLATE_VARIABLE = re.compile(r"^\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")


def is_yandex_spec(text: str) -> bool:
    """Whether a YAML/JSON text looks like a Yandex API Gateway spec (cheap, before parsing)."""
    return "openapi" in text and "x-yc-apigateway" in text


def yandex_spec_routes(
    path: str,
    text: str,
    functions: Sequence[FunctionSpec] = (),
    aliases: Mapping[str, str] | None = None,
) -> tuple[list[Route], list[Problem]]:
    """The `cloud_functions` routes of an API Gateway OpenAPI 3 spec, each `function_id`
    resolved to a function of `functions` (the workspace's declared ones):
    - through `aliases` first (a literal id, `yandex_function.<label>`, or a template
      variable such as `AUTH_FUNCTION_ID`, mapped to a declared function's name);
    - a literal id that is a declared Yandex function's name (the yc CLI's `--function-id`);
    - `${yandex_function.<label>.id}` when a Terraform function of that name is declared.
    One unresolved `function_id` is a warning at it (`route-function-unknown`); its route is
    kept with `function` None. Integrations of other types (containers, storage, HTTP) are
    not functions of this workspace and are left out."""
    doc, problems = yn.parse(path, text, "API Gateway spec")
    if doc is None:
        return [], problems
    collector = Collector(path, text)
    if yn.get(doc, "openapi") is None or not isinstance(yn.get(doc, "paths"), yaml.MappingNode):
        return [], [
            Problem(
                path,
                Span.of(0, 0),
                Severity.ERROR,
                ROUTE_INVALID,
                "This API Gateway spec is not an OpenAPI 3 document (it needs `openapi:` and "
                "a `paths:` map), so no route is read from it.",
            )
        ]
    by_name = {f.name: f for f in functions if f.platform == "yandex"}
    spec_cors = yn.get_path(doc, "x-yc-apigateway", "cors")
    for template, item in yn.items(yn.get(doc, "paths")):
        route_path = template_path(template)
        path_cors = rv.resolve_ref(doc, yn.get(item, "x-yc-apigateway-cors"))
        cors = routes_cors.yandex(path_cors if path_cors is not None else spec_cors)
        for key, operation in yn.items(item):
            method = ANY if key == _ANY_METHOD_KEY else _OPENAPI_METHODS.get(key.lower())
            if method is None:
                continue  # `parameters`, `summary`, `x-yc-apigateway-cors`, …
            declared = yn.get(operation, _INTEGRATION_KEY)
            integration = rv.resolve_ref(doc, declared)
            ref_node = yn.get(declared, "$ref")
            if ref_node is not None and integration is None:
                ref = yn.as_plain_text(ref_node) or ""
                reason = (
                    "points at nothing in this spec"
                    if ref.startswith("#/")
                    else "is outside this spec, and HandlerLens follows only references inside it"
                )
                collector.invalid(
                    ref_node,
                    f"{method} {template}: the integration $ref '{ref}' {reason}, so this "
                    "route is not served.",
                )
                continue
            if yn.as_str(yn.get(integration, "type")) != "cloud_functions":
                continue
            if route_path is None:
                collector.invalid(item, f"'{template}' is not a path; the route is not served.")
                continue
            assert integration is not None
            id_node = yn.get(integration, "function_id")
            function = resolve_function(yn.as_plain_text(id_node), by_name, aliases or {})
            at = id_node if id_node is not None else integration
            if function is None and not any(
                p.span == collector.span(at) for p in collector.problems
            ):
                shown = yn.as_plain_text(id_node) or "(none)"
                collector.problems.append(
                    Problem(
                        path,
                        collector.span(at),
                        Severity.WARNING,
                        ROUTE_FUNCTION_UNKNOWN,
                        f"{method} {template}: function_id {shown} names no function declared "
                        "in this workspace, so HandlerLens cannot serve this route; declare the "
                        "function here (a Terraform yandex_function, a yc CLI script) and "
                        "reference it as ${yandex_function.<name>.id}.",
                    )
                )
            version = plain_text(yn.get(integration, "payload_format_version")) or "0.1"
            mapping, wrong = rv.status_mapping(doc, operation)
            for node, why in wrong:
                # A warning: Yandex documents no check of the value at deploy time.
                collector.problems.append(
                    Problem(
                        path,
                        collector.span(node),
                        Severity.WARNING,
                        ROUTE_INVALID,
                        f"{method} {template}: HandlerLens ignores this {rv.STATUS_MAPPING}: "
                        f"{why} (extensions/status-mapping.md: on the response object of one "
                        "status, the status that replaces it).",
                    )
                )
            collector.routes.append(
                Route(
                    method=method,
                    path=route_path,
                    kind="yandex",
                    api=path,
                    function=function,
                    stage=None,
                    payload=version,
                    declared_in=path,
                    # A shared integration (`$ref`) is placed at the reference in the operation.
                    span=collector.span(yn.get(declared, "$ref") or at),
                    operation_id=yn.as_plain_text(yn.get(operation, "operationId")),
                    parameters=rv.parameters(doc, item, operation),
                    cors=cors,
                    operation_context=rv.json_text(yn.get(integration, "context")),
                    status_mapping=mapping,
                )
            )
    return collector.routes, problems + collector.problems


def resolve_function(
    function_id: str | None, by_name: Mapping[str, FunctionSpec], aliases: Mapping[str, str]
) -> str | None:
    if not function_id:
        return None
    function_id = function_id.strip()
    if function_id in aliases:
        return aliases[function_id]
    terraform = _TERRAFORM_FUNCTION_REF.match(function_id)
    if terraform is not None:
        label = terraform.group(1)
        reference = f"yandex_function.{label}"
        if reference in aliases:
            return aliases[reference]
        spec = by_name.get(label)
        return spec.name if spec is not None and spec.declared_by == "terraform" else None
    variable = _TEMPLATE_VARIABLE.match(function_id)
    if variable is not None:
        return aliases.get(variable.group(1))
    return function_id if function_id in by_name else None
