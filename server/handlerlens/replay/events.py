"""Where saved events live, which function each belongs to, and `handlerlens event new|list`.

A function's events are `<folder>/.handlerlens/events/<function>/*.json` (`*.expected.json`
excluded), where `<folder>` is the folder of the file that declares the function or any
folder above it up to the project root (`--root`, default: the current directory): the VS
Code extension saves into the workspace folder's events folder, and a project may keep them
beside its declaring file. `event new` writes where the function's events already are, else
under the root — the folder VS Code uses when the root is the opened folder — or, for a
function whose name another one shares, beside its declaring file.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from handlerlens.replay.expect import EXPECTED_SUFFIX

EVENTS_FOLDER = os.path.join(".handlerlens", "events")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# Folders never searched for events folders (they hold no project of the user's).
_SKIPPED = frozenset({"node_modules", "__pycache__", "build", "dist", "site-packages"})


class ReplayError(Exception):
    """A usage error (exit 2); the message is for the user."""


@dataclass(eq=False)
class Function:
    """A declared (or guessed) function as the replay commands see it."""

    name: str  # its own name: the events folder's name
    test_name: str  # unique in the project: `svc-a/hello` where two share `hello`
    spec: Any  # the project model's FunctionSpec
    home: str  # the declaring file's folder (the code root for a guessed one)

    @property
    def platform(self) -> str:
        return str(self.spec.platform)

    @property
    def trigger(self) -> str:
        from handlerlens.platforms.triggers import DEFAULT_TRIGGER

        return str(self.spec.trigger or DEFAULT_TRIGGER[self.platform])


@dataclass(eq=False)
class SavedEvent:
    """One saved event file, and the function whose folder holds it (None: no such function)."""

    name: str
    path: str
    folder_name: str  # the events folder's name: the function it was saved for
    function: Function | None
    test_id: str = ""

    @property
    def expected_path(self) -> str:
        return self.path[: -len(".json")] + EXPECTED_SUFFIX


@dataclass
class Project:
    root: str
    functions: list[Function]
    parse_errors: list[str] = field(default_factory=list)

    def find(self, target: str) -> Function:
        """The function `target` names (`hello` or `svc-a/hello`); ReplayError otherwise."""
        found = [f for f in self.functions if target in (f.name, f.test_name)]
        if len(found) == 1:
            return found[0]
        names = ", ".join(sorted(f.test_name for f in self.functions)) or "none"
        if found:
            raise ReplayError(
                f"{len(found)} functions are named '{target}': name one of them "
                f"({', '.join(f.test_name for f in found)})"
            )
        import difflib

        near = difflib.get_close_matches(target, sorted({f.name for f in self.functions}), n=1)
        hint = f". Did you mean '{near[0]}'?" if near else ""
        raise ReplayError(f"no function named '{target}' is declared (declared: {names}){hint}")


def read_project(root: str, platform: str | None) -> Project:
    """Every function declared under `root`, named as `serve` names them."""
    from handlerlens.runner.declared import DeclaredProject, TargetError, served_names

    root = os.path.abspath(root)
    if not os.path.isdir(root):
        raise ReplayError(f"the project root is not a directory: {root}")
    project = DeclaredProject(root, platform)
    try:
        specs = project.specs()
    except TargetError as exc:
        raise ReplayError(str(exc)) from None
    names = served_names(project, specs)
    functions = [
        Function(
            name=spec.name,
            test_name=names[id(spec)],
            spec=spec,
            home=os.path.dirname(spec.declared_in) if spec.declared_in else spec.root,
        )
        for spec in specs
    ]
    return Project(root, functions, project.parse_errors())


def folders_between(home: str, root: str) -> list[str]:
    """`home` and the folders above it up to `root` (just `root` when home is outside it)."""
    home, folders = os.path.abspath(home), []
    if os.path.commonpath([home, root]) != root:
        return [root]
    while True:
        folders.append(home)
        if home == root:
            return folders
        home = os.path.dirname(home)


def event_folders(fn: Function, root: str, events_folder: str = EVENTS_FOLDER) -> list[str]:
    """The folders that may hold `fn`'s saved events, nearest first."""
    return folders_for(fn.name, fn.home, root, events_folder)


