"""Which functions to serve: `main.handler`, `name=main.handler`, or names from the project."""

from __future__ import annotations

import os

from handlerlens.platforms import DEFAULT_PLATFORM, identity
from handlerlens.platforms.runner_env import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    default_memory,
    default_timeout,
)
from handlerlens.runner.declared import (
    DeclaredProject,
    by_name,
    declared_list,
    near_name,
    not_runnable,
    relative,
    served_names,
    with_parse_errors,
)
from handlerlens.runner.declared import (
    TargetError as TargetError,  # raised here too; callers import it from targets
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ServedFunction:
    """One function as the runner runs it, every setting resolved; read-only by convention.

    A plain slotted class: `invoke` cannot afford loading dataclasses or typing (NamedTuple).
    """

    __slots__ = (
        "name",
        "function_name",
        "platform",
        "entry",
        "root",
        "timeout",
        "memory",
        "env",
        "runtime",
        "trigger",
        "timeout_from",
        "declared_in",
        "paths",
    )

    def __init__(
        self,
        *,
        name: str,
        platform: str,
        entry: str,
        root: str,
        timeout: float,
        memory: int,
        env: dict[str, str],
        runtime: str | None = None,
        trigger: str | None = None,
        function_name: str | None = None,
        timeout_from: str = "",
        declared_in: str | None = None,
        paths: list[str] | None = None,
    ) -> None:
        self.name = name
        # `name` is what the runner serves it as (paths, logs, status), unique among the
        # served functions; `function_name` is its own, as the platform sees it.
        self.function_name = function_name or name
        self.platform = platform
        self.entry = entry
        self.root = root
        self.timeout = timeout
        self.memory = memory
        self.env = env
        self.runtime = runtime
        self.trigger = trigger
        # Where the timeout came from, for the log of a call that ran past it:
        # "set with --timeout", "declared in main.tf", "the default: nothing declares one".
        self.timeout_from = timeout_from
        # The file whose declaration it was read from (None: typed as an entry point).
        self.declared_in = declared_in
        # Its local layers' sys.path entries, after the code root (runner/function_setup.py).
        self.paths = paths or []

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"ServedFunction({fields})"


def entry_hint(fn: ServedFunction) -> str:
    """ " Did you mean 'main.handler'?" when the entry point itself is what failed to load
    and a correction is clear (read statically from the code root); "" otherwise."""
    try:
        from handlerlens.analysis.entry_points import suggest_entry
        from handlerlens.analysis.sources import Sources
        from handlerlens.platforms import rules_for

        near = suggest_entry(fn.entry, fn.root, rules_for(fn.platform), Sources())
    except Exception:  # a hint must never turn an init error into a crash
        return ""
    return f" Did you mean '{near}'?" if near else ""


def _looks_like_entry(target: str) -> bool:
    return "." in target or "/" in target


def _check_trigger(fn: ServedFunction, trigger: str | None) -> None:
    """A --trigger the function's platform has, or a TargetError that lists them."""
    from handlerlens.platforms.triggers import triggers_for

    if trigger is None or trigger in triggers_for(fn.platform):
        return
    import difflib

    valid = list(triggers_for(fn.platform))
    title = identity.title(fn.platform)
    other = identity.other(fn.platform)
    message = f"unknown --trigger '{trigger}' for '{fn.name}', a {title} function"
    if trigger in triggers_for(other):
        message = (
            f"--trigger '{trigger}' is an {identity.title(other)} trigger, "
            f"but '{fn.name}' runs on {title}"
        )
    near = difflib.get_close_matches(trigger, valid, n=1)
    if near:
        message += f". Did you mean '{near[0]}'?"
    raise TargetError(f"{message} ({title} triggers: {', '.join(valid)})")


TIMEOUT_OPTION = "set with --timeout"
TIMEOUT_DEFAULT = "the default: nothing declares one"


def _timeout_from(spec: Any, overrides: dict[str, Any]) -> str:
    if overrides.get("timeout"):
        return TIMEOUT_OPTION
    if spec.timeout and spec.declared_in:
        return f"declared in {relative(spec.declared_in)}"
    platform = overrides.get("platform") or spec.platform
    if default_timeout(platform, spec.declared_by) != DEFAULT_TIMEOUT_S and spec.declared_in:
        return f"the Serverless Framework's default: {relative(spec.declared_in)} declares none"
    return TIMEOUT_DEFAULT


def _env_vars(
    spec: Any,
    sections: dict[str, dict[str, str]],
    notes: list[str],
    computed: set[str] | None = None,
) -> dict[str, str]:
    """What `--env-vars` sets for `spec`: `Parameters`, then its own section, for the names it
    declares only, as `sam local` does (samcli/local/lambdafn/env_vars.py `resolve`);
    `computed`: the declared names whose values the template computes (`!Ref`, `!GetAtt`)."""
    declared = set(spec.env or {}) | (computed or set())
    found: dict[str, str] = {}
    for section in ("Parameters", spec.name):
        for key, value in (sections.get(section) or {}).items():
            if key in declared:
                found[key] = value
            elif section != "Parameters":
                notes.append(
                    f"{spec.name} declares no variable {key}: as sam local does, it is not set "
                    "(pass it with --env to set it anyway)"
                )
    return found


def _mentions(path: str | None, word: str) -> bool:
    """Whether the file at `path` has `word` in it (False when it cannot be read)."""
    if not path:
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return word in file.read()
    except OSError:
        return False


def _from_spec(
    spec: Any, overrides: dict[str, Any], name: str | None = None, notes: list[str] | None = None
) -> ServedFunction:
    platform = overrides.get("platform") or spec.platform
    declared_by = getattr(spec, "declared_by", None)
    env = dict(spec.env or {})
    paths: list[str] = []
    computed: set[str] = set()
    # Parameters and layers (SAM, Terraform); layers (Serverless: read only when it has any,
    # what reads them costs an `invoke` ~6 ms to import).
    if declared_by in ("sam", "terraform") or (
        declared_by == "serverless" and _mentions(spec.declared_in, "layers")
    ):
        from handlerlens.runner import function_setup

        runtime = overrides.get("runtime") or spec.runtime
        told = overrides["told"] if overrides.get("told") is not None else []
        parameters = overrides.get("parameters") or {}
        sections = overrides.get("env_vars") or {}
        set_later = {
            *(overrides.get("env") or {}),
            *(sections.get("Parameters") or {}),
            *(sections.get(spec.name) or {}),
        }
        extra, paths = function_setup.setup(spec, parameters, runtime, told, set_later)
        env.update(extra)
        if overrides.get("env_vars") and declared_by == "sam" and spec.declared_in:
            computed = function_setup.sam_variable_names(spec.declared_in, spec.name)
    if overrides.get("env_vars"):
        found = _env_vars(spec, overrides["env_vars"], notes if notes is not None else [], computed)
        env.update(found)
    env.update(overrides.get("env") or {})
    return ServedFunction(
        name=name or spec.name,
        function_name=spec.name,
        platform=platform,
        entry=spec.entry,
        root=os.path.abspath(spec.root),
        timeout=overrides.get("timeout") or spec.timeout or default_timeout(platform, declared_by),
        memory=overrides.get("memory") or spec.memory or default_memory(platform, declared_by),
        env=env,
        runtime=overrides.get("runtime") or spec.runtime,
        trigger=overrides.get("trigger") or spec.trigger,
        timeout_from=_timeout_from(spec, overrides),
        declared_in=os.path.abspath(spec.declared_in) if spec.declared_in else None,
        paths=paths,
    )


def resolve_targets(
    targets: list[str],
    *,
    root: str,
    platform: str | None,
    timeout: float | None = None,
    memory: int | None = None,
    env: dict[str, str] | None = None,
    trigger: str | None = None,
    single: bool = False,
    warnings: list[str] | None = None,
    env_vars: dict[str, dict[str, str]] | None = None,
    notes: list[str] | None = None,
    runtime: str | None = None,
    parameters: dict[str, str] | None = None,
    told: list[str] | None = None,
) -> list[ServedFunction]:
    """Turn command-line targets into served functions; raise TargetError with advice.

    No target means every declared function; with `single` (`invoke`), the one declared
    function, and an error that lists them when there are several. `warnings` gets the
    lines worth saying although the targets resolved (a declaring file that does not parse);
    `env_vars` is `--env-vars`' file (see env_files), `notes` gets what of it is not used;
    `parameters` is `--parameter-overrides`, `told` gets what to say about the functions'
    templates and layers (runner/function_setup.py).
    """
    root = os.path.abspath(root)
    overrides = {
        "platform": platform,
        "timeout": timeout,
        "memory": memory,
        "env": env,
        "trigger": trigger,
        "env_vars": env_vars,
        "runtime": runtime,
        "parameters": parameters,
        "told": told,
    }
    if notes is None:
        notes = []
    project = DeclaredProject(root, platform)
    chosen_specs: list[Any] = []  # declared functions named by the targets, in order
    served: list[ServedFunction | None] = []  # None: the next of chosen_specs
    for target in targets or [""]:
        name, sep, entry = target.partition("=")
        if not sep:
            name, entry = "", target
        # `svc-a/hello` names a function: an entry point has a `.` after its last `/`.
        qualified = not sep and "/" in entry and "." not in entry.rpartition("/")[2]
        if entry and not qualified and (sep or _looks_like_entry(entry)):
            # An explicit name or platform says all there is to know: skip the project
            # scan (it parses every config file, which `invoke` cannot afford).
            entry_specs = project.specs(for_entry=True) if not name and not platform else []
            match = [s for s in entry_specs if s.entry == entry and os.path.abspath(s.root) == root]
            if match and not name:
                chosen_specs.append(match[0])
                served.append(None)
                continue
            chosen = (
                platform
                or (project.declared_platform() if entry_specs else None)
                or DEFAULT_PLATFORM
            )
            served.append(
                ServedFunction(
                    name=name or identity.default_name(chosen, entry),
                    platform=chosen,
                    entry=entry,
                    root=root,
                    timeout=timeout or DEFAULT_TIMEOUT_S,
                    memory=memory or DEFAULT_MEMORY_MB[chosen],
                    env=dict(env or {}),
                    runtime=runtime,
                    trigger=trigger,
                    timeout_from=TIMEOUT_OPTION if timeout else TIMEOUT_DEFAULT,
                )
            )
            continue
        specs = project.specs()
        if not entry:
            # Inline or zipped code has no folder to run from: serve the others.
            runnable = [s for s in specs if not_runnable(s) is None]
            if not runnable:
                what = " with code in a folder" if specs else ""
                raise TargetError(
                    with_parse_errors(
                        f"no functions declared under {root}{what}; pass an entry point like "
                        "main.handler",
                        project,
                    )
                )
            specs = runnable
            if single and len(specs) > 1:
                raise TargetError(
                    f"{len(specs)} functions are declared under {root}: name one of them "
                    f"({declared_list(project, specs)})"
                )
            chosen_specs += specs
            served += [None] * len(specs)
            continue
        found = by_name(project, specs, entry)
        if not found:
            raise TargetError(
                with_parse_errors(
                    f"'{entry}' is neither an entry point (file.function) nor a declared "
                    f"function (declared: {declared_list(project, specs)})"
                    f"{near_name(entry, specs)}",
                    project,
                )
            )
        if len(found) > 1:
            where = ", ".join(f"{project.qualified(s)} in {project.where(s)}" for s in found)
            raise TargetError(
                f"{len(found)} declared functions are named '{entry}': {where}; name one of "
                f"them as {project.qualified(found[0])}"
            )
        why = not_runnable(found[0])
        if why is not None:
            raise TargetError(
                f"{why}; HandlerLens runs code from a folder: pass its entry point with --root "
                "set to the source folder"
            )
        chosen_specs.append(found[0])
        served.append(None)
    if parameters:
        from handlerlens.runner.function_setup import check_overrides

        check_overrides(chosen_specs, parameters)
    names = served_names(project, chosen_specs)
    specs_left = iter(chosen_specs)
    functions: list[ServedFunction] = []
    for fn in served:
        if fn is None:
            spec = next(specs_left)
            fn = _from_spec(spec, overrides, names[id(spec)], notes)
        elif env_vars:
            notes.append(
                f"'{fn.name}' is an entry point nothing declares: --env-vars sets declared "
                "variables only (use --env or --env-file)"
            )
        _check_trigger(fn, trigger)
        functions.append(fn)
    seen: dict[str, ServedFunction] = {}
    for fn in functions:
        if fn.name in seen:
            raise TargetError(
                f"two served functions are named '{fn.name}' ({seen[fn.name].entry} and "
                f"{fn.entry}); use name=entry to tell them apart"
            )
        seen[fn.name] = fn
    if warnings is not None:
        warnings += project.parse_errors()
    if env_vars:
        known = {s.name for s in (project.model.functions if project.model is not None else [])}
        known |= {fn.function_name for fn in functions}
        for section in env_vars:
            if section != "Parameters" and section not in known:
                listed = ", ".join(sorted(known)) or "none"
                notes.append(f"no function is named '{section}' (declared: {listed}); not used")
    return functions
