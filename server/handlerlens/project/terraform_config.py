"""Terraform: `yandex_function`, `aws_lambda_function` and the `terraform-aws-modules/lambda/aws`
module, local modules, code roots and archives, and triggers.

A Terraform module is every `.tf` file of one directory, so a file is first parsed on its own
(`read_terraform`, cached by its text) and the files of a directory are then read together
(`link_module`): a function's code root may come from a `data "archive_file"` in another file,
its handler from a variable's default or from the arguments of the `module` block that calls
this directory. Values are evaluated as far as HandlerLens can without running Terraform:
literal strings, templates of them, `var.*` (bound by the calling `module` block, else the
variable's default), `local.*` and `path.module`/`path.root`/`path.cwd`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from handlerlens.core.model import FunctionSpec, PackedCode, PlatformName
from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.core.text import LineIndex
from handlerlens.project import hcl_tree as hcl
from handlerlens.project import parse_cache, probes
from handlerlens.project.archives import zip_names
from handlerlens.project.config_problems import parse_error, unresolved
from handlerlens.project.parse_cache import ParseCache
from handlerlens.project.values import is_python_runtime, to_megabytes, to_seconds

FILE_TYPE = "Terraform file"
PARSER = "python-hcl2"

# Resource type → (platform, handler attribute, name attribute, timeout, memory).
_FUNCTION_RESOURCES: dict[str, tuple[PlatformName, str, str, str, str]] = {
    "yandex_function": ("yandex", "entrypoint", "name", "execution_timeout", "memory"),
    "aws_lambda_function": ("aws", "handler", "function_name", "timeout", "memory_size"),
}
# The registry module that declares a Lambda function (and its GitHub source).
_LAMBDA_MODULE = re.compile(
    r"^(?:registry\.terraform\.io/)?terraform-aws-modules/lambda/aws(?://.*)?$"
    r"|github\.com[/:]terraform-aws-modules/terraform-aws-lambda(?:\.git)?(?:[/?].*)?$"
)
# Arguments of a `module` block that are Terraform's, not the module's variables.
_META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
# Objects uploaded to a bucket: a function's `s3_key`/`object_name` can name one.
_BUCKET_OBJECTS = ("aws_s3_object", "aws_s3_bucket_object", "yandex_storage_object")
_ARCHIVE_SUFFIXES = (".zip", ".jar")
MAX_MODULE_DEPTH = 4

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
_ARCHIVE_REF = re.compile(r"\b(data\.)?archive_file\." + _NAME)
_RULE_REF = re.compile(r"\baws_cloudwatch_event_rule\." + _NAME)
_OBJECT_REF = re.compile(r"\b(" + "|".join(_BUCKET_OBJECTS) + r")\." + _NAME)

# The cheap pre-scan: a directory is read only when one of its files declares a function or
# calls a module; in such a directory, only files with a block that matters are parsed.
_DECLARES = re.compile(
    r'^[ \t]*(?:resource[ \t]+"?(?:aws_lambda_function|yandex_function)"?[ \t]+|module[ \t]+)',
    re.MULTILINE,
)
# Files read at once: functions, module calls and triggers.
_EAGER = re.compile(
    r"^[ \t]*(?:module[ \t]|"
    r'resource[ \t]+"?(?:aws_lambda|yandex_function|aws_s3_bucket_notification'
    r"|aws_sns_topic_subscription|aws_cloudwatch_event_|aws_api_gateway_integration"
    r"|aws_apigatewayv2_integration))",
    re.MULTILINE,
)
# Files read only when a value needs them: variables, locals, archives, uploaded objects.
_VARIABLES = re.compile(r'^[ \t]*variable[ \t]+"?([A-Za-z0-9_-]+)', re.MULTILINE)
_LOCALS = re.compile(r"^[ \t]*locals[ \t]*\{", re.MULTILINE)
_ARCHIVES = re.compile(r'^[ \t]*(?:data|resource)[ \t]+"?archive_file\b', re.MULTILINE)
_OBJECTS = re.compile(
    r'^[ \t]*resource[ \t]+"?(?:' + "|".join(_BUCKET_OBJECTS) + r")\b", re.MULTILINE
)
_SUPPORT = (_VARIABLES, _LOCALS, _ARCHIVES, _OBJECTS)


# Top-level blocks worth parsing; the others are blanked first (see hcl_text.blank_blocks).
_WANTED_TYPES = frozenset(
    {
        *_FUNCTION_RESOURCES,
        *_BUCKET_OBJECTS,
        "archive_file",
        "yandex_function_trigger",
        "aws_lambda_event_source_mapping",
        "aws_lambda_function_url",
        "aws_lambda_permission",
        "aws_api_gateway_integration",
        "aws_apigatewayv2_integration",
        "aws_s3_bucket_notification",
        "aws_sns_topic_subscription",
        "aws_cloudwatch_event_rule",
        "aws_cloudwatch_event_target",
    }
)
_HEADER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_-]*)(?:\s+"?([A-Za-z0-9_-]+))?')


def _wanted_block(header: str) -> bool:
    found = _HEADER.match(header)
    if found is None:
        return True
    kind, label = found.groups()
    if kind in ("resource", "data"):
        return label in _WANTED_TYPES
    return kind in ("module", "variable", "locals")


def declares_functions(text: str) -> bool:
    """Whether a .tf file can declare a function here (a function resource or a module call):
    a directory none of whose files can is not parsed at all."""
    return _DECLARES.search(text) is not None


def matters(text: str) -> bool:
    """Whether a .tf file of a declaring directory holds anything the functions can use."""
    return _EAGER.search(text) is not None or any(p.search(text) for p in _SUPPORT)


@dataclass
class TerraformFile:
    """One parsed .tf file: its blocks (empty when it does not parse) and its parse error."""

    path: str
    text: str = ""
    blocks: list[hcl.HclBlock] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    lines: LineIndex = field(default_factory=lambda: LineIndex(""))

    def span(self, start: int, end: int) -> Span:
        return self.lines.span(start, end)

    def source(self, attr: hcl.HclAttribute | None) -> str:
        return self.text[attr.start : attr.end] if attr is not None else ""


def parse_terraform(path: str, text: str) -> tuple[list[FunctionSpec], list[Problem]]:
    """The functions one .tf file declares, read as a module of that file alone."""
    return link_module([(path, text)], read_terraform)


def read_terraform(path: str, text: str) -> TerraformFile:
    """Parse one .tf file; a syntax error becomes its single problem."""
    lines = LineIndex(text)
    result = TerraformFile(path, text, lines=lines)
    try:
        result.blocks = hcl.parse_hcl(text, _wanted_block)
    except hcl.HclError as exc:
        span = lines.span(exc.offset, exc.offset)
        result.problems.append(
            parse_error(path, span, FILE_TYPE, exc.message, stricter_than_deploy=PARSER)
        )
    return result


Reader = Callable[[str, str], TerraformFile]
Loader = Callable[[str], "list[tuple[str, str]] | None"]


def discover_terraform(
    files: list[tuple[str, str]], read: Reader, load: Loader, cache: ParseCache | None = None
) -> tuple[list[FunctionSpec], list[Problem]]:
    """The functions of every Terraform module among `files` (path, text).

    Directories where no file declares a function or calls a module are skipped unparsed, and
    in the others a file is parsed only when it declares something or a value needs it;
    directories a `module` block calls with a local source are read through that call (with
    its arguments bound), not on their own. With `cache` (`check`), a module's functions are
    kept by its files' paths and texts, with the files and folders its reading looked at.
    """
    by_dir: dict[str, list[tuple[str, str]]] = {}
    for path, text in files:
        by_dir.setdefault(os.path.dirname(path), []).append((path, text))
    modules = {
        directory: entries
        for directory, entries in by_dir.items()
        if any(declares_functions(text) for _, text in entries)
    }
    called: set[str] = set()
    for directory, entries in modules.items():
        for path, text in entries:
            if "module" in text and declares_functions(text):

                def calls(
                    directory: str = directory, path: str = path, text: str = text
                ) -> set[str]:
                    return local_module_dirs(directory, [read(path, text)])

                if cache is None:
                    called |= calls()
                else:
                    entry = parse_cache.key("terraform-calls", directory, text)
                    called |= cache.memo(entry, calls, facts=False)
    specs: list[FunctionSpec] = []
    problems: list[Problem] = []
    for directory in sorted(modules):
        if directory in called:
            continue
        entries = modules[directory]

        def link(
            entries: list[tuple[str, str]] = entries,
        ) -> tuple[list[FunctionSpec], list[Problem]]:
            return link_module(entries, read, load=load)

        if cache is None:
            found, issues = link()
        else:
            entry = parse_cache.key("terraform-module", *(p + "\0" + t for p, t in entries))
            found, issues = cache.memo(entry, link)
        specs += found
        problems += issues
    return specs, problems


def local_module_dirs(directory: str, files: list[TerraformFile]) -> set[str]:
    """The directories the `module` blocks of `files` call with a local source."""
    found = set()
    for f in files:
        for block in f.blocks:
            if block.type == "module":
                source = _literal(block.attributes.get("source"))
                if source is not None and source.startswith(("./", "../")):
                    found.add(os.path.normpath(os.path.join(directory, source)))
    return found


def link_module(
    entries: list[tuple[str, str]], read: Reader, *, load: Loader | None = None
) -> tuple[list[FunctionSpec], list[Problem]]:
    """The functions of one Terraform module (the .tf files of one directory, path and text)."""
    if not entries:
        return [], []
    directory = os.path.dirname(entries[0][0])
    module = _Module(directory, entries, directory, read=read, load=load)
    return module.link()


@dataclass(frozen=True)
class _Val:
    """An evaluated value; `path`/`span` locate the literal it is verbatim from, if any."""

    text: str
    path: str | None = None
    span: Span | None = None
    default_of: str | None = None  # `var.x` when that variable's default supplied it
    verbatim: bool = False  # the literal string at `span` is the value itself


@dataclass(frozen=True)
class _Binding:
    """A `module` block argument: evaluated in the calling module."""

    module: _Module
    file: TerraformFile
    attr: hcl.HclAttribute


@dataclass
class _Code:
    """Where a function's code is: a folder (`root`), or packed, with the infos that say why."""

    root: str | None = None
    root_path: str | None = None
    root_span: Span | None = None
    packed: PackedCode | None = None
    inline: dict[str, tuple[str, str, Span]] = field(default_factory=dict)  # name → text, at
    problems: list[Problem] = field(default_factory=list)
    skip: bool = False  # not from this workspace: no function at all
    single: str | None = None  # an archive of one file (`source_file`): its name
    single_label: str = ""


