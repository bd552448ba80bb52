"""What a module binds at top level, read with `ast` only (user code is never imported)."""

from __future__ import annotations

import ast
import copy
import gc
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Literal

from handlerlens.core import statements
from handlerlens.core.problems import Span
from handlerlens.core.text import LineIndex, utf16_column

BindingKind = Literal["function", "class", "lambda", "literal", "assigned", "imported"]

# Literal node types whose value can never be called.
_LITERAL_NODES = (
    ast.Constant,
    ast.Dict,
    ast.List,
    ast.Set,
    ast.Tuple,
    ast.JoinedStr,
    ast.ListComp,
    ast.DictComp,
    ast.SetComp,
)


# (id of a chunk-relative node, offset) → (that node, its copy with whole-module lines).
_absolute_nodes: dict[tuple[int, int], tuple[ast.AST, ast.AST]] = {}


@dataclass
class Binding:
    """The last top-level binding of one name."""

    name: str
    kind: BindingKind
    span: Span  # the name itself (in `def name`, `name = …`, `import … as name`)
    line_span: Span  # the whole statement's first line, for lenses
    raw_node: ast.AST  # parsed from its chunk: line numbers are `line_offset` too small
    is_async: bool = False
    decorated: bool = False
    literal_type: str = ""  # for kind == "literal": the Python type it evaluates to
    nested: bool = False  # for kind == "literal": inside a top-level `if`/`try`/`with`
    # For a nested literal: the binding before it is not a literal, or is itself rebound
    # (`try: from x import h` / `except ImportError: h = None`), so which binding is in
    # effect depends on the branch taken.
    rebound: bool = False
    line_offset: int = 0
    _absolute: ast.AST | None = field(default=None, repr=False, compare=False)

    @property
    def node(self) -> ast.AST:
        """The statement's (or value's) AST with line numbers of the whole module."""
        if self.line_offset == 0:
            return self.raw_node
        if self._absolute is None:
            # Only handlers' nodes are ever looked into, and usually again at the same offset
            # on the next keystroke: keep the few shifted copies made.
            key = (id(self.raw_node), self.line_offset)
            hit = _absolute_nodes.get(key)
            if hit is None or hit[0] is not self.raw_node:
                moved = ast.increment_lineno(copy.deepcopy(self.raw_node), self.line_offset)
                if len(_absolute_nodes) > 64:
                    _absolute_nodes.clear()
                hit = _absolute_nodes[key] = (self.raw_node, moved)
            self._absolute = hit[1]
        return self._absolute

    def shifted(self, lines: int) -> Binding:
        """The same binding `lines` further down the file."""
        if lines == 0:
            return self
        return replace(
            self,
            span=self.span.shifted(lines),
            line_span=self.line_span.shifted(lines),
            line_offset=self.line_offset + lines,
            _absolute=None,
        )


@dataclass
class SyntaxProblem:
    """A syntax error with its position."""

    message: str
    span: Span


@dataclass
class ModuleInfo:
    """Top-level bindings of a module, or the syntax error that stops it from importing."""

    bindings: dict[str, Binding] = field(default_factory=dict)
    syntax_error: SyntaxProblem | None = None
    has_module_getattr: bool = False
    star_imports: bool = False
    index: LineIndex | None = None


