"""Terraform (HCL2) files as blocks and attributes that keep their source offsets.

python-hcl2's own dict output drops positions, so this reads the Lark parse tree it
builds (`hcl2.parses_to_tree`, with propagated positions) directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import hcl2
from lark import Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken

Node = Tree[Token] | Token


class HclError(Exception):
    """The text is not HCL2; `offset` is where the parser gave up."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


@dataclass(frozen=True)
class HclString:
    """A quoted string: `inner_start`/`inner_end` bound its source text inside the quotes."""

    value: str
    inner_start: int
    inner_end: int
    literal: bool  # no `${…}` or `%{…}` inside


@dataclass
class HclAttribute:
    """`name = expression`; `start`/`end` bound the expression's source."""

    name: str
    expr: Node
    start: int
    end: int
    name_start: int


@dataclass
class HclBlock:
    """`type "label" … { body }`."""

    type: str
    labels: list[str]
    start: int
    attributes: dict[str, HclAttribute] = field(default_factory=dict)
    blocks: list[HclBlock] = field(default_factory=list)

    def block(self, block_type: str) -> HclBlock | None:
        """The first nested block of a type."""
        return next((b for b in self.blocks if b.type == block_type), None)


def parse_hcl(text: str, keep: Callable[[str], bool] | None = None) -> list[HclBlock]:
    """The top-level blocks of an HCL2 document; raises HclError on a syntax error.

    With `keep`, only the top-level blocks whose header (`resource "aws_lambda_function" "x"`)
    it accepts are parsed; the text is parsed whole when that fails, so a syntax error is
    always found where the parser finds it in the whole file.
    """
    if keep is not None:
        pruned = blank_blocks(text, keep)
        if pruned is not text:
            try:
                return parse_hcl(pruned)
            except HclError:
                pass
    try:
        tree = hcl2.parses_to_tree(normalise_heredocs(text))
    except UnexpectedInput as exc:
        offset = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
        raise HclError(min(max(offset, 0), len(text)), _describe(exc)) from None
    body = _child(tree, "body")
    return _body(body)[1] if body is not None else []


_HEREDOC_OPEN = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\r?\n")


def parse_attributes(text: str) -> dict[str, HclAttribute]:
    """The top-level `name = value` pairs of an HCL2 document (a `.tfvars` file)."""
    try:
        tree = hcl2.parses_to_tree(normalise_heredocs(text))
    except UnexpectedInput as exc:
        offset = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
        raise HclError(min(max(offset, 0), len(text)), _describe(exc)) from None
    body = _child(tree, "body")
    return _body(body)[0] if body is not None else {}


def normalise_heredocs(text: str) -> str:
    """`text` with each heredoc's closing line in the form python-hcl2 accepts.

    Terraform ends a heredoc at the first line that is its marker once trimmed of spaces and
    tabs; python-hcl2 allows only leading ones (its issue #343), so a closing `EOF  ` loses
    the whole file. Trailing blanks of such a line move in front of the marker: the text keeps
    its length, so every offset, line and column stays where it was.
    """
    if "<<" not in text:
        return text
    out: list[str] = []
    done = 0
    search_from = 0
    while True:
        opened = _HEREDOC_OPEN.search(text, search_from)
        if opened is None:
            break
        marker = opened.group(1)
        line_start = opened.end()
        search_from = len(text)
        while line_start < len(text):
            newline = text.find("\n", line_start)
            line_end = len(text) if newline < 0 else newline
            line = text[line_start:line_end]
            body = line[:-1] if line.endswith("\r") else line
            if body.strip(" \t") == marker:
                trailing = body[len(body.rstrip(" \t")) :]
                if trailing:
                    out.append(text[done:line_start])
                    out.append(trailing + body.rstrip(" \t") + line[len(body) :])
                    done = line_end
                search_from = line_end
                break
            line_start = line_end + 1
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def blank_blocks(text: str, keep: Callable[[str], bool]) -> str:
    """`text` with every top-level block whose header `keep` refuses turned into blanks.

    The parser's time grows with the text, and most blocks of a real .tf file (IAM policies,
    API Gateway, buckets) say nothing about functions. Blanking (every character but line
    breaks becomes a space, inside one block comment) keeps each remaining block at its
    offset, line and column. A text this scanner does not follow comes back unchanged, to be
    parsed whole.
    """
    out: list[str] = []
    done = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n\ufeff":
            i += 1
            continue
        if ch == "#" or text.startswith("//", i):
            i = _line_end(text, i)
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                return text
            i = close + 2
            continue
        start = i
        while i < n and text[i] not in "{=\n":
            if text[i] == '"':
                i = _after_string(text, i + 1)
            else:
                i += 1
        if i >= n or text[i] != "{":
            return text
        end = _after_braces(text, i + 1)
        if end is None:
            return text
        if not keep(text[start:i]):
            out.append(text[done:start])
            out.append(_blank(text[start:end]))
            done = end
        i = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


