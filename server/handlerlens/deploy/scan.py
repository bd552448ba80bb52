"""What one Python file imports and which environment variables it reads, from its text alone.

Parsed one top-level statement at a time (the same split as `analysis.python_module`), with a
cache per statement text: a keystroke re-parses only the statement it touched, and statements
that neither import nor read the environment are not parsed at all. In `check`, a file's scan
is kept in the parse cache by its text, so an unchanged file is not parsed on the next run.
"""

from __future__ import annotations

import ast
import re
import warnings
from bisect import bisect_left
from dataclasses import dataclass

from handlerlens.core.problems import Span
from handlerlens.core.python_module import chunk_bounds, chunk_tree
from handlerlens.core.text import LineIndex
from handlerlens.project import parse_cache

# (lineno, col, end_lineno, end_col) as ast gives them, relative to a chunk.
_Loc = tuple[int, int, int, int]

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_KEY_ERRORS = frozenset({"KeyError", "LookupError", "Exception", "BaseException"})
# Calls whose argument fails when it is None: a `getenv("X")` passed straight to one of them
# is a value used unguarded.
_NONE_FAILS = frozenset({"int", "float", "loads", "Decimal"})
# How os.environ and os.getenv are spelled after a plain `import os`.
_OS_SPELLINGS = frozenset({"os.environ", "os.getenv", "os.environ.get"})


@dataclass(frozen=True)
class ImportRef:
    """One imported module: `import a.b` → module 'a.b'; `from ..x import y` → level 2, 'x'."""

    module: str
    level: int
    names: tuple[str, ...]  # what a from-import takes (a submodule, or a name)
    span: Span
    guarded: bool  # in a `try:` whose handler catches ImportError
    # Never needed deployed: under `if TYPE_CHECKING:`, `if __name__ == "__main__":`, or the
    # `except ImportError:` fallback of another import.
    type_checking: bool


@dataclass(frozen=True)
class EnvRead:
    """A read of an environment variable whose absence raises (or yields None into a call)."""

    name: str
    span: Span  # the name's string literal
    how: str  # "subscript" or "get"


@dataclass(frozen=True)
class FileScan:
    """Imports and environment reads of one file; `parsed` False when it does not parse (then
    its imports are unknown, never guessed)."""

    parsed: bool
    imports: tuple[ImportRef, ...] = ()
    env_reads: tuple[EnvRead, ...] = ()
    env_guarded: frozenset[str] = frozenset()  # names tested with `in os.environ`
    star_import: bool = False
    dynamic_import: bool = False  # importlib.import_module / __import__


@dataclass(frozen=True)
class _ChunkScan:
    imports: tuple[tuple[str, int, tuple[str, ...], _Loc, bool, bool], ...]
    env_reads: tuple[tuple[str, _Loc, str, str], ...]  # name, where, how, spelled via
    env_guarded: frozenset[str]
    star: bool
    dynamic: bool
    env_spellings: frozenset[str]  # what `import os as o` / `from os import environ` bind


_WORDS = re.compile(r"import|environ|getenv")
# Line breaks of str.splitlines that are not ast's: a text with one is scanned unpruned.
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_chunks: dict[str, _ChunkScan | None] = {}
_CHUNK_LIMIT = 20_000
_files: dict[str, tuple[str, FileScan]] = {}
_EMPTY = _ChunkScan((), (), frozenset(), False, False, frozenset())


def scan_file(path: str, text: str) -> FileScan:
    """The scan of `text` (the current text of `path`), cached per path and text."""
    hit = _files.get(path)
    if hit is not None and hit[0] == text:
        return hit[1]
    store = parse_cache.active()
    if store is None:
        result = _scan(text)
    else:
        # By the text alone: a scan looks at nothing else.
        result = store.memo(parse_cache.key("deploy-scan", text), lambda: _scan(text), facts=False)
    _files[path] = (text, result)
    return result


def forget(path: str) -> None:
    """Drop the cached scan of `path`."""
    _files.pop(path, None)


_splits: dict[str, tuple[LineIndex, list[tuple[int, str]]]] = {}


def _split(text: str) -> tuple[LineIndex, list[tuple[int, str]]]:
    """`text`'s lines and its top-level statements (first line, text), kept for the few
    texts last split: the import scan and the older-grammar check split the same text."""
    hit = _splits.get(text)
    if hit is not None:
        return hit
    index = LineIndex(text)
    lines = index.lines
    chunks = [(a, "\n".join(lines[a:b]) + "\n") for a, b in chunk_bounds(text, lines)]
    if len(_splits) >= 32:
        _splits.pop(next(iter(_splits)))
    _splits[text] = (index, chunks)
    return index, chunks


