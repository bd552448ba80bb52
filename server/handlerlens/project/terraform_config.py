"""Terraform: `yandex_function` and `aws_lambda_function` resources and their triggers.

A Terraform module is every `.tf` file of one directory, so a file is first read on its own
(`read_terraform`) and the files of a directory are then linked (`link_module`): a function's
code root may come from a `data "archive_file"` and its trigger from a resource in another file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

from handlerlens.analysis.problems import Problem, Span
from handlerlens.project import hcl_tree as hcl
from handlerlens.project.code_roots import resolve
from handlerlens.project.config_problems import parse_error, unresolved
from handlerlens.project.model import FunctionSpec, PlatformName
from handlerlens.project.positions import LineIndex
from handlerlens.project.values import is_python_runtime, to_megabytes, to_seconds

FILE_TYPE = "Terraform file"

# Resource type → (platform, handler attribute, name attribute, timeout, memory).
_FUNCTION_RESOURCES: dict[str, tuple[PlatformName, str, str, str, str]] = {
    "yandex_function": ("yandex", "entrypoint", "name", "execution_timeout", "memory"),
    "aws_lambda_function": ("aws", "handler", "function_name", "timeout", "memory_size"),
}

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

_NAME = r"([A-Za-z_][A-Za-z0-9_-]*)"
_ARCHIVE_REF = re.compile(r"\bdata\.archive_file\." + _NAME)
_RULE_REF = re.compile(r"\baws_cloudwatch_event_rule\." + _NAME)
_PATH_VARS = re.compile(r"\$\{\s*path\.(module|root|cwd)\s*\}")


@dataclass
class _Archive:
    root: str | None
    path: str
    span: Span | None


@dataclass
class TerraformFile:
    """What one .tf file contributes to its module, before linking."""

    path: str
    functions: list[tuple[str, str, str | None, FunctionSpec]] = field(default_factory=list)
    archives: dict[str, _Archive] = field(default_factory=dict)
    triggers: list[tuple[str, str, str]] = field(default_factory=list)
    rule_targets: list[tuple[str, str]] = field(default_factory=list)
    scheduled_rules: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


def parse_terraform(path: str, text: str) -> tuple[list[FunctionSpec], list[Problem]]:
    """The functions one .tf file declares, linked within that file only."""
    return link_module([read_terraform(path, text)])


def read_terraform(path: str, text: str) -> TerraformFile:
    """Read one .tf file; a syntax error becomes its single problem."""
    result = TerraformFile(path)
    lines = LineIndex(text)
    try:
        blocks = hcl.parse_hcl(text)
    except hcl.HclError as exc:
        span = lines.span(exc.offset, exc.offset)
        result.problems.append(parse_error(path, span, FILE_TYPE, exc.message))
        return result
    reader = _Reader(result, text, lines)
    for block in blocks:
        if len(block.labels) == 2 and block.type in ("resource", "data"):
            reader.read(block.type, block.labels[0], block.labels[1], block)
    return result


def link_module(files: list[TerraformFile]) -> tuple[list[FunctionSpec], list[Problem]]:
    """Resolve archives and triggers across the .tf files of one directory."""
    archives = {k: v for f in files for k, v in f.archives.items()}
    scheduled = {rule for f in files for rule in f.scheduled_rules}
    triggers: dict[tuple[str, str], list[str]] = {}
    for f in files:
        for kind, label, trigger in f.triggers:
            triggers.setdefault((kind, label), []).append(trigger)
        for rule, label in f.rule_targets:
            if rule in scheduled:
                triggers.setdefault(("aws_lambda_function", label), []).append("schedule")
    specs = []
    for f in files:
        for kind, label, archive_ref, spec in f.functions:
            archive = archives.get(archive_ref or "")
            if archive is not None and archive.root is not None:
                spec = replace(
                    spec, root=archive.root, root_declared_in=archive.path, root_span=archive.span
                )
            found = tuple(dict.fromkeys(triggers.get((kind, label), [])))
            specs.append(replace(spec, trigger=found[0] if found else None, triggers=found))
    return specs, [p for f in files for p in f.problems]


class _Reader:
    def __init__(self, result: TerraformFile, text: str, lines: LineIndex) -> None:
        self.result = result
        self.text = text
        self.lines = lines
        self.base = os.path.dirname(result.path)

    def source(self, attr: hcl.HclAttribute | None) -> str:
        return self.text[attr.start : attr.end] if attr is not None else ""

    def literal(self, attr: hcl.HclAttribute | None) -> hcl.HclString | None:
        string = hcl.string(attr.expr) if attr is not None else None
        return string if string is not None and string.literal else None

    def read(self, kind: str, resource: str, label: str, block: hcl.HclBlock) -> None:
        attrs = block.attributes
        if kind == "data":
            if resource == "archive_file":
                self.result.archives[label] = self._archive(block)
        elif resource in _FUNCTION_RESOURCES:
            self._function(resource, label, block)
        elif resource == "yandex_function_trigger":
            target = _referenced(
                self.source(_attr(block.block("function"), "id")), "yandex_function"
            )
            found = next((b.type for b in block.blocks if b.type in _YANDEX_TRIGGER_BLOCKS), None)
            if target and found:
                iot = block.block("iot")
                trigger = _YANDEX_TRIGGER_BLOCKS[found]
                if found == "iot" and iot is not None and "broker_id" in iot.attributes:
                    trigger = "iot-broker"
                self.result.triggers.append(("yandex_function", target, trigger))
        elif resource == "aws_lambda_event_source_mapping":
            self._aws_link(attrs.get("function_name"), self._source_trigger(attrs))
        elif resource == "aws_lambda_function_url":
            self._aws_link(attrs.get("function_name"), "function-url")
        elif resource in ("aws_api_gateway_integration", "aws_apigatewayv2_integration"):
            self._aws_link(attrs.get("uri") or attrs.get("integration_uri"), self._proxy(attrs))
        elif resource == "aws_s3_bucket_notification":
            for nested in block.blocks:
                if nested.type == "lambda_function":
                    self._aws_link(nested.attributes.get("lambda_function_arn"), "s3")
        elif resource == "aws_sns_topic_subscription":
            protocol = self.literal(attrs.get("protocol"))
            if protocol is not None and protocol.value == "lambda":
                self._aws_link(attrs.get("endpoint"), "sns")
        elif resource == "aws_cloudwatch_event_rule":
            if "schedule_expression" in attrs:
                self.result.scheduled_rules.add(label)
        elif resource == "aws_cloudwatch_event_target":
            rule = _RULE_REF.search(self.source(attrs.get("rule")))
            target = _referenced(self.source(attrs.get("arn")), "aws_lambda_function")
            if rule and target:
                self.result.rule_targets.append((rule.group(1), target))

    def _aws_link(self, attr: hcl.HclAttribute | None, trigger: str | None) -> None:
        target = _referenced(self.source(attr), "aws_lambda_function")
        if target and trigger:
            self.result.triggers.append(("aws_lambda_function", target, trigger))

    def _proxy(self, attrs: dict[str, hcl.HclAttribute]) -> str | None:
        """The trigger of an API Gateway Lambda proxy integration (`AWS_PROXY`): a REST API's
        (`aws_api_gateway_integration`), or an HTTP API's with payload 2.0. A v2 integration
        on payload 1.0 may be a WebSocket API's, whose event is neither: no trigger."""
        kind = self.literal(attrs.get("type") or attrs.get("integration_type"))
        if kind is None or kind.value.upper() != "AWS_PROXY":
            return None
        if "integration_type" not in attrs:
            return "api-gateway-rest"
        payload = self.literal(attrs.get("payload_format_version"))
        return "http-api" if payload is not None and payload.value == "2.0" else None

    def _source_trigger(self, attrs: dict[str, hcl.HclAttribute]) -> str | None:
        arn = attrs.get("event_source_arn")
        literal = self.literal(arn)
        if literal is not None:
            parts = literal.value.split(":")
            return _ARN_SERVICES.get(parts[2]) if len(parts) > 2 else None
        text = self.source(arn)
        return next((t for r, t in _AWS_SOURCES.items() if _referenced(text, r)), None)

    def _archive(self, block: hcl.HclBlock) -> _Archive:
        for key, is_file in (("source_dir", False), ("source_file", True)):
            attr = block.attributes.get(key)
            string = hcl.string(attr.expr) if attr is not None else None
            if string is None:
                continue
            # `path.root`/`path.cwd` are the root module's directory when Terraform runs
            # there, which is the common case HandlerLens assumes.
            inner = self.text[string.inner_start : string.inner_end]
            raw = _PATH_VARS.sub(lambda _: self.base, inner)
            if "${" in raw or "%{" in raw:
                break
            root = resolve(self.base, (os.path.dirname(raw) or ".") if is_file else raw)
            span = self.lines.span(string.inner_start, string.inner_end)
            return _Archive(root, self.result.path, span)
        return _Archive(None, self.result.path, None)

    def _function(self, kind: str, label: str, block: hcl.HclBlock) -> None:
        platform, handler_key, name_key, timeout_key, memory_key = _FUNCTION_RESOURCES[kind]
        attrs = block.attributes
        if "image_uri" in attrs or block.block("image") is not None:
            return
        handler_attr = attrs.get(handler_key)
        if handler_attr is None:
            return
        entry = self.literal(handler_attr)
        if entry is None:
            self.result.problems.append(
                unresolved(
                    self.result.path,
                    self.lines.span(handler_attr.start, handler_attr.end),
                    f"The {handler_key} of {kind}.{label} is computed by Terraform, so "
                    f"HandlerLens cannot check or run it; write it as a literal string.",
                )
            )
            return
        runtime = self.literal(attrs.get("runtime"))
        if runtime is not None and not is_python_runtime(runtime.value):
            return
        bucket = (
            _attr(block.block("package"), "bucket_name")
            if platform == "yandex"
            else attrs.get("s3_bucket")
        )
        if bucket is not None:
            self.result.problems.append(
                unresolved(
                    self.result.path,
                    self.lines.span(bucket.start, bucket.end),
                    f"The code of {kind}.{label} is deployed from a bucket, not from this "
                    "workspace, so HandlerLens cannot check or run it; deploy it from a local "
                    "archive_file to have it checked.",
                )
            )
            return
        name = self.literal(attrs.get(name_key))
        timeout = attrs.get(timeout_key)
        memory = attrs.get(memory_key)
        env_attr = attrs.get("environment") if platform == "yandex" else None
        if platform == "aws":
            env_attr = _attr(block.block("environment"), "variables")
        env = {}
        for key, value in hcl.object_items(env_attr.expr) if env_attr else []:
            text = hcl.scalar_text(value, self.text)
            if text is not None:
                env[key] = text
        spec = FunctionSpec(
            name=name.value if name is not None and name.value else label,
            platform=platform,
            entry=entry.value,
            root=self.base,
            declared_by="terraform",
            declared_in=self.result.path,
            entry_span=self.lines.span(entry.inner_start, entry.inner_end),
            runtime=runtime.value if runtime is not None else None,
            runtime_span=(
                self.lines.span(runtime.inner_start, runtime.inner_end) if runtime else None
            ),
            timeout=to_seconds(self._number(timeout)),
            memory=to_megabytes(self._number(memory)),
            env=env,
        )
        self.result.functions.append((kind, label, self._archive_ref(block), spec))

    def _number(self, attr: hcl.HclAttribute | None) -> float | str | None:
        if attr is None:
            return None
        string = self.literal(attr)
        return string.value if string is not None else hcl.number(attr.expr)

    def _archive_ref(self, block: hcl.HclBlock) -> str | None:
        candidates = [
            _attr(block.block("content"), "zip_filename"),
            block.attributes.get("filename"),
            block.attributes.get("source_code_hash"),
            block.attributes.get("user_hash"),
        ]
        for attr in candidates:
            found = _ARCHIVE_REF.search(self.source(attr))
            if found:
                return found.group(1)
        return None


def _attr(block: hcl.HclBlock | None, name: str) -> hcl.HclAttribute | None:
    return block.attributes.get(name) if block is not None else None


def _referenced(expression: str, resource: str) -> str | None:
    """The label in a reference such as `yandex_function.hello.id`."""
    found = re.search(r"\b" + re.escape(resource) + r"\." + _NAME, expression)
    return found.group(1) if found else None
