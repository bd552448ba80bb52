"""AWS SAM and CloudFormation templates (YAML or JSON): their Lambda functions."""

from __future__ import annotations

import os

import yaml

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.core.text import LineIndex
from handlerlens.project import probes
from handlerlens.project import yaml_nodes as yn
from handlerlens.project.adapters import handler_language, parse_error_of, web_adapter_reason
from handlerlens.project.code_roots import is_archive, is_build_output
from handlerlens.project.config_problems import code_unresolved, not_checked, unresolved
from handlerlens.project.values import is_python_runtime, to_megabytes, to_seconds

FILE_TYPE = "CloudFormation template"

# SAM `Events.*.Type` → trigger id (platforms/triggers.py). HttpApi with payload 1.0 is the
# REST shape, handled where the event is read.
_SAM_EVENT_TRIGGERS = {
    "Api": "api-gateway-rest",
    "HttpApi": "http-api",
    "S3": "s3",
    "SQS": "sqs",
    "SNS": "sns",
    "Schedule": "schedule",
    "ScheduleV2": "schedule",
    "DynamoDB": "dynamodb",
    "Kinesis": "kinesis",
}
# EventBridge event types whose target may replace the event with its own payload: the
# function then receives `Input` (or the part `InputPath`/`InputTransformer` makes).
_EVENTBRIDGE_TYPES = ("Schedule", "ScheduleV2", "CloudWatchEvent", "EventBridgeRule")
_INPUT_OVERRIDES = ("Input", "InputPath", "InputTransformer")

# An event source mapping's source, by the resource type its ARN refers to.
_SOURCE_TRIGGERS = {
    "AWS::SQS::Queue": "sqs",
    "AWS::Kinesis::Stream": "kinesis",
    "AWS::DynamoDB::Table": "dynamodb",
}
_ARN_SERVICE_TRIGGERS = {"sqs": "sqs", "kinesis": "kinesis", "dynamodb": "dynamodb"}

# Where a function's code is: root folder, the node that set it, archive, inline source.
_CodeLocation = tuple[str, yaml.Node | None, str | None, str | None]

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
LAMBDA_FUNCTION = "AWS::Lambda::Function"


def parse_template(path: str, text: str) -> tuple[list[FunctionSpec], list[Problem]]:
    """Every Python function a SAM/CloudFormation template declares, and its problems."""
    if SERVERLESS_FUNCTION not in text and LAMBDA_FUNCTION not in text:
        # No function resource (half the templates of a big tree: queues, APIs, state
        # machines): only whether it parses matters, which libyaml tells without building it.
        return [], yn.parse(path, text, FILE_TYPE, syntax_only=True)[1]
    doc, problems = yn.parse(path, text, FILE_TYPE)
    if doc is None:
        return [], problems
    reader = _TemplateReader(path, text, doc)
    return reader.functions(), problems + reader.problems


