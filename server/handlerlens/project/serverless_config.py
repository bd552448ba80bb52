"""Serverless Framework `serverless.yml`: AWS and the Yandex Cloud plugin."""

from __future__ import annotations

import os

import yaml

from handlerlens.analysis.problems import Problem
from handlerlens.project import yaml_nodes as yn
from handlerlens.project.config_problems import unresolved
from handlerlens.project.model import FunctionSpec, PlatformName
from handlerlens.project.positions import LineIndex
from handlerlens.project.values import is_python_runtime, to_megabytes, to_seconds

FILE_TYPE = "serverless.yml"

_PROVIDERS: dict[str, PlatformName] = {"aws": "aws", "yandex-cloud": "yandex"}

# `events[].<key>` → trigger id (platforms/triggers.py); `stream` and Yandex `http` depend on
# the event's value and are decided where they are read.
_AWS_EVENT_TRIGGERS = {
    "http": "api-gateway-rest",
    "httpApi": "http-api",
    "s3": "s3",
    "sqs": "sqs",
    "sns": "sns",
    "schedule": "schedule",
}
# @yandex-cloud/serverless-plugin event keys (src/extend-config-schema.ts, types/common.ts).
_YANDEX_EVENT_TRIGGERS = {
    "cron": "timer",
    "ymq": "message-queue",
    "s3": "object-storage",
    "cr": "container-registry",
}


def parse_serverless(path: str, text: str) -> tuple[list[FunctionSpec], list[Problem]]:
    """Every Python function a serverless.yml declares for AWS or Yandex Cloud."""
    doc, problems = yn.parse(path, text, FILE_TYPE)
    if doc is None:
        return [], problems
    provider = yn.get(doc, "provider")
    provider_name = yn.as_str(yn.get(provider, "name")) or yn.as_str(provider)
    platform = _PROVIDERS.get(provider_name or "")
    if platform is None:
        return [], problems
    lines = LineIndex(text)
    service_dir = os.path.dirname(path)
    functions = yn.get(doc, "functions")
    # Serverless also accepts a list of single-function maps.
    entries = [pair for part in yn.sequence(functions) for pair in yn.items(part)]
    entries += yn.items(functions)

    specs = []
    for name, function in entries:
        handler_node = yn.get(function, "handler")
        if handler_node is None:
            continue  # container-image functions have no handler
        entry = yn.as_str(handler_node)
        if entry is None or "${" in entry:
            problems.append(
                unresolved(
                    path,
                    yn.node_span(handler_node, lines),
                    f"The handler of function '{name}' is resolved by Serverless at deploy "
                    "time, so HandlerLens cannot check or run it; write it literally "
                    "(`handler.main`).",
                )
            )
            continue
        runtime_node = yn.first(yn.get(function, "runtime"), yn.get(provider, "runtime"))
        runtime = yn.as_str(runtime_node)
        if runtime is not None and "${" in runtime:
            runtime, runtime_node = None, None
        if not is_python_runtime(runtime):
            continue
        timeout = yn.first(yn.get(function, "timeout"), yn.get(provider, "timeout"))
        memory = yn.first(yn.get(function, "memorySize"), yn.get(provider, "memorySize"))
        env = yn.env_map(yn.get(provider, "environment"))
        env.update(yn.env_map(yn.get(function, "environment")))
        triggers = (
            _aws_triggers(function, provider)
            if platform == "aws"
            else _yandex_triggers(function, provider)
        )
        specs.append(
            FunctionSpec(
                name=name,
                platform=platform,
                entry=entry,
                root=service_dir,
                declared_by="serverless",
                declared_in=path,
                entry_span=yn.value_span(handler_node, lines),
                runtime=runtime,
                runtime_span=yn.value_span(runtime_node, lines)
                if runtime_node is not None
                else None,
                timeout=to_seconds(yn.as_number(timeout)),
                memory=to_megabytes(yn.as_number(memory)),
                env=env,
                trigger=triggers[0] if triggers else None,
                triggers=tuple(triggers),
                custom_event=platform == "aws" and _mapping_template(function),
            )
        )
    return specs, problems


def _mapping_template(function: yaml.Node | None) -> bool:
    """Whether an `http` event uses the non-proxy integration (`integration: lambda`, also
    spelt `aws`): API Gateway's mapping template makes the event (`query`, `body`, `path`,
    …) and maps whatever the function returns, so no trigger shape applies either way."""
    for key, value in _event_pairs(function):
        if key == "http":
            integration = (yn.as_str(yn.get(value, "integration")) or "").lower()
            if integration in ("lambda", "aws"):
                return True
    return False


def _event_pairs(function: yaml.Node | None) -> list[tuple[str, yaml.Node]]:
    return [pair for event in yn.sequence(yn.get(function, "events")) for pair in yn.items(event)]


def _aws_triggers(function: yaml.Node | None, provider: yaml.Node | None) -> list[str]:
    found = []
    payload = yn.as_str(yn.get_path(provider, "httpApi", "payload"))
    for key, value in _event_pairs(function):
        trigger = _AWS_EVENT_TRIGGERS.get(key)
        if key == "httpApi" and payload == "1.0":
            trigger = "api-gateway-rest"
        elif key == "stream":
            trigger = _stream_trigger(value)
        elif key == "eventBridge" and yn.get(value, "schedule") is not None:
            trigger = "schedule"
        if trigger is not None:
            found.append(trigger)
    url = yn.get(function, "url")
    if url is not None and yn.as_plain_text(url) != "false":
        found.append("function-url")
    return list(dict.fromkeys(found))


def _stream_trigger(value: yaml.Node) -> str | None:
    kind = yn.as_str(yn.get(value, "type"))
    if kind in ("dynamodb", "kinesis"):
        return kind
    arn = yn.as_str(value) or yn.as_str(yn.get(value, "arn")) or ""
    for service in ("dynamodb", "kinesis"):
        if f":{service}:" in arn:
            return service
    return None


def _yandex_triggers(function: yaml.Node | None, provider: yaml.Node | None) -> list[str]:
    found = []
    default_payload = yn.as_str(yn.get_path(provider, "httpApi", "payload"))
    for key, value in _event_pairs(function):
        if key == "http":
            # The plugin fronts `http` events with an API Gateway whose payload format is
            # `eventFormat`, else `provider.httpApi.payload` (src/entities/function.ts).
            payload = yn.as_str(yn.get(value, "eventFormat")) or default_payload
            found.append("api-gateway-v1" if payload == "1.0" else "api-gateway")
        elif key in _YANDEX_EVENT_TRIGGERS:
            found.append(_YANDEX_EVENT_TRIGGERS[key])
    return list(dict.fromkeys(found))
