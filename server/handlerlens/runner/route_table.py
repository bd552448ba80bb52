"""The app's route table: which served function answers which method and path, through which
gateway (project/routes_reading.py reads the declarations; platforms/gateways.py is each gateway).

Read when `serve` starts and again whenever a declaring file changes, off the event loop; the
table in use is swapped in one assignment, so a request that comes while the routes reload is
answered by the last table, never held. A declaring file that stops parsing keeps the last good
table, and the runner says why.

Every route shares the runner's one port, as `sam local start-api` serves every API of a
template on one: no stage prefix in the URL (`/items/1`), though a REST API's stage prefix is
accepted too (`/Prod/items/1`, the deployed URL's shape). Where two declarations take one
route, the first declared wins (project/routes.py `match` breaks ties by declaration order).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handlerlens.core.problems import Problem, Severity
from handlerlens.platforms.gateway_base import GatewayFace
from handlerlens.platforms.gateway_cors import preflight
from handlerlens.platforms.gateway_match import Lookup
from handlerlens.platforms.gateways import gateway_face, unknown_route
from handlerlens.platforms.http_reply import HttpReply
from handlerlens.project.routes import DEFAULT, Route, match, shape

if TYPE_CHECKING:
    from handlerlens.runner.host import FunctionHost

# The declaring files that can hold routes, by name (the readers decide by content).
_ROUTE_SUFFIXES = (".yml", ".yaml", ".json", ".template", ".tf")
NO_FUNCTION = {"message": "No function defined for resource method"}


def may_hold_routes(path: str) -> bool:
    """Whether a changed file may change the routes (cheap: by its name); pyproject.toml
    maps API Gateway `function_id`s to functions (`[tool.handlerlens] function-ids`)."""
    return path.lower().endswith(_ROUTE_SUFFIXES) or os.path.basename(path) == "pyproject.toml"


@dataclass
class Loaded:
    """One reading of the project's declaring files."""

    routes: list[Route]
    problems: list[Problem]
    # Declaring files that do not parse now: `path:line:col: …` lines.
    broken: list[str] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    broken_paths: set[str] = field(default_factory=set)


def read_routes(root: str, platform: str | None = None) -> Loaded:
    """Every route declared under `root` (blocking: files are read and parsed), read as the
    editor and `check` read them (project/routes_reading.py), so serve shows the same routes
    and the same warnings."""
    from handlerlens.check import text_line
    from handlerlens.core.text import read_text
    from handlerlens.project import discover
    from handlerlens.project.config_problems import CONFIG_PARSE_ERROR
    from handlerlens.project.routes_reading import declared_routes

    model = discover(root, platform_setting=platform)
    found = declared_routes(model, read_text)
    broken = [p for p in [*model.problems, *found.problems] if p.code == CONFIG_PARSE_ERROR]
    problems = [p for p in found.problems if p.code != CONFIG_PARSE_ERROR]
    return Loaded(
        found.routes,
        problems,
        sorted({text_line(p) for p in broken}),
        {os.path.normpath(path) for path in found.files},
        {os.path.normpath(p.path) for p in broken},
    )


def _stage_prefix(route: Route) -> str | None:
    """The stage prefix a route is also reached under (`/Prod/items/1`), or None."""
    if route.kind in ("rest", "http") and route.stage and route.stage != DEFAULT:
        return route.stage
    return None


def _takes(route: Route, path: str) -> bool:
    """Whether `route`'s template takes `path` (whatever the method)."""
    method = "GET" if route.method == "ANY" else route.method
    return match([route], method, path) is not None


@dataclass
class Entry:
    """One route as served: its declaration, its host (None: no served function answers
    it) and its gateway's face."""

    route: Route
    host: FunctionHost | None
    face: GatewayFace | None
    why_unserved: str = ""
    # Another declaring file's route of the same shape came first: two APIs (two stacks, two
    # deployed URLs) share this one port, and the first takes the requests.
    shadowed_by: Entry | None = None


@dataclass
class LentRoutes:
    """A function's routes as lent to its worker: the table's generation, the worker's copy
    (the protocol's LendSettings `routes`), and the routes' faces by index in the table."""

    generation: int
    info: dict[str, Any]
    faces: dict[int, GatewayFace]


@dataclass
class Hit:
    """A request's route: the entry, the path parameters, the path without a stage prefix."""

    entry: Entry
    params: dict[str, str]
    path: str


