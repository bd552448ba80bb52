"""Terraform files: which ones are read, and one .tf file parsed into its blocks.

A directory is read only when one of its files declares a function or calls a module
(`declares_functions`), and in it only the blocks that matter are parsed (`_wanted_block`).
The small readers of attribute text that every part of the module reader shares are here too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from handlerlens.core.model import PlatformName
from handlerlens.core.problems import Problem, Span
from handlerlens.core.text import LineIndex, read_lenient
from handlerlens.project import hcl_tree as hcl
from handlerlens.project.config_problems import parse_error

FILE_TYPE = "Terraform file"
PARSER = "python-hcl2"

# Resource type → (platform, handler attribute, name attribute, timeout, memory).
FUNCTION_RESOURCES: dict[str, tuple[PlatformName, str, str, str, str]] = {
    "yandex_function": ("yandex", "entrypoint", "name", "execution_timeout", "memory"),
    "aws_lambda_function": ("aws", "handler", "function_name", "timeout", "memory_size"),
}
# Objects uploaded to a bucket: a function's `s3_key`/`object_name` can name one.
BUCKET_OBJECTS = ("aws_s3_object", "aws_s3_bucket_object", "yandex_storage_object")

NAME = r"([A-Za-z_][A-Za-z0-9_-]*)"

# The cheap pre-scan: a directory is read only when one of its files declares a function or
# calls a module; in such a directory, only files with a block that matters are parsed.
_DECLARES = re.compile(
    r'^[ \t]*(?:resource[ \t]+"?(?:aws_lambda_function|yandex_function)"?[ \t]+|module[ \t]+)',
    re.MULTILINE,
)
# Files read at once: functions, module calls and triggers.
EAGER = re.compile(
    r"^[ \t]*(?:module[ \t]|"
    r'resource[ \t]+"?(?:aws_lambda|yandex_function|aws_s3_bucket_notification'
    r"|aws_sns_topic_subscription|aws_cloudwatch_event_|aws_api_gateway_integration"
    r"|aws_apigatewayv2_integration))",
    re.MULTILINE,
)
# Files read only when a value needs them: variables, locals, archives, uploaded objects.
VARIABLES = re.compile(r'^[ \t]*variable[ \t]+"?([A-Za-z0-9_-]+)', re.MULTILINE)
LOCALS = re.compile(r"^[ \t]*locals[ \t]*\{", re.MULTILINE)
ARCHIVES = re.compile(r'^[ \t]*(?:data|resource)[ \t]+"?archive_file\b', re.MULTILINE)
OBJECTS = re.compile(
    r'^[ \t]*resource[ \t]+"?(?:' + "|".join(BUCKET_OBJECTS) + r")\b", re.MULTILINE
)
SUPPORT = (VARIABLES, LOCALS, ARCHIVES, OBJECTS)


# Top-level blocks worth parsing; the others are blanked first (see hcl_text.blank_blocks).
_WANTED_TYPES = frozenset(
    {
        *FUNCTION_RESOURCES,
        *BUCKET_OBJECTS,
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
    return EAGER.search(text) is not None or any(p.search(text) for p in SUPPORT)


def parsed_folder(folder: str, containing: str = "") -> Iterator[tuple[str, list[hcl.HclBlock]]]:
    """Each .tf file of `folder`, in name order, whose text holds `containing`: its text and
    its blocks. A file that cannot be read or parsed is passed over (`check` says why)."""
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".tf"):
            continue
        text = read_lenient(os.path.join(folder, name))
        if text is None or containing not in text:
            continue
        try:
            blocks = hcl.parse_hcl(text)
        except hcl.HclError:
            continue
        yield text, blocks


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


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def literal(attr: hcl.HclAttribute | None) -> str | None:
    string = hcl.string(attr.expr) if attr is not None else None
    return string.value if string is not None and string.literal else None


def literal_bool(f: TerraformFile, attr: hcl.HclAttribute | None) -> bool | None:
    text = f.source(attr).strip()
    return {"false": False, "true": True}.get(text)


def attr_in(block: hcl.HclBlock | None, name: str) -> hcl.HclAttribute | None:
    return block.attributes.get(name) if block is not None else None
