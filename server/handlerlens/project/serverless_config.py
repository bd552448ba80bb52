"""Serverless Framework `serverless.yml`: AWS and the Yandex Cloud plugin."""

from __future__ import annotations

import os

import yaml

from handlerlens.core.model import FunctionSpec, PlatformName
from handlerlens.core.problems import Problem, Severity
from handlerlens.core.text import LineIndex
from handlerlens.project import probes
from handlerlens.project import yaml_nodes as yn
from handlerlens.project.adapters import (
    WSGI_HANDLERS,
    generated_handler_reason,
    handler_language,
    python_module_file,
    web_adapter_reason,
)
from handlerlens.project.code_roots import is_archive
from handlerlens.project.config_problems import not_checked, unresolved
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
    specs = []
    for name, function in function_entries(doc):
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
        if runtime_node is None:
            # The Framework's default runtime is Node.js (nodejs12.x in v2/v3, nodejs20.x in
            # v4: AwsProvider.getRuntime), and the Yandex plugin deploys nothing without
            # `provider.runtime`: a service that names no runtime is not Python.
            continue
        runtime = yn.as_str(runtime_node)
        if runtime is not None and "${" in runtime:
            runtime, runtime_node = None, None
        if not is_python_runtime(runtime):
            continue
        env = yn.env_map(yn.get(provider, "environment"))
        env.update(yn.env_map(yn.get(function, "environment")))
        computed = _computed_code_location(function, doc)
        if computed is not None:
            problems.append(
                unresolved(
                    path,
                    yn.node_span(computed, lines),
                    f"The code of function '{name}' is at a location Serverless resolves at "
                    "deploy time (or in S3), so HandlerLens cannot locate, check or run it.",
                )
            )
            continue
        root = _code_root(service_dir, yn.as_str(yn.get(function, "module")), entry)
        archive = _artifact(service_dir, function, doc)
        language = handler_language(root, entry) if archive is None else "python"
        if language == "javascript":
            continue  # a JS/TS handler (behind a computed runtime, or the wrong one)
        skipped = _not_python_handler(name, entry, function, provider, env)
        if skipped is not None:
            problems.append(not_checked(path, yn.node_span(handler_node, lines), skipped))
            problems += _wsgi_app_problems(path, doc, lines, service_dir, entry)
            continue
        timeout = yn.first(yn.get(function, "timeout"), yn.get(provider, "timeout"))
        memory = yn.first(yn.get(function, "memorySize"), yn.get(provider, "memorySize"))
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
                root=os.path.dirname(archive) if archive is not None else root,
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
                archive=archive,
            )
        )
    return specs, problems


def function_entries(doc: yaml.Node | None) -> list[tuple[str, yaml.Node]]:
    """Each `functions:` entry as (its name, its node); Serverless also accepts a list of
    single-function maps."""
    functions = yn.get(doc, "functions")
    entries = [pair for part in yn.sequence(functions) for pair in yn.items(part)]
    return entries + yn.items(functions)


def _mapping_template(function: yaml.Node | None) -> bool:
    """Whether an `http` event uses the non-proxy integration (`integration: lambda`, also
    spelt `aws`): API Gateway's mapping template makes the event (`query`, `body`, `path`,
    …) and maps whatever the function returns, so no trigger shape applies either way."""
    for key, value in event_pairs(function):
        if key == "http":
            integration = (yn.as_str(yn.get(value, "integration")) or "").lower()
            if integration in ("lambda", "aws"):
                return True
    return False


def _computed_code_location(function: yaml.Node | None, doc: yaml.Node) -> yaml.Node | None:
    """The `module:` or `package.artifact` value that holds a variable (`${…}`) or names S3,
    if any: the code is wherever that resolves to, never the service folder instead."""
    for node in (
        yn.get(function, "module"),
        yn.first(
            yn.get_path(function, "package", "artifact"), yn.get_path(doc, "package", "artifact")
        ),
    ):
        text = yn.as_str(node)
        if node is not None and text is not None and ("${" in text or "://" in text):
            return node
    return None


def _code_root(service_dir: str, module: str | None, entry: str) -> str:
    """serverless-python-requirements' `module:` is the function's own folder, packaged as
    the zip's root (its handler is relative to it); without it, the service directory."""
    if not module:
        return service_dir
    root = os.path.normpath(os.path.join(service_dir, module))
    if handler_language(root, entry) is None and handler_language(service_dir, entry):
        return service_dir  # the handler spells the folder out (`module/app.handler`)
    return root