def _literal_type(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return "NoneType" if node.value is None else type(node.value).__name__
    return {
        ast.Dict: "dict",
        ast.List: "list",
        ast.Set: "set",
        ast.Tuple: "tuple",
        ast.JoinedStr: "str",
        ast.ListComp: "list",
        ast.DictComp: "dict",
        ast.SetComp: "set",
    }.get(type(node), "value")


def _walk_top_level(body: list[ast.stmt], nested: bool = False) -> list[tuple[ast.stmt, bool]]:
    # Definitions under top-level `if`/`try`/`with` still bind module names (a common
    # `try: import x except ImportError: …` pattern), so flatten those, in order, marking
    # them as nested.
    out: list[tuple[ast.stmt, bool]] = []
    for stmt in body:
        out.append((stmt, nested))
        if isinstance(stmt, ast.If):
            out.extend(_walk_top_level(stmt.body, True))
            out.extend(_walk_top_level(stmt.orelse, True))
        elif isinstance(stmt, ast.Try | ast.With):
            out.extend(_walk_top_level(stmt.body, True))
            for handler in getattr(stmt, "handlers", []):
                out.extend(_walk_top_level(handler.body, True))
            out.extend(_walk_top_level(getattr(stmt, "orelse", []), True))
            out.extend(_walk_top_level(getattr(stmt, "finalbody", []), True))
    return out


def _name_span_in_def(index: LineIndex, node: ast.AST, keyword: str, name: str) -> Span:
    lineno = getattr(node, "lineno", 1)
    line = index.line(lineno - 1)
    start = line.find(f"{keyword} {name}")
    if start < 0:
        return index.whole_line(lineno - 1)
    col = start + len(keyword) + 1
    return index.span_ast(
        lineno, len(line[:col].encode()), lineno, len(line[: col + len(name)].encode())
    )


_DECORATED = re.compile(r"@|def\b|async\s+def\b|class\b")
_CHUNK_CACHE_LIMIT = 20_000


@dataclass(frozen=True)
class _Chunk:
    bindings: tuple[Binding, ...]
    has_module_getattr: bool
    star_imports: bool


_chunks: dict[str, _Chunk | SyntaxError | None] = {}
# The tree of each statement parsed, by its text (kept and cleared with `_chunks`; its function
# and class nodes are the bindings' `raw_node` anyway): the deploy checks scan the same
# statements of a handler module for imports right after, and need not parse them again.
_trees: dict[str, ast.Module] = {}
# A statement that fails alone may be a split inside a construct (a string or brackets with
# column-0 lines): it is tried together with this many statements after it.
_MERGE = 3
# Errors that can come from such a split (the parser ran off the end of the text, or the
# indentation depends on what came before, e.g. after a form feed): for those the whole
# module is parsed, to be sure. A one-line string left open (`event['` while typing) is not
# among them: such a string cannot span a column-0 line, and a backslash continuation is
# caught by the merge above.
_AT_END = re.compile(r"never closed|unterminated triple|EOF|indent")
_DETECTED_AT = re.compile(r"\(detected at line (\d+)\)")


def _chunk_bounds(text: str, lines: list[str]) -> list[tuple[int, int]]:
    """Top-level statements as line ranges, a decorated one with its decorators."""
    starts = [0]
    decorators = lines[0].startswith("@") if lines else False
    for i in statements.statement_starts(text, lines):
        if i == 0:
            continue
        line = lines[i]
        if decorators and _DECORATED.match(line):
            decorators = not line.startswith(("def", "async", "class"))
            continue
        starts.append(i)
        decorators = line.startswith("@")
    return list(zip(starts, [*starts[1:], len(lines)], strict=True))


_bounds: dict[str, list[tuple[int, int]]] = {}


def chunk_bounds(text: str, lines: list[str]) -> list[tuple[int, int]]:
    """`_chunk_bounds` of `text` (split into `lines`), kept for the last few texts: the deploy
    checks split the same text right after this module's parse."""
    hit = _bounds.get(text)
    if hit is None:
        hit = _chunk_bounds(text, lines)
        if len(_bounds) >= 8:
            _bounds.pop(next(iter(_bounds)))
        _bounds[text] = hit
    return hit


def _parse_chunk(text: str) -> _Chunk | SyntaxError | None:
    hit = _chunks.get(text, False)
    if hit is not False:
        return hit  # type: ignore[return-value]
    result: _Chunk | SyntaxError | None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except SyntaxError as exc:
        # Kept without its traceback: its frames would keep the whole module text alive
        # (every version of it) through the caller's frame.
        result = exc.with_traceback(None)
    except (ValueError, RecursionError, MemoryError):
        result = None
    else:
        part = ModuleInfo()
        index = LineIndex(text)
        for stmt, nested in _walk_top_level(tree.body):
            _record(part, index, stmt, nested)
        result = _Chunk(tuple(part.bindings.values()), part.has_module_getattr, part.star_imports)
    if len(_chunks) >= _CHUNK_CACHE_LIMIT:
        _chunks.clear()
        _trees.clear()
    _chunks[text] = result
    if isinstance(result, _Chunk):
        _trees[text] = tree
    return result


def chunk_tree(text: str) -> ast.Module | None:
    """The tree of a top-level statement this module parsed (`text` as split by
    `chunk_bounds`), or None; shared: never to be changed."""
    return _trees.get(text)


def parse_module(text: str) -> ModuleInfo:
    """Parse `text` into its top-level bindings; a syntax error is reported, never raised.

    Every keystroke re-validates the module, so it is parsed one top-level statement at a
    time and unchanged statements come from a cache: an edit costs the parse of the
    statement it touches. A syntax error inside one statement is that statement's (those
    before it parsed, each complete), so a half-typed line costs no whole parse either
    (which holds the GIL for tens of milliseconds on a large module, in the way of the
    completion the user is waiting for). Anything the split cannot settle falls back to a
    whole parse.
    """
    # Parsing allocates an object per node and binding: with the cyclic collector on, a big
    # module pays for repeated full collections of everything already built (half its time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse_module(text)
    finally:
        if collecting:
            gc.enable()


def _parse_module(text: str) -> ModuleInfo:
    index = LineIndex(text)
    lines = index.lines
    bounds = chunk_bounds(text, lines)
    if len(bounds) > _CHUNK_CACHE_LIMIT:
        # More statements than the cache holds (a generated module): splitting would parse
        # every one of them again on each keystroke; one parse of the whole is cheaper.
        return _parse_whole(text, index)
    info = ModuleInfo(index=index)
    i = 0
    while i < len(bounds):
        start, end = bounds[i]
        chunk = _parse_chunk("\n".join(lines[start:end]) + "\n")
        if not isinstance(chunk, _Chunk):
            error = chunk
            for j in range(i + 1, min(i + 1 + _MERGE, len(bounds))):
                merged = _parse_chunk("\n".join(lines[start : bounds[j][1]]) + "\n")
                if isinstance(merged, _Chunk):
                    chunk, i = merged, j
                    break
            if not isinstance(chunk, _Chunk):
                # Python tokenizes the rest of the file before it reports a parser error, and
                # a tokenizer error there wins: the statements after this one must be clean.
                if (
                    isinstance(error, SyntaxError)
                    and not _AT_END.search(str(error.msg))
                    and all(
                        isinstance(_parse_chunk("\n".join(lines[a:b]) + "\n"), _Chunk)
                        for a, b in bounds[i + 1 :]
                    )
                ):
                    info.syntax_error = _syntax_problem(error, index, start)
                    return info
                return _parse_whole(text, index)
        for binding in chunk.bindings:
            _bind(info.bindings, binding.shifted(start))
        info.has_module_getattr |= chunk.has_module_getattr
        info.star_imports |= chunk.star_imports
        i += 1
    return info


def _syntax_problem(exc: SyntaxError, index: LineIndex, first_line: int = 0) -> SyntaxProblem:
    """The problem for a SyntaxError raised by a text that starts at line `first_line`."""
    lineno = (exc.lineno or 1) + first_line
    col = max((exc.offset or 1) - 1, 0)
    line = index.line(lineno - 1)
    # SyntaxError.offset counts code points from 1; point at one character.
    start = min(col, len(line))
    end = min(start + 1, len(line)) if line else start
    span = Span.of(lineno - 1, utf16_column(line, start), lineno - 1, utf16_column(line, end))
    message = str(exc.msg)
    if first_line:
        # "unterminated string literal (detected at line 3)" counts from the statement.
        message = _DETECTED_AT.sub(
            lambda m: f"(detected at line {int(m.group(1)) + first_line})", message
        )
    return SyntaxProblem(f"{message} (line {lineno})", span)


def _parse_whole(text: str, index: LineIndex) -> ModuleInfo:
    info = ModuleInfo(index=index)
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences etc. in user code are not our business.
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except SyntaxError as exc:
        info.syntax_error = _syntax_problem(exc, index)
        return info
    except (ValueError, RecursionError, MemoryError) as exc:
        # Null bytes, or nesting deeper than the parser allows.
        info.syntax_error = SyntaxProblem(f"cannot parse: {exc}", Span.of(0, 0))
        return info
    for stmt, nested in _walk_top_level(tree.body):
        _record(info, index, stmt, nested)
    return info


def _bind(bindings: dict[str, Binding], binding: Binding) -> None:
    """Make `binding` its name's binding (the last one wins), marking a literal `rebound`.

    Applied within each top-level statement and again when statements are joined. Only a
    compound statement's bindings are nested, so a nested literal its statement left
    unmarked follows only nested literals there, and the binding before the statement decides.
    """
    earlier = bindings.get(binding.name)
    if (
        earlier is not None
        and binding.kind == "literal"
        and binding.nested
        and not binding.rebound
        and (earlier.kind != "literal" or earlier.rebound)
    ):
        binding = replace(binding, rebound=True)
    bindings[binding.name] = binding


def _record(info: ModuleInfo, index: LineIndex, stmt: ast.stmt, nested: bool) -> None:
    first_line = index.whole_line(stmt.lineno - 1)
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        span = _name_span_in_def(index, stmt, "def", stmt.name)
        _bind(
            info.bindings,
            Binding(
                stmt.name,
                "function",
                span,
                first_line,
                stmt,
                is_async=isinstance(stmt, ast.AsyncFunctionDef),
                decorated=bool(stmt.decorator_list),
            ),
        )
        if stmt.name == "__getattr__":
            info.has_module_getattr = True
    elif isinstance(stmt, ast.ClassDef):
        span = _name_span_in_def(index, stmt, "class", stmt.name)
        _bind(
            info.bindings,
            Binding(
                stmt.name,
                "class",
                span,
                index.whole_line(stmt.lineno - 1),
                stmt,
                decorated=bool(stmt.decorator_list),
            ),
        )
    elif isinstance(stmt, ast.Assign | ast.AnnAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        value = stmt.value
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            span = index.span_ast(
                target.lineno, target.col_offset, target.end_lineno, target.end_col_offset
            )
            if value is None:
                continue
            if isinstance(value, ast.Lambda):
                kind: BindingKind = "lambda"
            elif isinstance(value, _LITERAL_NODES):
                kind = "literal"
            else:
                kind = "assigned"
            _bind(
                info.bindings,
                Binding(
                    target.id,
                    kind,
                    span,
                    first_line,
                    value,
                    literal_type=_literal_type(value),
                    nested=nested,
                ),
            )
    elif isinstance(stmt, ast.Import | ast.ImportFrom):
        for alias in stmt.names:
            if alias.name == "*":
                info.star_imports = True
                continue
            bound = alias.asname or alias.name.split(".")[0]
            _bind(info.bindings, Binding(bound, "imported", first_line, first_line, stmt))