class RouteTable:
    """The routes of the served functions, swapped whole on each reload."""

    def __init__(self, root: str, hosts: dict[str, FunctionHost], platform: str | None) -> None:
        self.root = root
        self.hosts = hosts
        self.platform = platform
        self.entries: list[Entry] = []
        self._routes: list[Route] = []
        self._stages: dict[str, list[Route]] = {}
        self._by_route: dict[int, Entry] = {}
        self._broken: set[str] = set()
        self._urls: dict[str, Entry] = {}
        # The shared routes, indexed for lookup (platforms/gateway_match.py).
        self.lookup = Lookup([], [])
        self.kinds: set[str] = set()
        self.problems: list[Problem] = []
        self.files: set[str] = set()
        self.loaded = False
        # Each table applied is a new generation; what a worker needs to answer a function's
        # routes on a lent connection is built once per generation (lent_routes).
        self.generation = 0
        self._stage_list: list[str | None] = []
        self._lent: dict[str, LentRoutes | None] = {}
        # routed_hosts() and shadowed_hosts() of the table in use (asked at every request).
        self._routed_hosts: frozenset[str] = frozenset()
        self._shadowed_hosts: frozenset[str] = frozenset()

    @property
    def active(self) -> bool:
        """Whether any route is declared (without, requests go by function name)."""
        return bool(self.entries)

    def routed_hosts(self) -> frozenset[str]:
        """Functions a route reaches (not by their `/<name>/…` prefix, then)."""
        return self._routed_hosts

    def shadowed_hosts(self) -> frozenset[str]:
        """Functions whose every route another API's route shadows on this port: they are
        reached by their `/<name>/…` prefix (before the routes) and the Invoke API."""
        return self._shadowed_hosts

    def apply(self, loaded: Loaded) -> bool:
        """Use `loaded` unless a declaring file stopped parsing since the last table; False
        when that last good table is kept."""
        if self.loaded and loaded.broken_paths - self._broken:
            return False
        self._broken = loaded.broken_paths
        entries = [self._entry(route) for route in loaded.routes]
        first: dict[tuple[str, str, str], Entry] = {}
        for entry in entries:
            route = entry.route
            if route.kind == "function-url":
                continue  # each has its own host
            key = (route.kind if route.path == DEFAULT else "", *shape(route))
            taken = first.setdefault(key, entry)
            if taken is not entry and taken.route.declared_in != route.declared_in:
                entry.shadowed_by = taken
        shared = [r for r in loaded.routes if r.kind != "function-url"]
        stages = [_stage_prefix(route) for route in shared]
        by_stage: dict[str, list[Route]] = {}
        for route, stage in zip(shared, stages, strict=True):
            if stage is not None:
                by_stage.setdefault(stage, []).append(route)
        # A Function URL owns every path of its own host: `<function>.localhost`.
        urls = {
            e.route.function.lower(): e
            for e in entries
            if e.route.kind == "function-url" and e.route.function is not None
        }
        # One assignment each, in the loop's thread: a request sees the old or the new table.
        self.lookup = Lookup(shared, stages)
        self._stage_list = stages
        self._lent = {}
        self.generation += 1
        self.entries = entries
        self._routes = shared
        self._urls = urls
        self._by_route = {id(e.route): e for e in entries}
        routed = {e.host.fn.name for e in entries if e.host is not None and e.shadowed_by is None}
        served = {e.host.fn.name for e in entries if e.host is not None}
        self._routed_hosts = frozenset(routed)
        self._shadowed_hosts = frozenset(served - routed)
        self._stages = by_stage
        # Function URLs count too: an app of Function URLs alone is AWS's, whose answer to
        # a host and path no route takes is the HTTP API's 404, not Yandex's.
        self.kinds = {route.kind for route in shared} | {e.route.kind for e in urls.values()}
        self.problems = loaded.problems
        self.files = loaded.files
        self.loaded = True
        return True

    def _entry(self, route: Route) -> Entry:
        if route.function is None:
            return Entry(route, None, None, "its function is not declared in this workspace")
        found = [h for h in self.hosts.values() if h.fn.function_name == route.function]
        if len(found) > 1:
            same = [h for h in found if h.fn.declared_in == os.path.abspath(route.declared_in)]
            found = same or found
        if not found:
            return Entry(route, None, None, f"{route.function} is not served")
        host = found[0]
        return Entry(route, host, gateway_face(route.gateway(), host.fn.platform))

    def find(self, method: str, path: str, host: str | None = None) -> Hit | None:
        """The route for one request (its raw path and Host header), or None."""
        if self._urls and host:
            name = host.rsplit(":", 1)[0].lower() if not host.endswith("]") else ""
            if name.endswith(".localhost"):
                entry = self._urls.get(name[: -len(".localhost")])
                if entry is not None:
                    return Hit(entry, {}, path.split("?", 1)[0] or "/")
        found = self.lookup.find(method, path)
        if found is None:
            return None
        route, params, actual = found
        return Hit(self._by_route[id(route)], params, actual)

    def lent_routes(self, host: FunctionHost, port: int) -> LentRoutes | None:
        """What `host`'s worker needs to answer its routes on a lent connection as `_routed`
        (runner/app.py) does (worker/routed.py reads it): None where that cannot be exact —
        another API shadows a function's routes (their `/<name>/…` prefix comes first), or
        none of its routes can be answered there (a gateway's integration timeout shorter
        than the function's is the supervisor's to keep)."""
        name = host.fn.name
        if name in self._lent:
            return self._lent[name]
        found: LentRoutes | None = None
        mine: dict[str, Any] = {}
        faces: dict[int, GatewayFace] = {}
        if not self.shadowed_hosts():
            for index, route in enumerate(self._routes):
                entry = self._by_route[id(route)]
                face = entry.face
                if entry.host is not host or face is None:
                    continue
                timeout = face.integration_timeout()
                if timeout is not None and timeout[0] < host.fn.timeout:
                    continue
                mine[str(index)] = {"route": face.route.to_json(), "platform": host.fn.platform}
                faces[index] = face
        if mine:
            info = {
                "port": port,
                "table": [[r.kind, r.method, r.path] for r in self._routes],
                "stages": self._stage_list,
                "mine": mine,
            }
            found = LentRoutes(self.generation, info, faces)
        self._lent[name] = found
        return found

    def preflight(self, path: str, headers: list[tuple[str, str]]) -> HttpReply | None:
        """The gateway's own answer to an OPTIONS request on a path whose API declares CORS
        (and that routes no OPTIONS to a function), else None."""
        actual = path.split("?", 1)[0] or "/"
        candidates = [(self._routes, actual)]
        first, _, rest = actual.lstrip("/").partition("/")
        if first in self._stages:
            candidates.append((self._stages[first], "/" + rest))
        for routes, wanted in candidates:
            at_path = [r for r in routes if r.path != DEFAULT and _takes(r, wanted)]
            if not at_path or any(r.method == "OPTIONS" for r in at_path):
                continue
            with_cors = [r for r in at_path if r.cors is not None]
            if with_cors:
                template = with_cors[0].path
                methods = [r.method for r in at_path if r.path == template]
                assert with_cors[0].cors is not None
                return preflight(with_cors[0].cors, headers, methods)
        return None

    def unknown(self) -> HttpReply:
        """The gateway's answer to a request no route takes."""
        return unknown_route(self.kinds)[0]

    @staticmethod
    def no_function() -> HttpReply:
        """A route whose function is not served here (`sam local start-api`'s answer)."""
        return HttpReply.json(502, NO_FUNCTION)

    # -- telling people -------------------------------------------------------------------
    def describe(self, url: str) -> list[str]:
        """The route table's lines, each with the URL to call."""
        lines = []
        for entry in self.entries:
            route = entry.route
            described = route.describe()
            if entry.host is not None and route.function and entry.host.fn.name != route.function:
                # Two functions of one name (svc-a/hello, svc-b/hello): the served name.
                described = described.replace(f"→ {route.function} ", f"→ {entry.host.fn.name} ", 1)
            line = f"  {described}  {self.url_of(route, url)}"
            if entry.host is None:
                line += f"  (not served: {entry.why_unserved})"
            elif entry.shadowed_by is not None:
                other = entry.shadowed_by
                taker = other.host.fn.name if other.host is not None else other.route.function
                source = os.path.relpath(other.route.declared_in, self.root)
                line += (
                    f"  (shadowed: {taker}'s route from {source} takes it on this port;"
                    f" reach {entry.host.fn.name} at "
                    f"{url}/{entry.host.fn.name}/… or through the Invoke API)"
                )
            lines.append(line)
        return lines

    @staticmethod
    def url_of(route: Route, url: str) -> str:
        """The URL to call a route at: the runner's (`url`) and the route's path; a Function
        URL's own host, `http://<function>.localhost:<port>/`."""
        if route.kind == "function-url" and route.function is not None:
            scheme, _, address = url.partition("://")
            port = address.rsplit(":", 1)[-1]
            return f"{scheme}://{route.function.lower()}.localhost:{port}/"
        return url + ("/" if route.path == DEFAULT else route.path)

    def event(self, url: str, reason: str, kept: bool = False) -> dict[str, Any]:
        """The `routes` status event."""
        routes = []
        for entry in self.entries:
            route = entry.route
            routes.append(
                {
                    "method": route.method,
                    "path": route.path,
                    "routeKey": route.route_key,
                    "function": route.function,
                    "served": entry.host.fn.name if entry.host is not None else None,
                    "shadowedBy": (
                        entry.shadowed_by.host.fn.name
                        if entry.shadowed_by is not None and entry.shadowed_by.host is not None
                        else None
                    ),
                    "kind": route.kind,
                    "api": route.api,
                    "stage": route.stage,
                    "payload": route.payload,
                    # A Function URL's AuthType (NONE, AWS_IAM); None for other kinds.
                    "auth": route.auth,
                    "url": self.url_of(route, url),
                    "declaredIn": route.declared_in,
                    "line": route.span.start.line + 1,
                }
            )
        problems = [
            {
                "path": p.path,
                "line": p.span.start.line + 1,
                "column": p.span.start.character + 1,
                "severity": "error" if p.severity == Severity.ERROR else "warning",
                "code": p.code,
                "message": p.message,
            }
            for p in self.problems
        ]
        return {
            "event": "routes",
            "reason": reason,
            "kept": kept,
            "routes": routes,
            "problems": problems,
        }