class _TemplateReader:
    def __init__(self, path: str, text: str, doc: yaml.Node) -> None:
        self.path = path
        self.lines = LineIndex(text)
        self.base = os.path.dirname(path)
        self.resources = yn.items(yn.get(doc, "Resources"))
        self.globals = yn.get_path(doc, "Globals", "Function")
        self.parameters = yn.get(doc, "Parameters")
        self.types = {lid: yn.as_str(yn.get(res, "Type")) for lid, res in self.resources}
        self.problems: list[Problem] = []

    def functions(self) -> list[FunctionSpec]:
        linked = self._linked_triggers()
        specs = []
        for logical_id, resource in self.resources:
            kind = self.types.get(logical_id)
            if kind not in (SERVERLESS_FUNCTION, LAMBDA_FUNCTION):
                continue
            spec = self._function(logical_id, kind, yn.get(resource, "Properties"), linked)
            if spec is not None:
                specs.append(spec)
        return specs

    def _function(
        self, logical_id: str, kind: str, props: yaml.Node | None, linked: dict[str, list[str]]
    ) -> FunctionSpec | None:
        sam = kind == SERVERLESS_FUNCTION
        defaults = self.globals if sam else None

        def pick(key: str) -> yaml.Node | None:
            node = yn.get(props, key)
            return node if node is not None else yn.get(defaults, key)

        # Container images have no Python file in the workspace to check.
        if yn.as_str(pick("PackageType")) == "Image":
            return None
        code = yn.get(props, "Code")
        if not sam and yn.get(code, "ImageUri") is not None:
            return None

        handler_node = pick("Handler")
        if handler_node is None:
            return None
        entry = yn.as_str(handler_node)
        if entry is None:
            self.problems.append(
                unresolved(
                    self.path,
                    yn.node_span(handler_node, self.lines),
                    f"The Handler of {logical_id} is computed at deploy time, so HandlerLens "
                    "cannot check or run it; write it as a literal string (`app.handler`).",
                )
            )
            return None

        runtime_node = pick("Runtime")
        runtime = yn.as_str(runtime_node)
        effective = runtime or self._parameter_default(runtime_node)
        if not is_python_runtime(effective):
            return None  # another language, literally or by its parameter's default

        env = yn.env_map(yn.get_path(defaults, "Environment", "Variables"))
        env.update(yn.env_map(yn.get_path(props, "Environment", "Variables")))
        env.update(_logging_env(pick("LoggingConfig")))
        layers = [
            str(n.value) for n in yn.sequence(pick("Layers")) if isinstance(n, yaml.ScalarNode)
        ]
        adapter = web_adapter_reason(entry, env, layers)
        if adapter is not None:
            self.problems.append(
                not_checked(
                    self.path,
                    yn.node_span(handler_node, self.lines),
                    f"The Handler of {logical_id} ('{entry}') is not a Python handler: {adapter}"
                    ", so HandlerLens does not check or run it as one.",
                )
            )
            return None

        inline_node = pick("InlineCode") if sam else yn.get(code, "ZipFile")
        code_node = pick("CodeUri") if sam else code
        location = self._code_location(logical_id, entry, handler_node, inline_node, code_node)
        if location is None:
            return None
        root, root_node, archive, inline = location
        if effective is None and inline is not None and parse_error_of(inline) is not None:
            return None  # nothing says Python, and the inline code is not Python
        if (
            effective is None
            and archive is None
            and inline is None
            and handler_language(root, entry) == "javascript"
        ):
            return None  # nothing says Python, and the handler file is JS/TS

        memory = yn.as_number(pick("MemorySize"))

        events = yn.get(props, "Events") if sam else None
        triggers = self._event_triggers(events)
        if sam and pick("FunctionUrlConfig") is not None:
            triggers.append("function-url")
        triggers += linked.get(logical_id, [])
        triggers = list(dict.fromkeys(triggers))

        return FunctionSpec(
            name=logical_id,
            platform="aws",
            entry=entry,
            root=root,
            declared_by="sam",
            declared_in=self.path,
            entry_span=self._span(handler_node),
            runtime=runtime,
            runtime_span=self._span(runtime_node) if runtime is not None else None,
            timeout=to_seconds(yn.as_number(pick("Timeout"))),
            memory=to_megabytes(memory),
            env=env,
            trigger=triggers[0] if triggers else None,
            triggers=tuple(triggers),
            root_declared_in=self.path if root_node is not None else None,
            root_span=self._span(root_node) if root_node is not None else None,
            custom_event=_has_input_override(events),
            archive=archive,
            inline_code=inline,
        )

    def _code_location(
        self,
        logical_id: str,
        entry: str,
        handler_node: yaml.Node,
        inline_node: yaml.Node | None,
        code_node: yaml.Node | None,
    ) -> _CodeLocation | None:
        """Where the function's code is, or None (with an info saying why) when it cannot be
        located in the workspace."""
        if inline_node is not None:
            inline = yn.as_str(inline_node)
            if inline is None:
                inline = _substituted_python(inline_node)
            if inline is None:
                self._unresolved(
                    inline_node,
                    f"The inline code of {logical_id} is assembled at deploy time (!Sub, "
                    "!Join), so HandlerLens cannot check or run it.",
                )
                return None
            return self.base, None, None, inline
        if code_node is None:
            return self.base, None, None, None
        declared = yn.as_str(code_node)
        if _not_in_workspace(declared):
            self._unresolved(
                code_node,
                f"The code of {logical_id} is deployed from S3 or from a value computed at "
                "deploy time, not from this workspace, so HandlerLens cannot check or run "
                "it; point it at the local source folder to have it checked.",
            )
            return None
        assert declared is not None
        if "${" in declared:
            self._unresolved(
                code_node,
                f"The code location of {logical_id} ('{declared}') holds a placeholder that "
                "another tool fills in, so HandlerLens cannot locate, check or run its code.",
            )
            return None
        path = os.path.normpath(os.path.join(self.base, os.path.expanduser(declared.strip())))
        if is_archive(declared):
            # Deployed as is (sam package uploads a zip unchanged): the module must be in it.
            return os.path.dirname(path), code_node, path, None
        if probes.isfile(path):
            # A single file is zipped alone (sam package, FORCE_ZIP): its name is the module.
            self._check_single_file(logical_id, entry, handler_node, path)
            return os.path.dirname(path), code_node, None, None
        if not probes.isdir(path) and is_build_output(path, self.base):
            self.problems.append(
                code_unresolved(
                    self.path,
                    yn.node_span(code_node, self.lines),
                    f"The code of {logical_id} is in {declared.strip()}, a build output that "
                    "is not there yet (a build step makes it), so its entry point was not "
                    "checked; build first, or point the declaration at the source folder.",
                )
            )
            return None
        return path, code_node, None, None

    def _check_single_file(
        self, logical_id: str, entry: str, handler_node: yaml.Node, path: str
    ) -> None:
        module = entry.strip().rpartition(".")[0].replace("/", ".")
        stem, suffix = os.path.splitext(os.path.basename(path))
        if module and (module != stem or suffix != ".py"):
            name = os.path.basename(path)
            self.problems.append(
                Problem(
                    self.path,
                    self._span(handler_node),
                    Severity.ERROR,
                    "entry-point-module-missing",
                    f"Entry point '{entry}': the code of {logical_id} is the single file "
                    f"{name}, which is packaged alone, so the only module is '{stem}', not "
                    f"'{module}'.",
                )
            )

    def _unresolved(self, node: yaml.Node, message: str) -> None:
        self.problems.append(unresolved(self.path, yn.node_span(node, self.lines), message))

    def _parameter_default(self, node: yaml.Node | None) -> str | None:
        """The `Default` of the template parameter `!Ref Name` (or `{Ref: Name}`) names."""
        if isinstance(node, yaml.ScalarNode) and node.tag == "!Ref":
            name: str | None = str(node.value)
        else:
            name = yn.as_str(yn.get(node, "Ref"))
        if name is None:
            return None
        return yn.as_str(yn.get(yn.get(self.parameters, name), "Default"))

    def _event_triggers(self, events: yaml.Node | None) -> list[str]:
        found = []
        for _, event in yn.items(events):
            kind = yn.as_str(yn.get(event, "Type")) or ""
            trigger = _SAM_EVENT_TRIGGERS.get(kind)
            payload = yn.as_str(yn.get_path(event, "Properties", "PayloadFormatVersion"))
            if kind == "HttpApi" and payload == "1.0":
                trigger = "api-gateway-rest"
            if trigger is not None:
                found.append(trigger)
        return found

    def _linked_triggers(self) -> dict[str, list[str]]:
        """Triggers declared by separate resources that point at a function."""
        linked: dict[str, list[str]] = {}
        for logical_id, resource in self.resources:
            kind = self.types.get(logical_id)
            props = yn.get(resource, "Properties")
            if kind == "AWS::Lambda::EventSourceMapping":
                target = referenced_id(yn.get(props, "FunctionName"))
                trigger = self._source_trigger(yn.get(props, "EventSourceArn"))
            elif kind == "AWS::Lambda::Url":
                target = referenced_id(yn.get(props, "TargetFunctionArn"))
                trigger = "function-url"
            else:
                continue
            if target is not None and trigger is not None:
                linked.setdefault(target, []).append(trigger)
        return linked

    def _source_trigger(self, arn: yaml.Node | None) -> str | None:
        literal = yn.as_str(arn)
        if literal is not None:
            parts = literal.split(":")
            return _ARN_SERVICE_TRIGGERS.get(parts[2]) if len(parts) > 2 else None
        source = referenced_id(arn)
        return _SOURCE_TRIGGERS.get(self.types.get(source or "") or "")

    def _span(self, node: yaml.Node | None) -> Span:
        assert node is not None
        return yn.value_span(node, self.lines)


