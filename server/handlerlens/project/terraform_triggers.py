"""Terraform triggers: the resources that invoke a function (a Yandex trigger, an event source
mapping, a function URL, API Gateway, S3, SNS, EventBridge), and those a called module declares
for a function its caller passes in.
"""

from __future__ import annotations

import re
from dataclasses import replace

from handlerlens.core.model import FunctionSpec
from handlerlens.project import hcl_tree as hcl
from handlerlens.project.terraform_files import (
    NAME,
    TerraformFile,
    attr_in,
    literal,
)

# `yandex_function_trigger` blocks → trigger id (platforms/triggers.py).
_YANDEX_TRIGGER_BLOCKS = {
    "timer": "timer",
    "message_queue": "message-queue",
    "object_storage": "object-storage",
    "container_registry": "container-registry",
    "iot": "iot",
    "logging": "logging",
    "mail": "mail",
    "data_streams": "data-streams",
    "billing_budget": "budget",
}
_AWS_SOURCES = {
    "aws_sqs_queue": "sqs",
    "aws_kinesis_stream": "kinesis",
    "aws_dynamodb_table": "dynamodb",
}
_ARN_SERVICES = {"sqs": "sqs", "kinesis": "kinesis", "dynamodb": "dynamodb"}

_RULE_REF = re.compile(r"\baws_cloudwatch_event_rule\." + NAME)


class TriggerLinks:
    """One module's trigger resources read into the functions they name (`trigger`), with what
    crosses a module call: the triggers that name a function its caller passes in, kept for the
    caller (`external`), and those the modules it calls declare for its own functions."""

    def __init__(self) -> None:
        # Triggers this module declares for functions its caller passes in (`uri = var.arn`,
        # `each.value.invoke_arn` over `for_each = var.methods`): (trigger or None for an
        # integration that names no known shape, variable, key of each item or None, from a
        # permission only).
        self.external: list[tuple[str | None, str, str | None, bool]] = []
        # What the modules this one calls declare for its functions: by function, and by the
        # label of a local module call (the functions that call declares).
        self.passed_triggers: dict[tuple[str, str], list[str]] = {}
        self.module_triggers: dict[str, list[str]] = {}

    def trigger(
        self,
        f: TerraformFile,
        kind: str,
        label: str,
        block: hcl.HclBlock,
        triggers: dict[tuple[str, str], list[str]],
        scheduled: set[str],
        rule_targets: list[tuple[str, tuple[str, str]]],
    ) -> None:
        attrs = block.attributes

        def link(attr: hcl.HclAttribute | None, trigger: str | None) -> None:
            target = lambda_target(f.source(attr))
            if target is not None and trigger:
                triggers.setdefault(target, []).append(trigger)
            elif target is None and kind.endswith("_integration"):
                self.keep_external(f, block, attr, trigger, from_permission=False)

        if kind == "yandex_function_trigger":
            target = referenced(f.source(attr_in(block.block("function"), "id")), "yandex_function")
            found = next((b.type for b in block.blocks if b.type in _YANDEX_TRIGGER_BLOCKS), None)
            if target and found:
                iot = block.block("iot")
                trigger = _YANDEX_TRIGGER_BLOCKS[found]
                if found == "iot" and iot is not None and "broker_id" in iot.attributes:
                    trigger = "iot-broker"
                triggers.setdefault(("yandex_function", target), []).append(trigger)
        elif kind == "aws_lambda_event_source_mapping":
            link(attrs.get("function_name"), self._source_trigger(f, attrs))
        elif kind == "aws_lambda_function_url":
            link(attrs.get("function_name"), "function-url")
        elif kind in ("aws_api_gateway_integration", "aws_apigatewayv2_integration"):
            link(attrs.get("uri") or attrs.get("integration_uri"), _proxy(attrs))
        elif kind == "aws_s3_bucket_notification":
            for nested in block.blocks:
                if nested.type == "lambda_function":
                    link(nested.attributes.get("lambda_function_arn"), "s3")
        elif kind == "aws_sns_topic_subscription":
            protocol = literal(attrs.get("protocol"))
            if protocol == "lambda":
                link(attrs.get("endpoint"), "sns")
        elif kind == "aws_cloudwatch_event_rule":
            if "schedule_expression" in attrs:
                scheduled.add(label)
        elif kind == "aws_cloudwatch_event_target":
            rule = _RULE_REF.search(f.source(attrs.get("rule")))
            aimed = lambda_target(f.source(attrs.get("arn")))
            if rule and aimed:
                rule_targets.append((rule.group(1), aimed))

    def keep_external(
        self,
        f: TerraformFile,
        block: hcl.HclBlock,
        attr: hcl.HclAttribute | None,
        trigger: str | None,
        *,
        from_permission: bool,
    ) -> None:
        """A trigger whose function comes from the caller: `var.x`, or `each.value.k` of a
        `for_each = var.m`; kept for the calling module to resolve (`resolve_external`)."""
        text = f.source(attr).strip()
        direct = re.fullmatch(r"var\." + NAME + r"(?:\.[\w.]+)?", text)
        if direct is not None:
            self.external.append((trigger, direct.group(1), None, from_permission))
            return
        each = re.fullmatch(r"each\.value\.(\w+)", text)
        over = re.fullmatch(r"var\." + NAME, f.source(block.attributes.get("for_each")).strip())
        if each is not None and over is not None:
            self.external.append((trigger, over.group(1), each.group(1), from_permission))

    def resolve_external(self, f: TerraformFile, call: hcl.HclBlock, child: TriggerLinks) -> None:
        """What a called module's triggers name through this call's arguments: a function of
        this module, or the functions another local module call declares (`module.x.…`)."""
        by_target: dict[tuple[str, str | None], list[tuple[str | None, bool]]] = {}
        for trigger, variable, key, from_permission in child.external:
            by_target.setdefault((variable, key), []).append((trigger, from_permission))
        for (variable, key), found in by_target.items():
            # An integration in the called module decides; a permission only without one.
            integrations = [t for t, permission in found if not permission]
            chosen = integrations if integrations else [t for t, _ in found]
            attr = call.attributes.get(variable)
            if attr is None:
                continue
            nodes = [attr.expr]
            if key is not None:
                items = [
                    dict(hcl.object_items(item)).get(key) for _, item in hcl.object_items(attr.expr)
                ]
                nodes = [n for n in items if n is not None]
            for node in nodes:
                start, end = hcl.span_of(node)
                expression = f.text[start:end]
                called = re.search(r"\bmodule\." + NAME + r"\.", expression)
                target = lambda_target(expression)
                for trigger in chosen:
                    if trigger is None:
                        continue
                    if target is not None:
                        self.passed_triggers.setdefault(target, []).append(trigger)
                    elif called is not None:
                        self.module_triggers.setdefault(called.group(1), []).append(trigger)

    def _source_trigger(self, f: TerraformFile, attrs: dict[str, hcl.HclAttribute]) -> str | None:
        arn = attrs.get("event_source_arn")
        return arn_trigger(f, arn.expr) if arn is not None else None


