"""What a function's declaring file gives it beyond the project model, read when the runner
starts it: a SAM template's parameters resolved into its environment (`!Ref Param`, `!Sub`
with parameters), and its local layers on its `sys.path` (deploy/layers.py reads them).

`sam local` resolves the same: parameters from `--parameter-overrides`, else their `Default`,
and the pseudo parameters (SAM samcli/lib/intrinsic_resolver/intrinsics_symbol_table.py); a
variable whose value stays unknown until deploy time is not set, and a line says so.
Loaded only for a function a SAM template or Terraform declares (`invoke` of a bare entry
point never imports this).
"""

from __future__ import annotations

import re

from handlerlens.core.text import read_lenient
from handlerlens.deploy import layers
from handlerlens.platforms.runner_env import ACCOUNT, REGION
from handlerlens.runner.declared import TargetError, relative

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping
    from typing import Any

# CloudFormation's pseudo parameters that have a local value: RIE's region and account, as
# the function's ARN and AWS_REGION have them (runner_env).
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
_SUB = re.compile(r"\$\{([^}!]+)\}")


def template_parameters(declared_in: str) -> dict[str, str | None]:
    """The template's parameters: name -> its `Default` as text (None: it has none)."""
    from handlerlens.project import yaml_nodes as yn

    doc = layers.template_doc(declared_in)
    found: dict[str, str | None] = {}
    for name, node in yn.items(yn.get(doc, "Parameters")):
        default = yn.get(node, "Default")
        found[name] = yn.as_plain_text(default)
    return found


def check_overrides(specs: list[Any], overrides: Mapping[str, str]) -> None:
    """A TargetError naming the parameters no served function's template declares, with the
    ones they declare."""
    if not overrides:
        return
    templates = sorted({s.declared_in for s in specs if s.declared_by == "sam" and s.declared_in})
    if not templates:
        raise TargetError(
            "--parameter-overrides: no served function is declared in a SAM or CloudFormation "
            "template, so no parameter can be set"
        )
    known: set[str] = set()
    for template in templates:
        known |= set(template_parameters(template))
    unknown = [name for name in overrides if name not in known]
    if unknown:
        where = ", ".join(relative(t) for t in templates)
        listed = ", ".join(sorted(known)) or "none"
        names = ", ".join(f"'{n}'" for n in unknown)
        raise TargetError(
            f"--parameter-overrides: {where} declares no parameter {names} "
            f"(its parameters: {listed})"
        )


def _resolve(node: Any, values: Mapping[str, str | None]) -> tuple[str | None, str]:
    """A variable's value node as text, or (None, why it has no local value)."""
    from handlerlens.project import yaml_nodes as yn

    text = yn.as_plain_text(node)
    if text is not None:
        return text, ""
    tag = getattr(node, "tag", None)
    ref = str(node.value) if tag == "!Ref" else yn.as_str(yn.get(node, "Ref"))
    if ref is not None:
        if ref in PSEUDO:
            return PSEUDO[ref], ""
        if ref in values:
            value = values[ref]
            if value is None:
                return None, (
                    f"!Ref {ref}, a parameter with no Default: pass --parameter-overrides "
                    f"{ref}=VALUE"
                )
            return value, ""
        return None, f"!Ref {ref}, known only once deployed"
    sub = node if tag == "!Sub" else yn.get(node, "Fn::Sub")
    if sub is not None:
        return _substitute(sub, values)
    if isinstance(tag, str) and tag.startswith("!") and isinstance(node.value, str):
        return None, f"{tag} {node.value}, known only once deployed"
    return None, "a value computed at deploy time"