def _artifact(service_dir: str, function: yaml.Node | None, doc: yaml.Node) -> str | None:
    """A prebuilt zip deployed as is (`package.artifact`, the function's or the service's)."""
    node = yn.first(
        yn.get_path(function, "package", "artifact"), yn.get_path(doc, "package", "artifact")
    )
    artifact = yn.as_str(node)
    if artifact is None or "${" in artifact or "://" in artifact or not is_archive(artifact):
        return None
    return os.path.normpath(os.path.join(service_dir, os.path.expanduser(artifact.strip())))


def _not_python_handler(
    name: str,
    entry: str,
    function: yaml.Node | None,
    provider: yaml.Node | None,
    env: dict[str, str],
) -> str | None:
    """Why the handler of function `name` is not its own Python code, or None."""
    layers = [
        str(node.value)
        for node in yn.sequence(yn.first(yn.get(function, "layers"), yn.get(provider, "layers")))
        if isinstance(node, yaml.ScalarNode)
    ]
    reason = generated_handler_reason(entry) or web_adapter_reason(entry, env, layers)
    if reason is None:
        return None
    return (
        f"The handler of function '{name}' ('{entry}') is not checked as Python code in "
        f"this workspace: {reason}."
    )


def _wsgi_app_problems(
    path: str, doc: yaml.Node, lines: LineIndex, service_dir: str, entry: str
) -> list[Problem]:
    """serverless-wsgi's real entry point is `custom.wsgi.app` (`app.app`): its module must
    be in the service, or the generated handler fails to import it on every cold start."""
    if entry.strip() not in WSGI_HANDLERS:
        return []
    app_node = yn.get_path(doc, "custom", "wsgi", "app")
    app = yn.as_str(app_node)
    if app_node is None or app is None or "${" in app or "." not in app:
        return []
    module, _, attribute = app.rpartition(".")
    module_file = python_module_file(service_dir, app)
    if module_file is not None:
        if _binds(module_file, attribute):
            return []
        detail = (
            f"{os.path.basename(module_file)} has no top-level '{attribute}', so the handler "
            "serverless-wsgi generates fails on every call"
        )
    elif handler_language(service_dir, app) is not None:
        return []
    else:
        where = module.replace(".", "/")
        detail = (
            f"there is no {where}.py (nor a package {where}/) in the service directory "
            f"{service_dir}; serverless-wsgi's handler imports it on every cold start and "
            "would fail"
        )
    return [
        Problem(
            path,
            yn.value_span(app_node, lines),
            Severity.ERROR,
            "entry-point-module-missing" if module_file is None else "entry-point-function-missing",
            f"custom.wsgi.app '{app}': {detail}.",
        )
    ]


def _binds(module_file: str, name: str) -> bool:
    """Whether the module at `module_file` binds `name` at top level (or may: a module
    `__getattr__`, a star import, or a file that cannot be read or parsed)."""
    from handlerlens.core.python_module import parse_module

    text = probes.read_text(module_file)
    if text is None:
        return True
    info = parse_module(text)
    if info.syntax_error is not None or info.has_module_getattr or info.star_imports:
        return True
    return name in info.bindings


def event_pairs(function: yaml.Node | None) -> list[tuple[str, yaml.Node]]:
    """Each `events:` entry of a function as (its key, its value): `("http", …)`."""
    return [pair for event in yn.sequence(yn.get(function, "events")) for pair in yn.items(event)]


def _aws_triggers(function: yaml.Node | None, provider: yaml.Node | None) -> list[str]:
    found = []
    payload = yn.as_str(yn.get_path(provider, "httpApi", "payload"))
    for key, value in event_pairs(function):
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
    for key, value in event_pairs(function):
        if key == "http":
            # The plugin fronts `http` events with an API Gateway whose payload format is
            # `eventFormat`, else `provider.httpApi.payload` (src/entities/function.ts).
            payload = yn.as_str(yn.get(value, "eventFormat")) or default_payload
            found.append("api-gateway-v1" if payload == "1.0" else "api-gateway")
        elif key in _YANDEX_EVENT_TRIGGERS:
            found.append(_YANDEX_EVENT_TRIGGERS[key])
    return list(dict.fromkeys(found))
