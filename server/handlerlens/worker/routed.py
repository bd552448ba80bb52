"""Routed connections lent to this worker: the requests of this function's own gateway routes,
answered here as the supervisor answers them (runner/app.py, `_routed`).

`handlerlens serve` on a whole app answers a connection's first request in the supervisor,
which routes it; once answered, the connection may be lent to the worker of the function
that answered it (runner/lender.py), with what that worker needs to answer the next requests
exactly as the gateway would: the whole route table's precedence (every route sharing the
port, so this worker picks the route the supervisor would), and for each route of its own
function, the gateway face (platforms/gateways.py, loaded here by path like every platform
module). A request for another function's route, an unknown route, an OPTIONS request (a
CORS preflight, or a route of its own), or a function URL's host goes back to the supervisor,
with the connection, and is answered there.

The supervisor lends only the routes it can answer nothing differently for: none whose
gateway's integration timeout is shorter than the function's (the supervisor's timer answers
those while the function runs on), none while another API's routes shadow a function's.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .plain import Plain


class _Route:
    """A route of the table as the lookup knows it (platforms/gateway_match.py)."""

    __slots__ = ("index", "kind", "method", "path")

    def __init__(self, index: int, kind: str, method: str, path: str) -> None:
        self.index = index
        self.kind = kind
        self.method = method
        self.path = path


class Hit:
    """A request for one of this function's routes: the route's index in the table (the
    supervisor's name for it), its gateway face, the path parameters, the path without a
    stage prefix."""

    __slots__ = ("index", "face", "params", "path")

    def __init__(self, index: int, face: Any, params: dict[str, str], path: str) -> None:
        self.index = index
        self.face = face
        self.params = params
        self.path = path


class Routes:
    """One generation of the route table, as lent (the protocol's LendSettings `routes`):
    `table` every route sharing the port, [kind, method, path] in declaration order; `stages`
    each one's stage prefix or None; `mine` {index: {route, platform}} the routes this worker
    answers; `port` the runner's port (X-Forwarded-Port)."""

    def __init__(self, platforms: Any, info: dict[str, Any]) -> None:
        package = platforms.__name__
        gateway_match = importlib.import_module(f"{package}.gateway_match")
        gateways = importlib.import_module(f"{package}.gateways")
        gateway_base = importlib.import_module(f"{package}.gateway_base")
        self.port = int(info.get("port", 0))
        table = [_Route(i, *row) for i, row in enumerate(info["table"])]
        self.lookup = gateway_match.Lookup(table, info["stages"])
        self.faces: dict[int, Any] = {}
        for key, spec in info["mine"].items():
            route = gateway_base.GatewayRoute.from_json(spec["route"])
            self.faces[int(key)] = gateways.gateway_face(route, spec["platform"])

    def find(self, request: Plain) -> Hit | None:
        """The hit if `request` is this worker's to answer, else None (it goes back)."""
        if request.method == "OPTIONS":
            return None  # a preflight, or a route whose preflight the supervisor decides
        name = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else ""
        if name.lower().endswith(".localhost"):
            return None  # perhaps a Function URL's own host
        found = self.lookup.find(request.method, request.path)
        if found is None:
            return None
        route, params, path = found
        face = self.faces.get(route.index)
        if face is None or face.refuse(len(request.body)) is not None:
            return None
        return Hit(route.index, face, params, path)