_BLANK = re.compile(r"[^\r\n]")


def _blank(block: str) -> str:
    """A block's text as one `/* … */` comment of the same length and line breaks: the lexer
    reads it as a single token, where blanks alone cost one line-break token (and one
    skipped run of spaces) per line: ~15% of the parse of serverless-patterns' .tf files."""
    blank = _BLANK.sub(" ", block)
    close = blank.rfind("  ")  # the comment's end takes two blanks that are not line breaks
    if close < 2 or not blank.startswith("  "):
        return blank
    return "/*" + blank[2:close] + "*/" + blank[close + 2 :]


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _after_string(text: str, i: int) -> int:
    """The index after the closing quote of a string whose body starts at `i`."""
    n = len(text)
    while True:
        # Jump to the next character that can matter (the scan runs over every .tf file).
        stop = _STRING_STOP.search(text, i)
        if stop is None:
            return n
        i = stop.start()
        ch = text[i]
        if ch == "\\":
            i += 2
        elif ch == '"':
            return i + 1
        elif ch == "\n":
            return i  # strings do not span lines: let the parser say so
        elif text.startswith(("$${", "%%{"), i):
            i += 3
        elif text.startswith(("${", "%{"), i):
            end = _after_braces(text, i + 2)
            if end is None:
                return n
            i = end
        else:
            i += 1


_STRING_STOP = re.compile(r'[\\"\n$%]')
_BRACES_STOP = re.compile(r'["#/<{}]')


def _after_braces(text: str, i: int) -> int | None:
    """The index after the `}` that closes a brace opened just before `i`; None if none."""
    depth = 1
    while True:
        stop = _BRACES_STOP.search(text, i)
        if stop is None:
            return None
        i = stop.start()
        ch = text[i]
        if ch == '"':
            i = _after_string(text, i + 1)
            continue
        if ch == "#" or text.startswith("//", i):
            i = _line_end(text, i)
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                return None
            i = close + 2
            continue
        if ch == "<" and text.startswith("<<", i):
            opened = _HEREDOC_OPEN.match(text, i)
            if opened is not None:
                i = _after_heredoc(text, opened.end(), opened.group(1))
                continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1


def _after_heredoc(text: str, i: int, marker: str) -> int:
    """The index of the line break ending a heredoc whose first line starts at `i`."""
    n = len(text)
    while i < n:
        end = _line_end(text, i)
        if text[i:end].strip(" \t\r") == marker:
            return end
        i = end + 1
    return n


def _describe(exc: UnexpectedInput) -> str:
    if isinstance(exc, UnexpectedToken):
        if exc.token.type == "$END":
            return "unexpected end of file"
        shown = str(exc.token.value).strip().splitlines()
        return f"unexpected '{shown[0][:30] if shown else exc.token.value}'"
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "syntax error"


