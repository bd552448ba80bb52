"""Terraform values: what an expression of a module evaluates to without running Terraform.

Literal strings, templates of them, `var.*` (bound by the calling `module` block, else
terraform.tfvars/*.auto.tfvars of the root module, else the variable's default), `local.*`,
`each.*` of a `for_each` instance and `path.module`/`path.root`/`path.cwd`. Files that only
declare variables, locals, archives or uploaded objects are parsed when a value needs them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from handlerlens.core.problems import Span
from handlerlens.core.text import LineIndex
from handlerlens.project import hcl_tree as hcl
from handlerlens.project import probes
from handlerlens.project.terraform_files import (
    BUCKET_OBJECTS,
    EAGER,
    LOCALS,
    SUPPORT,
    VARIABLES,
    Loader,
    Reader,
    TerraformFile,
    declares_functions,
)


@dataclass(frozen=True)
class Value:
    """An evaluated value; `path`/`span` locate the literal it is verbatim from, if any."""

    text: str
    path: str | None = None
    span: Span | None = None
    default_of: str | None = None  # `var.x` when that variable's default supplied it
    verbatim: bool = False  # the literal string at `span` is the value itself


@dataclass(frozen=True)
class Binding:
    """A `module` block argument: evaluated in the calling module."""

    module: ModuleScope
    file: TerraformFile
    attr: hcl.HclAttribute


class ModuleScope:
    """One module's files, variables, locals, archives and uploaded objects, and the values
    of its expressions."""

    def __init__(
        self,
        directory: str,
        entries: list[tuple[str, str]],
        root_dir: str,
        *,
        read: Reader,
        load: Loader | None,
        bindings: dict[str, Binding] | None = None,
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
        self.each: tuple[str, Value | None] | None = None
        # Files parsed only when a value needs what they declare (variables.tf, …).
        self.pending: list[tuple[str, str]] = []
        for path, text in entries:
            if declares_functions(text) or EAGER.search(text):
                self._add(read(path, text))
            elif any(p.search(text) for p in SUPPORT):
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
                if block.labels[0] in BUCKET_OBJECTS:
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

    def value(self, f: TerraformFile, expr: hcl.Node, depth: int = 0) -> Value | None:
        """What an expression evaluates to, when HandlerLens can tell without Terraform."""
        if depth > 8:
            return None
        string = hcl.string(expr)
        if string is not None:
            span = f.span(string.inner_start, string.inner_end)
            if string.literal:
                return Value(string.value, f.path, span, verbatim=True)
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
            return Value("".join(chunks), f.path, span)
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
                    self.need(VARIABLES, name)
                file, default = self.variables.get(name, (None, None))
                if file is None or default is None:
                    return None
                found = self.value(file, default.expr, depth + 1)
                return replace(found, default_of=f"var.{name}") if found is not None else None
            if kind == "local" and name not in self.locals:
                self.need(LOCALS)
            if kind == "local" and name in self.locals:
                file, attr = self.locals[name]
                return self.value(file, attr.expr, depth + 1)
            if kind == "each" and self.each is not None:
                return Value(self.each[0]) if name == "key" else self.each[1]
            if kind == "path" and name == "module":
                return Value(self.dir)
            if kind == "path" and name in ("root", "cwd"):
                # The root module's directory when Terraform runs there, the common case.
                return Value(self.root_dir)
            return None
        number = hcl.number(expr)
        if number is not None:
            return Value(f"{number:g}")
        heredoc = hcl.heredoc(expr)
        if heredoc is not None:
            return Value(heredoc.value)
        return None

    def path(self, value: str) -> str:
        """A file path as Terraform reads it: relative to the directory it runs in (the root
        module's), which is why modules write `${path.module}/…`."""
        return os.path.normpath(os.path.join(self.root_dir, os.path.expanduser(value)))

    def attr_value(self, f: TerraformFile, attr: hcl.HclAttribute | None) -> Value | None:
        return self.value(f, attr.expr) if attr is not None else None

    def instances(
        self, f: TerraformFile, block: hcl.HclBlock, label: str
    ) -> list[tuple[str, tuple[str, Value | None] | None]]:
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
    ) -> dict[str, Value | None] | None:
        """The keys (and values) of a `for_each` the text settles: `toset([...])` of strings, or
        an object (`tomap({...})`), here or in a local or a variable's default."""
        if depth > 8:
            return None
        names = hcl.traversal(expr)
        if names is not None and len(names) == 2 and names[0] in ("local", "var"):
            kind, name = names
            if kind == "local":
                if name not in self.locals:
                    self.need(LOCALS)
                found = self.locals.get(name)
                return self._for_each_keys(found[0], found[1].expr, depth + 1) if found else None
            if name in self.bindings or name in self.tfvars():
                return None
            if name not in self.variables:
                self.need(VARIABLES, name)
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
                keys: dict[str, Value | None] = {}
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
