"""How one invocation ended, as FunctionHost (runner/host.py) tells whoever answers it: the
supervisor's HTTP faces (app.py), the lender (lender.py) and the Invoke API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A request the runner could not run or finish because it is stopping.
STOPPING_ERROR = {"errorMessage": "The runner is stopping", "errorType": "Runner"}
# A request not run: its client went away while it waited for an instance (Outcome "gone").
CLIENT_GONE_ERROR = {
    "errorMessage": "Not run: the client closed the connection while the request waited for "
    "an instance",
    "errorType": "Runner",
}


@dataclass
class Outcome:
    """How one invocation ended, before any platform's HTTP mapping."""

    request_id: str
    status: str  # ok | error | init_error | unserialisable | timeout | crash | gone
    kind: str = "json"
    payload: bytes = b""
    error: dict[str, Any] | None = None
    detail: str = ""
    log_lines: list[str] = field(default_factory=list)
