"""Terraform: `yandex_function`, `aws_lambda_function` and the `terraform-aws-modules/lambda/aws`
module, local modules, code roots and archives, and triggers.

A Terraform module is every `.tf` file of one directory, so a file is first parsed on its own
(`read_terraform`, cached by its text) and the files of a directory are then read together
(`link_module`): a function's code root may come from a `data "archive_file"` in another file,
its handler from a variable's default or from the arguments of the `module` block that calls
this directory. Values are evaluated as far as HandlerLens can without running Terraform:
literal strings, templates of them, `var.*` (bound by the calling `module` block, else the
variable's default), `local.*` and `path.module`/`path.root`/`path.cwd`.

This module links a directory's files into its functions and follows its module calls; the
parts it stands on each have their own module: which files are read and how one is parsed
(terraform_files), values (terraform_values), where code is (terraform_code), function blocks
(terraform_functions) and triggers (terraform_triggers). Its public names are the callers' API.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from functools import cached_property

from handlerlens.core.model import FunctionSpec, PackedCode
from handlerlens.core.problems import Problem
from handlerlens.project import hcl_tree as hcl
from handlerlens.project import parse_cache
from handlerlens.project.parse_cache import ParseCache
from handlerlens.project.terraform_code import inline_problems
from handlerlens.project.terraform_files import (
    FILE_TYPE,
    FUNCTION_RESOURCES,
    PARSER,
    Loader,
    Reader,
    TerraformFile,
    declares_functions,
    literal,
    matters,
    read_terraform,
)
from handlerlens.project.terraform_functions import DeclaredFunction, FunctionReader
from handlerlens.project.terraform_triggers import (
    TriggerLinks,
    api_permission,
    lambda_target,
    to_api_gateway,
    with_triggers,
)
from handlerlens.project.terraform_values import Binding

__all__ = [
    "FILE_TYPE",
    "MAX_MODULE_DEPTH",
    "PARSER",
    "Loader",
    "Reader",
    "TerraformFile",
    "declares_functions",
    "discover_terraform",
    "link_module",
    "local_module_dirs",
    "matters",
    "parse_terraform",
    "read_terraform",
]

# The registry module that declares a Lambda function (and its GitHub source).
_LAMBDA_MODULE = re.compile(
    r"^(?:registry\.terraform\.io/)?terraform-aws-modules/lambda/aws(?://.*)?$"
    r"|github\.com[/:]terraform-aws-modules/terraform-aws-lambda(?:\.git)?(?:[/?].*)?$"
)
# Arguments of a `module` block that are Terraform's, not the module's variables.
_META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
MAX_MODULE_DEPTH = 4


def parse_terraform(path: str, text: str) -> tuple[list[FunctionSpec], list[Problem]]:
    """The functions one .tf file declares, read as a module of that file alone."""
    return link_module([(path, text)], read_terraform)


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
                source = literal(block.attributes.get("source"))
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


class _Module(FunctionReader):
    """One Terraform module read as a whole: its functions with their triggers, and the
    functions of the local modules it calls (read through the call, their arguments bound)."""

    @cached_property
    def links(self) -> TriggerLinks:
        """The triggers this module keeps for its caller and those its module calls declare."""
        return TriggerLinks()

    def link(self) -> tuple[list[FunctionSpec], list[Problem]]:
        problems: list[Problem] = []
        functions: list[DeclaredFunction] = []
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
                    if kind in FUNCTION_RESOURCES:
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
                        self.links.trigger(f, kind, label, block, triggers, scheduled, rule_targets)
                        api_permission(f, kind, block.attributes, permitted, integrated)
                        if kind == "aws_lambda_permission" and to_api_gateway(f, block):
                            attr = block.attributes.get("function_name")
                            if lambda_target(f.source(attr)) is None:
                                self.links.keep_external(
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
        for target, passed in self.links.passed_triggers.items():
            triggers.setdefault(target, []).extend(passed)
        for label, passed in self.links.module_triggers.items():
            triggers.setdefault(("module", label), []).extend(passed)
            # The function a local module call declares; of several, the output the argument
            # named is not followed: none is told.
            if len(called.get(label, [])) == 1:
                (index,) = called[label]
                specs[index] = with_triggers(specs[index], passed)
        for function in functions:
            linked = tuple(dict.fromkeys(function.triggers + triggers.get(function.key, [])))
            spec = replace(function.spec, trigger=linked[0] if linked else None, triggers=linked)
            code = function.code
            problems += code.problems
            if code.packed is not None:
                spec = replace(spec, packed=code.packed)
                problems += inline_problems(spec, code)
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

    # Modules --------------------------------------------------------------------------

    def _module_call(
        self,
        f: TerraformFile,
        block: hcl.HclBlock,
        functions: list[DeclaredFunction],
        problems: list[Problem],
    ) -> list[FunctionSpec]:
        source = literal(block.attributes.get("source"))
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
            name: Binding(self, f, attr)
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
        self.links.resolve_external(f, block, child.links)
        return specs