def _scan(text: str) -> FileScan:
    index, chunks = _split(text)
    parts: list[tuple[int, _ChunkScan]] = []
    for start, chunk in chunks:
        scanned = _scan_chunk(chunk)
        if scanned is None:
            whole = _scan_chunk(text, cache=False)
            if whole is None:
                return FileScan(parsed=False)
            parts = [(0, whole)]
            break
        if scanned is not _EMPTY:
            parts.append((start, scanned))
    imports: list[ImportRef] = []
    reads: list[EnvRead] = []
    guarded: set[str] = set()
    star = dynamic = False
    spellings = set(_OS_SPELLINGS)
    for _, part in parts:
        spellings |= part.env_spellings
    for offset, part in parts:
        for module, level, names, loc, try_guard, tc in part.imports:
            imports.append(
                ImportRef(module, level, names, _span(index, loc, offset), try_guard, tc)
            )
        for name, loc, how, via in part.env_reads:
            if via in spellings:
                reads.append(EnvRead(name, _span(index, loc, offset), how))
        guarded |= part.env_guarded
        star |= part.star
        dynamic |= part.dynamic
    return FileScan(True, tuple(imports), tuple(reads), frozenset(guarded), star, dynamic)


def _span(index: LineIndex, loc: _Loc, offset: int) -> Span:
    return index.span_ast(loc[0] + offset, loc[1], loc[2] + offset, loc[3])


def _scan_chunk(text: str, cache: bool = True) -> _ChunkScan | None:
    if cache:
        hit = _chunks.get(text, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
    result: _ChunkScan | None
    if _WORDS.search(text) is None:
        result = _EMPTY
    else:
        # A handler module's statements were parsed by its validation just before.
        tree = chunk_tree(text)
        try:
            if tree is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            result = None
        else:
            visitor = _Visitor(text)
            visitor.body(tree.body, guarded=False, type_checking=False, key_guarded=False)
            result = visitor.result()
    if cache:
        if len(_chunks) >= _CHUNK_LIMIT:
            _chunks.clear()
        _chunks[text] = result
    return result


def _decorators(stmt: ast.stmt) -> list[ast.expr]:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return stmt.decorator_list
    return []


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _catches(handler: ast.ExceptHandler, names: frozenset[str]) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(_dotted(t).rpartition(".")[2] in names for t in types)


def _is_type_checking(test: ast.expr) -> bool:
    return _dotted(test).rpartition(".")[2] == "TYPE_CHECKING"


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and _dotted(test.left) == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _loc(node: ast.AST) -> _Loc:
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0)
    end_line = getattr(node, "end_lineno", None) or line
    end_col = getattr(node, "end_col_offset", None)
    return (line, col, end_line, col if end_col is None else end_col)