def _child(tree: Node, name: str) -> Tree[Token] | None:
    if isinstance(tree, Tree):
        for child in tree.children:
            if isinstance(child, Tree) and child.data == name:
                return child
    return None


def _body(body: Tree[Token]) -> tuple[dict[str, HclAttribute], list[HclBlock]]:
    attributes: dict[str, HclAttribute] = {}
    blocks: list[HclBlock] = []
    for child in body.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            name_node, expr = child.children[0], child.children[-1]
            start, end = span_of(expr)
            attributes[_name(name_node)] = HclAttribute(
                _name(name_node), expr, start, end, span_of(name_node)[0]
            )
        elif child.data == "block":
            blocks.append(_block(child))
    return attributes, blocks


def _block(tree: Tree[Token]) -> HclBlock:
    parts = [c for c in tree.children if isinstance(c, Tree)]
    labels = []
    for part in parts[1:]:
        if part.data == "string":
            string = _string(part)
            labels.append(string.value if string else "")
        elif part.data in ("identifier", "keyword", "literal_value"):
            labels.append(_name(part))
    block = HclBlock(_name(parts[0]), labels, span_of(tree)[0])
    body = _child(tree, "body")
    if body is not None:
        block.attributes, block.blocks = _body(body)
    return block


def _name(node: Node) -> str:
    if isinstance(node, Token):
        return str(node.value)
    tokens = [t for t in node.scan_values(lambda v: isinstance(v, Token))]
    return str(tokens[0].value) if tokens else ""


def span_of(node: Node) -> tuple[int, int]:
    """Start and end offsets of a node's source."""
    if isinstance(node, Token):
        start = node.start_pos or 0
        return start, node.end_pos if node.end_pos is not None else start
    meta = node.meta
    if getattr(meta, "empty", True):
        return 0, 0
    return meta.start_pos, meta.end_pos


def _unwrap(expr: Node) -> Node:
    # `expr_term` wraps every term; parentheses add another level.
    while isinstance(expr, Tree) and expr.data == "expr_term" and len(expr.children) == 1:
        expr = expr.children[0]
    return expr


def string(expr: Node) -> HclString | None:
    """A quoted string expression, literal or template; None for anything else."""
    node = _unwrap(expr)
    return _string(node) if isinstance(node, Tree) and node.data == "string" else None


def _string(tree: Tree[Token]) -> HclString | None:
    start, end = span_of(tree)
    if end - start < 2:
        return None
    chunks: list[str] = []
    literal = True
    for part in tree.children:
        if not isinstance(part, Tree):
            continue
        inner = part.children[0] if part.children else None
        if isinstance(inner, Token) and inner.type == "STRING_CHARS":
            chunks.append(_unescape(str(inner.value)))
        elif isinstance(inner, Token):
            chunks.append(str(inner.value)[1:])  # `$${` / `%%{` escapes
        else:
            literal = False
    return HclString("".join(chunks), start + 1, end - 1, literal)


def number(expr: Node) -> float | None:
    """A number literal."""
    node = _unwrap(expr)
    if isinstance(node, Tree) and node.data in ("int_lit", "float_lit") and node.children:
        try:
            return float(str(node.children[0]))
        except ValueError:
            return None
    return None


def object_items(expr: Node) -> list[tuple[str, Node]]:
    """The `key = value` pairs of an object expression whose keys are names or strings."""
    node = _unwrap(expr)
    if not (isinstance(node, Tree) and node.data == "object"):
        return []
    found = []
    for elem in node.children:
        if not (isinstance(elem, Tree) and elem.data == "object_elem"):
            continue
        key_tree, value = elem.children[0], elem.children[-1]
        key = _unwrap(key_tree.children[0]) if isinstance(key_tree, Tree) else key_tree
        if isinstance(key, Tree) and key.data == "identifier":
            found.append((_name(key), value))
        elif isinstance(key, Tree) and key.data == "string":
            text = _string(key)
            if text is not None and text.literal:
                found.append((text.value, value))
    return found