@dataclass
class _Function:
    key: tuple[str, str]  # ("aws_lambda_function" | "yandex_function" | "module", label)
    spec: FunctionSpec
    code: _Code
    triggers: list[str] = field(default_factory=list)  # declared in the block itself


class _Module:
    def __init__(
        self,
        directory: str,
        entries: list[tuple[str, str]],
        root_dir: str,
        *,
        read: Reader,
        load: Loader | None,
        bindings: dict[str, _Binding] | None = None,
        name_prefix: str = "",
        depth: int = 0,
        ancestry: tuple[str, ...] = (),
    ) -> None:
        self.dir = directory
        self.root_dir = root_dir
        self.read = read
        self.load = load
        self.bindings = bindings or {}
        self.name_prefix = name_prefix
        self.depth = depth
        self.ancestry = (*ancestry, directory)
        self.variables: dict[str, tuple[TerraformFile, hcl.HclAttribute | None]] = {}
        self.locals: dict[str, tuple[TerraformFile, hcl.HclAttribute]] = {}
        self.archives: dict[str, tuple[TerraformFile, hcl.HclBlock]] = {}
        self.objects: dict[tuple[str, str], tuple[TerraformFile, hcl.HclBlock]] = {}
        self.files: list[TerraformFile] = []
        self._tfvars: dict[str, tuple[TerraformFile, hcl.HclAttribute]] | None = None
        # The `for_each` instance being read: `each.key` and `each.value`.
        self.each: tuple[str, _Val | None] | None = None
        # Files parsed only when a value needs what they declare (variables.tf, …).
        self.pending: list[tuple[str, str]] = []
        # Triggers this module declares for functions its caller passes in (`uri = var.arn`,
        # `each.value.invoke_arn` over `for_each = var.methods`): (trigger or None for an
        # integration that names no known shape, variable, key of each item or None, from a
        # permission only).
        self.external: list[tuple[str | None, str, str | None, bool]] = []
        # What the modules this one calls declare for its functions: by function, and by the
        # label of a local module call (the functions that call declares).
        self.passed_triggers: dict[tuple[str, str], list[str]] = {}
        self.module_triggers: dict[str, list[str]] = {}
        for path, text in entries:
            if declares_functions(text) or _EAGER.search(text):
                self._add(read(path, text))
            elif any(p.search(text) for p in _SUPPORT):
                self.pending.append((path, text))

    def _add(self, f: TerraformFile) -> None:
        self.files.append(f)
        for block in f.blocks:
            if block.type == "variable" and block.labels:
                self.variables[block.labels[0]] = (f, block.attributes.get("default"))
            elif block.type == "locals":
                for name, attr in block.attributes.items():
                    self.locals[name] = (f, attr)
            elif len(block.labels) == 2 and block.labels[0] == "archive_file":
                prefix = "data." if block.type == "data" else ""
                self.archives[prefix + block.labels[1]] = (f, block)
            elif block.type == "resource" and len(block.labels) == 2:
                if block.labels[0] in _BUCKET_OBJECTS:
                    self.objects[(block.labels[0], block.labels[1])] = (f, block)

    def tfvars(self) -> dict[str, tuple[TerraformFile, hcl.HclAttribute]]:
        """The root module's variable values Terraform loads by itself: terraform.tfvars, then
        *.auto.tfvars in name order (later files win). A called module gets none."""
        if self._tfvars is None:
            self._tfvars = {}
            if self.depth == 0:
                names = probes.listdir(self.dir)
                files = [n for n in names if n == "terraform.tfvars"]
                files += [n for n in names if n.endswith(".auto.tfvars")]
                for name in files:
                    self._read_tfvars(os.path.join(self.dir, name))
        return self._tfvars

    def _read_tfvars(self, path: str) -> None:
        probes.stamp(path)
        try:
            with open(path, encoding="utf-8-sig", errors="replace") as handle:
                text = handle.read(1_000_000)
            attributes = hcl.parse_attributes(text)
        except (OSError, hcl.HclError):
            return  # Terraform reports that file; the defaults stand in here
        f = TerraformFile(path, text, lines=LineIndex(text))
        assert self._tfvars is not None
        for name, attr in attributes.items():
            self._tfvars[name] = (f, attr)

    def need(self, wanted: re.Pattern[str], name: str | None = None) -> None:
        """Parse the pending files that declare what `wanted` finds (named `name`)."""
        keep = []
        for path, text in self.pending:
            found = (
                any(m.group(1) == name for m in wanted.finditer(text))
                if name is not None
                else wanted.search(text) is not None
            )
            if found:
                self._add(self.read(path, text))
            else:
                keep.append((path, text))
        self.pending = keep

    # Values ---------------------------------------------------------------------------

    def _code_path(
        self, f: TerraformFile, attr: hcl.HclAttribute, node: hcl.Node, subject: str
    ) -> tuple[_Val, str] | _Code:
        """The value of `node` (in attribute `attr`) as a path that names code, or the _Code
        that says why it cannot be located (`subject`: "The source_dir of …")."""
        span = f.span(attr.start, attr.end)
        found = self.value(f, node)
        if found is None:
            return _unknown_code(f.path, span, subject, _expression(f, attr))
        path = self.path(found.text)
        if found.default_of is not None and not probes.exists(path):
            # A default that is some machine's absolute path (or a folder a build makes):
            # the real value comes with `-var` at deploy time.
            return _unknown_code(
                f.path,
                span,
                subject,
                f"`{found.default_of}` (its default, {found.text}, does not exist here)",
            )
        return found, path

    def value(self, f: TerraformFile, expr: hcl.Node, depth: int = 0) -> _Val | None:
        """What an expression evaluates to, when HandlerLens can tell without Terraform."""
        if depth > 8:
            return None
        string = hcl.string(expr)
        if string is not None:
            span = f.span(string.inner_start, string.inner_end)
            if string.literal:
                return _Val(string.value, f.path, span, verbatim=True)
            parts = hcl.template_parts(expr)
            if parts is None:
                return None
            chunks = []
            for part in parts:
                if isinstance(part, str):
                    chunks.append(part)
                    continue
                inner = self.value(f, part, depth + 1)
                if inner is None:
                    return None
                chunks.append(inner.text)
            return _Val("".join(chunks), f.path, span)
        names = hcl.traversal(expr)
        if names is not None and len(names) == 2:
            kind, name = names
            if kind == "var":
                bound = self.bindings.get(name)
                if bound is not None:
                    return bound.module.value(bound.file, bound.attr.expr, depth + 1)
                given = self.tfvars().get(name)
                if given is not None:
                    return self.value(given[0], given[1].expr, depth + 1)
                if name not in self.variables:
                    self.need(_VARIABLES, name)
                file, default = self.variables.get(name, (None, None))
                if file is None or default is None:
                    return None
                found = self.value(file, default.expr, depth + 1)
                return replace(found, default_of=f"var.{name}") if found is not None else None
            if kind == "local" and name not in self.locals:
                self.need(_LOCALS)
            if kind == "local" and name in self.locals:
                file, attr = self.locals[name]
                return self.value(file, attr.expr, depth + 1)
            if kind == "each" and self.each is not None:
                return _Val(self.each[0]) if name == "key" else self.each[1]
            if kind == "path" and name == "module":
                return _Val(self.dir)
            if kind == "path" and name in ("root", "cwd"):
                # The root module's directory when Terraform runs there, the common case.
                return _Val(self.root_dir)
            return None
        number = hcl.number(expr)
        if number is not None:
            return _Val(f"{number:g}")
        heredoc = hcl.heredoc(expr)
        if heredoc is not None:
            return _Val(heredoc.value)
        return None

    def path(self, value: str) -> str:
        """A file path as Terraform reads it: relative to the directory it runs in (the root
        module's), which is why modules write `${path.module}/…`."""
        return os.path.normpath(os.path.join(self.root_dir, os.path.expanduser(value)))

    def attr_value(self, f: TerraformFile, attr: hcl.HclAttribute | None) -> _Val | None:
        return self.value(f, attr.expr) if attr is not None else None

    def instances(
        self, f: TerraformFile, block: hcl.HclBlock, label: str
    ) -> list[tuple[str, tuple[str, _Val | None] | None]]:
        """A block's instances as (address label, `each` binding): one, unbound, without a
        `for_each` or when Terraform alone can enumerate it; else one per key, labelled as
        Terraform addresses them (`fns["orders"]`)."""
        attr = block.attributes.get("for_each")
        keys = self._for_each_keys(f, attr.expr) if attr is not None else None
        if keys is None:
            return [(label, None)]
        return [(f'{label}["{key}"]', (key, value)) for key, value in keys.items()]

    def _for_each_keys(
        self, f: TerraformFile, expr: hcl.Node, depth: int = 0
    ) -> dict[str, _Val | None] | None:
        """The keys (and values) of a `for_each` the text settles: `toset([...])` of strings, or
        an object (`tomap({...})`), here or in a local or a variable's default."""
        if depth > 8:
            return None
        names = hcl.traversal(expr)
        if names is not None and len(names) == 2 and names[0] in ("local", "var"):
            kind, name = names
            if kind == "local":
                if name not in self.locals:
                    self.need(_LOCALS)
                found = self.locals.get(name)
                return self._for_each_keys(found[0], found[1].expr, depth + 1) if found else None
            if name in self.bindings or name in self.tfvars():
                return None
            if name not in self.variables:
                self.need(_VARIABLES, name)
            file, default = self.variables.get(name, (None, None))
            if file is None or default is None:
                return None
            return self._for_each_keys(file, default.expr, depth + 1)
        call = hcl.function_call(expr)
        if call is not None:
            function, args = call
            if len(args) != 1:
                return None
            if function == "toset":
                items = hcl.tuple_items(args[0])
                if items is None:
                    return None
                keys: dict[str, _Val | None] = {}
                for item in items:
                    found_item = self.value(f, item)
                    if found_item is None:
                        return None
                    keys[found_item.text] = found_item
                return keys
            if function == "tomap":
                return self._for_each_keys(f, args[0], depth + 1)
            return None
        pairs = hcl.object_items(expr)
        return {key: self.value(f, value) for key, value in pairs} if pairs else None

    # Linking --------------------------------------------------------------------------

    def link(self) -> tuple[list[FunctionSpec], list[Problem]]:
        problems: list[Problem] = []
        functions: list[_Function] = []
        triggers: dict[tuple[str, str], list[str]] = {}
        scheduled: set[str] = set()
        rule_targets: list[tuple[str, tuple[str, str]]] = []
        # API Gateway's permission to invoke a function, and the functions an integration
        # names: a permission says the trigger only where no integration says more.
        permitted: dict[tuple[str, str], str] = {}
        integrated: set[tuple[str, str]] = set()
        specs: list[FunctionSpec] = []
        called: dict[str, list[int]] = {}  # local module call label → its functions in specs
        for f in self.files:
            for block in f.blocks:
                if block.type == "resource" and len(block.labels) == 2:
                    kind, label = block.labels
                    if kind in _FUNCTION_RESOURCES:
                        for name, each in self.instances(f, block, label):
                            self.each = each
                            try:
                                found = self._function(f, kind, name, block, problems)
                            finally:
                                self.each = None
                            if found is not None:
                                found.key = (kind, label)  # what triggers reference
                                functions.append(found)
                    else:
                        self._trigger(f, kind, label, block, triggers, scheduled, rule_targets)
                        _api_permission(f, kind, block.attributes, permitted, integrated)
                        if kind == "aws_lambda_permission" and _to_api_gateway(f, block):
                            attr = block.attributes.get("function_name")
                            if _lambda_target(f.source(attr)) is None:
                                self._external(
                                    f, block, attr, "api-gateway-rest", from_permission=True
                                )
                elif block.type == "module" and block.labels:
                    found_specs = self._module_call(f, block, functions, problems)
                    called.setdefault(block.labels[0], []).extend(
                        range(len(specs), len(specs) + len(found_specs))
                    )
                    specs += found_specs
        for rule, target in rule_targets:
            if rule in scheduled:
                triggers.setdefault(target, []).append("schedule")
        for target, trigger in permitted.items():
            if target not in integrated:
                triggers.setdefault(target, []).append(trigger)
        for target, passed in self.passed_triggers.items():
            triggers.setdefault(target, []).extend(passed)
        for label, passed in self.module_triggers.items():
            triggers.setdefault(("module", label), []).extend(passed)
            # The function a local module call declares; of several, the output the argument
            # named is not followed: none is told.
            if len(called.get(label, [])) == 1:
                (index,) = called[label]
                specs[index] = _with_triggers(specs[index], passed)
        for function in functions:
            linked = tuple(dict.fromkeys(function.triggers + triggers.get(function.key, [])))
            spec = replace(function.spec, trigger=linked[0] if linked else None, triggers=linked)
            code = function.code
            problems += code.problems
            if code.packed is not None:
                spec = replace(spec, packed=code.packed)
                problems += _inline_problems(spec, code)
            elif code.root is not None:
                spec = replace(
                    spec, root=code.root, root_declared_in=code.root_path, root_span=code.root_span
                )
                module = spec.entry.strip().rpartition(".")[0].replace(".", "/")
                if code.single is not None and f"{module}.py" != code.single:
                    # The zip holds that one file: another module beside it is not deployed.
                    packed = PackedCode(code.single_label, frozenset({code.single}))
                    spec = replace(spec, packed=packed)
            specs.append(spec)
        # Every file parsed by now, those a value needed included, reports its parse error.
        return specs, [p for f in self.files for p in f.problems] + problems

    def _trigger(
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
            target = _lambda_target(f.source(attr))
            if target is not None and trigger:
                triggers.setdefault(target, []).append(trigger)
            elif target is None and kind.endswith("_integration"):
                self._external(f, block, attr, trigger, from_permission=False)

        if kind == "yandex_function_trigger":
            target = _referenced(f.source(_attr(block.block("function"), "id")), "yandex_function")
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
            protocol = _literal(attrs.get("protocol"))
            if protocol == "lambda":
                link(attrs.get("endpoint"), "sns")
        elif kind == "aws_cloudwatch_event_rule":
            if "schedule_expression" in attrs:
                scheduled.add(label)
        elif kind == "aws_cloudwatch_event_target":
            rule = _RULE_REF.search(f.source(attrs.get("rule")))
            aimed = _lambda_target(f.source(attrs.get("arn")))
            if rule and aimed:
                rule_targets.append((rule.group(1), aimed))

    def _external(
        self,
        f: TerraformFile,
        block: hcl.HclBlock,
        attr: hcl.HclAttribute | None,
        trigger: str | None,
        *,
        from_permission: bool,
    ) -> None:
        """A trigger whose function comes from the caller: `var.x`, or `each.value.k` of a
        `for_each = var.m`; kept for the calling module to resolve (`_resolve_external`)."""
        text = f.source(attr).strip()
        direct = re.fullmatch(r"var\." + _NAME + r"(?:\.[\w.]+)?", text)
        if direct is not None:
            self.external.append((trigger, direct.group(1), None, from_permission))
            return
        each = re.fullmatch(r"each\.value\.(\w+)", text)
        over = re.fullmatch(r"var\." + _NAME, f.source(block.attributes.get("for_each")).strip())
        if each is not None and over is not None:
            self.external.append((trigger, over.group(1), each.group(1), from_permission))

    def _resolve_external(self, f: TerraformFile, call: hcl.HclBlock, child: _Module) -> None:
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
                called = re.search(r"\bmodule\." + _NAME + r"\.", expression)
                target = _lambda_target(expression)
                for trigger in chosen:
                    if trigger is None:
                        continue
                    if target is not None:
                        self.passed_triggers.setdefault(target, []).append(trigger)
                    elif called is not None:
                        self.module_triggers.setdefault(called.group(1), []).append(trigger)

    def _source_trigger(self, f: TerraformFile, attrs: dict[str, hcl.HclAttribute]) -> str | None:
        arn = attrs.get("event_source_arn")
        return self._arn_trigger(f, arn.expr) if arn is not None else None

    def _arn_trigger(self, f: TerraformFile, arn: hcl.Node) -> str | None:
        """The trigger an event source's ARN means: a literal ARN's service, or the type of
        the resource it references."""
        string = hcl.string(arn)
        if string is not None and string.literal:
            parts = string.value.split(":")
            return _ARN_SERVICES.get(parts[2]) if len(parts) > 2 else None
        start, end = hcl.span_of(arn)
        text = f.text[start:end]
        return next((t for r, t in _AWS_SOURCES.items() if _referenced(text, r)), None)

    # Functions ------------------------------------------------------------------------

    def _function(
        self, f: TerraformFile, kind: str, label: str, block: hcl.HclBlock, problems: list[Problem]
    ) -> _Function | None:
        platform, handler_key, name_key, timeout_key, memory_key = _FUNCTION_RESOURCES[kind]
        attrs = block.attributes
        if "image_uri" in attrs or block.block("image") is not None:
            return None
        env_attr = attrs.get("environment") if platform == "yandex" else None
        if platform == "aws":
            env_attr = _attr(block.block("environment"), "variables")
        spec = self._spec(
            f,
            f"{kind}.{label}",
            label,
            platform,
            handler=attrs.get(handler_key),
            handler_key=handler_key,
            runtime=attrs.get("runtime"),
            name=attrs.get(name_key),
            timeout=attrs.get(timeout_key),
            memory=attrs.get(memory_key),
            env=env_attr,
            problems=problems,
        )
        if spec is None:
            return None
        code = self._function_code(f, f"{kind}.{label}", platform, block)
        if code.skip:
            problems += code.problems
            return None
        return _Function((kind, label), spec, code)

    def _spec(
        self,
        f: TerraformFile,
        what: str,
        label: str,
        platform: PlatformName,
        *,
        handler: hcl.HclAttribute | None,
        handler_key: str,
        runtime: hcl.HclAttribute | None,
        name: hcl.HclAttribute | None,
        timeout: hcl.HclAttribute | None,
        memory: hcl.HclAttribute | None,
        env: hcl.HclAttribute | None,
        problems: list[Problem],
    ) -> FunctionSpec | None:
        if handler is None:
            return None
        entry = self.value(f, handler.expr)
        # Only a literal (here, or where a variable or local is set) can be shown and fixed
        # in place; a template such as "${var.module}.handler" stays Terraform's. One a
        # `for_each` instance fills in (`"${each.key}.handler"`) is shown, never rewritten.
        per_instance = (
            entry is not None
            and not entry.verbatim
            and self.each is not None
            and entry.path == f.path
            and "each." in f.source(handler)
        )
        if entry is None or entry.path is None or entry.span is None:
            per_instance = False
        if (
            entry is None
            or entry.path is None
            or entry.span is None
            or not (entry.verbatim or per_instance)
        ):
            problems.append(
                unresolved(
                    f.path,
                    f.span(handler.start, handler.end),
                    f"The {handler_key} of {what} is computed by Terraform "
                    f"(`{_short(f.source(handler))}`), so HandlerLens cannot check or run it; "
                    "write it as a literal string.",
                )
            )
            return None
        runtime_val = self.attr_value(f, runtime)
        if runtime_val is not None and not is_python_runtime(runtime_val.text):
            return None
        name_val = self.attr_value(f, name)
        environment = {}
        for key, node in hcl.object_items(env.expr) if env is not None else []:
            # Literals only: the values matter to the runner, not to the checks, and
            # following `var.*` here would parse every variables.tf.
            text = hcl.scalar_text(node, f.text)
            if text is not None:
                environment[key] = text
        runtime_elsewhere = runtime_val is not None and runtime_val.path != entry.path
        return FunctionSpec(
            name=name_val.text if name_val is not None and name_val.text else self.name(label),
            platform=platform,
            entry=entry.text,
            root=self.dir,
            declared_by="terraform",
            entry_editable=not per_instance,
            declared_in=entry.path,
            entry_span=entry.span,
            runtime=runtime_val.text if runtime_val is not None else None,
            runtime_span=runtime_val.span if runtime_val is not None else None,
            runtime_declared_in=runtime_val.path if runtime_elsewhere and runtime_val else None,
            timeout=to_seconds(self._number(f, timeout)),
            memory=to_megabytes(self._number(f, memory)),
            env=environment,
        )

    def name(self, label: str) -> str:
        return f"{self.name_prefix}{label}" if self.name_prefix else label

    def _number(self, f: TerraformFile, attr: hcl.HclAttribute | None) -> float | str | None:
        found = self.attr_value(f, attr)
        if found is None:
            return None
        try:
            number = float(found.text)
        except ValueError:
            return found.text
        return int(number) if number.is_integer() else number

    # Code -----------------------------------------------------------------------------

    def _function_code(
        self, f: TerraformFile, what: str, platform: PlatformName, block: hcl.HclBlock
    ) -> _Code:
        attrs = block.attributes
        if platform == "yandex":
            artifact = _attr(block.block("content"), "zip_filename")
            package = block.block("package")
            bucket = _attr(package, "bucket_name")
            key = _attr(package, "object_name")
            hashes = [attrs.get("user_hash")]
        else:
            artifact = attrs.get("filename")
            bucket = attrs.get("s3_bucket")
            key = attrs.get("s3_key")
            hashes = [attrs.get("source_code_hash")]
        self.need(_ARCHIVES)
        for attr in [artifact, key, *hashes]:
            ref = _ARCHIVE_REF.search(f.source(attr))
            if ref is not None:
                archive = self.archives.get((ref.group(1) or "") + ref.group(2))
                if archive is not None:
                    return self._archive_code(*archive)
        if artifact is not None:
            return self._artifact_code(f, what, artifact)
        if bucket is not None or key is not None:
            return self._bucket_code(f, what, bucket, key)
        return _Code()

    def _artifact_code(self, f: TerraformFile, what: str, attr: hcl.HclAttribute) -> _Code:
        """`filename`/`zip_filename`: an archive_file's output, or a zip on disk (or not yet)."""
        found = self.value(f, attr.expr)
        span = f.span(attr.start, attr.end)
        if found is None:
            return _unknown_code(f.path, span, f"The code of {what}", _expression(f, attr))
        path = self.path(found.text)
        for archive_file, block in self.archives.values():
            output = self.attr_value(archive_file, block.attributes.get("output_path"))
            if output is not None and self.path(output.text) == path:
                return self._archive_code(archive_file, block)
        if probes.isdir(path):
            return _Code(path, found.path, found.span)
        shown = os.path.relpath(path, self.dir)
        if not probes.exists(path):
            return _Code(
                packed=PackedCode(shown),
                problems=[
                    unresolved(
                        f.path,
                        span,
                        f"The code of {what} is the archive {shown}, which is not there yet (a "
                        "build step makes it), so HandlerLens does not check its entry point; "
                        "build the archive, or declare it with an archive_file, to have it "
                        "checked.",
                    )
                ],
            )
        names = zip_names(path)
        if names is None:
            return _unknown_code(
                f.path, span, f"The code of {what}", f"{shown} (not a zip archive it can read)"
            )
        return _Code(packed=PackedCode(shown, names))

    def _bucket_code(
        self,
        f: TerraformFile,
        what: str,
        bucket: hcl.HclAttribute | None,
        key: hcl.HclAttribute | None,
    ) -> _Code:
        """Code in a bucket: followed to the archive a bucket object of this module uploads."""
        self.need(_OBJECTS)
        uploaded = self._bucket_object(f, key)
        if uploaded is not None:
            object_file, block = uploaded
            source = block.attributes.get("source")
            ref = _ARCHIVE_REF.search(object_file.source(source))
            if ref is not None and (ref.group(1) or "") + ref.group(2) in self.archives:
                return self._archive_code(*self.archives[(ref.group(1) or "") + ref.group(2)])
            if source is not None:
                via = f"{what} (uploaded by {block.labels[0]}.{block.labels[1]})"
                return self._artifact_code(object_file, via, source)
        at = bucket if bucket is not None else key
        assert at is not None
        return _Code(
            skip=True,
            problems=[
                unresolved(
                    f.path,
                    f.span(at.start, at.end),
                    f"The code of {what} is deployed from a bucket, not from this "
                    "workspace, so HandlerLens cannot check or run it; deploy it from a local "
                    "archive_file to have it checked.",
                )
            ],
        )

    def _bucket_object(
        self, f: TerraformFile, key: hcl.HclAttribute | None
    ) -> tuple[TerraformFile, hcl.HclBlock] | None:
        ref = _OBJECT_REF.search(f.source(key))
        if ref is not None:
            return self.objects.get((ref.group(1), ref.group(2)))
        wanted = self.attr_value(f, key)
        if wanted is None:
            return None
        for object_file, block in self.objects.values():
            own = self.attr_value(object_file, block.attributes.get("key"))
            if own is None:
                own = self.attr_value(object_file, block.attributes.get("object_name"))
            if own is not None and own.text == wanted.text:
                return object_file, block
        return None

    def _archive_code(self, f: TerraformFile, block: hcl.HclBlock) -> _Code:
        """An archive_file: its source_dir/source_file folder, or its inline sources."""
        what = ("data." if block.type == "data" else "") + "archive_file." + block.labels[1]
        sources = [b for b in block.blocks if b.type == "source"]
        if sources:
            return self._inline_code(f, what, sources)
        for key, is_file in (("source_dir", False), ("source_file", True)):
            attr = block.attributes.get(key)
            if attr is None:
                continue
            located = self._code_path(f, attr, attr.expr, f"The {key} of {what}")
            if isinstance(located, _Code):
                return located
            found, path = located
            code = _Code(os.path.dirname(path) if is_file else path, found.path, found.span)
            if is_file:
                code.single = os.path.basename(path)
                code.single_label = f"{what} (its source_file, {code.single}, alone)"
            return code
        return _Code()

    def _inline_code(self, f: TerraformFile, what: str, sources: list[hcl.HclBlock]) -> _Code:
        names: set[str] = set()
        inline: dict[str, tuple[str, str, Span]] = {}
        for source in sources:
            filename = self.attr_value(f, source.attributes.get("filename"))
            if filename is None:
                attr = source.attributes.get("filename")
                span = f.span(attr.start, attr.end) if attr else f.span(source.start, source.start)
                why = "computed by Terraform"
                return _unknown_code(f.path, span, f"The filename of a source of {what}", why)
            names.add(filename.text.lstrip("./"))
            content = source.attributes.get("content")
            text = self.attr_value(f, content)
            if content is not None and text is not None:
                at = f.span(content.start, content.end)
                inline[filename.text.lstrip("./")] = (text.text, f.path, at)
        packed = PackedCode(f"the inline sources of {what}", frozenset(names))
        return _Code(packed=packed, inline=inline)

    # Modules --------------------------------------------------------------------------

    def _module_call(
        self,
        f: TerraformFile,
        block: hcl.HclBlock,
        functions: list[_Function],
        problems: list[Problem],
    ) -> list[FunctionSpec]:
        source = _literal(block.attributes.get("source"))
        if source is None:
            return []
        label = block.labels[0]
        if _LAMBDA_MODULE.search(source):
            for name, each in self.instances(f, block, label):
                self.each = each
                try:
                    found = self._lambda_module(f, name, block, problems)
                finally:
                    self.each = None
                if found is not None:
                    functions.append(found)
            return []
        if not source.startswith(("./", "../")) or self.load is None:
            return []
        directory = os.path.normpath(os.path.join(self.dir, source))
        if directory in self.ancestry or self.depth >= MAX_MODULE_DEPTH:
            return []
        entries = self.load(directory)
        if not entries:
            return []
        bindings = {
            name: _Binding(self, f, attr)
            for name, attr in block.attributes.items()
            if name not in _META_ARGUMENTS
        }
        child = _Module(
            directory,
            entries,
            self.root_dir,
            read=self.read,
            load=self.load,
            bindings=bindings,
            name_prefix=f"{self.name_prefix}{label}.",
            depth=self.depth + 1,
            ancestry=self.ancestry,
        )
        specs, issues = child.link()
        problems += issues
        self._resolve_external(f, block, child)
        return specs

    def _lambda_module(
        self, f: TerraformFile, label: str, block: hcl.HclBlock, problems: list[Problem]
    ) -> _Function | None:
        """`module "x" { source = "terraform-aws-modules/lambda/aws" … }`: one AWS function."""
        attrs = block.attributes
        for flag in ("create", "create_function"):
            if _literal_bool(f, attrs.get(flag)) is False:
                return None
        package_type = self.attr_value(f, attrs.get("package_type"))
        if "image_uri" in attrs or (package_type is not None and package_type.text == "Image"):
            return None
        what = f"module.{label}"
        spec = self._spec(
            f,
            what,
            label,
            "aws",
            handler=attrs.get("handler"),
            handler_key="handler",
            runtime=attrs.get("runtime"),
            name=attrs.get("function_name"),
            timeout=attrs.get("timeout"),
            memory=attrs.get("memory_size"),
            env=attrs.get("environment_variables"),
            problems=problems,
        )
        if spec is None:
            return None
        if _literal_bool(f, attrs.get("create_package")) is False:
            existing = attrs.get("local_existing_package")
            if existing is not None:
                code = self._artifact_code(f, what, existing)
            elif "s3_existing_package" in attrs:
                code = self._bucket_code(f, what, attrs.get("s3_existing_package"), None)
            else:
                code = _Code()
        else:
            code = self._source_path_code(f, what, attrs.get("source_path"))
        if code.skip:
            problems += code.problems
            return None
        # The module's own triggers: event source mappings, and a function URL.
        found = []
        mappings = attrs.get("event_source_mapping")
        for _, mapping in hcl.object_items(mappings.expr) if mappings is not None else []:
            arn = dict(hcl.object_items(mapping)).get("event_source_arn")
            trigger = self._arn_trigger(f, arn) if arn is not None else None
            if trigger is not None:
                found.append(trigger)
        if _literal_bool(f, attrs.get("create_lambda_function_url")):
            found.append("function-url")
        return _Function(("module", label), spec, code, found)

    def _source_path_code(
        self, f: TerraformFile, what: str, attr: hcl.HclAttribute | None
    ) -> _Code:
        """The module's `source_path`: a path, or a list of paths or `{ path = … }` objects;
        the first entry is the code root."""
        if attr is None:
            return _Code()
        node = attr.expr
        items = hcl.tuple_items(node)
        if items is not None:
            if not items:
                return _Code()
            node = items[0]
            path_attr = dict(hcl.object_items(node)).get("path")
            if path_attr is not None:
                node = path_attr
        located = self._code_path(f, attr, node, f"The source_path of {what}")
        if isinstance(located, _Code):
            return located
        found, path = located
        root = path if probes.isdir(path) or not path.endswith(".py") else os.path.dirname(path)
        return _Code(root, found.path, found.span)


def _unknown_code(path: str, span: Span, subject: str, why: str) -> _Code:
    """Code HandlerLens cannot locate: an info that says why, and no entry-point check."""
    return _Code(
        packed=PackedCode(why),
        problems=[
            unresolved(
                path,
                span,
                f"{subject} is {why}: HandlerLens cannot resolve it without running Terraform, "
                "so the entry point is not checked.",
            )
        ],
    )


def _inline_problems(spec: FunctionSpec, code: _Code) -> list[Problem]:
    """An inline source given as a literal is the handler module itself: check it."""
    module_name, _, function = spec.entry.strip().rpartition(".")
    module_file = module_name.replace(".", "/") + ".py"
    found = code.inline.get(module_file)
    if not module_name or found is None:
        return []
    from handlerlens.core.python_module import parse_module

    text, path, span = found
    info = parse_module(text)
    if info.syntax_error is not None:
        return [
            Problem(
                path,
                span,
                Severity.ERROR,
                "entry-point-syntax-error",
                f"Entry point '{spec.entry}': the inline {module_file} has a syntax error "
                f"({info.syntax_error.message}), so the module cannot be imported.",
            )
        ]
    if function in info.bindings or info.has_module_getattr or info.star_imports:
        return []
    if spec.declared_in is None or spec.entry_span is None:
        return []
    return [
        Problem(
            spec.declared_in,
            spec.entry_span,
            Severity.ERROR,
            "entry-point-function-missing",
            f"Entry point '{spec.entry}': the inline {module_file} has no top-level '{function}'.",
        )
    ]


def _expression(f: TerraformFile, attr: hcl.HclAttribute) -> str:
    return f"`{_short(f.source(attr))}`"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _literal(attr: hcl.HclAttribute | None) -> str | None:
    string = hcl.string(attr.expr) if attr is not None else None
    return string.value if string is not None and string.literal else None


def _proxy(attrs: dict[str, hcl.HclAttribute]) -> str | None:
    """The trigger of an API Gateway Lambda proxy integration (`AWS_PROXY`): a REST API's
    (`aws_api_gateway_integration`), or an HTTP API's with payload 2.0. A v2 integration
    on payload 1.0 may be a WebSocket API's, whose event is neither: no trigger."""
    kind = _literal(attrs.get("type") or attrs.get("integration_type"))
    if kind is None or kind.upper() != "AWS_PROXY":
        return None
    if "integration_type" not in attrs:
        return "api-gateway-rest"
    return "http-api" if _literal(attrs.get("payload_format_version")) == "2.0" else None


def _api_permission(
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
        target = _lambda_target(f.source(attrs.get("uri") or attrs.get("integration_uri")))
        if target is not None:
            integrated.add(target)
        return
    if kind != "aws_lambda_permission":
        return
    if (_literal(attrs.get("principal")) or "").strip().lower() != "apigateway.amazonaws.com":
        return
    target = _lambda_target(f.source(attrs.get("function_name")))
    if target is None or "aws_apigatewayv2_api" in f.source(attrs.get("source_arn")):
        return
    permitted[target] = "api-gateway-rest"


def _to_api_gateway(f: TerraformFile, block: hcl.HclBlock) -> bool:
    """An `aws_lambda_permission` for API Gateway, not naming an HTTP/WebSocket API."""
    attrs = block.attributes
    principal = (_literal(attrs.get("principal")) or "").strip().lower()
    return principal == "apigateway.amazonaws.com" and "aws_apigatewayv2_api" not in f.source(
        attrs.get("source_arn")
    )


def _with_triggers(spec: FunctionSpec, passed: list[str]) -> FunctionSpec:
    linked = tuple(dict.fromkeys(spec.triggers + tuple(passed)))
    return replace(spec, trigger=linked[0] if linked else None, triggers=linked)


def _literal_bool(f: TerraformFile, attr: hcl.HclAttribute | None) -> bool | None:
    text = f.source(attr).strip()
    return {"false": False, "true": True}.get(text)


def _attr(block: hcl.HclBlock | None, name: str) -> hcl.HclAttribute | None:
    return block.attributes.get(name) if block is not None else None


def _referenced(expression: str, resource: str) -> str | None:
    """The label in a reference such as `yandex_function.hello.id`."""
    found = re.search(r"\b" + re.escape(resource) + r"\." + _NAME, expression)
    return found.group(1) if found else None


def _lambda_target(expression: str) -> tuple[str, str] | None:
    """The function a trigger names: `aws_lambda_function.x…` or `module.x.lambda_function_…`."""
    label = _referenced(expression, "aws_lambda_function")
    if label is not None:
        return ("aws_lambda_function", label)
    found = re.search(r"\bmodule\." + _NAME + r"\.lambda_function_", expression)
    return ("module", found.group(1)) if found else None
