"""The routes of a discovered workspace: the one reading the editor, `check` and `serve` share.

Which files are read, and how: the API Gateway specs the walk found and every Terraform file
(their `function_id`s resolved against the declared functions and `[tool.handlerlens]
function-ids`, conflicts across them); each SAM template and serverless.yml that declares a
Python function (another language's routes are not served here), read on its own, since a
template is a stack of its own and conflicts stay within it. A `function_id` nothing resolves
gets a hint saying how to map it; a mapping that names no function of the workspace is a
warning at it. Pure: texts come from the caller (the editor's open buffers, or the disk).
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.project.routes import ROUTE_FUNCTION_UNKNOWN, Route, conflicts
from handlerlens.project.routes_openapi import is_yandex_spec, yandex_spec_routes
from handlerlens.project.routes_sam import LAMBDA_URL, sam_routes
from handlerlens.project.routes_serverless import serverless_routes
from handlerlens.project.routes_terraform import (
    AWS_FUNCTIONS,
    terraform_function_labels,
    terraform_gateway_routes,
    terraform_url_routes,
)

if TYPE_CHECKING:
    from handlerlens.project.discovery import ProjectModel


@dataclass
class DeclaredRoutes:
    """The routes of a workspace, the problems in them, and the files they were read from."""

    routes: list[Route]
    problems: list[Problem]
    files: list[str]


def declared_routes(
    model: ProjectModel,
    text_of: Callable[[str], str | None],
    known: Collection[str] | None = None,
) -> DeclaredRoutes:
    """The routes of every declaring file and gateway spec `model` found, with their
    problems; `text_of` gives a file's text (None when unreadable); `known` the names a
    `function-ids` mapping may name (the declared and guessed functions; by default all of
    `model.functions`)."""
    from handlerlens.project.pyproject_config import function_ids

    declared = [spec for spec in model.functions if spec.declared_by != "heuristic"]
    if known is None:
        known = {spec.name for spec in model.functions}
    files: list[tuple[str, str]] = []
    stacks: list[tuple[str, str]] = []
    aliases: dict[str, str] = {}
    mapped: list[tuple[str, str, str, Span]] = []
    specs = set(model.gateway_specs)
    # A template or serverless.yml declaring no Python function is not read for routes, as it
    # is not for functions (another language's routes are not served here).
    declaring = {spec.declared_in for spec in declared}
    for path in [*model.config_files, *model.gateway_specs]:
        text = text_of(path)
        if text is None:
            continue
        if os.path.basename(path) == "pyproject.toml":
            for function_id, name, span in function_ids(path, text):
                aliases[function_id] = name
                mapped.append((path, function_id, name, span))
        elif path in specs or path.lower().endswith(".tf"):
            files.append((path, text))
        elif path in declaring and _may_declare_routes(text):
            stacks.append((path, text))
    # Gateway specs and Terraform: their function_ids resolve against the functions.
    routes, problems = all_routes(files, declared, aliases)
    # Templates and serverless.yml name their functions themselves and each is an API of its
    # own (conflicts are within one file): read once per text.
    for path, text in stacks:
        found, issues = _stack_routes(path, text)
        routes += found
        problems += issues
    texts = dict(files + stacks)
    problems = [
        _with_mapping_hint(p, texts.get(p.path)) if p.code == ROUTE_FUNCTION_UNKNOWN else p
        for p in problems
    ]
    for path, function_id, name, span in mapped:
        if name not in known:
            problems.append(
                Problem(
                    path,
                    span,
                    Severity.WARNING,
                    ROUTE_FUNCTION_UNKNOWN,
                    f"function-ids maps {function_id!r} to {name!r}, which is no function of "
                    "this workspace, so the routes with this function_id cannot be served; "
                    "name a declared function.",
                )
            )
    # In the order of the walk (shallower files first, then by name), each file's routes as
    # declared: the route table's order, and match()'s tie-break between two APIs' routes.
    routes.sort(key=lambda r: _walk_order(model.root, r.declared_in))
    return DeclaredRoutes(routes, problems, [path for path, _ in files + stacks])


def _walk_order(root: str, path: str) -> tuple[int, str]:
    relative = os.path.relpath(path, root) if os.path.isabs(path) else path
    return relative.count(os.sep), relative


_STACK_ROUTES: OrderedDict[tuple[str, str], tuple[list[Route], list[Problem]]] = OrderedDict()
_STACK_ROUTES_MAX = 1024


def _may_declare_routes(text: str) -> bool:
    """False for a template or serverless.yml that cannot declare a route (most of a big
    tree's are queues, schedules, buckets): SAM's `Api`/`HttpApi` events, `FunctionUrlConfig`
    and `AWS::Lambda::Url` all hold "Api" or "Url", Serverless `http`/`httpApi`/`url` events
    "http" or "url". Without parsing: a YAML parse each is most of what reading routes costs."""
    return "Api" in text or "Url" in text or "http" in text or "url" in text


def _stack_routes(path: str, text: str) -> tuple[list[Route], list[Problem]]:
    """The routes of one template or serverless.yml, and their problems (conflicts included),
    remembered by text: a save re-reads only the file that changed (a YAML parse each, a fifth
    of a big tree's rediscovery otherwise)."""
    key = (path, text)
    found = _STACK_ROUTES.get(key)
    if found is None:
        routes, problems = routes_of_file(path, text)
        found = (routes, problems + conflicts(routes))
        _STACK_ROUTES[key] = found
        if len(_STACK_ROUTES) > _STACK_ROUTES_MAX:
            _STACK_ROUTES.popitem(last=False)
    else:
        _STACK_ROUTES.move_to_end(key)
    return list(found[0]), list(found[1])


# What function-ids keys: a literal id, `yandex_function.<label>`, a template variable.
_REFERENCE = re.compile(r"^\$\{\s*(yandex_function\.[\w-]+)\.id\s*\}$|^\$\{\s*(\w+)\s*\}$")


def _with_mapping_hint(problem: Problem, text: str | None) -> Problem:
    """A `function_id` no declaration resolves: the message also says how to map it."""
    shown = "<function_id>"
    if text is not None:
        from handlerlens.core.text import LineIndex

        lines = LineIndex(text)
        start = lines.offset_of(problem.span.start.line, problem.span.start.character)
        end = lines.offset_of(problem.span.end.line, problem.span.end.character)
        found = text[start:end].strip().strip("'\"")
        if found and "\n" not in found:
            shown = found
    reference = _REFERENCE.match(shown)
    if reference is not None:
        shown = reference.group(1) or reference.group(2)
    mapping = '{ "' + shown.replace('"', '\\"') + '" = "<function name>" }'
    return replace(
        problem,
        message=f"{problem.message} Or map it to a declared function in pyproject.toml: "
        f"[tool.handlerlens] function-ids = {mapping}.",
    )


# ---------------------------------------------------------------------------------------------
# Any declaring file


def routes_of_file(
    path: str,
    text: str,
    functions: Sequence[FunctionSpec] = (),
    aliases: Mapping[str, str] | None = None,
) -> tuple[list[Route], list[Problem]]:
    """The routes one file declares (a SAM/CloudFormation template, a serverless.yml, a
    Yandex API Gateway spec, a Terraform file with a `yandex_api_gateway`) and the problems
    in them; ([], []) for any other file."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if name in ("serverless.yml", "serverless.yaml"):
        return serverless_routes(path, text)
    if name.endswith(".tf"):
        routes, problems, _ = terraform_gateway_routes(path, text, functions)
        return routes + terraform_url_routes(path, text), problems
    if not name.endswith((".yml", ".yaml", ".json", ".template")):
        return [], []
    if "AWS::Serverless::Function" in text or LAMBDA_URL in text:
        return sam_routes(path, text)
    if is_yandex_spec(text):
        return yandex_spec_routes(path, text, functions, aliases)
    return [], []


def all_routes(
    files: Iterable[tuple[str, str]],
    functions: Sequence[FunctionSpec] = (),
    aliases: Mapping[str, str] | None = None,
) -> tuple[list[Route], list[Problem]]:
    """Every route of a workspace's declaring files (`(path, text)` pairs), with the
    conflicts between them. A spec a Terraform gateway reads (`templatefile()`) is read
    through it, with its variables, not again on its own."""
    files = list(files)
    routes: list[Route] = []
    problems: list[Problem] = []
    read_by_terraform: set[str] = set()
    terraform = [(path, text) for path, text in files if path.lower().endswith(".tf")]
    # A Terraform module is a folder: a gateway may reference a function of a sibling file.
    labels: dict[str, dict[str, str]] = {}
    for path, text in terraform:
        labels.setdefault(os.path.dirname(path), {}).update(terraform_function_labels(text))
    # A Function URL may name a function of a sibling file: those only where there is one.
    for folder in {os.path.dirname(p) for p, t in terraform if "aws_lambda_function_url" in t}:
        for path, text in terraform:
            if os.path.dirname(path) == folder:
                labels[folder].update(terraform_function_labels(text, AWS_FUNCTIONS))
    for path, text in terraform:
        module = {**labels.get(os.path.dirname(path), {}), **(aliases or {})}
        found, issues, specs = terraform_gateway_routes(path, text, functions, module)
        routes += found + terraform_url_routes(path, text, module)
        problems += issues
        read_by_terraform.update(os.path.normpath(spec) for spec in specs)
    for path, text in files:
        if path.lower().endswith(".tf") or os.path.normpath(path) in read_by_terraform:
            continue
        found, issues = routes_of_file(path, text, functions, aliases)
        routes += found
        problems += issues
    return routes, problems + conflicts(routes)
