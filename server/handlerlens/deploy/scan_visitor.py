"""What one top-level statement imports and which environment variables it reads: the walk
of its syntax tree behind scan.py (`import`/`from` with their guards — `try/except ImportError`,
`if TYPE_CHECKING:`, `__main__` blocks — `os.environ[...]`, `getenv` without a default used as
a value, names tested with `in os.environ`, star and dynamic imports)."""

from __future__ import annotations

import ast
import re
from bisect import bisect_left
from dataclasses import dataclass

# (lineno, col, end_lineno, end_col) as ast gives them, relative to a chunk.
Loc = tuple[int, int, int, int]

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_KEY_ERRORS = frozenset({"KeyError", "LookupError", "Exception", "BaseException"})
# Calls whose argument fails when it is None: a `getenv("X")` passed straight to one of them
# is a value used unguarded.
_NONE_FAILS = frozenset({"int", "float", "loads", "Decimal"})
# How os.environ and os.getenv are spelled after a plain `import os`.
OS_SPELLINGS = frozenset({"os.environ", "os.getenv", "os.environ.get"})


@dataclass(frozen=True)
class ChunkScan:
    """What one statement imports and reads, placed relative to it (scan.py places it in the
    file)."""

    imports: tuple[tuple[str, int, tuple[str, ...], Loc, bool, bool], ...]
    env_reads: tuple[tuple[str, Loc, str, str], ...]  # name, where, how, spelled via
    env_guarded: frozenset[str]
    star: bool
    dynamic: bool
    env_spellings: frozenset[str]  # what `import os as o` / `from os import environ` bind


# The words of a statement that may import or read the environment: no other is parsed.
WORDS = re.compile(r"import|environ|getenv")
# Line breaks of str.splitlines that are not ast's: a text with one is scanned unpruned.
OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
EMPTY = ChunkScan((), (), frozenset(), False, False, frozenset())


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


def _loc(node: ast.AST) -> Loc:
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0)
    end_line = getattr(node, "end_lineno", None) or line
    end_col = getattr(node, "end_col_offset", None)
    return (line, col, end_line, col if end_col is None else end_col)


class Visitor:
    """Walks statements in order, knowing whether each sits under an ImportError or KeyError
    guard or under `if TYPE_CHECKING:`."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        # The lines (1-based) where an import or an environment read can be: a statement whose
        # lines have none of the words is skipped whole (a big handler's body is mostly such
        # statements). Only for texts whose lines are ast's (split at "\n" alone).
        self.marked: list[int] | None = None
        if OTHER_BREAKS.search(text) is None:
            self.marked = [i for i, line in enumerate(text.split("\n"), 1) if WORDS.search(line)]
        self.imports: list[tuple[str, int, tuple[str, ...], Loc, bool, bool]] = []
        self.reads: list[tuple[str, Loc, str, str]] = []
        self.guarded: set[str] = set()
        self.spellings: set[str] = set()
        self.star = False
        self.dynamic = False

    def result(self) -> ChunkScan:
        if not (self.imports or self.reads or self.guarded or self.star or self.dynamic):
            # (no import at all, so no spelling either)
            return EMPTY
        return ChunkScan(
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

    def _from_loc(self, stmt: ast.ImportFrom) -> Loc:
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