class _Visitor:
    """Walks statements in order, knowing whether each sits under an ImportError or KeyError
    guard or under `if TYPE_CHECKING:`."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        # The lines (1-based) where an import or an environment read can be: a statement whose
        # lines have none of the words is skipped whole (a big handler's body is mostly such
        # statements). Only for texts whose lines are ast's (split at "\n" alone).
        self.marked: list[int] | None = None
        if _OTHER_BREAKS.search(text) is None:
            self.marked = [i for i, line in enumerate(text.split("\n"), 1) if _WORDS.search(line)]
        self.imports: list[tuple[str, int, tuple[str, ...], _Loc, bool, bool]] = []
        self.reads: list[tuple[str, _Loc, str, str]] = []
        self.guarded: set[str] = set()
        self.spellings: set[str] = set()
        self.star = False
        self.dynamic = False

    def result(self) -> _ChunkScan:
        if not (self.imports or self.reads or self.guarded or self.star or self.dynamic):
            # (no import at all, so no spelling either)
            return _EMPTY
        return _ChunkScan(
            tuple(self.imports),
            tuple(self.reads),
            frozenset(self.guarded),
            self.star,
            self.dynamic,
            frozenset(self.spellings),
        )

    def body(
        self, stmts: list[ast.stmt], *, guarded: bool, type_checking: bool, key_guarded: bool
    ) -> None:
        marked = self.marked
        for stmt in stmts:
            if marked is not None:
                # (a decorator sits on the lines before its `def`)
                first = min([stmt.lineno, *(d.lineno for d in _decorators(stmt))])
                at = bisect_left(marked, first)
                if at == len(marked) or marked[at] > (stmt.end_lineno or stmt.lineno):
                    continue  # no import, environ or getenv on its lines
            self.stmt(stmt, guarded=guarded, type_checking=type_checking, key_guarded=key_guarded)

    def stmt(
        self, stmt: ast.stmt, *, guarded: bool, type_checking: bool, key_guarded: bool
    ) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                line, col = alias.lineno, alias.col_offset
                loc = (line, col, line, col + len(alias.name.encode()))
                self.imports.append((alias.name, 0, (), loc, guarded, type_checking))
                if alias.name == "os" and alias.asname:
                    self.spellings |= {
                        f"{alias.asname}.environ",
                        f"{alias.asname}.getenv",
                        f"{alias.asname}.environ.get",
                    }
            return
        if isinstance(stmt, ast.ImportFrom):
            names = tuple(a.name for a in stmt.names)
            if "*" in names:
                self.star = True
            loc = self._from_loc(stmt)
            self.imports.append((stmt.module or "", stmt.level, names, loc, guarded, type_checking))
            if stmt.module == "os" and stmt.level == 0:
                for alias in stmt.names:
                    if alias.name == "environ":
                        self.spellings.add(alias.asname or "environ")
                        self.spellings.add(f"{alias.asname or 'environ'}.get")
                    elif alias.name == "getenv":
                        self.spellings.add(alias.asname or "getenv")
            return
        if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            handlers: list[ast.ExceptHandler] = getattr(stmt, "handlers", [])
            catches_import = any(_catches(h, _IMPORT_ERRORS) for h in handlers)
            catches_key = any(_catches(h, _KEY_ERRORS) for h in handlers)
            self.body(
                getattr(stmt, "body", []),
                guarded=guarded or catches_import,
                type_checking=type_checking,
                key_guarded=key_guarded or catches_key,
            )
            for handler in handlers:
                # The fallback of `try: import x` / `except ImportError: import y` runs only
                # when the first import failed: not a module the deployment must have.
                fallback = catches_import and _catches(handler, _IMPORT_ERRORS)
                self.body(
                    handler.body,
                    guarded=guarded,
                    type_checking=type_checking or fallback,
                    key_guarded=key_guarded,
                )
            for part in (stmt.orelse, stmt.finalbody):  # type: ignore[attr-defined]
                self.body(
                    part, guarded=guarded, type_checking=type_checking, key_guarded=key_guarded
                )
            return
        if isinstance(stmt, ast.If):
            self.expr(stmt.test, key_guarded)
            # `if TYPE_CHECKING:` never runs; `if __name__ == "__main__":` not on deploy.
            tc = _is_type_checking(stmt.test) or _is_main_guard(stmt.test)
            self.body(
                stmt.body,
                guarded=guarded,
                type_checking=type_checking or tc,
                key_guarded=key_guarded,
            )
            self.body(
                stmt.orelse, guarded=guarded, type_checking=type_checking, key_guarded=key_guarded
            )
            return
        # Any other statement: its expressions, then its nested statements in order.
        for name, value in ast.iter_fields(stmt):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self.body(
                    value, guarded=guarded, type_checking=type_checking, key_guarded=key_guarded
                )
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and not isinstance(item, ast.stmt):
                        self._any(item, key_guarded)
            elif isinstance(value, ast.AST) and name != "ctx":
                self._any(value, key_guarded)

    def _any(self, node: ast.AST, key_guarded: bool) -> None:
        if isinstance(node, ast.expr):
            self.expr(node, key_guarded)
        elif isinstance(node, ast.ExceptHandler | ast.match_case):
            for child in ast.iter_child_nodes(node):
                self._any(child, key_guarded)
        else:
            for child in ast.iter_child_nodes(node):
                self._any(child, key_guarded)

    def _from_loc(self, stmt: ast.ImportFrom) -> _Loc:
        """The module name's position in `from <module> import …`."""
        row = stmt.lineno
        line = self.lines[row - 1] if row - 1 < len(self.lines) else ""
        raw = line.encode()
        match = re.search(rb"\bfrom\s+(\.*\s*[\w.]*)", raw[stmt.col_offset :])
        if match is None:
            return _loc(stmt)
        start = stmt.col_offset + match.start(1)
        end = stmt.col_offset + match.end(1)
        return (row, start, row, end)

    def expr(self, node: ast.expr, key_guarded: bool) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Load):
                via = _dotted(sub.value)
                if via.endswith("environ") and not key_guarded:
                    key = sub.slice
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        self.reads.append((key.value, _loc(key), "subscript", via))
            elif isinstance(sub, ast.Compare):
                # `"X" in os.environ` guards later reads of X in this file.
                if (
                    len(sub.ops) == 1
                    and isinstance(sub.ops[0], ast.In | ast.NotIn)
                    and isinstance(sub.left, ast.Constant)
                    and isinstance(sub.left.value, str)
                    and _dotted(sub.comparators[0]).endswith("environ")
                ):
                    self.guarded.add(sub.left.value)
            elif isinstance(sub, ast.Call):
                func = _dotted(sub.func)
                if func in ("importlib.import_module", "import_module", "__import__"):
                    self.dynamic = True
                elif func.rpartition(".")[2] in _NONE_FAILS:
                    if sub.args and isinstance(sub.args[0], ast.Call):
                        self._get_read(sub.args[0], key_guarded)
            elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Call):
                # `os.getenv("X").split(",")`: an attribute of None raises.
                self._get_read(sub.value, key_guarded)

    def _get_read(self, call: ast.Call, key_guarded: bool) -> None:
        via = _dotted(call.func)
        if key_guarded or not via.endswith(("getenv", "environ.get")):
            return
        if len(call.args) != 1 or call.keywords:
            return  # a default is given
        key = call.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            self.reads.append((key.value, _loc(key), "get", via))


