"""Which functions to serve: `main.handler`, `name=main.handler`, or names from the project."""

from __future__ import annotations

import os

from handlerlens.platforms import runner_env
from handlerlens.platforms.runner_env import DEFAULT_AWS_NAME, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class TargetError(Exception):
    """A target that cannot be resolved; the message is for the user."""


class ServedFunction:
    """One function as the runner runs it, every setting resolved; read-only by convention.

    A plain slotted class: `invoke` cannot afford loading dataclasses or typing (NamedTuple).
    """

    __slots__ = (
        "name",
        "platform",
        "entry",
        "root",
        "timeout",
        "memory",
        "env",
        "runtime",
        "trigger",
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
    ) -> None:
        self.name = name
        self.platform = platform
        self.entry = entry
        self.root = root
        self.timeout = timeout
        self.memory = memory
        self.env = env
        self.runtime = runtime
        self.trigger = trigger

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


def _discover(root: str, platform: str | None, *, for_entry: bool = False) -> list[Any]:
    try:
        from handlerlens.project.walk import config_kind, walk_project
    except ImportError:
        return []
    if for_entry and not any(config_kind(path) for path in walk_project(root)[0]):
        # An entry point was given and nothing under root can declare it: what the project
        # model would add is its heuristic guess, which says no more than the entry point
        # does (and loading the model is most of what `invoke` spends before the handler).
        return []
    from handlerlens.project import discover

    try:
        model = discover(root, platform_setting=platform)
    except Exception as exc:  # the project model must never stop a plain entry from running
        raise TargetError(f"could not read the project's function declarations: {exc}") from exc
    return list(model.functions)


def _not_runnable(spec: Any) -> str | None:
    """Why a declared function cannot be served (its code is no folder), or None."""
    if spec.inline_code is not None:
        return f"'{spec.name}' is inline code in {spec.declared_in}"
    if spec.archive is not None:
        return f"the code of '{spec.name}' is the archive {spec.archive}"
    return None


def _from_spec(spec: Any, overrides: dict[str, Any]) -> ServedFunction:
    platform = overrides.get("platform") or spec.platform
    env = dict(spec.env or {})
    env.update(overrides.get("env") or {})
    return ServedFunction(
        name=spec.name,
        platform=platform,
        entry=spec.entry,
        root=os.path.abspath(spec.root),
        timeout=overrides.get("timeout") or spec.timeout or DEFAULT_TIMEOUT_S,
        memory=overrides.get("memory") or spec.memory or DEFAULT_MEMORY_MB[platform],
        env=env,
        runtime=spec.runtime,
        trigger=overrides.get("trigger") or spec.trigger,
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
) -> list[ServedFunction]:
    """Turn command-line targets into served functions; raise TargetError with advice."""
    root = os.path.abspath(root)
    overrides = {
        "platform": platform,
        "timeout": timeout,
        "memory": memory,
        "env": env,
        "trigger": trigger,
    }
    specs: list[Any] | None = None  # every declared (or guessed) function
    entry_specs: list[Any] | None = None  # those an entry point could match
    served: list[ServedFunction] = []
    for target in targets or [""]:
        name, sep, entry = target.partition("=")
        if not sep:
            name, entry = "", target
        if entry and (sep or _looks_like_entry(entry)):
            if entry_specs is None:
                # An explicit name or platform says all there is to know: skip the project
                # scan (it parses every config file, which `invoke` cannot afford).
                entry_specs = (
                    _discover(root, platform, for_entry=True) if not name and not platform else []
                )
            match = [s for s in entry_specs if s.entry == entry and os.path.abspath(s.root) == root]
            if match and not name:
                served.append(_from_spec(match[0], overrides))
                continue
            chosen = platform or "yandex"
            served.append(
                ServedFunction(
                    name=name or (DEFAULT_AWS_NAME if chosen == "aws" else entry.rsplit(".", 1)[0]),
                    platform=chosen,
                    entry=entry,
                    root=root,
                    timeout=timeout or DEFAULT_TIMEOUT_S,
                    memory=memory or DEFAULT_MEMORY_MB[chosen],
                    env=dict(env or {}),
                    trigger=trigger,
                )
            )
            continue
        if specs is None:
            specs = _discover(root, platform)
        if not entry:
            runnable = [spec for spec in specs if _not_runnable(spec) is None]
            if not runnable:
                raise TargetError(
                    f"no functions declared under {root} with code in a folder; pass an entry "
                    "point like main.handler"
                )
            served.extend(_from_spec(spec, overrides) for spec in runnable)
            continue
        found = [s for s in specs if s.name == entry]
        if not found:
            known = ", ".join(sorted(s.name for s in specs)) or "none"
            raise TargetError(
                f"'{entry}' is neither an entry point (file.function) nor a declared function "
                f"(declared: {known})"
            )
        why = _not_runnable(found[0])
        if why is not None:
            raise TargetError(
                f"{why}; HandlerLens runs code from a folder: pass its entry point with --root "
                "set to the source folder"
            )
        served.append(_from_spec(found[0], overrides))
    names = [fn.name for fn in served]
    if len(set(names)) != len(names):
        raise TargetError("two served functions share a name; use name=entry to tell them apart")
    return served


def init_message(fn: ServedFunction, version: str) -> dict[str, Any]:
    """The worker's `init` operation: entry point, environment, context constants."""
    env = dict(fn.env)
    env.update(
        runner_env.reserved_env(
            fn.platform,
            name=fn.name,
            entry=fn.entry,
            root=fn.root,
            memory_mb=fn.memory,
            timeout_s=fn.timeout,
            runtime=fn.runtime,
        )
    )
    context = (
        runner_env.yandex_context(fn.name, fn.root, version, fn.memory)
        if fn.platform == "yandex"
        else {"invoked_function_arn": runner_env.aws_arn(fn.name)}
    )
    return {
        "op": "init",
        "platform": fn.platform,
        "entry": fn.entry,
        "env": env,
        "context": context,
    }
