"""Where a Terraform function's code is: a folder, an `archive_file` (its source folder, its
single file, or its inline sources), a zip on disk, or a bucket object this module uploads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from handlerlens.core.model import FunctionSpec, PackedCode, PlatformName
from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.project import hcl_tree as hcl
from handlerlens.project import probes
from handlerlens.project.archives import zip_names
from handlerlens.project.config_problems import unresolved
from handlerlens.project.terraform_files import (
    ARCHIVES,
    BUCKET_OBJECTS,
    NAME,
    OBJECTS,
    TerraformFile,
    attr_in,
    short,
)
from handlerlens.project.terraform_values import ModuleScope, Value

_ARCHIVE_REF = re.compile(r"\b(data\.)?archive_file\." + NAME)
_OBJECT_REF = re.compile(r"\b(" + "|".join(BUCKET_OBJECTS) + r")\." + NAME)


@dataclass
class Code:
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


class CodeLocator(ModuleScope):
    """A module's reader of function code locations."""

    def _code_path(
        self, f: TerraformFile, attr: hcl.HclAttribute, node: hcl.Node, subject: str
    ) -> tuple[Value, str] | Code:
        """The value of `node` (in attribute `attr`) as a path that names code, or the Code
        that says why it cannot be located (`subject`: "The source_dir of …")."""
        span = f.span(attr.start, attr.end)
        found = self.value(f, node)
        if found is None:
            return unknown_code(f.path, span, subject, _expression(f, attr))
        path = self.path(found.text)
        if found.default_of is not None and not probes.exists(path):
            # A default that is some machine's absolute path (or a folder a build makes):
            # the real value comes with `-var` at deploy time.
            return unknown_code(
                f.path,
                span,
                subject,
                f"`{found.default_of}` (its default, {found.text}, does not exist here)",
            )
        return found, path

    def _function_code(
        self, f: TerraformFile, what: str, platform: PlatformName, block: hcl.HclBlock
    ) -> Code:
        attrs = block.attributes
        if platform == "yandex":
            artifact = attr_in(block.block("content"), "zip_filename")
            package = block.block("package")
            bucket = attr_in(package, "bucket_name")
            key = attr_in(package, "object_name")
            hashes = [attrs.get("user_hash")]
        else:
            artifact = attrs.get("filename")
            bucket = attrs.get("s3_bucket")
            key = attrs.get("s3_key")
            hashes = [attrs.get("source_code_hash")]
        self.need(ARCHIVES)
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
        return Code()

    def _artifact_code(self, f: TerraformFile, what: str, attr: hcl.HclAttribute) -> Code:
        """`filename`/`zip_filename`: an archive_file's output, or a zip on disk (or not yet)."""
        found = self.value(f, attr.expr)
        span = f.span(attr.start, attr.end)
        if found is None:
            return unknown_code(f.path, span, f"The code of {what}", _expression(f, attr))
        path = self.path(found.text)
        for archive_file, block in self.archives.values():
            output = self.attr_value(archive_file, block.attributes.get("output_path"))
            if output is not None and self.path(output.text) == path:
                return self._archive_code(archive_file, block)
        if probes.isdir(path):
            return Code(path, found.path, found.span)
        shown = os.path.relpath(path, self.dir)
        if not probes.exists(path):
            return Code(
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
            return unknown_code(
                f.path, span, f"The code of {what}", f"{shown} (not a zip archive it can read)"
            )
        return Code(packed=PackedCode(shown, names))

    def _bucket_code(
        self,
        f: TerraformFile,
        what: str,
        bucket: hcl.HclAttribute | None,
        key: hcl.HclAttribute | None,
    ) -> Code:
        """Code in a bucket: followed to the archive a bucket object of this module uploads."""
        self.need(OBJECTS)
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
        return Code(
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

    def _archive_code(self, f: TerraformFile, block: hcl.HclBlock) -> Code:
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
            if isinstance(located, Code):
                return located
            found, path = located
            code = Code(os.path.dirname(path) if is_file else path, found.path, found.span)
            if is_file:
                code.single = os.path.basename(path)
                code.single_label = f"{what} (its source_file, {code.single}, alone)"
            return code
        return Code()

    def _inline_code(self, f: TerraformFile, what: str, sources: list[hcl.HclBlock]) -> Code:
        names: set[str] = set()
        inline: dict[str, tuple[str, str, Span]] = {}
        for source in sources:
            filename = self.attr_value(f, source.attributes.get("filename"))
            if filename is None:
                attr = source.attributes.get("filename")
                span = f.span(attr.start, attr.end) if attr else f.span(source.start, source.start)
                why = "computed by Terraform"
                return unknown_code(f.path, span, f"The filename of a source of {what}", why)
            names.add(filename.text.lstrip("./"))
            content = source.attributes.get("content")
            text = self.attr_value(f, content)
            if content is not None and text is not None:
                at = f.span(content.start, content.end)
                inline[filename.text.lstrip("./")] = (text.text, f.path, at)
        packed = PackedCode(f"the inline sources of {what}", frozenset(names))
        return Code(packed=packed, inline=inline)

    def _source_path_code(self, f: TerraformFile, what: str, attr: hcl.HclAttribute | None) -> Code:
        """The module's `source_path`: a path, or a list of paths or `{ path = … }` objects;
        the first entry is the code root."""
        if attr is None:
            return Code()
        node = attr.expr
        items = hcl.tuple_items(node)
        if items is not None:
            if not items:
                return Code()
            node = items[0]
            path_attr = dict(hcl.object_items(node)).get("path")
            if path_attr is not None:
                node = path_attr
        located = self._code_path(f, attr, node, f"The source_path of {what}")
        if isinstance(located, Code):
            return located
        found, path = located
        root = path if probes.isdir(path) or not path.endswith(".py") else os.path.dirname(path)
        return Code(root, found.path, found.span)


def unknown_code(path: str, span: Span, subject: str, why: str) -> Code:
    """Code HandlerLens cannot locate: an info that says why, and no entry-point check."""
    return Code(
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


def inline_problems(spec: FunctionSpec, code: Code) -> list[Problem]:
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
    return f"`{short(f.source(attr))}`"