_old_syntax: dict[tuple[str, tuple[int, int]], tuple[int, int, str] | None] = {}


def older_grammar_error(text: str, version: tuple[int, int]) -> tuple[Span, str] | None:
    """Where `text` (which parses on this Python) uses grammar Python `version` lacks, with the
    parser's message; `ast.parse(feature_version=…)`, one top-level statement at a time."""
    index, chunks = _split(text)
    for start, chunk in chunks:
        key = (chunk, version)
        if key in _old_syntax:
            found = _old_syntax[key]
        else:
            found = _parse_old(chunk, version)
            if len(_old_syntax) >= _CHUNK_LIMIT:
                _old_syntax.clear()
            _old_syntax[key] = found
        if found is not None:
            row, col, message = found
            line = index.line(row - 1 + start)
            width = len(re.match(r"\w*", line.encode()[col:].decode(errors="ignore")).group())  # type: ignore[union-attr]
            span = index.span_ast(row + start, col, row + start, col + max(width, 1))
            return span, message
    return None


# What `ast.parse(feature_version=…)` can reject on a Python 3.7+ runtime (CHECK_VERSION in
# CPython's Grammar/python.gram): `:=` and `/` parameters and `return *a, b` (3.8), `with (…)`
# and decorators of any expression (3.9), `match` (3.10), `except*`, `a[*b]` and `*args: *Ts`
# (3.11), type parameters and `type X =` (3.12), `except A, B:` (3.14). A statement with none
# of these is not parsed a second time.
_NEWER_SYNTAX = re.compile(
    r"""(?mx)
    :=  | \bmatch\b | \bexcept\s*\* | \bwith\s*\( | \btype\s+\w
    | (?:def|class)\s+\w+\s*\[ | /\s*[,)] | \b(?:return|yield)\s+\*
    | \[\s*\* | ,\s*\*\w[^,\]]*\] | :\s*\*\w | ^\s*@ | \bexcept\s+[\w.]+\s*,
    """
)


def _parse_old(chunk: str, version: tuple[int, int]) -> tuple[int, int, str] | None:
    if _NEWER_SYNTAX.search(chunk) is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(chunk, feature_version=version)
    except SyntaxError as exc:
        try:  # the split is at fault, not the version: only the version's errors count
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(chunk)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        row, col = exc.lineno or 1, max((exc.offset or 1) - 1, 0)
        # The parser points at the construct's last token: point at where it starts instead.
        kinds = [names for word, names in _CONSTRUCTS if word in str(exc.msg)]
        if kinds:
            tree = ast.parse(chunk)
            best: ast.AST | None = None
            for node in ast.walk(tree):
                start = getattr(node, "lineno", None)
                end = getattr(node, "end_lineno", None)
                if (
                    type(node).__name__ in kinds[0]
                    and start is not None
                    and end is not None
                    and start <= row
                    and (best is None or start >= getattr(best, "lineno", 0))
                ):
                    best = node
            if best is not None:
                row, col = getattr(best, "lineno", row), getattr(best, "col_offset", col)
        return (row, col, str(exc.msg))
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


# Words of the parser's "… only supported in Python 3.x" messages → the nodes they are about.
_CONSTRUCTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Pattern matching", frozenset({"Match"})),
    ("Exception groups", frozenset({"TryStar"})),
    ("context managers", frozenset({"With", "AsyncWith"})),
    ("Assignment expressions", frozenset({"NamedExpr"})),
    ("Type statement", frozenset({"TypeAlias"})),
    ("Type parameter", frozenset({"FunctionDef", "AsyncFunctionDef", "ClassDef"})),
)
