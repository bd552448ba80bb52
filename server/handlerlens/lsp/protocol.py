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

# Server commands (workspace/executeCommand).
SERVER_RUN = "handlerlens.server.run"
SERVER_DEBUG = "handlerlens.server.debug"
SERVER_START_RUNNER = "handlerlens.server.startRunner"
SERVER_STOP_RUNNER = "handlerlens.server.stopRunner"
SERVER_LIST_EVENTS = "handlerlens.server.listEvents"
SERVER_LIST_FUNCTIONS = "handlerlens.server.listFunctions"

SERVER_COMMANDS = (
    SERVER_RUN,
    SERVER_DEBUG,
    SERVER_START_RUNNER,
    SERVER_STOP_RUNNER,
    SERVER_LIST_EVENTS,
    SERVER_LIST_FUNCTIONS,
)

# Server → client notifications.
NOTIFY_RUNNER_STATE = "handlerlens/runnerState"
NOTIFY_LOG = "handlerlens/log"

RunnerState = Literal["stopped", "starting", "running", "reloading", "debugging", "error"]


class FunctionRef(TypedDict):
    """Identity of one function, as carried by lenses and commands."""

    name: str
    platform: str
    entry: str
    root: str
    uri: str
    line: int
    trigger: str


class RunParams(TypedDict, total=False):
    """Arguments of SERVER_RUN / SERVER_DEBUG: the function and, optionally, the event."""

    function: FunctionRef
    event: Any
    eventPath: str


class RunnerStateParams(TypedDict, total=False):
    """Payload of NOTIFY_RUNNER_STATE."""

    function: str
    state: RunnerState
    url: str
    port: int
    debugPort: int
    message: str
    # The runner's interpreter: path, source, version, isolated, warning (`serve`'s event).
    interpreter: dict[str, Any]


class LogParams(TypedDict, total=False):
    """Payload of NOTIFY_LOG: one line of a function's log, as written (a `\\r` in it breaks
    the line within one entry: an editor shows the parts as lines, see runner_logs)."""

    function: str
    requestId: str
    line: str
    stream: Literal["stdout", "stderr", "system"]