def folders_for(name: str, home: str, root: str, events_folder: str = EVENTS_FOLDER) -> list[str]:
    """The events folders of the function `name` declared in the folder `home`: `<folder>/
    <events_folder>/<name>` for `home` and each folder above it up to `root`, nearest first."""
    if os.path.isabs(events_folder):
        return [os.path.join(events_folder, name)]
    return [os.path.join(folder, events_folder, name) for folder in folders_between(home, root)]


def event_files(folder: str) -> list[str]:
    """The saved events in one function's events folder, sorted by name: its `*.json` files,
    not the `<name>.expected.json` beside them (what `handlerlens test` compares the response
    with). The one place that lists an events folder: `handlerlens event|test` and the
    language server's listEvents command both read it through this."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [
        os.path.join(folder, n)
        for n in names
        if n.endswith(".json")
        and not n.endswith(EXPECTED_SUFFIX)
        and os.path.isfile(os.path.join(folder, n))
    ]


def _all_events_roots(root: str, events_folder: str) -> list[str]:
    """Every `<folder>/<events_folder>` under the root (hidden folders, virtual environments
    and dependencies are not searched)."""
    if os.path.isabs(events_folder):
        return [events_folder] if os.path.isdir(events_folder) else []
    found = []
    for folder, dirs, _files in os.walk(root):
        candidate = os.path.join(folder, events_folder)
        if os.path.isdir(candidate):
            found.append(candidate)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in _SKIPPED
            and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
        )
    return found


def saved_events(
    project: Project, events_folder: str = EVENTS_FOLDER
) -> tuple[list[SavedEvent], list[str]]:
    """Every saved event under the root, its function's (None where no function of that name
    is declared any more), with unique test ids; and warnings about ids two files share."""
    owners = _owners(project, events_folder)
    warnings: list[str] = []
    events: list[SavedEvent] = []
    seen: set[str] = set()
    for events_root in _all_events_roots(project.root, events_folder):
        try:
            subfolders = sorted(os.listdir(events_root))
        except OSError:
            continue
        for sub in subfolders:
            folder = os.path.join(events_root, sub)
            real = os.path.realpath(folder)
            if not os.path.isdir(folder) or real in seen:
                continue
            seen.add(real)
            claimants: list[Function | None] = list(owners.get(real, []))
            if not claimants:
                # A folder named like a function may sit where that function does not look
                # (declared in another folder): still its events, not an orphan's.
                same = [f for f in project.functions if f.name == sub]
                claimants = [same[0] if len(same) == 1 else None]
            files = event_files(folder)
            if len(claimants) > 1 and files:
                # Above the declaring files of two functions of one name: each one's folder.
                names = " and ".join(f.test_name for f in claimants if f is not None)
                warnings.append(
                    f"the events in {shown(folder)} belong to both {names} (the folder is "
                    "above both declaring files) and run for each; to keep an event to one, "
                    "move it beside that one's declaring file"
                )
            for path in files:
                for owner in claimants:
                    events.append(SavedEvent(os.path.basename(path)[:-5], path, sub, owner))
    return events, warnings + _assign_ids(events)


def _owners(project: Project, events_folder: str) -> dict[str, list[Function]]:
    """Each events folder (real path) and the functions whose events it may hold: one, but
    two functions of one name (`svc-a/hello`, `svc-b/hello`) share the folders above both."""
    owners: dict[str, list[Function]] = {}
    for fn in project.functions:
        for folder in event_folders(fn, project.root, events_folder):
            owners.setdefault(os.path.realpath(folder), []).append(fn)
    return owners


def _assign_ids(events: list[SavedEvent]) -> list[str]:
    by_id: dict[str, list[SavedEvent]] = {}
    for event in events:
        owner = event.function.test_name if event.function else event.folder_name
        event.test_id = f"{owner}::{event.name}"
        by_id.setdefault(event.test_id, []).append(event)
    warnings = []
    for test_id, same in by_id.items():
        if len(same) < 2:
            continue
        files = ", ".join(shown(e.path) for e in same)
        warnings.append(
            f"{len(same)} saved events are both {test_id}: {files}; each runs, named by its "
            "file — rename one to tell them apart"
        )
        for event in same:
            event.test_id = f"{test_id}[{shown(event.path)}]"
    return warnings


def shown(path: str) -> str:
    """A path as messages show it: relative to the current directory when under it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


