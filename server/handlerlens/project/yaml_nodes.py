"""YAML (and JSON) declaring files as PyYAML node graphs, with exact value positions.

`yaml.compose` stops before construction, so CloudFormation's custom tags (`!Ref`, `!Sub`,
`!GetAtt`, …) are just tags on nodes and never break parsing, and every node keeps its marks.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from handlerlens.core.problems import Problem, Span
from handlerlens.core.text import LineIndex
from handlerlens.project.config_problems import parse_error

# libyaml is ~10x faster; its marks count code points like the pure-Python loader's.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

STR_TAG = "tag:yaml.org,2002:str"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_PLAIN_VALUE_TAGS = (STR_TAG, *_NUMBER_TAGS, "tag:yaml.org,2002:bool")
# A node's anchor and tag (`&h`, `!Sub`, `!!str`), each with the blanks and comments after it.
_PROPERTIES = re.compile(r"(?:[&!]\S*(?:\s|#.*)*)*")


# A document marker at the start of a line: a stream that may hold several documents, which
# composing one document refuses ("but found another document") and raw parsing allows.
_DOCUMENT_MARKER = re.compile(r"^(?:---|\.\.\.)", re.MULTILINE)


def _raw_parse(text: str) -> None:
    """Parse without building anything (libyaml's event loop, ~8x faster than composing);
    raises what composing raises for a syntax error, at the same mark."""
    parser = _C_PARSER if hasattr(_C_PARSER, "raw_parse") else None
    if parser is None or _DOCUMENT_MARKER.search(text):
        yaml.compose(text, Loader=_LOADER)
        return
    parser(text).raw_parse()


# libyaml's parser (PyYAML's `yaml.cyaml`, absent without libyaml).
_C_PARSER: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)


def parse(
    path: str, text: str, file_type: str, *, syntax_only: bool = False
) -> tuple[yaml.Node | None, list[Problem]]:
    """Compose one document; a parse failure becomes one `config-parse-error` problem.
    `syntax_only`: only whether it parses (the node is then None either way)."""
    if path.lower().endswith(".json"):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            span = LineIndex(text).span(exc.pos, exc.pos)
            return None, [parse_error(path, span, file_type, exc.msg)]
        except (ValueError, RecursionError) as exc:
            return None, [parse_error(path, Span.of(0, 0), file_type, str(exc))]
        # Valid JSON is YAML once tabs (legal JSON whitespace, never inside JSON strings)
        # become spaces; the replacement keeps every offset.
        text = text.replace("\t", " ")
    try:
        if syntax_only:
            _raw_parse(text)
            return None, []
        return yaml.compose(text, Loader=_LOADER), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        offset = mark.index if mark is not None else 0
        detail = exc.problem or exc.context or str(exc)
        span = LineIndex(text).span(offset, offset)
        return None, [parse_error(path, span, file_type, detail)]
    except yaml.reader.ReaderError as exc:
        span = LineIndex(text).span(exc.position, exc.position)
        return None, [parse_error(path, span, file_type, exc.reason)]
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        return None, [parse_error(path, Span.of(0, 0), file_type, str(exc))]


def get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value under `key` in a mapping node (the last one, as YAML loaders keep)."""
    found = None
    for key_node, value_node in pairs(node):
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found = value_node
    return found


def first(*nodes: yaml.Node | None) -> yaml.Node | None:
    """The first node that is present (a function's own value before the provider's)."""
    return next((node for node in nodes if node is not None), None)


def get_path(node: yaml.Node | None, *keys: str) -> yaml.Node | None:
    """Follow mapping keys down; None as soon as one is missing."""
    for key in keys:
        node = get(node, key)
    return node


def pairs(node: yaml.Node | None) -> list[tuple[yaml.Node, yaml.Node]]:
    """The key/value node pairs of a mapping node; [] for anything else."""
    if isinstance(node, yaml.MappingNode):
        return [(k, v) for k, v in node.value]
    return []


def items(node: yaml.Node | None) -> list[tuple[str, yaml.Node]]:
    """String-keyed entries of a mapping node."""
    return [(k.value, v) for k, v in pairs(node) if isinstance(k, yaml.ScalarNode)]


def sequence(node: yaml.Node | None) -> list[yaml.Node]:
    """The elements of a sequence node; [] for anything else."""
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def as_str(node: yaml.Node | None) -> str | None:
    """A literal string scalar; None for intrinsics (`!Ref x`), numbers, maps, absence."""
    if isinstance(node, yaml.ScalarNode) and node.tag == STR_TAG:
        return str(node.value)
    return None


def as_number(node: yaml.Node | None) -> float | None:
    """A literal number (or a numeric string, as CloudFormation accepts); else None."""
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (*_NUMBER_TAGS, STR_TAG):
        return None
    try:
        return float(str(node.value).replace("_", ""))
    except ValueError:
        return None


def as_plain_text(node: yaml.Node | None) -> str | None:
    """A literal string, number or boolean as its source text (environment values)."""
    if isinstance(node, yaml.ScalarNode) and node.tag in _PLAIN_VALUE_TAGS:
        return str(node.value)
    return None


def env_map(node: yaml.Node | None) -> dict[str, str]:
    """A mapping of literal values; entries whose value is computed are left out."""
    env: dict[str, str] = {}
    for key, value in items(node):
        text = as_plain_text(value)
        if text is not None:
            env[key] = text
    return env


def value_span(node: yaml.Node, lines: LineIndex) -> Span:
    """The span of a scalar's own text, so replacing it keeps the YAML intact.

    It starts after the node's anchor and tag (`&h`, `!Sub`), lies inside the quotes of a
    quoted scalar, and for a block scalar (`|`, `>-`) covers the content after its header line.
    """
    text, start, end = lines.text, node.start_mark.index, node.end_mark.index
    properties = _PROPERTIES.match(text, start, end)
    if properties is not None:
        start = properties.end()
    style = getattr(node, "style", None)
    if style in ('"', "'") and text.startswith(style, start) and end - start >= 2:
        return lines.span(start + 1, end - 1)
    if style in ("|", ">") and start < end:
        header_end = start + len(text[start:end].splitlines()[0])
        content = text[header_end:end]
        first = header_end + len(content) - len(content.lstrip())
        last = header_end + len(content.rstrip())
        # An empty block scalar has no content to point at: point at its header.
        return lines.span(first, last) if first < last else lines.span(start, header_end)
    return lines.span(start, end)


def node_span(node: yaml.Node, lines: LineIndex) -> Span:
    """The span of a whole node, tag and quotes included."""
    return lines.span(node.start_mark.index, node.end_mark.index)


def key_span(mapping: yaml.Node | None, key: str, lines: LineIndex) -> Span | None:
    """The span of a key's own text in a mapping node."""
    for key_node, _ in pairs(mapping):
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_span(key_node, lines)
    return None