def _substituted_python(node: yaml.Node) -> str | None:
    """The code of `!Sub |` (or `!Sub [code, {vars}]`) when it parses as Python as written:
    its `${…}` then sit inside string literals, and substituting them changes no name the
    entry point needs."""
    if node.tag != "!Sub":
        return None
    if isinstance(node, yaml.SequenceNode) and node.value:
        node = node.value[0]
    if not isinstance(node, yaml.ScalarNode):
        return None
    code = str(node.value)
    return code if parse_error_of(code) is None else None


def _not_in_workspace(literal: str | None) -> bool:
    """True for `s3://…`, and for maps (`{Bucket, Key}`, `{S3Bucket, S3Key}`) or intrinsics
    (`!Ref CodeUri`), which `literal` (the value as a plain string) is None for."""
    return literal is None or "://" in literal


def _has_input_override(events: yaml.Node | None) -> bool:
    for _, event in yn.items(events):
        if yn.as_str(yn.get(event, "Type")) in _EVENTBRIDGE_TYPES:
            properties = yn.get(event, "Properties")
            if any(yn.get(properties, key) is not None for key in _INPUT_OVERRIDES):
                return True
    return False


def referenced_id(node: yaml.Node | None) -> str | None:
    """The logical id in `!Ref X`, `!GetAtt X.Arn`, `{Ref: X}` or `{Fn::GetAtt: [X, Arn]}`."""
    if isinstance(node, yaml.ScalarNode) and node.tag in ("!Ref", "!GetAtt"):
        return str(node.value).split(".")[0] or None
    if isinstance(node, yaml.SequenceNode) and node.tag == "!GetAtt":
        return yn.as_str(node.value[0]) if node.value else None
    ref = yn.as_str(yn.get(node, "Ref"))
    if ref is not None:
        return ref
    get_att = yn.get(node, "Fn::GetAtt")
    if isinstance(get_att, yaml.SequenceNode):
        return yn.as_str(get_att.value[0]) if get_att.value else None
    text = yn.as_str(get_att)
    return text.split(".")[0] if text else None


def _logging_env(config: yaml.Node | None) -> dict[str, str]:
    """What Lambda sets for `LoggingConfig`: with `LogFormat: JSON` the runtime logs JSON at
    `ApplicationLogLevel` (INFO unless given); the text format ignores the levels."""
    if (yn.as_str(yn.get(config, "LogFormat")) or "").upper() != "JSON":
        return {}
    level = yn.as_str(yn.get(config, "ApplicationLogLevel")) or "INFO"
    return {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": level.upper()}
