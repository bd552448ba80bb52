"""Terraform (HCL2) files as blocks and attributes that keep their source offsets.

python-hcl2's own dict output drops positions, so this reads the Lark parse tree it
builds (`hcl2.parses_to_tree`, with propagated positions) directly.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import hcl2.parser
from hcl2.postlexer import PostLexer
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken

from handlerlens.project.hcl_text import blank_blocks, normalise_heredocs

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
    return _parse_body(text)[1]


def parse_attributes(text: str) -> dict[str, HclAttribute]:
    """The top-level `name = value` pairs of an HCL2 document (a `.tfvars` file)."""
    return _parse_body(text)[0]


def _parse_body(text: str) -> tuple[dict[str, HclAttribute], list[HclBlock]]:
    """The top-level attributes and blocks of `text`; raises HclError on a syntax error."""
    try:
        # As `hcl2.parses_to_tree`: a newline at the end (lark-parser/lark#237).
        tree = parser().parse(normalise_heredocs(text) + "\n")
    except UnexpectedInput as exc:
        offset = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
        raise HclError(min(max(offset, 0), len(text)), _describe(exc)) from None
    body = _child(tree, "body")
    return _body(body) if body is not None else ({}, [])


CACHE_NAME = "handlerlens-hcl2-lalr-py{}{}.cache"


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    """python-hcl2's LALR parser, as `hcl2.parses_to_tree` builds it, with its parse tables
    cached where any install of the same versions can use them.

    python-hcl2 has Lark cache its tables beside its grammar, but Lark's key for that cache
    holds the grammar's absolute path and the cache file's own: a cache built anywhere else
    (the VSIX is built in one place and installed in another) is never used, so a first start
    builds the tables again, 1-2 s of CPU before the first Terraform file is read (issue #21),
    and every start does where the folder is read-only. Here the key is the grammar, the
    options and the versions of Lark, python-hcl2 and Python; the tables are saved and loaded
    with Lark's own `save`/`load`. The file is in python-hcl2's folder when it is there or the
    folder can be written (scripts/package.sh builds it into the VSIX), else in the user's
    cache folder.
    """
    grammar_file = Path(hcl2.parser.__file__).with_name("hcl2.lark")
    try:
        grammar = grammar_file.read_text(encoding="utf-8")
    except OSError:
        return hcl2.parser.parser()
    if "%import" in grammar:  # a grammar importing others needs its place: hcl2's own way
        return hcl2.parser.parser()
    return build_parser(grammar, cache_file(grammar_file.parent))


def build_parser(grammar: str, cache: str) -> Lark:
    """The HCL2 parser of `grammar` with python-hcl2's options, its tables read from `cache`
    when that file was written for the same grammar and versions, else built and saved there
    (atomically: a server starting meanwhile reads the old file or the new one)."""
    import hashlib

    import lark

    key = hashlib.sha256(
        "\0".join(
            (grammar, lark.__version__, _HCL2_VERSION, sys.version.split()[0], _OPTIONS)
        ).encode()
    ).hexdigest()
    try:
        with open(cache, "rb") as handle:
            if handle.readline().rstrip(b"\n") == key.encode():
                return Lark.load(handle)
    except Exception:  # noqa: BLE001 - missing, partial or from another Lark: build anew
        pass
    built = Lark(grammar, parser="lalr", propagate_positions=True, postlex=PostLexer())
    partial = f"{cache}.{os.getpid()}.tmp"
    try:
        with open(partial, "wb") as handle:
            handle.write(key.encode() + b"\n")
            built.save(handle)
        os.replace(partial, cache)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)
    return built


# What `build_parser` passes to Lark besides the grammar, and python-hcl2's version (its
# postlexer): the rest of the cache key.
_OPTIONS = "lalr propagate_positions hcl2.postlexer.PostLexer"
_HCL2_VERSION = str(getattr(hcl2, "__version__", "unknown"))


def cache_file(beside: Path) -> str:
    """Where the parse tables are cached: `beside` the grammar when the file is there or the
    folder can be written, else the user's cache folder (`$XDG_CACHE_HOME/handlerlens`)."""
    name = CACHE_NAME.format(*sys.version_info[:2])
    if (beside / name).exists() or os.access(beside, os.W_OK):
        return str(beside / name)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "handlerlens"
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)


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
    chunks = _chunks(tree)
    literal = all(isinstance(chunk, str) for chunk in chunks)
    text = "".join(chunk for chunk in chunks if isinstance(chunk, str))
    return HclString(text, start + 1, end - 1, literal)


def _chunks(tree: Tree[Token]) -> list[str | Tree[Token] | None]:
    """A quoted string's parts: literal text (escapes undone), or a template's tree (an
    interpolation or a directive); None for an empty part."""
    chunks: list[str | Tree[Token] | None] = []
    for part in tree.children:
        if not isinstance(part, Tree):
            continue
        inner = part.children[0] if part.children else None
        if isinstance(inner, Token) and inner.type == "STRING_CHARS":
            chunks.append(_unescape(str(inner.value)))
        elif isinstance(inner, Token):
            chunks.append(str(inner.value)[1:])  # `$${` / `%%{` escapes
        else:
            chunks.append(inner)
    return chunks


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
    for chunk in _chunks(node):
        if isinstance(chunk, str):
            parts.append(chunk)
        elif chunk is not None and chunk.data == "interpolation":
            exprs = [c for c in chunk.children if isinstance(c, Tree)]
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