# `event new`


def set_value(event: Any, path: str, text: str) -> None:
    """`--set a.b.0=value`: the value is JSON when it parses, else the text; where the sample
    has a string (an HTTP `body`), the text stays a string."""
    parts = path.split(".")
    node = event
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                where = ".".join(parts[:i]) or "the event"
                raise ReplayError(
                    f"--set {path}: {where} is a list of {len(node)}; use an index 0.."
                    f"{len(node) - 1}"
                )
            key: Any = int(part)
        elif isinstance(node, dict):
            key = part
        else:
            where = ".".join(parts[:i])
            raise ReplayError(f"--set {path}: {where} is {json.dumps(node)}, not an object")
        if last:
            current = node[key] if isinstance(node, list) or key in node else None
            if isinstance(current, str):
                node[key] = text
            else:
                try:
                    node[key] = json.loads(text)
                except ValueError:
                    node[key] = text
            return
        if isinstance(node, dict) and (key not in node or node[key] is None):
            node[key] = {}
        node = node[key]


def new_event(
    project: Project,
    target: str,
    *,
    trigger: str | None,
    name: str | None,
    sets: list[str],
    force: bool,
    events_folder: str = EVENTS_FOLDER,
) -> str:
    """Write a sample event for the function `target`; returns the file's path."""
    from handlerlens.platforms.sample_events import sample_event
    from handlerlens.platforms.triggers import triggers_for

    fn = project.find(target)
    chosen = trigger or fn.trigger
    valid = triggers_for(fn.platform)
    if chosen not in valid:
        title = "Yandex" if fn.platform == "yandex" else "AWS"
        raise ReplayError(
            f"unknown --trigger '{chosen}' for '{fn.test_name}', a {title} function "
            f"({title} triggers: {', '.join(valid)})"
        )
    if name is not None:
        name = name[:-5] if name.endswith(".json") else name
        if not _SAFE_NAME.match(name) or name.endswith(".expected") or name in (".", ".."):
            raise ReplayError(
                f"--name {name!r}: use letters, digits, dots, dashes and underscores "
                "(and not a name ending in .expected)"
            )
    event = sample_event(fn.platform, chosen)
    for item in sets:
        path, sep, text = item.partition("=")
        if not sep or not path:
            raise ReplayError(f"--set {item!r}: expected PATH=VALUE, e.g. body='{{\"a\": 1}}'")
        set_value(event, path, text)
    folders = event_folders(fn, project.root, events_folder)
    if fn.test_name != fn.name:
        # Its name is another function's too: only the folders that are its alone (beside
        # its declaring file, up to the folder above both) keep the event to it.
        owners = _owners(project, events_folder)
        folders = [f for f in folders if len(owners.get(os.path.realpath(f), [])) == 1]
        folders = folders or event_folders(fn, project.root, events_folder)[:1]
        existing = [f for f in folders if os.path.isdir(f)]
        folder = existing[0] if existing else folders[0]
    else:
        existing = [f for f in folders if os.path.isdir(f)]
        folder = existing[0] if existing else folders[-1]
    if name is None:
        name, n = chosen, 2
        while os.path.exists(os.path.join(folder, f"{name}.json")):
            name, n = f"{chosen}-{n}", n + 1
    path = os.path.join(folder, f"{name}.json")
    if os.path.exists(path) and not force:
        raise ReplayError(f"{shown(path)} exists already: pass --force to replace it")
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(event, indent=2, ensure_ascii=False) + "\n")
    return path


def expectation_state(event: SavedEvent) -> str:
    """`expected`, `no expectation`, or what is wrong with the expected file."""
    from handlerlens.replay.expect import ExpectationError, load_expected

    if not os.path.exists(event.expected_path):
        return "no expectation"
    try:
        load_expected(event.expected_path, shown(event.expected_path))
    except ExpectationError as exc:
        return f"invalid expectation: {exc}"
    return "expected"