def arn_trigger(f: TerraformFile, arn: hcl.Node) -> str | None:
    """The trigger an event source's ARN means: a literal ARN's service, or the type of
    the resource it references."""
    string = hcl.string(arn)
    if string is not None and string.literal:
        parts = string.value.split(":")
        return _ARN_SERVICES.get(parts[2]) if len(parts) > 2 else None
    start, end = hcl.span_of(arn)
    text = f.text[start:end]
    return next((t for r, t in _AWS_SOURCES.items() if referenced(text, r)), None)


def _proxy(attrs: dict[str, hcl.HclAttribute]) -> str | None:
    """The trigger of an API Gateway Lambda proxy integration (`AWS_PROXY`): a REST API's
    (`aws_api_gateway_integration`), or an HTTP API's with payload 2.0. A v2 integration
    on payload 1.0 may be a WebSocket API's, whose event is neither: no trigger."""
    kind = literal(attrs.get("type") or attrs.get("integration_type"))
    if kind is None or kind.upper() != "AWS_PROXY":
        return None
    if "integration_type" not in attrs:
        return "api-gateway-rest"
    return "http-api" if literal(attrs.get("payload_format_version")) == "2.0" else None


def api_permission(
    f: TerraformFile,
    kind: str,
    attrs: dict[str, hcl.HclAttribute],
    permitted: dict[tuple[str, str], str],
    integrated: set[tuple[str, str]],
) -> None:
    """`aws_lambda_permission` for `apigateway.amazonaws.com`: API Gateway invokes the function
    it names, through an integration that may be declared elsewhere (another stack, the
    console, an OpenAPI body). A REST API's unless its `source_arn` names an HTTP or WebSocket
    API (`aws_apigatewayv2_api`), whose payload only the integration tells; an integration in
    this module that names the function decides instead (`integrated`)."""
    if kind in ("aws_api_gateway_integration", "aws_apigatewayv2_integration"):
        target = lambda_target(f.source(attrs.get("uri") or attrs.get("integration_uri")))
        if target is not None:
            integrated.add(target)
        return
    if kind != "aws_lambda_permission":
        return
    if (literal(attrs.get("principal")) or "").strip().lower() != "apigateway.amazonaws.com":
        return
    target = lambda_target(f.source(attrs.get("function_name")))
    if target is None or "aws_apigatewayv2_api" in f.source(attrs.get("source_arn")):
        return
    permitted[target] = "api-gateway-rest"


def to_api_gateway(f: TerraformFile, block: hcl.HclBlock) -> bool:
    """An `aws_lambda_permission` for API Gateway, not naming an HTTP/WebSocket API."""
    attrs = block.attributes
    principal = (literal(attrs.get("principal")) or "").strip().lower()
    return principal == "apigateway.amazonaws.com" and "aws_apigatewayv2_api" not in f.source(
        attrs.get("source_arn")
    )


def with_triggers(spec: FunctionSpec, passed: list[str]) -> FunctionSpec:
    linked = tuple(dict.fromkeys(spec.triggers + tuple(passed)))
    return replace(spec, trigger=linked[0] if linked else None, triggers=linked)


def referenced(expression: str, resource: str) -> str | None:
    """The label in a reference such as `yandex_function.hello.id`."""
    found = re.search(r"\b" + re.escape(resource) + r"\." + NAME, expression)
    return found.group(1) if found else None


def lambda_target(expression: str) -> tuple[str, str] | None:
    """The function a trigger names: `aws_lambda_function.x…` or `module.x.lambda_function_…`."""
    label = referenced(expression, "aws_lambda_function")
    if label is not None:
        return ("aws_lambda_function", label)
    found = re.search(r"\bmodule\." + NAME + r"\.lambda_function_", expression)
    return ("module", found.group(1)) if found else None
