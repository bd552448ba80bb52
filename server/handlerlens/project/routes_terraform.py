"""Routes of Terraform's `yandex_api_gateway`: its `spec` as an inline heredoc, `file()` or
`templatefile()` of a spec file, read by the OpenAPI reader (routes_openapi.py); and each
`aws_lambda_function_url` of a declared `aws_lambda_function`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Position, Problem, Severity, Span
from handlerlens.core.text import LineIndex
from handlerlens.project import probes
from handlerlens.project.routes import ROUTE_INVALID, Route
from handlerlens.project.routes_openapi import resolve_function, yandex_spec_routes

if TYPE_CHECKING:
    from handlerlens.project.hcl_tree import Node as HclNode


# Each function resource, and the attribute that holds its declared name.
_NAME_ATTRIBUTES = {"yandex_function": "name", "aws_lambda_function": "function_name"}
# The functions a Function URL names (terraform_url_routes); only read where there is one.
AWS_FUNCTIONS = ("aws_lambda_function",)


def terraform_function_labels(
    text: str, kinds: tuple[str, ...] = ("yandex_function",)
) -> dict[str, str]:
    """`yandex_function.<label>` (and with `kinds` also `aws_lambda_function.<label>`) → the
    function's declared name (its literal `name` / `function_name`, else the label, as the
    Terraform reader names it) for each function of a Terraform file; {} for a file that
    does not parse."""
    if not any(kind in text for kind in kinds):
        return {}
    from handlerlens.project import hcl_tree as hcl

    try:
        blocks = hcl.parse_hcl(text, keep=lambda header: any(kind in header for kind in kinds))
    except hcl.HclError:
        return {}
    labels: dict[str, str] = {}
    for block in blocks:
        kind = block.labels[0] if block.labels else ""
        if block.type == "resource" and kind in kinds:
            label = block.labels[-1]
            name = block.attributes.get(_NAME_ATTRIBUTES[kind])
            found = hcl.string(name.expr) if name is not None else None
            labels[f"{kind}.{label}"] = (
                found.value if found is not None and found.literal and found.value else label
            )
    return labels


def terraform_gateway_routes(
    path: str,
    text: str,
    functions: Sequence[FunctionSpec] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[list[Route], list[Problem], list[str]]:
    """The routes of each `yandex_api_gateway` in a Terraform file, and the spec files they
    read: `spec` as an inline heredoc (routes placed in the .tf file), or `file()` /
    `templatefile()` of a spec (routes placed in the spec; `templatefile` variables bound to
    `yandex_function.<label>.id` resolve to that function). A function is known by its label
    when it is declared in this file or in `labels` (the module's other files,
    `terraform_function_labels`), else only when its name is its label. A file that does not
    parse has no routes (the Terraform reader reports it)."""
    if "yandex_api_gateway" not in text:
        return [], [], []
    from handlerlens.project import hcl_tree as hcl

    try:
        blocks = hcl.parse_hcl(text, keep=lambda header: "yandex_api_gateway" in header)
    except hcl.HclError:
        return [], [], []
    aliases = {**(labels or {}), **terraform_function_labels(text)}
    by_name = {f.name: f for f in functions if f.platform == "yandex"}
    lines = LineIndex(text)
    base = os.path.dirname(path)
    routes: list[Route] = []
    problems: list[Problem] = []
    specs: list[str] = []
    for block in blocks:
        if block.type != "resource" or block.labels[:1] != ["yandex_api_gateway"]:
            continue
        spec = block.attributes.get("spec")
        if spec is None:
            continue
        api = f"yandex_api_gateway.{block.labels[-1]}"
        inline = hcl.heredoc(spec.expr)
        if inline is not None:
            found_routes, found_problems = yandex_spec_routes(
                path, inline.value, functions, aliases
            )
            move = _heredoc_mover(text, lines, inline.start, inline.value)
            routes += [replace(r, api=api, span=move(r.span)) for r in found_routes]
            problems += [replace(p, span=move(p.span)) for p in found_problems]
            continue
        call = hcl.function_call(spec.expr)
        if call is None or call[0] not in ("file", "templatefile") or not call[1]:
            continue  # a variable, a data source's `rendered`: not followed here
        spec_path = _module_path(call[1][0], base)
        if spec_path is None:
            continue
        variables = dict(aliases)
        for key, node in hcl.object_items(call[1][1]) if len(call[1]) > 1 else []:
            names = hcl.traversal(node)
            if names is not None and len(names) == 3 and names[0] == "yandex_function":
                reference = "${yandex_function." + names[1] + ".id}"
                resolved = resolve_function(reference, by_name, aliases)
                if resolved is not None:
                    variables[key] = resolved
        spec_text = probes.read_text(spec_path)
        if spec_text is None:
            quoted = hcl.string(call[1][0])
            start, end = (
                (quoted.inner_start, quoted.inner_end)
                if quoted is not None
                else hcl.span_of(call[1][0])
            )
            problems.append(
                Problem(
                    path,
                    lines.span(start, end),
                    Severity.ERROR,
                    ROUTE_INVALID,
                    f"The spec of {api} is read from {spec_path}, which is not there, so its "
                    "routes are not served (terraform apply would fail too).",
                )
            )
            continue
        specs.append(spec_path)
        found_routes, found_problems = yandex_spec_routes(
            spec_path, spec_text, functions, variables
        )
        routes += [replace(r, api=api) for r in found_routes]
        problems += found_problems
    return routes, problems, specs


def _module_path(expr: HclNode, base: str) -> str | None:
    """`"${path.module}/gateway/spec.yaml"` (or a relative literal) as an absolute path."""
    from handlerlens.project import hcl_tree as hcl

    parts = hcl.template_parts(expr)
    if parts is None:
        return None
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        elif hcl.traversal(part) in (["path", "module"], ["path", "root"]):
            text += base
        else:
            return None
    return os.path.normpath(os.path.join(base, text))


def _heredoc_mover(text: str, lines: LineIndex, start: int, value: str) -> Callable[[Span], Span]:
    """Moves a span in a heredoc's text to the .tf file: its lines follow the heredoc's first
    line, its columns move right by the indentation a `<<-` heredoc strips."""
    first_line = lines.position(start).line
    source = text[start:].splitlines()
    indent = 0
    for index, row in enumerate(value.splitlines()):
        if row.strip() and index < len(source):
            indent = len(source[index]) - len(row)
            break

    def move(span: Span) -> Span:
        return Span(
            Position(first_line + span.start.line, span.start.character + indent),
            Position(first_line + span.end.line, span.end.character + indent),
        )

    return move


def terraform_url_routes(
    path: str, text: str, labels: Mapping[str, str] | None = None
) -> list[Route]:
    """A Function URL route for each `aws_lambda_function_url` whose `function_name`
    references an `aws_lambda_function` (`.function_name`, `.arn`, `.id`), with its
    `authorization_type`; the function known by its name in `labels` (the module's, from
    terraform_function_labels) or this file, else by its label."""
    if "aws_lambda_function_url" not in text:
        return []
    from handlerlens.project import hcl_tree as hcl
    from handlerlens.project.routes_collect import function_url

    try:
        blocks = hcl.parse_hcl(text, keep=lambda header: "aws_lambda_function_url" in header)
    except hcl.HclError:
        return []
    names = {**(labels or {}), **terraform_function_labels(text, AWS_FUNCTIONS)}
    lines = LineIndex(text)
    routes: list[Route] = []
    for block in blocks:
        if block.type != "resource" or block.labels[:1] != ["aws_lambda_function_url"]:
            continue
        target = block.attributes.get("function_name")
        found = hcl.traversal(target.expr) if target is not None else None
        if found is None or len(found) < 2 or found[0] != "aws_lambda_function":
            continue
        function = names.get(f"aws_lambda_function.{found[1]}", found[1])
        auth = block.attributes.get("authorization_type")
        literal = hcl.string(auth.expr) if auth is not None else None
        declared = literal.value if literal is not None and literal.literal else None
        at = lines.span(target.start, target.end) if target is not None else Span.of(0, 0)
        routes.append(function_url(function, path, at, declared))
    return routes