def scalar_text(expr: Node, source: str) -> str | None:
    """A literal string, number or boolean as text (environment values), else None."""
    text = string(expr)
    if text is not None:
        return text.value if text.literal else None
    node = _unwrap(expr)
    if isinstance(node, Tree) and node.data in ("int_lit", "float_lit", "literal_value"):
        start, end = span_of(node)
        value = source[start:end]
        return None if value == "null" else value
    return None


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def traversal(expr: Node) -> list[str] | None:
    """The names of a plain reference (`var.src` → ["var", "src"]), None for anything else."""
    node = _unwrap(expr)
    if isinstance(node, Tree) and node.data == "identifier":
        return [_name(node)]
    if not (isinstance(node, Tree) and node.data == "get_attr_expr_term"):
        return None
    head, *rest = node.children
    names = traversal(head)
    if names is None:
        return None
    for part in rest:
        if not (isinstance(part, Tree) and part.data == "get_attr"):
            return None
        names.append(_name(part.children[-1]))
    return names


def template_parts(expr: Node) -> list[str | Node] | None:
    """A quoted string as its literal chunks (str) and interpolated expressions (Node);
    None when `expr` is not a quoted string or holds a `%{…}` directive."""
    node = _unwrap(expr)
    if not (isinstance(node, Tree) and node.data == "string"):
        return None
    parts: list[str | Node] = []
    for part in node.children:
        if not isinstance(part, Tree):
            continue
        inner = part.children[0] if part.children else None
        if isinstance(inner, Token) and inner.type == "STRING_CHARS":
            parts.append(_unescape(str(inner.value)))
        elif isinstance(inner, Token):
            parts.append(str(inner.value)[1:])
        elif isinstance(inner, Tree) and inner.data == "interpolation":
            exprs = [c for c in inner.children if isinstance(c, Tree)]
            if len(exprs) != 1:
                return None
            parts.append(exprs[0])
        else:
            return None
    return parts


def tuple_items(expr: Node) -> list[Node] | None:
    """The elements of a `[a, b]` tuple expression, None for anything else."""
    node = _unwrap(expr)
    if not (isinstance(node, Tree) and node.data == "tuple"):
        return None
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def function_call(expr: Node) -> tuple[str, list[Node]] | None:
    """A function call's name and argument expressions (`toset([…])`), None for anything else."""
    node = _unwrap(expr)
    if not (isinstance(node, Tree) and node.data == "function_call" and node.children):
        return None
    args = next((c for c in node.children if isinstance(c, Tree) and c.data == "arguments"), None)
    items: list[Node] = (
        [c for c in args.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
        if args is not None
        else []
    )
    return _name(node.children[0]), items


@dataclass(frozen=True)
class Heredoc:
    """A heredoc's text; `start` is the offset of its first line in the source."""

    value: str
    start: int


def heredoc(expr: Node) -> Heredoc | None:
    """The text of a `<<EOF` / `<<-EOF` heredoc (the `-` form with its indentation removed)."""
    node = _unwrap(expr)
    if not (isinstance(node, Tree) and node.data in ("heredoc_template", "heredoc_template_trim")):
        return None
    token = node.children[0] if node.children else None
    if not isinstance(token, Token):
        return None
    raw = str(token.value)
    first = raw.find("\n") + 1
    body = raw[first:].rstrip("\r\n")
    cut = body.rfind("\n")
    lines = body[: cut + 1] if cut >= 0 else ""
    if node.data == "heredoc_template_trim":
        rows = lines.splitlines(keepends=True)
        indents = [len(r) - len(r.lstrip(" \t")) for r in rows if r.strip()]
        lines = "".join(r[min(indents, default=0) :] if r.strip() else r for r in rows)
    return Heredoc(lines, (token.start_pos or 0) + first)