def _substitute(sub: Any, values: Mapping[str, str | None]) -> tuple[str | None, str]:
    """`!Sub 'text ${Name}'` or `!Sub ['text ${Name} ${Own}', {Own: value}]` as text: the
    list form's own variables first (each resolved like a variable's value), then the
    template's parameters and the pseudo parameters."""
    from handlerlens.project import yaml_nodes as yn

    own: dict[str, str | None] = {}
    parts = [] if isinstance(sub.value, str) else yn.sequence(sub)
    text = str(sub.value) if isinstance(sub.value, str) else None
    if parts:
        text = yn.as_plain_text(parts[0]) if len(parts) <= 2 else None
    if text is None:
        return None, "!Sub in a form known only once deployed"
    template: str = text
    for name, value_node in yn.items(parts[1]) if len(parts) == 2 else []:
        value, why = _resolve(value_node, values)
        if value is None:
            return None, f"!Sub's variable {name}: {why}"
        own[name] = value
    missing: list[str] = []

    def put(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        value = own[name] if name in own else PSEUDO.get(name, values.get(name))
        if value is None:
            missing.append(name)
            return match.group(0)
        return value

    result = _SUB.sub(put, template)
    if not missing:
        return result.replace("${!", "${"), ""  # `${!Literal}` is the text `${Literal}`
    return None, f"!Sub with ${{{missing[0]}}}, known only once deployed"


def sam_environment(
    declared_in: str,
    function: str,
    values: Mapping[str, str | None],
    set_later: Collection[str] = (),
) -> tuple[dict[str, str], list[str]]:
    """The function's `Environment.Variables` (Globals' first for a SAM function) with
    parameters resolved, and one line per variable left unset."""
    from handlerlens.project import yaml_nodes as yn

    doc = layers.template_doc(declared_in)
    resource = yn.get(yn.get(doc, "Resources"), function)
    kind = yn.as_str(yn.get(resource, "Type"))
    sources = [yn.get_path(resource, "Properties", "Environment", "Variables")]
    if kind == "AWS::Serverless::Function":
        sources.insert(0, yn.get_path(doc, "Globals", "Function", "Environment", "Variables"))
    env: dict[str, str] = {}
    unset: dict[str, str] = {}
    for variables in sources:
        for name, node in yn.items(variables):
            value, why = _resolve(node, values)
            if value is None:
                unset[name] = why
                env.pop(name, None)
            else:
                env[name] = value
                unset.pop(name, None)
    where = relative(declared_in)
    lines = [
        f"{where}: {function}: {name} is {why}; it is not set"
        for name, why in unset.items()
        if name not in set_later
    ]
    return env, lines


def sam_variable_names(declared_in: str, function: str) -> set[str]:
    """Every variable the template declares for the function, computed ones included (what
    `--env-vars` may set, as `sam local` allows for any declared name)."""
    from handlerlens.project import yaml_nodes as yn

    doc = layers.template_doc(declared_in)
    resource = yn.get(yn.get(doc, "Resources"), function)
    names = {
        k for k, _ in yn.items(yn.get_path(resource, "Properties", "Environment", "Variables"))
    }
    if yn.as_str(yn.get(resource, "Type")) == "AWS::Serverless::Function":
        globals_ = yn.get_path(doc, "Globals", "Function", "Environment", "Variables")
        names |= {k for k, _ in yn.items(globals_)}
    return names


def setup(
    spec: Any,
    overrides: Mapping[str, str],
    runtime: str | None,
    told: list[str],
    set_later: Collection[str] = (),
) -> tuple[dict[str, str], list[str]]:
    """(the variables the template's parameters give the function, its layers' sys.path
    entries); `told` gets the lines to say about them (each once), none about a variable in
    `set_later` (what --env-vars, --env-file or --env set anyway)."""
    declared_in = spec.declared_in
    if not declared_in or spec.declared_by not in ("sam", "serverless", "terraform"):
        return {}, []
    env: dict[str, str] = {}
    values: dict[str, str | None] = {}
    if spec.declared_by == "sam":
        text = read_lenient(declared_in)
        if text is None:
            return {}, []
        values = template_parameters(declared_in) if "Parameters" in text else {}
        values.update(overrides)
        if "Ref" in text or "Sub" in text:
            env, lines = sam_environment(declared_in, spec.name, values, set_later)
            _tell(told, lines)
    found = layers.function_layers(
        spec.declared_by,
        declared_in,
        spec.name,
        runtime,
        {k: v for k, v in values.items() if v is not None},
    )
    if found is None:
        return env, []
    _tell(
        told,
        [
            f"warning: {relative(declared_in)}: layer {layer}: {written} does not exist; "
            f"{spec.name} runs without it"
            for layer, written in found.missing
        ],
    )
    for remote in found.remote:
        _tell(
            told,
            [
                f"layer {remote} is not available locally (only layers built from a folder "
                "of the project are): what it provides cannot be imported here"
            ],
        )
    return env, found.paths


def _tell(told: list[str], lines: list[str]) -> None:
    for line in lines:
        if line not in told:
            told.append(line)


class _Declared:
    """What `setup` reads of a declared function, for one served as `name=entry`."""

    __slots__ = ("name", "declared_by", "declared_in")

    def __init__(self, name: str, declared_by: str, declared_in: str) -> None:
        self.name = name
        self.declared_by = declared_by
        self.declared_in = declared_in


def declared_by_file(path: str) -> str:
    """The declaring tool of a declaring file, by its name."""
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".tf"):
        return "terraform"
    if name.startswith("serverless."):
        return "serverless"
    if name.endswith((".yaml", ".yml", ".json", ".template")):
        text = read_lenient(path)
        if text is None:
            return "sam"
        return "sam" if "AWS::" in text else "yc-cli"  # a CI file's yc command otherwise
    return "yc-cli"


def adopt_declaration(
    fn: Any, declared_in: str, overrides: Mapping[str, str], told: list[str]
) -> None:
    """A function the editor serves as `name=entry` (runner/client.py) that a file declares
    (`serve --declared-in FILE`): what the declaration gives it beyond the variables passed
    with --env (its parameters' values, its local layers) and, for its service account, where
    it is declared (runner/yc_token.py)."""
    fn.declared_in = declared_in
    spec = _Declared(fn.function_name, declared_by_file(declared_in), declared_in)
    if overrides:
        check_overrides([spec], overrides)
    env, paths = setup(spec, overrides, fn.runtime, told)
    fn.env = {**env, **fn.env}
    fn.paths = paths
