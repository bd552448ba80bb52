"""Custom protocol between the HandlerLens server and its clients.

Mirrored, name for name, in `client/src/protocol.ts`. Everything else is standard LSP.

Code lenses carry a `FunctionRef` (a JSON object) as their single argument. VS Code registers
client-side commands (`CLIENT_RUN`, `CLIENT_DEBUG`) that pick an event and then call the server
commands below; other editors, which announce nothing in `initializationOptions`, get lenses
whose commands are the server's own (`SERVER_RUN`, `SERVER_DEBUG`) with the default event.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

# Client-side command ids used in lenses when the client says `{"clientCommands": true}`.
CLIENT_RUN = "handlerlens.runHandler"
CLIENT_DEBUG = "handlerlens.debugHandler"
# The "▶ Send request" lens on a route (the VS Code client's own, from REQUEST_ROUTES).
CLIENT_SEND_REQUEST = "handlerlens.sendRequest"

# Server commands (workspace/executeCommand).
SERVER_RUN = "handlerlens.server.run"
SERVER_DEBUG = "handlerlens.server.debug"
SERVER_START_RUNNER = "handlerlens.server.startRunner"
SERVER_STOP_RUNNER = "handlerlens.server.stopRunner"
SERVER_LIST_EVENTS = "handlerlens.server.listEvents"
SERVER_LIST_FUNCTIONS = "handlerlens.server.listFunctions"
SERVER_SEND_REQUEST = "handlerlens.server.sendRequest"
# The whole app of a workspace folder behind its gateway routes (`serve <folder>`).
SERVER_START_APP = "handlerlens.server.startApp"
SERVER_STOP_APP = "handlerlens.server.stopApp"

SERVER_COMMANDS = (
    SERVER_RUN,
    SERVER_DEBUG,
    SERVER_START_RUNNER,
    SERVER_STOP_RUNNER,
    SERVER_LIST_EVENTS,
    SERVER_LIST_FUNCTIONS,
    SERVER_SEND_REQUEST,
    SERVER_START_APP,
    SERVER_STOP_APP,
)

# Client → server requests.
REQUEST_ROUTES = "handlerlens/routes"

# Server → client notifications.
NOTIFY_RUNNER_STATE = "handlerlens/runnerState"
NOTIFY_LOG = "handlerlens/log"
NOTIFY_APP_STATE = "handlerlens/appState"

RunnerState = Literal["stopped", "starting", "running", "reloading", "debugging", "error"]


# Payloads: one type per interface of `client/src/protocol.ts`, same name, same fields, the
# ones marked `?` there optional here (a `total=False` class over the required ones: Python
# 3.10 has no `NotRequired`). `tests/lsp/test_protocol.py` reads both files and compares them.


class FunctionRef(TypedDict):
    """Identity of one function, as carried by lenses and commands."""

    name: str
    platform: str
    entry: str
    root: str
    uri: str
    line: int
    trigger: str


class _FunctionInfoRequired(TypedDict):
    name: str
    platform: str
    entry: str
    root: str
    trigger: str


class FunctionInfo(_FunctionInfoRequired, total=False):
    """One entry of SERVER_LIST_FUNCTIONS: a FunctionRef without the lens position (`uri`,
    `line`), plus the file that declares it. Commands accept either; the server finds the
    function by `name` and `root`."""

    declaredIn: str | None
    uri: str
    line: int


class _RunParamsRequired(TypedDict):
    function: FunctionRef | FunctionInfo


class RunParams(_RunParamsRequired, total=False):
    """Arguments of SERVER_RUN / SERVER_DEBUG: the function and, optionally, the event."""

    event: Any
    eventPath: str


class RunnerParams(TypedDict):
    """Arguments of SERVER_START_RUNNER / SERVER_STOP_RUNNER."""

    function: FunctionRef | FunctionInfo


class RunnerStateParams(TypedDict, total=False):
    """Payload of NOTIFY_RUNNER_STATE."""

    function: str
    state: RunnerState
    url: str
    port: int
    debugPort: int
    message: str
    # After a reload: the files whose change started it, and how long the reload took.
    changed: list[str]
    reloadedMs: float
    # The runner's interpreter: path, source, version, isolated, warning (`serve`'s event).
    interpreter: dict[str, Any]


class LogParams(TypedDict, total=False):
    """Payload of NOTIFY_LOG: one line of a function's log, as written (a `\\r` in it breaks
    the line within one entry: an editor shows the parts as lines, see runner_logs)."""

    function: str
    requestId: str
    line: str
    stream: Literal["stdout", "stderr", "system"]


class RunnerSettings(TypedDict):
    """`ServerSettings.runner` (an inline object type in protocol.ts)."""

    port: int
    timeout: float | None


class ServerSettings(TypedDict):
    """The `handlerlens.*` settings as the server receives them (`interpreter`: the one in
    use). Read, and checked, by `lsp/settings.py`."""

    platform: Literal["auto", "yandex", "aws"]
    interpreter: str
    runner: RunnerSettings
    eventsFolder: str
    # runtime-interpreter-mismatch: an info where the local Python is not the runtime's.
    interpreterMismatch: bool


class InitializationOptions(TypedDict):
    """Sent as `initializationOptions` by the VS Code client; other editors send nothing."""

    clientCommands: Literal[True]
    settings: ServerSettings


class _RunResultRequired(TypedDict):
    status: int
    headers: dict[str, str]
    body: str
    functionError: bool
    requestId: str
    durationMs: float | None
    billedMs: float | None
    memoryMb: float | None
    maxMemoryMb: float | None
    logs: list[str]


class _HttpResponseRequired(TypedDict):
    status: int
    reason: str
    headers: list[tuple[str, str]]
    bodyBase64: str


class HttpResponse(_HttpResponseRequired, total=False):
    """The mapped HTTP response of an HTTP-triggered function (headers: the function's own)."""

    trigger: str
    warning: str | None


class RunResult(_RunResultRequired, total=False):
    """Result of SERVER_RUN: the platform's response to one invocation, plus its measurements
    (None where the runner reported none). Commands answer None after showing their own
    error."""

    json: Any
    initMs: float | None
    url: str
    # What the caller gets over HTTP (the platform's mapping); None for other triggers.
    http: HttpResponse | None
    # The response as `<name>.expected.json` holds it (`handlerlens test`'s format).
    expected: dict[str, Any]
    # SERVER_SEND_REQUEST: the event the route's gateway sent (the view's "Run again" resends it).
    event: Any
    # SERVER_SEND_REQUEST while the app runs: the request went to the app's port, so `http` is
    # the gateway's real answer and `body`/`json` its body (the function's return value unseen).
    viaApp: bool


class _EventItemRequired(TypedDict):
    label: str
    source: Literal["saved", "sample"]
    event: Any


class EventItem(_EventItemRequired, total=False):
    """One entry of SERVER_LIST_EVENTS."""

    trigger: str
    path: str


class DebugResult(TypedDict):
    """Result of SERVER_DEBUG: the runner is up in debug mode; start this configuration."""

    debugConfiguration: dict[str, Any]
    url: str
    port: int
    debugPort: int


class RoutesParams(TypedDict, total=False):
    """Arguments of REQUEST_ROUTES: the routes declared in one file (`uri`), else all."""

    uri: str


class RouteInfo(TypedDict):
    """One HTTP route of a declaring file (project/routes.py's `Route`): `method` upper case
    or `ANY`, `path` a template (`/items/{id}`) or `$default`, `function` the declared function
    that answers it (None: the declaration names none of this workspace's), `params` the path
    parameters in order, `description` the route table's line; the position of its declaration
    (0-based, as LSP's)."""

    method: str
    path: str
    kind: str
    api: str
    function: str | None
    stage: str | None
    payload: str
    params: list[str]
    description: str
    uri: str
    line: int
    character: int
    endLine: int
    endCharacter: int


class _SendRequestParamsRequired(TypedDict):
    route: RouteInfo
    path: str


class SendRequestParams(_SendRequestParamsRequired, total=False):
    """Arguments of SERVER_SEND_REQUEST: one request to a route (`path` with its parameters
    filled, `method` when the route's is ANY), as the route's gateway would send it."""

    method: str
    query: str
    headers: dict[str, str]
    body: str


class _AppParamsRequired(TypedDict):
    root: str


class AppParams(_AppParamsRequired, total=False):
    """Arguments of SERVER_START_APP / SERVER_STOP_APP: the workspace folder, and the port to
    ask for (0 or absent: the one the app had this session, else a free one); `debug`
    (SERVER_START_APP, Debug App): serve it under debugpy."""

    port: int
    debug: bool


class AppStateParams(TypedDict, total=False):
    """Payload of NOTIFY_APP_STATE: the app of one workspace folder (`root`). `routes` and
    `problems` are the runner's `routes` event's (method, path, routeKey, function, served,
    kind, api, stage, payload, url, declaredIn, line; path, line, column, severity, code,
    message), sent when they change; `function`, `changed`, `reloadedMs`, `message` say what a
    reload did; `kept`: a declaring file stopped parsing, the last good routes are kept."""

    root: str
    state: RunnerState
    url: str
    port: int
    message: str
    routes: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    kept: bool
    function: str
    changed: list[str]
    reloadedMs: float
    # Under Debug App: the debugger's port (the app runs under debugpy).
    debugPort: int


class _AppResultRequired(TypedDict):
    root: str
    url: str
    port: int
    routes: list[dict[str, Any]]


class AppResult(_AppResultRequired, total=False):
    """Result of SERVER_START_APP; with `{debug: true}` (Debug App) also the debugger's port
    and a DAP `attach` configuration for it, as SERVER_DEBUG gives for one function."""

    debugPort: int
    debugConfiguration: dict[str, Any]
